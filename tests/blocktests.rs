//! Conformance: the Ethereum blockchain tests, imported block by block through alloy-evm's
//! Ethereum block executor with ferrite as the EVM (`ferrite_tools::blocktest`, as
//! `ferrite blocktest` does).
//!
//! `vendored_*` run the small sample under `tests/fixtures/ethtests/BlockchainTests` (always
//! available): pre-merge blocks with rewards and EIP-161's predecessor rules, blocks that must be
//! rejected, the Prague transition with its system calls and requests, a BPO transition with
//! its blob schedule. `full_suite_eest` runs every test of
//! `$FERRITE_ETHTESTS/BlockchainTests/EEST` on one tiered engine (`auto`: contracts switch from
//! the interpreter to native code mid-run); it is ignored without the variable (`.ci/run` sets it)
//! and fails, rather than passes, if run without it. The `Benchmark` set (16 G gas) is for
//! `ferrite blocktest --bench`, not for the test run.

use ferrite::engine::{CompilerPriority, Engine, EngineConfig, EngineMode};
use ferrite_evm::FerriteEvmFactory;
use ferrite_tools::blocktest::runner::{Filter, Runner, TestResult};
use ferrite_tools::statetest::ethtests_root;
use ferrite_tools::statetest::runner::collect_files;
use std::path::Path;
use std::sync::Arc;

fn run_dir(dir: &Path, runner: &Runner) -> Vec<TestResult> {
    let files = collect_files(dir).expect("fixture folder readable");
    files
        .iter()
        .flat_map(|f| runner.run_file(f, &Filter::default()))
        .collect()
}

fn assert_all_pass(results: &[TestResult], min_tests: usize, min_rejected: usize) {
    let failed: Vec<String> = results
        .iter()
        .filter(|r| !r.pass)
        .map(|r| {
            format!(
                "{} [{}]: {}",
                r.name,
                r.network,
                r.error.as_deref().or(r.skipped.as_deref()).unwrap_or("")
            )
        })
        .collect();
    let blocks: usize = results.iter().map(|r| r.blocks).sum();
    let rejected: usize = results.iter().map(|r| r.rejected.len()).sum();
    println!(
        "{} tests, {blocks} blocks imported, {rejected} rejected as expected, {} not passing",
        results.len(),
        failed.len()
    );
    assert!(failed.is_empty(), "failing tests:\n{}", failed.join("\n"));
    assert!(
        results.len() >= min_tests && rejected >= min_rejected,
        "only {} tests ({rejected} rejected blocks) ran, expected at least {min_tests} ({min_rejected})",
        results.len()
    );
}

fn vendored(mode: EngineMode) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ethtests/BlockchainTests");
    let runner = Runner::new(FerriteEvmFactory::with_mode(mode), 1);
    assert_all_pass(&run_dir(&dir, &runner), 6, 2);
    let c = runner.evm().counters();
    assert!(c.ferrite > 0 && c.system_calls > 0, "{c:?}");
    assert_eq!(
        c.inspected + c.unsupported,
        0,
        "everything ran on ferrite: {c:?}"
    );
}

#[test]
fn vendored_blockchain_tests_interpreter() {
    vendored(EngineMode::Interp);
}

#[test]
fn vendored_blockchain_tests_jit() {
    vendored(EngineMode::Jit);
}

#[test]
#[ignore = "needs FERRITE_ETHTESTS (.ci/run sets it and runs --include-ignored)"]
fn full_suite_eest() {
    let engine = Arc::new(Engine::new(EngineConfig {
        compiler_priority: CompilerPriority::Normal,
        ..EngineConfig::default()
    }));
    let runner = Runner::new(FerriteEvmFactory::new(engine.clone()), 1);
    let results = run_dir(&ethtests_root().join("BlockchainTests/EEST"), &runner);
    assert_all_pass(&results, 1310, 160);
    engine.wait_idle();
    println!("engine: {}", engine.stats());
}
