//! Property tests: every fast word operation against its straightforward definition in
//! [`reference`](super::reference), over edge cases (0, 1, MAX, powers of two and their
//! neighbours, sign-bit values, moduli of every limb count, divisors with top limbs zero) and
//! many random operands of every bit length.

use super::barrett::{mul_512, rem_512};
use super::reduce::rem_512_by_256;
use super::*;
use alloy_primitives::U512;

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }

    /// A random word of a random bit length, sometimes with whole limbs zeroed or all ones
    /// (the shapes that steer the algorithms' limb-count branches).
    fn word(&mut self) -> U256 {
        let mut l = [self.next(), self.next(), self.next(), self.next()];
        match self.next() % 4 {
            0 => l[(self.next() % 4) as usize] = 0,
            1 => l[(self.next() % 4) as usize] = u64::MAX,
            _ => {}
        }
        U256::from_limbs(l) >> (self.next() % 256) as usize
    }
}

/// bn254's base field prime.
const P: U256 = U256::from_limbs([
    0x3c208c16d87cfd47,
    0x97816a916871ca8d,
    0xb85045b68181585d,
    0x30644e72e131a029,
]);

fn edge_cases() -> Vec<U256> {
    let mut v = vec![
        U256::ZERO,
        U256::MAX,
        P,
        P - U256::from(1),
        P + U256::from(1),
    ];
    for k in [
        0usize, 1, 2, 31, 63, 64, 65, 127, 128, 129, 191, 192, 193, 254, 255,
    ] {
        let p = U256::from(1) << k;
        v.extend([p, p - U256::from(1), p + U256::from(1), neg(p), !p]);
    }
    for l in 0..4 {
        // A top limb of one or all ones at each limb count.
        let mut a = [0u64; 4];
        a[l] = 1;
        v.push(U256::from_limbs(a));
        a[l] = u64::MAX;
        v.push(U256::from_limbs(a));
        a[0] = 3;
        v.push(U256::from_limbs(a));
    }
    v.sort();
    v.dedup();
    v
}

fn operands() -> Vec<U256> {
    let mut v = edge_cases();
    let mut r = Rng(7);
    v.extend((0..40).map(|_| r.word()));
    v
}

/// A binary operation of ours and its reference.
type BinaryOp = (&'static str, fn(U256, U256) -> U256, fn(U256, U256) -> U256);

/// DIV, MOD, SDIV and SMOD as the interpreter takes them and as compiled code's helpers do (the
/// general case in line), each with its reference.
const DIVISIONS: [BinaryOp; 8] = [
    ("div", div, reference::div),
    ("rem", rem, reference::rem),
    ("sdiv", sdiv, reference::sdiv),
    ("smod", smod, reference::smod),
    ("div_in", div_in::<false>, reference::div),
    ("rem_in", rem_in::<false>, reference::rem),
    ("sdiv_in", sdiv_in::<false>, reference::sdiv),
    ("smod_in", smod_in::<false>, reference::smod),
];

#[test]
fn binary_operations_match_the_reference() {
    let others: [BinaryOp; 5] = [
        ("exp", exp, reference::exp),
        ("byte", byte, reference::byte),
        ("shl", shl, reference::shl),
        ("shr", shr, reference::shr),
        ("sar", sar, reference::sar),
    ];
    let vals = operands();
    let mut r = Rng(11);
    let small = |r: &mut Rng| U256::from(r.next() % 300);
    for (name, ours, theirs) in DIVISIONS.into_iter().chain(others) {
        for &a in &vals {
            for &b in &vals {
                assert_eq!(ours(a, b), theirs(a, b), "{name}({a:#x}, {b:#x})");
            }
            // Shift amounts, byte indices and exponents are mostly small.
            for _ in 0..20 {
                let s = small(&mut r);
                assert_eq!(ours(s, a), theirs(s, a), "{name}({s}, {a:#x})");
                assert_eq!(ours(a, s), theirs(a, s), "{name}({a:#x}, {s})");
            }
        }
        for _ in 0..100_000 {
            let (a, b) = (r.word(), r.word());
            assert_eq!(ours(a, b), theirs(a, b), "{name}({a:#x}, {b:#x})");
        }
    }
}

/// MULMOD's cached reciprocal: runs of products under one modulus (cache hits), then another
/// modulus, and back (misses that replace the entry), compared with the reference.
#[test]
fn mulmod_under_repeated_moduli_matches_the_reference() {
    let mut r = Rng(31);
    let moduli: Vec<U256> = (0..6)
        .map(|_| r.word() | (U256::from(1) << 255))
        .chain([U256::MAX, (U256::from(1) << 192) + U256::from(1)])
        .collect();
    for round in 0..3 {
        for (i, &n) in moduli.iter().enumerate() {
            for _ in 0..2_000 + 100 * (round + i) {
                let (a, b) = (r.word(), r.word());
                check_mulmod(a, b, n);
            }
        }
    }
}

#[test]
fn modular_operations_match_the_reference() {
    type Op = fn(U256, U256, U256) -> U256;
    // The `_in` variants are what compiled code's helpers run.
    let ops: [(&str, Op, Op); 5] = [
        ("addmod", addmod, reference::addmod),
        ("mulmod", mulmod, reference::mulmod),
        ("addmod_in", addmod_in, reference::addmod),
        ("mulmod_in", mulmod_in, reference::mulmod),
        ("mulmod_to", mulmod_into, reference::mulmod),
    ];
    let vals = operands();
    let mut r = Rng(13);
    for (name, ours, theirs) in ops {
        for &a in &vals {
            for &b in &vals {
                for &n in &vals {
                    assert_eq!(
                        ours(a, b, n),
                        theirs(a, b, n),
                        "{name}({a:#x}, {b:#x}, {n:#x})"
                    );
                }
            }
        }
        for _ in 0..200_000 {
            let (a, b, n) = (r.word(), r.word(), r.word());
            assert_eq!(
                ours(a, b, n),
                theirs(a, b, n),
                "{name}({a:#x}, {b:#x}, {n:#x})"
            );
            // Field elements: below the modulus, or not reduced.
            let (a, b) = (a % P, b % P);
            assert_eq!(ours(a, b, P), theirs(a, b, P), "{name}({a:#x}, {b:#x}, p)");
        }
    }
}

/// Both reductions (Barrett's and the division) on numerators no product of two words makes,
/// chosen so that quotient limbs are all ones (Knuth's estimate overflows and is corrected) or
/// the remainder is `n - 1` or `n - 2` (Barrett's estimate lands most corrections away), for
/// moduli at every top-limb size: 1, powers of two (`mu` one short), near 2^255 and 2^256.
#[test]
fn reduction_matches_u512_division() {
    let wide = |l: [u64; 8]| U512::from_limbs(l);
    let mut r = Rng(17);
    let mut moduli = edge_cases();
    moduli.retain(|n| n.as_limbs()[3] != 0);
    moduli.extend((0..200).map(|_| r.word() | (U256::from(1) << (192 + r.next() % 64) as usize)));
    moduli.extend(special_moduli(&mut r));
    for n in moduli {
        let nw = U512::from(n);
        let mut quotients = vec![U512::from(U256::MAX), U512::from(U256::MAX) - U512::from(1)];
        quotients.extend((0..20).map(|_| U512::from(r.word())));
        for q in quotients {
            for rem in [
                U256::ZERO,
                n - U256::from(1),
                n - U256::from(2),
                r.word() % n,
            ] {
                let (p, overflow) = nw.overflowing_mul(q);
                let (p, overflow2) = p.overflowing_add(U512::from(rem));
                if overflow || overflow2 {
                    continue;
                }
                let limbs: [u64; 8] = *p.as_limbs();
                for reduce in [rem_512, rem_512_by_256] {
                    let got = U256::from_limbs(reduce(&limbs, n.as_limbs()));
                    assert_eq!(got, rem, "{p:#x} mod {n:#x}");
                }
            }
        }
        for _ in 0..100 {
            let p = wide(std::array::from_fn(|_| r.next()));
            for reduce in [rem_512, rem_512_by_256] {
                let got = U256::from_limbs(reduce(p.as_limbs(), n.as_limbs()));
                assert_eq!(U512::from(got), p % nw, "{p:#x} mod {n:#x}");
            }
        }
    }
}

#[test]
fn product_matches_u512() {
    let mut r = Rng(19);
    for _ in 0..10_000 {
        let (a, b) = (r.word(), r.word());
        let p = U512::from_limbs(mul_512(a.as_limbs(), b.as_limbs()));
        assert_eq!(p, U512::from(a) * U512::from(b));
    }
}

/// Full-width moduli where Barrett's constant or the quotient estimates are at their limits:
/// top limb 1 (`mu` near 2^320), powers of two (`mu` one short of `2^512 / n`), around 2^255 and
/// 2^256, the curve primes contracts use, and random ones of every top-limb length.
fn special_moduli(r: &mut Rng) -> Vec<U256> {
    let one = U256::from(1);
    let hex = |s: &str| U256::from_str_radix(s, 16).unwrap();
    let mut v = vec![
        P,
        // secp256k1's field prime and group order.
        hex("fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f"),
        hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"),
        one << 192,
        (one << 192) + one,
        (one << 193) - one,
        U256::from_limbs([u64::MAX, u64::MAX, u64::MAX, 1]),
        U256::from_limbs([r.next(), r.next(), r.next(), 1]),
        U256::from_limbs([r.next(), r.next(), r.next(), 2]),
        U256::from_limbs([r.next(), r.next(), r.next(), 3]),
        one << 254,
        (one << 254) + U256::from(3),
        one << 255,
        (one << 255) - one,
        (one << 255) + one,
        U256::MAX,
        U256::MAX - one,
        U256::MAX - (one << 192) + one,
    ];
    for bits in [193, 200, 224, 250, 253, 254, 255, 256] {
        let w = U256::from_limbs([r.next(), r.next(), r.next(), r.next()]);
        v.push((w >> (256 - bits)) | (one << (bits - 1)));
    }
    v
}

/// Operands around the multiples of `n` that fit a word (`k * n + d`, `d` in -2..=2), the top
/// of the range, and random ones below `n` and of any size.
fn operands_near(n: U256, r: &mut Rng) -> Vec<U256> {
    let mut v = vec![
        U256::ZERO,
        U256::from(1),
        U256::MAX,
        U256::MAX - U256::from(1),
    ];
    for k in 1..=5u64 {
        let Some(m) = n.checked_mul(U256::from(k)) else {
            break;
        };
        for d in [-2i64, -1, 0, 1, 2] {
            let x = if d < 0 {
                m.checked_sub(U256::from(-d))
            } else {
                m.checked_add(U256::from(d))
            };
            v.extend(x);
        }
    }
    v.extend((0..6).map(|_| r.word() % n));
    v.extend((0..6).map(|_| r.word()));
    v
}

/// MULMOD of `a`, `b`, `n` equals the reference's.
#[track_caller]
fn check_mulmod(a: U256, b: U256, n: U256) {
    let want = reference::mulmod(a, b, n);
    assert_eq!(mulmod(a, b, n), want, "mulmod({a:#x}, {b:#x}, {n:#x})");
    assert_eq!(
        mulmod_in(a, b, n),
        want,
        "mulmod_in({a:#x}, {b:#x}, {n:#x})"
    );
    assert_eq!(
        mulmod_into(a, b, n),
        want,
        "mulmod_to({a:#x}, {b:#x}, {n:#x})"
    );
}

/// [`mulmod_to`] (compiled code's helper) as a function of the operands, into a slot holding
/// a stale value.
fn mulmod_into(a: U256, b: U256, n: U256) -> U256 {
    let mut out = U256::MAX;
    mulmod_to(&mut out, a, b, n);
    out
}

/// MULMOD and ADDMOD of `a`, `b`, `n` equal the reference's.
#[track_caller]
fn check_modular(a: U256, b: U256, n: U256) {
    check_mulmod(a, b, n);
    assert_eq!(
        addmod(a, b, n),
        reference::addmod(a, b, n),
        "addmod({a:#x}, {b:#x}, {n:#x})"
    );
}

/// ADDMOD and MULMOD near full-width moduli: every pair of [`operands_near`], with MULMOD's
/// first call under each modulus taking the division and the later ones Barrett's reduction.
#[test]
fn modular_near_full_width_moduli_matches_the_reference() {
    let mut r = Rng(37);
    for n in special_moduli(&mut r) {
        let vals = operands_near(n, &mut r);
        for &a in &vals {
            for &b in &vals {
                check_modular(a, b, n);
            }
        }
        for _ in 0..20_000 {
            let (a, b) = (r.word(), r.word());
            // Reduced, and a few multiples of `n` over (Huff code's lazy reduction).
            let (x, y) = (a % n, b % n);
            let k =
                |r: &mut Rng, x: U256| x.saturating_add(n.saturating_mul(U256::from(r.next() % 4)));
            let (xu, yu) = (k(&mut r, x), k(&mut r, y));
            for (a, b) in [(a, b), (x, y), (xu, yu), (x, yu), (a, y)] {
                check_modular(a, b, n);
            }
        }
    }
}

/// MULMOD's cache of two moduli and its note of the last miss: moduli taken round-robin from
/// sets of one to four (hits, hits on the second entry, misses noted then computed, evictions),
/// every call compared with the reference.
#[test]
fn mulmod_cache_under_interleaved_moduli_matches_the_reference() {
    let mut r = Rng(41);
    let pool = special_moduli(&mut r);
    for set in 1..=4 {
        for start in 0..pool.len() {
            let moduli: Vec<U256> = (0..set)
                .map(|i| pool[(start + 3 * i) % pool.len()])
                .collect();
            for i in 0..200 {
                let n = moduli[i % set];
                let (a, b) = (r.word(), r.word() % n);
                check_mulmod(a, b, n);
            }
        }
    }
}

/// DIV, MOD, SDIV and SMOD of `a` and `b` equal the reference's, both as the interpreter takes
/// them and as compiled code's helpers do (the general case in line).
#[track_caller]
fn check_division(a: U256, b: U256) {
    for (name, op, want) in DIVISIONS {
        assert_eq!(op(a, b), want(a, b), "{name}({a:#x}, {b:#x})");
    }
}

/// Divisors for every path of the division: 0, 1, every power of two (the shift and mask) and
/// its neighbours, top limbs of one and all ones at each limb count with low limbs 0, 1 and all
/// ones (the normalisation shift at 0 and 63, Knuth's estimate at its limits), the moduli of
/// [`special_moduli`], and random ones of every bit length.
fn divisors(r: &mut Rng) -> Vec<U256> {
    let one = U256::from(1);
    let mut v = vec![U256::ZERO, one, U256::MAX];
    for k in 0..256 {
        let p = one << k;
        v.extend([p, p - one, p + one, p | (one << (k / 2)), neg(p)]);
    }
    for top in 0..4 {
        for high in [1, 2, 3, u64::MAX >> 1, 1 << 63, u64::MAX] {
            for low in [0, 1, u64::MAX] {
                let mut l = [low; 4];
                l[top] = high;
                l[top + 1..].fill(0);
                v.push(U256::from_limbs(l));
            }
        }
    }
    v.extend(special_moduli(r));
    for bits in 1..=256 {
        let w = U256::from_limbs([r.next(), r.next(), r.next(), r.next()]);
        v.push((w >> (256 - bits)) | (one << (bits - 1)));
    }
    v.sort();
    v.dedup();
    v
}

/// Every division shape against ruint's: each divisor `b` of [`divisors`] with dividends `q b +
/// r` for quotients of one limb, of all-ones limbs (Knuth's estimate `2^64 - 1`) and random ones,
/// and remainders 0, 1, `b - 1` and `b - 2` (`q b - 1`: the estimate one too large, step D6) or
/// random; and with the dividends around 2^64, 2^128, 2^192 and their negations (SDIV's and
/// SMOD's magnitudes, `-2^255 / -1`).
#[test]
fn division_matches_the_reference_on_every_path() {
    let mut r = Rng(43);
    let one = U256::from(1);
    let divisors = divisors(&mut r);
    let mut fixed = edge_cases();
    for k in [64usize, 128, 192] {
        let p = one << k;
        fixed.extend([p, p - one, p + one, (p << 1) - one, neg(p), neg(p - one)]);
    }
    fixed.extend([
        SIGN_BIT,
        SIGN_BIT + one,
        SIGN_BIT - one,
        neg(one),
        U256::MAX,
    ]);
    for &b in &divisors {
        for &a in &fixed {
            check_division(a, b);
            check_division(b, a);
        }
        if b.is_zero() {
            continue;
        }
        // Quotients around 2^64: a 128-bit dividend over a one-limb divisor whose high limb is
        // just below, at or above the divisor (one hardware division, or the chain).
        let mut quotients = vec![one, U256::from(2), U256::from(u64::MAX), one << 64];
        quotients.push((one << 64) + one);
        for limbs in 1..=4 {
            quotients.push(U256::MAX >> (64 * (4 - limbs)));
        }
        quotients.extend((0..6).map(|_| r.word()));
        let remainders = [
            U256::ZERO,
            one,
            b - one,
            b.saturating_sub(U256::from(2)),
            r.word() % b,
        ];
        for &q in &quotients {
            let Some(m) = q.checked_mul(b) else {
                // The largest quotient that fits, too.
                let q = U256::MAX / b;
                for &rem in &remainders {
                    if let Some(a) = (q * b).checked_add(rem) {
                        check_division(a, b);
                    }
                }
                continue;
            };
            for &rem in &remainders {
                if let Some(a) = m.checked_add(rem) {
                    check_division(a, b);
                    check_division(neg(a), b);
                    check_division(a, neg(b));
                }
            }
        }
    }
    for _ in 0..200_000 {
        let (a, b) = (r.word(), r.word());
        check_division(a, b);
    }
}

/// ADDMOD whose sum carries out of 256 bits (the fifth dividend limb of `rem_with_carry`), or
/// lands just below, at or above `n` and `2n`, under every divisor of [`divisors`].
#[test]
fn addmod_sums_around_2_256_and_n_match_the_reference() {
    let mut r = Rng(47);
    let one = U256::from(1);
    for n in divisors(&mut r) {
        let mut vals = vec![
            U256::MAX,
            U256::MAX - one,
            SIGN_BIT,
            SIGN_BIT + one,
            SIGN_BIT - one,
        ];
        vals.extend([
            n,
            n.saturating_sub(one),
            n.saturating_add(one),
            n.saturating_mul(U256::from(2)),
        ]);
        vals.extend((0..4).map(|_| r.word() | SIGN_BIT));
        for &a in &vals {
            for &b in &vals {
                let want = reference::addmod(a, b, n);
                assert_eq!(addmod(a, b, n), want, "addmod({a:#x}, {b:#x}, {n:#x})");
                assert_eq!(
                    addmod_in(a, b, n),
                    want,
                    "addmod_in({a:#x}, {b:#x}, {n:#x})"
                );
            }
        }
    }
}
