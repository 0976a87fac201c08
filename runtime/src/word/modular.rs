//! ADDMOD, MULMOD and EXP.

use super::reduce::{mul_512, rem_512_by_256};
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
        // Full-width moduli (elliptic-curve fields): the full product, reduced by a division
        // specialised to four divisor limbs.
        let p = mul_512(a.as_limbs(), b.as_limbs());
        return U256::from_limbs(rem_512_by_256(&p, m));
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
