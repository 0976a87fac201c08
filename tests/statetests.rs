//! Conformance: the official Ethereum state tests.
//!
//! `vendored_fixtures` runs the small sample under `tests/fixtures/ethtests` (always available).
//! `full_suite` runs every case under `$FERRITE_ETHTESTS` (`GeneralStateTests` and `EEST`); when
//! the variable is unset it reports itself skipped.

use ferrite::frame::Mode;
use ferrite::statetest::runner::{self, CaseResult, Filter};
use std::path::Path;

fn run_dir(dir: &Path, mode: Mode) -> Vec<CaseResult> {
    let files = runner::collect_files(dir).expect("fixture folder readable");
    let filter = Filter {
        mode,
        ..Filter::default()
    };
    let mut out = Vec::new();
    for f in files {
        if f.file_name().is_some_and(|n| n == "MANIFEST.tsv") {
            continue;
        }
        out.extend(runner::run_file(&f, &filter));
    }
    out
}

fn assert_all_pass(results: &[CaseResult], min_cases: usize) {
    let failed: Vec<String> = results
        .iter()
        .filter(|r| !r.pass)
        .map(|r| {
            format!(
                "{} [{}:{}]: {}",
                r.name,
                r.fork,
                r.index,
                r.error.as_deref().or(r.skipped.as_deref()).unwrap_or("")
            )
        })
        .collect();
    println!("{} cases, {} not passing", results.len(), failed.len());
    assert!(failed.is_empty(), "failing cases:\n{}", failed.join("\n"));
    assert!(
        results.len() >= min_cases,
        "only {} cases ran, expected at least {min_cases}",
        results.len()
    );
}

fn vendored(mode: Mode) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ethtests");
    let results = run_dir(&dir, mode);
    assert_all_pass(&results, 150);
}

fn full(mode: Mode) {
    let Ok(root) = std::env::var("FERRITE_ETHTESTS") else {
        println!("SKIPPED: FERRITE_ETHTESTS is not set (point it at the ethtests folder)");
        return;
    };
    let root = Path::new(&root);
    let mut results = run_dir(&root.join("GeneralStateTests"), mode);
    results.extend(run_dir(&root.join("EEST"), mode));
    assert_all_pass(&results, 19_000);
}

#[test]
fn vendored_fixtures_interpreter() {
    vendored(Mode::Interp);
}

#[test]
fn vendored_fixtures_jit() {
    vendored(Mode::Jit);
}

#[test]
fn full_suite_interpreter() {
    full(Mode::Interp);
}

#[test]
fn full_suite_jit() {
    full(Mode::Jit);
}
