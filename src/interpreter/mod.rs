//! The interpreter tier: the dispatch loop over a [`Frame`].
//!
//! Per instruction it checks the fork, the stack bounds and the static gas with one look-up in
//! the per-fork [`check_table`] (one 8-byte entry, one unsigned compare for both stack bounds),
//! then runs the shared instruction body from `ferrite_runtime::instructions` — the same bodies
//! the JIT calls through `ferrite_exec`, so each opcode's meaning has one definition. A frame
//! suspends at CALL*/CREATE* ([`Action::Call`]) and the frame driver ([`crate::frame`]) resumes
//! it, so nothing recurses.
//!
//! What keeps the per-instruction overhead low (evmone baseline's recipe, within the shared
//! bodies): the loop runs a [`Running`], the frame with its stack length, gas left and program
//! counter in locals, so they stay in registers across instructions and the frame's fields are
//! written only where something reads them (cold bodies, the tracer, the loop's exit; see
//! `ferrite_runtime::instructions::Running`); the code slice is a local of the loop too; the
//! bodies index the stack without re-checking what the check table checked
//! (`ferrite_runtime::stack`); PUSHn, DUPn and SWAPn have an arm each with their size a constant,
//! so PUSH reads its immediate with whole-word loads; JUMP/JUMPI test one bit of the code's
//! jump-destination bitmap; a run of JUMPDESTs is charged at once, not one trip through the loop
//! each (only where no tracer watches the steps). Not done: charging static gas per basic block (evmone advanced;
//! tried on the frame's fields and reverted, see `benches/PERFORMANCE.md`).
//!
//! The loop is generic over a [`Tracer`]; the default [`NoTracer`] compiles away (its loop has no
//! call before the dispatch jump, and no write-back of the hot state for it: [`Tracer::ACTIVE`]).

use crate::profile::Profile;
pub use ferrite_runtime::frame::{
    delegation_target, Action, CallKind, Frame, FrameResult, Message, MessageKind,
    DELEGATION_PREFIX,
};
use ferrite_runtime::instructions::Running;
use ferrite_runtime::opcode::{check_table, Check};
use ferrite_runtime::{ExitCode, Host};

/// Per-instruction observer (EIP-3155 tracing). The default no-op compiles away.
pub trait Tracer {
    /// False for a tracer whose calls do nothing: the loop then skips writing the frame's
    /// fields back for them.
    const ACTIVE: bool = true;
    /// Called before each instruction.
    fn step(&mut self, _frame: &Frame, _opcode: u8) {}
    /// Called after each instruction with its exit code (also when it suspends or halts).
    fn step_end(&mut self, _frame: &Frame, _exit: ExitCode) {}
}

/// The tracer that does nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoTracer;
impl Tracer for NoTracer {
    const ACTIVE: bool = false;
}

/// Runs `frame` in the interpreter from its current `pc` until it finishes or suspends.
pub fn run<H: Host + ?Sized, T: Tracer>(frame: &mut Frame, host: &mut H, tracer: &mut T) -> Action {
    let exit = run_loop(frame, host, tracer);
    frame.finish(exit)
}

#[inline(always)]
fn run_loop<H: Host + ?Sized, T: Tracer>(
    frame: &mut Frame,
    host: &mut H,
    tracer: &mut T,
) -> ExitCode {
    let checks = check_table(frame.spec());
    // Held for the loop (one reference count) so the code's address and length live in
    // registers rather than being reloaded through the frame at every instruction.
    let code = frame.shared_code();
    let code = code.padded();
    let mut run = Running::new(frame);
    if !T::ACTIVE {
        // Dropping `run` writes the hot state back to the frame.
        return run.run(host, checks);
    }
    loop {
        let exit = step_traced(&mut run, host, tracer, checks, code);
        if !exit.is_continue() {
            // Dropping `run` writes the hot state back to the frame.
            return exit;
        }
    }
}

/// One instruction at the program counter, between the tracer's two calls (each shown the
/// frame written back).
#[inline(always)]
fn step_traced<H: Host + ?Sized, T: Tracer>(
    run: &mut Running<'_>,
    host: &mut H,
    tracer: &mut T,
    checks: &[Check; 256],
    code: &[u8],
) -> ExitCode {
    // In bounds: `code` is the padded code, and no instruction moves the program counter past
    // its padding (see `ferrite_runtime::bytecode`).
    let opcode = code[run.pc()];
    if T::ACTIVE {
        tracer.step(run.synced(), opcode);
    }
    let exit = run.step(host, opcode, &checks[opcode as usize]);
    if T::ACTIVE {
        tracer.step_end(run.synced(), exit);
    }
    exit
}

/// What [`run_watched`] watches besides running the frame.
#[derive(Clone, Copy, Debug, Default)]
pub struct Watch<'a> {
    /// Counts every instruction executed, by pc.
    pub profile: Option<&'a Profile>,
    /// By pc: where a region program takes the frame back ([`crate::jit::Program::entries`]).
    pub entries: Option<&'a [bool]>,
}

/// Runs `frame` like [`run`], recording each instruction in `watch.profile`; stops with `None`
/// when, after at least one instruction (so a region that just handed over is not re-entered
/// at the same pc), the frame reaches a pc marked in `watch.entries`. Also returns the
/// instructions executed.
pub fn run_watched<H: Host + ?Sized, T: Tracer>(
    frame: &mut Frame,
    host: &mut H,
    tracer: &mut T,
    watch: Watch<'_>,
) -> (Option<Action>, u64) {
    let checks = check_table(frame.spec());
    let code = frame.shared_code();
    let code = code.padded();
    let mut steps = 0u64;
    let mut run = Running::new(frame);
    let stop = loop {
        if let Some(p) = watch.profile {
            p.record(run.pc());
        }
        steps += 1;
        let exit = step_traced(&mut run, host, tracer, checks, code);
        if !exit.is_continue() {
            break Some(exit);
        }
        if let Some(e) = watch.entries {
            if e.get(run.pc()).copied().unwrap_or(false) {
                break None;
            }
        }
    };
    // Writes the hot state back before the frame is finished or handed over.
    drop(run);
    (stop.map(|exit| frame.finish(exit)), steps)
}
