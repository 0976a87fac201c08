//! The frame driver: runs nested CALL/CREATE without recursing on the native stack.
//!
//! A frame that reaches CALL*/CREATE* suspends with a [`Message`]. The driver sets the callee up
//! (depth limit, journal checkpoint, value transfer, precompile dispatch, EIP-7702 code
//! resolution, CREATE address derivation and collision check), pushes its frame on a heap-allocated
//! stack and loops; when a frame finishes, the driver commits or reverts its checkpoint, deposits
//! created code, and resumes the parent with the result. The Rust stack depth is constant, so a
//! 1024-deep EVM call chain runs on a 2 MiB thread. Native and interpreted frames share the loop.
//!
//! A frame with a program runs natively until the program hands it over (a block whose checks
//! fail, a jump target it has not compiled); with a region program ([`Program::entries`]) the
//! interpreter runs it only until it reaches a block start the region compiled, and native code
//! takes it back there. The interpreter always executes at least one instruction first, so a
//! hand-over at a block start cannot bounce back and forth.

use crate::bytecode::Bytecode;
use crate::interpreter::{
    delegation_target, Action, Frame, FrameResult, Message, MessageKind, Tracer, Watch,
};
use crate::jit::Program;
use crate::precompiles::{PrecompileFork, Precompiles};
use crate::profile::Profile;
use alloy_primitives::{Address, Bytes, B256, U256};
use ferrite_runtime::gas::{self, Gas};
use ferrite_runtime::host::Checkpoint;
use ferrite_runtime::{EnvWords, ExitCode, Host, SpecId};
use std::cell::OnceCell;
use std::sync::Arc;

/// The precompile set in force in `spec`.
pub fn precompiles(spec: SpecId) -> &'static Precompiles {
    use SpecId::*;
    let fork = match spec {
        Frontier | Homestead | Tangerine | SpuriousDragon => PrecompileFork::Homestead,
        Byzantium | Constantinople | Petersburg => PrecompileFork::Byzantium,
        Istanbul => PrecompileFork::Istanbul,
        Berlin | London | Merge | Shanghai => PrecompileFork::Berlin,
        Cancun => PrecompileFork::Cancun,
        Prague => PrecompileFork::Prague,
        Osaka => PrecompileFork::Osaka,
    };
    Precompiles::for_fork(fork)
}

/// The address of a contract created by `creator` with `nonce` (CREATE).
pub fn create_address(creator: Address, nonce: u64) -> Address {
    creator.create(nonce)
}

/// The address of a contract created by CREATE2.
pub fn create2_address(creator: Address, salt: U256, initcode: &[u8]) -> Address {
    creator.create2_from_code(salt.to_be_bytes::<32>(), initcode)
}

/// Decides, per frame, whether a native program runs it: the seam between the frame driver and
/// whoever owns compiled code (the [`Engine`](crate::Engine), with tiering and a budgeted cache,
/// or the fixed choices of [`crate::sources`]).
pub trait ProgramSource {
    /// The program for `code` under `spec`, or `None` to interpret this frame.
    fn program(&self, code: &Arc<Bytecode>, spec: SpecId) -> Option<Arc<Program>>;

    /// The analysed code for `raw` (a called account's code, `hash = keccak256(raw)`), its
    /// program and, without one, where to profile it: what the driver asks for every call
    /// frame. The default takes the code from the process-wide [`Bytecode::cached_with_hash`]
    /// and asks [`program`](Self::program) and [`profile`](Self::profile); an owner of a code
    /// cache (the [`Engine`](crate::engine::Engine)) answers from one look-up.
    fn load(&self, raw: &Bytes, hash: B256, spec: SpecId) -> Loaded {
        let code = Bytecode::cached_with_hash(raw, hash);
        let program = self.program(&code, spec);
        let profile = match program {
            None => self.profile(&code, spec),
            Some(_) => None,
        };
        Loaded {
            code,
            program,
            profile,
            usage: None,
        }
    }

    /// The program for initcode (a CREATE's input, never profiled): by default
    /// [`program`](Self::program).
    fn load_initcode(&self, code: &Arc<Bytecode>, spec: SpecId) -> Loaded {
        Loaded {
            code: code.clone(),
            program: self.program(code, spec),
            profile: None,
            usage: None,
        }
    }

    /// Where to count the instructions of an interpreted frame of `code` (asked only for frames
    /// without a program); `None`, the default, runs the plain interpreter loop.
    fn profile(&self, _code: &Arc<Bytecode>, _spec: SpecId) -> Option<Arc<Profile>> {
        None
    }
}

/// A [`ProgramSource`] that interprets every frame.
#[derive(Clone, Copy, Debug, Default)]
pub struct Interpret;

impl ProgramSource for Interpret {
    fn program(&self, _: &Arc<Bytecode>, _: SpecId) -> Option<Arc<Program>> {
        None
    }
}

/// What [`ProgramSource::load`] found for a call frame's code.
#[derive(Debug)]
pub struct Loaded {
    /// The analysed code.
    pub code: Arc<Bytecode>,
    /// The native program to run it with, if any.
    pub program: Option<Arc<Program>>,
    /// Where the interpreter counts its instructions, if it is to be profiled.
    pub profile: Option<Arc<Profile>>,
    /// Where a region program's runs are reported (the owner's tiering evidence), if anywhere.
    pub usage: Option<Arc<dyn RegionObserver>>,
}

/// Told, after each run of a frame with a region program, how many instructions the interpreter
/// ran for it (its cold code) and, when the frame finished, the gas it used: the evidence an
/// owner of programs (the engine) uses to replace a region that no longer covers the work.
pub trait RegionObserver: Send + Sync + std::fmt::Debug {
    /// Counts one run of a frame.
    fn record(&self, interpreted: u64, gas: u64);
}

struct Scope {
    frame: Frame,
    program: Option<Arc<Program>>,
    profile: Option<Arc<Profile>>,
    usage: Option<Arc<dyn RegionObserver>>,
    checkpoint: Checkpoint,
    created: Option<Address>,
}

enum Started {
    Frame(Box<Scope>),
    Done(FrameResult),
}

/// A result that hands all gas back and pushes 0: a call that could not start (depth limit,
/// insufficient balance, nonce overflow). It is not a revert of executed code, so no return data.
fn not_started(gas_limit: u64) -> FrameResult {
    FrameResult::new(ExitCode::Revert, Gas::new(gas_limit))
}

/// A result that consumed all gas.
fn halted(exit: ExitCode, gas_limit: u64) -> FrameResult {
    let mut g = Gas::new(gas_limit);
    g.remaining = 0;
    FrameResult::new(exit, g)
}

/// Runs `msg` and all frames it spawns to completion in the interpreter.
pub fn execute<H: Host, T: Tracer>(host: &mut H, msg: Message, tracer: &mut T) -> FrameResult {
    execute_with(host, msg, tracer, &Interpret)
}

/// Runs one frame until it finishes or suspends: natively when it has a program (continuing in
/// the interpreter if the program hands over, and back in native code at the next entry of a
/// region program), else in the interpreter (counting into the frame's profile, if any).
fn run_scope<H: Host, T: Tracer>(
    scope: &mut Scope,
    host: &mut H,
    tracer: &mut T,
    env: &OnceCell<EnvWords>,
) -> Action {
    let frame = &mut scope.frame;
    let Some(p) = &scope.program else {
        return match &scope.profile {
            None => crate::interpreter::run(frame, host, tracer),
            Some(profile) => {
                let watch = Watch {
                    profile: Some(profile),
                    entries: None,
                };
                match crate::interpreter::run_watched(frame, host, tracer, watch) {
                    (Some(action), _) => action,
                    (None, _) => unreachable!("no entries are watched"),
                }
            }
        };
    };
    let mut interpreted = 0;
    let action = loop {
        let words = p
            .reads_env()
            .then(|| env.get_or_init(|| EnvWords::new(host.env())));
        match p.run(frame, host, words) {
            ExitCode::Interpret => {}
            e => break frame.finish(e),
        }
        let Some(entries) = p.entries() else {
            return crate::interpreter::run(frame, host, tracer);
        };
        let watch = Watch {
            profile: None,
            entries: Some(entries),
        };
        match crate::interpreter::run_watched(frame, host, tracer, watch) {
            (Some(action), n) => {
                interpreted += n;
                break action;
            }
            (None, n) => interpreted += n,
        }
    };
    if let Some(usage) = &scope.usage {
        let gas = match &action {
            Action::Done(r) => frame.msg.gas_limit.saturating_sub(r.gas.remaining),
            Action::Call(_) => 0,
        };
        usage.record(interpreted, gas);
    }
    action
}

/// Runs `msg` and all frames it spawns to completion; `source` picks native programs.
pub fn execute_with<H: Host, T: Tracer>(
    host: &mut H,
    msg: Message,
    tracer: &mut T,
    source: &dyn ProgramSource,
) -> FrameResult {
    run_frames(host, msg, None, tracer, source)
}

/// Runs `msg` with `code` as the code of its top frame (EVMC style: "execute this code with this
/// message") instead of the code at `msg.code_address`; nested calls load their code from the
/// host as usual. For a create message, `code` is the initcode (it replaces `msg.input`).
pub fn execute_code<H: Host, T: Tracer>(
    host: &mut H,
    mut msg: Message,
    code: Bytes,
    tracer: &mut T,
    source: &dyn ProgramSource,
) -> FrameResult {
    match msg.kind {
        MessageKind::Call(_) => run_frames(host, msg, Some(code), tracer, source),
        MessageKind::Create { .. } => {
            msg.input = code;
            run_frames(host, msg, None, tracer, source)
        }
    }
}

fn run_frames<H: Host, T: Tracer>(
    host: &mut H,
    msg: Message,
    code: Option<Bytes>,
    tracer: &mut T,
    source: &dyn ProgramSource,
) -> FrameResult {
    let spec = host.spec();
    // The environment does not change during a transaction: compiled code reads its words,
    // converted once, when a frame first runs native code (interpreted work never needs them).
    let env = OnceCell::new();
    let mut stack: Vec<Box<Scope>> = Vec::new();
    match start(host, msg, code, None, spec, source) {
        Started::Frame(s) => stack.push(s),
        Started::Done(r) => return r,
    }
    loop {
        let Some(top) = stack.last_mut() else {
            unreachable!("the loop returns when the last frame finishes")
        };
        match run_scope(top, host, tracer, &env) {
            Action::Call(msg) => {
                match start(host, *msg, None, Some(top.frame.call_input()), spec, source) {
                    Started::Frame(s) => stack.push(s),
                    Started::Done(r) => top.frame.resume(r),
                }
            }
            Action::Done(result) => {
                let Some(scope) = stack.pop() else {
                    unreachable!("a frame just finished")
                };
                let result = finish(host, *scope, result, spec);
                match stack.last_mut() {
                    Some(parent) => parent.frame.resume(result),
                    None => return result,
                }
            }
        }
    }
}

/// Sets up the frame of `msg`; `code` replaces the code at `msg.code_address` (calls only).
/// `caller_input` is the input of a call made by a frame, still in its memory
/// ([`Frame::call_input`]): a precompile reads it there, a callee with code gets a copy.
fn start<H: Host>(
    host: &mut H,
    mut msg: Message,
    code: Option<Bytes>,
    caller_input: Option<&[u8]>,
    spec: SpecId,
    source: &dyn ProgramSource,
) -> Started {
    if msg.depth > gas::CALL_DEPTH_LIMIT {
        return Started::Done(not_started(msg.gas_limit));
    }
    match msg.kind {
        MessageKind::Call(kind) => {
            let checkpoint = host.checkpoint();
            if let Some((from, to)) = msg.transfer() {
                if !host.transfer(from, to, msg.value) {
                    host.checkpoint_revert(checkpoint);
                    return Started::Done(not_started(msg.gas_limit));
                }
            } else if kind == crate::interpreter::CallKind::StaticCall {
                // Like geth's zero-value AddBalance: the callee counts as touched (EIP-161).
                host.touch(msg.target);
            }
            let input = caller_input.unwrap_or(&msg.input);
            if let Some(r) = precompiles(spec).run(&msg.code_address, input, msg.gas_limit) {
                return Started::Done(match r {
                    Ok(out) => {
                        host.checkpoint_commit();
                        let mut g = Gas::new(msg.gas_limit);
                        g.remaining -= out.gas_used;
                        FrameResult {
                            exit: ExitCode::Return,
                            output: out.output,
                            gas: g,
                            created: None,
                        }
                    }
                    Err(_) => {
                        host.checkpoint_revert(checkpoint);
                        halted(ExitCode::PrecompileError, msg.gas_limit)
                    }
                });
            }
            let (code, hash) = match code {
                Some(c) => {
                    let hash = alloy_primitives::keccak256(&c);
                    (c, hash)
                }
                None => {
                    let (mut code, mut hash) = host.code_with_hash(msg.code_address);
                    if spec.is_enabled_in(SpecId::Prague) {
                        if let Some(delegate) = delegation_target(&code) {
                            (code, hash) = host.code_with_hash(delegate);
                        }
                    }
                    (code, hash)
                }
            };
            if code.is_empty() {
                host.checkpoint_commit();
                return Started::Done(FrameResult::new(ExitCode::Stop, Gas::new(msg.gas_limit)));
            }
            if let Some(input) = caller_input {
                msg.input = Bytes::copy_from_slice(input);
            }
            let Loaded {
                code,
                program,
                profile,
                usage,
            } = source.load(&code, hash, spec);
            let frame = Frame::new(msg, code, spec);
            Started::Frame(Box::new(Scope {
                frame,
                program,
                profile,
                usage,
                checkpoint,
                created: None,
            }))
        }
        MessageKind::Create { salt } => {
            if host.balance(msg.caller).data < msg.value {
                return Started::Done(not_started(msg.gas_limit));
            }
            let Some(nonce) = host.bump_nonce(msg.caller) else {
                return Started::Done(not_started(msg.gas_limit));
            };
            let address = match salt {
                None => create_address(msg.caller, nonce),
                Some(s) => create2_address(msg.caller, s, &msg.input),
            };
            host.access_account(address);
            let checkpoint = host.checkpoint();
            if !host.create_account(address) {
                host.checkpoint_revert(checkpoint);
                return Started::Done(halted(ExitCode::CreateCollision, msg.gas_limit));
            }
            host.transfer(msg.caller, address, msg.value);
            msg.target = address;
            msg.code_address = address;
            let code = Arc::new(Bytecode::new(std::mem::take(&mut msg.input)));
            let Loaded { program, usage, .. } = source.load_initcode(&code, spec);
            let frame = Frame::new(msg, code, spec);
            Started::Frame(Box::new(Scope {
                frame,
                program,
                profile: None,
                usage,
                checkpoint,
                created: Some(address),
            }))
        }
    }
}

fn finish<H: Host>(
    host: &mut H,
    scope: Scope,
    mut result: FrameResult,
    spec: SpecId,
) -> FrameResult {
    let Some(address) = scope.created else {
        if result.exit.is_success() {
            host.checkpoint_commit();
        } else {
            host.checkpoint_revert(scope.checkpoint);
        }
        return result;
    };
    if !result.exit.is_success() {
        host.checkpoint_revert(scope.checkpoint);
        return result;
    }
    let code = std::mem::take(&mut result.output);
    let limit = result.gas.limit;
    let fail = |host: &mut H, exit| {
        host.checkpoint_revert(scope.checkpoint);
        halted(exit, limit)
    };
    if spec.is_enabled_in(SpecId::SpuriousDragon) && code.len() > gas::MAX_CODE_SIZE {
        return fail(host, ExitCode::CreateContractSizeLimit);
    }
    if spec.is_enabled_in(SpecId::London) && code.first() == Some(&0xef) {
        return fail(host, ExitCode::CreateContractStartingWithEF);
    }
    let deposit = gas::CODE_DEPOSIT * code.len() as u64;
    if !result.gas.charge(deposit) {
        if spec.is_enabled_in(SpecId::Homestead) {
            return fail(host, ExitCode::OutOfGas);
        }
        // Frontier: the contract is created without code.
    } else {
        host.set_code(address, code);
    }
    host.checkpoint_commit();
    result.created = Some(address);
    result
}
