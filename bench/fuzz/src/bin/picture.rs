//! AFL++ target: [`bureau_office::fuzzing::picture`].

fn main() {
    afl::fuzz!(|data: &[u8]| bureau_office::fuzzing::picture(data));
}
