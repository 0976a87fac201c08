//! EIP-3155 tracing: one JSON object per executed instruction.
//!
//! Fields follow geth and evmone: `pc`, `op`, `gas`, `gasCost`, `memSize`, `stack`, `depth`,
//! `refund`, `opName`. The tracer records the state before an instruction and prints the line
//! after it, when `gasCost` (gas before − gas after, so CALL includes the gas it forwards) is known.

use crate::interpreter::{Frame, Tracer};
use ferrite_runtime::{ExitCode, OPCODE_INFO};
use std::fmt::Write as _;
use std::io::Write;

/// Writes EIP-3155 lines to a writer.
pub struct Eip3155<W: Write> {
    out: W,
    pending: Option<(usize, u8, u64, usize, String, usize, i64)>,
}

impl<W: Write> Eip3155<W> {
    /// A tracer writing to `out`.
    pub fn new(out: W) -> Self {
        Eip3155 { out, pending: None }
    }
}

impl<W: Write> Tracer for Eip3155<W> {
    fn step(&mut self, frame: &Frame, opcode: u8) {
        let mut stack = String::from("[");
        for (i, v) in frame.stack().as_slice().iter().enumerate() {
            if i > 0 {
                stack.push(',');
            }
            let _ = write!(stack, "\"{v:#x}\"");
        }
        stack.push(']');
        self.pending = Some((
            frame.pc(),
            opcode,
            frame.gas().remaining,
            frame.memory().len(),
            stack,
            frame.msg.depth + 1,
            frame.gas().refund,
        ));
    }

    fn step_end(&mut self, frame: &Frame, _exit: ExitCode) {
        if let Some((pc, op, gas, mem, stack, depth, refund)) = self.pending.take() {
            let cost = gas.saturating_sub(frame.gas().remaining);
            let _ = writeln!(
                self.out,
                "{{\"pc\":{pc},\"op\":{op},\"gas\":\"{gas:#x}\",\"gasCost\":\"{cost:#x}\",\"memSize\":{mem},\"stack\":{stack},\"depth\":{depth},\"refund\":{refund},\"opName\":\"{}\"}}",
                OPCODE_INFO[op as usize].name
            );
        }
    }
}
