//! The 256-bit word helpers both tiers share, against ruint's own routines: `cargo bench --bench
//! words` (issues 18/19).
//!
//! Each benchmark runs one operation over a fixed batch of [`BATCH`] operand sets of one shape
//! (drawn from a seeded generator, so runs compare), `ferrite` through `word::*` (what the
//! interpreter and the JIT's helpers call) and `ruint` through `word::reference::*` (ruint's
//! `mul_mod`, `add_mod`, `wrapping_pow`, `checked_div`, shifts, …). Throughput is per operation.
//! Shapes follow the contracts: MULMOD/ADDMOD with the bn254 prime weierstrudel uses (full-width
//! unreduced operands, and operands already below it), 64- and 128-bit moduli; divisions whose
//! operands fit 64 or 128 bits (fixed-point code) or not; EXP with one-byte and full-width
//! exponents; KECCAK256 of one or two words, each input new (the memo misses) or repeated.

use criterion::{BenchmarkId, Criterion, Throughput};
use ferrite_runtime::word::{self, reference};
use ferrite_runtime::U256;
use std::hint::black_box;
use std::time::Duration;

/// Operand sets per batch.
const BATCH: usize = 256;

/// Batches per case in counting mode.
const COUNT_BATCHES: usize = 4;

/// Counting mode (`WORDS_COUNT=1`): instead of timing, run each case [`COUNT_BATCHES`] times
/// through [`run_case`], for instruction counts that the other builds on this machine do not
/// disturb: `WORDS_COUNT=1 valgrind --tool=callgrind --dump-after='*run_case*' <bench binary>`
/// writes one profile per case, in the order the cases print. Each case runs twice, first as
/// `-`: its profile also counts the set-up since the previous case.
fn counting() -> bool {
    std::env::var_os("WORDS_COUNT").is_some()
}

/// Runs one case in counting mode (never inlined: callgrind dumps after each call).
#[inline(never)]
fn run_case(label: &str, f: &mut dyn FnMut()) {
    println!("case {label}");
    for _ in 0..COUNT_BATCHES {
        f();
    }
}

/// [`run_case`] twice: a warm-up labelled `-`, then the counted run.
fn count_case(label: &str, f: &mut dyn FnMut()) {
    run_case("-", f);
    run_case(label, f);
}

/// bn254's base field prime (weierstrudel's modulus).
const P: U256 = U256::from_limbs([
    0x3c208c16d87cfd47,
    0x97816a916871ca8d,
    0xb85045b68181585d,
    0x30644e72e131a029,
]);

/// splitmix64: a small seeded generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }

    /// A word of `bits` random bits (the top one set, so it has that many).
    fn bits(&mut self, bits: usize) -> U256 {
        let w = U256::from_limbs([self.next(), self.next(), self.next(), self.next()]);
        if bits == 0 {
            return U256::ZERO;
        }
        (w >> (256 - bits)) | (U256::from(1) << (bits - 1))
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A word of 1 to `max` bits, every length equally likely.
    fn upto(&mut self, max: u64) -> U256 {
        let bits = 1 + self.below(max) as usize;
        self.bits(bits)
    }
}

type Binary = fn(U256, U256) -> U256;
type Ternary = fn(U256, U256, U256) -> U256;
/// A shape's name and its operand sets.
type Cases<T> = [(&'static str, Vec<T>)];
/// A hash function.
type Hash = fn(&[u8]) -> ferrite_runtime::B256;

fn bench_binary(
    c: &mut Criterion,
    group: &str,
    cases: &Cases<(U256, U256)>,
    ours: Binary,
    theirs: Binary,
) {
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(BATCH as u64));
    for (shape, ops) in cases {
        for (name, f) in [("ferrite", ours), ("ruint", theirs)] {
            for &(a, b) in ops {
                assert_eq!(ours(a, b), theirs(a, b), "{group} {a} {b}");
            }
            let run = |ops: &[(U256, U256)]| {
                let mut acc = U256::ZERO;
                for &(a, b) in ops {
                    acc ^= f(black_box(a), black_box(b));
                }
                acc
            };
            if counting() {
                count_case(&format!("{group}/{shape}/{name}"), &mut || {
                    black_box(run(ops));
                });
                continue;
            }
            g.bench_with_input(BenchmarkId::new(*shape, name), ops, |bch, ops| {
                bch.iter(|| run(ops))
            });
        }
    }
    g.finish();
}

fn bench_ternary(
    c: &mut Criterion,
    group: &str,
    cases: &Cases<(U256, U256, U256)>,
    ours: Ternary,
    theirs: Ternary,
) {
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(BATCH as u64));
    for (shape, ops) in cases {
        for (name, f) in [("ferrite", ours), ("ruint", theirs)] {
            for &(a, b, n) in ops {
                assert_eq!(ours(a, b, n), theirs(a, b, n), "{group} {a} {b} {n}");
            }
            let run = |ops: &[(U256, U256, U256)]| {
                let mut acc = U256::ZERO;
                for &(a, b, n) in ops {
                    acc ^= f(black_box(a), black_box(b), black_box(n));
                }
                acc
            };
            if counting() {
                count_case(&format!("{group}/{shape}/{name}"), &mut || {
                    black_box(run(ops));
                });
                continue;
            }
            g.bench_with_input(BenchmarkId::new(*shape, name), ops, |bch, ops| {
                bch.iter(|| run(ops))
            });
        }
    }
    g.finish();
}

fn batch<T>(mut f: impl FnMut() -> T) -> Vec<T> {
    (0..BATCH).map(|_| f()).collect()
}

fn modular(c: &mut Criterion) {
    let mut r = Rng(1);
    let full_p = batch(|| (r.bits(256), r.bits(256), P));
    let reduced_p = batch(|| (r.bits(256) % P, r.bits(256) % P, P));
    let n128 = batch(|| (r.bits(256), r.bits(256), r.bits(128)));
    let n64 = batch(|| (r.bits(64), r.bits(64), r.bits(64)));
    let mixed = batch(|| (r.upto(256), r.upto(256), r.upto(256)));
    let cases = [
        ("p-full", full_p),
        ("p-reduced", reduced_p),
        ("n128", n128),
        ("n64", n64),
        ("mixed", mixed),
    ];
    bench_ternary(c, "mulmod", &cases, word::mulmod, reference::mulmod);
    bench_ternary(c, "addmod", &cases, word::addmod, reference::addmod);
}

fn exp(c: &mut Criterion) {
    let mut r = Rng(2);
    let cases = [
        ("e8", batch(|| (r.bits(256), U256::from(r.below(256))))),
        ("e256", batch(|| (r.bits(256), r.bits(256)))),
        ("base2", batch(|| (U256::from(2), U256::from(r.below(300))))),
        (
            "base10",
            batch(|| (U256::from(10), U256::from(r.below(78)))),
        ),
    ];
    bench_binary(c, "exp", &cases, word::exp, reference::exp);
}

fn division(c: &mut Criterion) {
    let mut r = Rng(3);
    let signed = |x: U256, r: &mut Rng| if r.next() & 1 == 1 { word::neg(x) } else { x };
    let mut shapes = |signs: bool| {
        let pick = |bits_a: usize, bits_b: usize, r: &mut Rng| {
            batch(|| {
                let (a, b) = (r.upto(bits_a as u64), r.upto(bits_b as u64));
                if signs {
                    (signed(a, r), signed(b, r))
                } else {
                    (a, b)
                }
            })
        };
        [
            ("64", pick(64, 64, &mut r)),
            ("128", pick(128, 128, &mut r)),
            ("256/64", pick(256, 64, &mut r)),
            ("256/128", pick(256, 128, &mut r)),
            ("256", pick(256, 256, &mut r)),
            ("p", batch(|| (r.bits(256), P))),
            ("n128", batch(|| (r.bits(256), r.bits(128)))),
            // Fixed-point: a product of two values over a 10^18 scale.
            (
                "wad",
                batch(|| {
                    let a = r.upto(64) * r.upto(64);
                    let b = U256::from(10u64.pow(18));
                    if signs {
                        (signed(a, &mut r), b)
                    } else {
                        (a, b)
                    }
                }),
            ),
            // Divisions by powers of two: pre-shift-opcode code's right shifts (sha1_divs).
            (
                "pow2",
                batch(|| {
                    let a = r.upto(256);
                    let b = U256::from(1) << r.below(256) as usize;
                    if signs {
                        (signed(a, &mut r), b)
                    } else {
                        (a, b)
                    }
                }),
            ),
        ]
    };
    let unsigned = shapes(false);
    let signed_cases = shapes(true);
    bench_binary(c, "div", &unsigned, word::div, reference::div);
    bench_binary(c, "mod", &unsigned, word::rem, reference::rem);
    bench_binary(c, "sdiv", &signed_cases, word::sdiv, reference::sdiv);
    bench_binary(c, "smod", &signed_cases, word::smod, reference::smod);
}

fn bits(c: &mut Criterion) {
    let mut r = Rng(4);
    let mut shifts = |limit: u64| batch(|| (U256::from(r.below(limit)), r.bits(256)));
    let in_range = shifts(256);
    let any = shifts(300);
    let bytes = batch(|| (U256::from(r.below(34)), r.bits(256)));
    bench_binary(c, "byte", &[("i", bytes)], word::byte, reference::byte);
    let cases = [("s<256", in_range), ("s<300", any)];
    bench_binary(c, "shl", &cases, word::shl, reference::shl);
    bench_binary(c, "shr", &cases, word::shr, reference::shr);
    bench_binary(c, "sar", &cases, word::sar, reference::sar);
}

fn keccak(c: &mut Criterion) {
    let mut r = Rng(5);
    let mut g = c.benchmark_group("keccak");
    g.throughput(Throughput::Elements(BATCH as u64));
    for len in [32usize, 64] {
        let fresh: Vec<Vec<u8>> = batch(|| (0..len).map(|_| r.next() as u8).collect());
        // Two inputs alternating: a storage array's slot and a mapping's, as in snailtracer.
        let repeated: Vec<Vec<u8>> = (0..BATCH).map(|i| fresh[i % 2].clone()).collect();
        let cases: [(&str, Hash, &Vec<Vec<u8>>); 4] = [
            ("ferrite-fresh", word::keccak256_memo, &fresh),
            ("ferrite-repeated", word::keccak256_memo, &repeated),
            ("ferrite-nomemo", word::keccak256, &fresh),
            ("alloy", reference::keccak256, &fresh),
        ];
        for (name, f, inputs) in cases {
            let run = |inputs: &[Vec<u8>]| {
                let mut acc = 0u8;
                for x in inputs {
                    acc ^= f(black_box(x))[0];
                }
                acc
            };
            if counting() {
                count_case(&format!("keccak/{len}/{name}"), &mut || {
                    black_box(run(inputs));
                });
                continue;
            }
            g.bench_with_input(
                BenchmarkId::new(len.to_string(), name),
                inputs,
                |bch, inputs| bch.iter(|| run(inputs)),
            );
        }
    }
    g.finish();
}

fn main() {
    // criterion_group!/criterion_main! without their undocumented generated function.
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(30)
        .configure_from_args();
    for bench in [modular, exp, division, bits, keccak] {
        bench(&mut c);
    }
    c.final_summary();
}
