//! The straightforward definitions of the word operations, on ruint's own routines: what the
//! property tests (`word::tests`) and the criterion bench (`benches/words.rs`) compare the fast
//! ones with. Nothing executes these.

use super::{is_negative, neg, B256, U256};

/// |x| as an unsigned magnitude.
fn abs(x: U256) -> U256 {
    if is_negative(&x) {
        neg(x)
    } else {
        x
    }
}

/// DIV.
pub fn div(a: U256, b: U256) -> U256 {
    a.checked_div(b).unwrap_or_default()
}

/// MOD.
pub fn rem(a: U256, b: U256) -> U256 {
    a.checked_rem(b).unwrap_or_default()
}

/// SDIV: the magnitudes' quotient, negated when the signs differ.
pub fn sdiv(a: U256, b: U256) -> U256 {
    let q = div(abs(a), abs(b));
    if is_negative(&a) != is_negative(&b) {
        neg(q)
    } else {
        q
    }
}

/// SMOD: the magnitudes' remainder with the dividend's sign.
pub fn smod(a: U256, b: U256) -> U256 {
    let r = rem(abs(a), abs(b));
    if is_negative(&a) {
        neg(r)
    } else {
        r
    }
}

/// ADDMOD.
pub fn addmod(a: U256, b: U256, n: U256) -> U256 {
    a.add_mod(b, n)
}

/// MULMOD.
pub fn mulmod(a: U256, b: U256, n: U256) -> U256 {
    a.mul_mod(b, n)
}

/// EXP.
pub fn exp(base: U256, exponent: U256) -> U256 {
    base.wrapping_pow(exponent)
}

/// BYTE.
pub fn byte(i: U256, x: U256) -> U256 {
    match usize::try_from(i) {
        Ok(i) if i < 32 => U256::from(x.byte(31 - i)),
        _ => U256::ZERO,
    }
}

/// SHL.
pub fn shl(shift: U256, value: U256) -> U256 {
    match usize::try_from(shift) {
        Ok(s) if s < 256 => value << s,
        _ => U256::ZERO,
    }
}

/// SHR.
pub fn shr(shift: U256, value: U256) -> U256 {
    match usize::try_from(shift) {
        Ok(s) if s < 256 => value >> s,
        _ => U256::ZERO,
    }
}

/// SAR.
pub fn sar(shift: U256, value: U256) -> U256 {
    match usize::try_from(shift) {
        Ok(s) if s < 256 => value.arithmetic_shr(s),
        _ if is_negative(&value) => U256::MAX,
        _ => U256::ZERO,
    }
}

/// KECCAK256 (alloy's).
pub fn keccak256(data: &[u8]) -> B256 {
    alloy_primitives::keccak256(data)
}
