//! The saved AFL++ corpora and every crash found (`bench/fuzz`) replayed through the `picture`,
//! `calendar` and `message` targets' bodies, which assert their own invariants.

#[path = "../../../../bench/fuzz/replay.rs"]
mod replay;

#[test]
fn picture_corpus_and_crashes_replay() {
    replay::replay("picture", bureau_office::fuzzing::picture);
}

#[test]
fn calendar_corpus_and_crashes_replay() {
    replay::replay("calendar", bureau_office::fuzzing::calendar);
}

#[test]
fn message_corpus_and_crashes_replay() {
    replay::replay("message", bureau_office::fuzzing::message);
}
