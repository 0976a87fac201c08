//! DIV, MOD, SDIV, SMOD on 64-bit limbs, by the operands' shape.
//!
//! - Both operands fit 64 bits: one native division, inline (most divisions in real code).
//! - Otherwise, out of line ([`wide`]; inlined into the interpreter's loop, this code made the
//!   rest of the loop slower), by the divisor's top limb:
//!   - a power of two: a shift or a mask. Pre-shift-opcode code shifts right by dividing
//!     (sha1_divs: most of its divisions, by 2^41 … 2^225);
//!   - one limb: a 128-bit dividend with a 64-bit quotient is one hardware 128-by-64 division
//!     (fixed-point code), others a chain of them, one per dividend limb;
//!   - wider ([`divide`]): Knuth's algorithm D on fixed-size arrays, a hardware division
//!     estimating each quotient limb, specialised on both operands' limb counts so the loops
//!     unroll and the limbs stay in registers.
//!
//! ADDMOD's sum, when it carries out of 256 bits, goes through the same code with a fifth
//! dividend limb ([`rem_with_carry`]).
//!
//! ruint's `div_rem` (what revm uses) does the same case analysis at run time on trimmed slices
//! and estimates quotient limbs with a reciprocal, which costs a division of its own to compute;
//! a 256-bit quotient has at most four limbs, so the hardware division is the cheaper estimate.

use super::reduce::join;
use super::{from_i128, is_negative, neg, to_i64, U256};

/// A word's little-endian limbs.
type Limbs = [u64; 4];

/// DIV: `a / b`, 0 when `b == 0`.
#[inline(always)]
pub fn div(a: U256, b: U256) -> U256 {
    div_in::<true>(a, b)
}

/// MOD: `a % b`, 0 when `b == 0`.
#[inline(always)]
pub fn rem(a: U256, b: U256) -> U256 {
    rem_in::<true>(a, b)
}

/// SDIV: signed division truncating toward zero; 0 when `b == 0`; `-2^255 / -1 = -2^255`.
#[inline(always)]
pub fn sdiv(a: U256, b: U256) -> U256 {
    sdiv_in::<true>(a, b)
}

/// SMOD: signed remainder with the sign of the dividend; 0 when `b == 0`.
#[inline(always)]
pub fn smod(a: U256, b: U256) -> U256 {
    smod_in::<true>(a, b)
}

/// The four operations with the general case in line (`OUTLINE` false): for compiled code's
/// helpers, one function per opcode, where an out-of-line call took its operands through
/// memory — written as 64-bit limbs and copied as 128-bit vectors, a load that cannot be
/// store-forwarded (snailtracer's compiled SDIVs 20% slower).
#[inline(always)]
pub fn div_in<const OUTLINE: bool>(a: U256, b: U256) -> U256 {
    U256::from_limbs(udivrem::<false, OUTLINE>(a.as_limbs(), b.as_limbs()))
}

/// MOD, as [`div_in`].
#[inline(always)]
pub fn rem_in<const OUTLINE: bool>(a: U256, b: U256) -> U256 {
    U256::from_limbs(udivrem::<true, OUTLINE>(a.as_limbs(), b.as_limbs()))
}

/// SDIV, as [`div_in`].
#[inline(always)]
pub fn sdiv_in<const OUTLINE: bool>(a: U256, b: U256) -> U256 {
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
    let (x, y) = (magnitude(&a), magnitude(&b));
    let q = U256::from_limbs(udivrem::<false, OUTLINE>(&x, &y));
    if is_negative(&a) != is_negative(&b) {
        neg(q)
    } else {
        q
    }
}

/// SMOD, as [`div_in`].
#[inline(always)]
pub fn smod_in<const OUTLINE: bool>(a: U256, b: U256) -> U256 {
    if b.is_zero() {
        return U256::ZERO;
    }
    if let (Some(x), Some(y)) = (to_i64(&a), to_i64(&b)) {
        // `x % -1` is 0 (and i64::MIN % -1 would overflow).
        return from_i128(if y == -1 { 0 } else { i128::from(x % y) });
    }
    let (x, y) = (magnitude(&a), magnitude(&b));
    let r = U256::from_limbs(udivrem::<true, OUTLINE>(&x, &y));
    if is_negative(&a) {
        neg(r)
    } else {
        r
    }
}

/// `|x|` (two's complement) computed limb by limb without a branch: `(x ^ m) + (m & 1)` for the
/// sign mask `m`. A branch that returns `x` itself for a non-negative `x` copied the operand
/// through memory as 128-bit vectors, right after it had been written as 64-bit limbs — a
/// load that cannot be store-forwarded (snailtracer's compiled SDIVs 20% slower).
#[inline(always)]
fn magnitude(x: &U256) -> Limbs {
    let l = x.as_limbs();
    let m = 0u64.wrapping_sub(l[3] >> 63);
    let mut carry = m & 1;
    let mut out = [0u64; 4];
    for (o, &limb) in out.iter_mut().zip(l) {
        let (v, c) = (limb ^ m).overflowing_add(carry);
        *o = v;
        carry = u64::from(c);
    }
    out
}

/// The quotient (`REM = false`) or the remainder (`REM = true`) of `x / y`; 0 for `y = 0`.
#[inline(always)]
fn udivrem<const REM: bool, const OUTLINE: bool>(x: &Limbs, y: &Limbs) -> Limbs {
    if x[1] | x[2] | x[3] | y[1] | y[2] | y[3] == 0 {
        let r = match (REM, y[0]) {
            (_, 0) => 0,
            (false, d) => x[0] / d,
            (true, d) => x[0] % d,
        };
        return [r, 0, 0, 0];
    }
    if OUTLINE {
        wide::<REM>(x, y)
    } else {
        wide_in::<REM>(x, y)
    }
}

/// [`udivrem`] for operands not both 64-bit: out of line.
#[inline(never)]
fn wide<const REM: bool>(x: &Limbs, y: &Limbs) -> Limbs {
    wide_in::<REM>(x, y)
}

/// [`wide`]'s body.
#[inline(always)]
fn wide_in<const REM: bool>(x: &Limbs, y: &Limbs) -> Limbs {
    // By the divisor's top limb: the shift or mask of a power of two, or the general case.
    if y[1] | y[2] | y[3] == 0 {
        let d = y[0];
        if x[2] | x[3] == 0 && x[1] < d {
            // A 128-bit dividend with a 64-bit quotient (fixed-point code: a product over a
            // scale; most of snailtracer's): one hardware division.
            let (q, r) = div_rem_128_by_64(x[1], x[0], d);
            return [if REM { r } else { q }, 0, 0, 0];
        }
        // Small enough to stay here: a dividend over a one-limb divisor needs no set-up.
        by_power_of_two::<0, REM>(x, y).unwrap_or_else(|| by_limb::<REM, 4>(x, d, top_limb(x)))
    } else if y[3] != 0 {
        by_power_of_two::<3, REM>(x, y).unwrap_or_else(|| divide::<3, REM>(x, y))
    } else if y[2] != 0 {
        by_power_of_two::<2, REM>(x, y).unwrap_or_else(|| divide::<2, REM>(x, y))
    } else {
        by_power_of_two::<1, REM>(x, y).unwrap_or_else(|| divide::<1, REM>(x, y))
    }
}

/// `x / y` or `x % y` when `y` is a power of two whose top limb is `y[J]` (`None` when it is
/// not one, or zero).
#[inline(always)]
fn by_power_of_two<const J: usize, const REM: bool>(x: &Limbs, y: &Limbs) -> Option<Limbs> {
    let top = y[J];
    let below = y[..J].iter().fold(0, |acc, l| acc | l);
    if top == 0 || top & (top - 1) != 0 || below != 0 {
        return None;
    }
    let mut r = [0u64; 4];
    if REM {
        // Everything below the bit: the limbs under `J` and the low bits of limb `J`.
        r[..J].copy_from_slice(&x[..J]);
        r[J] = x[J] & (top - 1);
    } else {
        // `x >> (64 J + s)`, limb by limb.
        let s = top.trailing_zeros();
        for i in 0..4 - J {
            let next = if i + J < 3 { x[i + J + 1] } else { 0 };
            r[i] = (x[i + J] >> s) | carried(next, s);
        }
    }
    Some(r)
}

/// `(2^256 + x) % y` for `y != 0`: ADDMOD's sum when it carries out of 256 bits. The same
/// divisions with a fifth dividend limb of 1.
#[inline(never)]
pub(super) fn rem_with_carry(x: &Limbs, y: &Limbs) -> Limbs {
    let x = [x[0], x[1], x[2], x[3], 1];
    match top_limb(y) {
        0 => by_limb::<true, 5>(&x, y[0], 4),
        1 => knuth::<1, 4, true, 5>(&x, y),
        2 => knuth::<2, 4, true, 5>(&x, y),
        _ => knuth::<3, 4, true, 5>(&x, y),
    }
}

/// The bits of `hi` that a right shift by `s < 64` moves into the limb below: `hi << (64 - s)`,
/// 0 for `s = 0` (without a branch or an out-of-range shift).
#[inline(always)]
fn carried(hi: u64, s: u32) -> u64 {
    (hi << 1) << (63 - s)
}

/// The bits of `lo` that a left shift by `s < 64` moves into the limb above: `lo >> (64 - s)`,
/// 0 for `s = 0`.
#[inline(always)]
fn carried_up(lo: u64, s: u32) -> u64 {
    (lo >> 1) >> (63 - s)
}

/// Index of the top non-zero limb (0 for zero).
#[inline(always)]
fn top_limb(x: &Limbs) -> usize {
    if x[3] != 0 {
        3
    } else if x[2] != 0 {
        2
    } else if x[1] != 0 {
        1
    } else {
        0
    }
}

/// The general case: `x / y` or `x % y` for a divisor whose top limb is `y[M]`, not a power of
/// two, and operands not both 64-bit. Out of line, one function per divisor size: each is a few
/// hardware divisions, and pays only its own register saves.
#[inline(never)]
fn divide<const M: usize, const REM: bool>(x: &Limbs, y: &Limbs) -> Limbs {
    let n = top_limb(x);
    // `x < y`: from the limb counts, or, when they are equal, the limbs from the top (cheaper
    // than the division step that would find a zero quotient).
    if n < M || (n == M && x.iter().rev().lt(y.iter().rev())) {
        return if REM { *x } else { [0; 4] };
    }
    // `M` is a constant: each instance keeps its own arms.
    debug_assert!(M >= 1, "one-limb divisors are divided in `wide`");
    match (M, n) {
        (1, 1) => knuth::<1, 1, REM, 4>(x, y),
        (1, 2) => knuth::<1, 2, REM, 4>(x, y),
        (1, _) => knuth::<1, 3, REM, 4>(x, y),
        (2, 2) => knuth::<2, 2, REM, 4>(x, y),
        (2, _) => knuth::<2, 3, REM, 4>(x, y),
        _ => knuth::<3, 3, REM, 4>(x, y),
    }
}

/// `x / d` or `x % d` for a one-limb divisor and a dividend whose top limb is `x[n]`: one
/// hardware division per limb, top first, each remainder the next one's high half (so it is
/// below `d`, and the quotient limb fits).
#[inline(always)]
fn by_limb<const REM: bool, const L: usize>(x: &[u64; L], d: u64, n: usize) -> Limbs {
    if d == 0 {
        return [0; 4];
    }
    if REM {
        // The top limb is the first remainder when it is below `d` (a 128-bit dividend's
        // usually is): one division fewer.
        let (mut r, top) = if x[n] < d { (x[n], n) } else { (0, n + 1) };
        for i in (0..top).rev() {
            r = div_rem_128_by_64(r, x[i], d).1;
        }
        return [r, 0, 0, 0];
    }
    // Quotients only of four-limb dividends (an `L = 5` one, ADDMOD's sum, only wants the
    // remainder): the limbs go straight into the result.
    let mut q = [0u64; 4];
    let n = n.min(3);
    let (mut r, top) = if x[n] < d { (x[n], n) } else { (0, n + 1) };
    for i in (0..top).rev() {
        (q[i], r) = div_rem_128_by_64(r, x[i], d);
    }
    q
}

/// Knuth's algorithm D (TAOCP 4.3.1) for a divisor whose top limb is `y[M]` (`M >= 1`) and a
/// dividend of `L` limbs whose top limb is `x[N]` (`N >= M`; `N = 4` only for a remainder): both normalised so the divisor's top bit is
/// set, then one quotient limb per step, estimated by a hardware division of the window's top
/// two limbs by the divisor's top limb and corrected on the next limbs (step D3), which leaves
/// it exact or (rarely) one too large.
#[inline(always)]
fn knuth<const M: usize, const N: usize, const REM: bool, const L: usize>(
    x: &[u64; L],
    y: &Limbs,
) -> Limbs {
    let s = y[M].leading_zeros();
    let mut v = [0u64; 4];
    v[0] = y[0] << s;
    for i in 1..=M {
        v[i] = (y[i] << s) | carried_up(y[i - 1], s);
    }
    // The dividend gains a limb above `x[N]` for the bits shifted out.
    let mut u = [0u64; 6];
    u[0] = x[0] << s;
    for i in 1..=N {
        u[i] = (x[i] << s) | carried_up(x[i - 1], s);
    }
    u[N + 1] = carried_up(x[N], s);
    let (v1, v0) = (v[M], v[M - 1]);
    // At most `N - M + 1 <= 4` quotient limbs.
    let mut q = [0u64; 4];
    for j in (0..=N - M).rev() {
        // The window `u[j..=j + M + 1]` is below `v * 2^64`, so `u2 <= v1`.
        let (u2, u1, u0) = (u[j + M + 1], u[j + M], u[j + M - 1]);
        let mut qhat = estimate(u2, u1, u0, v1, v0);
        if M == 1 {
            // A two-limb divisor: the estimate is the window's exact quotient, and the remainder
            // fits the window's low two limbs.
            let r = join(u1, u0).wrapping_sub(u128::from(qhat).wrapping_mul(join(v1, v0)));
            (u[j], u[j + 1], u[j + 2]) = (r as u64, (r >> 64) as u64, 0);
            q[j] = qhat;
            continue;
        }
        // `u[j..] -= qhat * v`.
        let mut borrow = 0u64;
        for k in 0..=M {
            let t = u128::from(qhat) * u128::from(v[k]) + u128::from(borrow);
            let (d, b) = u[j + k].overflowing_sub(t as u64);
            u[j + k] = d;
            borrow = (t >> 64) as u64 + u64::from(b);
        }
        let (top, negative) = u[j + M + 1].overflowing_sub(borrow);
        u[j + M + 1] = top;
        if negative {
            // `qhat` was one too large (probability about 2/2^64): add one divisor back (step
            // D6; the carry out of the top limb cancels the borrow).
            qhat -= 1;
            let mut carry = false;
            for k in 0..=M {
                let (s, c1) = u[j + k].overflowing_add(v[k]);
                let (s, c2) = s.overflowing_add(u64::from(carry));
                u[j + k] = s;
                carry = c1 | c2;
            }
            u[j + M + 1] = u[j + M + 1].wrapping_add(u64::from(carry));
        }
        q[j] = qhat;
    }
    if REM {
        // The remainder is `u[..=M] >> s`.
        let mut r = [0u64; 4];
        for i in 0..=M {
            let next = if i < M { u[i + 1] } else { 0 };
            r[i] = (u[i] >> s) | carried(next, s);
        }
        r
    } else {
        q
    }
}

/// Step D3: `floor((u2:u1:u0) / (v1:v0))` for `v1 >= 2^63` and `(u2:u1) <= (v1:v0)`, starting
/// from `(u2:u1) / v1` (at most two too large) and correcting with `v0`. Knuth's estimate for
/// `u2 = v1` is `2^64 - 1`.
#[inline(always)]
fn estimate(u2: u64, u1: u64, u0: u64, v1: u64, v0: u64) -> u64 {
    let (mut qhat, mut rhat) = if u2 >= v1 {
        // `(u2:u1) - (2^64 - 1) v1 = u1 + v1`.
        match u1.overflowing_add(v1) {
            (r, false) => (u64::MAX, r),
            // `rhat >= 2^64`: `qhat v0 < 2^128 <= rhat:u0`, no correction.
            (_, true) => return u64::MAX,
        }
    } else {
        div_rem_128_by_64(u2, u1, v1)
    };
    for _ in 0..2 {
        if u128::from(qhat) * u128::from(v0) <= join(rhat, u0) {
            break;
        }
        qhat -= 1;
        let (r, overflow) = rhat.overflowing_add(v1);
        if overflow {
            break;
        }
        rhat = r;
    }
    qhat
}

/// `(hi:lo) / d` for `hi < d` (so `d != 0` and the quotient fits 64 bits).
#[inline(always)]
pub(super) fn div_128_by_64(hi: u64, lo: u64, d: u64) -> u64 {
    div_rem_128_by_64(hi, lo, d).0
}

/// `(hi:lo) / d` and its remainder for `hi < d`: one hardware division. Rust's `u128 /` is a
/// libcall that gets there through two more calls.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn div_rem_128_by_64(hi: u64, lo: u64, d: u64) -> (u64, u64) {
    debug_assert!(hi < d);
    let (q, r): (u64, u64);
    // SAFETY: `div` reads and writes only the named registers; with `hi < d` (the callers'
    // invariant) the divisor is non-zero and the quotient fits 64 bits, so it cannot fault.
    unsafe {
        core::arch::asm!(
            "div {d}",
            d = in(reg) d,
            inout("rax") lo => q,
            inout("rdx") hi => r,
            options(pure, nomem, nostack)
        );
    }
    (q, r)
}

/// `(hi:lo) / d` and its remainder for `hi < d`.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn div_rem_128_by_64(hi: u64, lo: u64, d: u64) -> (u64, u64) {
    let n = join(hi, lo);
    let d = u128::from(d);
    ((n / d) as u64, (n % d) as u64)
}
