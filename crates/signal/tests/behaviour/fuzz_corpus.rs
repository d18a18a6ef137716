//! The saved AFL++ corpus and every crash found (`bench/fuzz`) replayed through the
//! `signal_json` target's body, which asserts its own invariants.

#[path = "../../../../bench/fuzz/replay.rs"]
mod replay;

#[test]
fn signal_json_corpus_and_crashes_replay() {
    replay::replay("signal_json", bureau_signal::fuzzing::signal_json);
}
