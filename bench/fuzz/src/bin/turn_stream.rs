//! AFL++ target: [`bureau_stun::fuzzing::turn_stream`].

fn main() {
    afl::fuzz!(|data: &[u8]| bureau_stun::fuzzing::turn_stream(data));
}
