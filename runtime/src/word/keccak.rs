//! KECCAK256: the hash, and a memo of the last few short inputs.

use super::B256;

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
