//! A big room: every receiver gets everyone's audio as it comes, however many packets a second
//! that makes. The room's timer fires on whole milliseconds, as the driver's does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::World;
use str0m::media::MediaKind;

#[test]
fn each_of_thirty_one_participants_gets_the_audio_of_the_thirty_others() {
    // Audio only: 30 senders at 50 packets a second, 1,500 a second for each receiver (str0m's
    // pacer, given the time at the driver's timer alone, let about 1,200 through here).
    let mut w = World::new(&[0; 31]);
    let n = w.clients.len();
    w.run(Duration::from_secs(4));
    let since = w.now - Duration::from_secs(1);
    for (i, c) in w.clients.iter().enumerate() {
        let mut per_sender = vec![0usize; n];
        for r in c.received.iter().filter(|r| r.kind == MediaKind::Audio && r.at >= since) {
            per_sender[r.from.expect("tagged")] += 1;
        }
        let others: Vec<usize> = (0..n).filter(|j| *j != i).map(|j| per_sender[j]).collect();
        // 50 frames a second each, give or take the one at either end of the second.
        assert!(others.iter().all(|n| (49..=51).contains(n)), "participant {i} got, per sender, in the last second: {others:?}");
    }
}

#[test]
fn a_muted_microphone_goes_to_nobody_and_its_voice_comes_back_without_a_gap_in_numbers() {
    let mut w = World::new(&[0, 0, 0]);
    w.run(Duration::from_secs(2));
    // Ada mutes: her browser goes on sending digital silence (-127 dBov) every 20 ms.
    w.clients[0].level = 127;
    w.run(Duration::from_millis(500));
    let muted = w.now;
    w.run(Duration::from_secs(1));
    for (receiver, other) in [(1, 2), (2, 1)] {
        let heard = w.clients[receiver].received.iter().filter(|r| r.from == Some(0) && r.at > muted).count();
        assert_eq!(heard, 0, "silence is not forwarded");
        let open = w.clients[receiver].received.iter().filter(|r| r.from == Some(other) && r.at > muted).count();
        assert!(open >= 49, "an open microphone in a quiet room still is: {open} packets");
    }
    // She speaks again: her packets flow, numbered on from the last one before the silence.
    w.clients[0].level = 30;
    let back = w.now;
    w.run(Duration::from_secs(1));
    for receiver in [1, 2] {
        let from_ada: Vec<u64> = w.clients[receiver].received.iter().filter(|r| r.from == Some(0)).map(|r| r.seq).collect();
        let after = w.clients[receiver].received.iter().filter(|r| r.from == Some(0) && r.at > back).count();
        assert!(after >= 49, "her voice is back: {after} packets");
        assert!(from_ada.windows(2).all(|p| p[1] == p[0] + 1), "one numbering, no gap: {from_ada:?}");
    }
}
