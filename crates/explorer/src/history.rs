//! The bounded ring buffer behind the live graphs: one row of values per sampling tick, the
//! last `capacity` ticks kept, every series aligned on the same timestamps.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

/// Values of named series over the last `capacity` ticks.
#[derive(Debug)]
pub struct History {
    capacity: usize,
    times: VecDeque<f64>,
    series: BTreeMap<String, VecDeque<f64>>,
}

/// A copy of the buffer, as the page reads it (`null` where a series had no value).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct HistoryDump {
    /// Tick times in seconds since the Unix epoch, oldest first.
    pub times: Vec<f64>,
    /// Series id → one value per tick.
    pub series: BTreeMap<String, Vec<Option<f64>>>,
}

impl History {
    /// Keeps `capacity` ticks (720 is an hour at 5 s).
    pub fn new(capacity: usize) -> History {
        History {
            capacity: capacity.max(1),
            times: VecDeque::new(),
            series: BTreeMap::new(),
        }
    }

    /// Adds a tick at `time` (seconds). A series missing from `values` gets no value at this
    /// tick; a new series gets none at earlier ticks. Series without any value left in the
    /// window are dropped.
    pub fn push(&mut self, time: f64, values: &BTreeMap<String, f64>) {
        let full = self.times.len() == self.capacity;
        if full {
            self.times.pop_front();
        }
        self.times.push_back(time);
        let n = self.times.len();
        for (id, col) in self.series.iter_mut() {
            if full {
                col.pop_front();
            }
            col.push_back(values.get(id).copied().unwrap_or(f64::NAN));
        }
        for (id, v) in values {
            if !self.series.contains_key(id) {
                let mut col = VecDeque::with_capacity(n);
                col.resize(n - 1, f64::NAN);
                col.push_back(*v);
                self.series.insert(id.clone(), col);
            }
        }
        self.series.retain(|_, col| col.iter().any(|v| !v.is_nan()));
    }

    /// Number of ticks held.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether no tick was recorded yet.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Bytes held by the buffer's values (for the memory figure on the overview).
    pub fn heap_bytes(&self) -> usize {
        let ids: usize = self.series.keys().map(|k| k.len() + 48).sum();
        (self.series.len() + 1) * self.capacity * 8 + ids
    }

    /// A copy of the ticks after `since` (seconds; 0 for all) of the series whose id starts
    /// with `prefix`.
    pub fn dump(&self, since: f64, prefix: &str) -> HistoryDump {
        let skip = self.times.iter().take_while(|t| **t <= since).count();
        HistoryDump {
            times: self.times.iter().skip(skip).copied().collect(),
            series: self
                .series
                .iter()
                .filter(|(id, _)| id.starts_with(prefix))
                .map(|(id, col)| {
                    let vals = col
                        .iter()
                        .skip(skip)
                        .map(|v| (!v.is_nan()).then_some(*v))
                        .collect();
                    (id.clone(), vals)
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn ring_is_bounded_and_aligned() {
        let mut h = History::new(3);
        h.push(1.0, &vals(&[("a", 1.0)]));
        h.push(2.0, &vals(&[("a", 2.0), ("b", 20.0)]));
        h.push(3.0, &vals(&[("b", 30.0)]));
        let d = h.dump(0.0, "");
        assert_eq!(d.times, vec![1.0, 2.0, 3.0]);
        assert_eq!(d.series["a"], vec![Some(1.0), Some(2.0), None]);
        assert_eq!(d.series["b"], vec![None, Some(20.0), Some(30.0)]);
        h.push(4.0, &vals(&[("b", 40.0)]));
        h.push(5.0, &vals(&[("b", 50.0)]));
        assert_eq!(h.len(), 3);
        let d = h.dump(0.0, "");
        assert_eq!(d.times, vec![3.0, 4.0, 5.0]);
        // `a` has no value left in the window: gone.
        assert!(!d.series.contains_key("a"));
        assert_eq!(d.series["b"], vec![Some(30.0), Some(40.0), Some(50.0)]);
        let d = h.dump(4.0, "b");
        assert_eq!(d.times, vec![5.0]);
        assert_eq!(d.series["b"], vec![Some(50.0)]);
        assert!(h.dump(0.0, "zzz").series.is_empty());
        assert!(h.heap_bytes() > 0);
    }
}
