//! JUMP, JUMPI, PC, GAS, RETURN/REVERT.

use super::{done, Running};
use crate::frame::Frame;
use crate::{word, ExitCode};
use alloy_primitives::{Bytes, U256};

impl Running<'_> {
    /// Moves to `dest` if it is a JUMPDEST outside PUSH data.
    #[inline(always)]
    fn jump_to(&mut self, dest: &U256) -> ExitCode {
        match word::to_u64(dest) {
            Some(d) if self.frame.code.is_jumpdest(d as usize) => {
                self.pc = d as usize;
                ExitCode::Continue
            }
            _ => ExitCode::InvalidJump,
        }
    }

    #[inline(always)]
    pub(super) fn jump(&mut self) -> ExitCode {
        let dest = self.stack.pop();
        self.jump_to(&dest)
    }

    #[inline(always)]
    pub(super) fn jumpi(&mut self) -> ExitCode {
        let dest = self.stack.pop();
        if self.stack.pop().is_zero() {
            ExitCode::Continue
        } else {
            self.jump_to(&dest)
        }
    }

    #[inline(always)]
    pub(super) fn pc_op(&mut self) -> ExitCode {
        self.stack.push(U256::from(self.pc - 1));
        ExitCode::Continue
    }

    #[inline(always)]
    pub(super) fn gas_op(&mut self) -> ExitCode {
        self.stack.push(U256::from(self.gas));
        ExitCode::Continue
    }
}

impl Frame {
    /// RETURN or REVERT (`exit` says which).
    #[inline(always)]
    pub(super) fn ret(&mut self, exit: ExitCode) -> ExitCode {
        let [offset, len] = self.popn();
        match self.memory.expand(&mut self.gas, &offset, &len) {
            Ok(off) => {
                let len = len.as_limbs()[0] as usize;
                self.output = Bytes::copy_from_slice(self.memory.slice(off, len));
                exit
            }
            Err(e) => done(Err(e)),
        }
    }
}
