//! ADD … SIGNEXTEND: binary and ternary word arithmetic.

use crate::frame::Frame;
use crate::{gas, word, ExitCode};

binary! {
    add => |a, b| a.wrapping_add(*b);
    mul => |a, b| a.wrapping_mul(*b);
    sub => |a, b| a.wrapping_sub(*b);
    div => |a, b| word::div(a, *b);
    sdiv => |a, b| word::sdiv(a, *b);
    rem => |a, b| word::rem(a, *b);
    smod => |a, b| word::smod(a, *b);
    signextend => |a, b| word::signextend(a, *b);
}

impl Frame {
    #[inline(always)]
    pub(super) fn addmod(&mut self) -> ExitCode {
        let [a, b] = self.popn();
        let n = self.stack.top_mut();
        *n = word::addmod(a, b, *n);
        ExitCode::Continue
    }

    #[inline(always)]
    pub(super) fn mulmod(&mut self) -> ExitCode {
        let [a, b] = self.popn();
        let n = self.stack.top_mut();
        *n = word::mulmod(a, b, *n);
        ExitCode::Continue
    }

    #[inline(always)]
    pub(super) fn exp(&mut self) -> ExitCode {
        let base = self.stack.pop();
        let exponent = *self.stack.peek(0);
        if !self.gas.charge(gas::exp_cost(self.spec, &exponent)) {
            return ExitCode::OutOfGas;
        }
        *self.stack.top_mut() = word::exp(base, exponent);
        ExitCode::Continue
    }
}
