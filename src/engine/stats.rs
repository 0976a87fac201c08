//! The engine's counters: bumped on every frame from many threads, read as a [`Stats`] snapshot.
//!
//! Per-frame counters (calls by tier, cache hits and misses) are striped over cache lines, each
//! thread bumping its own stripe, so threads running the same hot contract do not bounce one
//! cache line between cores. Rare events (compiles, evictions) are plain atomics.

use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

const STRIPES: usize = 16;

/// One atomic on its own cache line (128 bytes: adjacent-line prefetch pairs lines on x86).
#[repr(align(128))]
#[derive(Default)]
struct Padded(AtomicU64);

/// A counter bumped from many threads at once.
pub(crate) struct Counter {
    stripes: [Padded; STRIPES],
}

impl Default for Counter {
    fn default() -> Counter {
        Counter {
            stripes: std::array::from_fn(|_| Padded::default()),
        }
    }
}

/// This thread's stripe: threads are numbered in the order they first bump a counter.
fn stripe() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static STRIPE: usize = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
    }
    STRIPE.with(|s| *s)
}

impl Counter {
    /// Adds one.
    #[inline]
    pub(crate) fn bump(&self) {
        self.stripes[stripe()].0.fetch_add(1, Ordering::Relaxed);
    }

    /// The total (a consistent snapshot only when no thread is bumping).
    pub(crate) fn get(&self) -> u64 {
        self.stripes
            .iter()
            .map(|s| s.0.load(Ordering::Relaxed))
            .sum()
    }
}

/// Every counter of an engine.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) interpreter_calls: Counter,
    pub(crate) native_calls: Counter,
    pub(crate) cache_hits: Counter,
    pub(crate) cache_misses: Counter,
    pub(crate) compiles: AtomicU64,
    pub(crate) compile_failures: AtomicU64,
    pub(crate) compile_ns_total: AtomicU64,
    pub(crate) compile_ns_max: AtomicU64,
    pub(crate) region_recompiles: Counter,
}

impl Counters {
    /// Records one finished compile attempt.
    pub(crate) fn compiled(&self, ok: bool, time: Duration) {
        let ns = u64::try_from(time.as_nanos()).unwrap_or(u64::MAX);
        if ok {
            self.compiles.fetch_add(1, Ordering::Relaxed);
        } else {
            self.compile_failures.fetch_add(1, Ordering::Relaxed);
        }
        self.compile_ns_total.fetch_add(ns, Ordering::Relaxed);
        self.compile_ns_max.fetch_max(ns, Ordering::Relaxed);
    }
}

/// A snapshot of an engine's counters ([`Engine::stats`](super::Engine::stats)).
///
/// Calls are counted per frame (the transaction's own frame and every nested CALL/CREATE that
/// runs code): a frame is native when the engine handed the driver a compiled program for it
/// (which may still hand over to the interpreter mid-frame), interpreted otherwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Frames run by the interpreter.
    pub interpreter_calls: u64,
    /// Frames run by compiled code.
    pub native_calls: u64,
    /// Successful compiles.
    pub compiles: u64,
    /// Compiles that failed or exceeded a limit (the code is then interpret-only).
    pub compile_failures: u64,
    /// Time spent compiling, over all attempts.
    pub compile_time_total: Duration,
    /// The longest compile.
    pub compile_time_max: Duration,
    /// Frames whose code was found in the cache.
    pub cache_hits: u64,
    /// Frames whose code was not (it is added).
    pub cache_misses: u64,
    /// Cache entries evicted (by the memory budget or the entry limit).
    pub evictions: u64,
    /// Executable memory held by cached programs, in bytes (each program's machine code rounded
    /// up to whole pages, as it is mapped).
    pub code_bytes: u64,
    /// Compiled programs in the cache.
    pub programs: u64,
    /// Entries (code hash, fork) in the cache.
    pub entries: u64,
    /// Compiles waiting for or running on a worker.
    pub pending_compiles: u64,
    /// Region programs found stale (their cold code doing much of the work) and replaced by a
    /// whole-program compile.
    pub region_recompiles: u64,
    /// Programs loaded from the disk cache ([`EngineConfig::cache_dir`](super::EngineConfig))
    /// instead of compiled.
    pub disk_loads: u64,
    /// Time spent in those loads (reading, checking and mapping the files).
    pub disk_load_time_total: Duration,
    /// Programs written to the disk cache.
    pub disk_stores: u64,
    /// Disk cache files refused (truncated, corrupted, another version, build, target or key):
    /// each is removed and its code compiled again.
    pub disk_rejects: u64,
}

impl Stats {
    /// One JSON object: `{"interpreterCalls":…,"nativeCalls":…,"compiles":…,"compileMsTotal":…,
    /// "cacheHits":…,"cacheMisses":…,"evictions":…,"codeBytes":…,…}` (the listed keys first, in
    /// that order, then `compileFailures`, `compileMsMax`, `programs`, `entries`,
    /// `pendingCompiles`, `regionRecompiles`, `diskLoads`, `diskLoadMsTotal`, `diskStores`,
    /// `diskRejects`).
    pub fn to_json(&self) -> String {
        format!(
            concat!(
                "{{\"interpreterCalls\":{},\"nativeCalls\":{},\"compiles\":{},",
                "\"compileMsTotal\":{:.3},\"cacheHits\":{},\"cacheMisses\":{},\"evictions\":{},",
                "\"codeBytes\":{},\"compileFailures\":{},\"compileMsMax\":{:.3},\"programs\":{},",
                "\"entries\":{},\"pendingCompiles\":{},\"regionRecompiles\":{},",
                "\"diskLoads\":{},\"diskLoadMsTotal\":{:.3},\"diskStores\":{},",
                "\"diskRejects\":{}}}"
            ),
            self.interpreter_calls,
            self.native_calls,
            self.compiles,
            self.compile_time_total.as_secs_f64() * 1e3,
            self.cache_hits,
            self.cache_misses,
            self.evictions,
            self.code_bytes,
            self.compile_failures,
            self.compile_time_max.as_secs_f64() * 1e3,
            self.programs,
            self.entries,
            self.pending_compiles,
            self.region_recompiles,
            self.disk_loads,
            self.disk_load_time_total.as_secs_f64() * 1e3,
            self.disk_stores,
            self.disk_rejects,
        )
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "calls:    {} interpreted, {} native",
            self.interpreter_calls, self.native_calls
        )?;
        writeln!(
            f,
            "compiles: {} ok, {} failed, {:.3} ms total, {:.3} ms max, {} pending, {} stale regions recompiled whole",
            self.compiles,
            self.compile_failures,
            self.compile_time_total.as_secs_f64() * 1e3,
            self.compile_time_max.as_secs_f64() * 1e3,
            self.pending_compiles,
            self.region_recompiles
        )?;
        writeln!(
            f,
            "cache:    {} hits, {} misses, {} evictions, {} entries",
            self.cache_hits, self.cache_misses, self.evictions, self.entries
        )?;
        writeln!(
            f,
            "code:     {} programs, {} bytes of executable memory",
            self.programs, self.code_bytes
        )?;
        write!(
            f,
            "disk:     {} loads ({:.3} ms), {} stores, {} rejects",
            self.disk_loads,
            self.disk_load_time_total.as_secs_f64() * 1e3,
            self.disk_stores,
            self.disk_rejects
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn striped_counter_sums_over_threads() {
        let c = Counter::default();
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        c.bump();
                    }
                });
            }
        });
        assert_eq!(c.get(), 8000);
    }

    #[test]
    fn json_keys_in_order() {
        let s = Stats {
            interpreter_calls: 1,
            native_calls: 2,
            compiles: 3,
            compile_time_total: Duration::from_micros(1500),
            cache_hits: 4,
            cache_misses: 5,
            evictions: 6,
            code_bytes: 7,
            ..Stats::default()
        };
        let j = s.to_json();
        assert!(j.starts_with(
            "{\"interpreterCalls\":1,\"nativeCalls\":2,\"compiles\":3,\"compileMsTotal\":1.500,\
             \"cacheHits\":4,\"cacheMisses\":5,\"evictions\":6,\"codeBytes\":7,"
        ));
        let v: serde_json::Value = serde_json::from_str(&j).expect("valid JSON");
        assert_eq!(v["pendingCompiles"], 0);
        assert_eq!(v["diskRejects"], 0);
    }
}
