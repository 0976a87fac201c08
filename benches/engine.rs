//! The engine's tiering, measured: `cargo bench --bench engine`.
//!
//! - `cold/<case>/<tier>`: the first three calls of a contract the engine has not seen. `interp`
//!   is the plain interpreter driver; `auto` the default engine (compile queued on the third
//!   call, picked up by the polling worker within a millisecond); `auto-t0` queues the compile on
//!   the first call, so the calls overlap the compile on the other core; `auto-never` never
//!   compiles. Claim: `auto` costs no more than `interp` (within 10%).
//!   Protocol (all off the clock): one long-lived engine per tier, emptied with [`Engine::clear`]
//!   between samples once its compiler is idle (spinning, not sleeping: a core that halts comes
//!   back slow — an interpreted call after a 20 ms sleep took 40 µs instead of 6 µs); then every
//!   tier starts from the same machine state: a compile of the contract has just finished on
//!   another thread (for `auto`/`auto-t0` the previous sample's own compile, for the others one
//!   run for the purpose — any compile in the process left the next interpreted calls 20–30%
//!   slower on this VM, through the caches it evicts), followed by one interpreted call that
//!   warms the caches as `interp`'s back-to-back samples are. Without that equalisation the
//!   previous sample's compile is charged to `auto` alone (swap_math: +50%).
//! - `warm/<case>/<tier>`: one call once the engine is warm. `auto` has switched the contract to
//!   native code (checked before timing); `jit` is an engine in jit mode. Claim: warmed-up `auto`
//!   runs at `jit` speed.
//!
//! Contracts are real ones from `tests/fixtures/benchdata/cases_all.tsv`: an ERC-20 transfer
//! loop, Uniswap v3's swap math, and snailtracer. `FERRITE_BENCH_CASES=a,b` picks others by name.

use criterion::{BenchmarkId, Criterion};
use ferrite::bytecode::Bytecode;
use ferrite::engine::{CodeStatus, Engine, EngineConfig, EngineMode};
use ferrite::frame::ProgramSource;
use ferrite::interpreter::NoTracer;
use ferrite::jit;
use ferrite_state::call::{self, CallConfig};
use ferrite_state::Mode;
use ferrite_state::Transact;
use std::hint::black_box;
use std::time::{Duration, Instant};

const DEFAULT_CASES: &[&str] = &[
    "revmc/erc20_transfer",
    "ipsilon/main/swap_math/spent",
    "ipsilon/main/snailtracer/benchmark",
];

/// Calls timed per cold sample.
const COLD_CALLS: usize = 3;

fn cases() -> Vec<(String, CallConfig)> {
    let wanted: Vec<String> = match std::env::var("FERRITE_BENCH_CASES") {
        Ok(v) => v.split(',').map(str::to_string).collect(),
        Err(_) => DEFAULT_CASES.iter().map(|s| s.to_string()).collect(),
    };
    wanted
        .iter()
        .map(|name| {
            let case = ferrite_tools::bench::case(name)
                .unwrap_or_else(|| panic!("case {name} not in cases_all.tsv"));
            let short = name.rsplit('/').find(|s| !s.is_empty()).unwrap_or(name);
            let short = if short == "benchmark" {
                "snailtracer"
            } else {
                short
            };
            (short.to_string(), case.cfg)
        })
        .collect()
}

/// Times one call (state prepared off the clock).
fn timed_call(cfg: &CallConfig, source: &dyn ProgramSource) -> Duration {
    let state = call::prepare_state(cfg);
    let t = Instant::now();
    let o = call::run_on_with(state, cfg, &mut NoTracer, source);
    let e = t.elapsed();
    black_box(o);
    e
}

/// Something that can forget what it compiled, so the next call of a contract is cold again.
trait Reset: ProgramSource {
    /// Forgets; true when the source compiled `cfg`'s code since the last reset.
    fn reset(&self, cfg: &CallConfig) -> bool;
}

impl Reset for Mode {
    fn reset(&self, _: &CallConfig) -> bool {
        false
    }
}

impl Reset for Engine {
    fn reset(&self, cfg: &CallConfig) -> bool {
        while self.stats().pending_compiles > 0 {
            std::hint::spin_loop();
        }
        let compiled = matches!(self.status(&cfg.code, cfg.spec), CodeStatus::Native { .. });
        self.clear();
        compiled
    }
}

/// Compiles `cfg`'s code on another thread, spinning until it is done.
fn background_compile(cfg: &CallConfig) {
    let code = Bytecode::cached(&cfg.code);
    let spec = cfg.spec;
    let t = std::thread::spawn(move || drop(black_box(jit::compile(code, spec))));
    while !t.is_finished() {
        std::hint::spin_loop();
    }
    t.join().expect("compile thread");
}

/// `iters` samples of the first [`COLD_CALLS`] calls through `source`, each after a reset and an
/// interpreted call that warms the CPU caches (off the clock).
fn cold(iters: u64, cfg: &CallConfig, source: &impl Reset) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        if !source.reset(cfg) {
            background_compile(cfg);
        }
        timed_call(cfg, &Mode::Interp);
        for _ in 0..COLD_CALLS {
            total += timed_call(cfg, source);
        }
    }
    source.reset(cfg);
    total
}

fn bench_cold(c: &mut Criterion) {
    for (name, cfg) in cases() {
        let mut g = c.benchmark_group(format!("cold/{name}"));
        g.sample_size(10);
        g.warm_up_time(Duration::from_millis(500));
        g.measurement_time(Duration::from_secs(5));
        let cfg = &cfg;
        let with = |hot_threshold| {
            Engine::new(EngineConfig {
                hot_threshold,
                ..EngineConfig::default()
            })
        };
        let variants: [(&str, &dyn Fn(u64) -> Duration); 4] = [
            ("interp", &|iters| cold(iters, cfg, &Mode::Interp)),
            ("auto", &{
                let e = Engine::default();
                move |iters| cold(iters, cfg, &e)
            }),
            ("auto-never", &{
                let e = with(None);
                move |iters| cold(iters, cfg, &e)
            }),
            ("auto-t0", &{
                let e = with(Some(0));
                move |iters| cold(iters, cfg, &e)
            }),
        ];
        for (name, run) in variants {
            g.bench_function(BenchmarkId::from_parameter(name), |b| b.iter_custom(run));
        }
        g.finish();
    }
}

fn bench_warm(c: &mut Criterion) {
    for (name, cfg) in cases() {
        let auto = Engine::default();
        while !matches!(
            auto.status(&cfg.code, cfg.spec),
            CodeStatus::Native { .. } | CodeStatus::InterpretOnly
        ) {
            auto.call(&cfg);
            auto.wait_idle();
        }
        assert!(
            matches!(auto.status(&cfg.code, cfg.spec), CodeStatus::Native { .. }),
            "{name} compiles"
        );
        let jit = Engine::with_mode(EngineMode::Jit);
        jit.call(&cfg);
        let mut g = c.benchmark_group(format!("warm/{name}"));
        g.sample_size(10);
        g.warm_up_time(Duration::from_millis(500));
        g.measurement_time(Duration::from_secs(5));
        g.bench_function(BenchmarkId::from_parameter("interp"), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| timed_call(&cfg, &Mode::Interp)).sum())
        });
        g.bench_function(BenchmarkId::from_parameter("jit"), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| timed_call(&cfg, &jit)).sum())
        });
        g.bench_function(BenchmarkId::from_parameter("auto"), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| timed_call(&cfg, &auto)).sum())
        });
        g.finish();
        let s = auto.stats();
        assert_eq!(s.compiles, 1, "{name}: {s:?}");
    }
}

fn main() {
    // criterion_group!/criterion_main! without their undocumented generated function.
    let mut c = Criterion::default().configure_from_args();
    bench_cold(&mut c);
    bench_warm(&mut c);
    c.final_summary();
}
