//! Conformance through the alloy-evm adapter: the state tests run as `ferrite statetest --state
//! revm` runs them ([`ferrite_tools::statetest::revm_state`]): pre-state in revm's in-memory
//! database, the transaction through `ferrite-evm`, the root computed from the database.
//!
//! `vendored_fixtures` runs the sample under `tests/fixtures/ethtests` (always available) but
//! [`SLOW`]: every vector passes except those of plain `Constantinople`, which revm does not
//! model and which must be reported skipped with that reason. `full_suite` runs `GeneralStateTests` and
//! `EEST/state_tests` under `$FERRITE_ETHTESTS` (ignored without it, like `tests/statetests.rs`).
//! Both run on the interpreter only: the tiers are the native suites' business, and the adapter
//! adds nothing tier-specific.
//!
//! EIP-7610 (CREATE onto an address that has storage but neither code nor nonce must collide)
//! needs "has this account storage?", which revm's `Database` trait cannot answer; the runner
//! gives the adapter a storage probe over revm's in-memory database
//! (`FerriteEvm::set_storage_probe`), so those vectors must pass too. A failure of that kind is
//! still told apart (a state-root mismatch alone, in a test whose pre-state holds such an
//! account) so that a regression names its cause.

use ferrite_evm::FerriteEvmFactory;
use ferrite_tools::statetest::runner::{self, CaseResult, Filter};
use ferrite_tools::statetest::{ethtests_root, fixture, revm_state};
use std::path::{Path, PathBuf};

/// The one file of the sample that takes seconds (a 2^20-iteration MUL loop per vector: the
/// interpreter's business, not the adapter's); `full_suite` runs it.
const SLOW: &str = "VMTests/vmPerformance/loopMul.json";

/// What a run found.
#[derive(Default)]
struct Outcome {
    passed: usize,
    skipped: Vec<CaseResult>,
    /// EIP-7610 vectors (module docs), as `file: result`.
    eip7610: Vec<String>,
    /// Anything else that failed.
    failed: Vec<String>,
}

/// Whether test `name` of `file` has an account with storage but no code and a zero nonce.
fn has_storage_only_account(file: &Path, name: &str) -> bool {
    let Ok(units) = fixture::load_file(file) else {
        return false;
    };
    units.get(name).is_some_and(|u| {
        u.pre
            .values()
            .any(|a| a.code.is_empty() && a.nonce == 0 && a.storage.values().any(|v| !v.is_zero()))
    })
}

/// Runs every file under `dirs` but those ending in one of `skip`.
fn run_dirs(dirs: &[PathBuf], skip: &[&str]) -> Outcome {
    let filter = Filter::default();
    let factory: FerriteEvmFactory = revm_state::factory(&filter);
    let mut out = Outcome::default();
    for dir in dirs {
        for f in runner::collect_files(dir).expect("fixture folder readable") {
            // Blockchain tests are `tests/blocktests.rs`'.
            if skip.iter().any(|s| f.ends_with(s))
                || f.components().any(|c| c.as_os_str() == "BlockchainTests")
            {
                continue;
            }
            for r in revm_state::run_file(&f, &filter, &factory) {
                if r.pass {
                    out.passed += 1;
                } else if r.skipped.is_some() {
                    out.skipped.push(r);
                } else {
                    let root_only = r
                        .error
                        .as_deref()
                        .is_some_and(|e| e.starts_with("state root") && !e.contains(';'));
                    let line = format!("{}: {}", f.display(), r.describe());
                    if root_only && has_storage_only_account(&f, &r.name) {
                        out.eip7610.push(line);
                    } else {
                        out.failed.push(line);
                    }
                }
            }
        }
    }
    let c = factory.counters();
    assert_eq!(
        c.inspected + c.unsupported,
        0,
        "every transaction ran on ferrite: {c:?}"
    );
    println!(
        "{} passed, {} skipped, {} EIP-7610, {} failed",
        out.passed,
        out.skipped.len(),
        out.eip7610.len(),
        out.failed.len()
    );
    for line in &out.eip7610 {
        println!("EIP-7610 (storage-only account not seen as a collision): {line}");
    }
    out
}

#[test]
fn vendored_fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ethtests");
    let out = run_dirs(&[dir], &[SLOW]);
    assert!(out.failed.is_empty(), "failing:\n{}", out.failed.join("\n"));
    assert!(out.eip7610.is_empty(), "the sample has no EIP-7610 vector");
    for r in &out.skipped {
        assert_eq!(r.fork, "Constantinople", "only Constantinople is skipped");
        assert!(
            r.skipped
                .as_deref()
                .is_some_and(|s| s.contains("no revm spec")),
            "skipped with the reason: {}",
            r.describe()
        );
    }
    assert!(
        !out.skipped.is_empty(),
        "the sample has Constantinople vectors"
    );
    assert!(out.passed >= 150, "only {} vectors passed", out.passed);
}

#[test]
#[ignore = "needs FERRITE_ETHTESTS (.ci/run sets it and runs --include-ignored)"]
fn full_suite() {
    let root = ethtests_root();
    let out = run_dirs(
        &[
            root.join("GeneralStateTests"),
            root.join("EEST").join("state_tests"),
        ],
        &[],
    );
    assert!(out.failed.is_empty(), "failing:\n{}", out.failed.join("\n"));
    assert!(
        out.eip7610.is_empty(),
        "EIP-7610 collisions missed:\n{}",
        out.eip7610.join("\n")
    );
    let skipped: Vec<String> = out.skipped.iter().map(CaseResult::describe).collect();
    assert!(skipped.is_empty(), "skipped:\n{}", skipped.join("\n"));
    assert!(out.passed >= 19_000, "only {} vectors passed", out.passed);
}
