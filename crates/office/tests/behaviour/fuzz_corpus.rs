//! The saved AFL++ corpus and every crash found (`bench/fuzz`) replayed through the `picture`
//! target's body, which asserts its own invariants.

#[path = "../../../../bench/fuzz/replay.rs"]
mod replay;

#[test]
fn picture_corpus_and_crashes_replay() {
    replay::replay("picture", bureau_office::fuzzing::picture);
}
