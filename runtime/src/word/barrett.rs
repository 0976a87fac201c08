//! MULMOD's reduction for full-width moduli (top limb non-zero, e.g. weierstrudel's bn254 prime):
//! Barrett reduction (Handbook of Applied Cryptography, algorithm 14.42, base `b = 2^64`,
//! `k = 4`) with `mu = floor((2^512 - 1) / n)` cached per thread.
//!
//! Why Barrett and not the division of [`reduce`](super::reduce): a contract's MULMODs nearly
//! always share one modulus (a curve's field prime), so the one expensive step, `mu`, is paid
//! once per modulus, and what is left per call is multiplication — no normalising shifts, no
//! per-limb quotient estimates with their data-dependent branches. Per call: the product
//! (16 limb products), the quotient estimate `q3` (19 of the 25 limb products of `q1 * mu`: the
//! six of weight below `2^192` are skipped, HAC note 14.44 (ii)), the low five limbs of `q3 * n`
//! (14 limb products), one subtraction and at most four conditional subtractions of `n`, in
//! practice zero or one.
//!
//! Error bound (why at most four corrections). Write `x < 2^512` for the product, `q =
//! floor(x / n)`, `q1 = floor(x / 2^192)`. With `mu = floor(2^512 / n)` HAC 14.42 gives
//! `q - 2 <= floor(q1 * mu / 2^320) <= q`. Here `mu` is `floor((2^512 - 1) / n)`, one less
//! when `n` is a power of two (so that `mu < 2^320` fits five limbs even for `n = 2^192`); then
//! `q1 * mu / 2^320 > x / n - 2 - 1 / n`, so the floor is at least `q - 3`. The skipped products
//! sum to less than `2^258 < 2^320`, which lowers the estimate by at most one more: `q - 4 <= q3
//! <= q`. Hence `0 <= x - q3 * n < 5n < 2^259`, which the low five limbs hold exactly.
//!
//! The cache holds two moduli (most recent first): code alternating between two moduli, e.g.
//! ECDSA over a curve's field prime and its group order, would otherwise recompute `mu` on every
//! call. Computing `mu` is a 512-by-256 division (ruint's), about a thousand instructions, so a
//! modulus gets one only when it comes back: the first time it is seen, and whenever it is
//! missing from the cache and was not the previous miss, the product is reduced by the division
//! of [`reduce`](super::reduce) instead (Knuth's algorithm D, ~630 instructions), which is
//! what code with ever-new moduli (fuzzers, the state tests) then pays — as before Barrett.
//! `n` with a zero top limb never comes here, so the empty entries (`n = 0`) never match.

use super::reduce::{join, rem_512_by_256};
use alloy_primitives::U512;
use core::cell::Cell;

/// A modulus and its Barrett constant.
#[derive(Clone, Copy)]
struct Entry {
    n: [u64; 4],
    mu: [u64; 5],
}

/// A cache slot: the modulus and its constant in separate cells, so that a lookup reads the
/// modulus alone and the constant only on a hit (a `Cell<Entry>` is read whole, through the
/// stack).
struct Slot {
    n: Cell<[u64; 4]>,
    mu: Cell<[u64; 5]>,
}

impl Slot {
    const fn empty() -> Slot {
        Slot {
            n: Cell::new([0; 4]),
            mu: Cell::new([0; 5]),
        }
    }

    fn get(&self) -> Entry {
        Entry {
            n: self.n.get(),
            mu: self.mu.get(),
        }
    }

    fn set(&self, e: Entry) {
        self.n.set(e.n);
        self.mu.set(e.mu);
    }
}

/// This thread's moduli.
struct Cache {
    /// The two most recent full-width moduli with their constants, most recent first.
    entries: [Slot; 2],
    /// The last modulus missed without computing its constant.
    seen: Cell<[u64; 4]>,
}

thread_local! {
    static CACHE: Cache = const {
        Cache {
            entries: [Slot::empty(), Slot::empty()],
            seen: Cell::new([0; 4]),
        }
    };
}

/// `floor((2^512 - 1) / n)` for `n >= 2^192`: below `2^320`, so five limbs.
#[cold]
#[inline(never)]
fn compute_mu(n: &[u64; 4]) -> [u64; 5] {
    let d = U512::from_limbs([n[0], n[1], n[2], n[3], 0, 0, 0, 0]);
    let q = U512::MAX / d;
    let l = q.as_limbs();
    debug_assert_eq!(&l[5..], &[0, 0, 0]);
    [l[0], l[1], l[2], l[3], l[4]]
}

/// `mu` of `n` if it is the front entry, the most recent modulus.
#[inline(always)]
fn front(c: &Cache, n: &[u64; 4]) -> Option<[u64; 5]> {
    let e = &c.entries[0];
    (e.n.get() == *n).then(|| e.mu.get())
}

/// `mu` of `n` from this thread's cache; `None` the first time `n` is seen (module docs).
#[inline(always)]
fn cached_mu(n: &[u64; 4]) -> Option<[u64; 5]> {
    CACHE.with(|c| front(c, n).or_else(|| miss(c, n)))
}

/// The second entry, or a new one if `n` was seen on the previous miss: the hit (or the new
/// entry) moves to the front. A modulus seen once is only noted: code whose moduli never
/// repeat (fuzzers, the state tests) would otherwise pay a 512-bit division per MULMOD.
#[cold]
#[inline(never)]
fn miss(c: &Cache, n: &[u64; 4]) -> Option<[u64; 5]> {
    let second = c.entries[1].get();
    let e = if second.n == *n {
        second
    } else if c.seen.get() == *n {
        Entry {
            n: *n,
            mu: compute_mu(n),
        }
    } else {
        c.seen.set(*n);
        return None;
    };
    c.entries[1].set(c.entries[0].get());
    c.entries[0].set(e);
    Some(e.mu)
}

/// `(a * b) mod n` when `n` is this thread's most recent full-width modulus, else `None`
/// before any work: the hot path, in line. Everything else goes through [`mulmod_full`], out of
/// line, so that the hot path keeps no operand or product live for the other paths (the joins
/// of all paths spilled the product and copied the result twice through the stack).
#[inline(always)]
pub(super) fn mulmod_hit(a: &[u64; 4], b: &[u64; 4], n: &[u64; 4]) -> Option<[u64; 4]> {
    debug_assert_ne!(n[3], 0);
    let mu = CACHE.with(|c| front(c, n))?;
    Some(reduce(&mul_512(a, b), n, &mu))
}

/// `(a * b) mod n` for `n` with a non-zero top limb.
#[inline(always)]
pub(super) fn mulmod_full(a: &[u64; 4], b: &[u64; 4], n: &[u64; 4]) -> [u64; 4] {
    debug_assert_ne!(n[3], 0);
    let x = mul_512(a, b);
    match cached_mu(n) {
        Some(mu) => reduce(&x, n, &mu),
        None => divide(&x, n),
    }
}

/// A modulus seen for the first time: the division, out of line so that the Barrett path
/// keeps its registers.
#[inline(never)]
fn divide(x: &[u64; 8], n: &[u64; 4]) -> [u64; 4] {
    rem_512_by_256(x, n)
}

/// `x mod n` by Barrett's method for any 512-bit `x` and `n` with a non-zero top limb.
#[cfg(test)]
pub(super) fn rem_512(x: &[u64; 8], n: &[u64; 4]) -> [u64; 4] {
    reduce(x, n, &compute_mu(n))
}

/// A column sum of limb products (product scanning, "Comba" multiplication): the column's
/// 128-bit sum (`lo`, `hi`) plus the carries out of it (`over`). Summing a column before moving
/// on keeps three registers live, where row-wise schoolbook keeps a whole row of partial limbs,
/// which spilled. Each product adds in with one carry chain (`add`, `adc`, `adc`); as a `u128`
/// sum with an overflow flag it took `add`, `adc`, `setb`, `movzx`, `add`.
#[derive(Clone, Copy, Default)]
struct Column {
    lo: u64,
    hi: u64,
    over: u64,
}

impl Column {
    /// Adds `a * b` to the column: `mul`, then one carry chain (`add`, `adc`, `adc`) in
    /// assembly, five instructions with the operand's move. In Rust (a `u128` sum and an
    /// overflow flag, three `_addcarry_u64`, or [`Column::mac_portable`]) LLVM rematerialized
    /// carries through `setb` and its kin: MULMOD took 13–22% more instructions (figures in
    /// `benches/PERFORMANCE.md`).
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn mac(&mut self, a: u64, b: u64) {
        // SAFETY: register-only arithmetic on the named operands: no memory, no stack.
        unsafe {
            core::arch::asm!(
                "mul {b}",
                "add {lo}, rax",
                "adc {hi}, rdx",
                "adc {over}, 0",
                b = in(reg) b,
                lo = inout(reg) self.lo,
                hi = inout(reg) self.hi,
                over = inout(reg) self.over,
                inout("rax") a => _,
                out("rdx") _,
                options(pure, nomem, nostack)
            );
        }
    }

    /// Adds `a * b` to the column.
    #[cfg(not(target_arch = "x86_64"))]
    #[inline(always)]
    fn mac(&mut self, a: u64, b: u64) {
        self.mac_portable(a, b)
    }

    /// [`Column::mac`] in Rust: other targets' version, and the x86-64 one's reference in
    /// the tests.
    #[cfg(any(test, not(target_arch = "x86_64")))]
    #[inline(always)]
    fn mac_portable(&mut self, a: u64, b: u64) {
        let p = u128::from(a) * u128::from(b);
        let (lo, c1) = self.lo.overflowing_add(p as u64);
        // The high half of a product is at most 2^64 - 2: adding the carry cannot overflow.
        let (hi, c2) = self.hi.overflowing_add((p >> 64) as u64 + u64::from(c1));
        self.lo = lo;
        self.hi = hi;
        self.over += u64::from(c2);
    }

    /// The column's low limb; the rest carries into the next column.
    #[inline(always)]
    fn next(&mut self) -> u64 {
        let out = self.lo;
        (self.lo, self.hi, self.over) = (self.hi, self.over, 0);
        out
    }
}

/// Adds to column `$c` the products `$a[i] * $b[j]` for the listed `(i, j)`, written out: with
/// [`Column::mac`] in assembly LLVM no longer unrolls loops over the limbs, and indexes
/// spilled arrays instead.
macro_rules! column {
    ($c:ident: $a:ident * $b:ident $(($i:literal, $j:literal))*) => {
        $($c.mac($a[$i], $b[$j]);)*
    };
}

/// Columns 0 to 3 of the product of `a` and `b` (their low four limbs), from a fresh column;
/// `c` then holds what carries into column 4.
#[inline(always)]
fn low_columns(c: &mut Column, a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    column!(c: a * b (0, 0));
    let x0 = c.next();
    column!(c: a * b (0, 1) (1, 0));
    let x1 = c.next();
    column!(c: a * b (0, 2) (1, 1) (2, 0));
    let x2 = c.next();
    column!(c: a * b (0, 3) (1, 2) (2, 1) (3, 0));
    [x0, x1, x2, c.next()]
}

/// The 512-bit product of two 256-bit numbers (little-endian limbs), column by column.
#[inline(always)]
pub(super) fn mul_512(a: &[u64; 4], b: &[u64; 4]) -> [u64; 8] {
    let mut c = Column::default();
    let [x0, x1, x2, x3] = low_columns(&mut c, a, b);
    column!(c: a * b (1, 3) (2, 2) (3, 1));
    let x4 = c.next();
    column!(c: a * b (2, 3) (3, 2));
    let x5 = c.next();
    column!(c: a * b (3, 3));
    let x6 = c.next();
    [x0, x1, x2, x3, x4, x5, x6, c.lo]
}

/// `x mod n` given `mu` of `n` (HAC 14.42).
#[inline(always)]
fn reduce(x: &[u64; 8], n: &[u64; 4], mu: &[u64; 5]) -> [u64; 4] {
    // q1 = floor(x / 2^192).
    let q1 = [x[3], x[4], x[5], x[6], x[7]];
    // q3 = floor(q1 * mu / 2^320), from the columns of weight 2^192 and up only (HAC 14.44
    // (ii)); columns 3 and 4 only carry into column 5.
    let mut c = Column::default();
    column!(c: q1 * mu (0, 3) (1, 2) (2, 1) (3, 0));
    c.next();
    column!(c: q1 * mu (0, 4) (1, 3) (2, 2) (3, 1) (4, 0));
    c.next();
    column!(c: q1 * mu (1, 4) (2, 3) (3, 2) (4, 1));
    let q0 = c.next();
    column!(c: q1 * mu (2, 4) (3, 3) (4, 2));
    let q1_ = c.next();
    column!(c: q1 * mu (3, 4) (4, 3));
    let q2 = c.next();
    column!(c: q1 * mu (4, 4));
    let q3_ = c.next();
    let q3 = [q0, q1_, q2, q3_, c.lo];
    // r = (x - q3 * n) mod 2^320: the low five limbs of the product suffice, as the difference
    // is below 2^259 (module docs). Column 4 only needs its low limb.
    let mut c = Column::default();
    let [m0, m1, m2, m3] = low_columns(&mut c, &[q3[0], q3[1], q3[2], q3[3]], n);
    let mut top = c.lo;
    for i in 1..5 {
        top = top.wrapping_add(q3[i].wrapping_mul(n[4 - i]));
    }
    let m = [m0, m1, m2, m3, top];
    let mut r = [x[0], x[1], x[2], x[3], x[4]];
    sub_assign(&mut r, &m);
    // Subtract n while r >= n: at most four times, nearly always not at all (0.08 times per
    // call on random bn254 products). The test compares the top limbs first, which settles it
    // almost always; the subtraction then needs no borrow out.
    while r[4] != 0 || !below(&r, n) {
        let borrow = sub_assign(&mut r[..4], n);
        r[4] = r[4].wrapping_sub(u64::from(borrow));
    }
    [r[0], r[1], r[2], r[3]]
}

/// `r[..4] < n`, comparing from the top limb.
#[inline(always)]
fn below(r: &[u64; 5], n: &[u64; 4]) -> bool {
    let (rh, nh) = (join(r[3], r[2]), join(n[3], n[2]));
    rh < nh || (rh == nh && join(r[1], r[0]) < join(n[1], n[0]))
}

/// `r -= b` limb by limb (as many limbs as `b` has), returning the borrow out.
#[inline(always)]
fn sub_assign(r: &mut [u64], b: &[u64]) -> bool {
    let mut borrow = false;
    for (r, b) in r.iter_mut().zip(b) {
        let (d, b1) = r.overflowing_sub(*b);
        let (d, b2) = d.overflowing_sub(u64::from(borrow));
        *r = d;
        borrow = b1 | b2;
    }
    borrow
}

#[cfg(test)]
mod tests {
    use super::Column;

    /// The assembly `mac` and the portable one agree, on columns near their limits too.
    #[test]
    fn mac_matches_the_portable_version() {
        let mut x = 0x243f_6a88_85a3_08d3u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let edges = [0, 1, u64::MAX, u64::MAX - 1, 1 << 63];
        for round in 0..20_000 {
            let pick = |r: u64, i: usize| if (r >> i) & 3 == 0 { edges[i % 5] } else { r };
            let r = next();
            let start = Column {
                lo: pick(next(), 0),
                hi: pick(next(), 2),
                // `over` counts carries: small in use, but any value must add the same.
                over: if round % 2 == 0 {
                    r % 64
                } else {
                    pick(r, 4) >> 1
                },
            };
            let (a, b) = (pick(next(), 6), pick(next(), 8));
            let (mut fast, mut slow) = (start, start);
            fast.mac(a, b);
            slow.mac_portable(a, b);
            assert_eq!(
                (fast.lo, fast.hi, fast.over),
                (slow.lo, slow.hi, slow.over),
                "{a:#x} * {b:#x} onto ({:#x}, {:#x}, {})",
                start.lo,
                start.hi,
                start.over
            );
        }
    }
}
