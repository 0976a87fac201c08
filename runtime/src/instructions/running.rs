//! [`Running`]: a frame with its hot state in locals, the interpreter's unit of execution.
//!
//! evmone baseline's recipe within the shared bodies: the stack length (with the buffer's
//! address), the gas left and the program counter live in a value the dispatch loop owns, so
//! they stay in registers from one instruction to the next. Before, every instruction loaded and
//! stored the frame's `stack.len`, `gas.remaining` and `pc` through the `&mut Frame`: the loop
//! calls opaque functions (host calls, cold bodies), so the compiler could not keep the fields in
//! registers, and the store-to-load round trip on the length sat on the dependency chain of
//! every instruction (see `benches/PERFORMANCE.md`, "Per-block checks: tried, reverted").
//!
//! The frame's fields are written back ([`Running::sync`]) wherever something reads them there,
//! and only there: before a body that works on the whole frame (the cold bodies, through
//! [`Running::on_frame`], which reads the length and gas back after), for a tracer
//! ([`Running::synced`]), and when the `Running` is dropped (halts, suspension, hand-over to
//! compiled code, the end of `Frame::execute`). Memory expansion needs only the gas: MLOAD and
//! MSTORE write that one field around it ([`Running::with_gas`]). A `Running` holds the frame's
//! exclusive borrow for its whole life, so nothing can see the frame stale.
//!
//! Trade-off: a cold body pays two stores and two loads more than before; the hot ones (the
//! arithmetic, stack, jumps, memory words, environment reads) pay none.

use crate::frame::Frame;
use crate::opcode::{Check, Opcode, OPCODE_INFO};
use crate::stack::StackTop;
use crate::{ExitCode, Host};
use alloy_primitives::U256;

/// A frame being executed, with its stack length, gas left and program counter held as plain
/// values (see the module docs); dropping it writes them back to the frame.
#[derive(Debug)]
pub struct Running<'f> {
    pub(super) frame: &'f mut Frame,
    pub(super) stack: StackTop,
    /// Gas left (the frame's `gas.remaining`; its limit and refund stay in the frame).
    pub(super) gas: u64,
    /// Program counter; during a body, just past the opcode.
    pub(super) pc: usize,
    /// The frame's padded code ([`Bytecode::padded`](crate::bytecode::Bytecode::padded)), for the opcode fetch and PUSH's
    /// immediates: held here, its address and length are values the loop keeps in registers
    /// (through the frame they were three dependent loads per PUSH: frame, `Arc`, buffer).
    code: *const [u8],
}

impl<'f> Running<'f> {
    /// Takes `frame`'s hot state into locals until dropped.
    #[inline(always)]
    pub fn new(frame: &'f mut Frame) -> Running<'f> {
        Running {
            stack: frame.stack.top(),
            gas: frame.gas.remaining,
            pc: frame.pc,
            code: frame.code.padded(),
            frame,
        }
    }

    /// The frame's padded code.
    #[inline(always)]
    pub(super) fn code(&self) -> &[u8] {
        // SAFETY: `code` points into the buffer of the `Bytecode` behind the frame's
        // `Arc<Bytecode>`, which is never mutated after its analysis (only shared references to
        // it exist). That `Arc` keeps it alive as long as `frame.code` holds it; `frame.code` is
        // `pub(crate)`, only set in `Frame::new`, and the frame is borrowed exclusively by this
        // `Running` for its whole life (bodies get the frame only through `on_frame`/`with_gas`,
        // and none assigns `code`; `on_frame` asserts it in debug builds).
        unsafe { &*self.code }
    }

    /// Program counter (of the next instruction, between instructions).
    #[inline(always)]
    pub fn pc(&self) -> usize {
        self.pc
    }

    /// The frame with its fields exact, for an observer (a tracer): read-only, so the locals
    /// stay valid.
    #[inline(always)]
    pub fn synced(&mut self) -> &Frame {
        self.sync();
        self.frame
    }

    /// Writes the hot state back to the frame.
    #[inline(always)]
    fn sync(&mut self) {
        self.frame.stack.set_len(&self.stack);
        self.frame.gas.remaining = self.gas;
        self.frame.pc = self.pc;
    }

    /// Runs a body that works on the frame's own fields (host state, memory copies, calls,
    /// halts with output): the frame is synced before and the length and gas read back after
    /// (no such body moves the program counter).
    #[inline(always)]
    pub(super) fn on_frame(&mut self, body: impl FnOnce(&mut Frame) -> ExitCode) -> ExitCode {
        self.sync();
        let exit = body(self.frame);
        debug_assert!(core::ptr::eq(self.code, self.frame.code.padded()));
        self.stack = self.frame.stack.top();
        self.gas = self.frame.gas.remaining;
        exit
    }

    /// Runs `body` on the frame with only its gas field exact: memory expansion charges there,
    /// and reads nothing else of the hot state. When `body` does not grow memory the compiler
    /// forwards the stored gas to the load, so the fast path keeps the gas in a register.
    #[inline(always)]
    pub(super) fn with_gas<R>(&mut self, body: impl FnOnce(&mut Frame) -> R) -> R {
        self.frame.gas.remaining = self.gas;
        let r = body(self.frame);
        self.gas = self.frame.gas.remaining;
        r
    }

    /// Charges `cost`; false (and nothing charged) when not enough gas is left.
    #[inline(always)]
    pub(super) fn charge(&mut self, cost: u64) -> bool {
        match self.gas.checked_sub(cost) {
            Some(g) => {
                self.gas = g;
                true
            }
            None => false,
        }
    }

    /// Pops `N` items, top first.
    #[inline(always)]
    pub(super) fn popn<const N: usize>(&mut self) -> [U256; N] {
        let mut out = [U256::ZERO; N];
        for v in out.iter_mut() {
            *v = self.stack.pop();
        }
        out
    }

    /// Executes the instruction `opcode` at the program counter after the checks in `check` (the
    /// entry of [`check_table`](crate::opcode::check_table) for the frame's fork): fork, stack
    /// bounds, static gas. Afterwards the program counter is the next instruction's.
    #[inline(always)]
    pub fn step<H: Host + ?Sized>(&mut self, host: &mut H, opcode: u8, check: &Check) -> ExitCode {
        if !check.admits(self.stack.len()) {
            return self.on_frame(|f| f.check_failed(opcode, check.gas));
        }
        if !self.charge(check.gas as u64) {
            return ExitCode::OutOfGas;
        }
        self.pc += 1;
        self.execute(host, opcode)
    }
}

impl Running<'_> {
    /// Runs instructions from the program counter until one does not continue, and returns its
    /// exit code: the interpreter's loop when nothing observes single steps (the loop of
    /// [`Running::step`] otherwise).
    ///
    /// `checks` is the frame's fork's [`check_table`](crate::opcode::check_table); the caller
    /// holds it so its address stays in a register. Same checks and bodies as `step`; the
    /// difference is the shape: a failed check leaves the loop directly and each arm of the
    /// dispatch tests its own body's exit code (`dispatch!`), so no exit code
    /// flows back to the loop's head.
    #[inline(always)]
    pub fn run<H: Host + ?Sized>(&mut self, host: &mut H, checks: &[Check; 256]) -> ExitCode {
        macro_rules! continue_or_exit {
            ($exit:expr) => {
                match $exit {
                    ExitCode::Continue => continue,
                    exit => return exit,
                }
            };
        }
        loop {
            // In bounds: `code` is the padded code, and no instruction moves the program counter
            // past its padding (see `crate::bytecode`).
            let opcode = self.code()[self.pc];
            let check = &checks[opcode as usize];
            if !check.admits(self.stack.len()) {
                return self.on_frame(|f| f.check_failed(opcode, check.gas));
            }
            if !self.charge(check.gas as u64) {
                return ExitCode::OutOfGas;
            }
            self.pc += 1;
            dispatch!(
                self,
                host,
                opcode,
                continue_or_exit,
                {
                    // SAFETY: an unassigned byte's check entry has `min_len = u16::MAX` (see
                    // `opcode::Check`), which no stack length (at most `STACK_LIMIT`) admits,
                    // so the loop left above.
                    unsafe { core::hint::unreachable_unchecked() }
                },
                self.jumpdests_after(checks[Opcode::JUMPDEST as usize].gas)
            )
        }
    }
}

impl Running<'_> {
    /// After a JUMPDEST: the JUMPDESTs right after it, as many as the gas left pays for at
    /// `cost` each (their check-table charge; they need no stack), in one go. Only
    /// [`Running::run`] does this: nothing watches its single steps. Other code pays one
    /// compare of the next byte.
    #[inline(always)]
    fn jumpdests_after(&mut self, cost: u32) -> ExitCode {
        // In bounds: the padding after the code holds at least one STOP.
        if self.code()[self.pc] == Opcode::JUMPDEST as u8 {
            self.skip_jumpdests(u64::from(cost));
        }
        ExitCode::Continue
    }

    /// The run of JUMPDESTs at the program counter, eight bytes a compare (ipsilon's
    /// `loop_with_many_jumpdests` runs 24,556 per loop iteration, a trip through the loop each
    /// before). Where the gas runs out the loop's next JUMPDEST fails its charge, as it would
    /// have one at a time: same pc, same gas left.
    #[inline(never)]
    fn skip_jumpdests(&mut self, cost: u64) {
        const EIGHT: [u8; 8] = [Opcode::JUMPDEST as u8; 8];
        let afford = self.gas.checked_div(cost).unwrap_or(u64::MAX);
        let code = self.code();
        let mut n = 0usize;
        while (n as u64) + 8 <= afford && code.get(self.pc + n..self.pc + n + 8) == Some(&EIGHT) {
            n += 8;
        }
        while (n as u64) < afford && code[self.pc + n] == Opcode::JUMPDEST as u8 {
            n += 1;
        }
        self.pc += n;
        self.gas -= n as u64 * cost;
    }
}

impl Drop for Running<'_> {
    /// Leaves the frame exact for whoever reads it next.
    #[inline(always)]
    fn drop(&mut self) {
        self.sync();
    }
}

impl Frame {
    /// Which check failed, in the execution specs' order: an opcode not in the fork first; too
    /// few operands before gas (the spec pops before charging); a full stack after gas (the spec
    /// charges before pushing, so an unaffordable push onto a full stack is out of gas).
    #[cold]
    #[inline(never)]
    fn check_failed(&mut self, opcode: u8, static_gas: u32) -> ExitCode {
        let info = &OPCODE_INFO[opcode as usize];
        if !info.enabled_in(self.spec) {
            return ExitCode::InvalidOpcode;
        }
        if self.stack.len() < info.inputs as usize {
            ExitCode::StackUnderflow
        } else if !self.gas.charge(static_gas as u64) {
            ExitCode::OutOfGas
        } else {
            ExitCode::StackOverflow
        }
    }
}
