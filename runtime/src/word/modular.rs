//! ADDMOD, MULMOD and EXP.

use super::barrett::mulmod_full;
use super::{to_u64, U256};

/// ADDMOD: `(a + b) % n` without intermediate overflow; 0 when `n == 0`.
#[inline]
pub fn addmod(a: U256, b: U256, n: U256) -> U256 {
    a.add_mod(b, n)
}

/// MULMOD: `(a * b) % n` without intermediate overflow; 0 when `n == 0`.
#[inline]
pub fn mulmod(a: U256, b: U256, n: U256) -> U256 {
    let m = n.as_limbs();
    if m[3] != 0 {
        // Full-width moduli (elliptic-curve fields): the full product, reduced by Barrett's
        // method with the modulus' constant cached per thread.
        return U256::from_limbs(mulmod_full(a.as_limbs(), b.as_limbs(), m));
    }
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
