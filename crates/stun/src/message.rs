//! STUN message decoding (zero-copy) and the integrity checks of RFC 8489 §14.5, §14.6, §14.7.
//!
//! [`Message::decode`] validates the header and the attribute layout once; attribute values are
//! then borrowed from the input. The [`Encoder`] (re-exported from `encoder`) writes messages
//! into a caller-provided buffer.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

use crate::attributes::{self as attr, AttrType};
use crate::error::DecodeError;

mod encoder;
pub use encoder::Encoder;

/// The magic cookie of RFC 5389 and later.
pub const MAGIC_COOKIE: u32 = 0x2112_A442;
/// Size of a STUN header.
pub const HEADER_LEN: usize = 20;
/// XOR constant of the FINGERPRINT attribute.
pub const FINGERPRINT_XOR: u32 = 0x5354_554E;

/// A 96-bit transaction id.
pub type TransactionId = [u8; 12];

/// The class of a STUN message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// A request, answered by a success or error response.
    Request,
    /// An indication, never answered.
    Indication,
    /// A success response.
    Success,
    /// An error response.
    Error,
}

/// A STUN method; the TURN methods are those of RFC 8656.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Method(pub u16);

impl Method {
    /// Binding (RFC 8489).
    pub const BINDING: Method = Method(0x001);
    /// Allocate (RFC 8656).
    pub const ALLOCATE: Method = Method(0x003);
    /// Refresh (RFC 8656).
    pub const REFRESH: Method = Method(0x004);
    /// Send indication (RFC 8656).
    pub const SEND: Method = Method(0x006);
    /// Data indication (RFC 8656).
    pub const DATA: Method = Method(0x007);
    /// CreatePermission (RFC 8656).
    pub const CREATE_PERMISSION: Method = Method(0x008);
    /// ChannelBind (RFC 8656).
    pub const CHANNEL_BIND: Method = Method(0x009);
}

/// Builds the 16-bit message type from a method and a class (RFC 8489 §5).
pub fn message_type(method: Method, class: Class) -> u16 {
    let m = method.0 & 0x0FFF;
    let c: u16 = match class {
        Class::Request => 0b00,
        Class::Indication => 0b01,
        Class::Success => 0b10,
        Class::Error => 0b11,
    };
    (m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) | ((c & 1) << 4) | ((c & 2) << 7)
}

/// Splits a 16-bit message type into its method and class.
pub fn split_type(t: u16) -> (Method, Class) {
    let m = (t & 0x000F) | ((t >> 1) & 0x0070) | ((t >> 2) & 0x0F80);
    let class = match ((t >> 4) & 1) | ((t >> 7) & 2) {
        0 => Class::Request,
        1 => Class::Indication,
        2 => Class::Success,
        _ => Class::Error,
    };
    (Method(m), class)
}

/// An attribute borrowed from a decoded message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawAttribute<'a> {
    /// The attribute type.
    pub typ: AttrType,
    /// The value, without padding.
    pub value: &'a [u8],
}

/// A validated STUN message borrowing its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    buf: &'a [u8],
    method: Method,
    class: Class,
    /// End of the attributes that count (those before any integrity attribute).
    attrs_end: usize,
    integrity: Option<usize>,
    integrity_sha256: Option<usize>,
    fingerprint: bool,
}

impl<'a> Message<'a> {
    /// Decodes and validates one STUN message that fills `buf` exactly.
    ///
    /// Checks the header, the length, the attribute layout and FINGERPRINT (if present).
    /// Attributes after MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256 and
    /// FINGERPRINT are ignored, as RFC 8489 §14.5 requires.
    pub fn decode(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < HEADER_LEN {
            return Err(DecodeError::Truncated);
        }
        if buf[0] & 0xC0 != 0 {
            return Err(DecodeError::NotStun);
        }
        if u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]) != MAGIC_COOKIE {
            return Err(DecodeError::BadMagicCookie);
        }
        let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
        if len % 4 != 0 {
            return Err(DecodeError::UnalignedLength);
        }
        match (HEADER_LEN + len).cmp(&buf.len()) {
            std::cmp::Ordering::Greater => return Err(DecodeError::Truncated),
            std::cmp::Ordering::Less => return Err(DecodeError::TrailingBytes),
            std::cmp::Ordering::Equal => {}
        }
        let (method, class) = split_type(u16::from_be_bytes([buf[0], buf[1]]));
        let mut msg = Message {
            buf,
            method,
            class,
            attrs_end: buf.len(),
            integrity: None,
            integrity_sha256: None,
            fingerprint: false,
        };
        let mut pos = HEADER_LEN;
        let mut counting = true;
        while pos < buf.len() {
            let (typ, vlen) = attr_header(buf, pos)?;
            let next = pos + 4 + padded(vlen);
            if next > buf.len() {
                return Err(DecodeError::AttributeOverflow);
            }
            if msg.fingerprint {
                return Err(DecodeError::MisplacedFingerprint);
            }
            match typ {
                attr::MESSAGE_INTEGRITY if msg.integrity.is_none() && msg.integrity_sha256.is_none() => {
                    if vlen != 20 {
                        return Err(DecodeError::MalformedIntegrity);
                    }
                    msg.integrity = Some(pos);
                }
                attr::MESSAGE_INTEGRITY_SHA256 if msg.integrity_sha256.is_none() => {
                    if !(16..=32).contains(&vlen) || vlen % 4 != 0 {
                        return Err(DecodeError::MalformedIntegrity);
                    }
                    msg.integrity_sha256 = Some(pos);
                }
                attr::FINGERPRINT => {
                    if vlen != 4 || next != buf.len() {
                        return Err(DecodeError::MisplacedFingerprint);
                    }
                    msg.fingerprint = true;
                    let want = u32::from_be_bytes([buf[pos + 4], buf[pos + 5], buf[pos + 6], buf[pos + 7]]);
                    if fingerprint_of(&buf[..pos]) != want {
                        return Err(DecodeError::WrongFingerprint);
                    }
                }
                _ => {}
            }
            if counting && (msg.integrity.is_some() || msg.integrity_sha256.is_some() || msg.fingerprint) {
                msg.attrs_end = pos;
                counting = false;
            }
            pos = next;
        }
        Ok(msg)
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The class.
    pub fn class(&self) -> Class {
        self.class
    }

    /// The transaction id.
    pub fn transaction_id(&self) -> TransactionId {
        let mut t = [0u8; 12];
        t.copy_from_slice(&self.buf[8..20]);
        t
    }

    /// The whole message.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// Whether a FINGERPRINT attribute was present (and correct).
    pub fn has_fingerprint(&self) -> bool {
        self.fingerprint
    }

    /// Whether MESSAGE-INTEGRITY is present.
    pub fn has_integrity(&self) -> bool {
        self.integrity.is_some()
    }

    /// Whether MESSAGE-INTEGRITY-SHA256 is present.
    pub fn has_integrity_sha256(&self) -> bool {
        self.integrity_sha256.is_some()
    }

    /// The attributes before any integrity or fingerprint attribute, in order.
    pub fn attributes(&self) -> Attributes<'a> {
        Attributes { buf: &self.buf[..self.attrs_end], pos: HEADER_LEN }
    }

    /// The value of the first attribute of type `typ`, if any (later duplicates are ignored).
    pub fn get(&self, typ: AttrType) -> Option<&'a [u8]> {
        self.attributes().find(|a| a.typ == typ).map(|a| a.value)
    }

    /// Checks MESSAGE-INTEGRITY (HMAC-SHA1) with `key`. False when absent or wrong.
    pub fn verify_integrity(&self, key: &[u8]) -> bool {
        let Some(pos) = self.integrity else { return false };
        let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key) else { return false };
        feed_prefix(self.buf, pos, 20, |d| mac.update(d));
        mac.verify_slice(&self.buf[pos + 4..pos + 24]).is_ok()
    }

    /// Checks MESSAGE-INTEGRITY-SHA256 (possibly truncated) with `key`.
    pub fn verify_integrity_sha256(&self, key: &[u8]) -> bool {
        let Some(pos) = self.integrity_sha256 else { return false };
        let vlen = usize::from(u16::from_be_bytes([self.buf[pos + 2], self.buf[pos + 3]]));
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else { return false };
        feed_prefix(self.buf, pos, vlen, |d| mac.update(d));
        mac.verify_truncated_left(&self.buf[pos + 4..pos + 4 + vlen]).is_ok()
    }
}

/// Iterator over the attributes of a [`Message`].
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Attributes<'a> {
    type Item = RawAttribute<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let (typ, vlen) = attr_header(self.buf, self.pos).ok()?;
        let value = self.buf.get(self.pos + 4..self.pos + 4 + vlen)?;
        self.pos += 4 + padded(vlen);
        Some(RawAttribute { typ, value })
    }
}

/// Rounds an attribute length up to the next multiple of 4.
pub fn padded(len: usize) -> usize {
    (len + 3) & !3
}

fn attr_header(buf: &[u8], pos: usize) -> Result<(AttrType, usize), DecodeError> {
    let h = buf.get(pos..pos + 4).ok_or(DecodeError::AttributeOverflow)?;
    Ok((u16::from_be_bytes([h[0], h[1]]), usize::from(u16::from_be_bytes([h[2], h[3]]))))
}

/// Feeds the bytes covered by an integrity attribute at `pos` with a value of `vlen` bytes:
/// the message up to `pos`, with the length field rewritten to end after that attribute.
pub(crate) fn feed_prefix(buf: &[u8], pos: usize, vlen: usize, mut feed: impl FnMut(&[u8])) {
    let len = (pos + 4 + vlen - HEADER_LEN) as u16;
    feed(&buf[0..2]);
    feed(&len.to_be_bytes());
    feed(&buf[4..pos]);
}

/// The FINGERPRINT value of `prefix` (the message up to the FINGERPRINT attribute, whose
/// length field already includes it).
pub fn fingerprint_of(prefix: &[u8]) -> u32 {
    crc32fast::hash(prefix) ^ FINGERPRINT_XOR
}

/// Whether the first bytes of a datagram look like a STUN message rather than ChannelData.
pub fn is_stun(buf: &[u8]) -> bool {
    buf.first().is_some_and(|b| b & 0xC0 == 0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn message_types_round_trip() {
        for (m, c, t) in [
            (Method::BINDING, Class::Request, 0x0001),
            (Method::BINDING, Class::Success, 0x0101),
            (Method::BINDING, Class::Error, 0x0111),
            (Method::ALLOCATE, Class::Request, 0x0003),
            (Method::SEND, Class::Indication, 0x0016),
            (Method::DATA, Class::Indication, 0x0017),
            (Method::CHANNEL_BIND, Class::Success, 0x0109),
        ] {
            assert_eq!(message_type(m, c), t);
            assert_eq!(split_type(t), (m, c));
        }
    }

    #[test]
    fn rejects_bad_headers() {
        assert_eq!(Message::decode(&[0; 10]).unwrap_err(), DecodeError::Truncated);
        let mut b = [0u8; 20];
        b[4..8].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
        assert!(Message::decode(&b).is_ok());
        b[0] = 0x40;
        assert_eq!(Message::decode(&b).unwrap_err(), DecodeError::NotStun);
        b[0] = 0;
        b[3] = 2;
        assert_eq!(Message::decode(&b).unwrap_err(), DecodeError::UnalignedLength);
        b[3] = 4;
        assert_eq!(Message::decode(&b).unwrap_err(), DecodeError::Truncated);
        let mut long = [0u8; 28];
        long[..20].copy_from_slice(&b);
        assert_eq!(Message::decode(&long).unwrap_err(), DecodeError::TrailingBytes);
        long[3] = 8;
        long[22..24].copy_from_slice(&[0, 8]);
        assert_eq!(Message::decode(&long).unwrap_err(), DecodeError::AttributeOverflow);
        b[3] = 0;
        b[7] = 0;
        assert_eq!(Message::decode(&b).unwrap_err(), DecodeError::BadMagicCookie);
    }
}
