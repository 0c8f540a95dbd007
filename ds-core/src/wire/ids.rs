//! Identifiers that name their home domain, so any DS can route by parsing them.
//!
//! Syntax (also in `spec/protocol.md`):
//! - domain: 1..=253 bytes of lowercase DNS labels (`a-z 0-9 -`, 1..=63 each,
//!   no leading or trailing hyphen) separated by dots;
//! - user id: `local@domain`, local part 1..=64 of `a-z 0-9 . _ -`;
//! - client id: `local@domain/device`, device 1..=64 of `A-Z a-z 0-9 . _ -`;
//! - group id: `local@domain`, local part 1..=64 of `a-z 0-9 -` (allocated by
//!   the owning DS).
//!
//! On the wire each is an `opaque<0..255>` holding that text in UTF-8 (ASCII in
//! practice); decoding checks the syntax, so a value of these types is always
//! well-formed.

use std::fmt;
use std::io::{Read, Write};
use std::str::FromStr;

use tls_codec::{Deserialize, Serialize, Size};

use super::codec::ShortBytes;

/// Longest encoded identifier: the wire field is `opaque<0..255>`.
pub const MAX_ID_LEN: usize = 255;

fn check_total(kind: &'static str, s: &str) -> Result<(), IdError> {
    if s.len() > MAX_ID_LEN {
        return Err(IdError::new(kind, s, "longer than 255 bytes"));
    }
    Ok(())
}

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {reason}")]
pub struct IdError {
    kind: &'static str,
    value: String,
    reason: &'static str,
}

impl IdError {
    fn new(kind: &'static str, value: &str, reason: &'static str) -> Self {
        let value: String = value.chars().take(80).collect();
        Self {
            kind,
            value,
            reason,
        }
    }
}

/// A DS domain: lowercase fully qualified domain name.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Domain(String);

impl Domain {
    /// Parses and checks a domain.
    pub fn new(s: &str) -> Result<Self, IdError> {
        check_domain(s)?;
        Ok(Self(s.to_owned()))
    }

    /// The domain text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_domain(s: &str) -> Result<(), IdError> {
    let err = |r| Err(IdError::new("domain", s, r));
    if s.is_empty() || s.len() > 253 {
        return err("must be 1 to 253 bytes");
    }
    for label in s.split('.') {
        if label.is_empty() || label.len() > 63 {
            return err("each label must be 1 to 63 bytes");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return err("labels may hold only a-z, 0-9 and '-'");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return err("a label may not start or end with '-'");
        }
    }
    Ok(())
}

fn check_part(
    kind: &'static str,
    whole: &str,
    part: &str,
    allowed: fn(u8) -> bool,
) -> Result<(), IdError> {
    if part.is_empty() || part.len() > 64 {
        return Err(IdError::new(kind, whole, "a part must be 1 to 64 bytes"));
    }
    if !part.bytes().all(allowed) {
        return Err(IdError::new(
            kind,
            whole,
            "a part holds a character not allowed",
        ));
    }
    Ok(())
}

fn user_local_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
}

fn device_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
}

fn group_local_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'
}

/// `local@domain` of a user.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId {
    text: String,
    at: usize,
}

impl UserId {
    /// Parses and checks a user id.
    pub fn new(s: &str) -> Result<Self, IdError> {
        check_total("user id", s)?;
        let at = s
            .find('@')
            .ok_or_else(|| IdError::new("user id", s, "missing '@'"))?;
        check_part("user id", s, &s[..at], user_local_char)?;
        check_domain(&s[at + 1..]).map_err(|_| IdError::new("user id", s, "bad domain"))?;
        Ok(Self {
            text: s.to_owned(),
            at,
        })
    }

    /// Builds `local@domain`.
    pub fn from_parts(local: &str, domain: &Domain) -> Result<Self, IdError> {
        Self::new(&format!("{local}@{}", domain.as_str()))
    }

    /// The whole id.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The local part.
    pub fn local(&self) -> &str {
        &self.text[..self.at]
    }

    /// The user's home domain.
    pub fn domain(&self) -> &str {
        &self.text[self.at + 1..]
    }
}

/// `local@domain/device` of one client (device) of a user.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId {
    text: String,
    slash: usize,
    user: UserId,
}

impl ClientId {
    /// Parses and checks a client id.
    pub fn new(s: &str) -> Result<Self, IdError> {
        check_total("client id", s)?;
        let slash = s
            .rfind('/')
            .ok_or_else(|| IdError::new("client id", s, "missing '/device'"))?;
        let user =
            UserId::new(&s[..slash]).map_err(|_| IdError::new("client id", s, "bad user part"))?;
        check_part("client id", s, &s[slash + 1..], device_char)?;
        Ok(Self {
            text: s.to_owned(),
            slash,
            user,
        })
    }

    /// Builds `user/device`.
    pub fn from_parts(user: &UserId, device: &str) -> Result<Self, IdError> {
        Self::new(&format!("{}/{device}", user.as_str()))
    }

    /// The whole id.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The user this client belongs to.
    pub fn user(&self) -> &UserId {
        &self.user
    }

    /// The device part.
    pub fn device(&self) -> &str {
        &self.text[self.slash + 1..]
    }

    /// The client's home domain.
    pub fn domain(&self) -> &str {
        self.user.domain()
    }
}

/// `local@domain` of a group, where `domain` is the owning DS.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId {
    text: String,
    at: usize,
}

impl GroupId {
    /// Parses and checks a group id.
    pub fn new(s: &str) -> Result<Self, IdError> {
        check_total("group id", s)?;
        let at = s
            .find('@')
            .ok_or_else(|| IdError::new("group id", s, "missing '@'"))?;
        check_part("group id", s, &s[..at], group_local_char)?;
        check_domain(&s[at + 1..]).map_err(|_| IdError::new("group id", s, "bad domain"))?;
        Ok(Self {
            text: s.to_owned(),
            at,
        })
    }

    /// Parses the bytes of an MLS group id.
    pub fn from_bytes(b: &[u8]) -> Result<Self, IdError> {
        let s = std::str::from_utf8(b).map_err(|_| IdError::new("group id", "", "not UTF-8"))?;
        Self::new(s)
    }

    /// Builds `local@domain`.
    pub fn from_parts(local: &str, domain: &Domain) -> Result<Self, IdError> {
        Self::new(&format!("{local}@{}", domain.as_str()))
    }

    /// The whole id.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The bytes used as the MLS group id.
    pub fn as_bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    /// The owning DS's domain.
    pub fn domain(&self) -> &str {
        &self.text[self.at + 1..]
    }
}

macro_rules! text_id_impls {
    ($t:ty, $kind:literal) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", $kind, self.as_str())
            }
        }

        impl FromStr for $t {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::new(s)
            }
        }

        impl Size for $t {
            fn tls_serialized_len(&self) -> usize {
                1 + self.as_str().len()
            }
        }

        impl Serialize for $t {
            fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
                ShortBytes::new(self.as_str().as_bytes().to_vec())?.tls_serialize(writer)
            }
        }

        impl Deserialize for $t {
            fn tls_deserialize<R: Read>(bytes: &mut R) -> Result<Self, tls_codec::Error> {
                let raw = ShortBytes::tls_deserialize(bytes)?;
                let text = std::str::from_utf8(raw.as_slice()).map_err(|_| {
                    tls_codec::Error::DecodingError(concat!($kind, " is not UTF-8").into())
                })?;
                Self::new(text).map_err(|e| tls_codec::Error::DecodingError(e.to_string()))
            }
        }
    };
}

text_id_impls!(Domain, "domain");
text_id_impls!(UserId, "user id");
text_id_impls!(ClientId, "client id");
text_id_impls!(GroupId, "group id");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_ids_parse_and_expose_their_domain() {
        let c = ClientId::new("alice@ds-a.example/laptop").unwrap();
        assert_eq!(c.user().as_str(), "alice@ds-a.example");
        assert_eq!(c.device(), "laptop");
        assert_eq!(c.domain(), "ds-a.example");
        let g = GroupId::new("0f3a-77@ds-b.example").unwrap();
        assert_eq!(g.domain(), "ds-b.example");
        assert_eq!(Domain::new("localhost").unwrap().as_str(), "localhost");
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in [
            "",
            "@x",
            "a@",
            "A@x",
            "a@X.example",
            "a@-x",
            "a@x..y",
            "a b@x",
        ] {
            assert!(UserId::new(bad).is_err(), "{bad}");
        }
        for bad in ["a@x", "a@x/", "a@x/d d", "a@/d"] {
            assert!(ClientId::new(bad).is_err(), "{bad}");
        }
        assert!(GroupId::new("a_b@x").is_err());
        assert!(Domain::new(&"a".repeat(64)).is_err());
        // Parts within their limits but the whole over the 255-byte field.
        let long = format!(
            "{}@{}.{}.{}.{}/{}",
            "u".repeat(64),
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(40),
            "x".repeat(64)
        );
        assert!(ClientId::new(&long).is_err());
    }
}
