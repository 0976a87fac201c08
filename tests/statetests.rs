//! Conformance: the official Ethereum state tests.
//!
//! `vendored_fixtures` runs the small sample under `tests/fixtures/ethtests` (always available),
//! including legacy multi-fork files that pin the transaction-layer rules of old forks.
//! `full_suite_*` run every case under `$FERRITE_ETHTESTS` (`GeneralStateTests`, `EEST` and the
//! multi-fork `LegacyTests/Cancun/GeneralStateTests` but its two slow files); they
//! are ignored by default (`cargo test -- --include-ignored` with the variable set runs them, as
//! `.ci/run` does) and fail, rather than pass, if run without it. Each runs on every tier: the interpreter,
//! the JIT (`Mode::Jit`), and `auto` — one tiered `Engine` for the whole run, as
//! `ferrite statetest --engine auto` does, so contracts switch tiers mid-run.

use ferrite::engine::{CompilerPriority, Engine, EngineConfig};
use ferrite_state::Mode;
use ferrite_tools::statetest::ethtests_root;
use ferrite_tools::statetest::runner::{self, CaseResult, Filter};
use std::path::Path;
use std::sync::Arc;

/// A tier: a `Mode`, or `None` for a tiered engine (auto mode, default threshold) shared by the
/// whole run, as `ferrite statetest --engine auto` does.
fn filter(mode: Option<Mode>) -> Filter {
    match mode {
        Some(mode) => Filter {
            mode,
            ..Filter::default()
        },
        None => Filter {
            engine: Some(Arc::new(Engine::new(EngineConfig {
                compiler_priority: CompilerPriority::Normal,
                ..EngineConfig::default()
            }))),
            ..Filter::default()
        },
    }
}

/// The two files of the legacy multi-fork set that take minutes (BLAKE2 with 2^32 − 1 rounds;
/// a 2^20-iteration MUL loop per vector): run by `legacy_time_consuming`, not the full suites.
const SLOW_LEGACY: [&str; 2] = [
    "stTimeConsuming/CALLBlake2f_MaxRounds.json",
    "VMTests/vmPerformance/loopMul.json",
];

fn run_dir(dir: &Path, filter: &Filter) -> Vec<CaseResult> {
    let files = runner::collect_files(dir).expect("fixture folder readable");
    let mut out = Vec::new();
    for f in files {
        // Only the legacy copies: `GeneralStateTests/` has its own `loopMul.json`, which runs.
        // Blockchain tests are `tests/blocktests.rs`'.
        if SLOW_LEGACY
            .iter()
            .any(|s| f.ends_with(Path::new(LEGACY).join(s)))
            || f.components().any(|c| c.as_os_str() == "BlockchainTests")
        {
            continue;
        }
        out.extend(runner::run_file(&f, filter));
    }
    out
}

fn assert_all_pass(results: &[CaseResult], min_cases: usize) {
    let failed: Vec<String> = results
        .iter()
        .filter(|r| !r.pass)
        .map(CaseResult::describe)
        .collect();
    println!("{} cases, {} not passing", results.len(), failed.len());
    assert!(failed.is_empty(), "failing cases:\n{}", failed.join("\n"));
    assert!(
        results.len() >= min_cases,
        "only {} cases ran, expected at least {min_cases}",
        results.len()
    );
}

fn vendored(mode: Option<Mode>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ethtests");
    let filter = filter(mode);
    let results = run_dir(&dir, &filter);
    assert_all_pass(&results, 150);
    report_engine(&filter);
}

fn report_engine(filter: &Filter) {
    if let Some(e) = &filter.engine {
        e.wait_idle();
        let s = e.stats();
        println!("engine: {s}");
        assert!(s.compiles > 0, "some contract was compiled: {s:?}");
    }
}

fn full(mode: Option<Mode>) {
    let root = ethtests_root();
    let filter = filter(mode);
    let mut results = run_dir(&root.join("GeneralStateTests"), &filter);
    results.extend(run_dir(&root.join("EEST"), &filter));
    assert_all_pass(&results, 19_000);
    let legacy = run_dir(&root.join(LEGACY), &filter);
    assert_all_pass(&legacy, 100_000);
    report_engine(&filter);
}

/// The multi-fork legacy state tests, Frontier → Cancun.
const LEGACY: &str = "LegacyTests/Cancun/GeneralStateTests";

#[test]
fn vendored_fixtures_interpreter() {
    vendored(Some(Mode::Interp));
}

#[test]
fn vendored_fixtures_jit() {
    vendored(Some(Mode::Jit));
}

#[test]
fn vendored_fixtures_auto() {
    vendored(None);
}

#[test]
#[ignore = "needs FERRITE_ETHTESTS (.ci/run sets it and runs --include-ignored)"]
fn full_suite_interpreter() {
    full(Some(Mode::Interp));
}

#[test]
#[ignore = "needs FERRITE_ETHTESTS (.ci/run sets it and runs --include-ignored)"]
fn full_suite_jit() {
    full(Some(Mode::Jit));
}

#[test]
#[ignore = "needs FERRITE_ETHTESTS (.ci/run sets it and runs --include-ignored)"]
fn full_suite_auto() {
    full(None);
}

/// The two slow legacy files on the interpreter and the JIT. Minutes even in release: `.ci/run`
/// skips it (`--skip legacy_time_consuming`); run it with
/// `cargo test --release --test statetests -- --ignored legacy_time_consuming`.
#[test]
#[ignore = "slow (minutes), needs FERRITE_ETHTESTS: run it by name with --ignored"]
fn legacy_time_consuming() {
    let dir = ethtests_root().join(LEGACY);
    for mode in [Mode::Interp, Mode::Jit] {
        let filter = filter(Some(mode));
        let mut results = Vec::new();
        for f in SLOW_LEGACY {
            results.extend(runner::run_file(&dir.join(f), &filter));
        }
        assert_all_pass(&results, 2);
    }
}
