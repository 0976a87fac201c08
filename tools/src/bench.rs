//! The benchmark suite behind `ferrite bench` and `benches/execute.rs`.
//!
//! Cases are the single-contract benchmarks of `tests/fixtures/benchdata/cases_all.tsv` (vendored
//! from evmone's evm-benchmarks, revm and revmc; see that folder's README). Every tier is timed on
//! the same call — code at `0xcccc…cccc`, gas 10^9, Prague — and every run's status, gas and
//! output are checked against the interpreter's before its time counts: a fast wrong answer is
//! a failure, not a result. revm's interpreter is the fourth column when built with the
//! `revm-oracle` feature (never in the default build). A region program ([`compile_region`]:
//! one profiled interpreter run, then only the blocks covering a share of what it executed) is
//! timed and checked the same way.

use alloy_primitives::{hex, Bytes, U256};
use ferrite::frame::ProgramSource;
use ferrite::jit::Program;
use ferrite::profile::Profile;
use ferrite::sources::{ProfileCode, WithProgram};
use ferrite_runtime::bytecode::Bytecode;
use ferrite_state::call::{self, CallConfig};
use ferrite_state::Mode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The vendored case table.
const CASES_TSV: &str = include_str!("../../tests/fixtures/benchdata/cases_all.tsv");

/// Cases whose time is dominated by computation (the "compute-heavy set").
pub const COMPUTE_HEAVY: &[&str] = &[
    "ipsilon/main/snailtracer/benchmark",
    "ipsilon/main/weierstrudel/15",
    "ipsilon/main/blake2b_huff/8415nulls",
    "ipsilon/main/blake2b_shifts/8415nulls",
    "ipsilon/main/sha1_divs/5311",
    "ipsilon/main/sha1_shifts/5311",
    "ipsilon/main/swap_math/spent",
    "revmc/fibonacci-n100k",
    "revmc/factorial-n100k",
    "revmc/hash_10k",
    "revmc/erc20_transfer",
];

/// One benchmark call.
#[derive(Clone, Debug)]
pub struct Case {
    /// Name (source/contract/input).
    pub name: String,
    /// The call.
    pub cfg: CallConfig,
}

/// A duration in the unit that fits it (ns, µs, ms or s), three significant digits or more.
pub fn fmt_duration(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// Every case of the suite (optionally filtered by a substring of the name).
pub fn suite(filter: Option<&str>) -> Vec<Case> {
    CASES_TSV
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            let (name, code, input, storage) = (f.first()?, f.get(1)?, f.get(2)?, f.get(3)?);
            if filter.is_some_and(|s| !name.contains(s)) {
                return None;
            }
            let mut cfg = CallConfig::new(
                hex::decode(code).ok()?,
                if *input == "-" {
                    Vec::new()
                } else {
                    hex::decode(input).ok()?
                },
            );
            if *storage != "-" {
                for kv in storage.split(';') {
                    let (k, v) = kv.split_once(':')?;
                    cfg.storage.push((
                        U256::from_str_radix(k.trim_start_matches("0x"), 16).ok()?,
                        U256::from_str_radix(v.trim_start_matches("0x"), 16).ok()?,
                    ));
                }
            }
            Some(Case {
                name: name.to_string(),
                cfg,
            })
        })
        .collect()
}

/// The case named exactly `name`, if the suite has it.
pub fn case(name: &str) -> Option<Case> {
    suite(Some(name)).into_iter().find(|c| c.name == name)
}

/// What a run produced (for cross-checking tiers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Result {
    /// Status name.
    pub status: String,
    /// Execution gas used.
    pub gas_used: u64,
    /// Output.
    pub output: Bytes,
}

/// Runs the case once with ferrite on fresh state, timing only execution.
pub fn run_ferrite(case: &Case, mode: Mode) -> (Result, Duration) {
    run_timed(&case.cfg, &mode)
}

/// Runs the case once on fresh state with `program` for its contract (interpreting the rest),
/// timing only execution.
pub fn run_program(case: &Case, program: &Arc<Program>) -> (Result, Duration) {
    run_timed(&case.cfg, &WithProgram(program.clone()))
}

/// One run of `cfg` on fresh state with frames tiered by `source`, timing only execution.
pub fn run_timed(cfg: &CallConfig, source: &dyn ProgramSource) -> (Result, Duration) {
    let state = call::prepare_state(cfg);
    let t = Instant::now();
    let o = call::run_on_with(state, cfg, &mut ferrite::interpreter::NoTracer, source);
    let e = t.elapsed();
    (
        Result {
            status: o.exit.name().to_string(),
            gas_used: o.gas_used,
            output: o.output,
        },
        e,
    )
}

/// Profiles a call: one interpreted run counting its contract's instructions by pc.
pub fn profile(cfg: &CallConfig) -> Vec<u32> {
    let code = Bytecode::new(cfg.code.clone());
    let source = ProfileCode {
        hash: code.hash(),
        profile: Arc::new(Profile::new(code.raw().len())),
    };
    call::run_with(cfg, &mut ferrite::interpreter::NoTracer, &source);
    source.profile.counts()
}

/// Compiles, at `tier`, the region of the call's contract that covers `coverage` of the
/// instructions its profile ([`profile`]) executed.
pub fn compile_region(
    cfg: &CallConfig,
    coverage: f64,
    tier: ferrite::jit::Tier,
) -> Option<Arc<Program>> {
    let counts = profile(cfg);
    let code = Arc::new(Bytecode::new(cfg.code.clone()));
    ferrite::jit::compile_region_at(code, cfg.spec, &counts, coverage, tier)
        .ok()
        .map(Arc::new)
}

/// Compiles the case's code with the JIT (uncached) and returns the compile time.
pub fn compile_time(case: &Case) -> Option<Duration> {
    let code = Arc::new(Bytecode::new(case.cfg.code.clone()));
    ferrite::jit::compile(code, case.cfg.spec)
        .ok()
        .map(|p| p.compile_time())
}

/// A timed runner: one run, its result and its time.
pub type Runner<'a> = dyn FnMut() -> (Result, Duration) + 'a;

/// Medians of `iters` timed rounds over several runners, after one warm-up round (whose results
/// are returned with the medians; the rounds as in [`timed_rounds`]).
pub fn medians(iters: usize, runners: &mut [&mut Runner<'_>]) -> Vec<(Result, Duration)> {
    let first: Vec<Result> = runners.iter_mut().map(|f| f().0).collect();
    first
        .into_iter()
        .zip(timed_rounds(iters, runners))
        .collect()
}

/// Each runner's median time over `iters` rounds (at least one). Each round runs every runner
/// once, starting one runner later than the round before, so all of them are timed in the same
/// stretch of time: a machine whose speed drifts (a neighbour on the host, the clock ramping
/// after a compile) moves them together and their ratios hold, where timing one runner's rounds
/// after another's lets a drift of a few milliseconds decide a ratio of microsecond calls.
pub fn timed_rounds(iters: usize, runners: &mut [&mut Runner<'_>]) -> Vec<Duration> {
    let n = runners.len();
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(iters.max(1)); n];
    for round in 0..iters.max(1) {
        for k in 0..n {
            let i = (round + k) % n;
            times[i].push((runners[i])().1);
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort_unstable();
            t[t.len() / 2]
        })
        .collect()
}

/// revm's interpreter on the same call (a transaction on an in-memory database, timed without
/// the database setup).
#[cfg(feature = "revm-oracle")]
pub fn run_revm(case: &Case) -> (Result, Duration) {
    use revm::context::{CfgEnv, Context, TxEnv};
    use revm::context_interface::result::{ExecutionResult, Output};
    use revm::database::InMemoryDB;
    use revm::primitives::hardfork::SpecId as RevmSpec;
    use revm::primitives::TxKind;
    use revm::state::{AccountInfo, Bytecode as RevmCode};
    use revm::{ExecuteEvm, MainBuilder, MainContext};

    let cfg = &case.cfg;
    let mut db = InMemoryDB::default();
    db.insert_account_info(
        call::CALLER,
        AccountInfo {
            balance: U256::MAX,
            ..AccountInfo::default()
        },
    );
    let code = RevmCode::new_raw(cfg.code.clone());
    db.insert_account_info(
        call::TARGET,
        AccountInfo {
            nonce: 1,
            code_hash: code.hash_slow(),
            code: Some(code),
            ..AccountInfo::default()
        },
    );
    for (k, v) in &cfg.storage {
        let _ = db.insert_account_storage(call::TARGET, *k, *v);
    }
    let mut env = CfgEnv::default();
    env.set_spec_and_mainnet_gas_params(RevmSpec::PRAGUE);
    env.disable_nonce_check = true;
    env.tx_gas_limit_cap = Some(u64::MAX);
    let mut evm = Context::mainnet().with_db(db).with_cfg(env).build_mainnet();
    let intrinsic = revm::context_interface::cfg::gas::calculate_initial_tx_gas(
        RevmSpec::PRAGUE,
        &cfg.input,
        false,
        0,
        0,
        0,
        None,
    )
    .initial_regular_gas;
    let tx = TxEnv::builder()
        .caller(call::CALLER)
        .kind(TxKind::Call(call::TARGET))
        .data(cfg.input.clone())
        .gas_limit(cfg.gas_limit + intrinsic)
        .gas_price(0)
        .build()
        .unwrap_or_default();
    let t = Instant::now();
    let r = evm.transact(tx);
    let e = t.elapsed();
    let res = match r.map(|r| r.result) {
        Ok(ExecutionResult::Success { output, gas, .. }) => Result {
            status: "Return".into(),
            gas_used: gas.total_gas_spent().saturating_sub(intrinsic),
            output: match output {
                Output::Call(b) => b,
                Output::Create(b, _) => b,
            },
        },
        Ok(ExecutionResult::Revert { output, gas, .. }) => Result {
            status: "Revert".into(),
            gas_used: gas.total_gas_spent().saturating_sub(intrinsic),
            output,
        },
        Ok(ExecutionResult::Halt { reason, .. }) => Result {
            status: format!("{reason:?}"),
            gas_used: cfg.gas_limit,
            output: Bytes::new(),
        },
        Err(e) => Result {
            status: format!("error: {e:?}"),
            gas_used: 0,
            output: Bytes::new(),
        },
    };
    (res, e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn result(status: &str) -> Result {
        Result {
            status: status.into(),
            gas_used: 0,
            output: Bytes::new(),
        }
    }

    /// The runners take turns, each round starting one later, and each median is over its own
    /// runner's times (warm-up round excluded).
    #[test]
    fn medians_interleave_rounds() {
        let order = RefCell::new(Vec::new());
        let mut calls = [0u64; 3];
        let mut run = |i: usize| {
            order.borrow_mut().push(i);
            calls[i] += 1;
            // Runner i's k-th call takes i * 100 + k ns: the warm-up (k = 1) is the fastest.
            let t = Duration::from_nanos(i as u64 * 100 + calls[i]);
            (result(&i.to_string()), t)
        };
        let run = RefCell::new(&mut run);
        let mut a = || (run.borrow_mut())(0);
        let mut b = || (run.borrow_mut())(1);
        let mut c = || (run.borrow_mut())(2);
        let out = medians(3, &mut [&mut a, &mut b, &mut c]);
        assert_eq!(*order.borrow(), [0, 1, 2, 0, 1, 2, 1, 2, 0, 2, 0, 1]);
        let got: Vec<(String, u128)> = out
            .into_iter()
            .map(|(r, t)| (r.status, t.as_nanos()))
            .collect();
        // Timed calls are k = 2, 3, 4: the median is the third call.
        assert_eq!(got, [("0".into(), 3), ("1".into(), 103), ("2".into(), 203)]);
    }
}
