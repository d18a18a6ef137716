//! The saved AFL++ corpus and every crash found (`bench/fuzz`) replayed through the fuzz
//! targets' bodies, which assert their own invariants: no panic, round trips, integrity.

#[path = "../../../bench/fuzz/replay.rs"]
mod replay;

use bureau_stun::fuzzing;
use replay::replay;

#[test]
fn stun_message_corpus_and_crashes_replay() {
    replay("stun_message", fuzzing::stun_message);
}

#[test]
fn channel_data_corpus_and_crashes_replay() {
    replay("channel_data", fuzzing::channel_data);
}

#[test]
fn turn_stream_corpus_and_crashes_replay() {
    replay("turn_stream", fuzzing::turn_stream);
}
