//! Instruction bodies, by category, and the dispatch that selects them.
//!
//! Bodies assume the caller checked the fork, static gas and stack bounds (per instruction in the
//! interpreter, per basic block in compiled code) — the split evmone uses. Each returns a one-byte
//! [`ExitCode`], `Continue` to go on. Both tiers call exactly these functions. The stack
//! accessors rely on those checks and do not repeat them ([`crate::stack`]), so a caller that
//! skipped them would corrupt memory: [`Running::step`] is the checked entry, [`Frame::execute`]
//! the one for callers that checked a whole block.
//!
//! Two kinds of body, one per opcode. The hot ones (arithmetic, comparisons, stack, jumps,
//! memory words, environment reads) are methods of [`Running`], the frame with its stack length,
//! gas and program counter in locals, and use those. The rest (host state, copies, logs, calls,
//! RETURN) are methods of [`Frame`] using its fields, which `Running::on_frame` makes exact
//! around them. Which kind an opcode is changes only its cost, never its meaning: compiled code
//! reaches both through [`Frame::execute`].
//!
//! The dispatch ([`Frame::execute`]) converts the byte to an [`Opcode`](crate::opcode::Opcode) and matches with every
//! variant named, like the JIT's lowering, so a row added to the opcode table does not build
//! until both tiers handle it. The conversion costs nothing at run time: it folds into the
//! dispatch's jump table on the byte, the machine code of the match on raw bytes it replaced.
//! PUSHn, DUPn and SWAPn have an arm per opcode so their size is a constant in the body.

/// Generates `fn name(&mut self) -> ExitCode` for binary ops: pop `a`, replace the new top `b`
/// with [`pure::binary`]`(OP, a, b)`.
macro_rules! binary {
    ($($name:ident => $op:ident;)*) => {
        impl Running<'_> {
            $(
                #[inline(always)]
                pub(super) fn $name(&mut self) -> ExitCode {
                    let a = self.stack.pop();
                    let b = self.stack.read(0);
                    *self.stack.top_mut() = pure::binary(op::$op, a, b);
                    $crate::ExitCode::Continue
                }
            )*
        }
    };
}

/// The match from opcode byte to body, shared by [`Running::execute`] and the interpreter's loop
/// ([`Running::run`]): `$k!(exit)` receives each body's exit code inside its own arm, and
/// `$unassigned` is what a byte no row assigns evaluates to.
///
/// Why a macro and not a call to `execute`: with one function returning an [`ExitCode`], every
/// body's result meets in one block of the loop, whose `Continue` test LLVM does not thread into
/// the bodies that can only continue (it does not thread into a loop header), so the loop paid
/// that test on every instruction (`xor; test; jne`, never taken). With the test inside each arm,
/// it folds away wherever the body's result is a constant. And the loop, which has already
/// rejected an unassigned byte at its check, passes an unreachable `$unassigned`: with a
/// reachable default, LLVM kept the jump table's range test, folded to another never-taken
/// `xor; test; jne` (figures in `benches/PERFORMANCE.md`). Each body still exists once; this
/// only says which one an opcode runs.
macro_rules! dispatch {
    ($run:ident, $host:ident, $opcode:expr, $k:ident, $unassigned:expr, $jumpdest:expr) => {{
        use $crate::opcode::Opcode::*;
        match $crate::opcode::Opcode::from_u8($opcode) {
            Some(STOP) => $k!($crate::ExitCode::Stop),
            Some(ADD) => $k!($run.add()),
            Some(MUL) => $k!($run.mul()),
            Some(SUB) => $k!($run.sub()),
            Some(DIV) => $k!($run.div()),
            Some(SDIV) => $k!($run.sdiv()),
            Some(MOD) => $k!($run.rem()),
            Some(SMOD) => $k!($run.smod()),
            Some(ADDMOD) => $k!($run.addmod()),
            Some(MULMOD) => $k!($run.mulmod()),
            Some(EXP) => $k!($run.exp()),
            Some(SIGNEXTEND) => $k!($run.signextend()),
            Some(LT) => $k!($run.lt()),
            Some(GT) => $k!($run.gt()),
            Some(SLT) => $k!($run.slt()),
            Some(SGT) => $k!($run.sgt()),
            Some(EQ) => $k!($run.eq()),
            Some(ISZERO) => $k!($run.iszero()),
            Some(AND) => $k!($run.and()),
            Some(OR) => $k!($run.or()),
            Some(XOR) => $k!($run.xor()),
            Some(NOT) => $k!($run.not()),
            Some(BYTE) => $k!($run.byte()),
            Some(SHL) => $k!($run.shl()),
            Some(SHR) => $k!($run.shr()),
            Some(SAR) => $k!($run.sar()),
            Some(CLZ) => $k!($run.clz()),
            Some(KECCAK256) => $k!($run.on_frame(|f| f.keccak256())),
            Some(ADDRESS) => $k!($run.address()),
            Some(BALANCE) => $k!($run.balance($host)),
            Some(ORIGIN) => $k!($run.origin($host)),
            Some(CALLER) => $k!($run.caller()),
            Some(CALLVALUE) => $k!($run.callvalue()),
            Some(CALLDATALOAD) => $k!($run.calldataload()),
            Some(CALLDATASIZE) => $k!($run.calldatasize()),
            Some(CALLDATACOPY) => $k!($run.on_frame(|f| f.calldatacopy())),
            Some(CODESIZE) => $k!($run.codesize()),
            Some(CODECOPY) => $k!($run.on_frame(|f| f.codecopy())),
            Some(GASPRICE) => $k!($run.gasprice($host)),
            Some(EXTCODESIZE) => $k!($run.extcodesize($host)),
            Some(EXTCODECOPY) => $k!($run.on_frame(|f| f.extcodecopy($host))),
            Some(RETURNDATASIZE) => $k!($run.returndatasize()),
            Some(RETURNDATACOPY) => $k!($run.on_frame(|f| f.returndatacopy())),
            Some(EXTCODEHASH) => $k!($run.extcodehash($host)),
            Some(BLOCKHASH) => $k!($run.blockhash($host)),
            Some(COINBASE) => $k!($run.coinbase($host)),
            Some(TIMESTAMP) => $k!($run.timestamp($host)),
            Some(NUMBER) => $k!($run.number($host)),
            Some(PREVRANDAO) => $k!($run.prevrandao($host)),
            Some(GASLIMIT) => $k!($run.gaslimit($host)),
            Some(CHAINID) => $k!($run.chainid($host)),
            Some(SELFBALANCE) => $k!($run.selfbalance($host)),
            Some(BASEFEE) => $k!($run.basefee($host)),
            Some(BLOBHASH) => $k!($run.blobhash($host)),
            Some(BLOBBASEFEE) => $k!($run.blobbasefee($host)),
            Some(POP) => $k!($run.pop()),
            Some(MLOAD) => $k!($run.mload()),
            Some(MSTORE) => $k!($run.mstore()),
            Some(MSTORE8) => $k!($run.mstore8()),
            Some(SLOAD) => $k!($run.sload($host)),
            Some(SSTORE) => $k!($run.on_frame(|f| f.sstore($host))),
            Some(JUMP) => $k!($run.jump()),
            Some(JUMPI) => $k!($run.jumpi()),
            Some(PC) => $k!($run.pc_op()),
            Some(MSIZE) => $k!($run.msize()),
            Some(GAS) => $k!($run.gas_op()),
            Some(JUMPDEST) => $k!($jumpdest),
            Some(TLOAD) => $k!($run.tload($host)),
            Some(TSTORE) => $k!($run.tstore($host)),
            Some(MCOPY) => $k!($run.on_frame(|f| f.mcopy())),
            Some(PUSH0) => $k!($run.push0()),
            Some(CREATE) => $k!($run.on_frame(|f| f.create(false))),
            Some(CALL) => $k!($run.on_frame(|f| f.call($host, $crate::frame::CallKind::Call))),
            Some(CALLCODE) => {
                $k!($run.on_frame(|f| f.call($host, $crate::frame::CallKind::CallCode)))
            }
            Some(RETURN) => $k!($run.on_frame(|f| f.ret($crate::ExitCode::Return))),
            Some(DELEGATECALL) => {
                $k!($run.on_frame(|f| f.call($host, $crate::frame::CallKind::DelegateCall)))
            }
            Some(CREATE2) => $k!($run.on_frame(|f| f.create(true))),
            Some(STATICCALL) => {
                $k!($run.on_frame(|f| f.call($host, $crate::frame::CallKind::StaticCall)))
            }
            Some(REVERT) => $k!($run.on_frame(|f| f.ret($crate::ExitCode::Revert))),
            // EIP-141's designated invalid instruction, and every byte no row assigns
            // (`Opcode::decode`).
            Some(INVALID) => $k!($crate::ExitCode::InvalidOpcode),
            Some(SELFDESTRUCT) => $k!($run.on_frame(|f| f.selfdestruct($host))),
            // An arm per PUSH, DUP and SWAP, each with its size as a constant: PUSH1 is then a
            // one-byte load and DUPn/SWAPn fixed offsets. (They shared one arm, told apart by
            // byte range, while PUSH read its immediate byte by byte; the arms per opcode cut
            // the instructions per PUSH from ~30 to ~8.)
            Some(PUSH1) => $k!($run.push::<1>()),
            Some(PUSH2) => $k!($run.push::<2>()),
            Some(PUSH3) => $k!($run.push::<3>()),
            Some(PUSH4) => $k!($run.push::<4>()),
            Some(PUSH5) => $k!($run.push::<5>()),
            Some(PUSH6) => $k!($run.push::<6>()),
            Some(PUSH7) => $k!($run.push::<7>()),
            Some(PUSH8) => $k!($run.push::<8>()),
            Some(PUSH9) => $k!($run.push::<9>()),
            Some(PUSH10) => $k!($run.push::<10>()),
            Some(PUSH11) => $k!($run.push::<11>()),
            Some(PUSH12) => $k!($run.push::<12>()),
            Some(PUSH13) => $k!($run.push::<13>()),
            Some(PUSH14) => $k!($run.push::<14>()),
            Some(PUSH15) => $k!($run.push::<15>()),
            Some(PUSH16) => $k!($run.push::<16>()),
            Some(PUSH17) => $k!($run.push::<17>()),
            Some(PUSH18) => $k!($run.push::<18>()),
            Some(PUSH19) => $k!($run.push::<19>()),
            Some(PUSH20) => $k!($run.push::<20>()),
            Some(PUSH21) => $k!($run.push::<21>()),
            Some(PUSH22) => $k!($run.push::<22>()),
            Some(PUSH23) => $k!($run.push::<23>()),
            Some(PUSH24) => $k!($run.push::<24>()),
            Some(PUSH25) => $k!($run.push::<25>()),
            Some(PUSH26) => $k!($run.push::<26>()),
            Some(PUSH27) => $k!($run.push::<27>()),
            Some(PUSH28) => $k!($run.push::<28>()),
            Some(PUSH29) => $k!($run.push::<29>()),
            Some(PUSH30) => $k!($run.push::<30>()),
            Some(PUSH31) => $k!($run.push::<31>()),
            Some(PUSH32) => $k!($run.push::<32>()),
            Some(DUP1) => $k!($run.dup::<1>()),
            Some(DUP2) => $k!($run.dup::<2>()),
            Some(DUP3) => $k!($run.dup::<3>()),
            Some(DUP4) => $k!($run.dup::<4>()),
            Some(DUP5) => $k!($run.dup::<5>()),
            Some(DUP6) => $k!($run.dup::<6>()),
            Some(DUP7) => $k!($run.dup::<7>()),
            Some(DUP8) => $k!($run.dup::<8>()),
            Some(DUP9) => $k!($run.dup::<9>()),
            Some(DUP10) => $k!($run.dup::<10>()),
            Some(DUP11) => $k!($run.dup::<11>()),
            Some(DUP12) => $k!($run.dup::<12>()),
            Some(DUP13) => $k!($run.dup::<13>()),
            Some(DUP14) => $k!($run.dup::<14>()),
            Some(DUP15) => $k!($run.dup::<15>()),
            Some(DUP16) => $k!($run.dup::<16>()),
            Some(SWAP1) => $k!($run.swap::<1>()),
            Some(SWAP2) => $k!($run.swap::<2>()),
            Some(SWAP3) => $k!($run.swap::<3>()),
            Some(SWAP4) => $k!($run.swap::<4>()),
            Some(SWAP5) => $k!($run.swap::<5>()),
            Some(SWAP6) => $k!($run.swap::<6>()),
            Some(SWAP7) => $k!($run.swap::<7>()),
            Some(SWAP8) => $k!($run.swap::<8>()),
            Some(SWAP9) => $k!($run.swap::<9>()),
            Some(SWAP10) => $k!($run.swap::<10>()),
            Some(SWAP11) => $k!($run.swap::<11>()),
            Some(SWAP12) => $k!($run.swap::<12>()),
            Some(SWAP13) => $k!($run.swap::<13>()),
            Some(SWAP14) => $k!($run.swap::<14>()),
            Some(SWAP15) => $k!($run.swap::<15>()),
            Some(SWAP16) => $k!($run.swap::<16>()),
            Some(LOG0) => $k!($run.on_frame(|f| f.log($host, 0))),
            Some(LOG1) => $k!($run.on_frame(|f| f.log($host, 1))),
            Some(LOG2) => $k!($run.on_frame(|f| f.log($host, 2))),
            Some(LOG3) => $k!($run.on_frame(|f| f.log($host, 3))),
            Some(LOG4) => $k!($run.on_frame(|f| f.log($host, 4))),
            None => $unassigned,
        }
    }};
}

mod arithmetic;
mod bitwise;
mod control;
mod environment;
mod host;
mod memory;
pub mod pure;
mod running;
mod stack;
mod system;

pub use running::Running;

use crate::bytecode::Bytecode;
use crate::frame::Frame;
use crate::{ExitCode, Host};
use alloy_primitives::U256;
use std::sync::Arc;

impl Frame {
    /// The frame's code, shared: the interpreter holds it for the length of its loop so the
    /// code's address and length stay in registers instead of being reloaded through the frame
    /// at every instruction.
    #[inline]
    pub fn shared_code(&self) -> Arc<Bytecode> {
        Arc::clone(&self.code)
    }

    /// The body of `opcode` on this frame ([`Running::execute`]); the caller has checked the
    /// fork, the static gas and the stack bounds, and advanced `pc` past the opcode. Compiled
    /// code's entry (`ferrite_exec`, for the opcodes it does not inline): the round trip of the
    /// hot state through locals costs it a few loads and stores per call (the JIT's times did
    /// not move: `benches/PERFORMANCE.md`).
    #[inline(always)]
    pub fn execute<H: Host + ?Sized>(&mut self, host: &mut H, opcode: u8) -> ExitCode {
        Running::new(self).execute(host, opcode)
    }
}

impl Running<'_> {
    /// The instruction bodies, dispatched by opcode byte; the caller has checked the fork, the
    /// static gas and the stack bounds, and advanced the program counter past the opcode.
    ///
    /// Every [`Opcode`](crate::opcode::Opcode) is named in an arm and there is no catch-all over them, so a new row in
    /// the opcode table fails to build until it has a body here, as in the JIT's lowering. A
    /// byte no row assigns halts with [`ExitCode::InvalidOpcode`], as INVALID does (it decodes
    /// as INVALID: `Opcode::decode`). The interpreter never gets here with one ([`Running::step`] rejects it through the check table), nor does compiled
    /// code (the lowering ends a block before it), but this is a public entry (also
    /// `ferrite_exec`'s), so the conversion is total rather than assumed.
    #[inline(always)]
    pub fn execute<H: Host + ?Sized>(&mut self, host: &mut H, opcode: u8) -> ExitCode {
        macro_rules! exit_code {
            ($exit:expr) => {
                $exit
            };
        }
        dispatch!(
            self,
            host,
            opcode,
            exit_code,
            ExitCode::InvalidOpcode,
            ExitCode::Continue
        )
    }
}

impl Frame {
    /// Pops `N` items, top first.
    #[inline(always)]
    fn popn<const N: usize>(&mut self) -> [U256; N] {
        let mut out = [U256::ZERO; N];
        for v in out.iter_mut() {
            *v = self.stack.pop();
        }
        out
    }

    /// Charges `cost`, or halts with out of gas.
    #[inline(always)]
    fn charge(&mut self, cost: u64) -> Result<(), ExitCode> {
        if self.gas.charge(cost) {
            Ok(())
        } else {
            Err(ExitCode::OutOfGas)
        }
    }
}

/// Converts a `Result<(), ExitCode>` body into an exit code.
#[inline(always)]
fn done(r: Result<(), ExitCode>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::Continue,
        Err(e) => e,
    }
}
