//! Replays a fuzz target's saved corpus and every crash found (`bench/fuzz/corpus/<target>/`,
//! `bench/fuzz/crashes/<target>/`) through the target's body. Included with `#[path]` by the
//! replay tests of the crates that own the bodies (`crates/stun/tests/fuzz_corpus.rs`,
//! `crates/signal/tests/behaviour/fuzz_corpus.rs`, `crates/office/tests/behaviour/fuzz_corpus.rs`),
//! so `cargo test` runs them without AFL++.

use std::path::{Path, PathBuf};

/// Fewer files than this in a corpus folder means it was lost, not minimised.
const MIN_CORPUS: usize = 10;

/// Runs `body` on every file of the corpus and of the crashes of `target`; fails naming the
/// first file it panics on, or when the corpus is missing or nearly empty.
pub fn replay(target: &str, body: fn(&[u8])) {
    // Every crate that includes this file is in crates/<name>/.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/fuzz");
    let corpus = files(&root.join("corpus").join(target));
    assert!(corpus.len() >= MIN_CORPUS, "bench/fuzz/corpus/{target} has {} files (bench/fuzz/README.md says how to make it)", corpus.len());
    // The crashes folder exists only once a crash was found.
    let crashes = files(&root.join("crashes").join(target));
    for path in corpus.iter().chain(&crashes) {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        if std::panic::catch_unwind(|| body(&bytes)).is_err() {
            panic!("{target} fails on {}", path.display());
        }
    }
}

/// The files of `dir`, sorted; none when it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
    files.sort();
    files
}
