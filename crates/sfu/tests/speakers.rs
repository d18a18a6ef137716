//! Active speaker and last N: the room reads the audio level of each sender's packets (RFC
//! 6464), puts the loudest speaker first in the order it tells (`Output::Speakers`), and
//! forwards to each receiver the videos of the last N speakers only — everyone's audio always.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::World;

/// The senders whose video `receiver` got after `since`.
fn videos_from(w: &World, receiver: usize, since: Instant) -> Vec<usize> {
    let mut from: Vec<usize> = w.clients[receiver].received.iter().filter(|r| r.at >= since && r.kind == str0m::media::MediaKind::Video).filter_map(|r| r.from).collect();
    from.sort_unstable();
    from.dedup();
    from
}

/// The senders whose audio `receiver` got after `since`.
fn audio_from(w: &World, receiver: usize, since: Instant) -> Vec<usize> {
    let mut from: Vec<usize> = w.clients[receiver].received.iter().filter(|r| r.at >= since && r.kind == str0m::media::MediaKind::Audio).filter_map(|r| r.from).collect();
    from.sort_unstable();
    from.dedup();
    from
}

#[test]
fn the_loudest_speaker_comes_first_and_last_n_follows_the_speakers() {
    let mut w = World::new(&[3, 3, 3]);
    // Ada speaks at -20 dBov, Bea murmurs at -60, Cyd's microphone hears a quiet room (-100).
    w.clients[0].level = 20;
    w.clients[1].level = 60;
    w.run(Duration::from_secs(4));
    let ids: Vec<_> = w.clients.iter().map(|c| c.id).collect();
    let (order_at, order) = w.speakers.last().cloned().expect("the room told the order of speakers");
    assert_eq!(order[0], ids[0], "the loudest first: {order:?}");
    assert_eq!(w.room.speakers(), order.as_slice());
    assert!(order_at - w.start < Duration::from_secs(4));
    for pair in w.speakers.windows(2) {
        assert!(pair[1].0 - pair[0].0 >= Duration::from_millis(500), "told at most every half second");
    }
    // With every video, everyone gets the others' videos.
    let since = w.now - Duration::from_secs(1);
    assert_eq!(videos_from(&w, 2, since), [0, 1]);

    // Last N = 1: Bea and Cyd get Ada's video only; Ada gets the next in the order (Bea, who
    // joined before Cyd); everyone still hears everyone.
    w.room.set_last_n(1);
    w.run(Duration::from_secs(2));
    let since = w.now - Duration::from_secs(1);
    assert_eq!(videos_from(&w, 1, since), [0]);
    assert_eq!(videos_from(&w, 2, since), [0]);
    assert_eq!(videos_from(&w, 0, since), [1]);
    assert_eq!(audio_from(&w, 0, since), [1, 2]);
    assert_eq!(audio_from(&w, 1, since), [0, 2]);
    assert_eq!(audio_from(&w, 2, since), [0, 1]);
    // The levels reach the receivers too (their browsers show who speaks).
    let levels: Vec<Option<i8>> = w.clients[2].received.iter().filter(|r| r.at >= since && r.from == Some(0) && r.level.is_some()).map(|r| r.level).collect();
    assert!(!levels.is_empty() && levels.iter().all(|l| *l == Some(-20)), "{levels:?}");

    // Cyd speaks up, Ada falls silent: Cyd comes first, and the others get Cyd's video — from a
    // key frame on, which the room asked Cyd for.
    w.clients[0].level = 127;
    w.clients[2].level = 15;
    let asked_before = w.clients[2].keyframe_requests.len();
    let change = w.now;
    w.run(Duration::from_secs(3));
    assert_eq!(w.room.speakers()[0], ids[2], "{:?}", w.room.speakers());
    let since = w.now - Duration::from_secs(1);
    assert_eq!(videos_from(&w, 1, since), [2]);
    assert_eq!(videos_from(&w, 0, since), [2]);
    assert_eq!(videos_from(&w, 2, since), [0], "Cyd gets Ada's, the speaker before");
    assert!(w.clients[2].keyframe_requests.len() > asked_before, "a key frame was asked of Cyd");
    let first = w.clients[1].received.iter().find(|r| r.at >= change && r.from == Some(2) && r.kind == str0m::media::MediaKind::Video).unwrap();
    assert!(first.keyframe, "Cyd's video comes back with a key frame: {first:?}");
}

#[test]
fn a_shared_screen_goes_to_everyone_whoever_speaks() {
    let mut w = World::new(&[3, 3, 1]);
    w.clients[0].level = 20;
    w.room.set_last_n(1);
    w.run(Duration::from_secs(3));
    let since = w.now - Duration::from_secs(1);
    assert_eq!(videos_from(&w, 1, since), [0]);
    // Cyd, silent, shares a screen (one layer, on the video track the camera had).
    let cyd = w.clients[2].id;
    w.room.set_sharing_screen(cyd, true);
    w.run(Duration::from_secs(2));
    let since = w.now - Duration::from_secs(1);
    assert_eq!(videos_from(&w, 1, since), [0, 2], "Bea gets the speaker and the screen");
    assert_eq!(videos_from(&w, 0, since), [1, 2], "Ada gets the next speaker and the screen");
    w.room.set_sharing_screen(cyd, false);
    w.run(Duration::from_secs(2));
    let since = w.now - Duration::from_secs(1);
    assert_eq!(videos_from(&w, 1, since), [0], "the screen shared no more, Cyd's camera is not among the last N");
}
