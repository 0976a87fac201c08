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
/// ([`Running::run`]): `$k!(OPCODE, exit)` receives each body's exit code inside its own arm, and
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
    ($run:ident, $host:ident, $opcode:expr, $k:ident, $unassigned:expr) => {{
        use $crate::opcode::Opcode::*;
        match $crate::opcode::Opcode::from_u8($opcode) {
            Some(STOP) => $k!(STOP, $crate::ExitCode::Stop),
            Some(ADD) => $k!(ADD, $run.add()),
            Some(MUL) => $k!(MUL, $run.mul()),
            Some(SUB) => $k!(SUB, $run.sub()),
            Some(DIV) => $k!(DIV, $run.div()),
            Some(SDIV) => $k!(SDIV, $run.sdiv()),
            Some(MOD) => $k!(MOD, $run.rem()),
            Some(SMOD) => $k!(SMOD, $run.smod()),
            Some(ADDMOD) => $k!(ADDMOD, $run.addmod()),
            Some(MULMOD) => $k!(MULMOD, $run.mulmod()),
            Some(EXP) => $k!(EXP, $run.exp()),
            Some(SIGNEXTEND) => $k!(SIGNEXTEND, $run.signextend()),
            Some(LT) => $k!(LT, $run.lt()),
            Some(GT) => $k!(GT, $run.gt()),
            Some(SLT) => $k!(SLT, $run.slt()),
            Some(SGT) => $k!(SGT, $run.sgt()),
            Some(EQ) => $k!(EQ, $run.eq()),
            Some(ISZERO) => $k!(ISZERO, $run.iszero()),
            Some(AND) => $k!(AND, $run.and()),
            Some(OR) => $k!(OR, $run.or()),
            Some(XOR) => $k!(XOR, $run.xor()),
            Some(NOT) => $k!(NOT, $run.not()),
            Some(BYTE) => $k!(BYTE, $run.byte()),
            Some(SHL) => $k!(SHL, $run.shl()),
            Some(SHR) => $k!(SHR, $run.shr()),
            Some(SAR) => $k!(SAR, $run.sar()),
            Some(CLZ) => $k!(CLZ, $run.clz()),
            Some(KECCAK256) => $k!(KECCAK256, $run.on_frame(|f| f.keccak256())),
            Some(ADDRESS) => $k!(ADDRESS, $run.address()),
            Some(BALANCE) => $k!(BALANCE, $run.balance($host)),
            Some(ORIGIN) => $k!(ORIGIN, $run.origin($host)),
            Some(CALLER) => $k!(CALLER, $run.caller()),
            Some(CALLVALUE) => $k!(CALLVALUE, $run.callvalue()),
            Some(CALLDATALOAD) => $k!(CALLDATALOAD, $run.calldataload()),
            Some(CALLDATASIZE) => $k!(CALLDATASIZE, $run.calldatasize()),
            Some(CALLDATACOPY) => $k!(CALLDATACOPY, $run.on_frame(|f| f.calldatacopy())),
            Some(CODESIZE) => $k!(CODESIZE, $run.codesize()),
            Some(CODECOPY) => $k!(CODECOPY, $run.on_frame(|f| f.codecopy())),
            Some(GASPRICE) => $k!(GASPRICE, $run.gasprice($host)),
            Some(EXTCODESIZE) => $k!(EXTCODESIZE, $run.extcodesize($host)),
            Some(EXTCODECOPY) => $k!(EXTCODECOPY, $run.on_frame(|f| f.extcodecopy($host))),
            Some(RETURNDATASIZE) => $k!(RETURNDATASIZE, $run.returndatasize()),
            Some(RETURNDATACOPY) => $k!(RETURNDATACOPY, $run.on_frame(|f| f.returndatacopy())),
            Some(EXTCODEHASH) => $k!(EXTCODEHASH, $run.extcodehash($host)),
            Some(BLOCKHASH) => $k!(BLOCKHASH, $run.blockhash($host)),
            Some(COINBASE) => $k!(COINBASE, $run.coinbase($host)),
            Some(TIMESTAMP) => $k!(TIMESTAMP, $run.timestamp($host)),
            Some(NUMBER) => $k!(NUMBER, $run.number($host)),
            Some(PREVRANDAO) => $k!(PREVRANDAO, $run.prevrandao($host)),
            Some(GASLIMIT) => $k!(GASLIMIT, $run.gaslimit($host)),
            Some(CHAINID) => $k!(CHAINID, $run.chainid($host)),
            Some(SELFBALANCE) => $k!(SELFBALANCE, $run.selfbalance($host)),
            Some(BASEFEE) => $k!(BASEFEE, $run.basefee($host)),
            Some(BLOBHASH) => $k!(BLOBHASH, $run.blobhash($host)),
            Some(BLOBBASEFEE) => $k!(BLOBBASEFEE, $run.blobbasefee($host)),
            Some(POP) => $k!(POP, $run.pop()),
            Some(MLOAD) => $k!(MLOAD, $run.mload()),
            Some(MSTORE) => $k!(MSTORE, $run.mstore()),
            Some(MSTORE8) => $k!(MSTORE8, $run.mstore8()),
            Some(SLOAD) => $k!(SLOAD, $run.sload($host)),
            Some(SSTORE) => $k!(SSTORE, $run.on_frame(|f| f.sstore($host))),
            Some(JUMP) => $k!(JUMP, $run.jump()),
            Some(JUMPI) => $k!(JUMPI, $run.jumpi()),
            Some(PC) => $k!(PC, $run.pc_op()),
            Some(MSIZE) => $k!(MSIZE, $run.msize()),
            Some(GAS) => $k!(GAS, $run.gas_op()),
            Some(JUMPDEST) => $k!(JUMPDEST, $crate::ExitCode::Continue),
            Some(TLOAD) => $k!(TLOAD, $run.tload($host)),
            Some(TSTORE) => $k!(TSTORE, $run.tstore($host)),
            Some(MCOPY) => $k!(MCOPY, $run.on_frame(|f| f.mcopy())),
            Some(PUSH0) => $k!(PUSH0, $run.push0()),
            Some(CREATE) => $k!(CREATE, $run.on_frame(|f| f.create(false))),
            Some(CALL) => $k!(
                CALL,
                $run.on_frame(|f| f.call($host, $crate::frame::CallKind::Call))
            ),
            Some(CALLCODE) => {
                $k!(
                    CALLCODE,
                    $run.on_frame(|f| f.call($host, $crate::frame::CallKind::CallCode))
                )
            }
            Some(RETURN) => $k!(RETURN, $run.on_frame(|f| f.ret($crate::ExitCode::Return))),
            Some(DELEGATECALL) => {
                $k!(
                    DELEGATECALL,
                    $run.on_frame(|f| f.call($host, $crate::frame::CallKind::DelegateCall))
                )
            }
            Some(CREATE2) => $k!(CREATE2, $run.on_frame(|f| f.create(true))),
            Some(STATICCALL) => {
                $k!(
                    STATICCALL,
                    $run.on_frame(|f| f.call($host, $crate::frame::CallKind::StaticCall))
                )
            }
            Some(REVERT) => $k!(REVERT, $run.on_frame(|f| f.ret($crate::ExitCode::Revert))),
            // EIP-141's designated invalid instruction, and every byte no row assigns
            // (`Opcode::decode`).
            Some(INVALID) => $k!(INVALID, $crate::ExitCode::InvalidOpcode),
            Some(SELFDESTRUCT) => $k!(SELFDESTRUCT, $run.on_frame(|f| f.selfdestruct($host))),
            // An arm per PUSH, DUP and SWAP, each with its size as a constant: PUSH1 is then a
            // one-byte load and DUPn/SWAPn fixed offsets. (They shared one arm, told apart by
            // byte range, while PUSH read its immediate byte by byte; the arms per opcode cut
            // the instructions per PUSH from ~30 to ~8.)
            Some(PUSH1) => $k!(PUSH1, $run.push::<1>()),
            Some(PUSH2) => $k!(PUSH2, $run.push::<2>()),
            Some(PUSH3) => $k!(PUSH3, $run.push::<3>()),
            Some(PUSH4) => $k!(PUSH4, $run.push::<4>()),
            Some(PUSH5) => $k!(PUSH5, $run.push::<5>()),
            Some(PUSH6) => $k!(PUSH6, $run.push::<6>()),
            Some(PUSH7) => $k!(PUSH7, $run.push::<7>()),
            Some(PUSH8) => $k!(PUSH8, $run.push::<8>()),
            Some(PUSH9) => $k!(PUSH9, $run.push::<9>()),
            Some(PUSH10) => $k!(PUSH10, $run.push::<10>()),
            Some(PUSH11) => $k!(PUSH11, $run.push::<11>()),
            Some(PUSH12) => $k!(PUSH12, $run.push::<12>()),
            Some(PUSH13) => $k!(PUSH13, $run.push::<13>()),
            Some(PUSH14) => $k!(PUSH14, $run.push::<14>()),
            Some(PUSH15) => $k!(PUSH15, $run.push::<15>()),
            Some(PUSH16) => $k!(PUSH16, $run.push::<16>()),
            Some(PUSH17) => $k!(PUSH17, $run.push::<17>()),
            Some(PUSH18) => $k!(PUSH18, $run.push::<18>()),
            Some(PUSH19) => $k!(PUSH19, $run.push::<19>()),
            Some(PUSH20) => $k!(PUSH20, $run.push::<20>()),
            Some(PUSH21) => $k!(PUSH21, $run.push::<21>()),
            Some(PUSH22) => $k!(PUSH22, $run.push::<22>()),
            Some(PUSH23) => $k!(PUSH23, $run.push::<23>()),
            Some(PUSH24) => $k!(PUSH24, $run.push::<24>()),
            Some(PUSH25) => $k!(PUSH25, $run.push::<25>()),
            Some(PUSH26) => $k!(PUSH26, $run.push::<26>()),
            Some(PUSH27) => $k!(PUSH27, $run.push::<27>()),
            Some(PUSH28) => $k!(PUSH28, $run.push::<28>()),
            Some(PUSH29) => $k!(PUSH29, $run.push::<29>()),
            Some(PUSH30) => $k!(PUSH30, $run.push::<30>()),
            Some(PUSH31) => $k!(PUSH31, $run.push::<31>()),
            Some(PUSH32) => $k!(PUSH32, $run.push::<32>()),
            Some(DUP1) => $k!(DUP1, $run.dup::<1>()),
            Some(DUP2) => $k!(DUP2, $run.dup::<2>()),
            Some(DUP3) => $k!(DUP3, $run.dup::<3>()),
            Some(DUP4) => $k!(DUP4, $run.dup::<4>()),
            Some(DUP5) => $k!(DUP5, $run.dup::<5>()),
            Some(DUP6) => $k!(DUP6, $run.dup::<6>()),
            Some(DUP7) => $k!(DUP7, $run.dup::<7>()),
            Some(DUP8) => $k!(DUP8, $run.dup::<8>()),
            Some(DUP9) => $k!(DUP9, $run.dup::<9>()),
            Some(DUP10) => $k!(DUP10, $run.dup::<10>()),
            Some(DUP11) => $k!(DUP11, $run.dup::<11>()),
            Some(DUP12) => $k!(DUP12, $run.dup::<12>()),
            Some(DUP13) => $k!(DUP13, $run.dup::<13>()),
            Some(DUP14) => $k!(DUP14, $run.dup::<14>()),
            Some(DUP15) => $k!(DUP15, $run.dup::<15>()),
            Some(DUP16) => $k!(DUP16, $run.dup::<16>()),
            Some(SWAP1) => $k!(SWAP1, $run.swap::<1>()),
            Some(SWAP2) => $k!(SWAP2, $run.swap::<2>()),
            Some(SWAP3) => $k!(SWAP3, $run.swap::<3>()),
            Some(SWAP4) => $k!(SWAP4, $run.swap::<4>()),
            Some(SWAP5) => $k!(SWAP5, $run.swap::<5>()),
            Some(SWAP6) => $k!(SWAP6, $run.swap::<6>()),
            Some(SWAP7) => $k!(SWAP7, $run.swap::<7>()),
            Some(SWAP8) => $k!(SWAP8, $run.swap::<8>()),
            Some(SWAP9) => $k!(SWAP9, $run.swap::<9>()),
            Some(SWAP10) => $k!(SWAP10, $run.swap::<10>()),
            Some(SWAP11) => $k!(SWAP11, $run.swap::<11>()),
            Some(SWAP12) => $k!(SWAP12, $run.swap::<12>()),
            Some(SWAP13) => $k!(SWAP13, $run.swap::<13>()),
            Some(SWAP14) => $k!(SWAP14, $run.swap::<14>()),
            Some(SWAP15) => $k!(SWAP15, $run.swap::<15>()),
            Some(SWAP16) => $k!(SWAP16, $run.swap::<16>()),
            Some(LOG0) => $k!(LOG0, $run.on_frame(|f| f.log($host, 0))),
            Some(LOG1) => $k!(LOG1, $run.on_frame(|f| f.log($host, 1))),
            Some(LOG2) => $k!(LOG2, $run.on_frame(|f| f.log($host, 2))),
            Some(LOG3) => $k!(LOG3, $run.on_frame(|f| f.log($host, 3))),
            Some(LOG4) => $k!(LOG4, $run.on_frame(|f| f.log($host, 4))),
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
            ($op:ident, $exit:expr) => {
                $exit
            };
        }
        dispatch!(self, host, opcode, exit_code, ExitCode::InvalidOpcode)
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
