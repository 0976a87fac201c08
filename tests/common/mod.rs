//! Differential-testing harness shared by the integration tests.
//!
//! An *engine* is any `fn(&CallConfig) -> Outcome`: ferrite's interpreter ([`ferrite_interp`]),
//! ferrite's JIT tier ([`ferrite_jit`]), revm ([`revm_oracle::revm_run`]). [`compare`] runs a
//! case on every engine and reports the first field in which one disagrees with the first
//! engine. Programs come from the seeded generator in [`gen`]; [`print_trace_divergence`] shows
//! where ferrite's and revm's instruction traces part.
//!
//! Each test crate uses a different subset of this module.
#![allow(
    dead_code,
    reason = "each test crate uses a different subset of the harness"
)]

pub mod gen;
pub mod revm_oracle;

use ferrite::call::{CallConfig, CallOutcome};
use ferrite::frame::Mode;
use ferrite::runtime::{Address, B256, U256};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};

pub use revm_oracle::{revm_run, revm_trace};

/// What one engine observed for one call, in ferrite's terms.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// ferrite's `ExitCode` name (`Stop`, `Return`, `Revert`, `OutOfGas`, …); other engines map
    /// their status onto the same names.
    pub status: String,
    /// Execution gas of the top frame: limit − left, before refunds, without intrinsic gas (the
    /// whole limit after an exceptional halt).
    pub gas_used: u64,
    /// The top frame's raw refund counter (not capped by EIP-3529); 0 unless successful.
    pub gas_refund: i64,
    /// RETURN/REVERT data.
    pub output: Vec<u8>,
    /// Logs (emitter, topics, data); empty unless successful.
    pub logs: Vec<(Address, Vec<B256>, Vec<u8>)>,
    /// Non-zero storage slots of every account after the transaction.
    pub storage: BTreeMap<(Address, U256), U256>,
}

/// An engine under comparison.
pub type Engine = fn(&CallConfig) -> Outcome;

/// ferrite's interpreter through `ferrite::call::run` (`Mode::Interp`, whatever `cfg.mode` says).
pub fn ferrite_interp(cfg: &CallConfig) -> Outcome {
    let mut cfg = cfg.clone();
    cfg.mode = Mode::Interp;
    outcome_of(ferrite::call::run(&cfg))
}

/// ferrite's JIT tier through `ferrite::call::run` (`Mode::Jit`: frames run as Cranelift code;
/// code the JIT refuses falls back to the interpreter).
pub fn ferrite_jit(cfg: &CallConfig) -> Outcome {
    let mut cfg = cfg.clone();
    cfg.mode = Mode::Jit;
    outcome_of(ferrite::call::run(&cfg))
}

/// A `CallOutcome` in harness terms.
pub fn outcome_of(r: CallOutcome) -> Outcome {
    let mut storage = BTreeMap::new();
    for (addr, acc) in &r.state.accounts {
        for (k, v) in &acc.storage {
            if !v.is_zero() {
                storage.insert((*addr, *k), *v);
            }
        }
    }
    Outcome {
        status: r.exit.name().to_string(),
        gas_used: r.gas_used,
        gas_refund: r.gas_refund,
        output: r.output.to_vec(),
        logs: r
            .logs
            .iter()
            .map(|l| (l.address, l.topics.clone(), l.data.to_vec()))
            .collect(),
        storage,
    }
}

/// One trace line: call depth (1 = top frame), pc, opcode name, gas left before the
/// instruction, stack height and the top three items. Both engines' tracers print this format so
/// traces can be diffed line by line.
pub fn trace_line(depth: usize, pc: usize, opcode: u8, gas: u64, stack: &[U256]) -> String {
    let top: Vec<String> = stack
        .iter()
        .rev()
        .take(3)
        .map(|v| format!("{v:#x}"))
        .collect();
    format!(
        "d{depth} pc{pc} {} gas {gas} h{} [{}]",
        ferrite::runtime::OPCODE_INFO[opcode as usize].name,
        stack.len(),
        top.join(" ")
    )
}

struct LineTracer(Vec<String>);

impl ferrite::interpreter::Tracer for LineTracer {
    fn step(&mut self, frame: &ferrite::interpreter::Frame, opcode: u8) {
        self.0.push(trace_line(
            frame.msg.depth + 1,
            frame.pc(),
            opcode,
            frame.gas().remaining,
            frame.stack().as_slice(),
        ));
    }
}

/// ferrite's interpreter with a per-instruction trace (see [`trace_line`]).
pub fn ferrite_trace(cfg: &CallConfig) -> Vec<String> {
    let mut cfg = cfg.clone();
    cfg.mode = Mode::Interp;
    let mut t = LineTracer(Vec::new());
    ferrite::call::run_traced(&cfg, &mut t);
    t.0
}

/// Runs both traces and prints them around the first line where they differ.
pub fn print_trace_divergence(cfg: &CallConfig) {
    let f = ferrite_trace(cfg);
    let (_, r) = revm_trace(cfg);
    let first = f
        .iter()
        .zip(&r)
        .position(|(a, b)| a != b)
        .unwrap_or(f.len().min(r.len()));
    println!(
        "traces: ferrite {} steps, revm {} steps; first difference at step {first}",
        f.len(),
        r.len()
    );
    for i in first.saturating_sub(8)..(first + 3) {
        println!("  {i:>6} ferrite: {}", f.get(i).map_or("-", |s| s.as_str()));
        println!("  {i:>6}    revm: {}", r.get(i).map_or("-", |s| s.as_str()));
    }
}

/// Lower-case hex without prefix.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Parses hex (optional `0x`, `-` or empty for nothing).
pub fn unhex(s: &str) -> Vec<u8> {
    let s = s.trim();
    let s = s.strip_prefix("0x").unwrap_or(s);
    if s == "-" {
        return Vec::new();
    }
    assert!(s.len() % 2 == 0, "odd-length hex");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// Runs an engine, turning a panic into an `Outcome` whose status is `panic: <message>`.
pub fn run_engine(engine: Engine, cfg: &CallConfig) -> Outcome {
    match catch_unwind(AssertUnwindSafe(|| engine(cfg))) {
        Ok(o) => o,
        Err(e) => {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "non-string panic".into());
            Outcome {
                status: format!("panic: {msg}"),
                ..Outcome::default()
            }
        }
    }
}

/// A readable description of a case: fork, gas, value, code, calldata, storage, accounts.
pub fn describe(cfg: &CallConfig) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "  fork:      {}", cfg.spec.name());
    let _ = writeln!(s, "  gas_limit: {}", cfg.gas_limit);
    let _ = writeln!(s, "  value:     {}", cfg.value);
    let _ = writeln!(s, "  code:      {}", hex(&cfg.code));
    let _ = writeln!(s, "  calldata:  {}", hex(&cfg.input));
    if !cfg.storage.is_empty() {
        let st: Vec<String> = cfg
            .storage
            .iter()
            .map(|(k, v)| format!("{k:#x}:{v:#x}"))
            .collect();
        let _ = writeln!(s, "  storage:   {}", st.join(";"));
    }
    for (a, acc) in &cfg.accounts {
        let _ = writeln!(
            s,
            "  account {a}: balance {} nonce {} code {} storage {:?}",
            acc.balance,
            acc.nonce,
            hex(&acc.code),
            acc.storage
        );
    }
    s
}

/// The first field in which `b` differs from `a`, as `(field, a's value, b's value)`.
pub fn first_difference(a: &Outcome, b: &Outcome) -> Option<(&'static str, String, String)> {
    if a.status != b.status {
        return Some(("status", a.status.clone(), b.status.clone()));
    }
    if a.gas_used != b.gas_used {
        return Some((
            "gas_used",
            a.gas_used.to_string(),
            format!(
                "{} (diff {:+})",
                b.gas_used,
                b.gas_used as i128 - a.gas_used as i128
            ),
        ));
    }
    if a.gas_refund != b.gas_refund {
        return Some((
            "gas_refund",
            a.gas_refund.to_string(),
            b.gas_refund.to_string(),
        ));
    }
    if a.output != b.output {
        return Some(("output", hex(&a.output), hex(&b.output)));
    }
    if a.logs != b.logs {
        let fmt = |l: &[(Address, Vec<B256>, Vec<u8>)]| {
            l.iter()
                .map(|(a, t, d)| format!("[{a} topics {t:?} data {}]", hex(d)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Some(("logs", fmt(&a.logs), fmt(&b.logs)));
    }
    if a.storage != b.storage {
        let mut only_a = Vec::new();
        let mut only_b = Vec::new();
        for (k, v) in &a.storage {
            if b.storage.get(k) != Some(v) {
                only_a.push(format!("{}[{:#x}]={v:#x}", k.0, k.1));
            }
        }
        for (k, v) in &b.storage {
            if a.storage.get(k) != Some(v) {
                only_b.push(format!("{}[{:#x}]={v:#x}", k.0, k.1));
            }
        }
        return Some(("storage", only_a.join(" "), only_b.join(" ")));
    }
    None
}

/// Runs `cfg` on every engine and compares each with the first; `Err` is a readable report (the
/// first differing field per disagreeing engine, the case, every engine's summary).
pub fn compare(engines: &[(&str, Engine)], cfg: &CallConfig) -> Result<(), String> {
    compare_outcome(engines, cfg).map(|_| ())
}

/// [`compare`], returning the first engine's outcome when all agree.
pub fn compare_outcome(engines: &[(&str, Engine)], cfg: &CallConfig) -> Result<Outcome, String> {
    let outcomes = run_all(engines, cfg);
    match divergence_report(engines, &outcomes, cfg) {
        None => Ok(outcomes.into_iter().next().unwrap_or_default()),
        Some(report) => Err(report),
    }
}

/// Runs `cfg` on every engine (panics become `panic: …` statuses).
pub fn run_all(engines: &[(&str, Engine)], cfg: &CallConfig) -> Vec<Outcome> {
    assert!(!engines.is_empty(), "no engines");
    engines.iter().map(|(_, e)| run_engine(*e, cfg)).collect()
}

/// `None` when every outcome equals the first; otherwise a readable report: per disagreeing
/// engine the first differing field, then the case and every engine's summary.
pub fn divergence_report(
    engines: &[(&str, Engine)],
    outcomes: &[Outcome],
    cfg: &CallConfig,
) -> Option<String> {
    let (ref_name, _) = engines[0];
    let reference = &outcomes[0];
    let mut report = String::new();
    for ((name, _), o) in engines.iter().zip(outcomes).skip(1) {
        if let Some((field, a, b)) = first_difference(reference, o) {
            let _ = writeln!(report, "divergence in `{field}`: {ref_name} vs {name}");
            let _ = writeln!(report, "  {ref_name:>8}: {a}");
            let _ = writeln!(report, "  {name:>8}: {b}");
        }
    }
    if report.is_empty() {
        return None;
    }
    report.push_str(&describe(cfg));
    for ((name, _), o) in engines.iter().zip(outcomes) {
        let _ = writeln!(
            report,
            "  {name}: status {} gas_used {} refund {} output {} logs {} slots {}",
            o.status,
            o.gas_used,
            o.gas_refund,
            hex(&o.output),
            o.logs.len(),
            o.storage.len()
        );
    }
    Some(report)
}

/// The engines compared by default: ferrite's interpreter (reference) and revm.
pub const INTERP_VS_REVM: [(&str, Engine); 2] = [("ferrite", ferrite_interp), ("revm", revm_run)];

/// The three-way comparison: ferrite's interpreter (reference), ferrite's JIT, revm.
pub const INTERP_JIT_REVM: [(&str, Engine); 3] = [
    ("ferrite", ferrite_interp),
    ("jit", ferrite_jit),
    ("revm", revm_run),
];
