//! The state-free word operations, by opcode: the one definition both tiers use.
//!
//! The interpreter's bodies call these with a constant opcode (the match folds away); compiled
//! code calls them through one helper per opcode (`builtins::PURE_HELPERS`) with the operands in place on the stack, without
//! flushing gas, stack length or pc (these operations observe none of them).

use crate::opcode::op;
use crate::word::{self, U256};

/// Unary operations (ISZERO, NOT, CLZ).
#[inline(always)]
pub fn unary(opcode: u8, a: U256) -> U256 {
    match opcode {
        op::ISZERO => word::from_bool(a.is_zero()),
        op::NOT => !a,
        op::CLZ => word::clz(a),
        _ => U256::ZERO,
    }
}

/// [`binary`] for compiled code's per-opcode helpers: the division family with its general
/// case in line (see [`word::div_in`]); the interpreter's loop keeps it out of line.
#[inline(always)]
pub fn binary_helper(opcode: u8, a: U256, b: U256) -> U256 {
    match opcode {
        op::DIV => word::div_in::<false>(a, b),
        op::SDIV => word::sdiv_in::<false>(a, b),
        op::MOD => word::rem_in::<false>(a, b),
        op::SMOD => word::smod_in::<false>(a, b),
        _ => binary(opcode, a, b),
    }
}

/// Binary operations; `a` is the top of the stack.
#[inline(always)]
pub fn binary(opcode: u8, a: U256, b: U256) -> U256 {
    match opcode {
        op::ADD => a.wrapping_add(b),
        op::MUL => a.wrapping_mul(b),
        op::SUB => a.wrapping_sub(b),
        op::DIV => word::div(a, b),
        op::SDIV => word::sdiv(a, b),
        op::MOD => word::rem(a, b),
        op::SMOD => word::smod(a, b),
        op::SIGNEXTEND => word::signextend(a, b),
        op::LT => word::from_bool(a < b),
        op::GT => word::from_bool(a > b),
        op::SLT => word::from_bool(word::slt(&a, &b)),
        op::SGT => word::from_bool(word::slt(&b, &a)),
        op::EQ => word::from_bool(a == b),
        op::AND => a & b,
        op::OR => a | b,
        op::XOR => a ^ b,
        op::BYTE => word::byte(a, b),
        op::SHL => word::shl(a, b),
        op::SHR => word::shr(a, b),
        op::SAR => word::sar(a, b),
        _ => U256::ZERO,
    }
}

/// [`ternary`] for compiled code's per-opcode helpers, storing the result in `out`: both in
/// line, MULMOD storing from each of its paths (see [`word::mulmod_to`]).
#[inline(always)]
pub fn ternary_helper(out: &mut U256, opcode: u8, a: U256, b: U256, n: U256) {
    match opcode {
        op::ADDMOD => *out = word::addmod_in(a, b, n),
        op::MULMOD => word::mulmod_to(out, a, b, n),
        _ => *out = ternary(opcode, a, b, n),
    }
}

/// Ternary operations (ADDMOD, MULMOD); `a` is the top of the stack.
#[inline(always)]
pub fn ternary(opcode: u8, a: U256, b: U256, n: U256) -> U256 {
    match opcode {
        op::ADDMOD => word::addmod(a, b, n),
        op::MULMOD => word::mulmod(a, b, n),
        _ => U256::ZERO,
    }
}

/// The operation `opcode` of `operands` (top of the stack first), by [`unary`], [`binary`] or
/// [`ternary`] as their number says; `None` for an opcode this module does not define or the
/// wrong number of operands. (Compiled code folds operations of constants with it.)
pub fn apply(opcode: u8, operands: &[U256]) -> Option<U256> {
    let arity = crate::opcode::OPCODE_INFO[usize::from(opcode)].inputs as usize;
    if !is_pure(opcode) || operands.len() != arity {
        return None;
    }
    match *operands {
        [a] => Some(unary(opcode, a)),
        [a, b] => Some(binary(opcode, a, b)),
        [a, b, n] => Some(ternary(opcode, a, b, n)),
        _ => None,
    }
}

/// True for the opcodes this module defines.
pub const fn is_pure(opcode: u8) -> bool {
    matches!(
        opcode,
        op::ISZERO
            | op::NOT
            | op::CLZ
            | op::ADD
            | op::MUL
            | op::SUB
            | op::DIV
            | op::SDIV
            | op::MOD
            | op::SMOD
            | op::SIGNEXTEND
            | op::LT
            | op::GT
            | op::SLT
            | op::SGT
            | op::EQ
            | op::AND
            | op::OR
            | op::XOR
            | op::BYTE
            | op::SHL
            | op::SHR
            | op::SAR
            | op::ADDMOD
            | op::MULMOD
    )
}
