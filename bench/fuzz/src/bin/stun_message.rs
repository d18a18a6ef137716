//! AFL++ target: [`bureau_stun::fuzzing::stun_message`].

fn main() {
    afl::fuzz!(|data: &[u8]| bureau_stun::fuzzing::stun_message(data));
}
