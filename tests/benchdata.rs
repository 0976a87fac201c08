//! Conformance on real-world contracts: the benchmark cases vendored in
//! `tests/fixtures/benchdata/` (ipsilon/evm-benchmarks and revmc data, see the README there)
//! must give exactly the execution gas, status and output that revm 43 (and evmone) gave.
//!
//! Every row of `expected_results_prague.tsv` is looked up in `cases_all.tsv` and run through
//! `ferrite_state::call::run` (`FERRITE_BENCHDATA_CASE=<substring>` selects cases). Rows without an expected result (the proxies that delegate to an
//! account missing from the data) are printed as skipped with the reason. Every case is fast
//! enough for the default run on the interpreter (the largest, snailtracer at 2·10^8 gas, takes
//! ~0.2 s in the dev profile). The same rows also run on the JIT tier, except the large
//! micro-benchmarks whose compile time puts them behind `#[ignore]`, and on revm through the
//! differential harness (a check of the harness itself).

mod common;

use common::{hex, unhex};
use ferrite::runtime::{SpecId, U256};
use ferrite_state::call::CallConfig;
use std::collections::HashMap;
use std::time::Instant;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/benchdata");

/// One expected result.
struct Expected {
    case: String,
    spec: SpecId,
    gas_limit: u64,
    /// `None` when the row has no result (`-`).
    exec_gas: Option<u64>,
    status: String,
    output: Vec<u8>,
}

fn parse_word(s: &str) -> U256 {
    let s = s.trim();
    match s.strip_prefix("0x") {
        Some(h) => U256::from_str_radix(h, 16).expect("hex word"),
        None => U256::from_str_radix(s, 10).expect("decimal word"),
    }
}

/// `name → CallConfig` from `cases_all.tsv` (spec and gas limit filled in later).
fn load_cases() -> HashMap<String, CallConfig> {
    let text = std::fs::read_to_string(format!("{DIR}/cases_all.tsv")).expect("cases_all.tsv");
    let mut cases = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 4, "cases_all.tsv line {}: 4 columns", n + 1);
        let mut cfg = CallConfig::new(unhex(cols[1]), unhex(cols[2]));
        if cols[3].trim() != "-" {
            cfg.storage = cols[3]
                .split(';')
                .map(|kv| {
                    let (k, v) = kv.split_once(':').expect("k:v");
                    (parse_word(k), parse_word(v))
                })
                .collect();
        }
        cases.insert(cols[0].to_string(), cfg);
    }
    cases
}

fn load_expected() -> Vec<Expected> {
    let text = std::fs::read_to_string(format!("{DIR}/expected_results_prague.tsv"))
        .expect("expected_results_prague.tsv");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    assert_eq!(
        header.split('\t').collect::<Vec<_>>(),
        [
            "case",
            "spec",
            "gas_limit",
            "exec_gas_used",
            "status",
            "output_hex"
        ]
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert!(cols.len() >= 5, "expected_results_prague.tsv: {line}");
            Expected {
                case: cols[0].to_string(),
                spec: SpecId::from_name(cols[1]).expect("fork name"),
                gas_limit: cols[2].parse().expect("gas limit"),
                exec_gas: cols[3].parse().ok(),
                status: cols[4].to_string(),
                output: cols.get(5).map(|h| unhex(h)).unwrap_or_default(),
            }
        })
        .collect()
}

/// Runs the selected rows on `engine`; panics listing every mismatch.
fn check(select: impl Fn(&str) -> bool, engine: common::Engine, engine_name: &str) {
    let cases = load_cases();
    let expected = load_expected();
    let (mut passed, mut skipped, mut failures) = (0, Vec::new(), Vec::new());
    let only = std::env::var("FERRITE_BENCHDATA_CASE").ok();
    for e in expected.iter().filter(|e| select(&e.case)) {
        if only.as_ref().is_some_and(|o| !e.case.contains(o.as_str())) {
            continue;
        }
        let Some(base) = cases.get(&e.case) else {
            failures.push(format!("{}: not in cases_all.tsv", e.case));
            continue;
        };
        let Some(want_gas) = e.exec_gas else {
            skipped.push(format!(
                "{} (status {}: calls into an account not in the data, no expected result)",
                e.case, e.status
            ));
            continue;
        };
        let mut cfg = base.clone();
        cfg.spec = e.spec;
        cfg.gas_limit = e.gas_limit;
        let start = Instant::now();
        let o = common::run_engine(engine, &cfg);
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{engine_name} {:<48} {:>10} gas {:>7.3} s  {}",
            e.case, o.gas_used, secs, o.status
        );
        let got = (o.status.as_str(), o.gas_used, &o.output);
        if got != (e.status.as_str(), want_gas, &e.output) {
            failures.push(format!(
                "{}: expected {} gas {} output {}\n{:>w$}  got {} gas {} output {}",
                e.case,
                e.status,
                want_gas,
                hex(&e.output),
                "",
                o.status,
                o.gas_used,
                hex(&o.output),
                w = e.case.len()
            ));
        } else {
            passed += 1;
        }
    }
    for s in &skipped {
        println!("skipped: {s}");
    }
    println!(
        "{engine_name}: {passed} passed, {} skipped, {} failed",
        skipped.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(passed > 0 || only.is_some(), "no case selected");
}

/// Every case on ferrite's interpreter.
#[test]
fn benchdata_ferrite_matches_expected() {
    check(|_| true, common::ferrite_interp, "ferrite");
}

/// The micro-benchmarks (`ipsilon/micro/…`) are 40–49 KB of synthetic straight-line code or
/// JUMPDESTs: the JIT needs seconds to compile each in the dev profile.
fn jit_slow(case: &str) -> bool {
    case.starts_with("ipsilon/micro/")
}

/// Every case but the micro-benchmarks on ferrite's JIT tier (`Mode::Jit`).
#[test]
fn benchdata_jit_matches_expected() {
    check(|c| !jit_slow(c), common::ferrite_jit, "jit");
}

/// Every case but the micro-benchmarks, each program compiled whole at the baseline tier: the
/// large contracts run as several functions (chunks) and cross between them.
#[test]
fn benchdata_baseline_matches_expected() {
    check(|c| !jit_slow(c), common::ferrite_baseline, "baseline");
}

/// The micro-benchmarks on the JIT tier: ~25 s of Cranelift compile time in the dev profile
/// (loop_with_many_jumpdests ~10 s, signextend ~7 s), so opt-in:
/// `cargo test --test benchdata -- --ignored`.
#[test]
#[ignore = "slow in the dev profile: JIT compile time of the 40-49 KB micro-benchmarks"]
fn benchdata_jit_micro_matches_expected() {
    check(jit_slow, common::ferrite_jit, "jit");
}

/// Validates the differential harness: `revm_run` (a full revm transaction, its gas converted
/// to execution gas) reproduces the oracle, which was made with revm's bare interpreter loop.
#[test]
fn benchdata_revm_harness_matches_expected() {
    check(|_| true, common::revm_run, "revm");
}
