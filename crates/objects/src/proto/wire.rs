//! The protobuf wire format: errors, field values and the field reader.

use std::fmt;

use serde::de;

/// Why protobuf bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub(super) msg: Box<str>,
    /// A repeated field came in more than one run: decode again in the general mode.
    pub(super) split_run: bool,
}

impl Error {
    pub(super) fn new(msg: impl Into<Box<str>>) -> Error {
        Error {
            msg: msg.into(),
            split_run: false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Error {
        Error::new(msg.to_string())
    }
}

pub(super) type Result<T> = std::result::Result<T, Error>;

/// One field value as it appears on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireValue<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1.
    Fixed64(u64),
    /// Wire type 2: the bytes after the length.
    Len(&'a [u8]),
    /// Wire type 5.
    Fixed32(u32),
}

/// Reads the fields of one message in order.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    pub(super) buf: &'a [u8],
    pub(super) pos: usize,
}

/// Reads a varint at `*pos` and moves past it. Most varints on the wire (field keys, lengths
/// of short strings, small numbers) are one byte: that case is inlined, the rest is not.
#[inline]
pub(super) fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64> {
    match buf.get(*pos) {
        Some(&b) if b < 0x80 => {
            *pos += 1;
            Ok(u64::from(b))
        }
        _ => read_varint_long(buf, pos),
    }
}

#[inline(never)]
fn read_varint_long(buf: &[u8], pos: &mut usize) -> Result<u64> {
    let mut v: u64 = 0;
    for i in 0..10 {
        let Some(&b) = buf.get(*pos) else {
            return Err(Error::new("truncated varint"));
        };
        *pos += 1;
        if i == 9 && b > 1 {
            return Err(Error::new("varint overflows 64 bits"));
        }
        v |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Ok(v);
        }
    }
    Err(Error::new("varint longer than 10 bytes"))
}

impl<'a> Reader<'a> {
    /// A reader over the fields of the message `buf`.
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    /// Byte offset of the next field.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The next field: its number and value; `None` at the end of the message.
    ///
    /// # Errors
    /// Truncated input, field number 0, or a wire type protobuf does not define (groups
    /// included).
    #[inline]
    pub fn next_field(&mut self) -> Result<Option<(u32, WireValue<'a>)>> {
        // Most fields of an object are a one-byte key (numbers 1–15) followed by a one-byte
        // length or value: read those inline, everything else (and every error) below.
        if let (Some(&key), Some(&b)) = (self.buf.get(self.pos), self.buf.get(self.pos + 1)) {
            if (8..0x80).contains(&key) && b < 0x80 {
                match key & 7 {
                    2 => {
                        let start = self.pos + 2;
                        if let Some(v) = self.buf.get(start..start + usize::from(b)) {
                            self.pos = start + usize::from(b);
                            return Ok(Some((u32::from(key >> 3), WireValue::Len(v))));
                        }
                    }
                    0 => {
                        self.pos += 2;
                        return Ok(Some((u32::from(key >> 3), WireValue::Varint(u64::from(b)))));
                    }
                    _ => {}
                }
            }
        }
        self.next_field_general()
    }

    /// [`Reader::next_field`] for any field, and the errors.
    #[inline(never)]
    fn next_field_general(&mut self) -> Result<Option<(u32, WireValue<'a>)>> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = read_varint(self.buf, &mut self.pos)?;
        let number = u32::try_from(key >> 3).map_err(|_| Error::new("field number too large"))?;
        if number == 0 {
            return Err(Error::new("field number 0"));
        }
        let v = match key & 7 {
            0 => WireValue::Varint(read_varint(self.buf, &mut self.pos)?),
            1 => {
                let b = self
                    .buf
                    .get(self.pos..self.pos + 8)
                    .ok_or_else(|| Error::new("truncated fixed64"))?;
                self.pos += 8;
                WireValue::Fixed64(u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
            }
            2 => {
                let len = read_varint(self.buf, &mut self.pos)?;
                let len = usize::try_from(len).map_err(|_| Error::new("length too large"))?;
                let end = self
                    .pos
                    .checked_add(len)
                    .filter(|&e| e <= self.buf.len())
                    .ok_or_else(|| Error::new("length beyond the end of the message"))?;
                let b = &self.buf[self.pos..end];
                self.pos = end;
                WireValue::Len(b)
            }
            5 => {
                let b = self
                    .buf
                    .get(self.pos..self.pos + 4)
                    .ok_or_else(|| Error::new("truncated fixed32"))?;
                self.pos += 4;
                WireValue::Fixed32(u32::from_le_bytes(b.try_into().unwrap_or([0; 4])))
            }
            w => return Err(Error::new(format!("unsupported wire type {w}"))),
        };
        Ok(Some((number, v)))
    }

    /// The last occurrence of field `number` as length-delimited bytes (skipping the others).
    ///
    /// # Errors
    /// Malformed input, or the field is present with another wire type.
    pub fn find_bytes(buf: &'a [u8], number: u32) -> Result<Option<&'a [u8]>> {
        Reader::find_last(buf, number, "length-delimited", |v| match v {
            WireValue::Len(b) => Some(b),
            _ => None,
        })
    }

    /// The last occurrence of varint field `number`.
    ///
    /// # Errors
    /// Malformed input, or the field is present with another wire type.
    pub fn find_varint(buf: &'a [u8], number: u32) -> Result<Option<u64>> {
        Reader::find_last(buf, number, "a varint", |v| match v {
            WireValue::Varint(x) => Some(x),
            _ => None,
        })
    }

    /// The last occurrence of field `number`, taken by `pick`; a field of another wire type
    /// (for which `pick` gives `None`) is an error naming `kind`.
    fn find_last<T>(
        buf: &'a [u8],
        number: u32,
        kind: &str,
        pick: impl Fn(WireValue<'a>) -> Option<T>,
    ) -> Result<Option<T>> {
        let mut r = Reader::new(buf);
        let mut found = None;
        while let Some((n, v)) = r.next_field()? {
            if n == number {
                match pick(v) {
                    Some(x) => found = Some(x),
                    None => return Err(Error::new(format!("field {n} is not {kind}"))),
                }
            }
        }
        Ok(found)
    }
}

pub(super) fn utf8(b: &[u8]) -> Result<&str> {
    std::str::from_utf8(b).map_err(|_| Error::new("string field is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inline path reads every field exactly as the general one: all inputs of up to
    /// three bytes over a set of interesting byte values, and the same with a tail.
    #[test]
    fn inline_path_agrees_with_the_general_one() {
        let vals: Vec<u8> = (0..=0x22).chain([0x7f, 0x80, 0x81, 0xff]).collect();
        let mut n = 0;
        for &a in &vals {
            for &b in &vals {
                for &c in &vals {
                    for tail in [&[][..], &[1, 2, 3, 4, 5, 6, 7, 8, 9][..]] {
                        let buf = [&[a, b, c][..], tail].concat();
                        for len in 0..=buf.len() {
                            let (mut x, mut y) =
                                (Reader::new(&buf[..len]), Reader::new(&buf[..len]));
                            loop {
                                let (fx, fy) = (x.next_field(), y.next_field_general());
                                assert_eq!(fx, fy, "{:?}", &buf[..len]);
                                assert_eq!(x.pos, y.pos);
                                n += 1;
                                if !matches!(fx, Ok(Some(_))) {
                                    break;
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(n > 100_000, "{n}");
    }

    #[test]
    fn varints_and_fields() {
        let mut r = Reader::new(&[0x08, 0xac, 0x02, 0x12, 0x02, b'h', b'i', 0x1d, 1, 0, 0, 0]);
        assert_eq!(r.next_field().unwrap(), Some((1, WireValue::Varint(300))));
        assert_eq!(r.next_field().unwrap(), Some((2, WireValue::Len(b"hi"))));
        assert_eq!(r.next_field().unwrap(), Some((3, WireValue::Fixed32(1))));
        assert_eq!(r.next_field().unwrap(), None);
        for bad in [
            &[0x08][..],
            &[0x12, 0x05, 1],
            &[0x0b],
            &[0x00, 0x00],
            &[
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
            ],
        ] {
            let mut r = Reader::new(bad);
            assert!(r.next_field().is_err(), "{bad:?}");
        }
    }
}
