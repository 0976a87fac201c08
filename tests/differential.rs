//! Differential testing: generated programs run on ferrite's interpreter and on revm must agree
//! on status, execution gas, refund counter, output, logs and final storage.
//!
//! Seeded and deterministic. Environment knobs:
//! - `FERRITE_DIFF_CASES`: cases per fork (default 10,000 for Cancun and Prague, 2,000 for
//!   Osaka, Shanghai, Paris, London, Berlin, Istanbul, 1,000 for each older fork);
//! - `FERRITE_DIFF_SEED`: the run's seed (default fixed);
//! - `FERRITE_DIFF_CASE=<fork>:<case seed>`: run a single case (as printed in a report), with
//!   the traces of ferrite and revm around the first step where they differ; add
//!   `FERRITE_DIFF_JIT=1` to include the JIT tier.
//!
//! `differential_jit` (ignored by default) compares interpreter, JIT and revm three ways.

mod common;

use common::{
    compare_outcome, divergence_report, gen, run_all, Engine, Outcome, INTERP_JIT_REVM,
    INTERP_VS_REVM,
};
use ferrite::runtime::SpecId;
use std::collections::BTreeMap;
use std::time::Instant;

const DEFAULT_SEED: u64 = 0x00fe_221e_d1ff;

/// Known differences that are not (yet) fixed, each with a regression test in
/// `tests/regressions.rs`: (ferrite status, revm status, explanation). A case matches only when
/// the statuses are exactly these and every other field agrees; it is counted, not failed.
/// Empty since 6c8ac46 fixed the two found so far (RETURNDATACOPY bounds checked before gas:
/// `("OutOfOffset", "OutOfGas")`; static gas charged before the stack-underflow check:
/// `("OutOfGas", "StackUnderflow")`).
const KNOWN: &[(&str, &str, &str)] = &[];

/// The explanation of a known difference between `ferrite` and `revm`, if it is one.
fn known(ferrite: &Outcome, revm: &Outcome) -> Option<&'static str> {
    let same_but_status = Outcome {
        status: ferrite.status.clone(),
        ..revm.clone()
    };
    if same_but_status != *ferrite {
        return None;
    }
    KNOWN
        .iter()
        .find(|(f, r, _)| *f == ferrite.status && *r == revm.status)
        .map(|(_, _, why)| *why)
}

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    Some(match v.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).expect("hex number"),
        None => v.parse().expect("number"),
    })
}

/// Runs `default_cases` (or `FERRITE_DIFF_CASES`) generated cases for `spec` on ferrite's
/// interpreter and revm; panics listing every divergence.
fn run_fork(spec: SpecId, default_cases: u64) {
    run_fork_on(&INTERP_VS_REVM, spec, default_cases);
}

/// [`run_fork`] on any engines; the first is the reference. [`KNOWN`] differences are accepted
/// only between the reference and `revm`.
fn run_fork_on(engines: &[(&str, Engine)], spec: SpecId, default_cases: u64) {
    let cases = env_u64("FERRITE_DIFF_CASES").unwrap_or(default_cases);
    let seed = env_u64("FERRITE_DIFF_SEED").unwrap_or(DEFAULT_SEED);
    let start = Instant::now();
    let mut mix: BTreeMap<String, u64> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut gas = 0u64;
    let mut known_seen = std::collections::HashSet::new();
    for i in 0..cases {
        let case_seed = gen::case_seed(seed, spec, i);
        let cfg = gen::case(case_seed, spec);
        let outcomes = run_all(engines, &cfg);
        gas += outcomes[0].gas_used;
        let Some(report) = divergence_report(engines, &outcomes, &cfg) else {
            *mix.entry(outcomes[0].status.clone()).or_default() += 1;
            continue;
        };
        // Known only if every disagreeing engine is revm with a known difference.
        let mut why = None;
        let all_known = engines.iter().zip(&outcomes).skip(1).all(|((name, _), o)| {
            if *o == outcomes[0] {
                return true;
            }
            let k = if *name == "revm" {
                known(&outcomes[0], o)
            } else {
                None
            };
            why = why.or(k);
            k.is_some()
        });
        match why.filter(|_| all_known) {
            Some(why) => {
                *mix.entry(format!("known[{}]", outcomes[0].status))
                    .or_default() += 1;
                if known_seen.insert(why) {
                    println!(
                        "{}: known divergence (counted, not failed): {why}\n  e.g. \
                         FERRITE_DIFF_CASE={}:{case_seed:#x}",
                        spec.name(),
                        spec.name()
                    );
                }
            }
            None => {
                *mix.entry("DIVERGENT".into()).or_default() += 1;
                failures.push(format!(
                    "case {i} (FERRITE_DIFF_CASE={}:{case_seed:#x}):\n{report}",
                    spec.name()
                ));
            }
        }
    }
    let mix: Vec<String> = mix.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!(
        "{}: {cases} cases, {} divergent, {:.1} s, {gas} gas; status mix: {}",
        spec.name(),
        failures.len(),
        start.elapsed().as_secs_f64(),
        mix.join(", ")
    );
    if !failures.is_empty() {
        let shown: Vec<&String> = failures.iter().take(5).collect();
        panic!(
            "{} of {cases} {} cases diverge; first {}:\n\n{}",
            failures.len(),
            spec.name(),
            shown.len(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[test]
fn differential_prague() {
    run_fork(SpecId::Prague, 10_000);
}

#[test]
fn differential_cancun() {
    run_fork(SpecId::Cancun, 10_000);
}

#[test]
fn differential_shanghai() {
    run_fork(SpecId::Shanghai, 2_000);
}

#[test]
fn differential_london() {
    run_fork(SpecId::London, 2_000);
}

#[test]
fn differential_berlin() {
    run_fork(SpecId::Berlin, 2_000);
}

#[test]
fn differential_istanbul() {
    run_fork(SpecId::Istanbul, 2_000);
}

#[test]
fn differential_osaka() {
    run_fork(SpecId::Osaka, 2_000);
}

#[test]
fn differential_merge() {
    run_fork(SpecId::Merge, 2_000);
}

#[test]
fn differential_pre_istanbul() {
    for spec in [
        SpecId::Petersburg,
        SpecId::Byzantium,
        SpecId::SpuriousDragon,
        SpecId::Tangerine,
        SpecId::Homestead,
        SpecId::Frontier,
    ] {
        run_fork(spec, 1_000);
    }
}

/// Four-way: ferrite's interpreter, its JIT tier (whole programs and regions) and revm, Cancun and Prague; the case
/// count is `FERRITE_DIFF_CASES` (default 5,000 per fork: each case compiles its contracts).
#[test]
fn differential_jit() {
    for spec in [SpecId::Cancun, SpecId::Prague] {
        run_fork_on(&INTERP_JIT_REVM, spec, 5_000);
    }
}

/// Replays one case given as `FERRITE_DIFF_CASE=<fork>:<case seed>` (no-op without it).
#[test]
fn differential_single_case() {
    let Ok(spec_case) = std::env::var("FERRITE_DIFF_CASE") else {
        return;
    };
    let (fork, seed) = spec_case.split_once(':').expect("<fork>:<case seed>");
    let spec = SpecId::from_name(fork).expect("fork name");
    let seed = seed.trim();
    let seed = match seed.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).expect("hex seed"),
        None => seed.parse().expect("seed"),
    };
    let cfg = gen::case(seed, spec);
    println!("{}", common::describe(&cfg));
    common::print_trace_divergence(&cfg);
    let engines: &[(&str, Engine)] = if std::env::var_os("FERRITE_DIFF_JIT").is_some() {
        &INTERP_JIT_REVM
    } else {
        &INTERP_VS_REVM
    };
    if let Err(report) = compare_outcome(engines, &cfg) {
        println!("{report}");
        panic!("divergence (see above)");
    }
}

/// The revm adapter reports halts in ferrite's (the spec's) terms where revm's own reason
/// differs only by check order: these cases pin that mapping.
#[test]
fn harness_maps_revm_halt_reasons() {
    use common::revm_run;
    let run = |code: &[u8], gas: u64, spec: SpecId| {
        let mut cfg = ferrite_state::call::CallConfig::new(code.to_vec(), Vec::new());
        cfg.gas_limit = gas;
        cfg.spec = spec;
        revm_run(&cfg).status
    };
    // DUP2 on a one-item stack: revm says StackOverflow.
    assert_eq!(run(&[0x5f, 0x81], 100, SpecId::Cancun), "StackUnderflow");
    // ADD on an empty stack without gas for it: revm charges static gas first.
    assert_eq!(run(&[0x01], 2, SpecId::Cancun), "StackUnderflow");
    // LOG1 with two items (size 32, huge offset): revm charges memory before popping the topic.
    assert_eq!(
        run(
            &[0x60, 0x20, 0x60, 0x20, 0x19, 0xa1],
            100_000,
            SpecId::Cancun
        ),
        "StackUnderflow"
    );
    // SLOTNUM (0x4b, not an opcode in these forks) with no gas left: revm charges its gas.
    assert_eq!(run(&[0x4b], 0, SpecId::Frontier), "InvalidOpcode");
    // TLOAD before Cancun, no gas left.
    assert_eq!(run(&[0x5c], 0, SpecId::Shanghai), "InvalidOpcode");
    // CREATE2 with an oversized initcode but < 32,000 gas: out of gas first (spec order).
    let create2 = [0x5f, 0x61, 0xc0, 0x01, 0x5f, 0x5f, 0xf5];
    assert_eq!(run(&create2, 20_000, SpecId::Cancun), "OutOfGas");
    assert_eq!(
        run(&create2, 100_000, SpecId::Cancun),
        "CreateInitCodeSizeLimit"
    );
    // RETURNDATACOPY past the end of an empty buffer: out of gas when the copy (2^40 bytes)
    // cannot be paid for (spec order; revm checks bounds first), else out of offset.
    let rdc = |len: &[u8]| {
        let mut c = vec![0x60 + len.len() as u8 - 1];
        c.extend(len);
        c.extend([0x5f, 0x5f, 0x3e]);
        c
    };
    assert_eq!(
        run(&rdc(&[1, 0, 0, 0, 0, 0]), 1_000_000, SpecId::Cancun),
        "OutOfGas"
    );
    assert_eq!(run(&rdc(&[1]), 1_000_000, SpecId::Cancun), "OutOfOffset");
    // Plain cases map one to one.
    assert_eq!(run(&[0xfe], 100, SpecId::Cancun), "InvalidOpcode");
    assert_eq!(run(&[0x60, 0x03, 0x56], 100, SpecId::Cancun), "InvalidJump");
    assert_eq!(run(&[0x5f, 0x5f, 0xfd], 100, SpecId::Cancun), "Revert");
}

/// Both engines see the same block and transaction environment (`ferrite_state::call::default_env`):
/// chain id 1, timestamp 1, block gas limit 2^64−1, blob base fee 1, zero coinbase, number,
/// prevrandao, base fee and gas price; origin and caller `0x1111…`, caller balance 2^256−1.
#[test]
fn harness_environment_matches() {
    use ferrite::runtime::opcode::op;
    let ops = [
        op::CHAINID,
        op::TIMESTAMP,
        op::GASLIMIT,
        op::BLOBBASEFEE,
        op::BASEFEE,
        op::COINBASE,
        op::NUMBER,
        op::PREVRANDAO,
        op::GASPRICE,
        op::ORIGIN,
        op::CALLER,
        op::ADDRESS,
        op::SELFBALANCE,
        op::CALLVALUE,
    ];
    let mut code = Vec::new();
    let store = |code: &mut Vec<u8>, i: usize| {
        code.push(op::PUSH2);
        code.extend((32 * i as u16).to_be_bytes());
        code.push(op::MSTORE);
    };
    for (i, b) in ops.iter().enumerate() {
        code.push(*b);
        store(&mut code, i);
    }
    // BALANCE(CALLER)
    code.extend([op::CALLER, op::BALANCE]);
    store(&mut code, ops.len());
    code.extend([op::PUSH2, 0x01, 0xe0, op::PUSH0, op::RETURN]);
    let mut cfg = ferrite_state::call::CallConfig::new(code, Vec::new());
    cfg.spec = SpecId::Cancun;
    cfg.value = ferrite::runtime::U256::from(7);
    let o = compare_outcome(&INTERP_VS_REVM, &cfg).unwrap_or_else(|r| panic!("{r}"));
    let word = |i: usize| ferrite::runtime::U256::from_be_slice(&o.output[32 * i..32 * i + 32]);
    let u = ferrite::runtime::U256::from;
    let addr = |a: ferrite::runtime::Address| ferrite::runtime::U256::from_be_slice(a.as_slice());
    assert_eq!(word(0), u(1)); // CHAINID
    assert_eq!(word(1), u(1)); // TIMESTAMP
    assert_eq!(word(2), u(u64::MAX)); // GASLIMIT
    assert_eq!(word(3), u(1)); // BLOBBASEFEE
    for i in 4..9 {
        assert_eq!(word(i), u(0)); // BASEFEE COINBASE NUMBER PREVRANDAO GASPRICE
    }
    assert_eq!(word(9), addr(ferrite_state::call::CALLER)); // ORIGIN
    assert_eq!(word(10), addr(ferrite_state::call::CALLER)); // CALLER
    assert_eq!(word(11), addr(ferrite_state::call::TARGET)); // ADDRESS
    assert_eq!(word(12), u(7)); // SELFBALANCE
    assert_eq!(word(13), u(7)); // CALLVALUE
    assert_eq!(word(14), ferrite::runtime::U256::MAX - u(7)); // BALANCE(CALLER)
}
