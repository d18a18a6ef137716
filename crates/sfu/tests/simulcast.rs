//! Simulcast through the room: str0m clients offer video in three layers as browsers do
//! (`a=simulcast:send l;m;h`), and each receiver gets one layer of each sender — the one its
//! link carries, switching at a key frame of the new layer without a gap in what it receives.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bureau_sfu::{Layer, Room, SdpOffer};
use common::{Link, Received, World};

/// The layers (as tags: `l`, `m`, `h`, or `-` for one layer) of the key-frame-or-not packets
/// that start frames `receiver` got from `sender` after `since`.
fn layers_since(w: &World, receiver: usize, sender: usize, since: Instant) -> Vec<char> {
    w.clients[receiver].video_from(sender).iter().filter(|r| r.at >= since).filter_map(|r| r.layer).collect()
}

fn only(layers: &[char], layer: char) -> bool {
    !layers.is_empty() && layers.iter().all(|l| *l == layer)
}

#[test]
fn a_browser_offer_of_three_simulcast_layers_is_answered_for_all_three() {
    // As Chromium writes it: rids and a=simulcast, no SSRCs for the layers.
    let offer = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
        a=group:BUNDLE 0 1\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS s\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n\
        a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=ice-options:trickle\r\n\
        a=fingerprint:sha-256 12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0\r\n\
        a=setup:actpass\r\na=mid:0\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n\
        a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n\
        a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=sendonly\r\na=msid:s a\r\na=rtcp-mux\r\n\
        a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n\
        a=ssrc:1001 cname:c\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n\
        a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=ice-options:trickle\r\n\
        a=fingerprint:sha-256 12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0\r\n\
        a=setup:actpass\r\na=mid:1\r\na=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n\
        a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n\
        a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\na=sendonly\r\na=msid:s v\r\na=rtcp-mux\r\na=rtcp-rsize\r\n\
        a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 goog-remb\r\na=rtcp-fb:96 transport-cc\r\na=rtcp-fb:96 ccm fir\r\n\
        a=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n\
        a=rid:l send\r\na=rid:m send\r\na=rid:h send\r\na=simulcast:send l;m;h\r\n";
    let offer = SdpOffer::from_sdp_string(offer).unwrap();
    let local: SocketAddr = common::ROOM.parse().unwrap();
    let mut room = Room::new(local, Instant::now());
    let (_, answer) = room.join(Instant::now(), offer, "chromium").unwrap();
    let answer = answer.to_sdp_string();
    for line in ["a=simulcast:recv l;m;h", "a=rid:l recv", "a=rid:m recv", "a=rid:h recv", "a=rtpmap:96 VP8/90000", "a=rtpmap:111 opus/48000/2"] {
        assert!(answer.contains(line), "the answer has {line}:\n{answer}");
    }
}

#[test]
fn each_layer_a_sender_offers_reaches_a_receiver_that_asks_for_it() {
    let mut w = World::new(&[3, 3]);
    w.run(Duration::from_secs(3));
    let (a, b) = (w.clients[0].id, w.clients[1].id);
    assert!(only(&layers_since(&w, 1, 0, w.now - Duration::from_secs(1)), 'h'), "a good link gets the high layer");
    for (max, tag) in [(Layer::Low, 'l'), (Layer::Medium, 'm'), (Layer::High, 'h')] {
        w.room.set_max_layer(b, a, max);
        // Up again, the estimate has to climb first (str0m probes towards what the layers
        // allowed need).
        w.run(Duration::from_secs(4));
        let since = w.now - Duration::from_secs(1);
        assert!(only(&layers_since(&w, 1, 0, since), tag), "capped at {max:?}: {:?}", layers_since(&w, 1, 0, since));
        assert_eq!(w.room.forwarded_layer(b, a), Some(max));
        // The other direction is untouched.
        assert!(only(&layers_since(&w, 0, 1, since), 'h'));
    }
}

#[test]
fn a_lossy_receiver_gets_the_low_layer_while_the_others_keep_the_high_one() {
    let mut w = World::new(&[3, 3, 3]);
    w.run(Duration::from_secs(3));
    let lossy = w.clients[2].addr;
    w.net.set_link(lossy, Link::lossy(0.2));
    w.run(Duration::from_secs(10));
    assert!(w.net.dropped > 100, "the link dropped {}", w.net.dropped);
    let since = w.now - Duration::from_secs(3);
    for (receiver, sender) in [(2, 0), (2, 1)] {
        let got = layers_since(&w, receiver, sender, since);
        assert!(only(&got, 'l'), "the lossy receiver {receiver} gets {sender}'s low layer: {got:?}");
    }
    for (receiver, sender) in [(0, 1), (0, 2), (1, 0), (1, 2)] {
        let got = layers_since(&w, receiver, sender, since);
        assert!(only(&got, 'h'), "receiver {receiver} keeps {sender}'s high layer: {got:?}");
    }
    // What the link lost, the room sent again (str0m answers the receiver's NACKs with RTX):
    // without it the receiver would have 80 % of the packets.
    for sender in [0, 1] {
        let got = w.clients[2].video_from(sender);
        let settled = w.now - Duration::from_millis(500);
        // From the first packet of the window to the last one that had time to be repaired.
        // (A repair of an older packet can arrive in the window: the window starts after the
        // highest number received before it.)
        let first = got.iter().filter(|r| r.at < since).map(|r| r.seq).max().unwrap() + 1;
        let last = got.iter().rfind(|r| r.at < settled).unwrap().seq;
        let mut seqs: Vec<u64> = got.iter().map(|r| r.seq).filter(|s| (first..=last).contains(s)).collect();
        seqs.sort_unstable();
        seqs.dedup();
        let share = seqs.len() as f64 / (last - first + 1) as f64;
        // Not all: a few are never repaired (their repairs lost too, or str0m's cap on repairs,
        // 30 % of what it sends, reached; not traced). Over 20 runs (str0m's own randomness
        // varies the timing) the share was 87 % (11 of 86 missing) to 100 %; asking 95 % failed
        // one run in three, before this session's changes to the room too.
        assert!(share > 0.85, "the lossy receiver got {:.1} % of {sender}'s packets", share * 100.0);
    }
    // The link heals: the receiver climbs back (the room probes its link for more).
    w.net.set_link(lossy, Link::default());
    w.run(Duration::from_secs(20));
    let since = w.now - Duration::from_secs(2);
    for (receiver, sender) in [(2, 0), (2, 1)] {
        let got = layers_since(&w, receiver, sender, since);
        assert!(only(&got, 'h'), "the healed receiver gets {sender}'s high layer again: {got:?}");
    }
}

#[test]
fn a_slow_receiver_gets_the_low_layer_while_the_others_keep_the_high_one() {
    let mut w = World::new(&[3, 3, 3]);
    w.run(Duration::from_secs(3));
    // 250 kbit/s: two low layers and two audio streams fit, two medium layers do not.
    let slow = w.clients[2].addr;
    w.net.set_link(slow, Link::capped(250_000));
    w.run(Duration::from_secs(12));
    let since = w.now - Duration::from_secs(3);
    for (receiver, sender) in [(2, 0), (2, 1)] {
        let got = layers_since(&w, receiver, sender, since);
        assert!(only(&got, 'l'), "the slow receiver gets {sender}'s low layer: {got:?}");
    }
    for (receiver, sender) in [(0, 1), (0, 2), (1, 0), (1, 2)] {
        let got = layers_since(&w, receiver, sender, since);
        assert!(only(&got, 'h'), "receiver {receiver} keeps {sender}'s high layer: {got:?}");
    }
    // The cap goes: the room's next probe finds the room on the link (probes that found nothing
    // have been backing off, so this takes a while).
    w.net.set_link(slow, Link::default());
    w.run(Duration::from_secs(40));
    let since = w.now - Duration::from_secs(2);
    for (receiver, sender) in [(2, 0), (2, 1)] {
        let got = layers_since(&w, receiver, sender, since);
        assert!(only(&got, 'h'), "the receiver gets {sender}'s high layer again: {got:?}");
    }
}

/// Checks that `packets` (of one sender's video to one receiver) are one stream: one SSRC,
/// sequence numbers one after the other, times never going back, VP8 picture ids one frame after
/// the other; each run of a layer after the first starts with a key frame. Returns the layers in
/// the order they came.
fn check_one_stream(packets: &[&Received]) -> Vec<char> {
    let ssrc = packets[0].ssrc;
    let mut runs: Vec<char> = Vec::new();
    for pair in packets.windows(2) {
        let (p, q) = (pair[0], pair[1]);
        assert_eq!(q.ssrc, ssrc, "one SSRC for the receiver, whatever the layer");
        assert_eq!(q.seq, p.seq + 1, "sequence numbers continue: {p:?} then {q:?}");
        assert!(q.timestamp.wrapping_sub(p.timestamp) < 90_000, "time goes on, by less than a second: {p:?} then {q:?}");
    }
    let starts: Vec<&&Received> = packets.iter().filter(|r| r.start).collect();
    for pair in starts.windows(2) {
        let (p, q) = (pair[0], pair[1]);
        assert!(q.timestamp != p.timestamp, "a frame has a time of its own: {p:?} then {q:?}");
        assert_eq!(q.picture_id, p.picture_id.map(|id| (id + 1) & 0x7fff), "picture ids continue: {p:?} then {q:?}");
    }
    for r in packets {
        if let Some(layer) = r.layer
            && runs.last() != Some(&layer)
        {
            assert!(runs.is_empty() || r.keyframe, "a new layer starts with a key frame: {r:?}");
            runs.push(layer);
        }
    }
    runs
}

#[test]
fn a_layer_switch_waits_for_a_key_frame_and_the_receiver_sees_one_stream() {
    let mut w = World::new(&[3, 3]);
    w.run(Duration::from_secs(3));
    let (a, b) = (w.clients[0].id, w.clients[1].id);
    let start = w.now;
    w.room.set_max_layer(b, a, Layer::Low);
    w.run(Duration::from_secs(2));
    w.room.set_max_layer(b, a, Layer::High);
    w.run(Duration::from_secs(2));
    let got = w.clients[1].video_from(0);
    let after: Vec<&Received> = got.into_iter().filter(|r| r.at >= start - Duration::from_millis(500)).collect();
    assert_eq!(check_one_stream(&after), ['h', 'l', 'h'], "down to the low layer and back");
    // The switches asked the sender for key frames of the layers switched to.
    let asked = &w.clients[0].keyframe_requests;
    assert!(asked.contains(&Some("l".into())) && asked.iter().filter(|r| **r == Some("h".into())).count() >= 2, "{asked:?}");
}

#[test]
fn a_sender_without_simulcast_is_forwarded_as_it_sends() {
    let mut w = World::new(&[1, 3]);
    w.run(Duration::from_secs(4));
    let since = w.now - Duration::from_secs(2);
    assert!(only(&layers_since(&w, 1, 0, since), '-'), "the one layer");
    assert!(only(&layers_since(&w, 0, 1, since), 'h'));
}
