//! 256-bit word semantics on [`ruint`]'s `Uint<256, 4>` (re-exported as [`U256`]).
//!
//! Every tier computes the EVM's arithmetic through these functions, so there is exactly one
//! definition of SDIV's overflow case, SIGNEXTEND's byte index or SAR's sign fill. They are plain,
//! `#[inline]` functions; the JIT's `extern "C"` helpers wrap them. The divisions are
//! `#[inline(always)]`: called out of line they took and returned words through memory, written
//! as 64-bit limbs and read back as 128-bit vectors, and every such read stalled on store
//! forwarding (most of SDIV's cost in snailtracer).

pub use alloy_primitives::{Address, B256, U256};

/// Keccak-256 of `data` (KECCAK256, code hashes): the assembly implementation where there is
/// one, else alloy's.
#[inline]
pub fn keccak256(data: &[u8]) -> B256 {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    {
        B256::from_slice(&keccak_asm::Keccak256::digest(data))
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        alloy_primitives::keccak256(data)
    }
}

/// The last few short KECCAK256 inputs (at most [`MEMO_MAX_LEN`] bytes) of this thread and
/// their hashes.
///
/// Solidity hashes the same 32- or 64-byte words over and over: a storage array's data slot
/// (`keccak256(slot)`) on every element access, a mapping's slot per key. Snailtracer's 5,547
/// KECCAK256s have two distinct inputs; each hash costs ~300 ns, an exact-match look-up here a
/// few. Inputs are compared in full, so a hit is the hash of exactly those bytes.
struct KeccakMemo {
    entries: [(u8, [u8; MEMO_MAX_LEN], B256); MEMO_ENTRIES],
    next: usize,
}

/// Entries of [`KeccakMemo`] (round-robin replacement).
const MEMO_ENTRIES: usize = 4;
/// Longest input [`keccak256_memo`] remembers.
const MEMO_MAX_LEN: usize = 64;

thread_local! {
    static KECCAK_MEMO: std::cell::RefCell<KeccakMemo> = const {
        std::cell::RefCell::new(KeccakMemo {
            // Length u8::MAX marks an empty entry (no input is that long).
            entries: [(u8::MAX, [0; MEMO_MAX_LEN], B256::ZERO); MEMO_ENTRIES],
            next: 0,
        })
    };
}

/// [`keccak256`] of `data`, remembering the last few short inputs of this thread (KECCAK256's
/// body; see `KeccakMemo`).
pub fn keccak256_memo(data: &[u8]) -> B256 {
    if data.len() > MEMO_MAX_LEN {
        return keccak256(data);
    }
    let look_up = |memo: &std::cell::RefCell<KeccakMemo>| {
        let Ok(mut m) = memo.try_borrow_mut() else {
            return keccak256(data);
        };
        let n = data.len();
        if let Some(e) = m
            .entries
            .iter()
            .find(|e| usize::from(e.0) == n && e.1[..n] == *data)
        {
            return e.2;
        }
        let hash = keccak256(data);
        let mut input = [0; MEMO_MAX_LEN];
        input[..n].copy_from_slice(data);
        let i = m.next;
        m.entries[i] = (n as u8, input, hash);
        m.next = (i + 1) % MEMO_ENTRIES;
        hash
    };
    KECCAK_MEMO
        .try_with(look_up)
        .unwrap_or_else(|_| keccak256(data))
}

/// 2^255: the sign bit.
pub const SIGN_BIT: U256 = U256::from_limbs([0, 0, 0, 1 << 63]);

/// True when the word is negative as a two's-complement signed integer.
#[inline(always)]
pub fn is_negative(x: &U256) -> bool {
    x.bit(255)
}

/// Two's-complement negation.
#[inline(always)]
pub fn neg(x: U256) -> U256 {
    x.wrapping_neg()
}

/// Absolute value as an unsigned magnitude (|-2^255| = 2^255).
#[inline(always)]
fn abs(x: U256) -> U256 {
    if is_negative(&x) {
        neg(x)
    } else {
        x
    }
}

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
fn div_128_by_64(hi: u64, lo: u64, d: u64) -> u64 {
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
fn div_128_by_64(hi: u64, lo: u64, d: u64) -> u64 {
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

/// ADDMOD: `(a + b) % n` without intermediate overflow; 0 when `n == 0`.
#[inline]
pub fn addmod(a: U256, b: U256, n: U256) -> U256 {
    a.add_mod(b, n)
}

/// MULMOD: `(a * b) % n` without intermediate overflow; 0 when `n == 0`.
#[inline]
pub fn mulmod(a: U256, b: U256, n: U256) -> U256 {
    a.mul_mod(b, n)
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

/// SIGNEXTEND: extends the sign of byte `b` (0 = least significant) of `x`; `b >= 31` is a no-op.
#[inline]
pub fn signextend(b: U256, x: U256) -> U256 {
    if b >= U256::from(31) {
        return x;
    }
    let bit = (b.as_limbs()[0] as usize) * 8 + 7;
    let mask = (U256::from(1) << bit) - U256::from(1);
    if x.bit(bit) {
        x | !mask
    } else {
        x & mask
    }
}

/// BYTE: byte `i` of `x` counting from the most significant; 0 when `i >= 32`.
#[inline]
pub fn byte(i: U256, x: U256) -> U256 {
    if i >= U256::from(32) {
        return U256::ZERO;
    }
    U256::from(x.byte(31 - i.as_limbs()[0] as usize))
}

/// SHL: `value << shift`, 0 when `shift >= 256`.
#[inline]
pub fn shl(shift: U256, value: U256) -> U256 {
    if shift >= U256::from(256) {
        U256::ZERO
    } else {
        value << (shift.as_limbs()[0] as usize)
    }
}

/// SHR: logical `value >> shift`, 0 when `shift >= 256`.
#[inline]
pub fn shr(shift: U256, value: U256) -> U256 {
    if shift >= U256::from(256) {
        U256::ZERO
    } else {
        value >> (shift.as_limbs()[0] as usize)
    }
}

/// SAR: arithmetic `value >> shift`, filling with the sign bit.
#[inline]
pub fn sar(shift: U256, value: U256) -> U256 {
    let negative = is_negative(&value);
    if shift >= U256::from(256) {
        return if negative { U256::MAX } else { U256::ZERO };
    }
    value.arithmetic_shr(shift.as_limbs()[0] as usize)
}

/// SLT: signed `a < b`.
#[inline]
pub fn slt(a: &U256, b: &U256) -> bool {
    match (is_negative(a), is_negative(b)) {
        (true, false) => true,
        (false, true) => false,
        _ => a < b,
    }
}

/// CLZ (EIP-7939): number of leading zero bits, 256 for zero.
#[inline]
pub fn clz(x: U256) -> U256 {
    U256::from(x.leading_zeros())
}

/// Converts a bool to 0/1.
#[inline]
pub fn from_bool(b: bool) -> U256 {
    if b {
        U256::from(1)
    } else {
        U256::ZERO
    }
}

/// The low 160 bits as an address.
#[inline]
pub fn to_address(x: U256) -> Address {
    Address::from_word(B256::from(x))
}

/// An address as a word.
#[inline]
pub fn from_address(a: Address) -> U256 {
    U256::from_be_bytes(a.into_word().0)
}

/// The word as `i64` if it is one sign-extended (two's complement), else `None`.
#[inline(always)]
pub fn to_i64(x: &U256) -> Option<i64> {
    let l = x.as_limbs();
    let sign = ((l[0] as i64) >> 63) as u64;
    (l[1] == sign && l[2] == sign && l[3] == sign).then_some(l[0] as i64)
}

/// A signed 128-bit value as a word (sign-extended).
#[inline(always)]
pub fn from_i128(v: i128) -> U256 {
    let sign = (v >> 127) as u64;
    U256::from_limbs([v as u64, (v >> 64) as u64, sign, sign])
}

/// The word as `u128` if it fits, else `None`.
#[inline]
pub fn to_u128(x: &U256) -> Option<u128> {
    let l = x.as_limbs();
    if l[2] | l[3] == 0 {
        Some(u128::from(l[0]) | (u128::from(l[1]) << 64))
    } else {
        None
    }
}

/// The word as `u64` if it fits, else `None`.
#[inline]
pub fn to_u64(x: &U256) -> Option<u64> {
    let l = x.as_limbs();
    if l[1] | l[2] | l[3] == 0 {
        Some(l[0])
    } else {
        None
    }
}

/// The word as `u64`, saturating at `u64::MAX`.
#[inline]
pub fn saturating_u64(x: &U256) -> u64 {
    to_u64(x).unwrap_or(u64::MAX)
}

/// Number of significant bytes of `x` (0 for zero): the EXP gas factor.
#[inline]
pub fn byte_len(x: &U256) -> u64 {
    (x.bit_len() as u64).div_ceil(8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(x: u64) -> U256 {
        U256::from(x)
    }
    fn minus(x: u64) -> U256 {
        neg(U256::from(x))
    }

    #[test]
    fn keccak_memo_returns_the_hash_of_exactly_its_input() {
        let mut inputs: Vec<Vec<u8>> = vec![Vec::new(), vec![0; 32], vec![0; 31], vec![0; 64]];
        for i in 0..12u8 {
            inputs.push(vec![i; 32]);
            inputs.push([vec![i; 32], vec![1; 32]].concat());
        }
        // One too long to remember.
        inputs.push(vec![7; 65]);
        // Repeats, interleavings and more distinct inputs than entries.
        for round in 0..3 {
            for (k, x) in inputs.iter().enumerate() {
                if (k + round) % 2 == 0 {
                    assert_eq!(keccak256_memo(x), keccak256(x));
                }
                assert_eq!(keccak256_memo(x), keccak256(x));
                assert_eq!(keccak256_memo(&inputs[0]), keccak256(&inputs[0]));
            }
        }
    }

    #[test]
    fn keccak_matches_alloy() {
        for n in [0usize, 1, 31, 32, 64, 135, 136, 137, 1000] {
            let data: Vec<u8> = (0..n).map(|i| (i * 7 + 3) as u8).collect();
            assert_eq!(
                keccak256(&data),
                alloy_primitives::keccak256(&data),
                "{n} bytes"
            );
        }
    }

    #[test]
    fn power_of_two_fast_paths_match_the_general_ones() {
        let wide = [
            U256::MAX,
            SIGN_BIT + u(12345),
            U256::from(u128::MAX) * u(3),
            u(5),
        ];
        for k in [0usize, 1, 63, 64, 127, 128, 200, 255] {
            let p = U256::from(1) << k;
            for a in wide {
                assert_eq!(
                    div(a, p),
                    a.checked_div(p).unwrap_or_default(),
                    "{a} / 2^{k}"
                );
                assert_eq!(
                    rem(a, p),
                    a.checked_rem(p).unwrap_or_default(),
                    "{a} % 2^{k}"
                );
            }
            assert_eq!(exp(u(2), u(k as u64)), u(2).wrapping_pow(u(k as u64)));
        }
        for n in [u(256), u(257), U256::MAX, SIGN_BIT] {
            assert_eq!(exp(u(2), n), u(2).wrapping_pow(n), "2^{n}");
        }
    }

    #[test]
    fn small_signed_fast_path_matches_the_general_one() {
        let vals: Vec<U256> = [
            0i64,
            1,
            -1,
            2,
            -2,
            7,
            -7,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
            1 << 40,
        ]
        .iter()
        .map(|&v| from_i128(i128::from(v)))
        .chain([
            SIGN_BIT,
            U256::MAX,
            U256::from(u64::MAX),
            U256::from(1u128 << 100),
        ])
        .collect();
        for &a in &vals {
            for &b in &vals {
                let general_q = if b.is_zero() {
                    U256::ZERO
                } else {
                    let q = div(abs(a), abs(b));
                    if is_negative(&a) != is_negative(&b) {
                        neg(q)
                    } else {
                        q
                    }
                };
                let general_r = if b.is_zero() {
                    U256::ZERO
                } else {
                    let r = rem(abs(a), abs(b));
                    if is_negative(&a) {
                        neg(r)
                    } else {
                        r
                    }
                };
                assert_eq!(sdiv(a, b), general_q, "{a} / {b}");
                assert_eq!(smod(a, b), general_r, "{a} % {b}");
            }
        }
    }

    #[test]
    fn signed_division() {
        assert_eq!(sdiv(SIGN_BIT, U256::MAX), SIGN_BIT, "-2^255 / -1 wraps");
        assert_eq!(sdiv(minus(7), u(2)), minus(3));
        assert_eq!(sdiv(u(7), minus(2)), minus(3));
        assert_eq!(sdiv(minus(7), minus(2)), u(3));
        assert_eq!(sdiv(u(7), U256::ZERO), U256::ZERO);
        assert_eq!(smod(minus(7), u(3)), minus(1));
        assert_eq!(smod(u(7), minus(3)), u(1));
        assert_eq!(smod(SIGN_BIT, U256::MAX), U256::ZERO);
        assert_eq!(smod(u(7), U256::ZERO), U256::ZERO);
        assert_eq!(div(u(7), U256::ZERO), U256::ZERO);
        assert_eq!(rem(u(7), U256::ZERO), U256::ZERO);
    }

    #[test]
    fn small_operand_fast_paths_match_full_division() {
        let vals = [0u64, 1, 2, 3, 7, 255, 1 << 32, u64::MAX - 1, u64::MAX];
        let wide = [U256::from(u64::MAX) + u(1), SIGN_BIT, U256::MAX];
        for &x in &vals {
            for &y in &vals {
                let (a, b) = (u(x), u(y));
                assert_eq!(div(a, b), a.checked_div(b).unwrap_or_default());
                assert_eq!(rem(a, b), a.checked_rem(b).unwrap_or_default());
            }
            for w in wide {
                assert_eq!(div(w, u(x)), w.checked_div(u(x)).unwrap_or_default());
                assert_eq!(div(u(x), w), U256::ZERO);
                assert_eq!(rem(u(x), w), u(x));
                assert_eq!(sdiv(neg(u(x)), u(3)), neg(u(x / 3)));
            }
        }
        // The 128-bit path, against the general division.
        let mid = [
            U256::from(u64::MAX) + u(1),
            U256::from(10u128.pow(36) + 7),
            U256::from(u128::MAX),
            U256::from(u128::MAX - 1),
            // High limb just under 64-bit divisors: the largest quotients of one 128-by-64
            // hardware division.
            U256::from((u128::from(u64::MAX - 2) << 64) | u128::from(u64::MAX)),
        ];
        for &x in mid.iter().chain(&vals.map(u)) {
            for &y in mid.iter().chain(&vals.map(u)) {
                assert_eq!(div(x, y), x.checked_div(y).unwrap_or_default());
                assert_eq!(rem(x, y), x.checked_rem(y).unwrap_or_default());
            }
        }
    }

    #[test]
    fn modular() {
        assert_eq!(
            addmod(U256::MAX, u(2), u(10)),
            (U256::MAX % u(10) + u(2)) % u(10)
        );
        assert_eq!(addmod(u(1), u(2), U256::ZERO), U256::ZERO);
        assert_eq!(mulmod(U256::MAX, U256::MAX, u(12)), u(9));
        assert_eq!(mulmod(u(5), u(5), U256::ZERO), U256::ZERO);
        assert_eq!(exp(u(2), u(255)), SIGN_BIT);
        assert_eq!(exp(u(2), u(256)), U256::ZERO);
        assert_eq!(exp(U256::ZERO, U256::ZERO), u(1));
    }

    #[test]
    fn bits() {
        assert_eq!(signextend(U256::ZERO, u(0xff)), U256::MAX);
        assert_eq!(signextend(U256::ZERO, u(0x7f)), u(0x7f));
        assert_eq!(signextend(u(1), u(0x80ff)), U256::MAX - u(0x7f00));
        assert_eq!(signextend(u(31), u(5)), u(5));
        assert_eq!(signextend(U256::MAX, u(0xff)), u(0xff));
        assert_eq!(byte(u(31), u(0xab)), u(0xab));
        assert_eq!(byte(U256::ZERO, SIGN_BIT), u(0x80));
        assert_eq!(byte(u(32), U256::MAX), U256::ZERO);
        assert_eq!(shl(u(255), u(1)), SIGN_BIT);
        assert_eq!(shl(u(256), u(1)), U256::ZERO);
        assert_eq!(shr(u(255), SIGN_BIT), u(1));
        assert_eq!(shr(U256::MAX, U256::MAX), U256::ZERO);
        assert_eq!(sar(u(255), SIGN_BIT), U256::MAX);
        assert_eq!(sar(u(300), SIGN_BIT), U256::MAX);
        assert_eq!(sar(u(300), u(5)), U256::ZERO);
        assert_eq!(sar(u(1), minus(4)), minus(2));
        assert!(slt(&minus(1), &u(0)));
        assert!(!slt(&u(0), &minus(1)));
        assert!(slt(&minus(2), &minus(1)));
        assert_eq!(clz(U256::ZERO), u(256));
        assert_eq!(clz(SIGN_BIT), U256::ZERO);
        assert_eq!(clz(u(1)), u(255));
        assert_eq!(byte_len(&U256::ZERO), 0);
        assert_eq!(byte_len(&u(256)), 2);
        assert_eq!(byte_len(&U256::MAX), 32);
    }

    #[test]
    fn addresses() {
        let a = Address::repeat_byte(0xcc);
        assert_eq!(to_address(from_address(a)), a);
        assert_eq!(to_address(U256::MAX), Address::repeat_byte(0xff));
    }
}
