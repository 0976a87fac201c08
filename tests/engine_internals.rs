//! Engine behaviour: tier decisions, coalescing, failure marking, eviction and freeing.

use alloy_primitives::{hex, keccak256, Bytes};
use ferrite::bytecode::Bytecode;
use ferrite::engine::{CodeStatus, Engine, EngineConfig, EngineMode};
use ferrite::frame::ProgramSource;
use ferrite::{jit, SpecId};
use ferrite_state::call::{self, CallConfig, CallOutcome};
use ferrite_state::Transact;
use std::sync::Arc;
use std::time::Duration;

/// fib(n), n = calldata word 0 (the `ferrite run --example fib` contract).
const FIB: &str = "600035600060015b8215601c57818101915090916001900391600756 5b5060005260206000f3";
/// Returns 42.
const RET42: &str = "602a60005260206000f3";

fn code(h: &str) -> Bytes {
    Bytes::from(hex::decode(h.replace(' ', "")).expect("hex"))
}

fn fib_call(n: u64) -> CallConfig {
    CallConfig::new(code(FIB), U256::from(n).to_be_bytes::<32>().to_vec())
}

use alloy_primitives::U256;

fn same(a: &CallOutcome, b: &CallOutcome) {
    assert_eq!(a.exit, b.exit);
    assert_eq!(a.gas_used, b.gas_used);
    assert_eq!(a.gas_refund, b.gas_refund);
    assert_eq!(a.output, b.output);
    assert_eq!(a.logs, b.logs);
}

/// Calls `cfg` (checking each result against the interpreter's) until it runs natively; returns
/// the interpreted calls it took. A compile request that meets the queue's lock held (by a
/// worker just starting) is dropped — calls never wait — and made again on the next call, hence
/// the loop.
fn until_native(e: &Engine, cfg: &CallConfig) -> usize {
    let reference = call::run(cfg);
    for n in 0..5 {
        let before = e.stats().native_calls;
        same(&e.call(cfg), &reference);
        if e.stats().native_calls > before {
            return n;
        }
        e.wait_idle();
    }
    panic!(
        "not native after 5 calls: {:?}",
        e.status(&cfg.code, cfg.spec)
    );
}

fn engine(f: impl FnOnce(&mut EngineConfig)) -> Engine {
    let mut c = EngineConfig::default();
    f(&mut c);
    Engine::new(c)
}

#[test]
fn auto_turns_native_after_the_threshold() {
    let e = engine(|c| c.hot_threshold = Some(3));
    let cfg = fib_call(50);
    let reference = call::run(&cfg);
    for i in 0..4 {
        same(&e.call(&cfg), &reference);
        let s = e.status(&cfg.code, SpecId::Prague);
        if i < 3 {
            assert_eq!(s, CodeStatus::Interpreted { calls: i + 1 }, "call {i}");
        }
    }
    e.wait_idle();
    assert!(matches!(
        e.status(&cfg.code, SpecId::Prague),
        CodeStatus::Native { .. }
    ));
    same(&e.call(&cfg), &reference);
    let s = e.stats();
    assert_eq!(s.interpreter_calls, 4);
    assert_eq!(s.native_calls, 1);
    // The profiled region, at the baseline tier and then the optimized one.
    assert_eq!((s.compiles, s.compile_failures), (2, 0));
    assert_eq!((s.cache_misses, s.cache_hits), (1, 4));
    assert_eq!(s.programs, 1);
    assert!(s.code_bytes > 0 && s.compile_time_total > Duration::ZERO);
    assert_eq!(s.pending_compiles, 0);
}

#[test]
fn threshold_zero_compiles_at_once_and_none_never() {
    let cfg = fib_call(10);
    let now = engine(|c| c.hot_threshold = Some(0));
    assert!(until_native(&now, &cfg) <= 2, "native on the second call");
    let never = engine(|c| c.hot_threshold = None);
    for _ in 0..10 {
        never.call(&cfg);
    }
    never.wait_idle();
    assert_eq!(never.stats().compiles, 0);
    assert_eq!(never.stats().native_calls, 0);
}

#[test]
fn fork_is_part_of_the_key() {
    let e = engine(|c| c.hot_threshold = Some(0));
    let mut cfg = fib_call(10);
    until_native(&e, &cfg);
    cfg.spec = SpecId::Cancun;
    assert_eq!(e.status(&cfg.code, SpecId::Cancun), CodeStatus::NotCached);
    until_native(&e, &cfg);
    assert_eq!(e.stats().compiles, 2);
}

#[test]
fn jit_mode_compiles_before_the_first_run_and_interp_never() {
    let cfg = fib_call(30);
    let reference = call::run(&cfg);
    let jit = Engine::with_mode(EngineMode::Jit);
    same(&jit.call(&cfg), &reference);
    assert_eq!(jit.stats().native_calls, 1);
    assert_eq!(jit.stats().interpreter_calls, 0);
    let interp = Engine::with_mode(EngineMode::Interp);
    same(&interp.call(&cfg), &reference);
    same(&interp.call(&cfg), &reference);
    let s = interp.stats();
    assert_eq!((s.native_calls, s.interpreter_calls, s.compiles), (0, 2, 0));
    assert_eq!(
        (s.cache_misses, s.cache_hits),
        (1, 1),
        "analysed code is cached"
    );
}

#[test]
fn failed_compile_marks_the_code_interpret_only() {
    // Every compile refused.
    let e = engine(|c| {
        c.hot_threshold = Some(0);
        c.max_code_size = 0;
    });
    let cfg = fib_call(20);
    let reference = call::run(&cfg);
    same(&e.call(&cfg), &reference);
    e.wait_idle();
    assert_eq!(
        e.status(&cfg.code, SpecId::Prague),
        CodeStatus::InterpretOnly
    );
    for _ in 0..5 {
        same(&e.call(&cfg), &reference);
    }
    e.wait_idle();
    let s = e.stats();
    assert_eq!((s.compiles, s.compile_failures), (0, 1), "no retry");
    assert_eq!(s.native_calls, 0);

    // Code over the JIT's own limit (padding after the program never runs).
    let mut big = code(FIB).to_vec();
    big.resize(jit::MAX_CODE_SIZE + 1, 0);
    let mut cfg = fib_call(20);
    cfg.code = Bytes::from(big);
    let e = Engine::with_mode(EngineMode::Jit);
    same(&e.call(&cfg), &call::run(&cfg));
    assert_eq!(
        e.status(&cfg.code, SpecId::Prague),
        CodeStatus::InterpretOnly
    );
    assert_eq!(e.stats().compile_failures, 1);
}

#[test]
fn duplicate_requests_coalesce() {
    let e = engine(|c| c.hot_threshold = Some(0));
    let cfg = fib_call(5);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..20 {
                    e.call(&cfg);
                }
            });
        }
    });
    e.wait_idle();
    let s = e.stats();
    assert_eq!(s.compiles + s.compile_failures, 1);
    assert_eq!(s.interpreter_calls + s.native_calls, 160);
}

#[test]
fn tiny_budget_evicts_and_stays_correct() {
    // Contracts differing in a constant; each program fits the budget alone, no two together.
    let contracts: Vec<CallConfig> = (0..4u8)
        .map(|i| {
            let mut c = fib_call(40 + u64::from(i));
            let mut bytes = c.code.to_vec();
            bytes.extend_from_slice(&[0x60, i]); // unreachable PUSH1 i: a distinct hash
            c.code = Bytes::from(bytes);
            c
        })
        .collect();
    let held = contracts
        .iter()
        .map(|c| {
            let p =
                jit::compile(Arc::new(Bytecode::new(c.code.clone())), c.spec).expect("compiles");
            ferrite::engine::held_bytes(&p)
        })
        .max()
        .expect("four");
    let e = engine(|c| {
        c.hot_threshold = Some(0);
        c.code_budget = held;
    });
    for round in 0..3 {
        for c in &contracts {
            // Interpreted (a miss: the previous contract evicted this one), then native.
            assert!(until_native(&e, c) >= 1);
            let s = e.stats();
            assert!(
                s.code_bytes <= held,
                "round {round}: {} > {held}",
                s.code_bytes
            );
            assert!(s.programs <= 1);
        }
    }
    let s = e.stats();
    assert!(s.evictions >= 11, "{s:?}");
    assert_eq!(s.native_calls, 12, "{s:?}");
    assert!(s.interpreter_calls >= 12, "{s:?}");
}

#[test]
fn entry_limit_bounds_the_cache() {
    let e = engine(|c| {
        c.mode = EngineMode::Interp;
        c.max_entries = 16;
    });
    for i in 0..100u8 {
        let cfg = CallConfig::new(vec![0x60, i, 0x00], Bytes::new());
        e.call(&cfg);
    }
    let s = e.stats();
    assert!(s.entries <= 16, "{s:?}");
    assert!(s.evictions >= 84, "{s:?}");
}

#[test]
fn evicted_program_memory_is_freed() {
    let e = engine(|c| c.hot_threshold = Some(0));
    let cfg = fib_call(7);
    until_native(&e, &cfg);
    let program = Arc::downgrade(
        &e.installed_program(keccak256(&cfg.code), SpecId::Prague)
            .expect("compiled"),
    );
    assert!(program.upgrade().is_some());
    e.clear();
    assert_eq!(e.stats().code_bytes, 0);
    assert!(
        program.upgrade().is_none(),
        "the last Arc<Program> is gone: its module was freed"
    );
}

#[test]
fn a_running_frame_keeps_its_program_through_eviction() {
    // A contract that calls itself once through CALL: evicting mid-transaction (from another
    // thread) must not free code a frame is running. Simulated by clearing between calls while a
    // native program is held, then running again.
    let e = engine(|c| c.hot_threshold = Some(0));
    let cfg = fib_call(9);
    until_native(&e, &cfg);
    let held = e
        .load(&cfg.code, keccak256(&cfg.code), SpecId::Prague)
        .program
        .expect("native");
    e.clear();
    // Still runnable: the frame's Arc keeps the module mapped.
    let mut state = call::prepare_state(&cfg);
    let mut frame = ferrite::interpreter::Frame::new(
        ferrite::Message {
            kind: ferrite::interpreter::MessageKind::Call(ferrite::interpreter::CallKind::Call),
            caller: call::CALLER,
            target: call::TARGET,
            code_address: call::TARGET,
            value: U256::ZERO,
            input: cfg.input.clone(),
            gas_limit: cfg.gas_limit,
            is_static: false,
            depth: 0,
        },
        held.analysis().code.clone(),
        SpecId::Prague,
    );
    let env = ferrite::runtime::EnvWords::new(&state.env);
    let exit = held.run(&mut frame, &mut state, Some(&env));
    assert!(exit.is_success() || exit == ferrite::ExitCode::Interpret);
}

/// Dropping an engine with a compile in flight returns without waiting for it; the detached
/// worker finishes on its own, and a new engine works meanwhile.
#[test]
fn drop_leaves_a_compile_in_flight_to_its_worker() {
    for _ in 0..5 {
        let e = engine(|c| {
            c.hot_threshold = Some(0);
            c.workers = 2;
        });
        e.call(&fib_call(3));
        drop(e);
    }
    let e = engine(|c| c.hot_threshold = Some(0));
    let r = e.call(&fib_call(3));
    e.wait_idle();
    assert_eq!(r.output, e.call(&fib_call(3)).output);
}

#[test]
fn execute_code_runs_the_given_code() {
    let e = engine(|c| c.hot_threshold = Some(0));
    let mut cfg = CallConfig::new(Bytes::new(), Bytes::new());
    cfg.gas_limit = 100_000;
    let mut state = call::prepare_state(&cfg);
    let msg = cfg.message();
    let r = e.execute_code(&mut state, SpecId::Prague, msg.clone(), code(RET42));
    assert_eq!(U256::from_be_slice(&r.output), U256::from(42));
    // The account itself has no code.
    let r = e.execute(&mut state, SpecId::Prague, msg);
    assert!(r.output.is_empty());
}

#[test]
#[should_panic(expected = "another fork")]
fn fork_parameter_must_match_the_host() {
    let e = Engine::with_mode(EngineMode::Interp);
    let mut cfg = CallConfig::new(code(RET42), Bytes::new());
    cfg.gas_limit = 100_000;
    let mut state = call::prepare_state(&cfg);
    let msg = cfg.message();
    e.execute(&mut state, SpecId::Cancun, msg);
}

#[test]
fn only_the_call_before_the_request_is_profiled_and_the_compile_frees_the_profile() {
    let e = engine(|c| c.hot_threshold = Some(3));
    let cfg = fib_call(40);
    let profiled = |e: &Engine| e.profiled_instructions(keccak256(&cfg.code), cfg.spec);
    // Calls 1 and 2: not profiled (a contract called once or twice holds no counters).
    e.call(&cfg);
    e.call(&cfg);
    assert_eq!(profiled(&e), None);
    // Call 3, the last before the request: counted.
    e.call(&cfg);
    assert!(profiled(&e).is_some_and(|n| n > 0));
    until_native(&e, &cfg);
    assert_eq!(profiled(&e), None, "the compile took the profile");
    assert!(matches!(
        e.status(&cfg.code, cfg.spec),
        CodeStatus::Native { .. }
    ));
}

#[test]
fn a_region_runs_at_the_baseline_tier_until_the_optimized_program_replaces_it() {
    let cfg = fib_call(40);
    for tier_up in [true, false] {
        let e = engine(|c| {
            c.hot_threshold = Some(1);
            c.tier_up = tier_up;
        });
        until_native(&e, &cfg);
        e.wait_idle();
        let program = e
            .load(&cfg.code, keccak256(&cfg.code), SpecId::Prague)
            .program
            .expect("native");
        assert_eq!(program.tier(), jit::Tier::Optimized);
        assert!(program.entries().is_some(), "a region program");
        let expected = if tier_up { 2 } else { 1 };
        assert_eq!(e.stats().compiles, expected, "tier_up {tier_up}");
        same(&e.call(&cfg), &call::run(&cfg));
    }
}
