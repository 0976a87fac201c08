//! Instruction bodies, by category, and the dispatch that selects them.
//!
//! Bodies assume the caller checked the fork, static gas and stack bounds (per instruction in the
//! interpreter, per basic block in compiled code) — the split evmone uses. Each returns a one-byte
//! [`ExitCode`], `Continue` to go on. Both tiers call exactly these functions.

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
use crate::opcode::{op, Check, OPCODE_INFO};
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
    #[inline(always)]
    pub fn execute<H: Host + ?Sized>(&mut self, host: &mut H, opcode: u8) -> ExitCode {
        match opcode {
            op::STOP => ExitCode::Stop,
            op::ADD => self.add(),
            op::MUL => self.mul(),
            op::SUB => self.sub(),
            op::DIV => self.div(),
            op::SDIV => self.sdiv(),
            op::MOD => self.rem(),
            op::SMOD => self.smod(),
            op::ADDMOD => self.addmod(),
            op::MULMOD => self.mulmod(),
            op::EXP => self.exp(),
            op::SIGNEXTEND => self.signextend(),
            op::LT => self.lt(),
            op::GT => self.gt(),
            op::SLT => self.slt(),
            op::SGT => self.sgt(),
            op::EQ => self.eq(),
            op::ISZERO => self.iszero(),
            op::AND => self.and(),
            op::OR => self.or(),
            op::XOR => self.xor(),
            op::NOT => self.not(),
            op::BYTE => self.byte(),
            op::SHL => self.shl(),
            op::SHR => self.shr(),
            op::SAR => self.sar(),
            op::CLZ => self.clz(),
            op::KECCAK256 => self.keccak256(),
            op::ADDRESS => self.address(),
            op::BALANCE => self.balance(host),
            op::ORIGIN => self.origin(host),
            op::CALLER => self.caller(),
            op::CALLVALUE => self.callvalue(),
            op::CALLDATALOAD => self.calldataload(),
            op::CALLDATASIZE => self.calldatasize(),
            op::CALLDATACOPY => self.calldatacopy(),
            op::CODESIZE => self.codesize(),
            op::CODECOPY => self.codecopy(),
            op::GASPRICE => self.gasprice(host),
            op::EXTCODESIZE => self.extcodesize(host),
            op::EXTCODECOPY => self.extcodecopy(host),
            op::RETURNDATASIZE => self.returndatasize(),
            op::RETURNDATACOPY => self.returndatacopy(),
            op::EXTCODEHASH => self.extcodehash(host),
            op::BLOCKHASH => self.blockhash(host),
            op::COINBASE => self.coinbase(host),
            op::TIMESTAMP => self.timestamp(host),
            op::NUMBER => self.number(host),
            op::PREVRANDAO => self.prevrandao(host),
            op::GASLIMIT => self.gaslimit(host),
            op::CHAINID => self.chainid(host),
            op::SELFBALANCE => self.selfbalance(host),
            op::BASEFEE => self.basefee(host),
            op::BLOBHASH => self.blobhash(host),
            op::BLOBBASEFEE => self.blobbasefee(host),
            op::POP => self.pop(),
            op::MLOAD => self.mload(),
            op::MSTORE => self.mstore(),
            op::MSTORE8 => self.mstore8(),
            op::SLOAD => self.sload(host),
            op::SSTORE => self.sstore(host),
            op::JUMP => self.jump(),
            op::JUMPI => self.jumpi(),
            op::PC => self.pc_op(),
            op::MSIZE => self.msize(),
            op::GAS => self.gas_op(),
            op::JUMPDEST => ExitCode::Continue,
            op::TLOAD => self.tload(host),
            op::TSTORE => self.tstore(host),
            op::MCOPY => self.mcopy(),
            op::PUSH0 => self.push0(),
            op::PUSH1..=op::PUSH32 => self.push((opcode - op::PUSH1 + 1) as usize),
            op::DUP1..=op::DUP16 => self.dup((opcode - op::DUP1 + 1) as usize),
            op::SWAP1..=op::SWAP16 => self.swap((opcode - op::SWAP1 + 1) as usize),
            op::LOG0..=op::LOG4 => self.log(host, (opcode - op::LOG0) as usize),
            op::CREATE => self.create(false),
            op::CALL => self.call(host, CallKind::Call),
            op::CALLCODE => self.call(host, CallKind::CallCode),
            op::RETURN => self.ret(ExitCode::Return),
            op::DELEGATECALL => self.call(host, CallKind::DelegateCall),
            op::CREATE2 => self.create(true),
            op::STATICCALL => self.call(host, CallKind::StaticCall),
            op::REVERT => self.ret(ExitCode::Revert),
            op::SELFDESTRUCT => self.selfdestruct(host),
            _ => ExitCode::InvalidOpcode,
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
