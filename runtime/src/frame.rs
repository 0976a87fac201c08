//! A message frame: the state one EVM call executes on, shared by every tier.
//!
//! The interpreter's dispatch loop and compiled code both run a [`Frame`]: its stack, memory, gas
//! and program counter are the single source of truth, so a compiled frame can hand over to the
//! interpreter mid-way (deoptimise) and both tiers execute the very same instruction bodies
//! ([`crate::instructions`]). A frame never calls another frame: CALL*/CREATE* *suspend* it with
//! [`Action::Call`]; the driver runs the callee and hands the result back through
//! [`Frame::resume`].

use crate::bytecode::Bytecode;
use crate::gas::Gas;
use crate::{ExitCode, Memory, SpecId, Stack};
use alloy_primitives::{Address, Bytes, U256};
use std::sync::Arc;

/// The four call flavours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// CALL: new context at the target, may transfer value.
    Call,
    /// CALLCODE: target's code in the caller's context, value sent to self.
    CallCode,
    /// DELEGATECALL: target's code in the caller's context with the caller's sender and value.
    DelegateCall,
    /// STATICCALL: like CALL without value, state writes forbidden.
    StaticCall,
}

/// What a message does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// A call of the given flavour.
    Call(CallKind),
    /// CREATE (`salt: None`) or CREATE2.
    Create {
        /// CREATE2 salt.
        salt: Option<U256>,
    },
}

/// A request to run a frame: the transaction's top-level call, or a nested CALL*/CREATE*.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Call or create.
    pub kind: MessageKind,
    /// CALLER inside the new frame.
    pub caller: Address,
    /// ADDRESS inside the new frame (storage context); for creates, set by the driver.
    pub target: Address,
    /// Whose code runs (for calls).
    pub code_address: Address,
    /// CALLVALUE inside the new frame.
    pub value: U256,
    /// Calldata, or initcode for creates.
    pub input: Bytes,
    /// Gas given to the frame (stipend included).
    pub gas_limit: u64,
    /// Inside a STATICCALL.
    pub is_static: bool,
    /// Call depth (0 for the transaction's own frame).
    pub depth: usize,
}

impl Message {
    /// A top-level CALL (depth 0, not static): `caller` calls `target`'s code with `value`,
    /// `input` and `gas_limit`.
    pub fn call(
        caller: Address,
        target: Address,
        value: U256,
        input: Bytes,
        gas_limit: u64,
    ) -> Message {
        Message {
            kind: MessageKind::Call(CallKind::Call),
            caller,
            target,
            code_address: target,
            value,
            input,
            gas_limit,
            is_static: false,
            depth: 0,
        }
    }

    /// Whether value actually moves (CALL, CALLCODE to self, creates) and from whom to whom.
    pub fn transfer(&self) -> Option<(Address, Address)> {
        match self.kind {
            MessageKind::Call(CallKind::Call) => Some((self.caller, self.target)),
            MessageKind::Call(CallKind::CallCode) => Some((self.caller, self.caller)),
            MessageKind::Call(_) => None,
            MessageKind::Create { .. } => Some((self.caller, self.target)),
        }
    }
}

/// First bytes of an EIP-7702 delegation designator.
pub const DELEGATION_PREFIX: [u8; 3] = [0xef, 0x01, 0x00];

/// The delegate address if `code` is an EIP-7702 designator (`0xef0100 ‖ address`).
pub fn delegation_target(code: &[u8]) -> Option<Address> {
    if code.len() == 23 && code[..3] == DELEGATION_PREFIX {
        Some(Address::from_slice(&code[3..]))
    } else {
        None
    }
}

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

/// Where a suspended frame expects the callee's result.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Pending {
    None,
    /// A call: where its output goes, and its input (a range of this frame's memory, read by
    /// the driver in place: see [`Frame::call_input`]).
    Call {
        out_offset: usize,
        out_len: usize,
        in_offset: usize,
        in_len: usize,
    },
    Create,
}

/// One executing (or suspended) message frame.
///
/// `repr(C)`, with the fields compiled code reads and writes on every block (stack length and
/// buffer, gas, pc, memory buffer and word limit, exit code) first: at offsets below 128, an
/// x64 access takes a one-byte displacement instead of four — three bytes less per access, some
/// 4,000 accesses in snailtracer's program (`builtins::offsets` asserts the bound).
#[derive(Debug)]
#[repr(C)]
pub struct Frame {
    pub(crate) stack: Stack,
    pub(crate) gas: Gas,
    pub(crate) pc: usize,
    pub(crate) memory: Memory,
    /// The exit code compiled code returns next: written by its own exits and by the helpers
    /// that return one (`builtins`), read by its one return block, so that no call site
    /// stores the code it was returned.
    pub(crate) jit_exit: u8,
    /// CODESIZE, CALLDATASIZE and RETURNDATASIZE as plain integers compiled code loads (the
    /// buffers' own lengths sit in types whose layout is not ours). The first two never change;
    /// `return_data_len` is set with `return_data`, only by [`Frame::set_return_data`].
    pub(crate) code_len: u64,
    pub(crate) input_len: u64,
    pub(crate) return_data_len: u64,
    /// SELFBALANCE's value while `self_balance_known` is 1 (see [`Frame::self_balance`]); a
    /// u64 flag because compiled code tests it with one load.
    pub(crate) self_balance_known: u64,
    pub(crate) self_balance: U256,
    pub(crate) code: Arc<Bytecode>,
    pub(crate) return_data: Bytes,
    pub(crate) output: Bytes,
    pub(crate) spec: SpecId,
    pub(crate) pending: Pending,
    pub(crate) request: Option<Message>,
    /// The message that started the frame.
    pub msg: Message,
    /// While compiled code runs the frame: the address of the `HostRef` its helpers reach the
    /// host through (see [`Frame::set_jit_host`]); 0 otherwise. A plain address, not a pointer
    /// field, so that the frame stays `Send`; only the helpers turn it back into a reference.
    pub(crate) jit_host: usize,
    /// While compiled code runs the frame on a host where helpers escape
    /// ([`escape`](crate::escape)): the stack pointer a helper that halts returns through.
    pub(crate) jit_escape: usize,
}

impl Frame {
    /// Notes the host compiled code's helpers reach while compiled code runs this frame (the
    /// program's runner sets it before each entry; a compiled function then needs no host
    /// argument of its own, nor a stack slot to keep it in for its helper calls).
    pub fn set_jit_host(&mut self, host: *mut crate::builtins::HostRef<'_>) {
        self.jit_host = host as usize;
    }

    /// A new frame executing `code` for `msg` under `spec`.
    pub fn new(msg: Message, code: Arc<Bytecode>, spec: SpecId) -> Frame {
        Frame {
            code_len: code.raw().len() as u64,
            input_len: msg.input.len() as u64,
            return_data_len: 0,
            self_balance: U256::ZERO,
            self_balance_known: 0,
            jit_exit: 0,
            jit_host: 0,
            jit_escape: 0,
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

    /// Replaces the return data buffer (and the length compiled code reads).
    pub(crate) fn set_return_data(&mut self, data: Bytes) {
        self.return_data_len = data.len() as u64;
        self.return_data = data;
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
    /// The input of the call this frame is suspended on (empty when it is not suspended on a
    /// call): a range of the frame's memory, valid until the frame resumes. The request's
    /// [`Message::input`] is left empty; the driver reads the input here.
    pub fn call_input(&self) -> &[u8] {
        match self.pending {
            Pending::Call {
                in_offset, in_len, ..
            } if in_len > 0 => self.memory.slice(in_offset, in_len),
            _ => &[],
        }
    }

    /// The code being run.
    pub fn code(&self) -> &Bytecode {
        &self.code
    }

    /// Turns the exit code that stopped the frame into the driver action.
    pub fn finish(&mut self, exit: ExitCode) -> Action {
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

    /// Sets the program counter (used when a compiled frame hands over to the interpreter).
    pub fn set_pc(&mut self, pc: usize) {
        self.pc = pc;
    }
    /// The fork.
    pub fn spec(&self) -> SpecId {
        self.spec
    }
}
