//! Support for the Ethereum `GeneralStateTest` fixtures (ethereum/tests
//! `GeneralStateTests` and execution-spec-tests `state_tests`).
//!
//! [`fixture`] is a pure data model: it parses a fixture file and resolves
//! its test vectors, but executes nothing. Running a vector (building the
//! pre-state, applying the transaction with ferrite's interpreter, comparing
//! the state root from [`ferrite_state::trie`] and the logs hash) belongs to the
//! runner, so the model stays independent of the interpreter and can be
//! tested on its own. [`vmtest`] models and runs the legacy VM tests (one frame, no
//! transaction). With the `revm-oracle` feature, `revm_state` runs the same vectors through the
//! alloy-evm adapter (`ferrite-evm`) over revm's in-memory database, judged by the same
//! [`runner::judge`].

pub mod fixture;
#[cfg(feature = "revm-oracle")]
pub mod revm_state;
pub mod runner;
pub mod vmtest;

/// The ethtests folder the conformance suites read, from `$FERRITE_ETHTESTS`; a relative path is
/// taken from the workspace root, where `.ci/run` and the README run cargo (each crate's tests
/// run in its own folder).
///
/// # Panics
/// When the variable is unset: the suites that call this are `#[ignore]`d without it, so running
/// one anyway is an error, not a pass.
pub fn ethtests_root() -> std::path::PathBuf {
    let root = std::env::var_os("FERRITE_ETHTESTS")
        .expect("FERRITE_ETHTESTS names the ethtests folder (this test is ignored without it)");
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(root)
}
