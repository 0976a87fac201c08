//! `ferrite bench`: the benchmark suite as a quick table (criterion lives in `benches/`).

use ferrite::bench::{self, Case};
use ferrite::frame::Mode;
use std::time::Duration;

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
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn geomean(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    (v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp()
}

#[cfg(feature = "revm-oracle")]
fn revm_time(
    case: &Case,
    iters: usize,
    expect: &bench::Result,
) -> Result<Option<Duration>, String> {
    let (r, t) = bench::median(iters, || bench::run_revm(case));
    if (r.gas_used, &r.output) != (expect.gas_used, &expect.output) {
        return Err(format!(
            "{}: revm disagrees: {r:?} vs {expect:?}",
            case.name
        ));
    }
    Ok(Some(t))
}

#[cfg(not(feature = "revm-oracle"))]
fn revm_time(_: &Case, _: usize, _: &bench::Result) -> Result<Option<Duration>, String> {
    Ok(None)
}

/// Entry point.
pub fn main(args: BenchArgs) -> Result<bool, String> {
    let cases = bench::suite(args.filter.as_deref());
    if cases.is_empty() {
        return Err("no case matches the filter".into());
    }
    if !args.json {
        println!(
            "{:<44} {:>11} {:>10} {:>10} {:>10} {:>8} {:>8} {:>8} {:>10}",
            "case",
            "gas",
            "interp ms",
            "jit ms",
            "revm ms",
            "Mgas/s",
            "jit/int",
            "jit/revm",
            "compile ms"
        );
    }
    let (mut vs_interp, mut vs_revm, mut heavy_revm, mut int_revm) =
        (vec![], vec![], vec![], vec![]);
    let mut ok = true;
    for case in &cases {
        let compile = bench::compile_time(case);
        let (ri, ti) = bench::median(args.iters, || bench::run_ferrite(case, Mode::Interp));
        let (rj, tj) = bench::median(args.iters, || bench::run_ferrite(case, Mode::Jit));
        if rj != ri {
            eprintln!(
                "{}: JIT disagrees with the interpreter: {rj:?} vs {ri:?}",
                case.name
            );
            ok = false;
            continue;
        }
        let tr = match revm_time(case, args.iters, &ri) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{e}");
                ok = false;
                None
            }
        };
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
                "{{\"case\":\"{}\",\"gas\":{},\"interpNs\":{},\"jitNs\":{},\"revmNs\":{},\"compileNs\":{}}}",
                case.name,
                ri.gas_used,
                ti.as_nanos(),
                tj.as_nanos(),
                tr.map_or("null".into(), |t| t.as_nanos().to_string()),
                compile.map_or("null".into(), |t| t.as_nanos().to_string()),
            );
        } else {
            println!(
                "{:<44} {:>11} {:>10.3} {:>10.3} {:>10} {:>8.0} {:>8.2} {:>8} {:>10}",
                case.name,
                ri.gas_used,
                ms(ti),
                ms(tj),
                tr.map_or("-".into(), |t| format!("{:.3}", ms(t))),
                mgas,
                speedup,
                vs.map_or("-".into(), |v| format!("{v:.2}")),
                compile.map_or("refused".into(), |c| format!("{:.2}", ms(c))),
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
    }
    Ok(ok)
}
