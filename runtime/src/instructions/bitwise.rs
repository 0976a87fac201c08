//! Comparisons, bitwise logic, BYTE, shifts and CLZ.

use crate::frame::Frame;
use crate::{word, ExitCode};

binary! {
    lt => |a, b| word::from_bool(a < *b);
    gt => |a, b| word::from_bool(a > *b);
    slt => |a, b| word::from_bool(word::slt(&a, b));
    sgt => |a, b| word::from_bool(word::slt(b, &a));
    eq => |a, b| word::from_bool(a == *b);
    and => |a, b| a & *b;
    or => |a, b| a | *b;
    xor => |a, b| a ^ *b;
    byte => |a, b| word::byte(a, *b);
    shl => |a, b| word::shl(a, *b);
    shr => |a, b| word::shr(a, *b);
    sar => |a, b| word::sar(a, *b);
}

impl Frame {
    #[inline(always)]
    pub(super) fn iszero(&mut self) -> ExitCode {
        let a = self.stack.top_mut();
        *a = word::from_bool(a.is_zero());
        ExitCode::Continue
    }

    #[inline(always)]
    pub(super) fn not(&mut self) -> ExitCode {
        let a = self.stack.top_mut();
        *a = !*a;
        ExitCode::Continue
    }

    #[inline(always)]
    pub(super) fn clz(&mut self) -> ExitCode {
        let a = self.stack.top_mut();
        *a = word::clz(*a);
        ExitCode::Continue
    }
}
