//! The `ferrite` command line: `run` (geth `evm run` conventions), `statetest`, `blocktest`.

use alloy_primitives::{hex, Bytes, U256};
use clap::{Parser, Subcommand};
use ferrite::engine::{Engine, EngineConfig, EngineMode};
use ferrite::frame::ProgramSource;
use ferrite::interpreter::NoTracer;
use ferrite::runtime::SpecId;
use ferrite_state::call::{self, CallConfig};
use ferrite_state::Mode;
use ferrite_tools::bench::{fmt_duration, run_timed, timed_rounds};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(name = "ferrite", version, about = "An Ethereum Virtual Machine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run bytecode as the target of a transaction call.
    Run(RunArgs),
    /// Run Ethereum state tests (files or folders, recursively).
    Statetest(StatetestArgs),
    /// Run Ethereum blockchain tests through alloy-evm's block executor (files or folders).
    Blocktest(blocktest::BlocktestArgs),
    /// Print the analysis of a contract: blocks, gas, stack bounds, fused and static ops.
    Analyze(AnalyzeArgs),
    /// Run the benchmark suite on every tier and print a table.
    Bench(bench::BenchArgs),
    /// Differential fuzzing: generated programs on the interpreter, the JIT (and revm).
    Fuzz(fuzz::FuzzArgs),
}

#[derive(clap::Args)]
/// Options of `ferrite statetest`.
pub struct StatetestArgs {
    /// Fixture files or folders.
    #[arg(required = true)]
    pub paths: Vec<String>,
    /// Print one JSON array of case results.
    #[arg(long)]
    pub json: bool,
    /// Only this fork.
    #[arg(long)]
    pub fork: Option<String>,
    /// Only tests whose name matches this regular expression.
    #[arg(long)]
    pub run: Option<String>,
    /// Execution engine: `interp`, `jit`, or `auto` (one ferrite::Engine for the whole run:
    /// contracts are compiled in the background after 2 calls; its counters are printed).
    #[arg(long, default_value = "interp", value_parser = ["interp", "jit", "auto"])]
    pub engine: String,
    /// Where the state lives: `native` (ferrite's in-memory state) or `revm` (revm's in-memory
    /// database, the transaction run through the alloy-evm adapter `ferrite-evm`; needs a build
    /// with `--features revm-oracle`).
    #[arg(long, default_value = "native", value_parser = ["native", "revm"])]
    pub state: String,
    /// Print an EIP-3155 trace of every selected case to stderr (narrow with --run/--fork).
    #[arg(long)]
    pub trace: bool,
    /// Worker threads (default: available cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// With `--engine auto`: keep compiled code in this directory (the engine's disk code
    /// cache), loading it instead of compiling on later runs.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<std::path::PathBuf>,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Contract code as hex.
    #[arg(long, conflicts_with_all = ["codefile", "example"])]
    code: Option<String>,
    /// File holding the contract code as hex.
    #[arg(long, conflicts_with = "example")]
    codefile: Option<String>,
    /// A built-in example: `fib` (fibonacci of 1000), or the first case of the benchmark suite
    /// whose name contains this (`snailtracer`, `weierstrudel`, …; see `ferrite bench`).
    #[arg(long)]
    example: Option<String>,
    /// Calldata as hex.
    #[arg(long, default_value = "")]
    input: String,
    /// Gas limit.
    #[arg(long, default_value_t = 1_000_000_000)]
    gas: u64,
    /// Wei sent with the call (decimal or 0x-hex).
    #[arg(long, default_value = "0")]
    value: String,
    /// Fork name as in the state tests (Frontier … Cancun, Prague, Osaka).
    #[arg(long, default_value = "Prague")]
    fork: String,
    /// Print one JSON line.
    #[arg(long)]
    json: bool,
    /// Print an EIP-3155 trace to stderr.
    #[arg(long)]
    trace: bool,
    /// Run N more times (fresh state each) after one warm-up and report the median time.
    #[arg(long)]
    bench: Option<u32>,
    /// Execution tier: `interp`, `jit` (compile first, then run native code), or `auto`
    /// (through a ferrite::Engine: interpret, compile in the background once hot, run native).
    #[arg(long, default_value = "interp", value_parser = ["interp", "jit", "auto"])]
    engine: String,
    /// Run the call N times (fresh state each) through one Engine; the result shown is the last.
    #[arg(long, value_name = "N")]
    repeat: Option<u32>,
    /// Print the Engine's counters after the runs (with --json, as the last line) and, per run
    /// of calls on one tier, their median time: the switch from interpreter to native code.
    #[arg(long)]
    stats: bool,
    /// Engine: interpreted calls of a contract before it is compiled (`never`: never compile).
    #[arg(long, default_value = "2", value_name = "N|never")]
    threshold: String,
    /// Engine: compiler threads.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Engine: keep compiled code in this directory (the disk code cache), loading it instead of
    /// compiling on later runs; the run waits for its compiles to finish (and be stored) before
    /// exiting.
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<std::path::PathBuf>,
    /// Print the Cranelift IR of the contract instead of running it.
    #[arg(long)]
    dump_ir: bool,
    /// Run the call in the interpreter, then compile it and run it as native code: both median
    /// times over N calls (fresh state each), the compile time and the speed-up, after checking
    /// that both tiers agree on status, gas and output.
    #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = "5")]
    compare: Option<u32>,
    /// With `--engine jit`: profile one interpreted run of the call, then compile only the
    /// blocks covering this share (0..=1) of the instructions it executed (a region program;
    /// the interpreter runs the rest).
    #[arg(long)]
    region: Option<f64>,
}

#[derive(clap::Args)]
struct AnalyzeArgs {
    /// Contract code as hex.
    #[arg(long, conflicts_with = "codefile")]
    code: Option<String>,
    /// File holding the contract code as hex.
    #[arg(long)]
    codefile: Option<String>,
    /// Fork name.
    #[arg(long, default_value = "Prague")]
    fork: String,
    /// Also compile with the JIT and report compile time and machine-code size.
    #[arg(long)]
    compile: bool,
    /// Print only the summary line, not every block.
    #[arg(long)]
    summary: bool,
}

/// Parses `--engine`.
pub fn parse_engine(s: &str) -> Result<Mode, String> {
    match s {
        "interp" => Ok(Mode::Interp),
        "jit" => Ok(Mode::Jit),
        other => Err(format!("unknown engine '{other}'")),
    }
}

fn read_code(code: &Option<String>, codefile: &Option<String>) -> Result<Option<String>, String> {
    Ok(match (code, codefile) {
        (Some(c), _) => Some(c.clone()),
        (None, Some(f)) => {
            Some(std::fs::read_to_string(f).map_err(|e| format!("cannot read {f}: {e}"))?)
        }
        (None, None) => None,
    })
}

fn parse_fork(name: &str) -> Result<SpecId, String> {
    SpecId::from_name(name).ok_or_else(|| format!("unknown fork '{name}'"))
}

fn analyze(args: AnalyzeArgs) -> Result<bool, String> {
    let hex = read_code(&args.code, &args.codefile)?.ok_or("--code or --codefile is required")?;
    let code = std::sync::Arc::new(ferrite::bytecode::Bytecode::new(parse_hex("code", &hex)?));
    let spec = parse_fork(&args.fork)?;
    let text = ferrite::analysis::analyze(code.clone(), spec).to_string();
    if args.summary {
        println!("{}", text.lines().next().unwrap_or(""));
    } else {
        print!("{text}");
    }
    if args.compile {
        match ferrite::jit::compile(code, spec) {
            Ok(p) => println!(
                "compiled: {:.2} ms, {} bytes of machine code",
                p.compile_time().as_secs_f64() * 1e3,
                p.code_bytes()
            ),
            Err(e) => println!("not compiled: {e}"),
        }
    }
    Ok(true)
}

/// Fibonacci: n = calldata word 0, returns fib(n) mod 2^256.
const FIB_CODE: &str =
    "600035600060015b8215601c57818101915090916001900391600756 5b50600052602060 00f3";

/// A built-in example's call: `fib`, or the first benchmark case (in the suite's order) whose
/// name contains `name`.
fn example(name: &str) -> Result<CallConfig, String> {
    if name == "fib" {
        let code = parse_hex("code", &FIB_CODE.replace(' ', ""))?;
        return Ok(CallConfig::new(
            code,
            U256::from(1000).to_be_bytes::<32>().to_vec(),
        ));
    }
    let mut cases = ferrite_tools::bench::suite(Some(name));
    if cases.is_empty() {
        return Err(format!(
            "unknown example '{name}' (available: fib, or part of a benchmark case's name; see `ferrite bench`)"
        ));
    }
    Ok(cases.remove(0).cfg)
}

fn parse_hex(what: &str, s: &str) -> Result<Bytes, String> {
    let s = s.trim();
    hex::decode(s)
        .map(Bytes::from)
        .map_err(|e| format!("invalid {what} hex: {e}"))
}

fn parse_u256(s: &str) -> Result<U256, String> {
    let r = if let Some(h) = s.strip_prefix("0x") {
        U256::from_str_radix(h, 16)
    } else {
        U256::from_str_radix(s, 10)
    };
    r.map_err(|e| format!("invalid value '{s}': {e}"))
}

fn run(args: RunArgs) -> Result<bool, String> {
    let mut cfg = match (&args.code, &args.codefile, &args.example) {
        (Some(c), _, _) => CallConfig::new(parse_hex("code", c)?, Bytes::new()),
        (None, Some(f), _) => {
            let hex = std::fs::read_to_string(f).map_err(|e| format!("cannot read {f}: {e}"))?;
            CallConfig::new(parse_hex("code", &hex)?, Bytes::new())
        }
        (None, None, Some(name)) => example(name)?,
        (None, None, None) => {
            return Err("one of --code, --codefile or --example is required".into())
        }
    };
    let spec =
        SpecId::from_name(&args.fork).ok_or_else(|| format!("unknown fork '{}'", args.fork))?;
    if !args.input.is_empty() {
        cfg.input = parse_hex("input", &args.input)?;
    }
    cfg.gas_limit = args.gas;
    cfg.value = parse_u256(&args.value)?;
    cfg.spec = spec;
    if let Some(n) = args.compare {
        return compare(&args, &cfg, n);
    }
    if args.dump_ir {
        let code = std::sync::Arc::new(ferrite::bytecode::Bytecode::new(cfg.code.clone()));
        let counts = args.region.map(|_| ferrite_tools::bench::profile(&cfg));
        let profile = counts.as_deref().zip(args.region);
        print!(
            "{}",
            ferrite::jit::dump_ir(code, spec, profile).map_err(|e| e.to_string())?
        );
        return Ok(true);
    }
    if args.engine == "auto" || args.repeat.is_some() || args.stats || args.cache_dir.is_some() {
        return run_engine(&args, &cfg);
    }
    cfg.mode = parse_engine(&args.engine)?;
    if let Some(coverage) = args.region {
        return run_region(&args, &cfg, coverage);
    }
    if cfg.mode == Mode::Jit {
        // Compile before timing: `medianNs` measures execution only.
        let code = std::sync::Arc::new(ferrite::bytecode::Bytecode::new(cfg.code.clone()));
        ferrite::frame::ProgramSource::program(ferrite_state::jit_engine(), &code, spec);
    }

    let outcome = if args.trace {
        let stderr = std::io::stderr();
        let mut tracer = ferrite::trace::Eip3155::new(stderr.lock());
        call::run_traced(&cfg, &mut tracer)
    } else {
        call::run(&cfg)
    };
    let median_ns = args.bench.map(|n| bench_median(&cfg, n, &cfg.mode));
    print_outcome(&args, &outcome, median_ns);
    Ok(true)
}

/// `ferrite run --compare`: the same call interpreted, then compiled and run as native code
/// through an [`Engine`] in jit mode, with both median times and the speed-up.
fn compare(args: &RunArgs, cfg: &CallConfig, n: u32) -> Result<bool, String> {
    let n = n.max(1);
    let interp = call::run(cfg);
    let engine = Engine::new(EngineConfig::with_mode(EngineMode::Jit));
    // The first call compiles (synchronously in jit mode) and runs natively.
    let native = call::run_with(cfg, &mut NoTracer, &engine);
    let stats = engine.stats();
    // Both tiers timed round by round, so that a drift of the machine moves both.
    let mut interp_run = || run_timed(cfg, &ferrite::sources::Interpret);
    let mut native_run = || run_timed(cfg, &engine);
    let times = timed_rounds(n as usize, &mut [&mut interp_run, &mut native_run]);
    let (interp_ns, native_ns) = (times[0].as_nanos(), times[1].as_nanos());
    let agree = native.exit == interp.exit
        && native.gas_used == interp.gas_used
        && native.output == interp.output;
    if !agree {
        return Err(format!(
            "the tiers disagree: interpreter {} gas {} output {}, native {} gas {} output {}",
            interp.exit.name(),
            interp.gas_used,
            hex::encode_prefixed(&interp.output),
            native.exit.name(),
            native.gas_used,
            hex::encode_prefixed(&native.output)
        ));
    }
    let speedup = interp_ns as f64 / native_ns.max(1) as f64;
    let compile_ms = stats.compile_time_total.as_secs_f64() * 1e3;
    if args.json {
        println!(
            "{{\"status\":\"{}\",\"gasUsed\":{},\"interpreterNs\":{interp_ns},\"nativeNs\":{native_ns},\"compileMs\":{compile_ms:.3},\"codeBytes\":{},\"speedup\":{speedup:.3}}}",
            interp.exit.name(),
            interp.gas_used,
            stats.code_bytes
        );
        return Ok(true);
    }
    let (status, gas) = (interp.exit.name(), interp.gas_used);
    println!(
        "contract:    {} bytes of bytecode, {}",
        cfg.code.len(),
        cfg.spec.name()
    );
    println!("result:      {status}, {gas} gas, the same in both tiers");
    println!(
        "interpreter: {} per call (median of {n})",
        fmt_ns(interp_ns)
    );
    if stats.native_calls == 0 {
        println!("native:      not compiled (the JIT refused the code); calls stay interpreted");
        return Ok(true);
    }
    println!(
        "compile:     {compile_ms:.1} ms, once ({} KB of code memory)",
        stats.code_bytes / 1024
    );
    println!(
        "native:      {} per call (median of {n})",
        fmt_ns(native_ns)
    );
    println!("speed-up:    {speedup:.1}x");
    Ok(true)
}

/// A duration in nanoseconds, in the unit that fits it.
fn fmt_ns(ns: u128) -> String {
    fmt_duration(std::time::Duration::from_nanos(
        ns.min(u64::MAX as u128) as u64
    ))
}

/// `ferrite run --region`: profile, compile the hot region, run with it.
fn run_region(args: &RunArgs, cfg: &CallConfig, coverage: f64) -> Result<bool, String> {
    let program =
        ferrite_tools::bench::compile_region(cfg, coverage, ferrite::jit::Tier::Optimized)
            .ok_or("the region could not be compiled")?;
    if !args.json {
        println!(
            "region:  {}/{} blocks, {}/{} instructions, compiled in {:.2} ms, {} bytes of machine code",
            program.blocks(),
            program.analysis().blocks.len(),
            program.instrs(),
            program.analysis().instrs.len(),
            program.compile_time().as_secs_f64() * 1e3,
            program.code_bytes()
        );
    }
    let source = ferrite::sources::WithProgram(program);
    let outcome = call::run_with(cfg, &mut NoTracer, &source);
    let median_ns = args.bench.map(|n| bench_median(cfg, n, &source));
    print_outcome(args, &outcome, median_ns);
    Ok(true)
}

/// Median time of `n` runs of `cfg` (fresh state each) with frames tiered by `source`.
fn bench_median(cfg: &CallConfig, n: u32, source: &dyn ProgramSource) -> u128 {
    let mut run = || run_timed(cfg, source);
    timed_rounds(n as usize, &mut [&mut run])[0].as_nanos()
}

/// `ferrite run` through one Engine: `--repeat` calls, then `--bench`, then `--stats`.
fn run_engine(args: &RunArgs, cfg: &CallConfig) -> Result<bool, String> {
    let mode = EngineMode::from_name(&args.engine)
        .ok_or_else(|| format!("unknown engine '{}'", args.engine))?;
    let hot_threshold = match args.threshold.as_str() {
        "never" => None,
        n => Some(
            n.parse()
                .map_err(|_| format!("invalid --threshold '{n}' (a number or 'never')"))?,
        ),
    };
    let engine = Engine::new(EngineConfig {
        mode,
        hot_threshold,
        workers: args.workers,
        cache_dir: args.cache_dir.clone(),
        ..EngineConfig::default()
    });
    let n = args.repeat.unwrap_or(1).max(1);
    // (tier, nanoseconds) per call.
    let mut calls: Vec<(&str, u128)> = Vec::with_capacity(n as usize);
    let mut outcome = None;
    for i in 0..n {
        let before = engine.stats();
        let state = call::prepare_state(cfg);
        let t = Instant::now();
        let o = if args.trace && i + 1 == n {
            let stderr = std::io::stderr();
            let mut tracer = ferrite::trace::Eip3155::new(stderr.lock());
            call::run_on_with(state, cfg, &mut tracer, &engine)
        } else {
            call::run_on_with(state, cfg, &mut NoTracer, &engine)
        };
        let ns = t.elapsed().as_nanos();
        let after = engine.stats();
        let native = after.native_calls - before.native_calls;
        let interpreted = after.interpreter_calls - before.interpreter_calls;
        let tier = match (native, interpreted) {
            (0, _) => "interpreter",
            (_, 0) => "native",
            _ => "mixed",
        };
        calls.push((tier, ns));
        outcome = Some(o);
    }
    let Some(outcome) = outcome else {
        unreachable!("at least one call ran")
    };
    let median_ns = args.bench.map(|b| bench_median(cfg, b, &engine));
    print_outcome(args, &outcome, median_ns);
    if args.cache_dir.is_some() {
        // Compiles still queued or running would be dropped with the engine: let them finish
        // and reach the disk cache.
        engine.wait_idle();
    }
    if args.stats {
        let stats = engine.stats();
        if args.json {
            let calls: Vec<String> = calls
                .iter()
                .map(|(tier, ns)| format!("{{\"tier\":\"{tier}\",\"ns\":{ns}}}"))
                .collect();
            println!(
                "{{\"stats\":{},\"calls\":[{}]}}",
                stats.to_json(),
                calls.join(",")
            );
        } else {
            println!("engine:  {} ({n} calls)", mode.name());
            let mut start = 0;
            while start < calls.len() {
                let tier = calls[start].0;
                let end = calls[start..]
                    .iter()
                    .position(|c| c.0 != tier)
                    .map_or(calls.len(), |p| start + p);
                let mut t: Vec<u128> = calls[start..end].iter().map(|c| c.1).collect();
                t.sort_unstable();
                let range = if end - start == 1 {
                    format!("call {}", start + 1)
                } else {
                    format!("calls {}-{}", start + 1, end)
                };
                println!(
                    "  {range:<16} {tier:<12} median {:.3} ms",
                    t[t.len() / 2] as f64 / 1e6
                );
                start = end;
            }
            println!("{stats}");
        }
    }
    Ok(true)
}

fn print_outcome(args: &RunArgs, outcome: &call::CallOutcome, median_ns: Option<u128>) {
    let status = outcome.exit.name();
    let error = if outcome.exit.is_halt() {
        format!("\"{status}\"")
    } else {
        "null".to_string()
    };
    let output = hex::encode_prefixed(&outcome.output);
    if args.json {
        let bench = median_ns
            .map(|m| format!(",\"medianNs\":{m}"))
            .unwrap_or_default();
        println!(
            "{{\"status\":\"{status}\",\"gasUsed\":{},\"output\":\"{output}\",\"error\":{error}{bench}}}",
            outcome.gas_used
        );
    } else {
        println!("status:  {status}");
        println!("gasUsed: {}", outcome.gas_used);
        println!("output:  {output}");
        if let Some(m) = median_ns {
            println!("median:  {}", fmt_ns(m));
        }
    }
}

mod bench;
mod blocktest;
mod compile_report;
mod files;
mod fuzz;
mod statetest;

/// A reader that closes our standard output early (`ferrite analyze … | head`) ends the
/// process quietly, as it would a C tool through SIGPIPE, which Rust programs ignore: `println!`
/// then panics with a backtrace. Any other panic goes to the default hook.
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let p = info.payload();
        let msg = p
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| p.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe") {
            // 128 + SIGPIPE, the status a shell reports for a writer its reader left.
            std::process::exit(141);
        }
        default(info)
    }));
}

fn main() -> ExitCode {
    quiet_on_closed_stdout();
    let cli = Cli::parse();
    let r = match cli.command {
        Command::Run(a) => run(a),
        Command::Statetest(a) => statetest::main(a),
        Command::Blocktest(a) => blocktest::main(a),
        Command::Analyze(a) => analyze(a),
        Command::Bench(a) => bench::main(a),
        Command::Fuzz(a) => fuzz::main(a),
    };
    match r {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
