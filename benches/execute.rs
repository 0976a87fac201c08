//! Execution speed per tier on the benchmark suite (`ferrite_tools::bench`), measured in one run:
//! ferrite's interpreter, ferrite's JIT with the program compiled beforehand, the JIT including
//! compilation, and revm's interpreter on the same call.
//!
//! `cargo bench --bench execute --features revm-oracle` (revm is only an optional dependency).
//! Before timing, every variant's status, gas and output are checked against the interpreter's:
//! a fast wrong answer aborts the benchmark.

use criterion::Criterion;
use ferrite::bytecode::Bytecode;
use ferrite::frame::ProgramSource;
use ferrite::interpreter::NoTracer;
use ferrite::jit::{self, Program};
use ferrite::runtime::SpecId;
use ferrite_state::call;
use ferrite_state::Mode;
use ferrite_tools::bench::{self, Case};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CASES: &[&str] = &[
    "ipsilon/main/snailtracer/benchmark",
    "ipsilon/main/weierstrudel/15",
    "ipsilon/main/blake2b_huff/8415nulls",
    "ipsilon/main/sha1_divs/5311",
    "ipsilon/main/swap_math/spent",
    "ipsilon/micro/jump_around/empty",
    "ipsilon/micro/memory_grow_mstore/by32",
    "revmc/erc20_transfer",
    "revmc/hash_10k",
    "revmc/fibonacci-n100k",
    "revmc/factorial-n100k",
];

/// Runs frames of one code with one freshly compiled program.
struct Fresh(Option<Arc<Program>>);

impl ProgramSource for Fresh {
    fn program(&self, _: &Arc<Bytecode>, _: SpecId) -> Option<Arc<Program>> {
        self.0.clone()
    }
}

fn run_with_compile(case: &Case) -> bench::Result {
    let code = Arc::new(Bytecode::new(case.cfg.code.clone()));
    let program = jit::compile(code, case.cfg.spec).ok().map(Arc::new);
    let o = call::run_with(&case.cfg, &mut NoTracer, &Fresh(program));
    bench::Result {
        status: o.exit.name().to_string(),
        gas_used: o.gas_used,
        output: o.output,
    }
}

fn execute(c: &mut Criterion) {
    for name in CASES {
        let Some(case) = bench::suite(Some(name))
            .into_iter()
            .find(|k| k.name == *name)
        else {
            continue;
        };
        let (expect, _) = bench::run_ferrite(&case, Mode::Interp);
        assert_eq!(
            bench::run_ferrite(&case, Mode::Jit).0,
            expect,
            "{name}: JIT"
        );
        assert_eq!(run_with_compile(&case), expect, "{name}: JIT + compile");
        let revm = bench::run_revm(&case).0;
        assert_eq!(
            (revm.gas_used, &revm.output),
            (expect.gas_used, &expect.output),
            "{name}: revm"
        );

        let mut g = c.benchmark_group(*name);
        g.sample_size(10);
        // Every variant times execution only (state/database set-up excluded), as reported by
        // the suite's runners; `jit+compile` adds the compile time of a fresh program.
        let sum = |iters: u64, f: &dyn Fn() -> Duration| (0..iters).map(|_| f()).sum::<Duration>();
        for (label, mode) in [("interpreter", Mode::Interp), ("jit", Mode::Jit)] {
            g.bench_function(label, |b| {
                b.iter_custom(|n| sum(n, &|| bench::run_ferrite(&case, mode).1))
            });
        }
        g.bench_function("jit+compile", |b| {
            b.iter_custom(|n| {
                sum(n, &|| {
                    let t = Instant::now();
                    run_with_compile(&case);
                    t.elapsed()
                })
            })
        });
        g.bench_function("revm", |b| {
            b.iter_custom(|n| sum(n, &|| bench::run_revm(&case).1))
        });
        g.finish();
    }
}

fn main() {
    // criterion_group!/criterion_main! without their undocumented generated function.
    let mut c = Criterion::default().configure_from_args();
    execute(&mut c);
    c.final_summary();
}
