//! `ferrite blocktest`: runs blockchain-test files (blocks imported through alloy-evm's Ethereum
//! block executor, ferrite as the EVM) on worker threads, and reports like `ferrite statetest`:
//! a per-network summary table with a progress bar on a terminal, or one JSON array (`--json`).
//!
//! `--bench` times each test's block execution instead (one thread, so the timings are not
//! shared with another test): a first run (with jit and auto, compilation included), then the
//! median of `--runs` more, and the gas rate; then the suite total and its slowest tests. Every
//! run is fully checked. One `ferrite::Engine`, hence one `FerriteEvmFactory`, serves the whole
//! run, as in a node.
//!
//! Needs the `revm-oracle` feature (alloy-evm, revm); without it the command says so.

/// Options of `ferrite blocktest`.
#[derive(clap::Args)]
pub struct BlocktestArgs {
    /// Fixture files or folders (searched recursively for `.json`).
    #[arg(required = true)]
    pub paths: Vec<String>,
    /// Execution engine: `interp`, `jit` (compile every contract before its first call), or
    /// `auto` (interpret, compile hot contracts in the background). One engine for the run.
    #[arg(long, default_value = "interp", value_parser = ["interp", "jit", "auto"])]
    pub engine: String,
    /// Print one JSON array of test results.
    #[arg(long)]
    pub json: bool,
    /// Only tests whose name matches this regular expression.
    #[arg(long)]
    pub run: Option<String>,
    /// Only tests of this network (`Cancun`, `PragueToOsakaAtTime15k`, …).
    #[arg(long)]
    pub fork: Option<String>,
    /// Worker threads (default: available cores; 1 with --bench).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Time each test's block execution: a first run, then the median of --runs more.
    #[arg(long)]
    pub bench: bool,
    /// With --bench: timed runs after the first.
    #[arg(long, default_value_t = 5, requires = "bench")]
    pub runs: usize,
    /// With `--engine jit` or `auto`: keep compiled code in this directory (the engine's disk
    /// code cache), loading it instead of compiling on later runs.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<std::path::PathBuf>,
}

/// Entry point; `Ok(false)` when some test failed.
#[cfg(feature = "revm-oracle")]
pub fn main(args: BlocktestArgs) -> Result<bool, String> {
    imp::main(args)
}

/// Entry point without the `revm-oracle` feature: a one-line error.
#[cfg(not(feature = "revm-oracle"))]
pub fn main(_: BlocktestArgs) -> Result<bool, String> {
    Err(
        "ferrite blocktest needs alloy-evm: build with `--features revm-oracle` \
         (cargo build --release -p ferrite-tools --features revm-oracle)"
            .into(),
    )
}

#[cfg(feature = "revm-oracle")]
mod imp {
    use super::BlocktestArgs;
    use crate::files::{json_escape, run_files};
    use ferrite::engine::{CompilerPriority, Engine, EngineConfig, EngineMode};
    use ferrite_evm::FerriteEvmFactory;
    use ferrite_tools::blocktest::runner::{Filter, Runner, TestResult};
    use ferrite_tools::statetest::runner::collect_files;
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    /// A duration in milliseconds.
    fn ms(d: Duration) -> String {
        format!("{:.3}", d.as_secs_f64() * 1e3)
    }

    /// Million gas per second.
    fn mgas(gas: u64, d: Duration) -> f64 {
        gas as f64 / 1e6 / d.as_secs_f64().max(1e-12)
    }

    /// The engine of the run: `auto` compiles at normal priority (the run keeps every core
    /// busy, and compiles must keep up rather than wait for idle CPU), as `statetest` does.
    fn engine(name: &str, cache_dir: Option<PathBuf>) -> Result<Engine, String> {
        let mode = EngineMode::from_name(name).ok_or_else(|| format!("unknown engine '{name}'"))?;
        Ok(Engine::new(EngineConfig {
            compiler_priority: CompilerPriority::Normal,
            cache_dir,
            ..EngineConfig::with_mode(mode)
        }))
    }

    /// Runs `files` on `jobs` threads (a progress bar on a terminal unless `quiet`).
    fn run_all(
        files: &[PathBuf],
        runner: &Runner,
        filter: &Filter,
        jobs: usize,
        quiet: bool,
    ) -> Vec<TestResult> {
        let mut v = run_files(files, jobs, quiet, |f| runner.run_file(f, filter));
        v.sort_by(|a, b| (&a.file, &a.name).cmp(&(&b.file, &b.name)));
        v
    }

    pub fn main(args: BlocktestArgs) -> Result<bool, String> {
        let name = match &args.run {
            Some(r) => Some(regex_lite::Regex::new(r).map_err(|e| format!("invalid --run: {e}"))?),
            None => None,
        };
        let filter = Filter {
            name,
            network: args.fork.clone(),
        };
        let mut files = Vec::new();
        for p in &args.paths {
            files.extend(collect_files(std::path::Path::new(p))?);
        }
        let engine = Arc::new(engine(&args.engine, args.cache_dir.clone())?);
        let runs = if args.bench { 1 + args.runs.max(1) } else { 1 };
        let runner = Runner::new(FerriteEvmFactory::new(engine.clone()), runs);
        let jobs = match (args.jobs, args.bench) {
            (Some(j), _) => j,
            (None, true) => 1,
            (None, false) => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let start = Instant::now();
        let results = run_all(&files, &runner, &filter, jobs, args.json);
        let elapsed = start.elapsed();
        let failed = results
            .iter()
            .filter(|r| !r.pass && r.skipped.is_none())
            .count();
        if args.json {
            print_json(&results);
            return Ok(failed == 0);
        }
        print_table(&results);
        println!(
            "{} tests in {:.2} s, {} files, engine {}",
            results.len(),
            elapsed.as_secs_f64(),
            files.len(),
            args.engine
        );
        if args.bench {
            print_bench(&results, args.runs.max(1));
        }
        let c = runner.evm().counters();
        println!(
            "transactions on ferrite: {}, system calls: {}, on revm: {} (inspected) + {} (unsupported)",
            c.ferrite, c.system_calls, c.inspected, c.unsupported
        );
        if args.engine != "interp" {
            println!("engine: {}\n{}", args.engine, engine.stats());
        }
        Ok(failed == 0)
    }

    fn print_json(results: &[TestResult]) {
        let items: Vec<String> = results
            .iter()
            .map(|r| {
                let mut times: Vec<u128> = r.runs.iter().map(Duration::as_nanos).collect();
                let first = times.first().copied().unwrap_or_default();
                let later = &mut times[1.min(r.runs.len())..];
                later.sort_unstable();
                let median = later.get(later.len() / 2).copied().unwrap_or(first);
                format!(
                    "{{\"name\":{},\"file\":{},\"network\":{},\"pass\":{},\"blocks\":{},\"rejected\":[{}],\"gasUsed\":{},\"firstNs\":{first},\"medianNs\":{median},\"error\":{}}}",
                    json_escape(&r.name),
                    json_escape(&r.file),
                    json_escape(&r.network),
                    r.pass,
                    r.blocks,
                    r.rejected
                        .iter()
                        .map(|(x, why)| format!(
                            "{{\"expected\":{},\"reason\":{}}}",
                            json_escape(x),
                            json_escape(why)
                        ))
                        .collect::<Vec<_>>()
                        .join(","),
                    r.gas,
                    match (&r.error, &r.skipped) {
                        (Some(e), _) => json_escape(e),
                        (None, Some(s)) => json_escape(&format!("skipped: {s}")),
                        _ => "null".into(),
                    }
                )
            })
            .collect();
        println!("[{}]", items.join(","));
    }

    fn print_table(results: &[TestResult]) {
        let mut table: BTreeMap<(u8, &str), [usize; 3]> = BTreeMap::new();
        for r in results {
            let e = table.entry((r.order, &r.network)).or_default();
            match (&r.skipped, r.pass) {
                (Some(_), _) => e[2] += 1,
                (None, true) => e[0] += 1,
                (None, false) => e[1] += 1,
            }
        }
        for r in results.iter().filter(|r| !r.pass) {
            match &r.skipped {
                Some(s) => println!("SKIP {} [{}]: {s}", r.name, r.network),
                None => println!(
                    "FAIL {} [{}] ({}): {}",
                    r.name,
                    r.network,
                    r.file,
                    r.error.as_deref().unwrap_or("")
                ),
            }
        }
        println!(
            "{:<28} {:>8} {:>8} {:>8}",
            "network", "passed", "failed", "skipped"
        );
        let mut tot = [0usize; 3];
        for ((_, network), c) in &table {
            let network = if network.is_empty() {
                "(unparsed)"
            } else {
                network
            };
            println!("{network:<28} {:>8} {:>8} {:>8}", c[0], c[1], c[2]);
            for i in 0..3 {
                tot[i] += c[i];
            }
        }
        println!("{:<28} {:>8} {:>8} {:>8}", "total", tot[0], tot[1], tot[2]);
    }

    /// First run and median of the later ones.
    fn first_and_median(r: &TestResult) -> Option<(Duration, Duration)> {
        let (first, later) = r.runs.split_first()?;
        let mut later = later.to_vec();
        later.sort_unstable();
        Some((
            *first,
            later.get(later.len() / 2).copied().unwrap_or(*first),
        ))
    }

    fn print_bench(results: &[TestResult], runs: usize) {
        println!(
            "\n{:>12} {:>11} {:>11} {:>9}  test (times in ms: first run, median of {runs} more)",
            "gas", "first", "median", "Mgas/s"
        );
        let mut rows = Vec::new();
        for r in results.iter().filter(|r| r.skipped.is_none()) {
            let Some((first, median)) = first_and_median(r) else {
                continue;
            };
            println!(
                "{:>12} {:>11} {:>11} {:>9.1}  {}",
                r.gas,
                ms(first),
                ms(median),
                mgas(r.gas, median),
                r.name
            );
            rows.push((r, first, median));
        }
        let gas: u64 = rows.iter().map(|(r, _, _)| r.gas).sum();
        let first: Duration = rows.iter().map(|(_, f, _)| *f).sum();
        let median: Duration = rows.iter().map(|(_, _, m)| *m).sum();
        println!(
            "\nsuite: {} tests, {:.3} Ggas; first runs {:.3} s ({:.1} Mgas/s); medians {:.3} s ({:.1} Mgas/s)",
            rows.len(),
            gas as f64 / 1e9,
            first.as_secs_f64(),
            mgas(gas, first),
            median.as_secs_f64(),
            mgas(gas, median)
        );
        if let Some((r, _, m)) = rows.iter().max_by_key(|(_, _, m)| *m) {
            println!(
                "slowest: {} ms ({:.1} Mgas/s) {}",
                ms(*m),
                mgas(r.gas, *m),
                r.name
            );
        }
        if let Some((r, _, m)) = rows
            .iter()
            .filter(|(r, _, _)| r.gas > 0)
            .min_by(|a, b| mgas(a.0.gas, a.2).total_cmp(&mgas(b.0.gas, b.2)))
        {
            println!(
                "lowest rate: {:.1} Mgas/s ({} ms) {}",
                mgas(r.gas, *m),
                ms(*m),
                r.name
            );
        }
    }
}
