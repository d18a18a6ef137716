//! STUN and TURN attribute types and their typed values.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::error::DecodeError;
use crate::message::MAGIC_COOKIE;

/// A 16-bit attribute type.
pub type AttrType = u16;

/// MAPPED-ADDRESS (RFC 8489).
pub const MAPPED_ADDRESS: AttrType = 0x0001;
/// USERNAME (RFC 8489).
pub const USERNAME: AttrType = 0x0006;
/// MESSAGE-INTEGRITY (RFC 8489).
pub const MESSAGE_INTEGRITY: AttrType = 0x0008;
/// ERROR-CODE (RFC 8489).
pub const ERROR_CODE: AttrType = 0x0009;
/// UNKNOWN-ATTRIBUTES (RFC 8489).
pub const UNKNOWN_ATTRIBUTES: AttrType = 0x000A;
/// CHANNEL-NUMBER (RFC 8656).
pub const CHANNEL_NUMBER: AttrType = 0x000C;
/// LIFETIME (RFC 8656).
pub const LIFETIME: AttrType = 0x000D;
/// XOR-PEER-ADDRESS (RFC 8656).
pub const XOR_PEER_ADDRESS: AttrType = 0x0012;
/// DATA (RFC 8656).
pub const DATA: AttrType = 0x0013;
/// REALM (RFC 8489).
pub const REALM: AttrType = 0x0014;
/// NONCE (RFC 8489).
pub const NONCE: AttrType = 0x0015;
/// XOR-RELAYED-ADDRESS (RFC 8656).
pub const XOR_RELAYED_ADDRESS: AttrType = 0x0016;
/// REQUESTED-ADDRESS-FAMILY (RFC 8656).
pub const REQUESTED_ADDRESS_FAMILY: AttrType = 0x0017;
/// EVEN-PORT (RFC 8656).
pub const EVEN_PORT: AttrType = 0x0018;
/// REQUESTED-TRANSPORT (RFC 8656).
pub const REQUESTED_TRANSPORT: AttrType = 0x0019;
/// DONT-FRAGMENT (RFC 8656).
pub const DONT_FRAGMENT: AttrType = 0x001A;
/// MESSAGE-INTEGRITY-SHA256 (RFC 8489).
pub const MESSAGE_INTEGRITY_SHA256: AttrType = 0x001C;
/// PASSWORD-ALGORITHM (RFC 8489).
pub const PASSWORD_ALGORITHM: AttrType = 0x001D;
/// USERHASH (RFC 8489).
pub const USERHASH: AttrType = 0x001E;
/// XOR-MAPPED-ADDRESS (RFC 8489).
pub const XOR_MAPPED_ADDRESS: AttrType = 0x0020;
/// RESERVATION-TOKEN (RFC 8656).
pub const RESERVATION_TOKEN: AttrType = 0x0022;
/// ADDITIONAL-ADDRESS-FAMILY (RFC 8656).
pub const ADDITIONAL_ADDRESS_FAMILY: AttrType = 0x8000;
/// ADDRESS-ERROR-CODE (RFC 8656).
pub const ADDRESS_ERROR_CODE: AttrType = 0x8001;
/// PASSWORD-ALGORITHMS (RFC 8489).
pub const PASSWORD_ALGORITHMS: AttrType = 0x8002;
/// SOFTWARE (RFC 8489).
pub const SOFTWARE: AttrType = 0x8022;
/// FINGERPRINT (RFC 8489).
pub const FINGERPRINT: AttrType = 0x8028;

/// Attribute types below 0x8000 must be understood by the receiver (RFC 8489 §14).
pub fn is_comprehension_required(t: AttrType) -> bool {
    t < 0x8000
}

/// PASSWORD-ALGORITHM value for MD5 (RFC 8489 §18.5).
pub const ALGORITHM_MD5: u16 = 0x0001;
/// PASSWORD-ALGORITHM value for SHA-256.
pub const ALGORITHM_SHA256: u16 = 0x0002;

/// Address family byte of IPv4 in address attributes and REQUESTED-ADDRESS-FAMILY.
pub const FAMILY_IPV4: u8 = 0x01;
/// Address family byte of IPv6.
pub const FAMILY_IPV6: u8 = 0x02;

/// REQUESTED-TRANSPORT protocol number of UDP.
pub const TRANSPORT_UDP: u8 = 17;

/// Size of an address attribute value for `addr`.
pub fn address_len(addr: SocketAddr) -> usize {
    if addr.is_ipv4() { 8 } else { 20 }
}

/// Writes a plain address value (`out` is [`address_len`] bytes).
pub fn write_address(out: &mut [u8], addr: SocketAddr) {
    out[0] = 0;
    out[2..4].copy_from_slice(&addr.port().to_be_bytes());
    match addr.ip() {
        IpAddr::V4(ip) => {
            out[1] = FAMILY_IPV4;
            out[4..8].copy_from_slice(&ip.octets());
        }
        IpAddr::V6(ip) => {
            out[1] = FAMILY_IPV6;
            out[4..20].copy_from_slice(&ip.octets());
        }
    }
}

/// Writes an XOR-encoded address value (`out` is [`address_len`] bytes).
pub fn write_xor_address(out: &mut [u8], addr: SocketAddr, tid: &[u8; 12]) {
    write_address(out, addr);
    xor_in_place(out, tid);
}

fn xor_in_place(v: &mut [u8], tid: &[u8; 12]) {
    let cookie = MAGIC_COOKIE.to_be_bytes();
    v[2] ^= cookie[0];
    v[3] ^= cookie[1];
    for i in 4..v.len() {
        v[i] ^= if i < 8 { cookie[i - 4] } else { tid[i - 8] };
    }
}

/// Reads a plain address value.
pub fn read_address(typ: AttrType, v: &[u8]) -> Result<SocketAddr, DecodeError> {
    let bad = DecodeError::MalformedAttribute(typ);
    if v.len() < 4 {
        return Err(bad);
    }
    let port = u16::from_be_bytes([v[2], v[3]]);
    match (v[1], v.len()) {
        (FAMILY_IPV4, 8) => Ok(SocketAddr::new(Ipv4Addr::new(v[4], v[5], v[6], v[7]).into(), port)),
        (FAMILY_IPV6, 20) => {
            let mut o = [0u8; 16];
            o.copy_from_slice(&v[4..20]);
            Ok(SocketAddr::new(Ipv6Addr::from(o).into(), port))
        }
        _ => Err(bad),
    }
}

/// Reads an XOR-encoded address value.
pub fn read_xor_address(typ: AttrType, v: &[u8], tid: &[u8; 12]) -> Result<SocketAddr, DecodeError> {
    if v.len() != 8 && v.len() != 20 {
        return Err(DecodeError::MalformedAttribute(typ));
    }
    let mut tmp = [0u8; 20];
    tmp[..v.len()].copy_from_slice(v);
    xor_in_place(&mut tmp[..v.len()], tid);
    read_address(typ, &tmp[..v.len()])
}

/// Reads ERROR-CODE: the numeric code and the reason phrase.
pub fn read_error_code(v: &[u8]) -> Result<(u16, &str), DecodeError> {
    let bad = DecodeError::MalformedAttribute(ERROR_CODE);
    if v.len() < 4 || !(3..=6).contains(&(v[2] & 7)) || v[3] > 99 {
        return Err(bad);
    }
    let code = u16::from(v[2] & 7) * 100 + u16::from(v[3]);
    let reason = std::str::from_utf8(&v[4..]).map_err(|_| bad)?;
    Ok((code, reason))
}

/// Reads UNKNOWN-ATTRIBUTES.
pub fn read_unknown_attributes(v: &[u8]) -> Result<impl Iterator<Item = AttrType> + '_, DecodeError> {
    if !v.len().is_multiple_of(2) {
        return Err(DecodeError::MalformedAttribute(UNKNOWN_ATTRIBUTES));
    }
    Ok(v.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])))
}

/// Reads a 32-bit attribute (LIFETIME).
pub fn read_u32(typ: AttrType, v: &[u8]) -> Result<u32, DecodeError> {
    let b: [u8; 4] = v.try_into().map_err(|_| DecodeError::MalformedAttribute(typ))?;
    Ok(u32::from_be_bytes(b))
}

/// Reads CHANNEL-NUMBER (the number, unchecked against the valid range).
pub fn read_channel_number(v: &[u8]) -> Result<u16, DecodeError> {
    if v.len() != 4 {
        return Err(DecodeError::MalformedAttribute(CHANNEL_NUMBER));
    }
    Ok(u16::from_be_bytes([v[0], v[1]]))
}

/// Reads the first byte of a 4-byte attribute (REQUESTED-TRANSPORT, *-ADDRESS-FAMILY).
pub fn read_first_byte(typ: AttrType, v: &[u8]) -> Result<u8, DecodeError> {
    if v.len() != 4 {
        return Err(DecodeError::MalformedAttribute(typ));
    }
    Ok(v[0])
}

/// Reads PASSWORD-ALGORITHM: the algorithm number (parameters are ignored).
pub fn read_password_algorithm(v: &[u8]) -> Result<u16, DecodeError> {
    let bad = DecodeError::MalformedAttribute(PASSWORD_ALGORITHM);
    if v.len() < 4 {
        return Err(bad);
    }
    let plen = usize::from(u16::from_be_bytes([v[2], v[3]]));
    if 4 + plen > v.len() {
        return Err(bad);
    }
    Ok(u16::from_be_bytes([v[0], v[1]]))
}

/// Value of PASSWORD-ALGORITHMS as this server offers it: MD5 then SHA-256, no parameters.
pub const OFFERED_PASSWORD_ALGORITHMS: [u8; 8] = [0, 1, 0, 0, 0, 2, 0, 0];

/// Reads a string attribute (USERNAME, REALM, NONCE, SOFTWARE) as UTF-8.
pub fn read_str(typ: AttrType, v: &[u8]) -> Result<&str, DecodeError> {
    std::str::from_utf8(v).map_err(|_| DecodeError::MalformedAttribute(typ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn xor_address_round_trips() {
        let tid = [3u8; 12];
        for a in ["192.0.2.1:32853", "[2001:db8:1234:5678:11:2233:4455:6677]:32853"] {
            let addr: SocketAddr = a.parse().unwrap();
            let mut out = [0u8; 20];
            let n = address_len(addr);
            write_xor_address(&mut out[..n], addr, &tid);
            assert_eq!(read_xor_address(XOR_MAPPED_ADDRESS, &out[..n], &tid).unwrap(), addr);
        }
        assert!(read_xor_address(XOR_MAPPED_ADDRESS, &[0, 9, 0, 0, 1, 2, 3, 4], &tid).is_err());
        assert!(read_xor_address(XOR_MAPPED_ADDRESS, &[0, 1, 0], &tid).is_err());
    }

    #[test]
    fn error_code_parses() {
        assert_eq!(read_error_code(&[0, 0, 4, 1, b'U']).unwrap(), (401, "U"));
        assert!(read_error_code(&[0, 0, 7, 1]).is_err());
        assert!(read_error_code(&[0, 0, 4]).is_err());
    }

    #[test]
    fn small_attributes_parse() {
        assert_eq!(read_channel_number(&[0x40, 1, 0, 0]).unwrap(), 0x4001);
        assert!(read_channel_number(&[0x40]).is_err());
        assert_eq!(read_u32(LIFETIME, &[0, 0, 2, 88]).unwrap(), 600);
        assert_eq!(read_password_algorithm(&[0, 2, 0, 0]).unwrap(), 2);
        assert!(read_password_algorithm(&[0, 2, 0, 8]).is_err());
        assert_eq!(read_unknown_attributes(&[0, 1, 0, 2]).unwrap().collect::<Vec<_>>(), vec![1, 2]);
    }
}
