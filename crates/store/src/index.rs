//! Which objects of one store version have lines in each family, so that a scrape writing a
//! family visits only those objects instead of every object of the store.
//!
//! A scrape is family-major: for each family it walks the store's objects. Most families of
//! most objects have no line (a pod without a limit has no `kube_pod_container_resource_limits`
//! line), and finding that out meant reading the object's entry, a scattered heap block, about
//! fifty times per pod and scrape. The index answers it from one bit per object and family,
//! read in order.

/// One store version's objects in a fixed order, and for each family a bitmap of the objects
/// that have at least one line in it.
///
/// Built in one pass over the objects (each read once), kept with the version it was built
/// from. Costs one `E` per object and one bit per object and family.
pub(crate) struct Index<E> {
    entries: Vec<E>,
    /// Number of `u64` words of one family's bitmap.
    words: usize,
    /// Family-major: bit `o % 64` of word `f * words + o / 64` is set when object `o` has a
    /// line in family `f`.
    bits: Vec<u64>,
}

impl<E> Index<E> {
    /// The index of `entries` (kept in this order) over `families` families, where
    /// `with_lines(e, mark)` calls `mark(f)` for each family `f` in which entry `e` has lines
    /// (families from `families` on are left out).
    pub(crate) fn build(
        entries: Vec<E>,
        families: usize,
        with_lines: impl Fn(&E, &mut dyn FnMut(usize)),
    ) -> Index<E> {
        let words = entries.len().div_ceil(64);
        let mut bits = vec![0u64; words * families];
        for (o, e) in entries.iter().enumerate() {
            let (w, bit) = (o / 64, 1u64 << (o % 64));
            with_lines(e, &mut |f| {
                if f < families {
                    if let Some(word) = bits.get_mut(f * words + w) {
                        *word |= bit;
                    }
                }
            });
        }
        Index {
            entries,
            words,
            bits,
        }
    }

    /// The objects with lines in family `family`, from position `from` on, in order, each
    /// with its position (a scrape that stops early resumes from the position after the last
    /// one it wrote). Empty for a family past the last one the index was built with.
    pub(crate) fn with_lines(&self, family: usize, from: usize) -> WithLines<'_, E> {
        let bits = self
            .bits
            .get(family * self.words..(family + 1) * self.words)
            .unwrap_or_default();
        let w = from / 64;
        // Bits of the first word below `from` are not wanted.
        let first = bits.get(w).map_or(0, |b| {
            b & u64::MAX.checked_shl((from % 64) as u32).unwrap_or(0)
        });
        WithLines {
            entries: &self.entries,
            bits,
            w,
            cur: first,
        }
    }

    /// Heap bytes the index holds (the order of the objects and the bitmaps).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<E>()
            + self.bits.capacity() * std::mem::size_of::<u64>()
    }
}

/// Iterator of [`Index::with_lines`]: (position, entry) of each object with lines in a family.
pub(crate) struct WithLines<'a, E> {
    entries: &'a [E],
    bits: &'a [u64],
    /// The word `cur` was taken from.
    w: usize,
    /// The bits of word `w` not yet visited.
    cur: u64,
}

impl<'a, E> Iterator for WithLines<'a, E> {
    type Item = (usize, &'a E);

    #[inline]
    fn next(&mut self) -> Option<(usize, &'a E)> {
        while self.cur == 0 {
            self.w += 1;
            self.cur = *self.bits.get(self.w)?;
        }
        let o = self.w * 64 + self.cur.trailing_zeros() as usize;
        // Clear the lowest set bit.
        self.cur &= self.cur - 1;
        Some((o, self.entries.get(o)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Objects 0..n where object `o` has lines in family `f` when `lines(o, f)`.
    fn index(n: usize, families: usize, lines: fn(usize, usize) -> bool) -> Index<usize> {
        Index::build((0..n).collect(), families, |&o, mark| {
            (0..families + 2).filter(|&f| lines(o, f)).for_each(mark)
        })
    }

    fn visited(i: &Index<usize>, f: usize, from: usize) -> Vec<usize> {
        i.with_lines(f, from)
            .map(|(at, &o)| {
                assert_eq!(at, o, "the position is the object's place in the order");
                o
            })
            .collect()
    }

    /// Each family visits exactly the objects with lines in it, in order, from any resume
    /// position, across word boundaries; objects and families past the ends give nothing.
    #[test]
    fn visits_exactly_the_objects_with_lines() {
        let rule = |o: usize, f: usize| match f {
            0 => true,
            1 => false,
            2 => o % 7 == 3,
            _ => o == 63 || o == 64 || o == 199,
        };
        for n in [0, 1, 63, 64, 65, 200] {
            let i = index(n, 4, rule);
            assert_eq!(i.entries.len(), n);
            for f in 0..4 {
                for from in [0, 1, 3, 63, 64, 65, 128, 199, 200, 500] {
                    let want: Vec<usize> = (from..n).filter(|&o| rule(o, f)).collect();
                    assert_eq!(visited(&i, f, from), want, "n {n} family {f} from {from}");
                }
            }
            assert!(visited(&i, 4, 0).is_empty(), "no family 4");
            assert!(visited(&i, usize::MAX / 64, 0).is_empty());
        }
    }

    #[test]
    fn costs_one_entry_per_object_and_one_bit_per_object_and_family() {
        let i = index(1000, 60, |o, f| (o + f) % 2 == 0);
        let words = 1000usize.div_ceil(64);
        assert!(i.heap_bytes() >= 1000 * 8 + 60 * words * 8);
        assert!(i.heap_bytes() < 1000 * 8 + 60 * words * 8 + 64);
        let empty = index(0, 60, |_, _| true);
        assert!(visited(&empty, 0, 0).is_empty());
    }
}
