//! The adapter differential ([`ferrite_tools::fuzz::adapter`]): generated transactions through
//! `ferrite-evm` and through revm's `MainnetEvm` (alloy-evm's `EthEvm`) on the same database,
//! the whole `ResultAndState` compared, per fork.

use ferrite::runtime::SpecId;
use ferrite::EngineMode;
use ferrite_evm::FerriteEvmFactory;
use ferrite_tools::fuzz::adapter;
use ferrite_tools::fuzz::gen::case_seed;

/// `FERRITE_ADAPTER_CASES` overrides the number of scenarios per test (longer runs).
fn differential(spec: SpecId, mode: EngineMode, cases: u64) {
    let cases = std::env::var("FERRITE_ADAPTER_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    let factory = FerriteEvmFactory::with_mode(mode);
    let mut failures = Vec::new();
    let mut tally = adapter::Tally::default();
    for i in 0..cases {
        let seed = case_seed(0xad_a97e ^ mode as u64, spec, i);
        let Some(s) = adapter::scenario(seed, spec) else {
            continue;
        };
        if let Err(e) = adapter::run(&s, &factory, &mut tally) {
            failures.push(format!("seed {seed:#x}: {e}"));
        }
    }
    eprintln!(
        "{spec:?} {}: {cases} scenarios, {} steps agreed, {} differ; halts named differently \
         (ferrite, revm): {:?}; steps by kind: {:?}",
        mode.name(),
        tally.steps,
        failures.len(),
        tally.halts_named_differently,
        tally.kinds
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} scenarios differ; first:\n{}",
        failures.len(),
        failures[..failures.len().min(3)].join("\n")
    );
}

#[test]
fn adapter_matches_revm_cancun() {
    differential(SpecId::Cancun, EngineMode::Interp, 300);
}

#[test]
fn adapter_matches_revm_prague() {
    differential(SpecId::Prague, EngineMode::Interp, 300);
}

#[test]
fn adapter_matches_revm_osaka() {
    differential(SpecId::Osaka, EngineMode::Interp, 300);
}

#[test]
fn adapter_matches_revm_osaka_jit() {
    differential(SpecId::Osaka, EngineMode::Jit, 100);
}

#[test]
fn adapter_matches_revm_prague_auto() {
    differential(SpecId::Prague, EngineMode::Auto, 100);
}
