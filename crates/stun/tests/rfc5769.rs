//! The test vectors of RFC 5769 decode, verify and re-encode.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use bureau_stun::attributes as attr;
use bureau_stun::credentials::{LongTermKey, PasswordAlgorithm};
use bureau_stun::{Class, Encoder, Message, Method};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

const TID: &str = "b7 e7 a7 01 bc 34 d6 86 fa 87 df ae";

fn sample_request() -> Vec<u8> {
    hex(&format!(
        "00 01 00 58 21 12 a4 42 {TID}
         80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
         00 24 00 04 6e 00 01 ff
         80 29 00 08 93 2f f9 b1 51 26 3b 36
         00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
         00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
         80 28 00 04 e5 7a 3b cf"
    ))
}

#[test]
fn sample_request_short_term() {
    let b = sample_request();
    let m = Message::decode(&b).unwrap();
    assert_eq!((m.method(), m.class()), (Method::BINDING, Class::Request));
    assert!(m.has_fingerprint());
    assert_eq!(m.get(attr::SOFTWARE), Some(&b"STUN test client"[..]));
    assert_eq!(m.get(attr::USERNAME), Some(&b"evtj:h6vY"[..]));
    assert!(m.verify_integrity(b"VOkJxbRl1RmTxUk/WvJxBt"));
    assert!(!m.verify_integrity(b"VOkJxbRl1RmTxUk/WvJxBT"));
}

#[test]
fn sample_request_with_a_flipped_bit_fails_the_fingerprint() {
    let mut b = sample_request();
    b[30] ^= 1;
    assert!(Message::decode(&b).is_err());
}

fn check_response(b: &[u8], addr: &str) {
    let m = Message::decode(b).unwrap();
    assert_eq!((m.method(), m.class()), (Method::BINDING, Class::Success));
    assert_eq!(m.get(attr::SOFTWARE), Some(&b"test vector"[..]));
    let mapped = attr::read_xor_address(attr::XOR_MAPPED_ADDRESS, m.get(attr::XOR_MAPPED_ADDRESS).unwrap(), &m.transaction_id()).unwrap();
    let want: SocketAddr = addr.parse().unwrap();
    assert_eq!(mapped, want);
    assert!(m.verify_integrity(b"VOkJxbRl1RmTxUk/WvJxBt"));
    // Our encoder produces the same bytes (SOFTWARE padding aside: the RFC pads with a space).
    let mut out = [0u8; 128];
    let mut e = Encoder::new(&mut out, Method::BINDING, Class::Success, &m.transaction_id()).unwrap();
    e.attr(attr::SOFTWARE, b"test vector").unwrap();
    e.xor_address(attr::XOR_MAPPED_ADDRESS, want).unwrap();
    let mut ours = e.as_bytes().to_vec();
    ours[20 + 4 + 11] = 0x20;
    // The length fields differ: the vector goes on with MESSAGE-INTEGRITY and FINGERPRINT.
    assert_eq!(&ours[4..], &b[4..ours.len()]);
}

#[test]
fn sample_ipv4_response() {
    let b = hex(&format!(
        "01 01 00 3c 21 12 a4 42 {TID}
         80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
         00 20 00 08 00 01 a1 47 e1 12 a6 43
         00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
         80 28 00 04 c0 7d 4c 96"
    ));
    check_response(&b, "192.0.2.1:32853");
}

#[test]
fn sample_ipv6_response() {
    let b = hex(&format!(
        "01 01 00 48 21 12 a4 42 {TID}
         80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
         00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
         00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
         80 28 00 04 c8 fb 0b 4c"
    ));
    check_response(&b, "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
}

#[test]
fn sample_request_long_term() {
    let b = hex(
        "00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
         00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00
         00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41
         00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
         00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66",
    );
    let m = Message::decode(&b).unwrap();
    let username = attr::read_str(attr::USERNAME, m.get(attr::USERNAME).unwrap()).unwrap();
    assert_eq!(username, "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}");
    assert_eq!(m.get(attr::NONCE), Some(&b"f//499k954d6OL34oL9FSTvy64sA"[..]));
    assert_eq!(m.get(attr::REALM), Some(&b"example.org"[..]));
    // The password "The<U+00AD>M<U+00AA>tr<U+2168>" is "TheMatrIX" after SASLprep.
    let key = LongTermKey::derive(PasswordAlgorithm::Md5, username, "example.org", b"TheMatrIX");
    assert!(m.verify_integrity(key.as_bytes()));
    assert!(!m.has_fingerprint());
}
