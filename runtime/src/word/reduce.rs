//! Remainder of a 512-bit number by a 256-bit one whose top limb is non-zero: MULMOD's
//! reduction for a full-width modulus the first time it is seen (and whenever it is not among
//! the last two moduli or the last miss); a modulus that comes back is reduced by Barrett's
//! method ([`barrett`](super::barrett)), which needs its constant computed first.
//!
//! Knuth's algorithm D on fixed-size arrays, each quotient limb estimated from three numerator
//! limbs by a 3-by-2 division with the divisor's reciprocal (Möller and Granlund, "Improved
//! division by invariant integers", 2010, algorithms 5 and 6; intx's `udivrem` and ruint's
//! `div_nxm_normalized` do the same). ruint's `mul_mod` reaches the same steps through slices
//! and an out-of-line call; here the sizes are constants, so the loops unroll and the numerator
//! stays in registers.

use super::div::div_128_by_64;

#[inline(always)]
pub(super) fn join(hi: u64, lo: u64) -> u128 {
    (u128::from(hi) << 64) | u128::from(lo)
}

#[inline(always)]
fn high(x: u128) -> u64 {
    (x >> 64) as u64
}

/// `floor((2^128 - 1) / d) - 2^64` for `d >= 2^63`.
#[inline(always)]
fn reciprocal(d: u64) -> u64 {
    // `!d < d` because the top bit of `d` is set, so the quotient fits 64 bits.
    div_128_by_64(!d, u64::MAX, d)
}

/// `floor((2^192 - 1) / d) - 2^64` for `d >= 2^127` (MG10 algorithm 6).
#[inline(always)]
fn reciprocal_2(d: u128) -> u64 {
    let (d1, d0) = (high(d), d as u64);
    let mut v = reciprocal(d1);
    let (mut p, overflow) = d1.wrapping_mul(v).overflowing_add(d0);
    if overflow {
        v = v.wrapping_sub(1);
        if p >= d1 {
            v = v.wrapping_sub(1);
            p = p.wrapping_sub(d1);
        }
        p = p.wrapping_sub(d1);
    }
    let t = u128::from(v) * u128::from(d0);
    let (p, overflow) = p.overflowing_add(high(t));
    if overflow {
        v = v.wrapping_sub(1);
        if join(p, t as u64) >= d {
            v = v.wrapping_sub(1);
        }
    }
    v
}

thread_local! {
    /// The last normalised divisor head and its reciprocal: MULMOD's modulus is nearly always
    /// the one of the previous MULMOD (a curve's field prime), and the reciprocal costs a
    /// hardware division. A head has its top bit set, so the empty entry (0) never matches.
    static RECIPROCAL: core::cell::Cell<(u128, u64)> = const { core::cell::Cell::new((0, 0)) };
}

/// [`reciprocal_2`] of `dh`, from this thread's one-entry cache when it holds it.
#[inline(always)]
fn cached_reciprocal_2(dh: u128) -> u64 {
    RECIPROCAL.with(|c| {
        let (k, v) = c.get();
        if k == dh {
            return v;
        }
        let v = reciprocal_2(dh);
        c.set((dh, v));
        v
    })
}

/// `(u21:u0) / d` and its remainder, for `d >= 2^127`, `u21 < d` and `v = reciprocal_2(d)`
/// (MG10 algorithm 5).
#[inline(always)]
fn div_3x2(u21: u128, u0: u64, d: u128, v: u64) -> (u64, u128) {
    let q = (u128::from(high(u21)) * u128::from(v)).wrapping_add(u21);
    let r1 = (u21 as u64).wrapping_sub(high(q).wrapping_mul(high(d)));
    let t = u128::from(d as u64) * u128::from(high(q));
    let mut r = join(r1, u0).wrapping_sub(t).wrapping_sub(d);
    let mut q1 = high(q).wrapping_add(1);
    if high(r) >= q as u64 {
        q1 = q1.wrapping_sub(1);
        r = r.wrapping_add(d);
    }
    if r >= d {
        q1 = q1.wrapping_add(1);
        r = r.wrapping_sub(d);
    }
    (q1, r)
}

/// `x << s` for `s < 64` as the bits shifted into the next limb: `lo >> (64 - s)`, 0 for `s = 0`
/// (without a branch or an out-of-range shift).
#[inline(always)]
fn carried(lo: u64, s: u32) -> u64 {
    (lo >> 1) >> (63 - s)
}

/// `p mod n` for `n` with a non-zero top limb.
#[inline(always)]
pub(super) fn rem_512_by_256(p: &[u64; 8], n: &[u64; 4]) -> [u64; 4] {
    debug_assert_ne!(n[3], 0);
    // Normalise: shift both so the divisor's top bit is set; the numerator gains a ninth limb
    // holding the bits shifted out.
    let s = n[3].leading_zeros();
    let d = [
        n[0] << s,
        (n[1] << s) | carried(n[0], s),
        (n[2] << s) | carried(n[1], s),
        (n[3] << s) | carried(n[2], s),
    ];
    let mut u = [0u64; 9];
    u[0] = p[0] << s;
    for i in 1..8 {
        u[i] = (p[i] << s) | carried(p[i - 1], s);
    }
    u[8] = carried(p[7], s);
    let dh = join(d[3], d[2]);
    let v = cached_reciprocal_2(dh);
    // One quotient limb per step, top first; only the remainder is kept. Each step leaves
    // `u[j..j + 4] < d` and `u[j + 4] = 0`. The top quotient limb is zero, and its step is
    // skipped, when the product's operands were already reduced (ruint skips it too).
    if u[8] != 0 || join(u[7], u[6]) >= dh {
        step(&mut u, 4, &d, dh, v);
    }
    for j in (0..4).rev() {
        step(&mut u, j, &d, dh, v);
    }
    // Denormalise.
    let mut r = [0u64; 4];
    for i in 0..3 {
        r[i] = (u[i] >> s) | (u[i + 1] << 1 << (63 - s));
    }
    r[3] = u[3] >> s;
    r
}

/// One step of algorithm D: `u[j..j + 5] %= d`, given `u[j..j + 5] < 2^64 * d`.
#[inline(always)]
fn step(u: &mut [u64; 9], j: usize, d: &[u64; 4], dh: u128, v: u64) {
    let n21 = join(u[j + 4], u[j + 3]);
    if n21 == dh {
        // The 3-by-2 estimate would not fit a limb; Knuth's estimate `2^64 - 1` is then exact
        // or one too large.
        submul_back(u, j, d, u64::MAX);
        return;
    }
    let (q, r) = div_3x2(n21, u[j + 2], dh, v);
    // The estimate's remainder holds the top two limbs; subtract `q * d` from the low two and
    // take the borrow out of it.
    let borrow = submul::<2>(u, j, d, q);
    let (r, negative) = r.overflowing_sub(u128::from(borrow));
    u[j + 2] = r as u64;
    u[j + 3] = high(r);
    u[j + 4] = 0;
    if negative {
        // `q` was one too large: add one divisor back (the carry out cancels the borrow).
        add_4(u, j, d);
    }
}

/// `u[j..j + 5] -= q * d`, adding `d` back while the result is negative.
#[cold]
fn submul_back(u: &mut [u64; 9], j: usize, d: &[u64; 4], q: u64) {
    let borrow = submul::<4>(u, j, d, q);
    let (top, mut negative) = u[j + 4].overflowing_sub(borrow);
    u[j + 4] = top;
    while negative {
        let carry = add_4(u, j, d);
        let (top, c) = u[j + 4].overflowing_add(u64::from(carry));
        u[j + 4] = top;
        negative = !c;
    }
    debug_assert_eq!(u[j + 4], 0);
}

/// `u[j..j + N] -= q * d[..N]`, returning the borrow out of limb `j + N - 1`.
#[inline(always)]
fn submul<const N: usize>(u: &mut [u64; 9], j: usize, d: &[u64; 4], q: u64) -> u64 {
    let mut borrow = 0u64;
    for k in 0..N {
        let t = u128::from(q) * u128::from(d[k]) + u128::from(borrow);
        let (x, b) = u[j + k].overflowing_sub(t as u64);
        u[j + k] = x;
        borrow = high(t) + u64::from(b);
    }
    borrow
}

/// `u[j..j + 4] += d`, returning the carry out.
#[inline(always)]
fn add_4(u: &mut [u64; 9], j: usize, d: &[u64; 4]) -> bool {
    let mut carry = false;
    for k in 0..4 {
        let (x, c1) = u[j + k].overflowing_add(d[k]);
        let (x, c2) = x.overflowing_add(u64::from(carry));
        u[j + k] = x;
        carry = c1 | c2;
    }
    carry
}
