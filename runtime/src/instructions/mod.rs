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
//! The dispatch ([`Frame::execute`]) converts the byte to an [`Opcode`] and matches with every
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
                    let (a, b) = self.stack.pop_top();
                    *b = pure::binary(op::$op, *a, *b);
                    ExitCode::Continue
                }
            )*
        }
    };
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
use crate::frame::{CallKind, Frame};
use crate::opcode::Opcode;
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
    /// Every [`Opcode`] is named in an arm and there is no catch-all over them, so a new row in
    /// the opcode table fails to build until it has a body here, as in the JIT's lowering. A
    /// byte no row assigns halts with [`ExitCode::InvalidOpcode`]. The interpreter never gets
    /// here with one ([`Running::step`] rejects it through the check table), nor does compiled
    /// code (the lowering ends a block before it), but this is a public entry (also
    /// `ferrite_exec`'s), so the conversion is checked rather than assumed.
    #[inline(always)]
    pub fn execute<H: Host + ?Sized>(&mut self, host: &mut H, opcode: u8) -> ExitCode {
        use Opcode::*;
        match Opcode::from_u8(opcode) {
            Some(STOP) => ExitCode::Stop,
            Some(ADD) => self.add(),
            Some(MUL) => self.mul(),
            Some(SUB) => self.sub(),
            Some(DIV) => self.div(),
            Some(SDIV) => self.sdiv(),
            Some(MOD) => self.rem(),
            Some(SMOD) => self.smod(),
            Some(ADDMOD) => self.addmod(),
            Some(MULMOD) => self.mulmod(),
            Some(EXP) => self.exp(),
            Some(SIGNEXTEND) => self.signextend(),
            Some(LT) => self.lt(),
            Some(GT) => self.gt(),
            Some(SLT) => self.slt(),
            Some(SGT) => self.sgt(),
            Some(EQ) => self.eq(),
            Some(ISZERO) => self.iszero(),
            Some(AND) => self.and(),
            Some(OR) => self.or(),
            Some(XOR) => self.xor(),
            Some(NOT) => self.not(),
            Some(BYTE) => self.byte(),
            Some(SHL) => self.shl(),
            Some(SHR) => self.shr(),
            Some(SAR) => self.sar(),
            Some(CLZ) => self.clz(),
            Some(KECCAK256) => self.on_frame(|f| f.keccak256()),
            Some(ADDRESS) => self.address(),
            Some(BALANCE) => self.balance(host),
            Some(ORIGIN) => self.origin(host),
            Some(CALLER) => self.caller(),
            Some(CALLVALUE) => self.callvalue(),
            Some(CALLDATALOAD) => self.calldataload(),
            Some(CALLDATASIZE) => self.calldatasize(),
            Some(CALLDATACOPY) => self.on_frame(|f| f.calldatacopy()),
            Some(CODESIZE) => self.codesize(),
            Some(CODECOPY) => self.on_frame(|f| f.codecopy()),
            Some(GASPRICE) => self.gasprice(host),
            Some(EXTCODESIZE) => self.extcodesize(host),
            Some(EXTCODECOPY) => self.on_frame(|f| f.extcodecopy(host)),
            Some(RETURNDATASIZE) => self.returndatasize(),
            Some(RETURNDATACOPY) => self.on_frame(|f| f.returndatacopy()),
            Some(EXTCODEHASH) => self.extcodehash(host),
            Some(BLOCKHASH) => self.blockhash(host),
            Some(COINBASE) => self.coinbase(host),
            Some(TIMESTAMP) => self.timestamp(host),
            Some(NUMBER) => self.number(host),
            Some(PREVRANDAO) => self.prevrandao(host),
            Some(GASLIMIT) => self.gaslimit(host),
            Some(CHAINID) => self.chainid(host),
            Some(SELFBALANCE) => self.selfbalance(host),
            Some(BASEFEE) => self.basefee(host),
            Some(BLOBHASH) => self.blobhash(host),
            Some(BLOBBASEFEE) => self.blobbasefee(host),
            Some(POP) => self.pop(),
            Some(MLOAD) => self.mload(),
            Some(MSTORE) => self.mstore(),
            Some(MSTORE8) => self.mstore8(),
            Some(SLOAD) => self.sload(host),
            Some(SSTORE) => self.on_frame(|f| f.sstore(host)),
            Some(JUMP) => self.jump(),
            Some(JUMPI) => self.jumpi(),
            Some(PC) => self.pc_op(),
            Some(MSIZE) => self.msize(),
            Some(GAS) => self.gas_op(),
            Some(JUMPDEST) => ExitCode::Continue,
            Some(TLOAD) => self.tload(host),
            Some(TSTORE) => self.tstore(host),
            Some(MCOPY) => self.on_frame(|f| f.mcopy()),
            Some(PUSH0) => self.push0(),
            Some(CREATE) => self.on_frame(|f| f.create(false)),
            Some(CALL) => self.on_frame(|f| f.call(host, CallKind::Call)),
            Some(CALLCODE) => self.on_frame(|f| f.call(host, CallKind::CallCode)),
            Some(RETURN) => self.on_frame(|f| f.ret(ExitCode::Return)),
            Some(DELEGATECALL) => self.on_frame(|f| f.call(host, CallKind::DelegateCall)),
            Some(CREATE2) => self.on_frame(|f| f.create(true)),
            Some(STATICCALL) => self.on_frame(|f| f.call(host, CallKind::StaticCall)),
            Some(REVERT) => self.on_frame(|f| f.ret(ExitCode::Revert)),
            // EIP-141's designated invalid instruction halts as an unassigned byte does.
            Some(INVALID) => ExitCode::InvalidOpcode,
            Some(SELFDESTRUCT) => self.on_frame(|f| f.selfdestruct(host)),
            // An arm per PUSH, DUP and SWAP, each with its size as a constant: PUSH1 is then a
            // one-byte load and DUPn/SWAPn fixed offsets. (They shared one arm, told apart by
            // byte range, while PUSH read its immediate byte by byte; the arms per opcode cut
            // the instructions per PUSH from ~30 to ~8.)
            Some(PUSH1) => self.push::<1>(),
            Some(PUSH2) => self.push::<2>(),
            Some(PUSH3) => self.push::<3>(),
            Some(PUSH4) => self.push::<4>(),
            Some(PUSH5) => self.push::<5>(),
            Some(PUSH6) => self.push::<6>(),
            Some(PUSH7) => self.push::<7>(),
            Some(PUSH8) => self.push::<8>(),
            Some(PUSH9) => self.push::<9>(),
            Some(PUSH10) => self.push::<10>(),
            Some(PUSH11) => self.push::<11>(),
            Some(PUSH12) => self.push::<12>(),
            Some(PUSH13) => self.push::<13>(),
            Some(PUSH14) => self.push::<14>(),
            Some(PUSH15) => self.push::<15>(),
            Some(PUSH16) => self.push::<16>(),
            Some(PUSH17) => self.push::<17>(),
            Some(PUSH18) => self.push::<18>(),
            Some(PUSH19) => self.push::<19>(),
            Some(PUSH20) => self.push::<20>(),
            Some(PUSH21) => self.push::<21>(),
            Some(PUSH22) => self.push::<22>(),
            Some(PUSH23) => self.push::<23>(),
            Some(PUSH24) => self.push::<24>(),
            Some(PUSH25) => self.push::<25>(),
            Some(PUSH26) => self.push::<26>(),
            Some(PUSH27) => self.push::<27>(),
            Some(PUSH28) => self.push::<28>(),
            Some(PUSH29) => self.push::<29>(),
            Some(PUSH30) => self.push::<30>(),
            Some(PUSH31) => self.push::<31>(),
            Some(PUSH32) => self.push::<32>(),
            Some(DUP1) => self.dup::<1>(),
            Some(DUP2) => self.dup::<2>(),
            Some(DUP3) => self.dup::<3>(),
            Some(DUP4) => self.dup::<4>(),
            Some(DUP5) => self.dup::<5>(),
            Some(DUP6) => self.dup::<6>(),
            Some(DUP7) => self.dup::<7>(),
            Some(DUP8) => self.dup::<8>(),
            Some(DUP9) => self.dup::<9>(),
            Some(DUP10) => self.dup::<10>(),
            Some(DUP11) => self.dup::<11>(),
            Some(DUP12) => self.dup::<12>(),
            Some(DUP13) => self.dup::<13>(),
            Some(DUP14) => self.dup::<14>(),
            Some(DUP15) => self.dup::<15>(),
            Some(DUP16) => self.dup::<16>(),
            Some(SWAP1) => self.swap::<1>(),
            Some(SWAP2) => self.swap::<2>(),
            Some(SWAP3) => self.swap::<3>(),
            Some(SWAP4) => self.swap::<4>(),
            Some(SWAP5) => self.swap::<5>(),
            Some(SWAP6) => self.swap::<6>(),
            Some(SWAP7) => self.swap::<7>(),
            Some(SWAP8) => self.swap::<8>(),
            Some(SWAP9) => self.swap::<9>(),
            Some(SWAP10) => self.swap::<10>(),
            Some(SWAP11) => self.swap::<11>(),
            Some(SWAP12) => self.swap::<12>(),
            Some(SWAP13) => self.swap::<13>(),
            Some(SWAP14) => self.swap::<14>(),
            Some(SWAP15) => self.swap::<15>(),
            Some(SWAP16) => self.swap::<16>(),
            Some(LOG0) => self.on_frame(|f| f.log(host, 0)),
            Some(LOG1) => self.on_frame(|f| f.log(host, 1)),
            Some(LOG2) => self.on_frame(|f| f.log(host, 2)),
            Some(LOG3) => self.on_frame(|f| f.log(host, 3)),
            Some(LOG4) => self.on_frame(|f| f.log(host, 4)),
            // A byte no row assigns.
            None => ExitCode::InvalidOpcode,
        }
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
