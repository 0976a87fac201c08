//! Programs of several functions (chunks), at both tiers: control crossing between them by
//! fallthrough, static and dynamic jumps, and exact halts in any of them, against the
//! interpreter.

use ferrite::bytecode::Bytecode;
use ferrite::interpreter::NoTracer;
use ferrite::jit::{compile_at, Program, Tier};
use ferrite::runtime::opcode::op::*;
use ferrite::runtime::{SpecId, U256};
use ferrite::sources::WithProgram;
use ferrite_state::call::{self, CallConfig};
use ferrite_state::Mode;
use std::sync::Arc;

/// The fork of every run.
const SPEC: SpecId = SpecId::Cancun;

/// Blocks in the chain: more than one chunk holds (at most 256 blocks each).
const CHAIN: usize = 700;

/// A loop over a chain of `CHAIN` blocks (`JUMPDEST PUSH1 1 POP`), counted down from calldata
/// word 0; in the middle of the chain a dynamic jump to calldata word 1 (a JUMPDEST further
/// on: it skips part of the chain), and at the end a static JUMPI back to the loop head.
/// Returns the code and the pc of the JUMPDEST at chain block `k`.
fn chain_loop() -> (Vec<u8>, impl Fn(usize) -> usize) {
    let head = 2; // the loop head's JUMPDEST, after PUSH0 CALLDATALOAD
    let block_len = 4;
    let middle = CHAIN / 2;
    // The dynamic jump sits after block `middle`: PUSH1 32 CALLDATALOAD JUMP (4 bytes).
    let at = move |k: usize| head + 1 + k * block_len + if k > middle { 4 } else { 0 };
    let mut code = vec![PUSH0, CALLDATALOAD, JUMPDEST];
    for k in 0..CHAIN {
        assert_eq!(code.len(), at(k));
        code.extend([JUMPDEST, PUSH1, 1, POP]);
        if k == middle {
            code.extend([PUSH1, 32, CALLDATALOAD, JUMP]);
        }
    }
    // n - 1, loop while non-zero; then return n's last value in memory.
    code.extend([PUSH1, 1, SWAP1, SUB, DUP1, PUSH2, 0, head as u8, JUMPI]);
    code.extend([PUSH0, MSTORE, PUSH1, 32, PUSH0, RETURN]);
    (code, at)
}

/// Runs `code` with `input` compiled (`program`) and interpreted at every gas limit up to the
/// whole run's, in steps of `step` (chosen to land in every chunk), and the limits around the
/// end, and checks both agree on status, gas and output (`target` names the case).
fn agrees_at_every_limit(
    code: &[u8],
    input: Vec<u8>,
    program: &Arc<Program>,
    step: usize,
    target: usize,
) {
    let base = {
        let mut c = CallConfig::new(code.to_vec(), input);
        c.spec = SPEC;
        c
    };
    let full = {
        let mut c = base.clone();
        c.mode = Mode::Interp;
        c.gas_limit = 10_000_000;
        call::run(&c).gas_used
    };
    let limits = (0..full + 3)
        .step_by(step)
        .chain(full.saturating_sub(3)..full + 3);
    for gas in limits {
        let mut c = base.clone();
        c.gas_limit = gas;
        c.mode = Mode::Interp;
        let want = call::run(&c);
        let got = call::run_with(&c, &mut NoTracer, &WithProgram(program.clone()));
        assert_eq!(
            (got.exit, got.gas_used, &got.output),
            (want.exit, want.gas_used, &want.output),
            "target {target}, gas {gas}"
        );
    }
}

fn input(rounds: u64, target: usize) -> Vec<u8> {
    let mut v = U256::from(rounds).to_be_bytes::<32>().to_vec();
    v.extend(U256::from(target).to_be_bytes::<32>());
    v
}

/// `code` compiled at `tier`, which must cut it into three functions or more.
fn in_chunks(code: &[u8], tier: Tier) -> Arc<Program> {
    let program =
        compile_at(Arc::new(Bytecode::new(code.to_vec().into())), SPEC, tier).expect("compiles");
    assert!(
        program.functions() >= 3,
        "{} functions: the chain should need several chunks",
        program.functions()
    );
    Arc::new(program)
}

#[test]
fn control_crosses_chunks_and_halts_exactly_in_each() {
    let (code, at) = chain_loop();
    let program = in_chunks(&code, Tier::Baseline);
    // Targets of the dynamic jump: the next block, one in a later chunk, the last block, and
    // a pc that is not a JUMPDEST (invalid jump).
    let targets = [
        at(CHAIN / 2 + 1),
        at(CHAIN - 200),
        at(CHAIN - 1),
        at(CHAIN - 1) + 1,
    ];
    for target in targets {
        agrees_at_every_limit(&code, input(3, target), &program, 97, target);
    }
}

/// Filler blocks of the optimized-tier program: enough IR for several optimized chunks.
const FILLER: usize = 2_400;
/// A call of `F` after every this many filler blocks.
const CALL_EVERY: usize = 150;

/// An optimized-tier program of several chunks: a count in a stack item, raised by a small
/// function `F` (at the end of the code) called from every part of a long chain of blocks; in
/// the middle a dynamic jump to calldata word 0 (a JUMPDEST further on), and at the end the
/// count is returned. Returns the code, the pc of the JUMPDEST at filler block `k` and the
/// return addresses of the calls.
fn calls_across_chunks() -> (Vec<u8>, Vec<usize>, Vec<usize>) {
    let mut code = vec![PUSH0];
    let mut filler_at = Vec::new();
    let mut calls = Vec::new(); // (pc of the call's PUSH2 of F, its return address)
    for k in 0..FILLER {
        filler_at.push(code.len());
        code.extend([JUMPDEST, PUSH1, 1, POP]);
        if k % CALL_EVERY == 0 {
            let ret = code.len() + 7;
            code.extend([PUSH2]);
            code.extend((ret as u16).to_be_bytes());
            calls.push((code.len(), ret));
            code.extend([PUSH2, 0, 0, JUMP, JUMPDEST]);
        }
        if k == FILLER / 2 {
            code.extend([PUSH0, CALLDATALOAD, JUMP]);
        }
    }
    code.extend([PUSH0, MSTORE, PUSH1, 32, PUSH0, RETURN]);
    let f = code.len();
    code.extend([JUMPDEST, SWAP1, PUSH1, 1, ADD, SWAP1, JUMP]);
    for (at, _) in &calls {
        code[at + 1..at + 3].copy_from_slice(&(f as u16).to_be_bytes());
    }
    let rets = calls.iter().map(|(_, r)| *r).collect();
    (code, filler_at, rets)
}

#[test]
fn optimized_chunks_call_copies_and_cross_exactly() {
    let (code, filler_at, rets) = calls_across_chunks();
    let program = in_chunks(&code, Tier::Optimized);
    // Destinations of the dynamic jump: a return address in a later chunk (an entry there), a
    // filler JUMPDEST no one pushes (continued by the interpreter), the last one, a non-JUMPDEST.
    let targets = [
        rets[rets.len() - 2],
        filler_at[FILLER / 2 + 700],
        filler_at[FILLER - 1],
        filler_at[FILLER - 1] + 1,
    ];
    for target in targets {
        let input = U256::from(target).to_be_bytes::<32>().to_vec();
        agrees_at_every_limit(&code, input, &program, 131, target);
    }
}

/// A chain of `blocks` blocks, each `JUMPDEST PUSH1 1 ADD` and `padding` bytes of a pushed and
/// dropped constant, adding one per block to calldata word 0, whose sum is returned.
fn adding_chain(blocks: usize, padding: usize) -> Vec<u8> {
    let mut code = vec![PUSH0, CALLDATALOAD];
    for _ in 0..blocks {
        code.extend([JUMPDEST, PUSH1, 1, ADD]);
        if padding > 0 {
            code.push(PUSH32);
            code.extend([0xa5; 32]);
            code.push(POP);
        }
    }
    code.extend([PUSH0, MSTORE, PUSH1, 32, PUSH0, RETURN]);
    code
}

/// Below the weight of optimized chunks, dense code (compile work per byte of code) compiles
/// as two functions, run exactly across their cut; the same blocks spread over more bytes
/// compile as one.
#[test]
fn dense_code_compiles_as_two_functions() {
    let compile = |code: &[u8]| {
        compile_at(
            Arc::new(Bytecode::new(code.to_vec().into())),
            SPEC,
            Tier::Optimized,
        )
        .expect("compiles")
    };
    let dense = adding_chain(300, 0);
    let program = Arc::new(compile(&dense));
    assert_eq!(program.functions(), 2, "dense: {} bytes", dense.len());
    let input = U256::from(5).to_be_bytes::<32>().to_vec();
    agrees_at_every_limit(&dense, input, &program, 37, 0);
    let sparse = adding_chain(300, 34);
    assert_eq!(
        compile(&sparse).functions(),
        1,
        "sparse: {} bytes",
        sparse.len()
    );
}
