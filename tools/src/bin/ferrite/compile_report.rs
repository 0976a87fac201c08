//! `ferrite bench --compile`: the JIT's compile speed and code size per benchmark contract
//! (issue 19's measure): bytecode size, IR instructions, compile time (median of the runs),
//! milliseconds per KB of bytecode and bytes of machine code per byte of bytecode, for the
//! whole program at both tiers and for the region covering `coverage` of one profiled run.
//! Each contract is reported once (cases that share code share a row).

use ferrite::bytecode::Bytecode;
use ferrite::jit::{self, Program, Tier};
use ferrite_tools::bench::{self, Case};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// One compile's figures: median time of `iters` compiles, and the last one's code size.
struct Compiled {
    time: Duration,
    code_bytes: usize,
}

fn measure(iters: usize, mut f: impl FnMut() -> Option<Program>) -> Option<Compiled> {
    let mut times = Vec::with_capacity(iters);
    let mut code_bytes = 0;
    for _ in 0..iters.max(1) {
        let p = f()?;
        times.push(p.compile_time());
        code_bytes = p.code_bytes();
    }
    times.sort_unstable();
    Some(Compiled {
        time: times[times.len() / 2],
        code_bytes,
    })
}

/// Milliseconds per KB and machine-code bytes per bytecode byte, as text.
fn ratios(c: &Option<Compiled>, len: usize) -> (String, String, String) {
    match c {
        Some(c) => {
            let ms = c.time.as_secs_f64() * 1e3;
            (
                format!("{ms:.1}"),
                format!("{:.1}", ms / (len as f64 / 1024.0)),
                format!("{:.1}", c.code_bytes as f64 / len as f64),
            )
        }
        None => ("refused".into(), "-".into(), "-".into()),
    }
}

/// Prints the report for `cases`.
pub fn main(cases: &[Case], iters: usize, coverage: f64, json: bool) -> Result<bool, String> {
    if !json {
        println!(
            "{:<40} {:>6} {:>8} {:>9} {:>6} {:>6} {:>9} {:>6} {:>8} {:>9} {:>6} {:>6}",
            "contract",
            "bytes",
            "IR",
            "opt ms",
            "ms/KB",
            "B/B",
            "base ms",
            "ms/KB",
            "rgn IR",
            "rgn ms",
            "ms/KB",
            "B/B"
        );
    }
    let mut seen = HashSet::new();
    for case in cases {
        if !seen.insert(case.cfg.code.clone()) {
            continue;
        }
        let spec = case.cfg.spec;
        let len = case.cfg.code.len().max(1);
        let code = || Arc::new(Bytecode::new(case.cfg.code.clone()));
        let ir = jit::ir_instructions(code(), spec, None).ok();
        let opt = measure(iters, || {
            jit::compile_at(code(), spec, Tier::Optimized).ok()
        });
        let base = measure(iters, || jit::compile_at(code(), spec, Tier::Baseline).ok());
        let counts = (coverage > 0.0).then(|| bench::profile(&case.cfg));
        let (rgn_ir, rgn) = match &counts {
            Some(c) => (
                jit::ir_instructions(code(), spec, Some((c, coverage))).ok(),
                measure(iters, || {
                    jit::compile_region_at(code(), spec, c, coverage, Tier::Optimized).ok()
                }),
            ),
            None => (None, None),
        };
        let (o_ms, o_kb, o_bb) = ratios(&opt, len);
        let (b_ms, b_kb, _) = ratios(&base, len);
        let (r_ms, r_kb, r_bb) = ratios(&rgn, len);
        let num = |v: Option<usize>| v.map_or("-".to_string(), |n| n.to_string());
        if json {
            let ns = |c: &Option<Compiled>| {
                c.as_ref()
                    .map_or("null".into(), |c| c.time.as_nanos().to_string())
            };
            let bytes = |c: &Option<Compiled>| {
                c.as_ref()
                    .map_or("null".into(), |c| c.code_bytes.to_string())
            };
            println!(
                "{{\"contract\":\"{}\",\"bytes\":{len},\"ir\":{},\"optNs\":{},\"optCodeBytes\":{},\"baselineNs\":{},\"regionIr\":{},\"regionNs\":{},\"regionCodeBytes\":{}}}",
                case.name,
                ir.map_or("null".into(), |n| n.to_string()),
                ns(&opt),
                bytes(&opt),
                ns(&base),
                rgn_ir.map_or("null".into(), |n| n.to_string()),
                ns(&rgn),
                bytes(&rgn),
            );
        } else {
            let name: String = case.name.chars().take(40).collect();
            println!(
                "{name:<40} {len:>6} {:>8} {o_ms:>9} {o_kb:>6} {o_bb:>6} {b_ms:>9} {b_kb:>6} {:>8} {r_ms:>9} {r_kb:>6} {r_bb:>6}",
                num(ir),
                num(rgn_ir),
            );
        }
    }
    Ok(true)
}
