//! `ferrite statetest`: runs fixture files on worker threads and reports like geth's
//! `evm statetest` (`--json`: one array of case results) or with a progress bar and a per-fork
//! summary table.
//!
//! Legacy VM tests (files whose tests have an `exec` message instead of a `transaction`, as in
//! ethereum/legacytests' `VMTests`) run through [`ferrite_tools::statetest::vmtest`] and are counted in
//! the table's `VMTests` row.
//!
//! `--state revm` runs each vector through the alloy-evm adapter over revm's in-memory database
//! (`ferrite_tools::statetest::revm_state`, with the `revm-oracle` feature) instead of ferrite's
//! own state; the table and exit status are the same, VM tests are skipped.

use crate::files::{json_escape, run_files};
use crate::StatetestArgs;
use ferrite::engine::{CompilerPriority, Engine, EngineConfig};
use ferrite::runtime::SpecId;
use ferrite_state::Mode;
use ferrite_tools::statetest::fixture;
#[cfg(feature = "revm-oracle")]
use ferrite_tools::statetest::revm_state;
use ferrite_tools::statetest::runner::{self, CaseResult, Filter};
use ferrite_tools::statetest::vmtest;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Where a run keeps the state (`--state`).
enum Backend {
    /// ferrite's own in-memory `State`.
    Native,
    /// revm's in-memory database behind the alloy-evm adapter, one factory for the run.
    #[cfg(feature = "revm-oracle")]
    Revm(ferrite_evm::FerriteEvmFactory),
}

impl Backend {
    fn new(name: &str, filter: &Filter) -> Result<Backend, String> {
        match name {
            "native" => Ok(Backend::Native),
            #[cfg(feature = "revm-oracle")]
            "revm" => Ok(Backend::Revm(revm_state::factory(filter))),
            #[cfg(not(feature = "revm-oracle"))]
            "revm" => {
                let _ = filter;
                Err("--state revm needs a build with --features revm-oracle".into())
            }
            other => Err(format!("unknown state '{other}'")),
        }
    }
}

/// Runs one fixture file, state tests or VM tests. The file is tried as state tests first; only
/// if it does not load as such (the runner then reports the file itself as one failed case) is
/// it checked for the VM-test format, so state-test runs read each file once.
fn run_file(f: &Path, filter: &Filter, backend: &Backend) -> Vec<CaseResult> {
    let r = match backend {
        Backend::Native => runner::run_file(f, filter),
        #[cfg(feature = "revm-oracle")]
        Backend::Revm(factory) => revm_state::run_file(f, filter, factory),
    };
    let unloadable = matches!(&r[..], [only] if !only.pass && only.name == f.display().to_string());
    if unloadable && vmtest::is_vm_test_file(f) {
        return match backend {
            Backend::Native => vmtest::run_file(f, filter),
            #[cfg(feature = "revm-oracle")]
            Backend::Revm(_) => revm_state::skip_vm_tests(f, filter),
        };
    }
    r
}

fn run_traced(files: &[PathBuf], filter: &Filter) -> Vec<CaseResult> {
    let mut out = Vec::new();
    for f in files {
        if vmtest::is_vm_test_file(f) {
            let stderr = std::io::stderr();
            let mut tracer = ferrite::trace::Eip3155::new(stderr.lock());
            out.extend(vmtest::run_file_with(
                f,
                filter,
                &mut tracer,
                filter.source(),
            ));
            continue;
        }
        let Ok(units) = fixture::load_file(f) else {
            out.extend(runner::run_file(f, filter));
            continue;
        };
        for (name, unit) in &units {
            if filter.name.as_ref().is_some_and(|re| !re.is_match(name)) {
                continue;
            }
            for case in unit.cases().flatten() {
                if filter
                    .fork
                    .is_some_and(|fk| SpecId::from_name(case.fork) != Some(fk))
                {
                    continue;
                }
                let stderr = std::io::stderr();
                let mut tracer = ferrite::trace::Eip3155::new(stderr.lock());
                out.push(runner::run_case_with(
                    name,
                    unit,
                    &case,
                    &mut tracer,
                    filter.source(),
                ));
            }
        }
    }
    out
}

/// Entry point; `Ok(false)` when some case failed.
pub fn main(args: StatetestArgs) -> Result<bool, String> {
    let fork = match &args.fork {
        Some(f) => Some(SpecId::from_name(f).ok_or_else(|| format!("unknown fork '{f}'"))?),
        None => None,
    };
    let name = match &args.run {
        Some(r) => Some(regex_lite::Regex::new(r).map_err(|e| format!("invalid --run: {e}"))?),
        None => None,
    };
    let (mode, engine) = match args.engine.as_str() {
        // Compilers at normal priority: the run saturates every core with cases, and it is a
        // test of both tiers, so compiles must keep up rather than wait for idle CPU.
        "auto" => (
            Mode::Interp,
            Some(Arc::new(Engine::new(EngineConfig {
                compiler_priority: CompilerPriority::Normal,
                cache_dir: args.cache_dir.clone(),
                ..EngineConfig::default()
            }))),
        ),
        other => (crate::parse_engine(other)?, None),
    };
    let filter = Filter {
        fork,
        name,
        mode,
        engine,
    };
    let backend = Backend::new(&args.state, &filter)?;
    if args.trace && !matches!(backend, Backend::Native) {
        return Err("--trace needs --state native (the adapter runs untraced)".into());
    }
    let mut files = Vec::new();
    for p in &args.paths {
        files.extend(runner::collect_files(std::path::Path::new(p))?);
    }
    let start = Instant::now();
    let results: Vec<CaseResult> = if args.trace {
        run_traced(&files, &filter)
    } else {
        let jobs = args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let mut v = run_files(&files, jobs, args.json, |f| run_file(f, &filter, &backend));
        v.sort_by(|a, b| (&a.name, &a.fork, a.index).cmp(&(&b.name, &b.fork, b.index)));
        v
    };
    let elapsed = start.elapsed();
    let failed = results
        .iter()
        .filter(|r| !r.pass && r.skipped.is_none())
        .count();

    if args.json {
        let items: Vec<String> = results
            .iter()
            .map(|r| {
                format!(
                    "{{\"name\":{},\"fork\":{},\"index\":{},\"pass\":{},\"stateRoot\":\"{}\",\"error\":{}}}",
                    json_escape(&r.name),
                    json_escape(&r.fork),
                    r.index,
                    r.pass,
                    r.state_root,
                    match (&r.error, &r.skipped) {
                        (Some(e), _) => json_escape(e),
                        (None, Some(s)) => json_escape(&format!("skipped: {s}")),
                        _ => "null".into(),
                    }
                )
            })
            .collect();
        println!("[{}]", items.join(","));
        return Ok(failed == 0);
    }

    let mut table: BTreeMap<(u8, String), [usize; 3]> = BTreeMap::new();
    for r in &results {
        let order = SpecId::from_name(&r.fork).map_or(255, |s| s as u8);
        let e = table.entry((order, r.fork.clone())).or_default();
        if r.skipped.is_some() {
            e[2] += 1;
        } else if r.pass {
            e[0] += 1;
        } else {
            e[1] += 1;
        }
    }
    for r in results.iter().filter(|r| !r.pass) {
        match &r.skipped {
            Some(s) => println!("SKIP {} [{}:{}]: {s}", r.name, r.fork, r.index),
            None => println!(
                "FAIL {} [{}:{}]: {}",
                r.name,
                r.fork,
                r.index,
                r.error.as_deref().unwrap_or("")
            ),
        }
    }
    println!(
        "{:<20} {:>8} {:>8} {:>8}",
        "fork", "passed", "failed", "skipped"
    );
    let mut tot = [0usize; 3];
    for ((_, fork), c) in &table {
        let fork = if fork.is_empty() { "(unparsed)" } else { fork };
        println!("{fork:<20} {:>8} {:>8} {:>8}", c[0], c[1], c[2]);
        for i in 0..3 {
            tot[i] += c[i];
        }
    }
    println!("{:<20} {:>8} {:>8} {:>8}", "total", tot[0], tot[1], tot[2]);
    let n = results.len();
    println!(
        "{n} cases in {:.2} s ({:.0} cases/s), {} files",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64().max(1e-9),
        files.len()
    );
    if let Some(e) = &filter.engine {
        e.wait_idle();
        println!("engine: auto\n{}", e.stats());
    }
    #[cfg(feature = "revm-oracle")]
    if let Backend::Revm(factory) = &backend {
        let c = factory.counters();
        println!(
            "state: revm (adapter: {} transactions on ferrite, {} handed to revm)",
            c.ferrite,
            c.inspected + c.unsupported
        );
    }
    Ok(failed == 0)
}
