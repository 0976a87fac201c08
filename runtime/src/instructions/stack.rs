//! POP, PUSH0–PUSH32, DUP1–DUP16, SWAP1–SWAP16.

use super::Running;
use crate::ExitCode;
use alloy_primitives::U256;

impl Running<'_> {
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

    /// PUSHn: reads the `N` immediate bytes at `pc` (zero-padded past the end of the code).
    #[inline(always)]
    pub(super) fn push<const N: usize>(&mut self) -> ExitCode {
        let v = crate::bytecode::immediate::<N>(self.code(), self.pc);
        self.stack.push(v);
        self.pc += N;
        ExitCode::Continue
    }

    #[inline(always)]
    pub(super) fn dup<const N: usize>(&mut self) -> ExitCode {
        self.stack.dup(N);
        ExitCode::Continue
    }

    #[inline(always)]
    pub(super) fn swap<const N: usize>(&mut self) -> ExitCode {
        self.stack.swap(N);
        ExitCode::Continue
    }
}
