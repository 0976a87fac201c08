//! The engine's tiering, measured: `cargo bench --bench engine`.
//!
//! - `cold/<case>/<tier>`: the first three calls of a contract no engine has seen (a fresh
//!   engine per sample; creating it, preparing the states and joining its compiler thread
//!   afterwards are not timed). `interp` is the plain interpreter driver; `auto` the default
//!   engine (compile queued on the third call, in the background); `auto-t0` queues the compile
//!   on the first call, so all three calls run while the contract compiles on another thread.
//!   Claim: `auto` costs no more than `interp` (within 10%).
//! - `warm/<case>/<tier>`: one call once the engine is warm. `auto` has switched the contract to
//!   native code (checked before timing); `jit` is an engine in jit mode. Claim: warmed-up `auto`
//!   runs at `jit` speed.
//!
//! Contracts are real ones from `tests/fixtures/benchdata/cases_all.tsv`: an ERC-20 transfer
//! loop, Uniswap v3's swap math, and snailtracer. `FERRITE_BENCH_CASES=a,b` picks others by name.

use criterion::{BenchmarkId, Criterion};
use ferrite::call::{self, CallConfig};
use ferrite::engine::{CodeStatus, Engine, EngineConfig, EngineMode};
use ferrite::frame::{Mode, ProgramSource};
use ferrite::interpreter::NoTracer;
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
    let suite = ferrite::bench::suite(None);
    let wanted: Vec<String> = match std::env::var("FERRITE_BENCH_CASES") {
        Ok(v) => v.split(',').map(str::to_string).collect(),
        Err(_) => DEFAULT_CASES.iter().map(|s| s.to_string()).collect(),
    };
    wanted
        .iter()
        .map(|name| {
            let case = suite
                .iter()
                .find(|c| c.name == *name)
                .unwrap_or_else(|| panic!("case {name} not in cases_all.tsv"));
            let short = name.rsplit('/').find(|s| !s.is_empty()).unwrap_or(name);
            let short = if short == "benchmark" {
                "snailtracer"
            } else {
                short
            };
            (short.to_string(), case.cfg.clone())
        })
        .collect()
}

/// Times one call (state prepared off the clock).
fn timed_call(cfg: &CallConfig, source: &dyn ProgramSource) -> Duration {
    let mut state = call::prepare_state(cfg);
    let t = Instant::now();
    let o = call::run_on_with(&mut state, cfg, &mut NoTracer, source);
    let e = t.elapsed();
    black_box(o);
    e
}

/// `iters` samples of the first [`COLD_CALLS`] calls through a fresh source from `make`.
fn cold<S: ProgramSource>(iters: u64, cfg: &CallConfig, make: impl Fn() -> S) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let source = make();
        for _ in 0..COLD_CALLS {
            total += timed_call(cfg, &source);
        }
        // Dropping an engine joins its compiler thread (off the clock).
        drop(source);
    }
    total
}

fn bench_cold(c: &mut Criterion) {
    for (name, cfg) in cases() {
        let mut g = c.benchmark_group(format!("cold/{name}"));
        g.sample_size(10);
        g.warm_up_time(Duration::from_millis(500));
        g.measurement_time(Duration::from_secs(5));
        g.bench_function(BenchmarkId::from_parameter("interp"), |b| {
            b.iter_custom(|iters| cold(iters, &cfg, || Mode::Interp))
        });
        g.bench_function(BenchmarkId::from_parameter("auto"), |b| {
            b.iter_custom(|iters| cold(iters, &cfg, Engine::default))
        });
        g.bench_function(BenchmarkId::from_parameter("auto-never"), |b| {
            b.iter_custom(|iters| {
                cold(iters, &cfg, || {
                    Engine::new(EngineConfig {
                        hot_threshold: None,
                        ..EngineConfig::default()
                    })
                })
            })
        });
        g.bench_function(BenchmarkId::from_parameter("auto-t0"), |b| {
            b.iter_custom(|iters| {
                cold(iters, &cfg, || {
                    Engine::new(EngineConfig {
                        hot_threshold: Some(0),
                        ..EngineConfig::default()
                    })
                })
            })
        });
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
