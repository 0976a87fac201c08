//! EVM memory: a byte vector grown in whole words, charged before it grows.
//!
//! Expansion computes the new size and its gas first and allocates only after the charge succeeds,
//! so a hostile offset (say 2^255) is an out-of-gas result, never an allocation. Sizes above
//! [`MEMORY_LIMIT`](crate::gas::MEMORY_LIMIT) are rejected outright: they would cost more gas than
//! any block holds.

use crate::exit::ExitCode;
use crate::gas::{self, Gas};
use crate::word::U256;

/// A frame's memory.
///
/// `base` mirrors the buffer's address and `word_limit` its length less 31 (saturating) for
/// compiled code, which reads them at [`Memory::BASE_OFFSET`]/[`Memory::WORD_LIMIT_OFFSET`] to
/// load and store words without a helper call when no expansion is needed: a word at offset `o`
/// lies within memory exactly when `o < word_limit`, one compare, where the length itself took
/// two and an addition (the length may be below 32). They are refreshed whenever the buffer
/// changes.
#[derive(Debug)]
pub struct Memory {
    data: Vec<u8>,
    base: usize,
    word_limit: usize,
}

/// Zeros a small growth copies in (see `Memory::grow_inline`): up to eight words.
static SMALL_GROWTH: [u8; 256] = [0; 256];

/// Most recycled buffers kept per thread.
const POOL_SIZE: usize = 16;
/// Most bytes of capacity the pool keeps per thread: bounds what an idle thread holds while
/// still keeping the buffer of a memory-hungry contract (snailtracer grows to 7.6 MiB, whose
/// doubling capacity is over 8 MiB: a per-buffer cap of 8 MiB freed it after every call, and
/// the next call re-copied and re-faulted it — 6% of its compiled run time).
const POOL_MAX_BYTES: usize = 64 << 20;

thread_local! {
    /// Buffers of finished frames, emptied but with their capacity: a new frame's memory grows
    /// into pages already mapped instead of reallocating (copying) and faulting in fresh ones —
    /// together a fifth of a memory-hungry contract's compiled run time (snailtracer).
    static POOL: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Default for Memory {
    fn default() -> Self {
        let data = POOL
            .try_with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.pop()))
            .ok()
            .flatten()
            .unwrap_or_default();
        let mut m = Memory {
            data,
            base: 0,
            word_limit: 0,
        };
        m.sync_mirror();
        m
    }
}

impl Drop for Memory {
    fn drop(&mut self) {
        let mut data = std::mem::take(&mut self.data);
        if data.capacity() == 0 || data.capacity() > POOL_MAX_BYTES {
            return;
        }
        data.clear();
        // During thread teardown the pool may be gone: the buffer is then simply freed.
        let _ = POOL.try_with(|p| {
            if let Ok(mut p) = p.try_borrow_mut() {
                let held: usize = p.iter().map(Vec::capacity).sum();
                if p.len() < POOL_SIZE && held + data.capacity() <= POOL_MAX_BYTES {
                    // The largest buffers first out (`pop`), so a deep call stack of small
                    // frames does not take the big one.
                    let at = p.partition_point(|b| b.capacity() <= data.capacity());
                    p.insert(at, data);
                }
            }
        });
    }
}

impl Clone for Memory {
    fn clone(&self) -> Self {
        let mut m = Memory::default();
        m.data.extend_from_slice(&self.data);
        m.sync_mirror();
        m
    }
}

impl Memory {
    /// Byte offset of the buffer address mirror (usize).
    pub const BASE_OFFSET: usize = core::mem::offset_of!(Memory, base);
    /// Byte offset of the word limit mirror (usize): the length less 31, saturating.
    pub const WORD_LIMIT_OFFSET: usize = core::mem::offset_of!(Memory, word_limit);

    /// Empty memory.
    pub fn new() -> Memory {
        Memory::default()
    }

    fn sync_mirror(&mut self) {
        self.base = self.data.as_mut_ptr() as usize;
        self.word_limit = self.data.len().saturating_sub(31);
    }

    /// Current size in bytes (always a multiple of 32).
    #[inline]
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when no memory has been touched.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The bytes.
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        &self.data
    }

    /// Ensures `[offset, offset + len)` is addressable, charging expansion gas.
    ///
    /// Returns the offset as `usize` (0 when `len == 0`: nothing is touched then, whatever the
    /// offset). Errors with `OutOfGas` when the range is beyond the memory limit or unaffordable.
    #[inline]
    pub fn expand(&mut self, gas: &mut Gas, offset: &U256, len: &U256) -> Result<usize, ExitCode> {
        if len.is_zero() {
            return Ok(0);
        }
        let (Some(off), Some(l)) = (crate::word::to_u64(offset), crate::word::to_u64(len)) else {
            return Err(ExitCode::OutOfGas);
        };
        self.expand_u64(gas, off, l)?;
        Ok(off as usize)
    }

    /// [`Memory::expand`] for operands already known to fit in `u64`; `len` must be non-zero.
    #[inline]
    pub fn expand_u64(&mut self, gas: &mut Gas, offset: u64, len: u64) -> Result<(), ExitCode> {
        let end = offset.checked_add(len).ok_or(ExitCode::OutOfGas)?;
        if end <= self.data.len() as u64 {
            return Ok(());
        }
        self.grow(gas, end)
    }

    /// Grows memory to hold `end` bytes (more than it holds), charging the expansion: the slow
    /// path of [`Memory::expand_u64`], out of line for the interpreter's loops.
    #[inline(never)]
    fn grow(&mut self, gas: &mut Gas, end: u64) -> Result<(), ExitCode> {
        self.grow_inline(gas, end)
    }

    /// [`Memory::expand_u64`] of one word at `offset`, for compiled code's expansion helper,
    /// which is called only when the word lies outside memory: the growth in line.
    #[inline(always)]
    pub fn expand_word_to_grow(&mut self, gas: &mut Gas, offset: u64) -> Result<(), ExitCode> {
        let end = offset.checked_add(32).ok_or(ExitCode::OutOfGas)?;
        if end <= self.data.len() as u64 {
            return Ok(());
        }
        self.grow_inline(gas, end)
    }

    #[inline(always)]
    fn grow_inline(&mut self, gas: &mut Gas, end: u64) -> Result<(), ExitCode> {
        if end > gas::MEMORY_LIMIT {
            return Err(ExitCode::OutOfGas);
        }
        let new_words = gas::words(end);
        let old_words = (self.data.len() / 32) as u64;
        let cost = gas::memory_cost(new_words) - gas::memory_cost(old_words);
        if !gas.charge(cost) {
            return Err(ExitCode::OutOfGas);
        }
        let new_len = (new_words * 32) as usize;
        let delta = new_len - self.data.len();
        if delta == 32 {
            // One word, the most common growth (Solidity allocating as it goes): two vector
            // stores in line, where `resize` called `memset` (a memory-hungry contract grows
            // this way hundreds of thousands of times per call; figures in PERFORMANCE.md).
            self.data.extend_from_slice(&[0; 32]);
        } else if delta <= SMALL_GROWTH.len() {
            // A few words (an array or a struct allocated): a copy of zeros, in line, where
            // `resize` called its generic fill out of line.
            self.data.extend_from_slice(&SMALL_GROWTH[..delta]);
        } else {
            self.data.resize(new_len, 0);
        }
        self.sync_mirror();
        Ok(())
    }

    /// Reads 32 bytes at `offset` (must be expanded).
    #[inline]
    pub fn load_word(&self, offset: usize) -> U256 {
        // Four whole-limb loads and byte swaps: `U256::from_be_slice` assembles a slice of
        // unknown length byte by byte, several times the instructions of the MLOAD around it.
        let b: &[u8; 32] = self.data[offset..offset + 32]
            .try_into()
            .expect("a 32-byte range");
        let limb = |i: usize| u64::from_be_bytes(b[24 - 8 * i..32 - 8 * i].try_into().unwrap());
        U256::from_limbs([limb(0), limb(1), limb(2), limb(3)])
    }

    /// Writes 32 bytes at `offset` (must be expanded).
    #[inline]
    pub fn store_word(&mut self, offset: usize, value: &U256) {
        let out = &mut self.data[offset..offset + 32];
        for (i, l) in value.as_limbs().iter().enumerate() {
            out[24 - 8 * i..32 - 8 * i].copy_from_slice(&l.to_be_bytes());
        }
    }

    /// Writes one byte (must be expanded).
    #[inline]
    pub fn store_byte(&mut self, offset: usize, value: u8) {
        self.data[offset] = value;
    }

    /// The slice `[offset, offset + len)` (must be expanded, or `len == 0`).
    #[inline]
    pub fn slice(&self, offset: usize, len: usize) -> &[u8] {
        if len == 0 {
            return &[];
        }
        &self.data[offset..offset + len]
    }

    /// Writes `len` bytes at `dst` from `src` starting at `src_offset`, zero-filling past its end.
    ///
    /// This is the shared body of CALLDATACOPY, CODECOPY, EXTCODECOPY and RETURNDATACOPY.
    /// `src_offset` saturates: any offset beyond `src` copies zeros.
    #[inline]
    pub fn copy_padded(&mut self, dst: usize, src: &[u8], src_offset: u64, len: usize) {
        if len == 0 {
            return;
        }
        let out = &mut self.data[dst..dst + len];
        let start = src_offset.min(src.len() as u64) as usize;
        let avail = (src.len() - start).min(len);
        out[..avail].copy_from_slice(&src[start..start + avail]);
        out[avail..].fill(0);
    }

    /// MCOPY: overlapping-safe copy within memory (both ranges expanded).
    #[inline]
    pub fn copy_within(&mut self, dst: usize, src: usize, len: usize) {
        if len != 0 {
            self.data.copy_within(src..src + len, dst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_charges_once_per_word() {
        let mut m = Memory::new();
        let mut g = Gas::new(1000);
        assert_eq!(m.expand(&mut g, &U256::from(0), &U256::from(32)), Ok(0));
        assert_eq!(g.remaining, 997);
        assert_eq!(m.expand(&mut g, &U256::from(10), &U256::from(22)), Ok(10));
        assert_eq!(g.remaining, 997);
        assert_eq!(m.expand(&mut g, &U256::from(32), &U256::from(1)), Ok(32));
        assert_eq!(g.remaining, 994);
        assert_eq!(m.len(), 64);
    }

    /// Growing one word at a time (the in-line path), by several words and through the compiled
    /// code's entry point all charge the same gas for the same size, and read back zeros, also
    /// in a recycled buffer that held other bytes.
    #[test]
    fn growth_by_words_matches_growth_at_once() {
        for round in 0..2 {
            let (mut a, mut b) = (Memory::new(), Memory::new());
            let (mut ga, mut gb) = (Gas::new(1_000_000), Gas::new(1_000_000));
            for w in 0..300u64 {
                assert_eq!(a.expand_word_to_grow(&mut ga, 32 * w), Ok(()));
                assert_eq!(a.len() as u64, 32 * (w + 1));
            }
            assert_eq!(b.expand_u64(&mut gb, 0, 300 * 32), Ok(()));
            assert_eq!((a.len(), ga.remaining), (b.len(), gb.remaining));
            assert!(a.as_slice().iter().all(|x| *x == 0), "round {round}");
            // Steps of 1 to 12 words and a few bytes (the small-growth copy up to eight words,
            // `resize` beyond), to the same size.
            let (mut c, mut gc) = (Memory::new(), Gas::new(1_000_000));
            let mut end = 0u64;
            for step in (1..=12u64).cycle().take(40) {
                end += 32 * step - 5;
                assert_eq!(c.expand_u64(&mut gc, end - 1, 1), Ok(()));
                assert_eq!(c.len() as u64, end.div_ceil(32) * 32);
            }
            let (mut d, mut gd) = (Memory::new(), Gas::new(1_000_000));
            assert_eq!(d.expand_u64(&mut gd, 0, end), Ok(()));
            assert_eq!((c.len(), gc.remaining), (d.len(), gd.remaining));
            assert!(c.as_slice().iter().all(|x| *x == 0), "round {round}");
            // Dirty the buffers before they go back to the pool for the next round.
            a.store_word(0, &U256::MAX);
            a.store_word(32 * 299, &U256::MAX);
            b.store_word(32 * 150, &U256::MAX);
            c.store_word(c.len() - 32, &U256::MAX);
            d.store_word(64, &U256::MAX);
        }
    }

    #[test]
    fn huge_offsets_are_out_of_gas_without_allocating() {
        let mut m = Memory::new();
        let mut g = Gas::new(u64::MAX);
        let big = U256::from(1u64 << 32);
        assert_eq!(
            m.expand(&mut g, &big, &U256::from(1)),
            Err(ExitCode::OutOfGas)
        );
        assert_eq!(
            m.expand(&mut g, &U256::MAX, &U256::from(1)),
            Err(ExitCode::OutOfGas)
        );
        assert_eq!(
            m.expand(&mut g, &U256::from(u64::MAX), &U256::from(2)),
            Err(ExitCode::OutOfGas)
        );
        assert_eq!(m.expand(&mut g, &U256::MAX, &U256::ZERO), Ok(0));
        assert_eq!(m.len(), 0);
        assert_eq!(g.remaining, u64::MAX);
    }

    #[test]
    fn copy_padded_zero_fills() {
        let mut m = Memory::new();
        let mut g = Gas::new(1000);
        m.expand(&mut g, &U256::ZERO, &U256::from(32)).unwrap();
        m.store_word(0, &U256::MAX);
        m.copy_padded(0, &[1, 2, 3], 1, 4);
        assert_eq!(&m.as_slice()[..5], &[2, 3, 0, 0, 0xff]);
        m.copy_padded(0, &[1, 2, 3], u64::MAX, 2);
        assert_eq!(&m.as_slice()[..3], &[0, 0, 0]);
    }
}
