//! `ferrite fuzz`: generated programs run on ferrite's interpreter and JIT tier (plus revm when
//! built with `--features revm-oracle`), compared field by field; divergences are minimised and
//! printed as reproducers on stderr.

use ferrite::runtime::{SpecId, OPCODE_INFO};
use ferrite_state::call::CallConfig;
use ferrite_tools::fuzz::{self, gen, Engine, MinimizeBudget, OpcodeCounter, Outcome};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Options of `ferrite fuzz`.
#[derive(clap::Args)]
pub struct FuzzArgs {
    /// The run's seed (case `i` of fork `F` uses the generator seed `case_seed(seed, F, i)`).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of generated cases.
    #[arg(long, default_value_t = 10_000)]
    pub cases: u64,
    /// Only this fork (default: Cancun and Prague alternating).
    #[arg(long)]
    pub fork: Option<String>,
    /// Print a JSON summary as the last line.
    #[arg(long)]
    pub json: bool,
    /// Worker threads (default: available cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Stop after this many divergences (each is minimised and printed).
    #[arg(long, default_value_t = 10)]
    pub max_divergences: u64,
}

/// The engines compared: interpreter (reference, run with an opcode counter), JIT, and revm
/// with the `revm-oracle` feature.
fn engines() -> Vec<(&'static str, Engine)> {
    #[cfg(feature = "revm-oracle")]
    {
        fuzz::INTERP_JIT_REVM.to_vec()
    }
    #[cfg(not(feature = "revm-oracle"))]
    {
        fuzz::INTERP_VS_JIT.to_vec()
    }
}

/// What one worker saw.
#[derive(Default)]
struct Tally {
    counter: OpcodeCounter,
    statuses: BTreeMap<String, u64>,
    gas: u128,
}

/// A divergence: case index, fork, case seed, report.
struct Divergence {
    index: u64,
    spec: SpecId,
    case_seed: u64,
    cfg: CallConfig,
}

/// Runs the interpreter (counting opcodes) and the other engines on one case.
fn run_case(
    engines: &[(&'static str, Engine)],
    cfg: &CallConfig,
    counter: &mut OpcodeCounter,
) -> Vec<Outcome> {
    let mut outcomes = Vec::with_capacity(engines.len());
    let mut local = OpcodeCounter::default();
    let interp = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        fuzz::ferrite_interp_counted(cfg, &mut local)
    }));
    outcomes.push(match interp {
        Ok(o) => {
            counter.merge(&local);
            o
        }
        Err(_) => fuzz::run_engine(engines[0].1, cfg),
    });
    for (_, e) in &engines[1..] {
        outcomes.push(fuzz::run_engine(*e, cfg));
    }
    outcomes
}

/// `ferrite fuzz`: `Ok(false)` (exit status 1) if any case diverged.
pub fn main(args: FuzzArgs) -> Result<bool, String> {
    let forks: Vec<SpecId> = match &args.fork {
        Some(f) => vec![SpecId::from_name(f).ok_or_else(|| format!("unknown fork '{f}'"))?],
        None => vec![SpecId::Cancun, SpecId::Prague],
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let engines = engines();
    let names: Vec<&str> = engines.iter().map(|(n, _)| *n).collect();
    if !args.json {
        println!(
            "fuzz: {} cases, seed {}, forks {}, engines {}, {jobs} jobs",
            args.cases,
            args.seed,
            forks.iter().map(|f| f.name()).collect::<Vec<_>>().join("+"),
            names.join(" vs ")
        );
    }
    // Keep panics of an engine from flooding the output: they become `panic: …` statuses.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::env::var_os("FERRITE_FUZZ_PANICS").is_some() {
            default_hook(info);
        }
    }));

    let tty = std::io::stderr().is_terminal();
    let bar = if tty {
        let b = ProgressBar::new(args.cases);
        b.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} cases, {per_sec}, eta {eta} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };

    let next = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let diverged = AtomicU64::new(0);
    let workers_done = AtomicUsize::new(0);
    let divergences: Mutex<Vec<Divergence>> = Mutex::new(Vec::new());
    let tallies: Mutex<Vec<Tally>> = Mutex::new(Vec::new());
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                let mut t = Tally::default();
                loop {
                    if diverged.load(Ordering::Relaxed) >= args.max_divergences {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= args.cases {
                        break;
                    }
                    let spec = forks[(i % forks.len() as u64) as usize];
                    let case_seed = gen::case_seed(args.seed, spec, i);
                    let cfg = gen::case(case_seed, spec);
                    let outcomes = run_case(&engines, &cfg, &mut t.counter);
                    t.gas += outcomes[0].gas_used as u128;
                    if fuzz::divergence_report(&engines, &outcomes, &cfg).is_some() {
                        diverged.fetch_add(1, Ordering::Relaxed);
                        *t.statuses.entry("DIVERGENT".into()).or_default() += 1;
                        divergences
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(Divergence {
                                index: i,
                                spec,
                                case_seed,
                                cfg,
                            });
                    } else {
                        *t.statuses.entry(outcomes[0].status.clone()).or_default() += 1;
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                    bar.inc(1);
                }
                tallies.lock().unwrap_or_else(|e| e.into_inner()).push(t);
                workers_done.fetch_add(1, Ordering::Relaxed);
            });
        }
        // Progress lines when stderr is not a terminal (e.g. a log file).
        if !tty {
            s.spawn(|| {
                let mut last = Instant::now();
                loop {
                    std::thread::sleep(Duration::from_millis(200));
                    if workers_done.load(Ordering::Relaxed) == jobs {
                        break;
                    }
                    let d = done.load(Ordering::Relaxed);
                    if last.elapsed() >= Duration::from_secs(60) {
                        last = Instant::now();
                        let secs = start.elapsed().as_secs_f64();
                        eprintln!(
                            "progress: {d}/{} cases, {:.0} cases/s, {} divergent, {:.0} s",
                            args.cases,
                            d as f64 / secs,
                            diverged.load(Ordering::Relaxed),
                            secs
                        );
                    }
                }
            });
        }
    });
    bar.finish_and_clear();
    let elapsed = start.elapsed().as_secs_f64();
    let cases = done.load(Ordering::Relaxed);

    let mut total = Tally::default();
    for t in tallies.into_inner().unwrap_or_else(|e| e.into_inner()) {
        total.counter.merge(&t.counter);
        for (k, v) in t.statuses {
            *total.statuses.entry(k).or_default() += v;
        }
        total.gas += t.gas;
    }

    // Minimise and print every divergence.
    let mut divergences = divergences.into_inner().unwrap_or_else(|e| e.into_inner());
    divergences.sort_by_key(|d| d.index);
    for d in &divergences {
        eprintln!(
            "\n=== divergence: case {} ({}, case seed {:#x}; `ferrite fuzz --seed {}` case {}) ===",
            d.index,
            d.spec.name(),
            d.case_seed,
            args.seed,
            d.index
        );
        let outcomes = fuzz::run_all(&engines, &d.cfg);
        if let Some(r) = fuzz::divergence_report(&engines, &outcomes, &d.cfg) {
            eprintln!("original case:\n{r}");
        }
        let min = fuzz::minimize(&engines, &d.cfg, MinimizeBudget::default());
        eprintln!(
            "minimised ({} → {} code bytes):\n{}",
            d.cfg.code.len(),
            min.code.len(),
            fuzz::reproducer(&engines, &min)
        );
    }

    // Opcode coverage over the opcodes defined in the forks run.
    let defined: Vec<usize> = (0..256)
        .filter(|&b| {
            OPCODE_INFO[b].name != "UNDEFINED"
                && forks.iter().any(|f| OPCODE_INFO[b].enabled_in(*f))
        })
        .collect();
    let well_covered = defined
        .iter()
        .filter(|&&b| total.counter.0[b] >= 1_000)
        .count();
    let coverage = well_covered as f64 / defined.len().max(1) as f64;
    let rare: Vec<String> = defined
        .iter()
        .filter(|&&b| total.counter.0[b] < 1_000)
        .map(|&b| format!("{}:{}", OPCODE_INFO[b].name, total.counter.0[b]))
        .collect();
    let mut classes: BTreeMap<&str, u64> = BTreeMap::new();
    for (k, v) in &total.statuses {
        let c = if k == "DIVERGENT" {
            "divergent"
        } else {
            fuzz::status_class(k)
        };
        *classes.entry(c).or_default() += v;
    }
    let per_sec = cases as f64 / elapsed.max(1e-9);
    let n = divergences.len();
    let steps: u64 = total.counter.0.iter().sum();

    if args.json {
        let statuses: BTreeMap<String, u64> = total.statuses.clone();
        let forks_json = forks
            .iter()
            .map(|f| format!("\"{}\"", f.name()))
            .collect::<Vec<_>>()
            .join(",");
        let engines_json = names
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(",");
        let rare_json = rare
            .iter()
            .map(|r| format!("\"{r}\""))
            .collect::<Vec<_>>()
            .join(",");
        println!(
            "{{\"cases\":{cases},\"divergences\":{n},\"casesPerSec\":{per_sec:.1},\"seconds\":{elapsed:.1},\"seed\":{},\"forks\":[{forks_json}],\"engines\":[{engines_json}],\"statusMix\":{{{}}},\"statuses\":{{{}}},\"opcodeCoverage\":{coverage:.4},\"opcodesDefined\":{},\"opcodesAtLeast1000\":{well_covered},\"rareOpcodes\":[{rare_json}],\"interpSteps\":{steps},\"interpGas\":{}}}",
            args.seed,
            json_object(&classes),
            json_object(&statuses),
            defined.len(),
            total.gas
        );
    } else {
        println!(
            "{cases} cases in {elapsed:.1} s ({per_sec:.0} cases/s), {n} divergences; {steps} \
             interpreter steps, {} gas",
            total.gas
        );
        let mix: Vec<String> = classes.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("outcome mix: {}", mix.join(", "));
        let st: Vec<String> = total
            .statuses
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        println!("statuses:    {}", st.join(", "));
        println!(
            "opcode coverage: {well_covered}/{} defined opcodes executed >= 1,000 times ({:.1}%)",
            defined.len(),
            coverage * 100.0
        );
        if !rare.is_empty() {
            println!("  below 1,000: {}", rare.join(" "));
        }
    }
    Ok(n == 0)
}

/// `"k":v,…` of a map (keys are status names, or `panic: <message>`, escaped).
fn json_object<K: std::fmt::Display>(m: &BTreeMap<K, u64>) -> String {
    m.iter()
        .map(|(k, v)| {
            let k: String = k
                .to_string()
                .chars()
                .filter(|c| !c.is_control())
                .map(|c| if c == '"' || c == '\\' { '\'' } else { c })
                .collect();
            format!("\"{k}\":{v}")
        })
        .collect::<Vec<_>>()
        .join(",")
}
