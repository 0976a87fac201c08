//! Comparisons, bitwise logic, BYTE, shifts and CLZ.

use super::{pure, Running};
use crate::opcode::op;
use crate::ExitCode;

binary! {
    lt => LT;
    gt => GT;
    slt => SLT;
    sgt => SGT;
    eq => EQ;
    and => AND;
    or => OR;
    xor => XOR;
    byte => BYTE;
    shl => SHL;
    shr => SHR;
    sar => SAR;
}

impl Running<'_> {
    #[inline(always)]
    pub(super) fn iszero(&mut self) -> ExitCode {
        let a = self.stack.read(0);
        *self.stack.top_mut() = pure::unary(op::ISZERO, a);
        ExitCode::Continue
    }

    #[inline(always)]
    pub(super) fn not(&mut self) -> ExitCode {
        let a = self.stack.read(0);
        *self.stack.top_mut() = pure::unary(op::NOT, a);
        ExitCode::Continue
    }

    #[inline(always)]
    pub(super) fn clz(&mut self) -> ExitCode {
        let a = self.stack.read(0);
        *self.stack.top_mut() = pure::unary(op::CLZ, a);
        ExitCode::Continue
    }
}
