//! Instruction bodies, by category, and the dispatch that selects them.
//!
//! Bodies assume the caller checked the fork, static gas and stack bounds (per instruction in the
//! interpreter, per basic block in compiled code) — the split evmone uses. Each returns a one-byte
//! [`ExitCode`], `Continue` to go on. Both tiers call exactly these functions.
//!
//! The dispatch ([`Frame::execute`]) converts the byte to an [`Opcode`] and matches with every
//! variant named, like the JIT's lowering, so a row added to the opcode table does not build
//! until both tiers handle it. The conversion costs nothing at run time: it folds into the
//! dispatch's jump table on the byte, the machine code of the match on raw bytes it replaced.

/// Generates `fn name(&mut self) -> ExitCode` for binary ops: pop `a`, replace the new top `b`
/// with [`pure::binary`]`(OP, a, b)`.
macro_rules! binary {
    ($($name:ident => $op:ident;)*) => {
        impl Frame {
            $(
                #[inline(always)]
                pub(super) fn $name(&mut self) -> ExitCode {
                    let a = self.stack.pop();
                    let b = self.stack.top_mut();
                    *b = pure::binary(op::$op, a, *b);
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
mod stack;
mod system;

use crate::frame::{CallKind, Frame};
use crate::opcode::{op, Check, Opcode, OPCODE_INFO};
use crate::{ExitCode, Host};
use alloy_primitives::U256;

impl Frame {
    /// Executes one instruction after the checks in `check` (the entry of
    /// [`check_table`](crate::opcode::check_table) for the frame's fork): fork, stack bounds,
    /// static gas.
    #[inline(always)]
    pub fn step<H: Host + ?Sized>(&mut self, host: &mut H, opcode: u8, check: Check) -> ExitCode {
        let len = self.stack.len();
        if len < check.min_len as usize || len > check.max_len as usize {
            return self.check_failed(opcode, check.gas);
        }
        if !self.gas.charge(check.gas as u64) {
            return ExitCode::OutOfGas;
        }
        self.pc += 1;
        self.execute(host, opcode)
    }

    /// Which check failed, in the execution specs' order: an opcode not in the fork first; too
    /// few operands before gas (the spec pops before charging); a full stack after gas (the spec
    /// charges before pushing, so an unaffordable push onto a full stack is out of gas).
    #[cold]
    #[inline(never)]
    fn check_failed(&mut self, opcode: u8, static_gas: u16) -> ExitCode {
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

    /// The instruction bodies, dispatched by opcode byte; the caller has checked the fork, the
    /// static gas and the stack bounds, and advanced `pc` past the opcode.
    ///
    /// Every [`Opcode`] is named in an arm and there is no catch-all over them, so a new row in
    /// the opcode table fails to build until it has a body here, as in the JIT's lowering. A
    /// byte no row assigns halts with [`ExitCode::InvalidOpcode`]. The interpreter never gets
    /// here with one ([`Frame::step`] rejects it through the check table), nor does compiled
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
            Some(KECCAK256) => self.keccak256(),
            Some(ADDRESS) => self.address(),
            Some(BALANCE) => self.balance(host),
            Some(ORIGIN) => self.origin(host),
            Some(CALLER) => self.caller(),
            Some(CALLVALUE) => self.callvalue(),
            Some(CALLDATALOAD) => self.calldataload(),
            Some(CALLDATASIZE) => self.calldatasize(),
            Some(CALLDATACOPY) => self.calldatacopy(),
            Some(CODESIZE) => self.codesize(),
            Some(CODECOPY) => self.codecopy(),
            Some(GASPRICE) => self.gasprice(host),
            Some(EXTCODESIZE) => self.extcodesize(host),
            Some(EXTCODECOPY) => self.extcodecopy(host),
            Some(RETURNDATASIZE) => self.returndatasize(),
            Some(RETURNDATACOPY) => self.returndatacopy(),
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
            Some(SSTORE) => self.sstore(host),
            Some(JUMP) => self.jump(),
            Some(JUMPI) => self.jumpi(),
            Some(PC) => self.pc_op(),
            Some(MSIZE) => self.msize(),
            Some(GAS) => self.gas_op(),
            Some(JUMPDEST) => ExitCode::Continue,
            Some(TLOAD) => self.tload(host),
            Some(TSTORE) => self.tstore(host),
            Some(MCOPY) => self.mcopy(),
            Some(PUSH0) => self.push0(),
            Some(CREATE) => self.create(false),
            Some(CALL) => self.call(host, CallKind::Call),
            Some(CALLCODE) => self.call(host, CallKind::CallCode),
            Some(RETURN) => self.ret(ExitCode::Return),
            Some(DELEGATECALL) => self.call(host, CallKind::DelegateCall),
            Some(CREATE2) => self.create(true),
            Some(STATICCALL) => self.call(host, CallKind::StaticCall),
            Some(REVERT) => self.ret(ExitCode::Revert),
            // EIP-141's designated invalid instruction halts as an unassigned byte does.
            Some(INVALID) => ExitCode::InvalidOpcode,
            Some(SELFDESTRUCT) => self.selfdestruct(host),
            // The families share this arm with the unassigned bytes and are told apart by byte
            // range below, so the dispatch compiles to the machine code of the match on raw
            // bytes it replaced: one jump table whose default target runs the range tests.
            // A target per family (an arm each) executes ~4% fewer instructions but made both
            // snailtracers ~5% slower (more targets for the one indirect jump to predict); the
            // range match in a helper function cost JUMPDEST-heavy code ~12% (the loop lost the
            // register holding the jump table's address).
            Some(
                PUSH1 | PUSH2 | PUSH3 | PUSH4 | PUSH5 | PUSH6 | PUSH7 | PUSH8 | PUSH9 | PUSH10
                | PUSH11 | PUSH12 | PUSH13 | PUSH14 | PUSH15 | PUSH16 | PUSH17 | PUSH18 | PUSH19
                | PUSH20 | PUSH21 | PUSH22 | PUSH23 | PUSH24 | PUSH25 | PUSH26 | PUSH27 | PUSH28
                | PUSH29 | PUSH30 | PUSH31 | PUSH32 | DUP1 | DUP2 | DUP3 | DUP4 | DUP5 | DUP6
                | DUP7 | DUP8 | DUP9 | DUP10 | DUP11 | DUP12 | DUP13 | DUP14 | DUP15 | DUP16
                | SWAP1 | SWAP2 | SWAP3 | SWAP4 | SWAP5 | SWAP6 | SWAP7 | SWAP8 | SWAP9 | SWAP10
                | SWAP11 | SWAP12 | SWAP13 | SWAP14 | SWAP15 | SWAP16 | LOG0 | LOG1 | LOG2 | LOG3
                | LOG4,
            )
            | None => match opcode {
                op::PUSH1..=op::PUSH32 => self.push((opcode - op::PUSH1 + 1) as usize),
                op::DUP1..=op::DUP16 => self.dup((opcode - op::DUP1 + 1) as usize),
                op::SWAP1..=op::SWAP16 => self.swap((opcode - op::SWAP1 + 1) as usize),
                op::LOG0..=op::LOG4 => self.log(host, (opcode - op::LOG0) as usize),
                // Each family's rows are consecutive (`tests/opcode_table.rs` runs every byte
                // against its row), so only unassigned bytes are left.
                _ => {
                    debug_assert!(Opcode::from_u8(opcode).is_none(), "{opcode:#04x} has a row");
                    ExitCode::InvalidOpcode
                }
            },
        }
    }

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
