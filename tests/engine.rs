//! The engine under concurrency: many threads run the same and different real-world contracts
//! (the vendored benchmark cases) through one `Engine` in auto mode, and every result — status,
//! gas, refund, output, logs and the post-state root — must equal the interpreter's, whichever
//! tier ran it, while contracts switch to native code underneath.

use alloy_primitives::{address, hex, Bytes, U256};
use ferrite::engine::{CodeStatus, Engine, EngineConfig, EngineMode};
use ferrite::runtime::SpecId;
use ferrite_state::call::{self, CallConfig, CallOutcome};
use ferrite_state::state::{Account, State};
use ferrite_state::transaction::{Block, Tx};
use ferrite_state::Transact;
use ferrite_tools::statetest::runner::state_root;
use std::sync::Arc;

const PICKED: &[&str] = &[
    "revmc/erc20_transfer",
    "revmc/counter",
    "revmc/weth",
    "revmc/fibonacci-calldata",
    "revmc/factorial",
    "revmc/bswap64",
    "revmc/hash_10k",
    "ipsilon/main/swap_math/spent",
    "ipsilon/main/structarray_alloc/nfts_rank",
    "ipsilon/main/sha1_shifts/empty",
];

/// The picked cases, from the benchmark suite's vendored table.
fn load() -> Vec<(String, CallConfig)> {
    PICKED
        .iter()
        .map(|name| {
            let case = ferrite_tools::bench::case(name)
                .unwrap_or_else(|| panic!("case {name} not in cases_all.tsv"));
            (case.name, case.cfg)
        })
        .collect()
}

/// Everything observable about a call.
#[derive(Debug, PartialEq)]
struct Observed {
    exit: ferrite::runtime::ExitCode,
    gas_used: u64,
    gas_refund: i64,
    output: Bytes,
    logs: usize,
    logs_debug: String,
    state_root: alloy_primitives::B256,
}

fn observe(o: CallOutcome) -> Observed {
    Observed {
        exit: o.exit,
        gas_used: o.gas_used,
        gas_refund: o.gas_refund,
        output: o.output,
        logs: o.logs.len(),
        logs_debug: format!("{:?}", o.logs),
        state_root: state_root(&o.state),
    }
}

#[test]
fn eight_threads_auto_match_the_interpreter() {
    let cases = load();
    let reference: Vec<Observed> = cases.iter().map(|(_, c)| observe(call::run(c))).collect();
    let engine = Engine::new(EngineConfig {
        hot_threshold: Some(2),
        workers: 2,
        ..EngineConfig::default()
    });
    const THREADS: usize = 8;
    const ROUNDS: usize = 4;
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (cases, reference, engine) = (&cases, &reference, &engine);
            s.spawn(move || {
                for r in 0..ROUNDS {
                    // Threads start at different cases: at any time some run the same contract
                    // and some different ones. Half the threads use one shared case each round.
                    let order: Vec<usize> = if t % 2 == 0 {
                        (0..cases.len()).map(|i| (i + t) % cases.len()).collect()
                    } else {
                        vec![r % cases.len(); cases.len()]
                    };
                    for i in order {
                        let (name, cfg) = &cases[i];
                        let got = observe(engine.call(cfg));
                        assert_eq!(got, reference[i], "{name}, thread {t}, round {r}");
                    }
                }
            });
        }
    });
    engine.wait_idle();
    for (i, (name, cfg)) in cases.iter().enumerate() {
        assert!(
            matches!(
                engine.status(&cfg.code, SpecId::Prague),
                CodeStatus::Native { .. }
            ),
            "{name} is native after the threshold: {:?}",
            engine.status(&cfg.code, SpecId::Prague)
        );
        assert_eq!(observe(engine.call(cfg)), reference[i], "{name}, native");
    }
    let s = engine.stats();
    println!("{s}");
    assert_eq!(s.compile_failures, 0);
    // The profiled region of each, at the baseline tier and then the optimized one.
    assert_eq!(
        s.compiles,
        2 * cases.len() as u64,
        "two compiles per contract"
    );
    assert!(s.native_calls > 0 && s.interpreter_calls > 0);
    assert_eq!(
        s.interpreter_calls + s.native_calls,
        (THREADS * ROUNDS * cases.len() + cases.len()) as u64
    );
}

#[test]
fn eight_threads_under_a_tiny_budget_match_the_interpreter() {
    // Room for a few programs and fewer entries than contracts: contracts keep evicting each
    // other (and recompiling) while others run natively.
    let cases = load();
    let reference: Vec<Observed> = cases.iter().map(|(_, c)| observe(call::run(c))).collect();
    let engine = Engine::new(EngineConfig {
        hot_threshold: Some(0),
        code_budget: 96 << 10,
        max_entries: 6,
        ..EngineConfig::default()
    });
    // A hot set of small contracts every thread keeps calling, and a stream of the others
    // that churns the cache around it.
    let hot: Vec<usize> = [
        "revmc/counter",
        "revmc/fibonacci-calldata",
        "revmc/factorial",
    ]
    .iter()
    .map(|h| cases.iter().position(|(n, _)| n == h).expect("hot case"))
    .collect();
    std::thread::scope(|s| {
        for t in 0..8 {
            let (cases, reference, engine, hot) = (&cases, &reference, &engine, &hot);
            s.spawn(move || {
                for r in 0..12 {
                    let cold = (r * 8 + t) % cases.len();
                    for i in [hot[t % 3], hot[(t + 1) % 3], cold, hot[t % 3]] {
                        let got = observe(engine.call(&cases[i].1));
                        assert_eq!(got, reference[i], "{}, thread {t}, round {r}", cases[i].0);
                    }
                }
            });
        }
    });
    engine.wait_idle();
    // Whether a hot program survived the churn above depends on thread timing; afterwards, with
    // nothing else running, each hot contract compiles (if evicted) and then runs natively.
    for &h in &hot {
        assert_eq!(
            observe(engine.call(&cases[h].1)),
            reference[h],
            "{}",
            cases[h].0
        );
        engine.wait_idle();
        assert_eq!(
            observe(engine.call(&cases[h].1)),
            reference[h],
            "{}",
            cases[h].0
        );
    }
    let s = engine.stats();
    println!("{s}");
    assert!(s.evictions > 0, "{s:?}");
    assert!(s.native_calls > 0, "{s:?}");
    assert!(s.code_bytes <= 96 << 10, "{s:?}");
    assert!(s.entries <= 6 + 8, "{s:?}");
}

/// A contract that CALLs `callee` (forwarding all gas, no input) and returns its 32-byte output
/// plus one; the callee stores a counter and returns it.
fn caller_and_callee() -> (Bytes, Bytes) {
    // callee: SLOAD(0)+1 → SSTORE(0), return it
    let callee = hex::decode("60005460010180600055600052602060 00f3".replace(' ', "")).unwrap();
    // caller: CALL(gas, 0xbb..bb, 0, 0,0, 0,32); MLOAD(0)+1 → return
    let mut caller = vec![
        0x60, 0x20, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x73,
    ];
    caller.extend_from_slice(CALLEE.as_slice());
    caller.extend_from_slice(&[
        0x5a, 0xf1, 0x50, 0x60, 0x00, 0x51, 0x60, 0x01, 0x01, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60,
        0x00, 0xf3,
    ]);
    (Bytes::from(caller), Bytes::from(callee))
}

const CALLER_ADDR: alloy_primitives::Address = address!("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
const CALLEE: alloy_primitives::Address = address!("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
const SENDER: alloy_primitives::Address = address!("1111111111111111111111111111111111111111");

fn tx_state(spec: SpecId) -> State {
    let (caller, callee) = caller_and_callee();
    let mut state = State::new(spec, call::default_env());
    state.insert_account(
        SENDER,
        Account {
            balance: U256::from(10u64).pow(U256::from(20)),
            ..Account::default()
        },
    );
    state.insert_account(CALLER_ADDR, Account::with_code(caller));
    state.insert_account(CALLEE, Account::with_code(callee));
    state
}

fn tx(nonce: u64) -> Tx {
    Tx {
        tx_type: 0,
        caller: SENDER,
        to: Some(CALLER_ADDR),
        gas_limit: 200_000,
        nonce,
        gas_price: U256::from(1),
        ..Tx::default()
    }
}

fn block() -> Block {
    Block {
        gas_limit: 30_000_000,
        basefee: U256::ZERO,
        blob_basefee: U256::from(1),
        max_blobs: 9,
        chain_id: 1,
    }
}

#[test]
fn transactions_with_nested_calls_tier_per_frame() {
    let spec = SpecId::Prague;
    let interp = Engine::with_mode(EngineMode::Interp);
    let auto = Engine::new(EngineConfig {
        hot_threshold: Some(1),
        ..EngineConfig::default()
    });
    let mut s1 = tx_state(spec);
    let mut s2 = tx_state(spec);
    for n in 0..6u64 {
        let a = interp
            .transact(&mut s1, spec, &block(), &tx(n))
            .expect("valid");
        let b = auto
            .transact(&mut s2, spec, &block(), &tx(n))
            .expect("valid");
        assert_eq!(a.exit, b.exit);
        assert_eq!(a.gas_used, b.gas_used);
        assert_eq!(a.output, b.output);
        assert_eq!(
            U256::from_be_slice(&b.output),
            U256::from(n + 2),
            "counter + 1"
        );
        assert_eq!(state_root(&s1), state_root(&s2), "tx {n}");
        auto.wait_idle();
    }
    let s = auto.stats();
    // Two frames per transaction; each contract interpreted twice (threshold 1: queued on its
    // second call), native afterwards.
    assert_eq!(s.interpreter_calls + s.native_calls, 12);
    assert_eq!(s.interpreter_calls, 4, "{s:?}");
    // Each contract's region at the baseline tier, then the optimized one.
    assert_eq!(s.compiles, 4);
    assert_eq!(interp.stats().native_calls, 0);
}

#[test]
fn the_engine_is_shared_behind_an_arc() {
    let engine = Arc::new(Engine::new(EngineConfig {
        hot_threshold: Some(0),
        ..EngineConfig::default()
    }));
    let cfg = CallConfig::new(hex::decode("602a60005260206000f3").unwrap(), Bytes::new());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (engine, cfg) = (engine.clone(), cfg.clone());
            std::thread::spawn(move || {
                (0..50)
                    .map(|_| U256::from_be_slice(&engine.call(&cfg).output))
                    .all(|v| v == U256::from(42))
            })
        })
        .collect();
    for h in handles {
        assert!(h.join().expect("no panic"));
    }
}
