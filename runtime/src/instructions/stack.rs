//! POP, PUSH0–PUSH32, DUP1–DUP16, SWAP1–SWAP16.

use crate::frame::Frame;
use crate::ExitCode;
use alloy_primitives::U256;

impl Frame {
    #[inline(always)]
    pub(super) fn pop(&mut self) -> ExitCode {
        self.stack.pop();
        ExitCode::Continue
    }

    #[inline(always)]
    pub(super) fn push0(&mut self) -> ExitCode {
        self.stack.push(U256::ZERO);
        ExitCode::Continue
    }

    /// PUSHn: reads `n` immediate bytes (zero-padded past the end of the code).
    #[inline(always)]
    pub(super) fn push(&mut self, n: usize) -> ExitCode {
        let bytes = &self.code.padded()[self.pc..self.pc + n];
        self.stack.push(U256::from_be_slice(bytes));
        self.pc += n;
        ExitCode::Continue
    }

    #[inline(always)]
    pub(super) fn dup(&mut self, n: usize) -> ExitCode {
        self.stack.dup(n);
        ExitCode::Continue
    }

    #[inline(always)]
    pub(super) fn swap(&mut self, n: usize) -> ExitCode {
        self.stack.swap(n);
        ExitCode::Continue
    }
}
