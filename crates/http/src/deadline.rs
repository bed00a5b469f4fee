//! Per-connection deadlines: the write deadline of each response (`--server-write-timeout`),
//! the read deadline of each request (`--server-read-timeout`), and rate-limited logging of
//! what they cut.

use std::io::IoSlice;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What the deadline checks of one connection look at.
#[derive(Default)]
pub(crate) struct ConnClock {
    inner: Mutex<ClockState>,
}

#[derive(Default)]
struct ClockState {
    /// Responses started and not yet fully handed to the connection.
    in_flight: usize,
    /// When the oldest of them started.
    since: Option<Instant>,
    /// When a write to the socket last began to wait (the client is not reading).
    blocked: Option<Instant>,
}

impl ConnClock {
    /// A response starts: its write deadline runs from now.
    pub(crate) fn response_started(self: &Arc<Self>) -> InFlight {
        let mut s = self.inner.lock();
        s.in_flight += 1;
        s.since.get_or_insert_with(Instant::now);
        InFlight(self.clone())
    }

    fn write_blocked(&self, blocked: bool) {
        let mut s = self.inner.lock();
        if blocked {
            s.blocked.get_or_insert_with(Instant::now);
        } else {
            s.blocked = None;
        }
    }

    /// Whether a response or a blocked write has outlived `limit`.
    pub(crate) fn overdue(&self, limit: Duration) -> bool {
        let s = self.inner.lock();
        [s.since, s.blocked]
            .into_iter()
            .flatten()
            .any(|t| t.elapsed() > limit)
    }
}

/// A response in flight; dropping it (the body was written or abandoned) ends its deadline.
pub(crate) struct InFlight(Arc<ConnClock>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut s = self.0.inner.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        if s.in_flight == 0 {
            s.since = None;
        }
    }
}

/// A response body that ends its write deadline once hyper has taken all of it (or dropped
/// it).
pub(crate) struct Tracked<B> {
    pub(crate) inner: B,
    pub(crate) guard: Option<InFlight>,
}

impl<B> HttpBody for Tracked<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let r = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(None) = r {
            self.guard = None;
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A socket whose writes report to a [`ConnClock`] when they wait for the client.
pub(crate) struct Watched<I> {
    pub(crate) io: I,
    pub(crate) clock: Arc<ConnClock>,
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> Watched<I> {
    fn note<T>(&self, r: Poll<T>) -> Poll<T> {
        self.clock.write_blocked(r.is_pending());
        r
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        self.note(r)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.note(r)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.io).poll_flush(cx);
        self.note(r)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Lets one log line through per interval and counts the ones held back, for events that
/// can repeat thousands of times a second (accept failures, cut clients).
pub(crate) struct LogThrottle {
    interval: Duration,
    last: Mutex<Option<Instant>>,
    held: AtomicU64,
}

impl LogThrottle {
    pub(crate) const fn new(interval: Duration) -> LogThrottle {
        LogThrottle {
            interval,
            last: Mutex::new(None),
            held: AtomicU64::new(0),
        }
    }

    /// `Some(lines held back since the last one)` when a line may be logged now.
    pub(crate) fn pass(&self) -> Option<u64> {
        let mut last = self.last.lock();
        let now = Instant::now();
        if last.is_some_and(|t| now.duration_since(t) < self.interval) {
            self.held.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        *last = Some(now);
        Some(self.held.swap(0, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_passes_one_line_per_interval_and_counts_the_rest() {
        let t = LogThrottle::new(Duration::from_millis(200));
        assert_eq!(t.pass(), Some(0));
        assert_eq!(t.pass(), None);
        assert_eq!(t.pass(), None);
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(t.pass(), Some(2));
    }

    #[test]
    fn clock_tracks_responses_and_blocked_writes() {
        let c = Arc::new(ConnClock::default());
        assert!(!c.overdue(Duration::ZERO));
        let g = c.response_started();
        std::thread::sleep(Duration::from_millis(5));
        assert!(c.overdue(Duration::from_millis(1)));
        drop(g);
        assert!(!c.overdue(Duration::from_millis(1)));
        c.write_blocked(true);
        std::thread::sleep(Duration::from_millis(5));
        assert!(c.overdue(Duration::from_millis(1)));
        c.write_blocked(false);
        assert!(!c.overdue(Duration::from_millis(1)));
    }
}
