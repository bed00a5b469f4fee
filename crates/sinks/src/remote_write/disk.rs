//! The durable queue of remote-write (`queue_dir`): every compressed request is written to
//! its own file (`<sequence>-<samples>.rw`, written as `.tmp`, synced, renamed) before it is
//! sent, and deleted once the receiver accepted or rejected it. One sender posts the oldest
//! file first, so samples of a series arrive in time order; a retryable failure (5xx, 429, a
//! connection error) is retried with backoff for as long as it takes, so an outage of the
//! receiver loses nothing. Files left by a previous process are replayed at start-up. The
//! directory is bounded by `queue_max_bytes`: when a new request would exceed it, the oldest
//! requests are evicted and counted (`reason="evicted"`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::Notify;
use tracing::{error, info, warn};

use super::sender::{Batch, RemoteWriteStats};

/// One queued request on disk.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    seq: u64,
    samples: u64,
    bytes: u64,
}

impl Entry {
    fn name(&self) -> String {
        format!("{:020}-{}.rw", self.seq, self.samples)
    }

    fn parse(name: &str, bytes: u64) -> Option<Entry> {
        let stem = name.strip_suffix(".rw")?;
        let (seq, samples) = stem.split_once('-')?;
        Some(Entry {
            seq: seq.parse().ok()?,
            samples: samples.parse().ok()?,
            bytes,
        })
    }
}

/// The queue directory, shared by the output (which appends) and the sender (which takes the
/// oldest entry).
pub struct DiskQueue {
    dir: PathBuf,
    max_bytes: u64,
    state: Mutex<State>,
    /// Wakes the sender when an entry is added or the queue is closed.
    pub(crate) notify: Notify,
    closed: AtomicBool,
    stats: Arc<RemoteWriteStats>,
    endpoint: String,
}

struct State {
    /// Entries in sequence order.
    entries: std::collections::VecDeque<Entry>,
    next_seq: u64,
    bytes: u64,
    /// The entry the sender is posting (never evicted).
    in_flight: Option<u64>,
}

/// What to do with the oldest entry.
pub(crate) struct Taken {
    seq: u64,
    /// The request.
    pub(crate) batch: Batch,
}

impl DiskQueue {
    /// Opens (creating it if needed) `dir`; requests a previous process left there are
    /// counted as queued and will be sent first.
    ///
    /// # Errors
    /// The directory cannot be created or read.
    pub fn open(
        dir: &Path,
        max_bytes: u64,
        stats: Arc<RemoteWriteStats>,
        endpoint: &str,
    ) -> std::io::Result<DiskQueue> {
        std::fs::create_dir_all(dir)?;
        let mut entries = Vec::new();
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".tmp") {
                // A write that did not finish: never acknowledged to anyone.
                let _ = std::fs::remove_file(e.path());
                continue;
            }
            match Entry::parse(&name, e.metadata()?.len()) {
                Some(entry) => entries.push(entry),
                None => warn!(file = %e.path().display(), "not a remote-write queue file; ignored"),
            }
        }
        entries.sort();
        let samples: u64 = entries.iter().map(|e| e.samples).sum();
        let bytes = entries.iter().map(|e| e.bytes).sum();
        if !entries.is_empty() {
            info!(dir = %dir.display(), requests = entries.len(), samples, "replaying the remote-write requests queued on disk");
        }
        stats.queued(samples);
        Ok(DiskQueue {
            dir: dir.to_path_buf(),
            max_bytes,
            state: Mutex::new(State {
                next_seq: entries.last().map_or(0, |e| e.seq + 1),
                entries: entries.into(),
                bytes,
                in_flight: None,
            }),
            notify: Notify::new(),
            closed: AtomicBool::new(false),
            stats,
            endpoint: endpoint.to_string(),
        })
    }

    /// Writes a request to disk (synced) and queues it, evicting the oldest requests if the
    /// directory would exceed its bound.
    ///
    /// # Errors
    /// The file cannot be written (the caller counts the samples as dropped).
    pub fn push(&self, body: &[u8], samples: u64) -> std::io::Result<()> {
        let seq = {
            let mut st = self.state.lock();
            let s = st.next_seq;
            st.next_seq += 1;
            s
        };
        let entry = Entry {
            seq,
            samples,
            bytes: body.len() as u64,
        };
        let path = self.dir.join(entry.name());
        let tmp = path.with_extension("tmp");
        {
            use std::io::Write as _;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(body)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        let mut evicted = Vec::new();
        {
            let mut st = self.state.lock();
            st.bytes += entry.bytes;
            // Keep order even if two runs raced (they do not: one output pushes).
            let at = st.entries.partition_point(|e| e.seq < seq);
            st.entries.insert(at, entry);
            while st.bytes > self.max_bytes && st.entries.len() > 1 {
                let victim = st
                    .entries
                    .iter()
                    .position(|e| Some(e.seq) != st.in_flight && e.seq != seq);
                let Some(i) = victim else { break };
                let Some(e) = st.entries.remove(i) else { break };
                st.bytes -= e.bytes;
                evicted.push(e);
            }
        }
        self.stats.queued(samples);
        for e in evicted {
            let _ = std::fs::remove_file(self.dir.join(e.name()));
            self.stats.dropped("evicted", e.samples);
            error!(endpoint = %self.endpoint, samples = e.samples, max_bytes = self.max_bytes, "remote-write queue directory full: the oldest request was dropped");
        }
        self.notify.notify_one();
        Ok(())
    }

    /// The oldest request, read from disk, marked in flight; `None` when the queue is empty.
    pub(crate) fn take(&self) -> Option<Taken> {
        loop {
            let entry = {
                let mut st = self.state.lock();
                let e = st.entries.front()?.clone();
                st.in_flight = Some(e.seq);
                e
            };
            match std::fs::read(self.dir.join(entry.name())) {
                Ok(body) => {
                    return Some(Taken {
                        seq: entry.seq,
                        batch: Batch {
                            body: Bytes::from(body),
                            samples: entry.samples,
                        },
                    })
                }
                Err(e) => {
                    // Removed or unreadable behind our back: count it and go on.
                    error!(endpoint = %self.endpoint, file = %entry.name(), error = %e, "a queued remote-write request cannot be read; dropped");
                    self.stats.dropped("unreadable", entry.samples);
                    self.remove(entry.seq);
                }
            }
        }
    }

    /// Forgets request `seq` (delivered or rejected) and deletes its file.
    pub(crate) fn done(&self, taken: Taken) {
        self.remove(taken.seq);
    }

    fn remove(&self, seq: u64) {
        let removed = {
            let mut st = self.state.lock();
            st.in_flight = None;
            st.entries
                .iter()
                .position(|e| e.seq == seq)
                .and_then(|i| st.entries.remove(i))
        };
        if let Some(e) = removed {
            self.state.lock().bytes -= e.bytes;
            let _ = std::fs::remove_file(self.dir.join(e.name()));
        }
    }

    /// No more requests will be pushed: the sender stops once the queue is empty.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Requests and samples waiting on disk.
    pub fn len(&self) -> (usize, u64) {
        let st = self.state.lock();
        (st.entries.len(), st.entries.iter().map(|e| e.samples).sum())
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.state.lock().entries.is_empty()
    }

    /// Bytes of the queued requests.
    pub fn bytes(&self) -> u64 {
        self.state.lock().bytes
    }
}

/// How long the sender waits for new requests before looking again.
pub(crate) const IDLE: Duration = Duration::from_secs(1);

/// Logs what a stopping process leaves on disk.
pub(crate) fn report_left(queue: &DiskQueue) {
    let (requests, samples) = queue.len();
    if requests > 0 {
        info!(dir = %queue.dir.display(), requests, samples, "remote-write requests stay queued on disk and are sent at the next start");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats() -> Arc<RemoteWriteStats> {
        Arc::new(RemoteWriteStats::new("http://x"))
    }

    #[test]
    fn entries_survive_a_reopen_in_order_and_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let s = stats();
        let q = DiskQueue::open(dir.path(), 25, s.clone(), "e").unwrap();
        q.push(b"0123456789", 3).unwrap();
        q.push(b"abcdefghij", 4).unwrap();
        assert_eq!(q.len(), (2, 7));
        // The third request would exceed 25 bytes: the oldest is evicted.
        q.push(b"ABCDEFGHIJ", 5).unwrap();
        assert_eq!(q.len(), (2, 9));
        assert_eq!(s.samples_dropped("evicted"), 3);
        drop(q);
        std::fs::write(dir.path().join("junk.tmp"), b"half").unwrap();
        let s2 = stats();
        let q = DiskQueue::open(dir.path(), 25, s2.clone(), "e").unwrap();
        assert_eq!(s2.samples_queued(), 9);
        assert!(!dir.path().join("junk.tmp").exists());
        let t = q.take().unwrap();
        assert_eq!(&t.batch.body[..], b"abcdefghij");
        // In flight: never evicted, even when the bound is hit.
        q.push(b"klmnopqrst", 6).unwrap();
        assert_eq!(q.len(), (2, 10));
        q.done(t);
        let t = q.take().unwrap();
        assert_eq!(&t.batch.body[..], b"klmnopqrst");
        q.done(t);
        assert!(q.take().is_none() && q.is_empty());
        q.push(b"x", 1).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![format!("{:020}-1.rw", 4)]);
    }
}
