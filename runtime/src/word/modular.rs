//! ADDMOD, MULMOD and EXP.

use super::barrett::{mulmod_full, mulmod_hit};
use super::div::rem_with_carry;
use super::{rem, to_u64, U256};

/// ADDMOD: `(a + b) % n` without intermediate overflow; 0 when `n == 0`.
#[inline]
pub fn addmod(a: U256, b: U256, n: U256) -> U256 {
    add_mod(&a, &b, &n)
}

/// [`addmod_in`] out of line, as ruint's ADDMOD is: in line, it would add to the interpreter
/// loop's register pressure.
#[inline(never)]
fn add_mod(a: &U256, b: &U256, n: &U256) -> U256 {
    addmod_in(*a, *b, *n)
}

/// [`addmod`] in line, for compiled code's ADDMOD helper (as [`mulmod_to`]): the sum, less `n`
/// once when that reduces it (operands already reduced), else the remainder of the 257-bit sum
/// by this crate's division, out of line.
#[inline(always)]
pub fn addmod_in(a: U256, b: U256, n: U256) -> U256 {
    if n.is_zero() {
        return U256::ZERO;
    }
    let (s, carry) = a.overflowing_add(b);
    // Reduced operands (field arithmetic): the sum is below `2n`, at most one subtraction.
    if !carry {
        if s < n {
            return s;
        }
        let t = s - n;
        if t < n {
            return t;
        }
    }
    reduce_sum(s, carry, n)
}

/// `(carry:s) % n` for a sum [`addmod_in`] could not reduce by one subtraction.
#[inline(never)]
fn reduce_sum(s: U256, carry: bool, n: U256) -> U256 {
    if carry {
        U256::from_limbs(rem_with_carry(s.as_limbs(), n.as_limbs()))
    } else {
        rem(s, n)
    }
}

/// MULMOD: `(a * b) % n` without intermediate overflow; 0 when `n == 0`.
#[inline]
pub fn mulmod(a: U256, b: U256, n: U256) -> U256 {
    mulmod_in(a, b, n)
}

/// [`mulmod`] in line. Compiled code's helper runs the same steps as [`mulmod_to`], storing
/// from each path; as that function's value, this one ran more instructions in the
/// interpreter's MULMOD (figures in `benches/PERFORMANCE.md`), hence the two.
#[inline(always)]
pub fn mulmod_in(a: U256, b: U256, n: U256) -> U256 {
    let m = n.as_limbs();
    if m[3] == 0 {
        return a.mul_mod(b, n);
    }
    // Full-width moduli (elliptic-curve fields): the full product, reduced by Barrett's method
    // with the modulus' constant cached per thread; in line when the constant is at hand.
    match mulmod_hit(a.as_limbs(), b.as_limbs(), m) {
        Some(r) => U256::from_limbs(r),
        None => mulmod_miss(a, b, n),
    }
}

/// [`mulmod_in`] storing its result in `out`, for compiled code's MULMOD helper, in line: the
/// operands stay in the registers they came in (weierstrudel spends two thirds of its compiled
/// run time in MULMOD), and each path stores its own result (a returned value joined the
/// in-line path's registers and the out-of-line call's result in a stack slot, and copied it
/// from there).
#[inline(always)]
pub fn mulmod_to(out: &mut U256, a: U256, b: U256, n: U256) {
    let m = n.as_limbs();
    if m[3] == 0 {
        *out = a.mul_mod(b, n);
        return;
    }
    match mulmod_hit(a.as_limbs(), b.as_limbs(), m) {
        Some(r) => *out = U256::from_limbs(r),
        None => mulmod_miss_to(out, a, b, n),
    }
}

/// A full-width modulus other than the most recent one, out of line: the hot path keeps
/// nothing live for it.
#[inline(never)]
fn mulmod_miss(a: U256, b: U256, n: U256) -> U256 {
    U256::from_limbs(mulmod_full(a.as_limbs(), b.as_limbs(), n.as_limbs()))
}

/// [`mulmod_miss`] storing its result in `out`.
#[inline(never)]
fn mulmod_miss_to(out: &mut U256, a: U256, b: U256, n: U256) {
    *out = mulmod_miss(a, b, n);
}

/// EXP: `base ^ exponent mod 2^256`.
#[inline]
pub fn exp(base: U256, exponent: U256) -> U256 {
    // 2^n is how pre-shift-opcode code builds shift factors: one shift, not a power loop.
    if base == U256::from(2) {
        return match to_u64(&exponent) {
            Some(n) if n < 256 => U256::from(1) << n as usize,
            _ => U256::ZERO,
        };
    }
    base.wrapping_pow(exponent)
}
