//! The interpreter tier: one frame's bytecode executed by a `match` dispatch loop.
//!
//! A [`Frame`] never calls into another frame. CALL*/CREATE* charge their gas, then *suspend*:
//! [`Frame::run`] returns [`Action::Call`] and the frame driver ([`crate::frame`]) runs the callee
//! and later hands the result back through [`Frame::resume`]. Native-stack depth therefore stays
//! constant however deep the EVM call chain goes; the JIT reuses the same protocol.
//!
//! Each instruction's body lives in a category module (`arithmetic`, `bitwise`, `control`, `stack`,
//! `memory`, `environment`, `host`, `system`) and computes with `ferrite_runtime`'s semantics. The
//! dispatch loop checks, per instruction, the fork, the stack bounds and the static gas from the
//! opcode table; bodies assume those checks passed (the split evmone uses, and that block analysis
//! will hoist to once per basic block).

/// Generates `fn name(&mut self) -> ExitCode` for ops that pop `a` and replace the new top `b`.
macro_rules! binary {
    ($($name:ident => |$a:ident, $b:ident| $e:expr;)*) => {
        impl Frame {
            $(
                #[inline(always)]
                pub(super) fn $name(&mut self) -> ExitCode {
                    let $a = self.stack.pop();
                    let $b = self.stack.top_mut();
                    *$b = $e;
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
mod stack;
mod system;

use crate::bytecode::Bytecode;
use alloy_primitives::{Address, Bytes, U256};
use ferrite_runtime::gas::Gas;
use ferrite_runtime::opcode::{op, static_gas_table, OPCODE_INFO};
use ferrite_runtime::{ExitCode, Host, Memory, SpecId, Stack, STACK_LIMIT};
use std::sync::Arc;

pub use system::{delegation_target, CallKind, Message, MessageKind, DELEGATION_PREFIX};

/// What a frame asks of its driver when it stops running.
#[derive(Debug)]
pub enum Action {
    /// The frame finished (successfully, reverted or halted).
    Done(FrameResult),
    /// The frame suspended on a CALL*/CREATE*; run `Message` and [`Frame::resume`] with its result.
    Call(Box<Message>),
}

/// Result of a finished frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameResult {
    /// How it ended.
    pub exit: ExitCode,
    /// RETURN/REVERT data (empty for halts).
    pub output: Bytes,
    /// Gas accounting at the end (remaining is 0 after a halt).
    pub gas: Gas,
    /// For CREATE: the new contract's address on success.
    pub created: Option<Address>,
}

impl FrameResult {
    /// A result with no output.
    pub fn new(exit: ExitCode, gas: Gas) -> FrameResult {
        FrameResult {
            exit,
            output: Bytes::new(),
            gas,
            created: None,
        }
    }
}

/// Per-instruction observer (EIP-3155 tracing). The default no-op compiles away.
pub trait Tracer {
    /// Called before each instruction.
    fn step(&mut self, _frame: &Frame, _opcode: u8) {}
    /// Called after each instruction with its exit code (also when it suspends or halts).
    fn step_end(&mut self, _frame: &Frame, _exit: ExitCode) {}
}

/// The tracer that does nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoTracer;
impl Tracer for NoTracer {}

/// Where a suspended frame expects the callee's result.
#[derive(Clone, Copy, Debug)]
enum Pending {
    None,
    Call { out_offset: usize, out_len: usize },
    Create,
}

/// One executing (or suspended) message frame.
#[derive(Debug)]
pub struct Frame {
    code: Arc<Bytecode>,
    pc: usize,
    stack: Stack,
    memory: Memory,
    gas: Gas,
    return_data: Bytes,
    output: Bytes,
    spec: SpecId,
    pending: Pending,
    request: Option<Message>,
    /// The message that started the frame.
    pub msg: Message,
}

impl Frame {
    /// A new frame executing `code` for `msg` under `spec`.
    pub fn new(msg: Message, code: Arc<Bytecode>, spec: SpecId) -> Frame {
        Frame {
            code,
            pc: 0,
            stack: Stack::new(),
            memory: Memory::new(),
            gas: Gas::new(msg.gas_limit),
            return_data: Bytes::new(),
            output: Bytes::new(),
            spec,
            pending: Pending::None,
            request: None,
            msg,
        }
    }

    /// Program counter.
    pub fn pc(&self) -> usize {
        self.pc
    }
    /// Gas meter.
    pub fn gas(&self) -> &Gas {
        &self.gas
    }
    /// Operand stack.
    pub fn stack(&self) -> &Stack {
        &self.stack
    }
    /// Memory.
    pub fn memory(&self) -> &Memory {
        &self.memory
    }
    /// The code being run.
    pub fn code(&self) -> &Bytecode {
        &self.code
    }

    /// Runs until the frame finishes or suspends.
    pub fn run<H: Host, T: Tracer>(&mut self, host: &mut H, tracer: &mut T) -> Action {
        let exit = self.run_loop(host, tracer);
        self.finish(exit)
    }

    /// Turns an exit code into the driver action.
    fn finish(&mut self, exit: ExitCode) -> Action {
        match exit {
            ExitCode::Suspend => {
                let msg = self.take_request();
                Action::Call(Box::new(msg))
            }
            e => {
                let mut gas = self.gas;
                let output = if e.is_success() || e.is_revert() {
                    std::mem::take(&mut self.output)
                } else {
                    gas.remaining = 0;
                    gas.refund = 0;
                    Bytes::new()
                };
                if !e.is_success() {
                    gas.refund = 0;
                }
                Action::Done(FrameResult {
                    exit: e,
                    output,
                    gas,
                    created: None,
                })
            }
        }
    }

    #[inline(always)]
    fn run_loop<H: Host, T: Tracer>(&mut self, host: &mut H, tracer: &mut T) -> ExitCode {
        let gas_table = static_gas_table(self.spec);
        loop {
            let opcode = self.code.padded()[self.pc];
            tracer.step(self, opcode);
            let exit = self.step(host, opcode, gas_table[opcode as usize] as u64);
            tracer.step_end(self, exit);
            if !exit.is_continue() {
                return exit;
            }
        }
    }

    /// Executes one instruction (checks fork, static gas and stack bounds first).
    #[inline(always)]
    fn step<H: Host>(&mut self, host: &mut H, opcode: u8, static_gas: u64) -> ExitCode {
        let info = &OPCODE_INFO[opcode as usize];
        if !info.enabled_in(self.spec) {
            return ExitCode::InvalidOpcode;
        }
        if !self.gas.charge(static_gas) {
            return ExitCode::OutOfGas;
        }
        let len = self.stack.len();
        if len < info.inputs as usize {
            return ExitCode::StackUnderflow;
        }
        if len - info.inputs as usize + info.outputs as usize > STACK_LIMIT {
            return ExitCode::StackOverflow;
        }
        self.pc += 1;
        self.execute(host, opcode)
    }

    /// The instruction bodies, dispatched by opcode byte.
    #[inline(always)]
    fn execute<H: Host>(&mut self, host: &mut H, opcode: u8) -> ExitCode {
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
        std::array::from_fn(|_| self.stack.pop())
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
