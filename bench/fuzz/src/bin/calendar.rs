//! AFL++ target: [`bureau_office::fuzzing::calendar`].

fn main() {
    afl::fuzz!(|data: &[u8]| bureau_office::fuzzing::calendar(data));
}
