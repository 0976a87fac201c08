//! 256-bit word semantics on [`ruint`]'s `Uint<256, 4>` (re-exported as [`U256`]).
//!
//! Every tier computes the EVM's arithmetic through these functions, so there is exactly one
//! definition of SDIV's overflow case, SIGNEXTEND's byte index or SAR's sign fill. They are plain,
//! `#[inline]` functions; the JIT's `extern "C"` helpers wrap them. The divisions are
//! `#[inline(always)]` as far as their 64-bit case: called out of line they took and returned
//! words through memory, written as 64-bit limbs and read back as 128-bit vectors, and every such
//! read stalled on store forwarding (most of SDIV's cost in snailtracer). Their wider cases are
//! out of line, on limbs read one at a time (see [`div`](div::div)).

pub use alloy_primitives::{Address, B256, U256};

mod barrett;
mod div;
mod keccak;
mod modular;
mod reduce;
pub mod reference;

pub use div::{div, div_in, rem, rem_in, sdiv, sdiv_in, smod, smod_in};
pub use keccak::{keccak256, keccak256_memo};
pub use modular::{addmod, addmod_in, exp, mulmod, mulmod_in, mulmod_to};

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

/// Absolute value as an unsigned magnitude (|-2^255| = 2^255): the tests' signed references.
#[cfg(test)]
pub(crate) fn abs(x: U256) -> U256 {
    if is_negative(&x) {
        neg(x)
    } else {
        x
    }
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
    match small_index(&i, 32) {
        Some(i) => U256::from(x.byte(31 - i)),
        None => U256::ZERO,
    }
}

/// `x` as an index below `limit`, or `None`: shift amounts and byte indices compare one limb
/// and an OR of the others, not two words.
#[inline(always)]
fn small_index(x: &U256, limit: u64) -> Option<usize> {
    match to_u64(x) {
        Some(v) if v < limit => Some(v as usize),
        _ => None,
    }
}

/// SHL: `value << shift`, 0 when `shift >= 256`.
#[inline]
pub fn shl(shift: U256, value: U256) -> U256 {
    match small_index(&shift, 256) {
        Some(s) => value << s,
        None => U256::ZERO,
    }
}

/// SHR: logical `value >> shift`, 0 when `shift >= 256`.
#[inline]
pub fn shr(shift: U256, value: U256) -> U256 {
    match small_index(&shift, 256) {
        Some(s) => value >> s,
        None => U256::ZERO,
    }
}

/// SAR: arithmetic `value >> shift`, filling with the sign bit.
#[inline]
pub fn sar(shift: U256, value: U256) -> U256 {
    match small_index(&shift, 256) {
        Some(s) => value.arithmetic_shr(s),
        None if is_negative(&value) => U256::MAX,
        None => U256::ZERO,
    }
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

/// Converts a bool to 0/1, built from its limbs: branch-free, so the result stays in
/// registers (a choice between two constants met in a temporary on the machine stack in the
/// interpreter's loop).
#[inline(always)]
pub fn from_bool(b: bool) -> U256 {
    U256::from_limbs([b as u64, 0, 0, 0])
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
mod props;
#[cfg(test)]
mod tests;
