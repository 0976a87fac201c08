//! The baseline tier's programs of several functions (chunks): control crossing between them by
//! fallthrough, static and dynamic jumps, and exact halts in any of them, against the
//! interpreter.

use ferrite::bytecode::Bytecode;
use ferrite::interpreter::NoTracer;
use ferrite::jit::{compile_at, Tier};
use ferrite::runtime::opcode::op::*;
use ferrite::runtime::{SpecId, U256};
use ferrite::sources::WithProgram;
use ferrite_state::call::{self, CallConfig};
use ferrite_state::Mode;
use std::sync::Arc;

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

fn input(rounds: u64, target: usize) -> Vec<u8> {
    let mut v = U256::from(rounds).to_be_bytes::<32>().to_vec();
    v.extend(U256::from(target).to_be_bytes::<32>());
    v
}

#[test]
fn control_crosses_chunks_and_halts_exactly_in_each() {
    let (code, at) = chain_loop();
    let spec = SpecId::Cancun;
    let program = compile_at(
        Arc::new(Bytecode::new(code.clone().into())),
        spec,
        Tier::Baseline,
    )
    .expect("compiles");
    assert!(
        program.functions() >= 3,
        "{} functions: the chain should need several chunks",
        program.functions()
    );
    let program = Arc::new(program);
    // Targets of the dynamic jump: the next block, one in a later chunk, the last block, and
    // a pc that is not a JUMPDEST (invalid jump).
    let targets = [
        at(CHAIN / 2 + 1),
        at(CHAIN - 200),
        at(CHAIN - 1),
        at(CHAIN - 1) + 1,
    ];
    for target in targets {
        let base = {
            let mut c = CallConfig::new(code.clone(), input(3, target));
            c.spec = spec;
            c
        };
        let full = {
            let mut c = base.clone();
            c.mode = Mode::Interp;
            c.gas_limit = 10_000_000;
            call::run(&c).gas_used
        };
        // Every gas limit up to the whole run's, in steps that land in every chunk, and the
        // limits around the end.
        let limits = (0..full + 3)
            .step_by(97)
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
}
