//! AFL++ target: [`bureau_signal::fuzzing::signal_json`].

fn main() {
    afl::fuzz!(|data: &[u8]| bureau_signal::fuzzing::signal_json(data));
}
