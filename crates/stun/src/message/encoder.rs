//! Writes STUN messages into a caller-provided buffer, without allocating.

use std::net::SocketAddr;

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

use super::{Class, HEADER_LEN, MAGIC_COOKIE, Method, TransactionId, feed_prefix, fingerprint_of, message_type, padded};
use crate::attributes::{self as attr, AttrType};
use crate::error::EncodeError;

/// Builds one STUN message in a borrowed buffer.
///
/// The length field is kept up to date after every attribute, so integrity and fingerprint
/// attributes can be appended at any point. [`Encoder::finish`] returns the message length.
#[derive(Debug)]
pub struct Encoder<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> Encoder<'b> {
    /// Starts a message of the given method and class.
    pub fn new(buf: &'b mut [u8], method: Method, class: Class, tid: &TransactionId) -> Result<Self, EncodeError> {
        if buf.len() < HEADER_LEN {
            return Err(EncodeError::BufferTooSmall);
        }
        buf[0..2].copy_from_slice(&message_type(method, class).to_be_bytes());
        buf[2..4].copy_from_slice(&[0, 0]);
        buf[4..8].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
        buf[8..20].copy_from_slice(tid);
        Ok(Encoder { buf, len: HEADER_LEN })
    }

    /// Appends an attribute of `vlen` bytes whose value `fill` writes; returns nothing.
    pub fn attr_with(&mut self, typ: AttrType, vlen: usize, fill: impl FnOnce(&mut [u8])) -> Result<(), EncodeError> {
        let total = 4 + padded(vlen);
        if vlen > usize::from(u16::MAX) || self.len + total - HEADER_LEN > usize::from(u16::MAX) {
            return Err(EncodeError::TooLong);
        }
        let out = self.buf.get_mut(self.len..self.len + total).ok_or(EncodeError::BufferTooSmall)?;
        out[0..2].copy_from_slice(&typ.to_be_bytes());
        out[2..4].copy_from_slice(&(vlen as u16).to_be_bytes());
        fill(&mut out[4..4 + vlen]);
        out[4 + vlen..].fill(0);
        self.len += total;
        let l = (self.len - HEADER_LEN) as u16;
        self.buf[2..4].copy_from_slice(&l.to_be_bytes());
        Ok(())
    }

    /// Appends an attribute with the given value.
    pub fn attr(&mut self, typ: AttrType, value: &[u8]) -> Result<(), EncodeError> {
        self.attr_with(typ, value.len(), |out| out.copy_from_slice(value))
    }

    /// Appends a 32-bit attribute (LIFETIME, ...).
    pub fn attr_u32(&mut self, typ: AttrType, v: u32) -> Result<(), EncodeError> {
        self.attr(typ, &v.to_be_bytes())
    }

    /// Appends an XOR-encoded address attribute (XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS, ...).
    pub fn xor_address(&mut self, typ: AttrType, addr: SocketAddr) -> Result<(), EncodeError> {
        let mut tid = [0u8; 12];
        tid.copy_from_slice(&self.buf[8..20]);
        let len = attr::address_len(addr);
        self.attr_with(typ, len, |out| attr::write_xor_address(out, addr, &tid))
    }

    /// Appends a plain address attribute (MAPPED-ADDRESS, for RFC 3489-era clients).
    pub fn address(&mut self, typ: AttrType, addr: SocketAddr) -> Result<(), EncodeError> {
        let len = attr::address_len(addr);
        self.attr_with(typ, len, |out| attr::write_address(out, addr))
    }

    /// Appends ERROR-CODE with a numeric code (300-699) and a reason phrase.
    pub fn error_code(&mut self, code: u16, reason: &str) -> Result<(), EncodeError> {
        let r = reason.as_bytes();
        self.attr_with(attr::ERROR_CODE, 4 + r.len(), |out| {
            out[0] = 0;
            out[1] = 0;
            out[2] = (code / 100) as u8;
            out[3] = (code % 100) as u8;
            out[4..].copy_from_slice(r);
        })
    }

    /// Appends UNKNOWN-ATTRIBUTES listing `types`.
    pub fn unknown_attributes(&mut self, types: &[AttrType]) -> Result<(), EncodeError> {
        self.attr_with(attr::UNKNOWN_ATTRIBUTES, types.len() * 2, |out| {
            for (i, t) in types.iter().enumerate() {
                out[2 * i..2 * i + 2].copy_from_slice(&t.to_be_bytes());
            }
        })
    }

    /// Appends MESSAGE-INTEGRITY (HMAC-SHA1 under `key`).
    pub fn integrity(&mut self, key: &[u8]) -> Result<(), EncodeError> {
        let pos = self.len;
        self.attr_with(attr::MESSAGE_INTEGRITY, 20, |_| {})?;
        let mut mac = Hmac::<Sha1>::new_from_slice(key).map_err(|_| EncodeError::TooLong)?;
        feed_prefix(self.buf, pos, 20, |d| mac.update(d));
        self.buf[pos + 4..pos + 24].copy_from_slice(&mac.finalize().into_bytes());
        Ok(())
    }

    /// Appends MESSAGE-INTEGRITY-SHA256 (full 32 bytes, HMAC-SHA256 under `key`).
    pub fn integrity_sha256(&mut self, key: &[u8]) -> Result<(), EncodeError> {
        let pos = self.len;
        self.attr_with(attr::MESSAGE_INTEGRITY_SHA256, 32, |_| {})?;
        let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| EncodeError::TooLong)?;
        feed_prefix(self.buf, pos, 32, |d| mac.update(d));
        self.buf[pos + 4..pos + 36].copy_from_slice(&mac.finalize().into_bytes());
        Ok(())
    }

    /// Appends FINGERPRINT; it must be the last attribute.
    pub fn fingerprint(&mut self) -> Result<(), EncodeError> {
        let pos = self.len;
        self.attr_with(attr::FINGERPRINT, 4, |_| {})?;
        let crc = fingerprint_of(&self.buf[..pos]);
        self.buf[pos + 4..pos + 8].copy_from_slice(&crc.to_be_bytes());
        Ok(())
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Finishes the message and returns its length in the buffer.
    pub fn finish(self) -> usize {
        self.len
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::message::Message;

    #[test]
    fn encodes_and_decodes_with_integrity_and_fingerprint() {
        let mut buf = [0u8; 256];
        let tid = [7u8; 12];
        let mut e = Encoder::new(&mut buf, Method::BINDING, Class::Request, &tid).unwrap();
        e.attr(attr::USERNAME, b"alice").unwrap();
        e.xor_address(attr::XOR_PEER_ADDRESS, "[2001:db8::1]:9".parse().unwrap()).unwrap();
        e.integrity(b"key").unwrap();
        e.integrity_sha256(b"key").unwrap();
        e.fingerprint().unwrap();
        let n = e.finish();
        let m = Message::decode(&buf[..n]).unwrap();
        assert_eq!(m.get(attr::USERNAME), Some(&b"alice"[..]));
        assert!(m.verify_integrity(b"key"));
        assert!(!m.verify_integrity(b"other"));
        assert!(m.verify_integrity_sha256(b"key"));
        assert!(m.has_fingerprint());
        assert_eq!(m.transaction_id(), tid);
    }

    #[test]
    fn small_buffer_is_an_error() {
        let mut buf = [0u8; 24];
        let mut e = Encoder::new(&mut buf, Method::BINDING, Class::Request, &[0; 12]).unwrap();
        assert_eq!(e.attr(attr::SOFTWARE, b"hello").unwrap_err(), EncodeError::BufferTooSmall);
        assert_eq!(Encoder::new(&mut [0u8; 4], Method::BINDING, Class::Request, &[0; 12]).unwrap_err(), EncodeError::BufferTooSmall);
    }
}
