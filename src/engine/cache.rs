//! The code cache: (code hash, fork) → analysed code, hotness, and the compiled program.
//!
//! Sharded: [`SHARDS`] read-write locks, the shard picked by the first byte of the hash, so
//! look-ups of different contracts never share a lock and look-ups of the same contract share it
//! only for reading. Everything a look-up updates (hotness, recency) is an atomic in the entry.
//!
//! Recency is a logical clock that moves only when the cache changes (an insert or an installed
//! program), so a look-up normally just reads it; an entry's `last_used` is the clock when it was
//! last looked up. Eviction removes the entries with the oldest `last_used` (least recently used,
//! at the granularity of cache changes) until the cache is back within its limits: executable
//! bytes ([`Program::code_bytes`] rounded up to pages, the memory really mapped) and entry count.
//! An evicted entry's program is freed when the last frame running it drops its `Arc`.

use super::usage::RegionUsage;
use crate::bytecode::Bytecode;
use crate::jit::Program;
use crate::profile::Profile;
use alloy_primitives::B256;
use ferrite_runtime::SpecId;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, TryLockError};

/// Number of shards.
pub(crate) const SHARDS: usize = 64;

/// What compiled code is cached by: compiled code bakes in the fork's gas, so the fork is part of
/// the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    pub(crate) hash: B256,
    pub(crate) spec: SpecId,
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // keccak256 output is uniform: eight of its bytes are a hash already. Bytes 8..16, not
        // byte 0, which picks the shard.
        let mut w = [0u8; 8];
        w.copy_from_slice(&self.hash[8..16]);
        state.write_u64(
            u64::from_le_bytes(w) ^ (self.spec as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
        );
    }
}

/// Passes [`Key`]'s precomputed hash through (SipHash over 33 bytes would cost more than the
/// look-up itself).
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Not used by `Key`; a correct fallback all the same (FxHash-style mixing).
        for b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type Map = HashMap<Key, Arc<Entry>, BuildHasherDefault<KeyHasher>>;

/// One (code hash, fork).
pub(crate) struct Entry {
    /// The analysed code (jump destinations, padding) the interpreter runs.
    pub(crate) code: Arc<Bytecode>,
    /// Set once: `Some(program)` when compiled, `None` when the code is interpret-only (its
    /// compile failed or exceeded a limit).
    pub(crate) result: OnceLock<Option<Arc<Program>>>,
    /// Interpreted calls counted towards the hotness threshold.
    pub(crate) calls: AtomicU64,
    /// A compile was requested (queued, running, or done): coalesces duplicate requests.
    pub(crate) claimed: AtomicBool,
    /// Instruction counts of its last interpreted calls before the compile request, when the
    /// engine compiles regions ([`EngineConfig::region_coverage_bps`](super::EngineConfig));
    /// taken (and freed) by the compile. Four bytes per code byte, so only contracts about to
    /// be compiled hold one.
    pub(crate) profile: Mutex<Option<Arc<Profile>>>,
    /// How this entry's region program fares (the evidence of [`RegionUsage::stale`]): fresh
    /// per entry, so per installed program.
    pub(crate) usage: Arc<RegionUsage>,
    /// A region program found stale ([`RegionUsage::stale`]):
    /// it serves calls while this entry's whole program compiles.
    pub(crate) fallback: Option<Arc<Program>>,
    /// Tier-up: the block mask of the region whose baseline program is the fallback; this
    /// entry compiles the optimized program of the same region.
    pub(crate) optimize: Option<Vec<bool>>,
    /// The cache clock at the last look-up.
    pub(crate) last_used: AtomicU64,
    /// Executable bytes accounted to the cache for this entry's program (0 when none). Written
    /// only under the shard's write lock.
    held: AtomicU64,
}

impl Entry {
    pub(crate) fn new(code: Arc<Bytecode>) -> Entry {
        Entry {
            code,
            result: OnceLock::new(),
            calls: AtomicU64::new(0),
            claimed: AtomicBool::new(false),
            profile: Mutex::new(None),
            usage: Arc::default(),
            fallback: None,
            optimize: None,
            last_used: AtomicU64::new(0),
            held: AtomicU64::new(0),
        }
    }

    /// The entry that replaces this one to compile the same code again, `fallback` serving
    /// its calls meanwhile.
    pub(crate) fn successor(&self, fallback: Arc<Program>) -> Entry {
        Entry {
            fallback: Some(fallback),
            ..Entry::new(self.code.clone())
        }
    }
}

/// Executable memory a program really holds, as [`EngineConfig::code_budget`](super::EngineConfig)
/// counts it: its machine code rounded up to whole pages (each program's code is one mapping of
/// its own, see [`crate::jit`]).
pub fn held_bytes(p: &Program) -> u64 {
    let page = region::page::size().max(1) as u64;
    (p.code_bytes() as u64).div_ceil(page) * page
}

/// The sharded cache with its limits.
pub(crate) struct Cache {
    shards: Box<[RwLock<Map>]>,
    clock: AtomicU64,
    entries: AtomicUsize,
    programs: AtomicUsize,
    code_bytes: AtomicU64,
    evictions: AtomicU64,
    evicting: Mutex<()>,
    code_budget: u64,
    max_entries: usize,
}

fn read(lock: &RwLock<Map>) -> std::sync::RwLockReadGuard<'_, Map> {
    // A panic while holding a shard lock cannot leave the map half-updated (every update is a
    // single insert or remove), so a poisoned lock is still consistent.
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write(lock: &RwLock<Map>) -> std::sync::RwLockWriteGuard<'_, Map> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

/// A shard's lock was held by a writer (or, for writing, by anyone) and the caller chose not to
/// wait: compiler threads take shard locks too, at a lower priority, and a call must never wait
/// for a descheduled compiler thread (priority inversion).
#[derive(Debug)]
pub(crate) struct Busy;

fn try_read(lock: &RwLock<Map>) -> Result<std::sync::RwLockReadGuard<'_, Map>, Busy> {
    match lock.try_read() {
        Ok(g) => Ok(g),
        Err(TryLockError::Poisoned(e)) => Ok(e.into_inner()),
        Err(TryLockError::WouldBlock) => Err(Busy),
    }
}

fn try_write(lock: &RwLock<Map>) -> Result<std::sync::RwLockWriteGuard<'_, Map>, Busy> {
    match lock.try_write() {
        Ok(g) => Ok(g),
        Err(TryLockError::Poisoned(e)) => Ok(e.into_inner()),
        Err(TryLockError::WouldBlock) => Err(Busy),
    }
}

impl Cache {
    pub(crate) fn new(code_budget: u64, max_entries: usize) -> Cache {
        Cache {
            shards: (0..SHARDS).map(|_| RwLock::new(Map::default())).collect(),
            clock: AtomicU64::new(1),
            entries: AtomicUsize::new(0),
            programs: AtomicUsize::new(0),
            code_bytes: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
            evicting: Mutex::new(()),
            code_budget,
            max_entries: max_entries.max(1),
        }
    }

    fn shard(&self, key: &Key) -> &RwLock<Map> {
        &self.shards[key.hash[0] as usize % SHARDS]
    }

    /// Marks `entry` as used now. Writes only when the clock moved since its last use, so hot
    /// entries are not written on every call.
    #[inline]
    fn touch(&self, entry: &Entry) {
        let now = self.clock.load(Ordering::Relaxed);
        if entry.last_used.load(Ordering::Relaxed) != now {
            entry.last_used.store(now, Ordering::Relaxed);
        }
    }

    /// Runs `f` on the entry for `key` (marked used) under the shard's read lock. With `wait`
    /// false it does not wait for a writer: `Err(Busy)` when the shard is being written.
    #[inline]
    pub(crate) fn with_entry<R>(
        &self,
        key: &Key,
        wait: bool,
        f: impl FnOnce(&Arc<Entry>) -> R,
    ) -> Result<Option<R>, Busy> {
        let map = if wait {
            read(self.shard(key))
        } else {
            try_read(self.shard(key))?
        };
        let Some(entry) = map.get(key) else {
            return Ok(None);
        };
        self.touch(entry);
        Ok(Some(f(entry)))
    }

    /// Inserts `entry` for `key` unless another thread did first; returns the entry in the cache.
    /// Evicts the least recently used entries when over the entry limit. With `wait` false it
    /// does not wait for the shard's lock: `Err(Busy)`.
    pub(crate) fn insert(&self, key: Key, entry: Entry, wait: bool) -> Result<Arc<Entry>, Busy> {
        let (entry, inserted) = {
            let mut map = if wait {
                write(self.shard(&key))
            } else {
                try_write(self.shard(&key))?
            };
            let now = self.clock.fetch_add(1, Ordering::Relaxed) + 1;
            entry.last_used.store(now, Ordering::Relaxed);
            match map.get(&key) {
                Some(e) => (e.clone(), false),
                None => {
                    let e = Arc::new(entry);
                    map.insert(key, e.clone());
                    (e, true)
                }
            }
        };
        if inserted && self.entries.fetch_add(1, Ordering::Relaxed) + 1 > self.max_entries {
            // Off the lock, in a batch down to 7/8 of the limit so the scan is amortised over
            // many inserts; skipped when another thread is already evicting.
            if let Ok(_g) = self.evicting.try_lock() {
                let target = self.max_entries - self.max_entries / 8;
                self.evict_lru(|c| c.entries.load(Ordering::Relaxed) > target, |_| true);
            }
        }
        Ok(entry)
    }

    /// Sets the compile result of `entry`. When the entry is still cached, its program's
    /// executable bytes are accounted, and entries are evicted (least recently used first) until
    /// the cache is within its code budget again. Returns false when `entry` had been evicted in
    /// the meantime (the program then lives only as long as frames already holding it).
    pub(crate) fn install(
        &self,
        key: &Key,
        entry: &Arc<Entry>,
        result: Option<Arc<Program>>,
    ) -> bool {
        let held = result.as_deref().map_or(0, held_bytes);
        let cached = {
            let map = write(self.shard(key));
            // Set under the write lock, so eviction (which removes under it) sees either no
            // program or an accounted one.
            let _ = entry.result.set(result);
            let cached = map.get(key).is_some_and(|e| Arc::ptr_eq(e, entry));
            if cached && held > 0 {
                entry.held.store(held, Ordering::Relaxed);
                self.code_bytes.fetch_add(held, Ordering::Relaxed);
                self.programs.fetch_add(1, Ordering::Relaxed);
            }
            cached
        };
        if cached && held > 0 {
            // The new program is the most recent: evicted last.
            let now = self.clock.fetch_add(1, Ordering::Relaxed) + 1;
            entry.last_used.store(now, Ordering::Relaxed);
            if self.code_bytes.load(Ordering::Relaxed) > self.code_budget {
                let _g = self.evicting.lock().unwrap_or_else(|e| e.into_inner());
                self.evict_lru(
                    |c| c.code_bytes.load(Ordering::Relaxed) > c.code_budget,
                    |e| e.held.load(Ordering::Relaxed) > 0,
                );
            }
        }
        cached
    }

    /// Replaces `old` (if `key` still maps to it) by `new`, dropping `old`'s program from the
    /// code accounting (frames running it, or `new` as its fallback, keep it alive); `None` if
    /// `old` is no longer cached.
    pub(crate) fn replace(&self, key: &Key, old: &Arc<Entry>, new: Entry) -> Option<Arc<Entry>> {
        let mut map = write(self.shard(key));
        if !map.get(key).is_some_and(|e| Arc::ptr_eq(e, old)) {
            return None;
        }
        let held = old.held.load(Ordering::Relaxed);
        if held > 0 {
            self.code_bytes.fetch_sub(held, Ordering::Relaxed);
            self.programs.fetch_sub(1, Ordering::Relaxed);
        }
        let now = self.clock.fetch_add(1, Ordering::Relaxed) + 1;
        new.last_used.store(now, Ordering::Relaxed);
        let new = Arc::new(new);
        map.insert(*key, new.clone());
        Some(new)
    }

    /// Removes entries passing `candidate`, least recently used first, while `over` holds.
    /// Called with `evicting` held.
    fn evict_lru(&self, over: impl Fn(&Cache) -> bool, candidate: impl Fn(&Entry) -> bool) {
        if !over(self) {
            return;
        }
        let mut victims: Vec<(u64, Key)> = Vec::new();
        for shard in self.shards.iter() {
            let map = read(shard);
            victims.extend(
                map.iter()
                    .filter(|(_, e)| candidate(e))
                    .map(|(k, e)| (e.last_used.load(Ordering::Relaxed), *k)),
            );
        }
        victims.sort_unstable_by_key(|(t, _)| *t);
        let mut freed = Vec::new();
        for (tick, key) in victims {
            if !over(self) {
                break;
            }
            let mut map = write(self.shard(&key));
            // Skip an entry used since the scan: it is no longer among the least recent.
            if map
                .get(&key)
                .is_some_and(|e| e.last_used.load(Ordering::Relaxed) == tick)
            {
                if let Some(e) = map.remove(&key) {
                    self.forget(&e);
                    self.evictions.fetch_add(1, Ordering::Relaxed);
                    freed.push(e);
                }
            }
        }
        // Programs are unmapped here, off the shard locks.
        drop(freed);
    }

    /// Updates the totals for an entry just removed from its shard.
    fn forget(&self, e: &Entry) {
        self.entries.fetch_sub(1, Ordering::Relaxed);
        let held = e.held.load(Ordering::Relaxed);
        if held > 0 {
            self.code_bytes.fetch_sub(held, Ordering::Relaxed);
            self.programs.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Removes every entry.
    pub(crate) fn clear(&self) {
        let _g = self.evicting.lock().unwrap_or_else(|e| e.into_inner());
        for shard in self.shards.iter() {
            let removed: Vec<Arc<Entry>> = write(shard).drain().map(|(_, e)| e).collect();
            for e in &removed {
                self.forget(e);
            }
        }
    }

    /// (entries, programs, executable bytes, evictions).
    pub(crate) fn totals(&self) -> (usize, usize, u64, u64) {
        (
            self.entries.load(Ordering::Relaxed),
            self.programs.load(Ordering::Relaxed),
            self.code_bytes.load(Ordering::Relaxed),
            self.evictions.load(Ordering::Relaxed),
        )
    }

    /// The entry for `key`, if cached (not marked used).
    pub(crate) fn peek(&self, key: &Key) -> Option<Arc<Entry>> {
        read(self.shard(key)).get(key).cloned()
    }

    /// The executable-memory budget in bytes.
    pub(crate) fn code_budget(&self) -> u64 {
        self.code_budget
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::Bytes;

    fn entry(code: &[u8]) -> (Key, Entry) {
        let code = Arc::new(Bytecode::new(Bytes::copy_from_slice(code)));
        (
            Key {
                hash: code.hash(),
                spec: SpecId::Prague,
            },
            Entry::new(code),
        )
    }

    #[test]
    fn insert_is_idempotent_per_key() {
        let c = Cache::new(1 << 20, 100);
        let (k, e) = entry(&[0x00]);
        let a = c.insert(k, e, true).expect("uncontended");
        let (_, e2) = entry(&[0x00]);
        let b = c.insert(k, e2, true).expect("uncontended");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(c.totals().0, 1);
        let other = Key {
            spec: SpecId::Cancun,
            ..k
        };
        assert!(
            c.with_entry(&other, true, |_| ())
                .expect("uncontended")
                .is_none(),
            "the fork is part of the key"
        );
    }

    #[test]
    fn entry_limit_evicts_least_recently_used() {
        let c = Cache::new(1 << 20, 8);
        let keys: Vec<Key> = (0..8u8)
            .map(|i| {
                let (k, e) = entry(&[0x60, i, 0x00]);
                c.insert(k, e, true).expect("uncontended");
                k
            })
            .collect();
        // Use the first one again: it becomes the most recent.
        let (k9, e9) = entry(&[0x60, 9, 0x00]);
        c.with_entry(&keys[0], true, |_| ())
            .expect("uncontended")
            .expect("cached");
        c.clock.fetch_add(1, Ordering::Relaxed);
        c.with_entry(&keys[0], true, |_| ())
            .expect("uncontended")
            .expect("cached");
        c.insert(k9, e9, true).expect("uncontended");
        let (entries, _, _, evictions) = c.totals();
        assert_eq!(entries, 7, "evicted down to 7/8 of the limit");
        assert_eq!(evictions, 2);
        assert!(c.peek(&keys[0]).is_some(), "recently used survives");
        assert!(c.peek(&keys[1]).is_none(), "oldest goes first");
        assert!(c.peek(&k9).is_some(), "the new entry stays");
    }
}
