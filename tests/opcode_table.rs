//! All 256 byte values against the opcode table ([`OPCODE_INFO`]).
//!
//! The table, the [`Opcode`] enum it generates and the interpreter's dispatch must agree on every
//! byte in every fork: which bytes are instructions, from which fork, how many immediate bytes
//! they skip and how many stack items they take and leave; compiled code must end every such
//! call the same way. Unlike `opcodes.rs`, which checks each instruction's results and gas by
//! hand, this checks only what the table claims, but for every byte, so a row and its dispatch
//! cannot drift apart unnoticed (the compiler already refuses a row without an arm).

use alloy_primitives::Bytes;
use ferrite::bytecode::Bytecode;
use ferrite::interpreter::{Frame, Tracer};
use ferrite::runtime::opcode::{flags, op, Opcode, OPCODE_INFO};
use ferrite::runtime::{ExitCode, SpecId};
use ferrite_state::call::{self, CallConfig};
use ferrite_state::Mode;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

#[test]
fn enum_and_table_agree_on_every_byte() {
    let mut by_name = HashMap::new();
    for b in 0..=255u8 {
        let info = &OPCODE_INFO[b as usize];
        match Opcode::from_u8(b) {
            Some(opcode) => {
                assert!(info.defined, "{b:#04x} converts but its row is undefined");
                assert_eq!(opcode as u8, b, "{b:#04x} converts to another byte");
                assert_eq!(opcode.info(), info);
                assert_eq!(opcode.name(), info.name);
                assert_eq!(
                    format!("{opcode:?}"),
                    info.name,
                    "variant and row named apart"
                );
                assert!(
                    by_name.insert(info.name, b).is_none(),
                    "{} names two bytes",
                    info.name
                );
            }
            None => {
                assert!(!info.defined, "{b:#04x} is defined but does not convert");
                assert_eq!(info.name, "UNDEFINED");
                assert_eq!((info.immediate, info.inputs, info.outputs), (0, 0, 0));
            }
        }
    }
    // Every name leads back to one byte (what an assembler relies on).
    assert_eq!(by_name.len(), 150);
}

/// Records the top frame's stack length when it first reaches `next`, the instruction after the
/// byte under test.
struct Watch {
    next: usize,
    len: Option<usize>,
}

impl Tracer for Watch {
    fn step(&mut self, frame: &Frame, _opcode: u8) {
        if frame.msg.depth == 0 && frame.pc() == self.next && self.len.is_none() {
            self.len = Some(frame.stack().len());
        }
    }
}

/// `PUSH1 v` × `operands` (zeros, except a JUMP/JUMPI destination on top), the byte `b`, its
/// immediates, then `JUMPDEST STOP` at the returned pc. Immediates are ADDs, so a PUSH that
/// skipped too few of them would underflow before the JUMPDEST; a JUMP or JUMPI goes (or falls
/// through) to the JUMPDEST.
fn probe(b: u8, operands: usize) -> (Vec<u8>, usize) {
    let immediate = OPCODE_INFO[b as usize].immediate as usize;
    let next = 2 * operands + 1 + immediate;
    let mut code = Vec::new();
    for i in 0..operands {
        let top = i + 1 == operands;
        let v = if top && matches!(b, op::JUMP | op::JUMPI) {
            next as u8
        } else {
            0
        };
        code.extend([op::PUSH1, v]);
    }
    code.push(b);
    code.extend(std::iter::repeat_n(op::ADD, immediate));
    code.extend([op::JUMPDEST, op::STOP]);
    (code, next)
}

/// Runs `probe(b, operands)` under `spec` in `mode`: the exit, the execution gas and the stack
/// length at the JUMPDEST (`None` if the frame never got there). A panic fails the test naming
/// the byte and the fork.
fn run(b: u8, operands: usize, spec: SpecId, mode: Mode) -> (ExitCode, u64, Option<usize>) {
    let (code, next) = probe(b, operands);
    let mut cfg = CallConfig::new(code, Vec::new());
    cfg.spec = spec;
    cfg.mode = mode;
    let mut watch = Watch { next, len: None };
    match catch_unwind(AssertUnwindSafe(|| call::run_traced(&cfg, &mut watch))) {
        Ok(out) => (out.exit, out.gas_used, watch.len),
        Err(_) => panic!("{b:#04x} with {operands} operands under {spec:?} ({mode:?}) panicked"),
    }
}

#[test]
fn every_byte_in_every_fork_behaves_as_its_row_says() {
    for spec in SpecId::ALL {
        for b in 0..=255u8 {
            let info = &OPCODE_INFO[b as usize];
            let inputs = info.inputs as usize;
            let enabled = info.enabled_in(spec);
            let what = format!("{b:#04x} ({}) under {spec:?}", info.name);
            let (exit, gas, len) = run(b, inputs, spec, Mode::Interp);
            if !enabled || b == op::INVALID {
                assert_eq!((exit, len), (ExitCode::InvalidOpcode, None), "{what}");
            } else if info.has(flags::TERMINATOR) {
                assert!(exit.is_success() || exit.is_revert(), "{what}: {exit:?}");
                assert_eq!(len, None, "{what} went on after halting");
            } else {
                // With exactly its inputs on the stack the instruction leaves its outputs: it
                // read nothing deeper (that would have panicked) and pushed what the row says,
                // also across a CALL*/CREATE* suspension.
                assert_eq!(exit, ExitCode::Stop, "{what}");
                assert_eq!(len, Some(info.outputs as usize), "{what}: stack after");
            }
            // One operand short: the fork check comes before the stack check.
            if inputs > 0 {
                let want = if enabled {
                    ExitCode::StackUnderflow
                } else {
                    ExitCode::InvalidOpcode
                };
                assert_eq!(run(b, inputs - 1, spec, Mode::Interp).0, want, "{what}");
            }
            // Compiled code ends the same way, with the same gas.
            let (jit_exit, jit_gas, _) = run(b, inputs, spec, Mode::Jit);
            assert_eq!(
                (jit_exit, jit_gas),
                (exit, gas),
                "{what}: JIT and interpreter"
            );
        }
    }
    // Those were native runs: a JIT that refused the code would have let the interpreter answer.
    assert!(ferrite_state::jit_engine().stats().native_calls >= 256 * SpecId::ALL.len() as u64);
}

/// `Frame::execute` is public and is also what compiled code calls (`ferrite_exec`); the
/// interpreter's checks never pass it an unassigned byte, but a direct call with one must halt
/// cleanly, touching nothing.
#[test]
fn execute_halts_on_undefined_bytes_without_touching_the_frame() {
    let cfg = CallConfig::new(Vec::new(), Vec::new());
    let mut state = call::prepare_state(&cfg);
    for b in (0..=255u8).filter(|b| !OPCODE_INFO[*b as usize].defined) {
        let code = Arc::new(Bytecode::new(Bytes::from(vec![b])));
        let mut frame = Frame::new(cfg.message(), code, SpecId::LATEST);
        assert_eq!(
            frame.execute(&mut state, b),
            ExitCode::InvalidOpcode,
            "{b:#04x}"
        );
        assert_eq!(frame.pc(), 0);
        assert!(frame.stack().is_empty());
        assert_eq!(frame.gas().remaining, cfg.gas_limit);
    }
}
