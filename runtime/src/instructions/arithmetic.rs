//! ADD … SIGNEXTEND: binary and ternary word arithmetic (semantics in [`super::pure`]).

use super::{pure, Running};
use crate::opcode::op;
use crate::{gas, word, ExitCode};

binary! {
    add => ADD;
    mul => MUL;
    sub => SUB;
    div => DIV;
    sdiv => SDIV;
    rem => MOD;
    smod => SMOD;
    signextend => SIGNEXTEND;
}

impl Running<'_> {
    #[inline(always)]
    pub(super) fn addmod(&mut self) -> ExitCode {
        let [a, b] = self.popn();
        let n = self.stack.top_mut();
        *n = pure::ternary(op::ADDMOD, a, b, *n);
        ExitCode::Continue
    }

    #[inline(always)]
    pub(super) fn mulmod(&mut self) -> ExitCode {
        let [a, b] = self.popn();
        let n = self.stack.top_mut();
        *n = pure::ternary(op::MULMOD, a, b, *n);
        ExitCode::Continue
    }

    #[inline(always)]
    pub(super) fn exp(&mut self) -> ExitCode {
        let base = self.stack.pop();
        let exponent = *self.stack.peek(0);
        if !self.charge(gas::exp_cost(self.frame.spec, &exponent)) {
            return ExitCode::OutOfGas;
        }
        *self.stack.top_mut() = word::exp(base, exponent);
        ExitCode::Continue
    }
}
