//! The per-transaction slot records ([`TxSlot`]), found by key through a hash map and, for the
//! slots most recently looked up, a small direct-mapped cache of their indices.
//!
//! Warm SLOADs were a quarter of snailtracer's compiled run time (98k per call, over 335 slots),
//! about 30 ns each, half of it the hash-map look-up (hashing the 52-byte key, probing,
//! comparing). The cache holds indices into the record vector, not copies: records live only in
//! the vector, so there is nothing to keep coherent, and an entry is trusted only after its
//! record's key compares equal (a stale or conflicting entry is a miss). A miss (a conflict, or
//! a contract choosing keys to collide in the cache) costs the map look-up it cost before,
//! never more. (Its effect on snailtracer is in `benches/PERFORMANCE.md`.)

use super::{SlotKey, TxSlot};
use alloy_primitives::map::HashMap;

/// Most cache entries (a power of two): 64 thrashed on snailtracer's 335 slots, and 1,024 left
/// a quarter of them sharing an entry (figures in `benches/PERFORMANCE.md`).
const MAX_RECENT: usize = 4096;
/// Cache entries per record: in a direct-mapped cache the share of slots that collide with
/// another falls as the entries outnumber them.
const RECENT_PER_RECORD: usize = 8;
/// Fewest cache entries (a power of two).
const MIN_RECENT: usize = 16;
const _: () = assert!(MAX_RECENT.is_power_of_two() && MIN_RECENT.is_power_of_two());
/// No record.
const EMPTY: u32 = u32::MAX;

/// The records of the slots a transaction touched.
#[derive(Debug, Default)]
pub(super) struct TxSlots {
    records: Vec<(SlotKey, TxSlot)>,
    index: HashMap<SlotKey, u32>,
    /// Record indices by [`line`]: eight times as many entries as records (at least
    /// [`MIN_RECENT`], at most [`MAX_RECENT`]), made when the first record is: a State that
    /// touches two slots does not fill 4 KiB, once at creation and twice per transaction (a
    /// fifth of a 2 µs call).
    recent: Vec<u32>,
}

/// The cache entry for `key` among `entries` (a power of two): the top bits of a
/// multiplicative hash of the key's low limb and the address's first word (the parts that
/// differ between slots: array elements, mapping entries, contracts).
#[inline]
fn line(key: &SlotKey, entries: usize) -> usize {
    let (a, _, k) = key.words();
    let h = (k[0] ^ a[0].rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> (64 - entries.trailing_zeros())) as usize
}

impl TxSlots {
    /// Forgets every record. The cache stays as it is: an entry is trusted only if the record
    /// it names has its key, so entries from before cannot mislead.
    pub(super) fn clear(&mut self) {
        self.records.clear();
        self.index.clear();
    }

    /// The index of `key`'s record if the cache holds it: the look-up's fast path, in line in
    /// its callers (a call took the key copied and the miss path set up around it).
    #[inline(always)]
    pub(super) fn cached(&self, key: &SlotKey) -> Option<usize> {
        if self.recent.is_empty() {
            return None;
        }
        let i = self.recent[line(key, self.recent.len())] as usize;
        let (k, _) = self.records.get(i)?;
        (k == key).then_some(i)
    }

    /// Remembers that record `i` is `key`'s.
    fn remember(&mut self, key: &SlotKey, i: usize) {
        let at = line(key, self.recent.len());
        self.recent[at] = i as u32;
    }

    /// Grows the cache to eight times the records (within the bounds), emptied.
    fn fit(&mut self) {
        let want = (RECENT_PER_RECORD * self.records.len())
            .next_power_of_two()
            .clamp(MIN_RECENT, MAX_RECENT);
        if self.recent.len() < want {
            self.recent = vec![EMPTY; want];
        }
    }

    /// Every record, in the order the transaction first touched the slots.
    pub(super) fn iter(&self) -> impl Iterator<Item = &(SlotKey, TxSlot)> {
        self.records.iter()
    }

    /// `key`'s record, if the transaction touched the slot.
    pub(super) fn get_mut(&mut self, key: &SlotKey) -> Option<&mut TxSlot> {
        let i = match self.cached(key) {
            Some(i) => i,
            None => {
                let i = *self.index.get(key)? as usize;
                self.remember(key, i);
                i
            }
        };
        Some(&mut self.records[i].1)
    }

    /// Record `i` (an index [`TxSlots::cached`] or [`TxSlots::find_or_insert`] returned).
    #[inline(always)]
    pub(super) fn record_mut(&mut self, i: usize) -> &mut TxSlot {
        &mut self.records[i].1
    }

    /// The index of `key`'s record past the cache ([`TxSlots::cached`]): from the map, or a new
    /// record made by `new`.
    #[inline(never)]
    pub(super) fn find_or_insert(&mut self, key: &SlotKey, new: impl FnOnce() -> TxSlot) -> usize {
        use alloy_primitives::map::Entry;
        let i = match self.index.entry(*key) {
            Entry::Occupied(e) => *e.get() as usize,
            Entry::Vacant(e) => {
                let i = self.records.len();
                e.insert(i as u32);
                self.records.push((*key, new()));
                i
            }
        };
        self.fit();
        self.remember(key, i);
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Address, U256};

    /// `key`'s record, made by `new` on first touch: the cache, then the map, as
    /// `State::slot` looks it up.
    fn get_or_insert_with<'a>(
        s: &'a mut TxSlots,
        key: &SlotKey,
        new: impl FnOnce() -> TxSlot,
    ) -> &'a mut TxSlot {
        let i = match s.cached(key) {
            Some(i) => i,
            None => s.find_or_insert(key, new),
        };
        s.record_mut(i)
    }

    fn record(n: u64) -> TxSlot {
        TxSlot {
            original: U256::from(n),
            present: U256::from(n + 1),
            warm: n % 2 == 0,
            accessed: true,
        }
    }

    fn key(account: u8, n: u64) -> SlotKey {
        SlotKey(Address::repeat_byte(account), U256::from(n))
    }

    /// More slots than cache entries, over two accounts, looked up in several orders: every
    /// look-up finds its own record, whether the cache holds it, another key, or nothing.
    #[test]
    fn every_key_finds_its_own_record() {
        let mut s = TxSlots::default();
        let n = 5 * MAX_RECENT as u64;
        for i in 0..n {
            for account in [1, 2] {
                let r =
                    get_or_insert_with(&mut s, &key(account, i), || record(i * 3 + account as u64));
                assert_eq!(r.original, U256::from(i * 3 + account as u64));
            }
        }
        for round in 0..3u64 {
            for j in 0..n {
                let i = (j * 7919 + round * 13) % n;
                for account in [2, 1] {
                    let r = s.get_mut(&key(account, i)).map(|r| r.original);
                    assert_eq!(r, Some(U256::from(i * 3 + account as u64)), "slot {i}");
                    // A second insert finds the record instead of making one.
                    let r = get_or_insert_with(&mut s, &key(account, i), || record(0));
                    assert_eq!(r.original, U256::from(i * 3 + account as u64));
                }
            }
        }
        assert!(s.get_mut(&key(3, 0)).is_none());
        assert!(s.get_mut(&key(1, n)).is_none());
    }

    /// Two keys sharing a cache entry, alternately: each displaces the other and is found.
    #[test]
    fn keys_sharing_a_cache_entry() {
        let a = key(1, 0);
        let b = (1..)
            .map(|i| key(1, i))
            .find(|k| line(k, MIN_RECENT) == line(&a, MIN_RECENT))
            .expect("some key shares the entry");
        let mut s = TxSlots::default();
        get_or_insert_with(&mut s, &a, || record(10)).present = U256::from(100);
        get_or_insert_with(&mut s, &b, || record(20)).present = U256::from(200);
        for _ in 0..3 {
            assert_eq!(s.get_mut(&a).map(|r| r.present), Some(U256::from(100)));
            assert_eq!(s.get_mut(&b).map(|r| r.present), Some(U256::from(200)));
        }
    }

    /// After `clear`, nothing is found and records start afresh (a cache entry left from before
    /// would point at a new record of another key, which the key check rejects).
    #[test]
    fn clear_forgets_everything() {
        let mut s = TxSlots::default();
        for i in 0..10 {
            get_or_insert_with(&mut s, &key(1, i), || record(i));
        }
        s.clear();
        for i in 0..10 {
            assert!(s.get_mut(&key(1, i)).is_none());
        }
        let r = get_or_insert_with(&mut s, &key(1, 4), || record(40));
        assert_eq!(r.original, U256::from(40));
        assert!(s.get_mut(&key(1, 3)).is_none());
    }
}
