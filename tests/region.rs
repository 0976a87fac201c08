//! Region programs (only the blocks a profile shows hot are compiled; the interpreter runs the
//! rest): frames cross between the tiers mid-call in both directions and must end exactly as in
//! the interpreter — status, gas, refund, output, logs, post state (`support::run_region`).

mod support;

use ferrite::runtime::opcode::op::*;
use ferrite::runtime::{ExitCode, SpecId};
use ferrite_state::call::CallConfig;
use ferrite_state::Transact;
use support::run_region;

/// Assembly with labels: a label is a JUMPDEST; `Push(label)` pushes its pc (one byte).
enum T {
    Op(u8),
    Byte(u8),
    Label(&'static str),
    Push(&'static str),
}

fn asm(code: &[T]) -> Vec<u8> {
    let mut at = std::collections::HashMap::new();
    let mut pc = 0usize;
    for t in code {
        match t {
            T::Label(l) => {
                at.insert(*l, pc);
                pc += 1;
            }
            T::Push(_) => pc += 2,
            T::Op(_) | T::Byte(_) => pc += 1,
        }
    }
    let mut out = Vec::new();
    for t in code {
        match t {
            T::Op(o) | T::Byte(o) => out.push(*o),
            T::Label(_) => out.push(JUMPDEST),
            T::Push(l) => out.extend([PUSH1, at[l] as u8]),
        }
    }
    out
}

fn cfg(code: Vec<u8>, n: u8, gas: u64) -> CallConfig {
    let mut input = vec![0u8; 32];
    input[31] = n;
    let mut c = CallConfig::new(code, input);
    c.gas_limit = gas;
    c.spec = SpecId::Cancun;
    c
}

/// `acc, i = 0, 0; while i < n { if i % 16 == 0 { acc = acc * 3 + i (the rare branch) } else
/// { acc += i }; i += 1 }; return acc`. The rare branch returns to the loop through a computed
/// (dynamic) jump, the common one through a static one.
#[rustfmt::skip] // one line per block
fn loop_with_a_rare_branch() -> Vec<u8> {
    use T::*;
    asm(&[
        Op(PUSH1), Byte(0), Op(PUSH1), Byte(0), // acc i
        Label("loop"),
        Op(PUSH1), Byte(0), Op(CALLDATALOAD), Op(DUP2), Op(LT), Op(ISZERO), Push("end"), Op(JUMPI),
        Op(DUP1), Op(PUSH1), Byte(15), Op(AND), Push("common"), Op(JUMPI),
        // The rare branch.
        Op(SWAP1), Op(PUSH1), Byte(3), Op(MUL), Op(DUP2), Op(ADD), Op(SWAP1),
        Push("next"), Op(PUSH1), Byte(0), Op(ADD), Op(JUMP),
        Label("common"),
        Op(SWAP1), Op(DUP2), Op(ADD), Op(SWAP1),
        Label("next"),
        Op(PUSH1), Byte(1), Op(ADD), Push("loop"), Op(JUMP),
        Label("end"),
        Op(POP), Op(PUSH1), Byte(0), Op(MSTORE), Op(PUSH1), Byte(32), Op(PUSH1), Byte(0), Op(RETURN),
    ])
}

/// `for i in 0..n { mstore(0, i); staticcall(identity, 0..32 → 32..64) }; return memory[0..64]`.
#[rustfmt::skip] // one line per block
fn loop_of_calls() -> Vec<u8> {
    use T::*;
    asm(&[
        Op(PUSH1), Byte(0),
        Label("loop"),
        Op(DUP1), Op(PUSH1), Byte(0), Op(MSTORE),
        Op(PUSH1), Byte(32), Op(PUSH1), Byte(32), Op(PUSH1), Byte(32), Op(PUSH1), Byte(0),
        Op(PUSH1), Byte(4), Op(GAS), Op(STATICCALL),
        Op(POP), Op(PUSH1), Byte(1), Op(ADD), Op(DUP1), Op(PUSH1), Byte(0), Op(CALLDATALOAD), Op(GT),
        Push("loop"), Op(JUMPI),
        Op(PUSH1), Byte(64), Op(PUSH1), Byte(0), Op(RETURN),
    ])
}

#[test]
fn a_hot_loop_leaves_for_its_rare_branch_and_comes_back() {
    let code = loop_with_a_rare_branch();
    let profile = cfg(code.clone(), 200, 1_000_000);
    // Nothing compiled, some, all but the rare branch, everything that ran.
    let mut partial = false;
    for coverage in [0.0, 0.5, 0.9, 0.95, 1.0] {
        for n in [0, 1, 16, 17, 200, 255] {
            let (o, (hot, all)) = run_region(&profile, &cfg(code.clone(), n, 1_000_000), coverage);
            assert_eq!(o.exit, ExitCode::Return);
            partial |= hot > 0 && hot < all;
        }
    }
    assert!(partial, "some coverage compiled part of the code");
    // The 0.9 region leaves the rare branch out (13 of 200 iterations).
    let (_, (hot, all)) = run_region(&profile, &profile, 0.9);
    assert!(hot >= 3 && hot < all - 2, "{hot} of {all} blocks");
}

#[test]
fn out_of_gas_anywhere_in_a_region_ends_as_in_the_interpreter() {
    let code = loop_with_a_rare_branch();
    let profile = cfg(code.clone(), 40, 1_000_000);
    let full = run_region(&profile, &profile, 0.9).0;
    for gas in (0..full.gas_used + 3)
        .step_by(7)
        .chain(full.gas_used - 3..full.gas_used + 3)
    {
        run_region(&profile, &cfg(code.clone(), 40, gas), 0.9);
    }
}

/// A loop calling the identity precompile: each call suspends the frame inside the region and
/// resumes it at the block after the call (compiled or, with a low coverage, interpreted).
#[test]
fn calls_suspend_and_resume_inside_a_region() {
    let code = loop_of_calls();
    let profile = cfg(code.clone(), 10, 1_000_000);
    for coverage in [0.3, 0.7, 1.0] {
        for n in [1, 10, 30] {
            let (o, _) = run_region(&profile, &cfg(code.clone(), n, 1_000_000), coverage);
            assert_eq!((o.exit, o.output.len()), (ExitCode::Return, 64));
        }
    }
}

/// The engine profiles a contract's interpreted calls and compiles its hot region: here the
/// loop without its entry and exit blocks (each run once per call, under 1% of the
/// instructions), so every later call starts interpreted, enters native code at the loop and
/// leaves it to return. Results agree with the interpreter whatever path a call takes.
#[test]
fn the_engine_compiles_the_region_its_profile_shows_hot() {
    use ferrite::engine::{CodeStatus, Engine, EngineConfig};
    let engine = Engine::new(EngineConfig::default());
    let code = loop_with_a_rare_branch();
    let hot = cfg(code.clone(), 255, 1_000_000);
    let reference = ferrite_state::call::run(&hot);
    let mut native = false;
    for _ in 0..8 {
        let o = engine.call(&hot);
        assert_eq!(
            (o.exit, o.gas_used, &o.output),
            (reference.exit, reference.gas_used, &reference.output)
        );
        engine.wait_idle();
        if let CodeStatus::Native { .. } = engine.status(&hot.code, hot.spec) {
            native = true;
            break;
        }
    }
    assert!(native, "compiled after a few calls");
    let CodeStatus::Native { code_bytes } = engine.status(&hot.code, hot.spec) else {
        unreachable!("checked above")
    };
    let whole = ferrite::jit::compile(
        std::sync::Arc::new(ferrite::bytecode::Bytecode::new(code.clone().into())),
        hot.spec,
    )
    .expect("compiles");
    assert!(
        code_bytes < whole.code_bytes(),
        "a region: {code_bytes} vs {} bytes",
        whole.code_bytes()
    );
    let before = engine.stats().native_calls;
    for n in [0, 1, 16, 100, 255] {
        let c = cfg(code.clone(), n, 1_000_000);
        let expect = ferrite_state::call::run(&c);
        let o = engine.call(&c);
        assert_eq!(
            (o.exit, o.gas_used, &o.output),
            (expect.exit, expect.gas_used, &expect.output),
            "n = {n}"
        );
    }
    assert_eq!(engine.stats().native_calls, before + 5);
}

/// `if calldata word 1 == 0 { the loop above } else { the same loop, elsewhere }`: two paths
/// that share nothing but the first block.
#[rustfmt::skip] // one line per block
fn two_loops() -> Vec<u8> {
    use T::*;
    let body = |p: &'static str| -> Vec<T> {
        let l = |s: &'static str| -> &'static str { Box::leak(format!("{p}{s}").into_boxed_str()) };
        vec![
            Op(PUSH1), Byte(0), Op(PUSH1), Byte(0),
            Label(l("loop")),
            Op(PUSH1), Byte(0), Op(CALLDATALOAD), Op(DUP2), Op(LT), Op(ISZERO), Push(l("end")), Op(JUMPI),
            Op(SWAP1), Op(DUP2), Op(ADD), Op(SWAP1), Op(PUSH1), Byte(1), Op(ADD), Push(l("loop")), Op(JUMP),
            Label(l("end")),
            Op(POP), Op(PUSH1), Byte(0), Op(MSTORE), Op(PUSH1), Byte(32), Op(PUSH1), Byte(0), Op(RETURN),
        ]
    };
    let mut code = vec![Op(PUSH1), Byte(32), Op(CALLDATALOAD), Push("second"), Op(JUMPI)];
    code.extend(body("a"));
    code.push(Label("second"));
    code.extend(body("b"));
    asm(&code)
}

/// A region compiled from calls taking one path goes stale when the calls take the other: the
/// engine notices its cold code doing the work and recompiles the whole program, the region
/// serving calls meanwhile; every call agrees with the interpreter throughout.
#[test]
fn a_stale_region_is_recompiled_whole() {
    use ferrite::engine::{CodeStatus, Engine, EngineConfig};
    let engine = Engine::new(EngineConfig::default());
    let code = two_loops();
    let call = |n: u8, second: bool| {
        let mut c = cfg(code.clone(), n, 1_000_000);
        c.input = [c.input.to_vec(), vec![0u8; 31], vec![second as u8]]
            .concat()
            .into();
        c
    };
    let check = |c: &CallConfig| {
        let expect = ferrite_state::call::run(c);
        let o = engine.call(c);
        assert_eq!(
            (o.exit, o.gas_used, &o.output),
            (expect.exit, expect.gas_used, &expect.output)
        );
        o.gas_used
    };
    let first = call(200, false);
    for _ in 0..6 {
        check(&first);
        engine.wait_idle();
    }
    let CodeStatus::Native { code_bytes: region } = engine.status(&first.code, first.spec) else {
        panic!("compiled: {:?}", engine.status(&first.code, first.spec))
    };
    // The other path: interpreted inside the region program until the evidence (5 M gas) shows
    // it stale, then a whole-program compile.
    let second = call(200, true);
    let mut gas = 0;
    while gas < 6_000_000 {
        gas += check(&second);
    }
    check(&second);
    engine.wait_idle();
    check(&second);
    assert_eq!(engine.stats().region_recompiles, 1);
    let whole = ferrite::jit::compile(
        std::sync::Arc::new(ferrite::bytecode::Bytecode::new(code.clone().into())),
        first.spec,
    )
    .expect("compiles");
    let CodeStatus::Native { code_bytes } = engine.status(&first.code, first.spec) else {
        panic!("recompiled: {:?}", engine.status(&first.code, first.spec))
    };
    assert!(
        region < whole.code_bytes() && code_bytes == whole.code_bytes(),
        "{region} → {code_bytes}"
    );
    check(&first);
}
