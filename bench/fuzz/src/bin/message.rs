//! AFL++ target: [`bureau_office::fuzzing::message`].

fn main() {
    afl::fuzz!(|data: &[u8]| bureau_office::fuzzing::message(data));
}
