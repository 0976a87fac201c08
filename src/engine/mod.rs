//! The engine: the one object an embedder keeps to run EVM code, deciding per contract whether
//! to interpret it or run native code.
//!
//! An [`Engine`] owns a code cache keyed by (keccak256(code), fork) — the analysed code, its
//! hotness and, once compiled, its [`Program`] — and the background compiler threads. It is
//! `Send + Sync`; share one behind an `Arc` (or by reference) between all executing threads.
//!
//! Tiering ([`EngineMode::Auto`], the default), per frame:
//! 1. look the code hash up (a sharded, read-mostly cache: threads running the same contract share
//!    a read lock and a few atomics, never a mutex);
//! 2. if a native program is ready, run it;
//! 3. if not, interpret the frame (the last call before the threshold counting its instructions
//!    by pc into the entry's profile), and once the contract is hot (more than
//!    [`EngineConfig::hot_threshold`] interpreted calls) queue it for a worker thread, which
//!    compiles the region of blocks its profile shows hot ([`EngineConfig::region_coverage_bps`];
//!    the interpreter runs the rest of the code, frames crossing at block boundaries) or,
//!    without a profile, the whole contract. A region is compiled twice
//!    ([`EngineConfig::tier_up`]): at [`jit::Tier::Baseline`] first (native code sooner, about
//!    a third of the compile time), then at [`jit::Tier::Optimized`] in the
//!    background, the baseline program running calls until the optimized one replaces it. The
//!    call never waits for the compiler; later calls pick the program up. Requests for one hash
//!    are coalesced; a compile that fails or exceeds a limit marks the hash interpret-only.
//!
//! Regions trade compile time and code memory (an order of magnitude less of both on
//! snailtracer; figures in `benches/PERFORMANCE.md`) for interpreting what the profiled call did
//! not run often. Each region program counts the
//! instructions the interpreter ran for its frames against the gas they used; when its cold code
//! does much of the work ([`RegionUsage::stale`](usage::RegionUsage::stale): later calls
//! took other paths), the entry is replaced by one that compiles the whole contract, the region
//! serving calls until that program is ready ([`Stats::region_recompiles`]). The counters age
//! (halved every [`RegionUsage::WINDOW_GAS`](usage::RegionUsage::WINDOW_GAS) of gas), so
//! the judgement follows recent calls.
//!
//! Compiler threads run below executing threads ([`CompilerPriority::Low`]), and in auto mode a
//! call never waits for a lock a compiler thread may hold (a busy shard is a miss, a busy queue
//! a request made again on a later call): a descheduled compiler never stalls a call.
//!
//! The cache holds at most [`EngineConfig::code_budget`] bytes of executable memory and
//! [`EngineConfig::max_entries`] entries, evicting the least recently used; an evicted program's
//! code memory is unmapped when the last frame running it finishes.
//!
//! With [`EngineConfig::cache_dir`], compiled programs also go to disk (`disk.rs`: one file per
//! code hash, fork, whole-or-region and tier, checksummed, written under a temporary name and
//! renamed), so a restarted process — or another one sharing the directory — loads them instead
//! of compiling. On an in-memory miss the calling thread looks on disk for the best program of
//! the code hash and fork (one failed `opendir` when there is none) and, if it loads one, runs
//! it from that very call; a compile (worker or jit mode) first looks for exactly the program it
//! is about to compile. A file that does not check out is removed and the code compiled again,
//! so results never depend on the cache ([`Stats::disk_rejects`]).
//!
//! ```
//! use ferrite::engine::{Engine, EngineConfig};
//! use ferrite::interpreter::{CallKind, Message, MessageKind};
//! use ferrite::runtime::{Env, SpecId};
//! use ferrite_state::{Account, State};
//! use alloy_primitives::{address, Bytes, U256};
//!
//! let engine = Engine::new(EngineConfig::default()); // auto: compile after 2 calls
//! let contract = address!("cccccccccccccccccccccccccccccccccccccccc");
//! // PUSH1 42 PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN
//! let code = Bytes::from_static(&[0x60, 0x2a, 0x60, 0, 0x52, 0x60, 0x20, 0x60, 0, 0xf3]);
//! let mut state = State::new(SpecId::Prague, Env::default());
//! state.insert_account(contract, Account::with_code(code));
//! let msg = Message {
//!     kind: MessageKind::Call(CallKind::Call),
//!     caller: address!("1111111111111111111111111111111111111111"),
//!     target: contract,
//!     code_address: contract,
//!     value: U256::ZERO,
//!     input: Bytes::new(),
//!     gas_limit: 100_000,
//!     is_static: false,
//!     depth: 0,
//! };
//! for _ in 0..4 {
//!     let r = engine.execute(&mut state, SpecId::Prague, msg.clone());
//!     assert_eq!(U256::from_be_slice(&r.output), U256::from(42));
//! }
//! engine.wait_idle(); // tests only: let the background compile finish
//! let r = engine.execute(&mut state, SpecId::Prague, msg);
//! assert!(r.exit.is_success());
//! let stats = engine.stats();
//! assert_eq!(stats.native_calls, 1);
//! assert_eq!(stats.interpreter_calls, 4);
//! ```

mod cache;
mod disk;
mod stats;
pub mod usage;
mod worker;

pub use cache::held_bytes;
pub use stats::Stats;

use crate::bytecode::Bytecode;
use crate::frame::{self, Loaded, ProgramSource, RegionObserver};
use crate::interpreter::{FrameResult, Message, NoTracer, Tracer};
use crate::jit::{self, Program};
use crate::profile::Profile;
use alloy_primitives::{keccak256, Bytes, B256};
use cache::{Cache, Entry, Key};
use ferrite_runtime::{Host, SpecId};
use stats::Counters;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use worker::{Job, Queue};

/// Which tier runs frames.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum EngineMode {
    /// The interpreter only (the engine still caches analysed code).
    Interp,
    /// Native code, compiled synchronously on the calling thread before a contract's first run
    /// (other threads wanting the same program wait for it). For tests and benchmarks; code the
    /// JIT refuses is interpreted.
    Jit,
    /// Tiered: interpret, compile hot contracts in the background, then run native code.
    #[default]
    Auto,
}

impl EngineMode {
    /// Parses `interp`, `jit` or `auto`.
    pub fn from_name(s: &str) -> Option<EngineMode> {
        match s {
            "interp" => Some(EngineMode::Interp),
            "jit" => Some(EngineMode::Jit),
            "auto" => Some(EngineMode::Auto),
            _ => None,
        }
    }

    /// `interp`, `jit` or `auto`.
    pub fn name(self) -> &'static str {
        match self {
            EngineMode::Interp => "interp",
            EngineMode::Jit => "jit",
            EngineMode::Auto => "auto",
        }
    }
}

/// Scheduling priority of an engine's compiler threads (best effort: where the OS refuses,
/// they run at normal priority).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CompilerPriority {
    /// The priority of the thread that created the engine.
    Normal,
    /// Below executing threads (the default). On Linux `SCHED_BATCH` at nice 10: a compiler
    /// thread that wakes up never preempts a running call (a normal thread waking on a busy core
    /// may take it for a whole time slice — milliseconds — from the call that queued the
    /// compile), and on a core that is also running calls it gets about a tenth of the time, so
    /// compiles still progress on a saturated machine. Elsewhere: the OS's lowest priority.
    #[default]
    Low,
    /// Idle CPU only (Linux `SCHED_IDLE`): calls never share a core with a compile, but on a
    /// machine saturated by executing threads compiles hardly progress.
    Idle,
}

/// How an engine tiers, compiles and caches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// Tiering mode.
    pub mode: EngineMode,
    /// [`EngineMode::Auto`]: interpreted calls of a code hash (per fork) before it is queued for
    /// compilation: `Some(0)` queues it on its first call, `Some(n)` on call n + 1, `None` never
    /// compiles.
    pub hot_threshold: Option<u64>,
    /// [`EngineMode::Auto`]: compiler threads (at least 1; other modes start none).
    pub workers: usize,
    /// Scheduling priority of the compiler threads.
    pub compiler_priority: CompilerPriority,
    /// Executable memory the cache may hold, in bytes (machine code rounded up to pages). A
    /// program larger than the whole budget is not kept: its code becomes interpret-only.
    pub code_budget: u64,
    /// Most (code hash, fork) entries cached, compiled or not (bounds the memory held by
    /// analysed code: about twice the code size per entry).
    pub max_entries: usize,
    /// Largest code compiled, in bytes (at most [`jit::MAX_CODE_SIZE`] takes effect); larger code
    /// is interpret-only. `0` makes every compile fail (for tests of the fallback).
    pub max_code_size: usize,
    /// Most compile requests waiting for a worker; requests beyond are refused (the contract is
    /// requested again on a later call).
    pub queue_capacity: usize,
    /// [`EngineMode::Auto`]: compile only the hot region of a contract, in basis points of the
    /// instructions its interpreted calls executed (`Some(9_900)`: the most-run blocks covering
    /// 99% of them; see [`jit::compile_region`]); the interpreter runs the rest. The last
    /// interpreted call before the compile request is profiled (so with a threshold of 0 there
    /// is no profile and the whole contract is compiled). `None` compiles whole contracts.
    pub region_coverage_bps: Option<u16>,
    /// With regions: compile each region first at [`jit::Tier::Baseline`] (faster to compile,
    /// slower code; see `benches/PERFORMANCE.md`), then at [`jit::Tier::Optimized`] in the background, the
    /// baseline program serving calls until the optimized one replaces it.
    pub tier_up: bool,
    /// A directory for the code cache on disk (created if missing; see the module
    /// documentation): programs compiled are stored there and loaded instead of compiled by
    /// later engines, in this process or others sharing it. `None` (the default): no disk cache.
    /// Used in [`EngineMode::Jit`] and [`EngineMode::Auto`] (with a hot threshold); an unusable
    /// directory just stores and loads nothing. The directory must be as trusted as the binary:
    /// it holds machine code this process runs.
    pub cache_dir: Option<PathBuf>,
    /// Bytes the disk cache may hold; the least recently used files are removed beyond it.
    pub cache_bytes: u64,
}

impl Default for EngineConfig {
    fn default() -> EngineConfig {
        EngineConfig {
            mode: EngineMode::Auto,
            hot_threshold: Some(2),
            workers: 1,
            compiler_priority: CompilerPriority::Low,
            code_budget: 256 << 20,
            max_entries: 16_384,
            max_code_size: jit::MAX_CODE_SIZE,
            queue_capacity: 4096,
            region_coverage_bps: Some(9_900),
            tier_up: true,
            cache_dir: None,
            cache_bytes: 1 << 30,
        }
    }
}

impl EngineConfig {
    /// The default configuration in `mode`.
    pub fn with_mode(mode: EngineMode) -> EngineConfig {
        EngineConfig {
            mode,
            ..EngineConfig::default()
        }
    }
}

/// What the engine currently holds for one code hash and fork ([`Engine::status`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeStatus {
    /// Not in the cache.
    NotCached,
    /// Interpreted; `calls` counted towards the hotness threshold so far.
    Interpreted {
        /// Interpreted calls counted.
        calls: u64,
    },
    /// Queued for, or being compiled by, a worker.
    Compiling,
    /// Compiled: calls run natively.
    Native {
        /// Bytes of machine code.
        code_bytes: usize,
    },
    /// Its compile failed or exceeded a limit: always interpreted (until evicted).
    InterpretOnly,
}

/// State shared by the engine handle and its workers.
pub(crate) struct Shared {
    config: EngineConfig,
    cache: Cache,
    queue: Queue,
    counters: Counters,
    disk: Option<disk::Disk>,
}

/// What a compile job builds: a region (from profile counts, or a block mask already chosen) at a
/// tier, or the whole program.
enum Plan {
    Whole,
    Profile(Vec<u32>, f64, jit::Tier),
    Mask(Vec<bool>),
}

impl Shared {
    /// Compiles `entry` (or loads its program from the disk cache) and installs the result
    /// (program, or interpret-only); records the time.
    pub(crate) fn compile_and_install(&self, key: &Key, entry: &Arc<Entry>) {
        let start = Instant::now();
        let limit = self.config.max_code_size.min(jit::MAX_CODE_SIZE);
        // A region from the mask a tier-up entry carries (optimized), or from the profile
        // (baseline first when tiering up); else the whole program.
        let profile = take_profile(entry);
        let plan = match (&entry.optimize, profile, self.config.region_coverage_bps) {
            (Some(mask), _, Some(_)) => Plan::Mask(mask.clone()),
            (None, Some(p), Some(bps)) => {
                let tier = if self.config.tier_up {
                    jit::Tier::Baseline
                } else {
                    jit::Tier::Optimized
                };
                Plan::Profile(p.counts(), f64::from(bps) / 10_000.0, tier)
            }
            _ => Plan::Whole,
        };
        let (compiled, loaded) = if entry.code.raw().len() > limit {
            (None, false)
        } else {
            // A compiler panic must not take the worker (or the calling thread in jit mode)
            // down: the code is then interpret-only, like any failed compile.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.make(key, entry, plan)))
                .map_or((None, false), |(p, loaded)| (p.ok().map(Arc::new), loaded))
        };
        if !loaded {
            self.counters.compiled(compiled.is_some(), start.elapsed());
        }
        let program = compiled
            .clone()
            .filter(|p| cache::held_bytes(p) <= self.cache.code_budget());
        self.cache.install(key, entry, program.clone());
        // A call that raced the compile request may have started a profile: nothing reads it now.
        take_profile(entry);
        if let Some(p) = program {
            self.tier_up(key, entry, p);
        }
        self.queue.notify_installed();
        // Stored once installed: calls do not wait for the file.
        if let (Some(d), Some(p), false) = (&self.disk, &compiled, loaded) {
            d.store(key, p);
        }
    }

    /// Analyses the code, then loads the planned program from disk or compiles it; `true` with
    /// a program loaded.
    fn make(
        &self,
        key: &Key,
        entry: &Entry,
        plan: Plan,
    ) -> (Result<Program, jit::CompileError>, bool) {
        let analysis = Arc::new(crate::analysis::analyze(entry.code.clone(), key.spec));
        let (hot, tier) = match plan {
            Plan::Whole => (None, jit::Tier::Optimized),
            Plan::Mask(m) => (Some(m), jit::Tier::Optimized),
            Plan::Profile(counts, coverage, tier) => (
                Some(crate::analysis::region::hot_blocks(
                    &analysis, &counts, coverage,
                )),
                tier,
            ),
        };
        if let Some(d) = &self.disk {
            let what = match &hot {
                Some(m) => disk::What::Region(m),
                None => disk::What::Whole,
            };
            if let Some(p) = d.load(key, &analysis, what, tier) {
                return (Ok(p), true);
            }
        }
        (jit::compile_analysed(analysis, hot, tier), false)
    }

    /// On an in-memory miss: the best program the disk cache holds for `key`, if the engine would
    /// compile this code at all.
    fn load_from_disk(&self, key: &Key, code: &Arc<Bytecode>) -> Option<Program> {
        let d = self.disk.as_ref()?;
        let compiles = match self.config.mode {
            EngineMode::Interp => false,
            EngineMode::Jit => true,
            EngineMode::Auto => self.config.hot_threshold.is_some(),
        };
        let limit = self.config.max_code_size.min(jit::MAX_CODE_SIZE);
        if !compiles || code.raw().len() > limit {
            return None;
        }
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| d.load_best(key, code)))
            .ok()
            .flatten()
            .filter(|p| cache::held_bytes(p) <= self.cache.code_budget())
    }

    /// Installs `p`, loaded from disk, as `entry`'s program unless a compile claimed the entry
    /// first; a baseline region then tiers up as if just compiled.
    fn adopt(&self, key: &Key, entry: &Arc<Entry>, p: Program) {
        if entry.result.get().is_some() || entry.claimed.swap(true, Ordering::AcqRel) {
            return;
        }
        let p = Arc::new(p);
        self.cache.install(key, entry, Some(p.clone()));
        self.tier_up(key, entry, p);
        self.queue.notify_installed();
    }

    /// If `p`, just installed as `entry`'s program, is a baseline region and the engine tiers up:
    /// replaces `entry` by a successor that compiles the optimized program of the same region,
    /// `p` serving calls meanwhile.
    fn tier_up(&self, key: &Key, entry: &Arc<Entry>, p: Arc<Program>) {
        let Some(mask) = p.hot_blocks().map(<[bool]>::to_vec) else {
            return;
        };
        // Only auto mode has workers to compile the optimized program.
        if p.tier() != jit::Tier::Baseline
            || self.config.mode != EngineMode::Auto
            || !self.config.tier_up
            || self.config.region_coverage_bps.is_none()
        {
            return;
        }
        let mut next = entry.successor(p);
        next.optimize = Some(mask);
        next.claimed = std::sync::atomic::AtomicBool::new(true);
        if let Some(next) = self.cache.replace(key, entry, next) {
            let job = Job {
                key: *key,
                entry: next.clone(),
            };
            if !self.queue.push(job) {
                // The queue is full: the next call requests the compile.
                let threshold = self.config.hot_threshold.unwrap_or(0);
                next.calls.store(threshold, Ordering::Relaxed);
                next.claimed.store(false, Ordering::Release);
            }
        }
    }
}

/// Takes the entry's profile, freeing it once the frames counting into it finish.
fn take_profile(entry: &Entry) -> Option<Arc<Profile>> {
    entry
        .profile
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
}

/// What a look-up decided, acted upon off the shard lock.
enum Decision {
    /// Native code, with where a region program's runs are reported.
    Native(Arc<Program>, Option<Arc<dyn RegionObserver>>),
    Interpret,
    /// Interpret, counting instructions into the profile.
    Profile(Arc<Profile>),
    Enqueue(Arc<Entry>),
    CompileNow(Arc<Entry>),
    Wait(Arc<Entry>),
    /// The entry's region program is stale: replace the entry by one compiling the whole
    /// program, the region serving calls meanwhile.
    Recompile(Arc<Entry>, Arc<Program>),
}

/// The embedding API: runs transactions and message frames, tiering between the interpreter and
/// native code. See the [module documentation](self).
pub struct Engine {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

// The engine is shared between executing threads.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Engine>();
};

impl Default for Engine {
    fn default() -> Engine {
        Engine::new(EngineConfig::default())
    }
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.shared.config)
            .field("stats", &self.stats())
            .finish()
    }
}

/// Dropping an engine never waits for a compile in flight (a 24 KiB contract's takes up to a
/// second or more, and nothing will run its program): the queue shuts down, workers that have
/// already stopped are joined, and the others are detached — each finishes what it is compiling,
/// finds the queue shut and exits, holding the shared state until then.
impl Drop for Engine {
    fn drop(&mut self) {
        self.shared.queue.shutdown();
        for w in self.workers.drain(..) {
            if w.is_finished() {
                // A worker only panics through a bug outside the compiler (which is caught);
                // the engine is going away either way.
                let _ = w.join();
            }
        }
    }
}

impl Engine {
    /// An engine with `config`; in [`EngineMode::Auto`] it starts the compiler threads.
    ///
    /// # Panics
    /// When the operating system refuses to start a thread.
    pub fn new(config: EngineConfig) -> Engine {
        let workers = match config.mode {
            EngineMode::Auto => config.workers.max(1),
            EngineMode::Interp | EngineMode::Jit => 0,
        };
        let disk = match config.mode {
            EngineMode::Interp => None,
            EngineMode::Jit | EngineMode::Auto => config
                .cache_dir
                .clone()
                .map(|d| disk::Disk::open(d, config.cache_bytes)),
        };
        let shared = Arc::new(Shared {
            cache: Cache::new(config.code_budget, config.max_entries),
            queue: Queue::new(config.queue_capacity),
            counters: Counters::default(),
            disk,
            config,
        });
        let priority = shared.config.compiler_priority;
        let workers = worker::spawn(&shared, workers, priority).expect("start a compiler thread");
        Engine { shared, workers }
    }

    /// An engine with the default configuration in `mode`.
    pub fn with_mode(mode: EngineMode) -> Engine {
        Engine::new(EngineConfig::with_mode(mode))
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.shared.config
    }

    /// Runs `msg` and every frame it spawns against `host` under `spec`: code from the host at
    /// `msg.code_address` (for calls) or `msg.input` (for creates). Checkpoints, value transfer,
    /// precompiles and nested calls are handled as in a transaction; the host sees every state
    /// change, which it keeps or discards.
    ///
    /// # Panics
    /// When `spec` is not the host's fork (`host.spec()`): the host applies fork rules too.
    pub fn execute<H: Host>(&self, host: &mut H, spec: SpecId, msg: Message) -> FrameResult {
        self.execute_traced(host, spec, msg, &mut NoTracer)
    }

    /// [`execute`](Self::execute) with an EIP-3155-style tracer (interpreted frames only are
    /// traced per instruction).
    ///
    /// # Panics
    /// When `spec` is not the host's fork.
    pub fn execute_traced<H: Host, T: Tracer>(
        &self,
        host: &mut H,
        spec: SpecId,
        msg: Message,
        tracer: &mut T,
    ) -> FrameResult {
        assert_eq!(host.spec(), spec, "the host runs another fork");
        frame::execute_with(host, msg, tracer, self)
    }

    /// EVMC-style: runs `code` as the top frame of `msg` (instead of the code at
    /// `msg.code_address`; for a create, `code` is the initcode). Nested calls load code from
    /// the host.
    ///
    /// # Panics
    /// When `spec` is not the host's fork.
    pub fn execute_code<H: Host>(
        &self,
        host: &mut H,
        spec: SpecId,
        msg: Message,
        code: Bytes,
    ) -> FrameResult {
        assert_eq!(host.spec(), spec, "the host runs another fork");
        frame::execute_code(host, msg, code, &mut NoTracer, self)
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        let c = &self.shared.counters;
        let (entries, programs, code_bytes, evictions) = self.shared.cache.totals();
        let disk = self.shared.disk.as_ref();
        Stats {
            interpreter_calls: c.interpreter_calls.get(),
            native_calls: c.native_calls.get(),
            compiles: c.compiles.load(Ordering::Relaxed),
            compile_failures: c.compile_failures.load(Ordering::Relaxed),
            compile_time_total: Duration::from_nanos(c.compile_ns_total.load(Ordering::Relaxed)),
            compile_time_max: Duration::from_nanos(c.compile_ns_max.load(Ordering::Relaxed)),
            cache_hits: c.cache_hits.get(),
            cache_misses: c.cache_misses.get(),
            evictions,
            code_bytes,
            programs: programs as u64,
            entries: entries as u64,
            pending_compiles: self.shared.queue.pending() as u64,
            region_recompiles: c.region_recompiles.get(),
            disk_loads: disk.map_or(0, |d| d.loads.load(Ordering::Relaxed)),
            disk_load_time_total: Duration::from_nanos(
                disk.map_or(0, |d| d.load_ns.load(Ordering::Relaxed)),
            ),
            disk_stores: disk.map_or(0, |d| d.stores.load(Ordering::Relaxed)),
            disk_rejects: disk.map_or(0, |d| d.rejects.load(Ordering::Relaxed)),
        }
    }

    /// What the cache holds for `code` under `spec`.
    pub fn status(&self, code: &[u8], spec: SpecId) -> CodeStatus {
        self.status_by_hash(keccak256(code), spec)
    }

    /// What the cache holds for the code with hash `hash` under `spec`.
    pub fn status_by_hash(&self, hash: B256, spec: SpecId) -> CodeStatus {
        let Some(e) = self.shared.cache.peek(&Key { hash, spec }) else {
            return CodeStatus::NotCached;
        };
        match e.result.get() {
            Some(Some(p)) => CodeStatus::Native {
                code_bytes: p.code_bytes(),
            },
            Some(None) => CodeStatus::InterpretOnly,
            None if e.claimed.load(Ordering::Acquire) => CodeStatus::Compiling,
            None => CodeStatus::Interpreted {
                calls: e.calls.load(Ordering::Relaxed),
            },
        }
    }

    /// The program installed for a code hash and fork, if compiled (without counting a call or
    /// touching recency): to inspect what the engine runs, e.g. a region's [`Program::tier`].
    pub fn installed_program(&self, hash: B256, spec: SpecId) -> Option<Arc<Program>> {
        let e = self.shared.cache.peek(&Key { hash, spec })?;
        e.result.get().cloned().flatten()
    }

    /// Instructions counted so far in the profile an entry holds for its compile request, if it
    /// holds one (only the last interpreted call before the request is profiled, and the
    /// compile frees the profile): diagnostics of the tiering.
    pub fn profiled_instructions(&self, hash: B256, spec: SpecId) -> Option<u64> {
        let e = self.shared.cache.peek(&Key { hash, spec })?;
        let p = e.profile.lock().unwrap_or_else(|p| p.into_inner());
        p.as_ref().map(|p| p.total())
    }

    /// Blocks until no compile is queued or running (for tests and benchmarks; calls never
    /// need to wait).
    pub fn wait_idle(&self) {
        self.shared.queue.wait_idle();
    }

    /// Drops every cached entry (programs are freed once no frame runs them). Counters stay.
    pub fn clear(&self) {
        self.shared.cache.clear();
    }

    /// The tier decision for an entry, under its shard's read lock: only atomics. In line in
    /// [`Engine::resolve`]: returned as a value, the decision went through the stack in 64-bit
    /// stores and was copied on as 128-bit loads, which cannot be store-forwarded (half of a
    /// frame's program look-up).
    #[inline(always)]
    fn decide(&self, e: &Arc<Entry>) -> Decision {
        if let Some(r) = e.result.get() {
            return match r {
                Some(p) if p.entries().is_some() && e.usage.stale() => {
                    Decision::Recompile(e.clone(), p.clone())
                }
                Some(p) => {
                    let usage = p.entries().is_some().then(|| e.usage.clone() as Arc<_>);
                    Decision::Native(p.clone(), usage)
                }
                None => Decision::Interpret,
            };
        }
        // Until an entry has its own result, a stale region it replaces runs its calls.
        let interpret = || match &e.fallback {
            Some(p) => Decision::Native(p.clone(), None),
            None => Decision::Interpret,
        };
        match self.shared.config.mode {
            EngineMode::Interp => Decision::Interpret,
            EngineMode::Jit => {
                if e.claimed.swap(true, Ordering::AcqRel) {
                    Decision::Wait(e.clone())
                } else {
                    Decision::CompileNow(e.clone())
                }
            }
            EngineMode::Auto => {
                let Some(threshold) = self.shared.config.hot_threshold else {
                    return interpret();
                };
                if e.claimed.load(Ordering::Relaxed) {
                    return interpret();
                }
                let calls = e.calls.fetch_add(1, Ordering::Relaxed);
                if calls >= threshold && !e.claimed.swap(true, Ordering::AcqRel) {
                    Decision::Enqueue(e.clone())
                } else if self.shared.config.region_coverage_bps.is_some() && calls + 1 >= threshold
                {
                    // The last interpreted call before the request is profiled; one that would
                    // wait for the profile's lock (a worker taking it) is not.
                    match e.profile.try_lock() {
                        Ok(mut p) => {
                            let len = e.code.raw().len();
                            let p = p.get_or_insert_with(|| Arc::new(Profile::new(len)));
                            Decision::Profile(p.clone())
                        }
                        Err(_) => Decision::Interpret,
                    }
                } else {
                    interpret()
                }
            }
        }
    }

    /// Looks `key` up (adding it with `make()` on a miss), decides the tier and counts the call.
    fn resolve(&self, key: Key, make: impl FnOnce() -> Arc<Bytecode>) -> Loaded {
        let c = &self.shared.counters;
        let cache = &self.shared.cache;
        // In auto mode a call never waits for a shard lock: the holder may be a compiler thread
        // descheduled at its lower priority. A busy shard is a miss interpreted without caching.
        let wait = self.shared.config.mode != EngineMode::Auto;
        let found = cache.with_entry(&key, wait, |e| (e.code.clone(), self.decide(e)));
        let (code, decision) = match found {
            Ok(Some(f)) => {
                c.cache_hits.bump();
                f
            }
            Ok(None) => {
                c.cache_misses.bump();
                let code = make();
                let loaded = self.shared.load_from_disk(&key, &code);
                match cache.insert(key, Entry::new(code.clone()), wait) {
                    Ok(e) => {
                        if let Some(p) = loaded {
                            self.shared.adopt(&key, &e, p);
                        }
                        (e.code.clone(), self.decide(&e))
                    }
                    // The shard is busy: run what the disk gave for this call only.
                    Err(_) => match loaded {
                        Some(p) => (code, Decision::Native(Arc::new(p), None)),
                        None => (code, Decision::Interpret),
                    },
                }
            }
            Err(_) => {
                c.cache_misses.bump();
                (make(), Decision::Interpret)
            }
        };
        let mut profile = None;
        let mut usage = None;
        let program = match decision {
            Decision::Native(p, u) => {
                usage = u;
                Some(p)
            }
            Decision::Recompile(old, p) => {
                // The next call requests the compile (no profile: the whole program).
                let mut new = old.successor(p.clone());
                new.calls = AtomicU64::new(self.shared.config.hot_threshold.unwrap_or(0));
                if cache.replace(&key, &old, new).is_some() {
                    c.region_recompiles.bump();
                }
                Some(p)
            }
            Decision::Interpret => None,
            Decision::Profile(p) => {
                profile = Some(p);
                None
            }
            Decision::Enqueue(e) => {
                let queued = self.shared.queue.push(Job {
                    key,
                    entry: e.clone(),
                });
                if !queued {
                    e.claimed.store(false, Ordering::Release);
                }
                None
            }
            Decision::CompileNow(e) => {
                self.shared.compile_and_install(&key, &e);
                e.result.get().cloned().flatten()
            }
            Decision::Wait(e) => {
                self.shared.queue.wait_until(|| e.result.get().is_some());
                e.result.get().cloned().flatten()
            }
        };
        if program.is_some() {
            c.native_calls.bump();
        } else {
            c.interpreter_calls.bump();
        }
        Loaded {
            code,
            program,
            profile,
            usage,
        }
    }
}

impl ProgramSource for Engine {
    fn program(&self, code: &Arc<Bytecode>, spec: SpecId) -> Option<Arc<Program>> {
        self.load_initcode(code, spec).program
    }

    fn load_initcode(&self, code: &Arc<Bytecode>, spec: SpecId) -> Loaded {
        if self.shared.config.mode == EngineMode::Interp {
            // Initcode in interp mode: nothing to cache.
            self.shared.counters.interpreter_calls.bump();
            return Loaded {
                code: code.clone(),
                program: None,
                profile: None,
                usage: None,
            };
        }
        let key = Key {
            hash: code.hash(),
            spec,
        };
        // Initcode is never profiled (a profile the decision started stays unread).
        Loaded {
            profile: None,
            ..self.resolve(key, || code.clone())
        }
    }

    fn load(&self, raw: &Bytes, hash: B256, spec: SpecId) -> Loaded {
        // On a miss the analysed code comes from the runtime's process-wide table, which takes
        // the hash the host supplied: hashing a 24 KB contract again would cost tens of
        // microseconds on the call path. The entry then shares that `Arc<Bytecode>`.
        self.resolve(Key { hash, spec }, || Bytecode::cached_with_hash(raw, hash))
    }
}
