//! The gas schedule: named constants (with the EIP that set them) and the dynamic costs.
//!
//! Static per-opcode gas lives in the opcode table; everything that depends on operands or state is
//! here, as pure functions of their inputs, so the interpreter and the JIT's helpers charge the same.

use crate::fork::SpecId;
use crate::word::U256;

/// Memory expansion: linear coefficient per word (Yellow Paper G_memory).
pub const MEMORY: u64 = 3;
/// Copy cost per word (CALLDATACOPY, CODECOPY, RETURNDATACOPY, EXTCODECOPY, MCOPY).
pub const COPY: u64 = 3;
/// KECCAK256 cost per word.
pub const KECCAK256_WORD: u64 = 6;
/// LOG base cost.
pub const LOG: u64 = 375;
/// LOG cost per byte of data.
pub const LOG_DATA: u64 = 8;
/// LOG cost per topic.
pub const LOG_TOPIC: u64 = 375;
/// EXP cost per exponent byte before EIP-160.
pub const EXP_BYTE_FRONTIER: u64 = 10;
/// EXP cost per exponent byte since EIP-160 (Spurious Dragon).
pub const EXP_BYTE_EIP160: u64 = 50;
/// SSTORE setting a zero slot to non-zero.
pub const SSTORE_SET: u64 = 20_000;
/// SSTORE changing a non-zero slot (before EIP-2929).
pub const SSTORE_RESET: u64 = 5_000;
/// Refund for clearing a slot before EIP-3529.
pub const SSTORE_CLEARS_SCHEDULE: i64 = 15_000;
/// Refund for clearing a slot since EIP-3529 (London): SSTORE_RESET - COLD_SLOAD + ACCESS_LIST_STORAGE_KEY.
pub const SSTORE_CLEARS_SCHEDULE_EIP3529: i64 = 4_800;
/// EIP-2200: SSTORE fails when no more than the call stipend is left.
pub const SSTORE_SENTRY: u64 = 2_300;
/// EIP-2929: cold SLOAD surcharge (total cold SLOAD cost).
pub const COLD_SLOAD: u64 = 2_100;
/// EIP-2929: cold account access cost.
pub const COLD_ACCOUNT_ACCESS: u64 = 2_600;
/// EIP-2929: warm storage read cost.
pub const WARM_STORAGE_READ: u64 = 100;
/// EIP-2930: access-list address cost (intrinsic).
pub const ACCESS_LIST_ADDRESS: u64 = 2_400;
/// EIP-2930: access-list storage key cost (intrinsic).
pub const ACCESS_LIST_STORAGE_KEY: u64 = 1_900;
/// CALL with value.
pub const CALL_VALUE: u64 = 9_000;
/// Gas given to the callee on a value transfer.
pub const CALL_STIPEND: u64 = 2_300;
/// CALL creating a new account.
pub const NEW_ACCOUNT: u64 = 25_000;
/// CREATE base cost.
pub const CREATE: u64 = 32_000;
/// Code deposit cost per byte.
pub const CODE_DEPOSIT: u64 = 200;
/// EIP-3860: initcode cost per word.
pub const INITCODE_WORD: u64 = 2;
/// EIP-170: maximum deployed code size.
pub const MAX_CODE_SIZE: usize = 0x6000;
/// EIP-3860: maximum initcode size.
pub const MAX_INITCODE_SIZE: usize = 2 * MAX_CODE_SIZE;
/// SELFDESTRUCT refund before EIP-3529.
pub const SELFDESTRUCT_REFUND: i64 = 24_000;
/// BLOCKHASH.
pub const BLOCKHASH: u64 = 20;
/// Call depth limit.
pub const CALL_DEPTH_LIMIT: usize = 1024;
/// Memory is capped at 4 GiB: beyond it any expansion is out of gas (it would cost > 3.5e13 gas).
pub const MEMORY_LIMIT: u64 = 1 << 32;

/// Number of 32-byte words needed for `len` bytes.
#[inline]
pub const fn words(len: u64) -> u64 {
    len.div_ceil(32)
}

/// Total cost of a memory of `words` words: `3·w + w²/512`.
#[inline]
pub const fn memory_cost(words: u64) -> u64 {
    MEMORY * words + words * words / 512
}

/// Per-word cost `per_word · ⌈len/32⌉`, saturating.
#[inline]
pub const fn per_word(per_word: u64, len: u64) -> u64 {
    per_word.saturating_mul(words(len))
}

/// Dynamic EXP cost for an exponent.
#[inline]
pub fn exp_cost(spec: SpecId, exponent: &U256) -> u64 {
    let per = if spec.is_enabled_in(SpecId::SpuriousDragon) {
        EXP_BYTE_EIP160
    } else {
        EXP_BYTE_FRONTIER
    };
    per * crate::word::byte_len(exponent)
}

/// Dynamic LOG cost (excluding the static 375·(1+topics) of the table and memory expansion).
#[inline]
pub const fn log_data_cost(len: u64) -> u64 {
    LOG_DATA.saturating_mul(len)
}

/// Values a slot takes during an SSTORE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SStoreValues {
    /// Value at the start of the transaction.
    pub original: U256,
    /// Value before this SSTORE.
    pub present: U256,
    /// Value being written.
    pub new: U256,
}

/// SSTORE gas and refund delta for a fork; `is_cold` is the EIP-2929 slot status.
///
/// Frontier–Byzantium and Petersburg: the original set/reset rule. Constantinople: EIP-1283 net
/// metering. Istanbul+: EIP-2200 (with EIP-2929 prices from Berlin and EIP-3529 refunds from London).
pub fn sstore_cost(spec: SpecId, v: &SStoreValues, is_cold: bool) -> (u64, i64) {
    use SpecId::*;
    let net_metering = spec == Constantinople || spec.is_enabled_in(Istanbul);
    if !net_metering {
        let cost = if v.present.is_zero() && !v.new.is_zero() {
            SSTORE_SET
        } else {
            SSTORE_RESET
        };
        let refund = if !v.present.is_zero() && v.new.is_zero() {
            SSTORE_CLEARS_SCHEDULE
        } else {
            0
        };
        return (cost, refund);
    }
    let (sload, reset, clear) = if spec.is_enabled_in(London) {
        (
            WARM_STORAGE_READ,
            SSTORE_RESET - COLD_SLOAD,
            SSTORE_CLEARS_SCHEDULE_EIP3529,
        )
    } else if spec.is_enabled_in(Berlin) {
        (
            WARM_STORAGE_READ,
            SSTORE_RESET - COLD_SLOAD,
            SSTORE_CLEARS_SCHEDULE,
        )
    } else if spec.is_enabled_in(Istanbul) {
        (800, SSTORE_RESET, SSTORE_CLEARS_SCHEDULE)
    } else {
        (200, SSTORE_RESET, SSTORE_CLEARS_SCHEDULE)
    };
    let cold = if is_cold && spec.is_enabled_in(Berlin) {
        COLD_SLOAD
    } else {
        0
    };
    let mut refund = 0i64;
    let cost = if v.new == v.present {
        sload
    } else if v.original == v.present {
        if v.original.is_zero() {
            SSTORE_SET
        } else {
            if v.new.is_zero() {
                refund += clear;
            }
            reset
        }
    } else {
        if !v.original.is_zero() {
            if v.present.is_zero() {
                refund -= clear;
            } else if v.new.is_zero() {
                refund += clear;
            }
        }
        if v.original == v.new {
            if v.original.is_zero() {
                refund += (SSTORE_SET - sload) as i64;
            } else {
                refund += (reset - sload) as i64;
            }
        }
        sload
    };
    (cost + cold, refund)
}

/// Cold-access surcharge on top of the warm static cost (EIP-2929), 0 before Berlin.
#[inline]
pub const fn cold_account_surcharge(spec: SpecId, is_cold: bool) -> u64 {
    if is_cold && spec.is_enabled_in(SpecId::Berlin) {
        COLD_ACCOUNT_ACCESS - WARM_STORAGE_READ
    } else {
        0
    }
}

/// Cold SLOAD surcharge on top of the warm static cost (EIP-2929), 0 before Berlin.
#[inline]
pub const fn cold_sload_surcharge(spec: SpecId, is_cold: bool) -> u64 {
    if is_cold && spec.is_enabled_in(SpecId::Berlin) {
        COLD_SLOAD - WARM_STORAGE_READ
    } else {
        0
    }
}

/// Gas forwarded to a callee: EIP-150 "all but one 64th" since Tangerine Whistle.
///
/// Returns `None` when, before EIP-150, the request exceeds what is left (out of gas).
#[inline]
pub fn call_gas(spec: SpecId, gas_left: u64, requested: &U256) -> Option<u64> {
    if spec.is_enabled_in(SpecId::Tangerine) {
        let cap = gas_left - gas_left / 64;
        Some(match crate::word::to_u64(requested) {
            Some(r) if r < cap => r,
            _ => cap,
        })
    } else {
        match crate::word::to_u64(requested) {
            Some(r) if r <= gas_left => Some(r),
            _ => None,
        }
    }
}

/// Maximum refund applied at the end of a transaction: gas_used/2, or gas_used/5 since EIP-3529.
#[inline]
pub const fn max_refund(spec: SpecId, gas_used: u64) -> u64 {
    if spec.is_enabled_in(SpecId::London) {
        gas_used / 5
    } else {
        gas_used / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(o: u64, p: u64, n: u64) -> SStoreValues {
        SStoreValues {
            original: U256::from(o),
            present: U256::from(p),
            new: U256::from(n),
        }
    }

    #[test]
    fn memory() {
        assert_eq!(memory_cost(0), 0);
        assert_eq!(memory_cost(1), 3);
        assert_eq!(memory_cost(1024), 3 * 1024 + 2048);
        assert_eq!(words(33), 2);
    }

    #[test]
    fn sstore_eip2200_table() {
        // EIP-2200 test vectors (Istanbul, original/present/new -> gas, refund).
        let s = SpecId::Istanbul;
        assert_eq!(sstore_cost(s, &v(0, 0, 0), false), (800, 0));
        assert_eq!(sstore_cost(s, &v(0, 0, 1), false), (20000, 0));
        assert_eq!(sstore_cost(s, &v(1, 1, 0), false), (5000, 15000));
        assert_eq!(sstore_cost(s, &v(1, 0, 1), false), (800, -15000 + 4200));
        assert_eq!(sstore_cost(s, &v(0, 1, 0), false), (800, 19200));
        // Berlin cold + London refunds.
        assert_eq!(
            sstore_cost(SpecId::Berlin, &v(1, 1, 2), true),
            (2900 + 2100, 0)
        );
        assert_eq!(
            sstore_cost(SpecId::London, &v(1, 1, 0), false),
            (2900, 4800)
        );
        // Frontier.
        assert_eq!(
            sstore_cost(SpecId::Frontier, &v(0, 1, 0), false),
            (5000, 15000)
        );
        assert_eq!(
            sstore_cost(SpecId::Petersburg, &v(0, 0, 1), false),
            (20000, 0)
        );
        // Constantinople EIP-1283.
        assert_eq!(
            sstore_cost(SpecId::Constantinople, &v(0, 0, 0), false),
            (200, 0)
        );
    }

    #[test]
    fn call_gas_rule() {
        assert_eq!(call_gas(SpecId::Berlin, 6400, &U256::MAX), Some(6300));
        assert_eq!(call_gas(SpecId::Berlin, 6400, &U256::from(10)), Some(10));
        assert_eq!(call_gas(SpecId::Homestead, 100, &U256::from(101)), None);
        assert_eq!(
            call_gas(SpecId::Homestead, 100, &U256::from(100)),
            Some(100)
        );
        assert_eq!(exp_cost(SpecId::Frontier, &U256::from(256)), 20);
        assert_eq!(exp_cost(SpecId::Cancun, &U256::from(256)), 100);
    }
}

/// Gas accounting of one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Gas {
    /// Gas given to the frame.
    pub limit: u64,
    /// Gas left.
    pub remaining: u64,
    /// Refund counter accumulated by this frame (may be negative within a frame under EIP-2200).
    pub refund: i64,
}

impl Gas {
    /// A fresh meter with `limit` gas.
    #[inline]
    pub const fn new(limit: u64) -> Gas {
        Gas {
            limit,
            remaining: limit,
            refund: 0,
        }
    }

    /// Charges `cost`; false (and nothing charged) when not enough gas is left.
    #[inline]
    #[must_use]
    pub fn charge(&mut self, cost: u64) -> bool {
        match self.remaining.checked_sub(cost) {
            Some(r) => {
                self.remaining = r;
                true
            }
            None => false,
        }
    }

    /// Gas used so far.
    #[inline]
    pub const fn used(&self) -> u64 {
        self.limit - self.remaining
    }

    /// Returns unused gas of a callee.
    #[inline]
    pub fn give_back(&mut self, gas: u64) {
        self.remaining += gas;
    }
}
