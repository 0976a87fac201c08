//! DIV, MOD, SDIV, SMOD: the narrowest division the operands allow.

use super::{abs, from_i128, is_negative, neg, to_i64, to_u128, to_u64, U256};

/// DIV: `a / b`, 0 when `b == 0`.
#[inline(always)]
pub fn div(a: U256, b: U256) -> U256 {
    narrowest(a, b, u64::checked_div, div_u128, |a, b| {
        // Pre-shift-opcode code divides by powers of two to shift right (sha1_divs).
        match power_of_two(&b) {
            Some(k) => Some(a >> k),
            None => a.checked_div(b),
        }
    })
}

/// `a / b` on `u128` (`None` for `b == 0`). A 64-bit divisor with a quotient that fits 64
/// bits (fixed-point code: a 128-bit product over a scale) is one hardware 128-by-64 division;
/// Rust's `u128 /` is a libcall that gets there through two more calls.
#[inline(always)]
fn div_u128(a: u128, b: u128) -> Option<u128> {
    if let Ok(d) = u64::try_from(b) {
        let hi = (a >> 64) as u64;
        if hi < d {
            return Some(u128::from(div_128_by_64(hi, a as u64, d)));
        }
    }
    a.checked_div(b)
}

/// `(hi:lo) / d` for `hi < d` (so `d != 0` and the quotient fits 64 bits).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn div_128_by_64(hi: u64, lo: u64, d: u64) -> u64 {
    let q: u64;
    // SAFETY: `div` reads and writes only the named registers; with `hi < d` (the caller's
    // check) the divisor is non-zero and the quotient fits 64 bits, so it cannot fault.
    unsafe {
        core::arch::asm!(
            "div {d}",
            d = in(reg) d,
            inout("rax") lo => q,
            inout("rdx") hi => _,
            options(pure, nomem, nostack)
        );
    }
    q
}

/// `(hi:lo) / d` for `hi < d`.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub(super) fn div_128_by_64(hi: u64, lo: u64, d: u64) -> u64 {
    (((u128::from(hi) << 64) | u128::from(lo)) / u128::from(d)) as u64
}

/// MOD: `a % b`, 0 when `b == 0`.
#[inline(always)]
pub fn rem(a: U256, b: U256) -> U256 {
    narrowest(
        a,
        b,
        u64::checked_rem,
        u128::checked_rem,
        |a, b| match power_of_two(&b) {
            Some(_) => Some(a & (b - U256::from(1))),
            None => a.checked_rem(b),
        },
    )
}

/// `Some(k)` when `x = 2^k`.
#[inline(always)]
fn power_of_two(x: &U256) -> Option<usize> {
    (x.count_ones() == 1).then(|| x.trailing_zeros())
}

/// An unsigned division-like operation (`None` for a zero divisor → 0) on the narrowest integer
/// both operands fit: most operands are small, and fixed-point code (18-decimal values and
/// their products) mostly fits 128 bits, so the general 256-bit long division is the rare case.
#[inline(always)]
fn narrowest(
    a: U256,
    b: U256,
    op64: impl Fn(u64, u64) -> Option<u64>,
    op128: impl Fn(u128, u128) -> Option<u128>,
    op256: impl Fn(U256, U256) -> Option<U256>,
) -> U256 {
    if let (Some(x), Some(y)) = (to_u64(&a), to_u64(&b)) {
        return U256::from(op64(x, y).unwrap_or(0));
    }
    if let (Some(x), Some(y)) = (to_u128(&a), to_u128(&b)) {
        return U256::from(op128(x, y).unwrap_or(0));
    }
    op256(a, b).unwrap_or(U256::ZERO)
}

/// SDIV: signed division truncating toward zero; 0 when `b == 0`; `-2^255 / -1 = -2^255`.
#[inline(always)]
pub fn sdiv(a: U256, b: U256) -> U256 {
    if b.is_zero() {
        return U256::ZERO;
    }
    // Small signed operands (fixed-point code): one native 64-bit division. Only i64::MIN / -1
    // overflows i64, so division by -1 is a negation in i128 (an i128 `/` would be a libcall).
    if let (Some(x), Some(y)) = (to_i64(&a), to_i64(&b)) {
        return from_i128(if y == -1 {
            -i128::from(x)
        } else {
            i128::from(x / y)
        });
    }
    let q = div(abs(a), abs(b));
    if is_negative(&a) != is_negative(&b) {
        neg(q)
    } else {
        q
    }
}

/// SMOD: signed remainder with the sign of the dividend; 0 when `b == 0`.
#[inline(always)]
pub fn smod(a: U256, b: U256) -> U256 {
    if b.is_zero() {
        return U256::ZERO;
    }
    if let (Some(x), Some(y)) = (to_i64(&a), to_i64(&b)) {
        // `x % -1` is 0 (and i64::MIN % -1 would overflow).
        return from_i128(if y == -1 { 0 } else { i128::from(x % y) });
    }
    let r = rem(abs(a), abs(b));
    if is_negative(&a) {
        neg(r)
    } else {
        r
    }
}
