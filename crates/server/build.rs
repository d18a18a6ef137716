//! Rebuilds the server when the embedded web client changes (`include_dir!` alone does not
//! tell cargo which files it read).
fn main() {
    println!("cargo:rerun-if-changed=../../web");
}
