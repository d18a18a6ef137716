//! The peer policy refuses every non-global address by default, table-driven.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;

use bureau_stun::policy::{Cidr, PeerPolicy};

/// (address, allowed by default, allowed with allow_loopback + allow 10.1.0.0/16 and fd00::/8)
const TABLE: &[(&str, bool, bool)] = &[
    // Public unicast.
    ("8.8.8.8", true, true),
    ("1.1.1.1", true, true),
    ("93.184.216.34", true, true),
    ("2606:4700:4700::1111", true, true),
    ("2a00:1450:4007:80e::200e", true, true),
    // Loopback.
    ("127.0.0.1", false, true),
    ("127.255.255.254", false, true),
    ("::1", false, true),
    ("::ffff:127.0.0.1", false, true),
    // Private and shared.
    ("10.0.0.1", false, false),
    ("10.1.2.3", false, true),
    ("172.16.0.1", false, false),
    ("172.31.255.255", false, false),
    ("172.32.0.1", true, true),
    ("192.168.1.1", false, false),
    ("100.64.0.1", false, false),
    ("100.127.255.254", false, false),
    ("100.128.0.1", true, true),
    // Link-local, multicast, broadcast, "this network", reserved.
    ("169.254.169.254", false, false),
    ("224.0.0.1", false, false),
    ("239.255.255.250", false, false),
    ("255.255.255.255", false, false),
    ("0.0.0.0", false, false),
    ("0.1.2.3", false, false),
    ("240.0.0.1", false, false),
    // IANA special purpose IPv4.
    ("192.0.0.8", false, false),
    ("192.0.2.1", false, false),
    ("198.18.0.1", false, false),
    ("198.19.255.1", false, false),
    ("198.51.100.7", false, false),
    ("203.0.113.9", false, false),
    ("192.88.99.1", false, false),
    // IPv6 special ranges.
    ("::", false, false),
    ("fe80::1", false, false),
    ("fc00::1", false, false),
    ("fd12:3456::1", false, true),
    ("ff02::1", false, false),
    ("ff0e::1", false, false),
    ("2001:db8::1", false, false),
    ("3fff::1", false, false),
    ("100::1", false, false),
    ("fec0::1", false, false),
    // Transition forms.
    ("::ffff:10.0.0.1", false, false),
    ("::ffff:192.168.0.1", false, false),
    ("::ffff:8.8.8.8", true, true),
    ("::10.0.0.1", false, false),
    ("64:ff9b::a00:1", false, false),
    ("64:ff9b::808:808", true, true),
    ("64:ff9b:1::1", false, false),
    ("2002:c0a8:101::1", false, false),
    ("2002:808:808::1", false, false),
    ("2001::1", false, false),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", false, false),
];

#[test]
fn the_table_holds() {
    assert!(TABLE.len() >= 30);
    let default = PeerPolicy::default();
    let open = PeerPolicy { allow_loopback: true, allow: vec!["10.1.0.0/16".parse().unwrap(), "fd00::/8".parse().unwrap()] };
    for &(addr, by_default, with_allow) in TABLE {
        let ip: IpAddr = addr.parse().unwrap();
        assert_eq!(default.is_allowed(ip), by_default, "{addr} by default");
        assert_eq!(open.is_allowed(ip), with_allow, "{addr} with allow list");
    }
}

#[test]
fn an_allow_list_entry_overrides_everything() {
    let all = PeerPolicy { allow_loopback: false, allow: vec!["0.0.0.0/0".parse::<Cidr>().unwrap(), "::/0".parse().unwrap()] };
    for &(addr, _, _) in TABLE {
        assert!(all.is_allowed(addr.parse().unwrap()), "{addr}");
    }
}
