//! Differential fuzzing: the same generated call run on several engines, compared field by field.
//!
//! An *engine* is any `fn(&CallConfig) -> Outcome`: ferrite's interpreter ([`ferrite_interp`]),
//! ferrite's JIT tier ([`ferrite_jit`]) and, with the `revm-oracle` feature, revm
//! (`revm_oracle::revm_run`). [`compare`] runs a case on every engine and reports the first field
//! in which one disagrees with the first engine. Programs come from the seeded generator in
//! [`gen`]. On a divergence, [`minimize`] shrinks the case while it still diverges the same way
//! and [`reproducer`] prints it ready to paste: hex code, input, fork, and the traces of both
//! sides up to the first difference.
//!
//! Used by `ferrite fuzz`, the integration tests (`tests/common` re-exports this module and
//! includes `revm_oracle.rs` itself so the tests need no feature) and the `cargo fuzz` target in
//! `fuzz/`.

#[cfg(feature = "revm-oracle")]
pub mod adapter;
pub mod gen;
#[cfg(feature = "revm-oracle")]
pub mod revm_oracle;

use ferrite::bytecode::Bytecode;
use ferrite::frame::ProgramSource;
use ferrite::interpreter::{NoTracer, Tracer};
use ferrite::jit::{Program, Tier};
use ferrite::profile::Profile;
use ferrite::runtime::{Address, SpecId, B256, U256};
use ferrite_state::call::{CallConfig, CallOutcome};
use ferrite_state::Mode;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// ferrite's interpreter through `ferrite_state::call::run` (`Mode::Interp`, whatever `cfg.mode` says).
pub fn ferrite_interp(cfg: &CallConfig) -> Outcome {
    let mut cfg = cfg.clone();
    cfg.mode = Mode::Interp;
    outcome_of(ferrite_state::call::run(&cfg))
}

/// ferrite's JIT tier through `ferrite_state::call::run_with` and a [`FreshJit`] (every frame runs as
/// Cranelift code; code the JIT refuses falls back to the interpreter). Programs are compiled for
/// this call and freed after it, so a long fuzzing run does not accumulate compiled code.
pub fn ferrite_jit(cfg: &CallConfig) -> Outcome {
    let mut cfg = cfg.clone();
    cfg.mode = Mode::Jit;
    outcome_of(ferrite_state::call::run_with(
        &cfg,
        &mut NoTracer,
        &FreshJit::default(),
    ))
}

/// The same as [`ferrite_jit`] with every program compiled whole at the baseline tier (large
/// programs then run as several functions, see `ferrite::jit`'s chunks).
pub fn ferrite_baseline(cfg: &CallConfig) -> Outcome {
    let mut cfg = cfg.clone();
    cfg.mode = Mode::Jit;
    let source = FreshJit {
        tier: Tier::Baseline,
        ..FreshJit::default()
    };
    outcome_of(ferrite_state::call::run_with(&cfg, &mut NoTracer, &source))
}

/// A compiled program, or `None` when the JIT refused the code.
type Compiled = Option<Arc<Program>>;

/// A [`ProgramSource`] that compiles every code it is asked for (once per code and fork) and keeps
/// the programs only as long as it lives, unlike [`Mode::Jit`]'s process-wide cache.
#[derive(Default)]
pub struct FreshJit {
    /// The tier it compiles at.
    pub tier: Tier,
    programs: RefCell<HashMap<(B256, SpecId), Compiled>>,
}

impl ProgramSource for FreshJit {
    fn program(&self, code: &Arc<Bytecode>, spec: SpecId) -> Option<Arc<Program>> {
        self.programs
            .borrow_mut()
            .entry((code.hash(), spec))
            .or_insert_with(|| {
                ferrite::jit::compile_at(code.clone(), spec, self.tier)
                    .ok()
                    .map(Arc::new)
            })
            .clone()
    }
}

/// Share of the profiled instructions a fuzzing region program covers: low enough that most
/// cases run hot and cold blocks alternately (frames cross between the tiers often), high
/// enough that something is compiled.
pub const FUZZ_REGION_COVERAGE: f64 = 0.6;

/// ferrite's region programs: the call runs once in the interpreter, profiling every code it
/// executes; each code's hot region ([`FUZZ_REGION_COVERAGE`]) is compiled (at the baseline or
/// the optimized tier, by the parity of the code's length); the call runs again (fresh state)
/// with those programs, the interpreter running cold blocks.
pub fn ferrite_region(cfg: &CallConfig) -> Outcome {
    let profiler = RegionJit::default();
    ferrite_state::call::run_with(cfg, &mut NoTracer, &profiler);
    let source = RegionJit {
        profiles: profiler.profiles,
        compiling: true,
        ..RegionJit::default()
    };
    outcome_of(ferrite_state::call::run_with(cfg, &mut NoTracer, &source))
}

/// A [`ProgramSource`] that profiles every code (while `compiling` is false) or runs each code
/// with a region program compiled from its profile.
#[derive(Default)]
pub struct RegionJit {
    profiles: RefCell<HashMap<B256, Arc<Profile>>>,
    compiling: bool,
    programs: RefCell<HashMap<(B256, SpecId), Compiled>>,
}

impl ProgramSource for RegionJit {
    fn program(&self, code: &Arc<Bytecode>, spec: SpecId) -> Option<Arc<Program>> {
        if !self.compiling {
            return None;
        }
        let counts = self.profiles.borrow().get(&code.hash())?.counts();
        self.programs
            .borrow_mut()
            .entry((code.hash(), spec))
            .or_insert_with(|| {
                // Both tiers, by the parity of the code's length.
                let tier = if code.raw().len() % 2 == 0 {
                    ferrite::jit::Tier::Baseline
                } else {
                    ferrite::jit::Tier::Optimized
                };
                let cov = FUZZ_REGION_COVERAGE;
                ferrite::jit::compile_region_at(code.clone(), spec, &counts, cov, tier)
                    .ok()
                    .map(Arc::new)
            })
            .clone()
    }

    fn profile(&self, code: &Arc<Bytecode>, _: SpecId) -> Option<Arc<Profile>> {
        if self.compiling {
            return None;
        }
        let mut p = self.profiles.borrow_mut();
        let len = code.raw().len();
        Some(
            p.entry(code.hash())
                .or_insert_with(|| Arc::new(Profile::new(len)))
                .clone(),
        )
    }
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
    ferrite_state::call::run_traced(&cfg, &mut t);
    t.0
}

/// Two line traces (see [`trace_line`]) around the first line where they differ: the step
/// count of each, then up to 8 lines of context before and 2 after.
pub fn trace_divergence(a_name: &str, a: &[String], b_name: &str, b: &[String]) -> String {
    let first = first_trace_difference(a, b);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "traces: {a_name} {} steps, {b_name} {} steps; first difference at step {first}",
        a.len(),
        b.len()
    );
    let w = a_name.len().max(b_name.len());
    for i in first.saturating_sub(8)..(first + 3) {
        let _ = writeln!(
            s,
            "  {i:>6} {a_name:>w$}: {}",
            a.get(i).map_or("-", |s| s.as_str())
        );
        let _ = writeln!(
            s,
            "  {i:>6} {b_name:>w$}: {}",
            b.get(i).map_or("-", |s| s.as_str())
        );
    }
    s
}

/// Index of the first line where two traces differ (the shorter length if one is a prefix).
pub fn first_trace_difference(a: &[String], b: &[String]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
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
        let _ = writeln!(report, "  {name}: {}", summary(o));
    }
    Some(report)
}

/// ferrite's interpreter (reference) against ferrite's JIT tier, whole programs and regions.
pub const INTERP_VS_JIT: [(&str, Engine); 3] = [
    ("interp", ferrite_interp),
    ("jit", ferrite_jit),
    ("region", ferrite_region),
];

/// The four-way comparison: ferrite's interpreter (reference), ferrite's JIT (whole programs
/// and regions), revm.
#[cfg(feature = "revm-oracle")]
pub const INTERP_JIT_REVM: [(&str, Engine); 4] = [
    ("interp", ferrite_interp),
    ("jit", ferrite_jit),
    ("region", ferrite_region),
    ("revm", revm_oracle::revm_run),
];

/// A [`Tracer`] counting executed instructions per opcode (every frame, every depth).
#[derive(Clone, Debug)]
pub struct OpcodeCounter(pub [u64; 256]);

impl Default for OpcodeCounter {
    fn default() -> Self {
        OpcodeCounter([0; 256])
    }
}

impl Tracer for OpcodeCounter {
    fn step(&mut self, _frame: &ferrite::interpreter::Frame, opcode: u8) {
        self.0[opcode as usize] += 1;
    }
}

impl OpcodeCounter {
    /// Adds another counter's counts.
    pub fn merge(&mut self, other: &OpcodeCounter) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a += b;
        }
    }
}

/// ferrite's interpreter with an opcode counter.
pub fn ferrite_interp_counted(cfg: &CallConfig, counter: &mut OpcodeCounter) -> Outcome {
    let mut cfg = cfg.clone();
    cfg.mode = Mode::Interp;
    outcome_of(ferrite_state::call::run_traced(&cfg, counter))
}

/// The class of an outcome's status: `success`, `revert`, `outOfGas`, `panic` or `otherHalt`.
pub fn status_class(status: &str) -> &'static str {
    match status {
        "Stop" | "Return" | "SelfDestruct" => "success",
        "Revert" => "revert",
        "OutOfGas" => "outOfGas",
        s if s.starts_with("panic") => "panic",
        _ => "otherHalt",
    }
}

/// The instruction boundaries of `code`: `(start, end)` of each opcode with its immediate.
pub fn instructions(code: &[u8]) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    let mut pc = 0;
    while pc < code.len() {
        let op = code[pc];
        let imm = if (0x60..=0x7f).contains(&op) {
            (op - 0x5f) as usize
        } else {
            0
        };
        let end = (pc + 1 + imm).min(code.len());
        v.push((pc, end));
        pc = end;
    }
    v
}

/// The field (and disagreeing engine) of the first divergence, `None` if all agree.
fn divergence_key(engines: &[(&str, Engine)], cfg: &CallConfig) -> Option<(String, &'static str)> {
    let outcomes = run_all(engines, cfg);
    engines
        .iter()
        .zip(&outcomes)
        .skip(1)
        .find_map(|((name, _), o)| {
            first_difference(&outcomes[0], o).map(|(f, _, _)| (name.to_string(), f))
        })
}

/// Limits of [`minimize`].
#[derive(Clone, Copy, Debug)]
pub struct MinimizeBudget {
    /// Most candidate cases run.
    pub max_runs: usize,
    /// Most wall time.
    pub max_time: Duration,
}

impl Default for MinimizeBudget {
    fn default() -> Self {
        MinimizeBudget {
            max_runs: 2_000,
            max_time: Duration::from_secs(120),
        }
    }
}

/// Shrinks a diverging case while it still diverges the same way (same disagreeing engine, same
/// first differing field): drops other accounts, pre-set storage, calldata and call value, then
/// removes instructions (whole opcodes with their immediates, halving chunks down to one) from
/// the main code and from every other account's code. Returns `cfg` unchanged if it does not
/// diverge.
pub fn minimize(
    engines: &[(&str, Engine)],
    cfg: &CallConfig,
    budget: MinimizeBudget,
) -> CallConfig {
    let Some(key) = divergence_key(engines, cfg) else {
        return cfg.clone();
    };
    let start = Instant::now();
    let mut runs = 0usize;
    let mut best = cfg.clone();
    let mut still = |c: &CallConfig| -> bool {
        if runs >= budget.max_runs || start.elapsed() > budget.max_time {
            return false;
        }
        runs += 1;
        divergence_key(engines, c).as_ref() == Some(&key)
    };

    // Whole accounts, storage, input, value.
    let mut i = 0;
    while i < best.accounts.len() {
        let mut c = best.clone();
        c.accounts.remove(i);
        if still(&c) {
            best = c;
        } else {
            i += 1;
        }
    }
    for edit in 0..3 {
        let mut c = best.clone();
        match edit {
            0 if !c.storage.is_empty() => c.storage.clear(),
            1 if !c.input.is_empty() => c.input = Default::default(),
            2 if !c.value.is_zero() => c.value = U256::ZERO,
            _ => continue,
        }
        if still(&c) {
            best = c;
        }
    }

    // Instructions of the main code (slot usize::MAX) and of every account's code.
    let slots: Vec<usize> = std::iter::once(usize::MAX)
        .chain(0..best.accounts.len())
        .collect();
    for slot in slots {
        let code_of = |c: &CallConfig| -> Vec<u8> {
            if slot == usize::MAX {
                c.code.to_vec()
            } else {
                c.accounts[slot].1.code.to_vec()
            }
        };
        let with_code = |c: &CallConfig, code: Vec<u8>| -> CallConfig {
            let mut c = c.clone();
            if slot == usize::MAX {
                c.code = code.into();
            } else {
                let old = &c.accounts[slot].1;
                let mut acc = ferrite_state::state::Account::with_code(code.into());
                acc.balance = old.balance;
                acc.nonce = old.nonce;
                acc.storage = old.storage.clone();
                c.accounts[slot].1 = acc;
            }
            c
        };
        let mut chunk = instructions(&code_of(&best)).len().div_ceil(2).max(1);
        loop {
            let mut i = 0;
            loop {
                let code = code_of(&best);
                let ins = instructions(&code);
                if i >= ins.len() {
                    break;
                }
                let (from, to) = (ins[i].0, ins[(i + chunk).min(ins.len()) - 1].1);
                let mut shorter = code[..from].to_vec();
                shorter.extend_from_slice(&code[to..]);
                let c = with_code(&best, shorter);
                if still(&c) {
                    best = c;
                } else {
                    i += chunk;
                }
            }
            if chunk == 1 {
                break;
            }
            chunk = chunk.div_ceil(2);
        }
    }
    best
}

/// ferrite's interpreter's EIP-3155 trace of `cfg` (one JSON line per instruction).
pub fn eip3155_trace(cfg: &CallConfig) -> Vec<String> {
    let mut cfg = cfg.clone();
    cfg.mode = Mode::Interp;
    let mut buf = Vec::new();
    {
        let mut t = ferrite::trace::Eip3155::new(&mut buf);
        ferrite_state::call::run_traced(&cfg, &mut t);
    }
    String::from_utf8_lossy(&buf)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Most trace lines a reproducer shows before the first difference.
const TRACE_TAIL: usize = 40;

fn tail(lines: &[String], end: usize) -> String {
    let end = end.min(lines.len());
    let from = end.saturating_sub(TRACE_TAIL);
    let mut s = String::new();
    if from > 0 {
        let _ = writeln!(s, "    … {from} earlier steps");
    }
    for l in &lines[from..end] {
        let _ = writeln!(s, "    {l}");
    }
    s
}

/// A summary line of an outcome.
pub fn summary(o: &Outcome) -> String {
    format!(
        "status {} gas_used {} refund {} output {} logs {} slots {}",
        o.status,
        o.gas_used,
        o.gas_refund,
        hex(&o.output),
        o.logs.len(),
        o.storage.len()
    )
}

/// A ready-to-paste reproducer of a (minimised) diverging case: the divergence report, a
/// `ferrite run` command line (exact when the case has no extra accounts or storage), the case as
/// a Rust `CallConfig`, and the traces up to the first difference. ferrite's interpreter is
/// traced in EIP-3155; against revm (engine named `revm`, with the `revm-oracle` feature) both
/// sides are also traced line by line ([`trace_line`]) and shown up to the first differing line;
/// against the JIT, which has no per-instruction trace, the JIT's final state is shown.
pub fn reproducer(engines: &[(&str, Engine)], cfg: &CallConfig) -> String {
    let outcomes = run_all(engines, cfg);
    let mut s = String::new();
    match divergence_report(engines, &outcomes, cfg) {
        Some(r) => s.push_str(&r),
        None => s.push_str("(no divergence)\n"),
    }
    let extra = !cfg.accounts.is_empty() || !cfg.storage.is_empty();
    let _ = writeln!(
        s,
        "reproduce{}:\n  ferrite run --code {} --input {} --fork {} --gas {} --value {:#x} --engine interp --trace",
        if extra { " (the command drops the extra accounts/storage)" } else { "" },
        if cfg.code.is_empty() { "00".into() } else { hex(&cfg.code) },
        hex(&cfg.input),
        cfg.spec.name(),
        cfg.gas_limit,
        cfg.value
    );
    let _ = writeln!(s, "as a test case:\n{}", rust_case(cfg));
    let eip = eip3155_trace(cfg);
    let shown = revm_traces(engines, &outcomes, cfg, &eip, &mut s);
    if !shown {
        let _ = writeln!(
            s,
            "EIP-3155 trace of ferrite's interpreter ({} steps; compiled code has no \
             per-instruction trace):",
            eip.len()
        );
        s.push_str(&tail(&eip, eip.len()));
        for ((name, _), o) in engines.iter().zip(&outcomes) {
            let _ = writeln!(s, "final state {name}: {}", summary(o));
            for ((a, k), v) in &o.storage {
                let _ = writeln!(s, "    {a}[{k:#x}] = {v:#x}");
            }
        }
    }
    s
}

/// Against a disagreeing revm: both sides' traces up to the first differing step.
#[cfg(feature = "revm-oracle")]
fn revm_traces(
    engines: &[(&str, Engine)],
    outcomes: &[Outcome],
    cfg: &CallConfig,
    eip: &[String],
    s: &mut String,
) -> bool {
    for ((name, _), o) in engines.iter().zip(outcomes).skip(1) {
        if *name == "revm" && *o != outcomes[0] {
            let f = ferrite_trace(cfg);
            let (_, r) = revm_oracle::revm_trace(cfg);
            let first = first_trace_difference(&f, &r);
            let _ = writeln!(
                s,
                "EIP-3155 trace of ferrite's interpreter up to the first step that differs from \
                 revm (step {first} of {}; revm took {}):",
                f.len(),
                r.len()
            );
            s.push_str(&tail(eip, first + 1));
            let _ = writeln!(s, "revm's trace up to that step:");
            s.push_str(&tail(&r, first + 1));
            s.push_str(&trace_divergence("ferrite", &f, "revm", &r));
            return true;
        }
    }
    false
}

/// Without the revm oracle there is no revm trace.
#[cfg(not(feature = "revm-oracle"))]
fn revm_traces(
    _: &[(&str, Engine)],
    _: &[Outcome],
    _: &CallConfig,
    _: &[String],
    _: &mut String,
) -> bool {
    false
}

/// `cfg` as Rust source building a `CallConfig` (for `tests/regressions.rs`).
pub fn rust_case(cfg: &CallConfig) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "    let mut cfg = CallConfig::new(common::unhex(\"{}\"), common::unhex(\"{}\"));",
        hex(&cfg.code),
        hex(&cfg.input)
    );
    let _ = writeln!(s, "    cfg.spec = SpecId::{:?};", cfg.spec);
    let _ = writeln!(s, "    cfg.gas_limit = {};", cfg.gas_limit);
    if !cfg.value.is_zero() {
        let _ = writeln!(s, "    cfg.value = U256::from({}u128);", cfg.value);
    }
    for (k, v) in &cfg.storage {
        let _ = writeln!(
            s,
            "    cfg.storage.push((U256::from_str_radix(\"{k:x}\", 16).unwrap(), U256::from_str_radix(\"{v:x}\", 16).unwrap()));"
        );
    }
    for (a, acc) in &cfg.accounts {
        let _ = writeln!(
            s,
            "    let mut acc = Account::with_code(common::unhex(\"{}\").into());",
            hex(&acc.code)
        );
        let _ = writeln!(
            s,
            "    acc.nonce = {}; acc.balance = U256::from_str_radix(\"{:x}\", 16).unwrap();",
            acc.nonce, acc.balance
        );
        for (k, v) in &acc.storage {
            let _ = writeln!(
                s,
                "    acc.storage.insert(U256::from_str_radix(\"{k:x}\", 16).unwrap(), U256::from_str_radix(\"{v:x}\", 16).unwrap());"
            );
        }
        let _ = writeln!(s, "    cfg.accounts.push((address!(\"{a:x}\"), acc));");
    }
    s
}

/// Interprets raw fuzzer bytes as a case (for the `cargo fuzz` target): the first byte picks the
/// fork (Cancun or Prague) and the gas limit; the rest is the code, called with empty calldata.
pub fn raw_case(data: &[u8]) -> CallConfig {
    let (head, code) = data.split_first().map_or((0, &[][..]), |(h, c)| (*h, c));
    let mut cfg = CallConfig::new(code.to_vec(), Vec::new());
    cfg.spec = if head & 1 == 0 {
        SpecId::Cancun
    } else {
        SpecId::Prague
    };
    cfg.gas_limit = match (head >> 1) & 3 {
        0 => 10_000_000,
        1 => 1_000_000,
        2 => 100_000,
        _ => 5_000 + u64::from(head) * 100,
    };
    cfg
}

/// A structured case from raw fuzzer bytes: their first 8 bytes (little endian, zero-padded) are
/// the generator's seed, the fork alternates with the seed's low bit.
pub fn seeded_case(data: &[u8]) -> CallConfig {
    let mut seed = [0u8; 8];
    let n = data.len().min(8);
    seed[..n].copy_from_slice(&data[..n]);
    let seed = u64::from_le_bytes(seed);
    let spec = if seed & 1 == 0 {
        SpecId::Cancun
    } else {
        SpecId::Prague
    };
    gen::case(seed, spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The interpreter with every ADD reported as a different status: a stand-in for a buggy
    /// engine.
    fn add_breaks(cfg: &CallConfig) -> Outcome {
        let mut o = ferrite_interp(cfg);
        if instructions(&cfg.code)
            .iter()
            .any(|&(s, _)| cfg.code[s] == 0x01)
        {
            o.status = "Broken".into();
        }
        o
    }

    #[test]
    fn minimize_keeps_the_divergence_and_drops_the_rest() {
        let engines: [(&str, Engine); 2] = [("interp", ferrite_interp), ("buggy", add_breaks)];
        // PUSH1 1 PUSH1 2 ADD PUSH1 0 MSTORE PUSH2 0x0102 POP PUSH1 32 PUSH1 0 RETURN
        let code = unhex("600160020160005261010250602060005ff3");
        let mut cfg = CallConfig::new(code, vec![1, 2, 3]);
        cfg.spec = SpecId::Cancun;
        assert!(compare(&engines, &cfg).is_err());
        let min = minimize(&engines, &cfg, MinimizeBudget::default());
        assert_eq!(hex(&min.code), "01", "only the ADD is left");
        assert!(min.input.is_empty());
        let r = reproducer(&engines, &min);
        assert!(r.contains("ferrite run --code 01 "), "{r}");
        assert!(r.contains("\"opName\":\"ADD\""), "{r}");
    }

    #[test]
    fn instructions_keep_push_immediates() {
        assert_eq!(
            instructions(&[0x60, 0x01, 0x61, 0x02, 0x03, 0x01, 0x7f]),
            vec![(0, 2), (2, 5), (5, 6), (6, 7)]
        );
    }
}
