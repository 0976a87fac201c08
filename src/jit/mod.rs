//! The JIT tier: analysed bytecode → Cranelift IR → native code, run on the shared [`Frame`].
//!
//! Cranelift compiles each program to a code buffer and a relocation list; `code.rs` maps it in
//! memory ferrite owns (written, then made read-execute: never writable and executable at once)
//! and writes the helper addresses itself, so dropping the [`Program`] unmaps exactly its code.
//! Helpers come from `ferrite_runtime::builtins` — the same list declares their names and
//! signatures and resolves their addresses. Code loaded from the disk cache
//! ([`crate::engine`]) takes the same path (`from_image`).
//!
//! Compiled code and the interpreter share the frame layout, so a compiled frame hands over to the
//! interpreter at a block boundary whenever the exact halt must be reproduced (see
//! [`lower`]), and suspends at CALL/CREATE like an interpreted frame.

mod chunks;
pub(crate) mod code;
mod copies;
pub mod lower;

use crate::analysis::region::Region;
use crate::analysis::{self, Analysis};
use cranelift_codegen::ir::{types, AbiParam, Signature, UserFuncName};
use cranelift_codegen::isa::{OwnedTargetIsa, TargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::FunctionBuilderContext;
use ferrite_runtime::builtins::{AbiType, Builtin, HostRef};
use ferrite_runtime::bytecode::Bytecode;
use ferrite_runtime::escape::Entry;
use ferrite_runtime::{EnvWords, ExitCode, Frame, Host, SpecId};
use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest code compiled (bytes); larger code (only initcode can be) is interpreted.
pub const MAX_CODE_SIZE: usize = 2 * 0x6000;
/// Most basic blocks compiled per program.
pub const MAX_BLOCKS: usize = 30_000;
/// Largest estimated IR size compiled per program (see [`ir_weight`]): keeps the worst
/// 24 KiB shapes around a second of compile time instead of several (24 KiB of MLOADs, each with
/// an inline fast path and a slow path, weighed 245,760 and took 3.9 s and 700 MB to compile).
pub const MAX_IR_WEIGHT: usize = 100_000;

/// A rough measure of the IR a program (or the region marked by block index) lowers to: 2 per
/// instruction, 8 per MLOAD/MSTORE (inline fast path plus helper path), 3 per block (entry
/// checks and branches).
pub fn ir_weight(a: &Analysis, region: Option<&[bool]>) -> usize {
    a.blocks
        .iter()
        .enumerate()
        .filter(|(i, _)| region.is_none_or(|r| r.get(*i).copied().unwrap_or(false)))
        .map(|(_, bl)| block_weight(a, bl))
        .sum()
}

/// One block's share of [`ir_weight`].
fn block_weight(a: &Analysis, bl: &analysis::Block) -> usize {
    use ferrite_runtime::opcode::op;
    let instrs: usize = a.instrs[bl.instrs.clone()]
        .iter()
        .map(|i| match i.opcode {
            op::MLOAD | op::MSTORE => 8,
            _ => 2,
        })
        .sum();
    instrs + 3
}

/// Why the JIT did not compile a program. The code is then interpreted: none of these is an
/// error of the EVM call.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CompileError {
    /// The code is longer than [`MAX_CODE_SIZE`].
    CodeTooLarge {
        /// Bytes of code.
        bytes: usize,
    },
    /// The code has more than [`MAX_BLOCKS`] blocks.
    TooManyBlocks {
        /// Blocks of the analysis.
        blocks: usize,
    },
    /// The code (or region) would lower to more IR than [`MAX_IR_WEIGHT`] allows.
    TooMuchIr {
        /// Its estimated IR weight ([`ir_weight`]).
        weight: usize,
    },
    /// The target ISA is unknown, unsupported or misconfigured.
    Isa(String),
    /// Cranelift failed to compile or link the function (a bug if it happens: reported, and
    /// the code is interpreted).
    Codegen(String),
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompileError::CodeTooLarge { bytes } => {
                write!(
                    f,
                    "code of {bytes} bytes exceeds the JIT limit of {MAX_CODE_SIZE}"
                )
            }
            CompileError::TooManyBlocks { blocks } => {
                write!(f, "{blocks} blocks exceed the JIT limit of {MAX_BLOCKS}")
            }
            CompileError::TooMuchIr { weight } => {
                write!(
                    f,
                    "IR weight {weight} exceeds the JIT limit {MAX_IR_WEIGHT}"
                )
            }
            CompileError::Isa(e) => write!(f, "target ISA: {e}"),
            CompileError::Codegen(e) => write!(f, "code generation: {e}"),
        }
    }
}

impl std::error::Error for CompileError {}

/// A compiled program: owns its code memory (mapped by `code.rs`, unmapped when dropped).
pub struct Program {
    code: code::CodeMemory,
    patches: Vec<code::Patch>,
    /// The functions, one per chunk (see `chunks.rs`).
    functions: Vec<Entry>,
    /// By pc: the function entered there and its entry index ([`chunks::entry_table`]).
    entry: Vec<u32>,
    analysis: Arc<Analysis>,
    compile_time: Duration,
    code_bytes: usize,
    hot: Option<Vec<bool>>,
    entries: Option<Vec<bool>>,
    blocks: usize,
    instrs: usize,
    tier: Tier,
    /// Whether the code has an instruction compiled code reads the environment's words for
    /// ([`lower::reads_env`]).
    reads_env: bool,
}

impl Program {
    /// The analysis it was compiled from (its code, fork, blocks).
    pub fn analysis(&self) -> &Arc<Analysis> {
        &self.analysis
    }

    /// Whether the program reads the transaction's environment words ([`EnvWords`]): the
    /// driver then passes them to [`Program::run`].
    pub fn reads_env(&self) -> bool {
        self.reads_env
    }

    /// Time spent compiling (analysis + Cranelift).
    pub fn compile_time(&self) -> Duration {
        self.compile_time
    }

    /// Bytes of machine code.
    pub fn code_bytes(&self) -> usize {
        self.code_bytes
    }

    /// For a region program (compiled from a profile, see [`compile_region`]): by pc, the
    /// block starts where the interpreter hands a frame back to it. `None`: the whole program
    /// was compiled, and a frame it hands over stays in the interpreter.
    pub fn entries(&self) -> Option<&[bool]> {
        self.entries.as_deref()
    }

    /// Machine-code functions: more than one when the baseline tier cut the program into
    /// chunks (`chunks.rs`).
    pub fn functions(&self) -> usize {
        self.functions.len()
    }

    /// Blocks compiled.
    pub fn blocks(&self) -> usize {
        self.blocks
    }

    /// Instructions compiled.
    pub fn instrs(&self) -> usize {
        self.instrs
    }

    /// The tier it was compiled at.
    pub fn tier(&self) -> Tier {
        self.tier
    }

    /// For a region program: the blocks compiled, by block index (`None`: the whole program).
    pub fn hot_blocks(&self) -> Option<&[bool]> {
        self.hot.as_deref()
    }

    /// The machine code as stored on disk: relocation sites zeroed (see `code::unpatched`).
    pub(crate) fn image(&self) -> Vec<u8> {
        code::unpatched(self.code.bytes(), &self.patches)
    }

    /// Its relocations (helper addresses written into the code).
    pub(crate) fn patches(&self) -> &[code::Patch] {
        &self.patches
    }
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program")
            .field("code_bytes", &self.code_bytes)
            .field("compile_time", &self.compile_time)
            .finish()
    }
}

impl Program {
    /// Runs the frame natively from `frame.pc` until it finishes, suspends, or hands over to the
    /// interpreter ([`ExitCode::Interpret`]).
    /// `env` is the words of `host.env()` ([`EnvWords::new`]), which compiled code reads in
    /// place: the driver makes them once per transaction, and only for a program that reads
    /// them ([`Program::reads_env`]; one that does and gets `None` makes its own): a call that
    /// reads none (a proxy) paid for them every time (`benches/PERFORMANCE.md`).
    pub fn run(&self, frame: &mut Frame, host: &mut dyn Host, env: Option<&EnvWords>) -> ExitCode {
        let own;
        let env: *const EnvWords = match (self.reads_env, env) {
            (false, _) => std::ptr::null(),
            (true, Some(words)) => words,
            (true, None) => {
                own = EnvWords::new(host.env());
                &own
            }
        };
        let mut href = HostRef { host, env };
        // The helpers reach the host through the frame while compiled code runs it.
        frame.set_jit_host(&mut href);
        let mut at = chunks::entry_at(&self.entry, frame.pc());
        loop {
            let (k, index) = chunks::split(at);
            // SAFETY: each function was compiled for this program's code and fork, and the
            // frame runs that code (the caller looked the program up by code hash and fork);
            // `index` is the function's entry at `frame.pc` (from the table built with the same
            // plan as the functions), or none, which hands over. Compiled code accesses the
            // frame only at `builtins::offsets`, within its stack buffer (bounds checked per
            // block), and through the runtime helpers.
            #[cfg(all(debug_assertions, target_arch = "x86_64"))]
            let pinned = pinned_register();
            let code = unsafe { ferrite_runtime::escape::enter(self.functions[k], frame, index) };
            // Compiled code keeps the frame in the pinned register and must restore the
            // caller's value, as the C ABI requires of a callee-saved register.
            #[cfg(all(debug_assertions, target_arch = "x86_64"))]
            debug_assert_eq!(
                pinned,
                pinned_register(),
                "the pinned register was not restored"
            );
            match chunks::next(&self.entry, k, code, frame.pc()) {
                Some(next) => at = next,
                None => {
                    frame.set_jit_host(std::ptr::null_mut());
                    return ExitCode::from_u8(code).unwrap_or(ExitCode::InvalidOperand);
                }
            }
        }
    }
}

/// The value of r15, Cranelift's pinned register on x86-64 (debug builds check that compiled
/// code restores it).
#[cfg(all(debug_assertions, target_arch = "x86_64"))]
fn pinned_register() -> u64 {
    let v: u64;
    // SAFETY: reads a register into an output; no memory, stack or flags touched.
    unsafe {
        std::arch::asm!("mov {}, r15", out(reg) v, options(nomem, nostack, preserves_flags));
    }
    v
}

/// How hard Cranelift works on a program.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Tier {
    /// regalloc2's backtracking allocator: the fast code. Without Cranelift's e-graph pass
    /// (`opt_level=none`), as at the baseline tier: the lowering already folds what the pass
    /// would (constants, stack traffic within a block), and the pass's hoisting and sharing
    /// lengthened live ranges, so the code ran no faster or slower with it, for 20–45% more
    /// compile time (figures in `benches/PERFORMANCE.md`).
    #[default]
    Optimized,
    /// The single-pass register allocator: a fraction of the compile time,
    /// slower code (spills at every block boundary; figures in `benches/PERFORMANCE.md`). The
    /// engine runs it until the optimized program is ready.
    Baseline,
}

/// The most blocks the baseline tier gives regalloc2's single-pass allocator: its time grows
/// with the square of the block count on long chains of small blocks (EEST's
/// `jumpi_fallthrough`, 8,191 blocks: 9.7 s against 0.4 s for the backtracking allocator;
/// the two cross near 300 such blocks), so the baseline tier compiles larger programs as
/// several functions of at most this many blocks each (`chunks.rs`; figures in
/// `benches/PERFORMANCE.md`).
pub const SINGLE_PASS_MAX_BLOCKS: usize = 256;

/// Shared Cranelift flags for `tier`; the IR verifier only
/// in debug builds (it cost a measurable share of compile time and checks our own lowering,
/// which the tests exercise).
fn flags(tier: Tier) -> Result<settings::Flags, CompileError> {
    let mut flags = settings::builder();
    let set = |f: &mut settings::Builder, k: &str, v: &str| {
        f.set(k, v).map_err(|e| CompileError::Isa(e.to_string()))
    };
    // Both tiers skip the e-graph pass (see `Tier::Optimized`).
    set(&mut flags, "opt_level", "none")?;
    // The frame pointer lives in the pinned register (`lower::Lower::frame`).
    set(&mut flags, "enable_pinned_reg", "true")?;
    if tier == Tier::Baseline {
        set(&mut flags, "regalloc_algorithm", "single_pass")?;
    }
    set(
        &mut flags,
        "enable_verifier",
        if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        },
    )?;
    Ok(settings::Flags::new(flags))
}

/// The ISA for the host machine, optimizing.
pub fn host_isa() -> Result<OwnedTargetIsa, CompileError> {
    host_isa_for(Tier::Optimized)
}

/// The host's ISA at `tier`, built once per process: detecting the CPU's features and building
/// the flags took a few microseconds of every compile.
fn host_isa_for(tier: Tier) -> Result<OwnedTargetIsa, CompileError> {
    type Cached = std::sync::OnceLock<Result<OwnedTargetIsa, CompileError>>;
    static ISAS: [Cached; 2] = [Cached::new(), Cached::new()];
    let slot = &ISAS[usize::from(tier == Tier::Optimized)];
    slot.get_or_init(|| {
        let isa = cranelift_native::builder().map_err(|e| CompileError::Isa(e.to_string()))?;
        isa.finish(flags(tier)?)
            .map_err(|e| CompileError::Isa(e.to_string()))
    })
    .clone()
}

/// The ISA for a target triple (cross-compilation, e.g. `aarch64-unknown-linux-gnu`).
pub fn isa_for(triple: &str) -> Result<OwnedTargetIsa, CompileError> {
    let t: target_lexicon::Triple = triple
        .parse()
        .map_err(|e: target_lexicon::ParseError| CompileError::Isa(e.to_string()))?;
    cranelift_codegen::isa::lookup(t)
        .map_err(|e| CompileError::Isa(e.to_string()))?
        .finish(flags(Tier::Optimized)?)
        .map_err(|e| CompileError::Isa(e.to_string()))
}

fn abi(isa: &dyn TargetIsa, t: AbiType) -> AbiParam {
    AbiParam::new(match t {
        AbiType::Ptr => isa.pointer_type(),
        AbiType::I32 => types::I32,
        AbiType::I64 => types::I64,
        AbiType::I8 | AbiType::Void => types::I8,
    })
}

fn signature(isa: &dyn TargetIsa, params: &[AbiType], ret: AbiType) -> Signature {
    let mut s = Signature::new(isa.default_call_conv());
    s.params.extend(params.iter().map(|p| abi(isa, *p)));
    if ret != AbiType::Void {
        s.returns.push(abi(isa, ret));
    }
    s
}

fn entry_signature(isa: &dyn TargetIsa) -> Signature {
    signature(isa, &[AbiType::Ptr, AbiType::I32], AbiType::I8)
}

fn check_limits(a: &Analysis, region: Option<&Region>) -> Result<(), CompileError> {
    if a.code.raw().len() > MAX_CODE_SIZE {
        return Err(CompileError::CodeTooLarge {
            bytes: a.code.raw().len(),
        });
    }
    if a.blocks.len() > MAX_BLOCKS {
        return Err(CompileError::TooManyBlocks {
            blocks: a.blocks.len(),
        });
    }
    let w = ir_weight(a, region.map(|r| &r.hot[..]));
    if w > MAX_IR_WEIGHT {
        return Err(CompileError::TooMuchIr { weight: w });
    }
    Ok(())
}

/// Compiles all of `code` for `spec` on the host.
pub fn compile(code: Arc<Bytecode>, spec: SpecId) -> Result<Program, CompileError> {
    compile_at(code, spec, Tier::Optimized)
}

/// Compiles all of `code` for `spec` at `tier`.
pub fn compile_at(code: Arc<Bytecode>, spec: SpecId, tier: Tier) -> Result<Program, CompileError> {
    compile_with(code, spec, tier, |_| None)
}

/// The number of Cranelift IR instructions the lowering emits for the program, or for the
/// region a profile selects (`(counts, coverage)` as for [`compile_region`]): the size the
/// compile-speed report (`ferrite bench --compile`) divides compile time by.
pub fn ir_instructions(
    code: Arc<Bytecode>,
    spec: SpecId,
    profile: Option<(&[u32], f64)>,
) -> Result<usize, CompileError> {
    let func = host_function(code, spec, profile)?;
    Ok(func
        .layout
        .blocks()
        .map(|b| func.layout.block_insts(b).count())
        .sum())
}

/// Compiles the region of `code` that `profile` (execution counts by pc, from
/// [`crate::profile::Profile`]) shows hot: the blocks that ran most, until they cover
/// `coverage` of the instructions executed (see [`analysis::region::hot_blocks`]). Frames
/// leave it for the interpreter at a cold block and come back at the next region block.
pub fn compile_region(
    code: Arc<Bytecode>,
    spec: SpecId,
    counts: &[u32],
    coverage: f64,
) -> Result<Program, CompileError> {
    compile_region_at(code, spec, counts, coverage, Tier::Optimized)
}

/// [`compile_region`] at a given tier.
pub fn compile_region_at(
    code: Arc<Bytecode>,
    spec: SpecId,
    counts: &[u32],
    coverage: f64,
    tier: Tier,
) -> Result<Program, CompileError> {
    compile_with(code, spec, tier, |a| {
        Some(Region::from_profile(a, counts, coverage))
    })
}

/// The function being built and the builder's state, kept per thread between compiles (cleared
/// after each), so their buffers keep their capacity instead of growing from empty again: 7% less
/// lowering work, 0.3% less compile work over the benchmark suite's compiles (callgrind). They
/// hold on to the capacity of the thread's largest function (bounded by [`MAX_IR_WEIGHT`]).
///
/// Not the whole `cranelift_codegen::Context`: reusing its register allocator state made compiles
/// about 10% slower (snailtracer), as regalloc2 clears a hash set per bundle it allocates, at a
/// cost that grows with the set's capacity, which a reused state keeps from its largest function.
struct Contexts {
    func: cranelift_codegen::ir::Function,
    builder: FunctionBuilderContext,
}

thread_local! {
    /// This thread's [`Contexts`], while no compile holds them.
    static CONTEXTS: Cell<Option<Box<Contexts>>> = const { Cell::new(None) };
}

/// Runs `f` with this thread's [`Contexts`] (new ones if a compile on this thread holds them or
/// none exist yet), cleared when it returns, whether it fails or not.
fn with_contexts<R>(f: impl FnOnce(&mut Contexts) -> R) -> R {
    let mut c = CONTEXTS.take().unwrap_or_else(|| {
        Box::new(Contexts {
            func: cranelift_codegen::ir::Function::new(),
            builder: FunctionBuilderContext::new(),
        })
    });
    let r = f(&mut c);
    c.func.clear();
    CONTEXTS.set(Some(c));
    r
}

fn compile_with(
    code: Arc<Bytecode>,
    spec: SpecId,
    tier: Tier,
    select: impl FnOnce(&Analysis) -> Option<Region>,
) -> Result<Program, CompileError> {
    let start = Instant::now();
    let analysis = Arc::new(analysis::analyze(code, spec));
    let region = select(&analysis);
    build(analysis, region, tier, start)
}

/// Compiles an analysed program: whole, or the region of the `hot` blocks (by block index, as
/// [`Program::hot_blocks`] returns them) at `tier`. The engine's entry point: it analyses the
/// code once to name the program for the disk cache, then compiles on a miss.
pub fn compile_analysed(
    analysis: Arc<Analysis>,
    hot: Option<Vec<bool>>,
    tier: Tier,
) -> Result<Program, CompileError> {
    let start = Instant::now();
    let region = region_of(&analysis, hot)?;
    build(analysis, region, tier, start)
}

fn region_of(a: &Analysis, hot: Option<Vec<bool>>) -> Result<Option<Region>, CompileError> {
    match hot {
        Some(h) if h.len() != a.blocks.len() => Err(CompileError::Codegen(format!(
            "region of {} blocks for code of {}",
            h.len(),
            a.blocks.len()
        ))),
        Some(h) => Ok(Some(Region::new(a, h))),
        None => Ok(None),
    }
}

fn build(
    analysis: Arc<Analysis>,
    region: Option<Region>,
    tier: Tier,
    start: Instant,
) -> Result<Program, CompileError> {
    check_limits(&analysis, region.as_ref())?;
    let isa = host_isa_for(tier)?;
    let plan = chunks::plan(&analysis, region.as_ref(), tier);
    // Once per program: every chunk's function reads it.
    let memory = lower::MemoryFacts::new(&analysis);
    let compiled = compile_functions(&analysis, &memory, &*isa, &plan.regions)?;
    let mut image = vec![0u8; chunks::header_len(plan.regions.len())];
    let mut patches = Vec::new();
    let mut calls = Vec::new();
    let mut offsets = Vec::with_capacity(plan.regions.len());
    for (bytes, mut p, mut c) in compiled {
        let at = chunks::append(&mut image, &bytes);
        for patch in &mut p {
            patch.offset += at;
        }
        for call in &mut c {
            call.offset += at;
        }
        patches.extend(p);
        calls.extend(c);
        offsets.push(at);
    }
    chunks::write_header(&mut image, &offsets);
    code::link_calls(&mut image, &calls, &mut patches)?;
    assemble(analysis, region, tier, &plan, &image, patches, start)
}

/// Most threads one compile uses for the functions of a program of several.
pub const MAX_COMPILE_THREADS: usize = 4;

/// Compiles the functions of `regions` on up to [`MAX_COMPILE_THREADS`] threads (as
/// many as the machine runs at once): each function is compiled alone, so a program of several
/// compiles in a fraction of the wall time. The first error, in order, is returned.
fn compile_functions(
    a: &Analysis,
    memory: &lower::MemoryFacts,
    isa: &dyn TargetIsa,
    regions: &[Option<Region>],
) -> Result<Vec<Compiled>, CompileError> {
    // Asked once: the standard library reads the cgroup quota files each time (~0.1 ms, a
    // third of a small contract's compile).
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let threads = if regions.len() > 1 {
        let cores =
            *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        cores.min(MAX_COMPILE_THREADS).min(regions.len())
    } else {
        1
    };
    if threads <= 1 {
        return regions
            .iter()
            .map(|r| compile_function(a, memory, isa, r.as_ref()))
            .collect();
    }
    // Costliest first: the last to start are the cheapest, so the threads finish together.
    let mut order: Vec<usize> = (0..regions.len()).collect();
    order.sort_by_key(|k| {
        std::cmp::Reverse(regions[*k].as_ref().map_or(0, |r| chunks::cost(a, &r.hot)))
    });
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let at = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(&k) = order.get(at) else {
                return done;
            };
            let r = &regions[k];
            done.push((k, compile_function(a, memory, isa, r.as_ref())));
        }
    };
    let mut results: Vec<Option<Result<Compiled, CompileError>>> =
        (0..regions.len()).map(|_| None).collect();
    std::thread::scope(|s| {
        // A thread the system will not start leaves its share to the others.
        let helpers: Vec<_> = (1..threads)
            .filter_map(|_| std::thread::Builder::new().spawn_scoped(s, work).ok())
            .collect();
        let mut all = work();
        for h in helpers {
            // A helper that panicked leaves its functions unset: reported below.
            all.extend(h.join().unwrap_or_default());
        }
        for (k, r) in all {
            results[k] = Some(r);
        }
    });
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(CompileError::Codegen("a compile thread failed".into()))))
        .collect()
}

/// One compiled function: its machine code, the absolute addresses to patch in it, and its
/// direct calls (for `code::link_calls`).
type Compiled = (Vec<u8>, Vec<code::Patch>, Vec<code::Call>);

/// Lowers and compiles one function: the blocks of `region` (all without one).
fn compile_function(
    analysis: &Analysis,
    memory: &lower::MemoryFacts,
    isa: &dyn TargetIsa,
    region: Option<&Region>,
) -> Result<Compiled, CompileError> {
    with_contexts(|c| {
        let mut func = std::mem::replace(&mut c.func, cranelift_codegen::ir::Function::new());
        func.signature = entry_signature(isa);
        func.name = UserFuncName::user(0, 0);
        let import = |f: &mut cranelift_codegen::ir::Function, b| import_helper(f, isa, b);
        let imports = lower::Imports::new(&import);
        lower::lower(
            analysis,
            memory,
            &mut func,
            &mut c.builder,
            imports,
            isa.frontend_config(),
            region,
        );
        let mut ctx = cranelift_codegen::Context::for_function(func);
        let r = ctx
            .compile(isa, &mut Default::default())
            .map(|_| ())
            .map_err(|e| CompileError::Codegen(format!("{:?}", e.inner)));
        let r = r.and_then(|()| {
            let compiled = ctx
                .compiled_code()
                .ok_or_else(|| CompileError::Codegen("no compiled code".into()))?;
            let (patches, calls) = code::patches(compiled, &ctx.func)?;
            Ok((compiled.code_buffer().to_vec(), patches, calls))
        });
        c.func = ctx.func;
        r
    })
}

/// A program from machine code compiled earlier (the disk cache's entries): `code` with its
/// relocations `patches` (sites zeroed or not: they are overwritten), for `analysis`, whole or
/// the region of the `hot` blocks, as compiled at `tier`. `start` is when the load began (the
/// program's [`compile_time`](Program::compile_time) is then its load time).
pub(crate) fn from_image(
    analysis: Arc<Analysis>,
    hot: Option<Vec<bool>>,
    tier: Tier,
    code: &[u8],
    patches: Vec<code::Patch>,
    start: Instant,
) -> Result<Program, CompileError> {
    let region = region_of(&analysis, hot)?;
    let plan = chunks::plan(&analysis, region.as_ref(), tier);
    assemble(analysis, region, tier, &plan, code, patches, start)
}

/// The program of the machine code `bytes` (with its `patches`), whose functions compile the
/// regions of the `plan` that `chunks::plan` gave for `region` at `tier`.
fn assemble(
    analysis: Arc<Analysis>,
    region: Option<Region>,
    tier: Tier,
    plan: &chunks::Plan,
    bytes: &[u8],
    patches: Vec<code::Patch>,
    start: Instant,
) -> Result<Program, CompileError> {
    let offsets = chunks::read_header(bytes, plan.regions.len())?;
    let entry = chunks::entry_table(&analysis, plan);
    let memory = code::map(bytes, &patches)?;
    let functions = offsets
        .iter()
        .map(|at| {
            // SAFETY: the header's offsets (checked in bounds and in order by `read_header`) are
            // where `build` placed each function, declared with `entry_signature`, the C ABI of
            // `Entry`; the code stays mapped read-execute as long as the program (which owns
            // `memory`) lives.
            unsafe { std::mem::transmute::<*const u8, Entry>(memory.as_ptr().add(*at as usize)) }
        })
        .collect();
    let entries = region.as_ref().map(|r| {
        let mut e = vec![false; analysis.code.raw().len() + 1];
        for (bl, _) in analysis.blocks.iter().zip(&r.entries).filter(|(_, e)| **e) {
            e[bl.start] = true;
        }
        e
    });
    let hot = |i: &usize| region.as_ref().is_none_or(|r| r.hot[*i]);
    let blocks = (0..analysis.blocks.len()).filter(hot).count();
    let instrs = (0..analysis.blocks.len())
        .filter(hot)
        .map(|i| analysis.blocks[i].instrs.len())
        .sum();
    Ok(Program {
        code: memory,
        patches,
        functions,
        entry,
        compile_time: start.elapsed(),
        code_bytes: bytes.len(),
        hot: region.map(|r| r.hot),
        entries,
        blocks,
        instrs,
        tier,
        reads_env: analysis_reads_env(&analysis),
        analysis,
    })
}

/// Whether any instruction of the code (compiled or not) reads the environment's words in
/// compiled code: the program then needs them to run.
fn analysis_reads_env(a: &Analysis) -> bool {
    a.instrs
        .iter()
        .filter_map(|i| ferrite_runtime::Opcode::from_u8(i.opcode))
        .any(lower::reads_env)
}

/// What code compiled for the host at `tier` (for a program of `blocks` blocks, see [`flags`])
/// depends on besides the EVM code: the target triple, the Cranelift version, the shared flags
/// and the ISA flags (CPU features detected). The disk cache refuses files naming another.
pub(crate) fn host_target(tier: Tier) -> Result<String, CompileError> {
    let isa = host_isa_for(tier)?;
    // Code compiled where helpers escape omits the exit checks after their calls.
    let escapes = match ferrite_runtime::escape::ESCAPES {
        true => " escapes",
        false => "",
    };
    Ok(format!(
        "{} cranelift-0.135 {}{escapes}\n{}{}",
        isa.triple(),
        chunks::plan_constants(),
        isa.flags(),
        isa.isa_flags()
            .iter()
            .map(|v| format!("{v}\n"))
            .collect::<String>()
    ))
}

/// Declares helper `b` in `func` as the user external name `(0, index + 1)` (its index in
/// [`Builtin::ALL`]), colocated: a direct call to a stub in the program's image, which jumps
/// through the helper's address (`code::link_calls`).
fn import_helper(
    func: &mut cranelift_codegen::ir::Function,
    isa: &dyn TargetIsa,
    b: Builtin,
) -> cranelift_codegen::ir::FuncRef {
    use cranelift_codegen::ir::{ExtFuncData, ExternalName, UserExternalName};
    let idx = Builtin::ALL.iter().position(|x| *x == b).unwrap_or(0) as u32;
    let (p, r) = b.signature();
    let sig = func.import_signature(signature(isa, p, r));
    let name = func.declare_imported_user_function(UserExternalName::new(0, idx + 1));
    func.import_function(ExtFuncData {
        name: ExternalName::user(name),
        signature: sig,
        colocated: true,
        patchable: false,
    })
}

/// Builds the function for `analysis` with helpers as plain external names (no module).
fn standalone_function(
    analysis: &Analysis,
    isa: &dyn TargetIsa,
    region: Option<&Region>,
) -> cranelift_codegen::ir::Function {
    let mut func = cranelift_codegen::ir::Function::with_name_signature(
        UserFuncName::user(0, 0),
        entry_signature(isa),
    );
    let import = |f: &mut cranelift_codegen::ir::Function, b| import_helper(f, isa, b);
    let imports = lower::Imports::new(&import);
    let mut fctx = FunctionBuilderContext::new();
    let memory = lower::MemoryFacts::new(analysis);
    lower::lower(
        analysis,
        &memory,
        &mut func,
        &mut fctx,
        imports,
        isa.frontend_config(),
        region,
    );
    func
}

/// Compiles the program for another target without running it (keeps other ISAs building);
/// returns the machine code size.
pub fn compile_for_target(
    code: Arc<Bytecode>,
    spec: SpecId,
    triple: &str,
) -> Result<usize, CompileError> {
    let analysis = analysis::analyze(code, spec);
    check_limits(&analysis, None)?;
    let isa = isa_for(triple)?;
    let func = standalone_function(&analysis, &*isa, None);
    let mut ctx = cranelift_codegen::Context::for_function(func);
    let compiled = ctx
        .compile(&*isa, &mut Default::default())
        .map_err(|e| CompileError::Codegen(format!("{:?}", e.inner)))?;
    Ok(compiled.code_buffer().len())
}

/// Cranelift IR text of the program (`ferrite run --dump-ir`), or of the region a profile
/// selects (`(counts, coverage)` as for [`compile_region`]).
pub fn dump_ir(
    code: Arc<Bytecode>,
    spec: SpecId,
    profile: Option<(&[u32], f64)>,
) -> Result<String, CompileError> {
    Ok(host_function(code, spec, profile)?.display().to_string())
}

/// The host's function for the program, or for the region a profile selects, within the limits
/// (what [`dump_ir`] prints and [`ir_instructions`] counts).
fn host_function(
    code: Arc<Bytecode>,
    spec: SpecId,
    profile: Option<(&[u32], f64)>,
) -> Result<cranelift_codegen::ir::Function, CompileError> {
    let analysis = analysis::analyze(code, spec);
    let region = profile.map(|(c, cov)| Region::from_profile(&analysis, c, cov));
    check_limits(&analysis, region.as_ref())?;
    let isa = host_isa()?;
    Ok(standalone_function(&analysis, &*isa, region.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The baseline tier allocates single-pass, the optimized one with the backtracking
    /// allocator.
    #[test]
    fn tiers_choose_their_allocator() {
        let alloc = |tier| {
            flags(tier)
                .map(|f| f.regalloc_algorithm().to_string())
                .unwrap_or_default()
        };
        assert_eq!(alloc(Tier::Baseline), "single_pass");
        assert_eq!(alloc(Tier::Optimized), "backtracking");
    }
}
