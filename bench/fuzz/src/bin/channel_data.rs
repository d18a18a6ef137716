//! AFL++ target: [`bureau_stun::fuzzing::channel_data`].

fn main() {
    afl::fuzz!(|data: &[u8]| bureau_stun::fuzzing::channel_data(data));
}
