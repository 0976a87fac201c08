//! Runs of JUMPDESTs: the interpreter's untraced loop charges a run at once
//! (`Running::skip_jumpdests`); the traced loop steps each, as the specification does. Both must
//! end every program the same way at every gas limit around what it needs (the halt, the gas
//! used, and the gas left that `GAS` reads after the run), and agree with the JIT and revm.

mod common;

use common::{compare, INTERP_JIT_REVM};
use ferrite::bytecode::Bytecode;
use ferrite::interpreter::{Frame, Tracer};
use ferrite::runtime::opcode::op;
use ferrite_state::call::{self, CallConfig};
use std::sync::Arc;

/// A tracer that watches nothing but makes the interpreter step one instruction at a time.
struct Stepping;

impl Tracer for Stepping {
    fn step(&mut self, _frame: &Frame, _opcode: u8) {}
}

/// `GAS PUSH0 MSTORE PUSH1 32 PUSH0 RETURN`: returns the gas left.
const RETURN_GAS: [u8; 7] = [
    op::GAS,
    op::PUSH0,
    op::MSTORE,
    op::PUSH1,
    32,
    op::PUSH0,
    op::RETURN,
];

/// The programs: runs of several lengths (around the eight-byte compares) entered by falling
/// in, by a jump into their middle, at the end of the code, and after an instruction that is
/// not a JUMPDEST.
fn programs() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for len in [1usize, 2, 7, 8, 9, 15, 16, 17, 33, 100] {
        let run = vec![op::JUMPDEST; len];
        // Fallen into from the start.
        out.push([&run[..], &RETURN_GAS].concat());
        // After a PUSH1 whose immediate is a JUMPDEST byte (data, not an instruction).
        out.push([&[op::PUSH1, op::JUMPDEST, op::POP][..], &run, &RETURN_GAS].concat());
        // Jumped into at its middle.
        let dest = 3 + len / 2;
        out.push([&[op::PUSH1, dest as u8, op::JUMP][..], &run, &RETURN_GAS].concat());
        // At the end of the code (the implicit STOP after it).
        out.push([&[op::PUSH0, op::POP][..], &run].concat());
        // The body of a loop counting 3 down to 0 (`JUMPDEST_n0`'s shape): the head, the run,
        // then `PUSH1 1 SWAP1 SUB DUP1 PUSH1 head JUMPI POP`.
        let head = 2;
        out.push(
            [
                &[op::PUSH1, 3, op::JUMPDEST][..],
                &run,
                &[
                    op::PUSH1,
                    1,
                    op::SWAP1,
                    op::SUB,
                    op::DUP1,
                    op::PUSH1,
                    head,
                    op::JUMPI,
                ],
                &[op::POP],
                &RETURN_GAS,
            ]
            .concat(),
        );
    }
    out
}

/// More JUMPDESTs than the dispatch of dynamic jumps holds (`MAX_DYNAMIC_TARGETS`), then a jump
/// the analysis leaves dynamic (`PUSH2 d PUSH1 1 ADD JUMP`) that the JIT folds to a constant:
/// onto a JUMPDEST that is otherwise only fallen into, from one the jump's `d` names, so that
/// neither a static jump nor the dispatch lands on it. The JIT hands over to the interpreter
/// there instead of entering a block whose body goes on from its predecessor's.
fn folded_jump_past_the_dispatch() -> Vec<u8> {
    let run = ferrite::analysis::MAX_DYNAMIC_TARGETS + 100;
    let d = run + 7;
    let mut code = vec![op::JUMPDEST; run];
    code.extend([
        op::PUSH2,
        (d >> 8) as u8,
        d as u8,
        op::PUSH1,
        1,
        op::ADD,
        op::JUMP,
    ]);
    assert_eq!(code.len(), d);
    code.extend([op::JUMPDEST, op::JUMPDEST]);
    code.extend(RETURN_GAS);
    code
}

fn config(code: &[u8], gas_limit: u64) -> CallConfig {
    let mut cfg = CallConfig::new(code.to_vec(), Vec::new());
    cfg.gas_limit = gas_limit;
    cfg
}

#[test]
fn runs_of_jumpdests_end_as_single_steps_do() {
    for code in programs()
        .into_iter()
        .chain([folded_jump_past_the_dispatch()])
    {
        // Compiled (the harness's JIT side would interpret code the JIT refused or failed on).
        let bytecode = Arc::new(Bytecode::new(code.clone().into()));
        if let Err(e) = ferrite::jit::compile(bytecode, config(&code, 0).spec) {
            panic!("{}: {e:?}", alloy_primitives::hex::encode(&code));
        }
        // What the code needs, from an ample run.
        let need = call::run(&config(&code, 1_000_000)).gas_used;
        let mut limits = 0;
        for gas_limit in need.saturating_sub(12)..=need + 3 {
            let cfg = config(&code, gas_limit);
            let untraced = call::run(&cfg);
            let stepped = call::run_traced(&cfg, &mut Stepping);
            assert_eq!(
                (untraced.exit, untraced.gas_used, &untraced.output),
                (stepped.exit, stepped.gas_used, &stepped.output),
                "code {} at gas limit {gas_limit}",
                alloy_primitives::hex::encode(&code)
            );
            compare(&INTERP_JIT_REVM, &cfg).unwrap_or_else(|r| panic!("{r}"));
            limits += u64::from(untraced.exit.is_success());
        }
        // Both sides of the edge: some limits pay for the whole run, some do not.
        assert!((1..16).contains(&limits), "{limits} successes");
    }
}
