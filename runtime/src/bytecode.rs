//! Bytecode with its jump-destination map, analysed once per code hash.
//!
//! Invariant relied on by the interpreter: `padded` is the raw code followed by 33 zero bytes, so a
//! truncated final PUSH reads zeros and running off the end executes STOP; dispatch needs no bounds
//! check beyond `pc < padded.len()`, which every instruction preserves.

use crate::opcode::op;
use crate::word::keccak256;
use alloy_primitives::{Bytes, B256, U256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Analysed code.
#[derive(Debug)]
pub struct Bytecode {
    raw: Bytes,
    padded: Vec<u8>,
    jumpdests: Vec<u64>,
    /// keccak256(raw), computed when first asked for: initcode run by the interpreter alone
    /// never needs it (hashing it was a twentieth of the legacy state tests).
    hash: OnceLock<B256>,
}

impl Bytecode {
    /// Analyses `raw`: pads it and marks every JUMPDEST that is not PUSH data.
    pub fn new(raw: Bytes) -> Bytecode {
        Self::analyse(raw, OnceLock::new())
    }

    fn with_hash(raw: Bytes, hash: B256) -> Bytecode {
        Self::analyse(raw, OnceLock::from(hash))
    }

    fn analyse(raw: Bytes, hash: OnceLock<B256>) -> Bytecode {
        let mut padded = Vec::with_capacity(raw.len() + 33);
        padded.extend_from_slice(&raw);
        padded.resize(raw.len() + 33, 0);
        let mut jumpdests = vec![0u64; raw.len().div_ceil(64)];
        let mut pc = 0;
        while pc < raw.len() {
            let b = raw[pc];
            if b == op::JUMPDEST {
                jumpdests[pc / 64] |= 1 << (pc % 64);
            } else if (op::PUSH1..=op::PUSH32).contains(&b) {
                pc += (b - op::PUSH1 + 1) as usize;
            }
            pc += 1;
        }
        Bytecode {
            raw,
            padded,
            jumpdests,
            hash,
        }
    }

    /// The original code.
    #[inline]
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    /// Code followed by 33 zero bytes.
    #[inline]
    pub fn padded(&self) -> &[u8] {
        &self.padded
    }

    /// keccak256 of the code.
    #[inline]
    pub fn hash(&self) -> B256 {
        *self.hash.get_or_init(|| keccak256(&self.raw))
    }

    /// True when `pc` is a JUMPDEST outside PUSH data.
    ///
    /// One bounds test: the bitmap has a bit for every byte of the code rounded up to 64, and
    /// the bits past the end are never set, so a word that exists answers for every `pc` in it.
    #[inline]
    pub fn is_jumpdest(&self, pc: usize) -> bool {
        self.jumpdests
            .get(pc / 64)
            .is_some_and(|w| (w >> (pc % 64)) & 1 != 0)
    }

    /// The `N`-byte big-endian immediate starting at `pc` (PUSHN's operand), with the bytes past
    /// the end of the code reading as zero ([`immediate`] on the padded code).
    #[inline(always)]
    pub fn immediate<const N: usize>(&self, pc: usize) -> U256 {
        immediate::<N>(&self.padded, pc)
    }

    /// The analysed code for `raw`, from a process-wide cache keyed by code hash.
    pub fn cached(raw: &Bytes) -> Arc<Bytecode> {
        Self::cached_with_hash(raw, keccak256(raw))
    }

    /// [`Bytecode::cached`] when the caller already knows `hash = keccak256(raw)`.
    pub fn cached_with_hash(raw: &Bytes, hash: B256) -> Arc<Bytecode> {
        static CACHE: OnceLock<Mutex<HashMap<B256, Arc<Bytecode>>>> = OnceLock::new();
        const MAX_ENTRIES: usize = 4096;
        let cache = CACHE.get_or_init(Default::default);
        if let Some(c) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&hash) {
            return c.clone();
        }
        let code = Arc::new(Bytecode::with_hash(raw.clone(), hash));
        let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ENTRIES {
            // A crude bound: the engine's real cache (with LRU eviction) replaces this.
            map.clear();
        }
        map.insert(hash, code.clone());
        code
    }
}

/// The `N`-byte big-endian immediate starting at `pc` in `padded` (a [`Bytecode::padded`]), as
/// PUSHN reads it: bytes past the end of the code read as zero.
///
/// `pc` is just past a PUSHN that executed, hence at most the code's length (past the code every
/// byte is 0, STOP), and the padding extends 33 bytes beyond: the fixed-size reads below stay in
/// bounds, so their one bounds test never fails. Fixed sizes let the compiler emit whole-word
/// loads and byte swaps instead of a loop over the bytes, and the word is built from its limbs
/// (`U256::from(u64)` went through a temporary on the machine stack).
#[inline(always)]
pub fn immediate<const N: usize>(padded: &[u8], pc: usize) -> U256 {
    if N <= 8 {
        let b: [u8; 8] = match padded.get(pc..).and_then(|s| s.first_chunk::<8>()) {
            Some(b) => *b,
            None => return U256::ZERO,
        };
        // `N >= 1`, so the shift is below 64.
        U256::from_limbs([u64::from_be_bytes(b) >> (64 - 8 * N), 0, 0, 0])
    } else {
        let mut b = [0u8; 32];
        match padded.get(pc..).and_then(|s| s.get(..N)) {
            Some(s) => b[32 - N..].copy_from_slice(s),
            None => return U256::ZERO,
        }
        let limb = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[32 - 8 * (i + 1)..32 - 8 * i]);
            u64::from_be_bytes(w)
        };
        U256::from_limbs([limb(0), limb(1), limb(2), limb(3)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jumpdests_skip_push_data() {
        // PUSH1 0x5b JUMPDEST PUSH2 0x5b5b
        let c = Bytecode::new(Bytes::from(vec![0x60, 0x5b, 0x5b, 0x61, 0x5b, 0x5b]));
        assert!(!c.is_jumpdest(1));
        assert!(c.is_jumpdest(2));
        assert!(!c.is_jumpdest(4));
        assert!(!c.is_jumpdest(5));
        assert!(!c.is_jumpdest(100));
        assert_eq!(c.padded().len(), 6 + 33);
    }

    #[test]
    fn immediates_read_big_endian_and_zero_past_the_end() {
        let mut raw = vec![0x7f];
        raw.extend((1..=32).collect::<Vec<u8>>());
        let c = Bytecode::new(Bytes::from(raw.clone()));
        let full = U256::from_be_slice(&raw[1..]);
        assert_eq!(c.immediate::<32>(1), full);
        assert_eq!(c.immediate::<1>(1), U256::from(1));
        assert_eq!(c.immediate::<8>(1), U256::from_be_slice(&raw[1..9]));
        assert_eq!(c.immediate::<9>(1), U256::from_be_slice(&raw[1..10]));
        // Truncated at the end: the missing bytes are zeros on the right.
        assert_eq!(c.immediate::<4>(31), U256::from(0x1f20_0000u64));
        assert_eq!(c.immediate::<32>(33), U256::ZERO);
        for n in 1..=32 {
            let mut expected = [0u8; 32];
            expected[32 - n..].copy_from_slice(&raw[1..1 + n]);
            let got = match n {
                1 => c.immediate::<1>(1),
                2 => c.immediate::<2>(1),
                7 => c.immediate::<7>(1),
                16 => c.immediate::<16>(1),
                20 => c.immediate::<20>(1),
                31 => c.immediate::<31>(1),
                _ => continue,
            };
            assert_eq!(got, U256::from_be_bytes(expected), "PUSH{n}");
        }
    }
}
