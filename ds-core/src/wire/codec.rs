//! Bounded building blocks for the wire types.
//!
//! Every variable-length field on the wire has an upper bound that is checked
//! while decoding, before the field's bytes are kept, so a hostile length
//! prefix cannot make us hold more than the limit. Lengths use the RFC 9420
//! variable-length integer (`<V>`); the few draft fields written `<0..255>`
//! use a one-byte length.

use std::io::{Read, Write};

use tls_codec::{Deserialize, Serialize, Size, TlsByteVecU8};

/// Opaque bytes with an RFC 9420 varint length prefix and at most `MAX` bytes.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Bytes<const MAX: usize>(Vec<u8>);

impl<const MAX: usize> Bytes<MAX> {
    /// Wraps `bytes`, or fails when they exceed the bound of this field.
    pub fn new(bytes: Vec<u8>) -> Result<Self, tls_codec::Error> {
        if bytes.len() > MAX {
            return Err(tls_codec::Error::InvalidVectorLength);
        }
        Ok(Self(bytes))
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// Gives up the wrapper.
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<const MAX: usize> std::fmt::Debug for Bytes<MAX> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.len() <= 32 {
            write!(f, "0x")?;
            for b in &self.0 {
                write!(f, "{b:02x}")?;
            }
            Ok(())
        } else {
            write!(f, "<{} bytes>", self.0.len())
        }
    }
}

impl<const MAX: usize> Size for Bytes<MAX> {
    fn tls_serialized_len(&self) -> usize {
        varint_len(self.0.len()) + self.0.len()
    }
}

impl<const MAX: usize> Serialize for Bytes<MAX> {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        if self.0.len() > MAX {
            return Err(tls_codec::Error::InvalidVectorLength);
        }
        let n = write_varint(writer, self.0.len())?;
        writer
            .write_all(&self.0)
            .map_err(|e| tls_codec::Error::EncodingError(e.to_string()))?;
        Ok(n + self.0.len())
    }
}

impl<const MAX: usize> Deserialize for Bytes<MAX> {
    fn tls_deserialize<R: Read>(bytes: &mut R) -> Result<Self, tls_codec::Error> {
        let len = read_varint(bytes)?;
        if len > MAX {
            return Err(tls_codec::Error::InvalidVectorLength);
        }
        Ok(Self(read_exact_vec(bytes, len)?))
    }
}

/// A list with an RFC 9420 varint byte-length prefix and at most `MAX` items.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct List<T, const MAX: usize>(Vec<T>);

impl<T, const MAX: usize> Default for List<T, MAX> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T, const MAX: usize> List<T, MAX> {
    /// Wraps `items`, or fails when there are more than the bound allows.
    pub fn new(items: Vec<T>) -> Result<Self, tls_codec::Error> {
        if items.len() > MAX {
            return Err(tls_codec::Error::InvalidVectorLength);
        }
        Ok(Self(items))
    }

    /// The items.
    pub fn as_slice(&self) -> &[T] {
        &self.0
    }

    /// Gives up the wrapper.
    pub fn into_vec(self) -> Vec<T> {
        self.0
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T: Size, const MAX: usize> Size for List<T, MAX> {
    fn tls_serialized_len(&self) -> usize {
        let content: usize = self.0.iter().map(Size::tls_serialized_len).sum();
        varint_len(content) + content
    }
}

impl<T: Serialize, const MAX: usize> Serialize for List<T, MAX> {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        if self.0.len() > MAX {
            return Err(tls_codec::Error::InvalidVectorLength);
        }
        let content: usize = self.0.iter().map(Size::tls_serialized_len).sum();
        let mut written = write_varint(writer, content)?;
        for item in &self.0 {
            written += item.tls_serialize(writer)?;
        }
        Ok(written)
    }
}

impl<T: Deserialize, const MAX: usize> Deserialize for List<T, MAX> {
    fn tls_deserialize<R: Read>(bytes: &mut R) -> Result<Self, tls_codec::Error> {
        let len = read_varint(bytes)?;
        let mut sub = bytes.take(len as u64);
        let mut items = Vec::new();
        while sub.limit() > 0 {
            let before = sub.limit();
            let item = T::tls_deserialize(&mut sub)?;
            if sub.limit() == before {
                return Err(tls_codec::Error::DecodingError(
                    "list item of zero length".into(),
                ));
            }
            items.push(item);
            if items.len() > MAX {
                return Err(tls_codec::Error::InvalidVectorLength);
            }
        }
        Ok(Self(items))
    }
}

/// Opaque bytes with a one-byte length, the draft's `opaque x<0..255>`.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct ShortBytes(Vec<u8>);

impl ShortBytes {
    /// Wraps `bytes`, or fails when they are longer than 255.
    pub fn new(bytes: Vec<u8>) -> Result<Self, tls_codec::Error> {
        if bytes.len() > 255 {
            return Err(tls_codec::Error::InvalidVectorLength);
        }
        Ok(Self(bytes))
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

impl Size for ShortBytes {
    fn tls_serialized_len(&self) -> usize {
        1 + self.0.len()
    }
}

impl Serialize for ShortBytes {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        TlsByteVecU8::from_slice(&self.0).tls_serialize(writer)
    }
}

impl Deserialize for ShortBytes {
    fn tls_deserialize<R: Read>(bytes: &mut R) -> Result<Self, tls_codec::Error> {
        let v = TlsByteVecU8::tls_deserialize(bytes)?;
        Ok(Self(v.into_vec()))
    }
}

/// Number of bytes of the RFC 9420 varint that encodes `len`.
pub(crate) fn varint_len(len: usize) -> usize {
    if len < 0x40 {
        1
    } else if len < 0x4000 {
        2
    } else {
        4
    }
}

fn write_varint<W: Write>(writer: &mut W, len: usize) -> Result<usize, tls_codec::Error> {
    let io = |e: std::io::Error| tls_codec::Error::EncodingError(e.to_string());
    match varint_len(len) {
        1 => writer.write_all(&[len as u8]).map_err(io).map(|_| 1),
        2 => writer
            .write_all(&((len as u16) | 0x4000).to_be_bytes())
            .map_err(io)
            .map(|_| 2),
        _ if len < 0x4000_0000 => writer
            .write_all(&((len as u32) | 0x8000_0000).to_be_bytes())
            .map_err(io)
            .map(|_| 4),
        _ => Err(tls_codec::Error::InvalidVectorLength),
    }
}

/// Reads an RFC 9420 varint; non-minimal encodings are rejected (RFC 9420 §2.1.2).
fn read_varint<R: Read>(bytes: &mut R) -> Result<usize, tls_codec::Error> {
    let mut first = [0u8; 1];
    bytes
        .read_exact(&mut first)
        .map_err(|_| tls_codec::Error::EndOfStream)?;
    let prefix = first[0] >> 6;
    let mut value = (first[0] & 0x3f) as usize;
    let extra = match prefix {
        0 => 0,
        1 => 1,
        2 => 3,
        _ => return Err(tls_codec::Error::InvalidVectorLength),
    };
    let mut rest = [0u8; 3];
    bytes
        .read_exact(&mut rest[..extra])
        .map_err(|_| tls_codec::Error::EndOfStream)?;
    for b in &rest[..extra] {
        value = (value << 8) | *b as usize;
    }
    if varint_len(value) != extra + 1 {
        return Err(tls_codec::Error::DecodingError(
            "non-minimal length encoding".into(),
        ));
    }
    Ok(value)
}

/// Reads exactly `len` bytes without trusting `len` for the allocation.
fn read_exact_vec<R: Read>(bytes: &mut R, len: usize) -> Result<Vec<u8>, tls_codec::Error> {
    let mut out = Vec::with_capacity(len.min(64 * 1024));
    let read = bytes
        .take(len as u64)
        .read_to_end(&mut out)
        .map_err(|_| tls_codec::Error::EndOfStream)?;
    if read != len {
        return Err(tls_codec::Error::EndOfStream);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_at_each_varint_width() {
        for len in [0usize, 1, 63, 64, 16383, 16384, 70000] {
            let b = Bytes::<100_000>::new(vec![7; len]).unwrap();
            let enc = b.tls_serialize_detached().unwrap();
            assert_eq!(enc.len(), b.tls_serialized_len());
            let dec = Bytes::<100_000>::tls_deserialize_exact(&enc).unwrap();
            assert_eq!(dec, b);
        }
    }

    #[test]
    fn bytes_over_bound_are_rejected_before_reading() {
        let enc = Bytes::<10>::new(vec![1; 10])
            .unwrap()
            .tls_serialize_detached()
            .unwrap();
        assert!(Bytes::<9>::tls_deserialize_exact(&enc).is_err());
        // A length prefix claiming ~1 GiB with no content.
        assert!(Bytes::<{ 1 << 30 }>::tls_deserialize_exact([0xbf, 0xff, 0xff, 0xff]).is_err());
    }

    #[test]
    fn non_minimal_length_is_rejected() {
        assert!(Bytes::<10>::tls_deserialize_exact([0x40, 0x01, 0xaa]).is_err());
    }

    #[test]
    fn list_bounds_item_count() {
        let l = List::<u16, 3>::new(vec![1, 2, 3]).unwrap();
        let enc = l.tls_serialize_detached().unwrap();
        assert_eq!(List::<u16, 3>::tls_deserialize_exact(&enc).unwrap(), l);
        assert!(List::<u16, 2>::tls_deserialize_exact(&enc).is_err());
        assert!(List::<u16, 2>::new(vec![1, 2, 3]).is_err());
    }
}
