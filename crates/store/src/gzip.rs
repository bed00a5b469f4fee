//! Gzip bodies assembled from separately compressed, cached segments.
//!
//! A segment is one family of one resource group as a scrape writes it: the family's
//! `# HELP`/`# TYPE` header when the body includes it, then that family's lines of every object
//! of every store of the group. Each segment is compressed on its own by a fresh raw deflate
//! stream that ends with a sync flush, so its bytes are byte-aligned, non-final blocks that
//! refer to nothing before them. Such pieces can be laid end to end in any combination and
//! still form one valid deflate stream; the body is one gzip member made of the 10-byte gzip
//! header, the segments in body order, a final empty block, the CRC-32 (combined from the
//! segments' CRCs) and the length.
//!
//! The compressed segments are cached by what determines their bytes (format class, resource,
//! family, header flag and the generations of the group's store snapshots), one version per
//! place in the body. An unchanged segment is therefore compressed once and afterwards only
//! copied, and concurrent scrapes that need the same missing segment wait for the one that
//! compresses it.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use flate2::{Compress, Compression, FlushCompress};
use kubestate_metric::Format;
use parking_lot::Mutex;

use crate::group::Group;

/// The zlib-rs level of every segment.
///
/// Measured on the `medium` world's text body (84.9 MB, 293 segments, each compressed by a
/// reset stream ending in a sync flush as here; optimised build of zlib-rs 0.6.8, one thread,
/// best of 3 on the shared two-core machine under a load of about 2):
///
/// | level | body    | time        |
/// |-------|---------|-------------|
/// | 1     | 23.0 MB | 0.19–0.23 s |
/// | 2     | 16.6 MB | 0.32–0.35 s |
/// | 3     | 16.0 MB | 0.40–0.41 s |
/// | 4     | 15.5 MB | 0.47 s      |
///
/// (Segmenting costs under 0.5 % of size against one stream over the whole body.) Level 1 is
/// zlib-rs' separate quick strategy; level 2 is 28 % smaller for about 1.6 times its time,
/// while levels 3 and 4 save only 4 % and 7 % more for 25 % and 45 % more time than level 2.
/// The cache compresses an unchanged segment once, so the time is paid per change while the
/// size is paid on every scrape and held in memory: level 2.
const LEVEL: u32 = 2;

/// Plain text rendered at a time while a segment is compressed.
const PIECE: usize = 256 * 1024;

/// Gzip member header: magic, deflate, no flags, no modification time, no extra flags,
/// unknown operating system.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// A final block with fixed codes that holds no data: ends the deflate stream.
const FINAL_EMPTY_BLOCK: [u8; 2] = [0x03, 0x00];

/// What determines a segment's place in the body (one cached version per key).
#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    /// The bytes depend on the format only through the header's type words and `# EOF`,
    /// which differ between text and OpenMetrics but not between OpenMetrics versions or
    /// escapings (a test checks this), so those share their segments.
    openmetrics: bool,
    resource: Arc<str>,
    family: usize,
    header: bool,
}

/// A segment's compressed bytes with what the gzip trailer needs.
#[derive(Clone, Default)]
struct Segment {
    deflate: Bytes,
    crc: u32,
    len: u64,
}

/// The cached version of one key: the stores and snapshot generations it was made from, and
/// the segment, filled by whichever scrape gets there first.
struct Slot {
    generations: Box<[u64]>,
    stores: Box<[usize]>,
    segment: Arc<OnceLock<Segment>>,
}

/// The compressed segments of the latest scrapes, shared by all gzip scrapes of an
/// [`crate::Exposition`].
#[derive(Default)]
pub(crate) struct GzipCache {
    slots: Mutex<HashMap<Key, Slot>>,
    compressed: AtomicU64,
}

impl GzipCache {
    /// The slot for the segment at `key` made from the snapshots at `generations` of the
    /// stores `stores` (their addresses): the cached one if it matches, otherwise a new one
    /// that replaces it, unless the cached one is a newer version of the same stores (as seen
    /// by a scrape whose snapshots predate it: that scrape compresses its segment alone).
    fn slot(&self, key: &Key, generations: &[u64], stores: &[usize]) -> Arc<OnceLock<Segment>> {
        let mut slots = self.slots.lock();
        if let Some(s) = slots.get(key) {
            // Generations are unique per version of a store: equal ones mean equal contents.
            if *s.generations == *generations {
                return s.segment.clone();
            }
            if *s.stores == *stores && older(generations, &s.generations) {
                return Arc::new(OnceLock::new());
            }
        }
        let segment = Arc::new(OnceLock::new());
        slots.insert(
            key.clone(),
            Slot {
                generations: generations.into(),
                stores: stores.into(),
                segment: segment.clone(),
            },
        );
        segment
    }

    /// Drops every segment whose resource fails `keep`.
    pub(crate) fn retain_resources(&self, keep: impl Fn(&str) -> bool) {
        self.slots.lock().retain(|k, _| keep(&k.resource));
    }

    /// Drops every segment.
    pub(crate) fn clear(&self) {
        self.slots.lock().clear();
    }

    /// Segments compressed so far.
    pub(crate) fn compressed(&self) -> u64 {
        self.compressed.load(Ordering::Relaxed)
    }

    /// Compressed bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.slots
            .lock()
            .values()
            .filter_map(|s| s.segment.get())
            .map(|s| s.deflate.len())
            .sum()
    }
}

/// Whether generations `a` are an older view than `b` (of the same stores: a store's versions
/// are numbered in publication order).
fn older(a: &[u64], b: &[u64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x <= y)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Header,
    Body,
    Done,
}

/// One gzip scrape in progress: the same snapshot and body as a [`crate::Scrape`], written as
/// one gzip member from cached compressed segments. Segments missing from the cache are
/// compressed (or waited for, when another scrape is compressing them) as the body reaches
/// them, so a call to [`GzipScrape::next_chunk`] may block for as long as compressing one
/// segment takes.
pub struct GzipScrape {
    groups: Vec<Group>,
    format: Format,
    cache: Arc<GzipCache>,
    g: usize,
    f: usize,
    seen: HashSet<String>,
    stage: Stage,
    /// Bytes being handed out, from `at` on.
    current: Bytes,
    at: usize,
    /// CRC and length of the plain body so far.
    crc: crc32fast::Hasher,
    /// Created on the first segment this scrape compresses itself.
    compressor: Option<Compress>,
    scratch: Vec<u8>,
}

impl GzipScrape {
    pub(crate) fn new(groups: Vec<Group>, format: Format, cache: Arc<GzipCache>) -> GzipScrape {
        GzipScrape {
            groups,
            format,
            cache,
            g: 0,
            f: 0,
            seen: HashSet::new(),
            stage: Stage::Header,
            current: Bytes::new(),
            at: 0,
            crc: crc32fast::Hasher::new(),
            compressor: None,
            scratch: Vec::new(),
        }
    }

    /// The next chunk of the compressed body, of `size` bytes except for the last one, or
    /// `None` when the body is complete.
    pub fn next_chunk(&mut self, size: usize) -> Option<Bytes> {
        let size = size.max(1);
        let mut out = Vec::new();
        loop {
            let rest = self.current.len() - self.at;
            if rest == 0 {
                if self.advance() {
                    continue;
                }
                return (!out.is_empty()).then(|| Bytes::from(out));
            }
            if out.is_empty() && rest >= size {
                // Large segments go out without a copy.
                let chunk = self.current.slice(self.at..self.at + size);
                self.at += size;
                return Some(chunk);
            }
            let take = rest.min(size - out.len());
            if out.capacity() == 0 {
                out.reserve(size.min(1 << 20));
            }
            out.extend_from_slice(&self.current[self.at..self.at + take]);
            self.at += take;
            if out.len() >= size {
                return Some(Bytes::from(out));
            }
        }
    }

    /// Moves on to the next bytes to hand out; `false` once everything has been.
    fn advance(&mut self) -> bool {
        self.current = match self.stage {
            Stage::Header => {
                self.stage = Stage::Body;
                Bytes::from_static(&GZIP_HEADER)
            }
            Stage::Body => match self.next_segment() {
                Some(s) => {
                    self.crc
                        .combine(&crc32fast::Hasher::new_with_initial_len(s.crc, s.len));
                    s.deflate
                }
                None => {
                    self.stage = Stage::Done;
                    self.trailer()
                }
            },
            Stage::Done => return false,
        };
        self.at = 0;
        true
    }

    /// The next segment of the body, from the cache or compressed now.
    fn next_segment(&mut self) -> Option<Segment> {
        let GzipScrape {
            groups,
            format,
            cache,
            g,
            f,
            seen,
            compressor,
            scratch,
            ..
        } = self;
        loop {
            let group = groups.get(*g)?;
            let Some(fam) = group.families.get(*f) else {
                *g += 1;
                *f = 0;
                continue;
            };
            let family = *f;
            *f += 1;
            let header = seen.insert(fam.name.clone());
            let key = Key {
                openmetrics: format.is_openmetrics(),
                resource: group.resource.clone(),
                family,
                header,
            };
            let slot = cache.slot(&key, &group.generations, &group.store_ids);
            let segment = slot.get_or_init(|| {
                cache.compressed.fetch_add(1, Ordering::Relaxed);
                compress(group, family, header, *format, compressor, scratch)
            });
            return Some(segment.clone());
        }
    }

    /// The end of the member: OpenMetrics' `# EOF`, the final block, CRC-32 and length.
    fn trailer(&mut self) -> Bytes {
        let mut t = Vec::with_capacity(32);
        if self.format.is_openmetrics() {
            let eof = b"# EOF\n";
            self.crc.update(eof);
            stored(eof, &mut t);
        }
        t.extend_from_slice(&FINAL_EMPTY_BLOCK);
        let len = self.crc.total_len();
        let crc = std::mem::take(&mut self.crc).finalize();
        t.extend_from_slice(&crc.to_le_bytes());
        t.extend_from_slice(&((len & 0xffff_ffff) as u32).to_le_bytes());
        Bytes::from(t)
    }
}

/// Compresses segment `family` of `group`, rendering its text a piece at a time.
fn compress(
    group: &Group,
    family: usize,
    header: bool,
    format: Format,
    compressor: &mut Option<Compress>,
    scratch: &mut Vec<u8>,
) -> Segment {
    let c = compressor.get_or_insert_with(|| Compress::new(Compression::new(LEVEL), false));
    c.reset();
    let mut crc = crc32fast::Hasher::new();
    let mut out = Vec::new();
    let mut ok = true;
    group.write_segment(family, header, format, PIECE, scratch, &mut |piece| {
        crc.update(piece);
        ok = ok && deflate(c, piece, FlushCompress::None, &mut out);
    });
    let len = crc.total_len();
    if len == 0 {
        return Segment::default();
    }
    ok = ok && deflate(c, &[], FlushCompress::Sync, &mut out);
    if !ok {
        // zlib refused, which it does not for valid use: send the segment uncompressed.
        out.clear();
        group.write_segment(family, header, format, PIECE, scratch, &mut |piece| {
            stored(piece, &mut out);
        });
    }
    out.shrink_to_fit();
    Segment {
        deflate: Bytes::from(out),
        crc: crc.finalize(),
        len,
    }
}

/// Feeds `input` to `c`, appending the output to `out`; with [`FlushCompress::Sync`], until
/// the flush is complete. `false` if zlib fails or makes no progress.
fn deflate(c: &mut Compress, mut input: &[u8], flush: FlushCompress, out: &mut Vec<u8>) -> bool {
    loop {
        // Zlib asks for more than six bytes of room on a flush; keep plenty.
        if out.capacity() - out.len() < 4096 {
            out.reserve(input.len() / 2 + 16 * 1024);
        }
        let (before_in, before_out) = (c.total_in(), c.total_out());
        if c.compress_vec(input, out, flush).is_err() {
            return false;
        }
        let used = usize::try_from(c.total_in() - before_in).unwrap_or(usize::MAX);
        input = input.get(used..).unwrap_or_default();
        // Room left over means zlib took all the input and finished the flush.
        if input.is_empty() && out.len() < out.capacity() {
            return true;
        }
        if used == 0 && c.total_out() == before_out {
            return false;
        }
    }
}

/// Appends `data` as non-final stored (uncompressed) deflate blocks.
fn stored(mut data: &[u8], out: &mut Vec<u8>) {
    while !data.is_empty() {
        let n = data.len().min(usize::from(u16::MAX));
        let (block, rest) = data.split_at(n);
        // BFINAL 0, BTYPE 00, then the rest of the byte as padding; LEN and its complement.
        out.push(0);
        out.extend_from_slice(&(n as u16).to_le_bytes());
        out.extend_from_slice(&(!(n as u16)).to_le_bytes());
        out.extend_from_slice(block);
        data = rest;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn inflate(raw: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(raw)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn stored_blocks_and_sync_flushed_pieces_concatenate() {
        let big: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let mut raw = Vec::new();
        stored(b"hello ", &mut raw);
        let mut c = Compress::new(Compression::new(LEVEL), false);
        assert!(deflate(&mut c, &big, FlushCompress::None, &mut raw));
        assert!(deflate(&mut c, &[], FlushCompress::Sync, &mut raw));
        stored(&big, &mut raw);
        raw.extend_from_slice(&FINAL_EMPTY_BLOCK);
        let mut want = b"hello ".to_vec();
        want.extend_from_slice(&big);
        want.extend_from_slice(&big);
        assert_eq!(inflate(&raw), want);
    }

    #[test]
    fn older_generations() {
        assert!(older(&[1, 2], &[1, 3]));
        assert!(!older(&[1, 4], &[1, 3]));
        assert!(!older(&[1], &[1, 3]));
        assert!(!older(&[1, 3, 5], &[1, 3]));
    }
}
