//! `ferrite bench`: the benchmark suite as a quick table (criterion lives in `benches/`).

use ferrite_state::Mode;
use ferrite_tools::bench::{self, fmt_duration, Case, Runner};

/// Options of `ferrite bench`.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// Only cases whose name contains this.
    #[arg(long)]
    filter: Option<String>,
    /// One JSON object per case.
    #[arg(long)]
    json: bool,
    /// Timed runs per tier (median reported).
    #[arg(long, default_value_t = 5)]
    iters: usize,
    /// Also time a region program: the blocks covering this share (0..=1) of the instructions
    /// one profiled interpreter run executed (0: no region column).
    #[arg(long, default_value_t = 0.99)]
    coverage: f64,
    /// Compile the region program at the baseline tier (the engine's first, fast compile)
    /// instead of the optimized one.
    #[arg(long)]
    baseline: bool,
    /// Report the JIT's compile speed and code size per contract instead of run times (IR
    /// instructions, compile ms, ms per KB and machine-code bytes per bytecode byte, whole
    /// program at both tiers and the region of `--coverage`; medians of `--iters` rounds, each
    /// compiling every contract once).
    #[arg(long)]
    compile: bool,
}

fn geomean(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    (v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp()
}

/// revm's runs of the case, timed beside ferrite's tiers (none without the oracle).
#[cfg(feature = "revm-oracle")]
fn revm_runner(case: &Case) -> Option<Box<Runner<'_>>> {
    Some(Box::new(move || bench::run_revm(case)))
}

#[cfg(not(feature = "revm-oracle"))]
fn revm_runner(_: &Case) -> Option<Box<Runner<'_>>> {
    None
}

/// Entry point.
pub fn main(args: BenchArgs) -> Result<bool, String> {
    let cases = bench::suite(args.filter.as_deref());
    if cases.is_empty() {
        return Err("no case matches the filter".into());
    }
    if args.compile {
        return crate::compile_report::main(&cases, args.iters, args.coverage, args.json);
    }
    if !args.json {
        println!(
            "{:<44} {:>11} {:>10} {:>10} {:>10} {:>8} {:>8} {:>8} {:>10} {:>10} {:>8} {:>10} {:>9}",
            "case",
            "gas",
            "interp",
            "jit",
            "revm",
            "Mgas/s",
            "jit/int",
            "jit/revm",
            "compile",
            "region",
            "rgn/revm",
            "rgn cmp",
            "rgn blks"
        );
    }
    let (mut vs_interp, mut vs_revm, mut heavy_revm, mut int_revm) =
        (vec![], vec![], vec![], vec![]);
    let (mut rgn_revm, mut rgn_heavy) = (vec![], vec![]);
    let mut ok = true;
    for case in &cases {
        let compile = bench::compile_time(case);
        let region = (args.coverage > 0.0)
            .then(|| {
                let tier = if args.baseline {
                    ferrite::jit::Tier::Baseline
                } else {
                    ferrite::jit::Tier::Optimized
                };
                bench::compile_region(&case.cfg, args.coverage, tier)
            })
            .flatten();
        // Every tier's runs interleaved, round by round (`bench::medians`).
        let mut interp = || bench::run_ferrite(case, Mode::Interp);
        let mut jit = || bench::run_ferrite(case, Mode::Jit);
        let mut revm = revm_runner(case);
        let mut rgn = region.as_ref().map(|p| move || bench::run_program(case, p));
        let mut runners: Vec<&mut Runner<'_>> = vec![&mut interp, &mut jit];
        if let Some(r) = revm.as_mut() {
            runners.push(r.as_mut());
        }
        if let Some(g) = rgn.as_mut() {
            runners.push(g);
        }
        let mut out = bench::medians(args.iters, &mut runners).into_iter();
        let (ri, ti) = out.next().expect("the interpreter's median");
        let (rj, tj) = out.next().expect("the JIT's median");
        let tr = match revm.is_some().then(|| out.next()).flatten() {
            Some((r, _)) if (r.gas_used, &r.output) != (ri.gas_used, &ri.output) => {
                eprintln!("{}: revm disagrees: {r:?} vs {ri:?}", case.name);
                ok = false;
                None
            }
            r => r.map(|(_, t)| t),
        };
        let tg = out.next();
        if rj != ri {
            eprintln!(
                "{}: JIT disagrees with the interpreter: {rj:?} vs {ri:?}",
                case.name
            );
            ok = false;
            continue;
        }
        let tg = match tg {
            Some((rg, _)) if rg != ri => {
                eprintln!(
                    "{}: the region program disagrees with the interpreter: {rg:?} vs {ri:?}",
                    case.name
                );
                ok = false;
                continue;
            }
            t => t.map(|(_, t)| t),
        };
        let vs_rgn = tr.zip(tg).map(|(r, g)| r.as_secs_f64() / g.as_secs_f64());
        if let Some(v) = vs_rgn {
            rgn_revm.push(v);
            if bench::COMPUTE_HEAVY.contains(&case.name.as_str()) {
                rgn_heavy.push(v);
            }
        }
        let speedup = ti.as_secs_f64() / tj.as_secs_f64();
        vs_interp.push(speedup);
        let vs = tr.map(|r| r.as_secs_f64() / tj.as_secs_f64());
        if let (Some(v), Some(r)) = (vs, tr) {
            vs_revm.push(v);
            int_revm.push(ti.as_secs_f64() / r.as_secs_f64());
            if bench::COMPUTE_HEAVY.contains(&case.name.as_str()) {
                heavy_revm.push(v);
            }
        }
        let mgas = ri.gas_used as f64 / tj.as_secs_f64() / 1e6;
        if args.json {
            println!(
                "{{\"case\":\"{}\",\"gas\":{},\"interpNs\":{},\"jitNs\":{},\"revmNs\":{},\"compileNs\":{},\"regionNs\":{},\"regionCompileNs\":{},\"regionBlocks\":{},\"blocks\":{}}}",
                case.name,
                ri.gas_used,
                ti.as_nanos(),
                tj.as_nanos(),
                tr.map_or("null".into(), |t| t.as_nanos().to_string()),
                compile.map_or("null".into(), |t| t.as_nanos().to_string()),
                tg.map_or("null".into(), |t| t.as_nanos().to_string()),
                region
                    .as_ref()
                    .map_or("null".into(), |p| p.compile_time().as_nanos().to_string()),
                region
                    .as_ref()
                    .map_or("null".into(), |p| p.blocks().to_string()),
                region
                    .as_ref()
                    .map_or("null".into(), |p| p.analysis().blocks.len().to_string()),
            );
        } else {
            println!(
                "{:<44} {:>11} {:>10} {:>10} {:>10} {:>8.0} {:>8.2} {:>8} {:>10} {:>10} {:>8} {:>10} {:>9}",
                case.name,
                ri.gas_used,
                fmt_duration(ti),
                fmt_duration(tj),
                tr.map_or("-".into(), fmt_duration),
                mgas,
                speedup,
                vs.map_or("-".into(), |v| format!("{v:.2}")),
                compile.map_or("refused".into(), fmt_duration),
                tg.map_or("-".into(), fmt_duration),
                vs_rgn.map_or("-".into(), |v| format!("{v:.2}")),
                region
                    .as_ref()
                    .map_or("-".into(), |p| fmt_duration(p.compile_time())),
                region.as_ref().map_or("-".into(), |p| format!(
                    "{}/{}",
                    p.blocks(),
                    p.analysis().blocks.len()
                )),
            );
        }
    }
    if !args.json {
        println!(
            "geomean: jit/interp {:.2}, jit/revm {:.2}, jit/revm compute-heavy {:.2}, interp time/revm time {:.2}",
            geomean(&vs_interp),
            geomean(&vs_revm),
            geomean(&heavy_revm),
            geomean(&int_revm)
        );
        if args.coverage > 0.0 {
            println!(
                "geomean: region/revm {:.2}, region/revm compute-heavy {:.2} (coverage {}, {} tier)",
                geomean(&rgn_revm),
                geomean(&rgn_heavy),
                args.coverage,
                if args.baseline { "baseline" } else { "optimized" }
            );
        }
    }
    Ok(ok)
}
