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
use crate::instructions::Message;
use crate::{ExitCode, Memory, SpecId, Stack};
use alloy_primitives::{Address, Bytes};
use std::sync::Arc;

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
    Call { out_offset: usize, out_len: usize },
    Create,
}

/// One executing (or suspended) message frame.
#[derive(Debug)]
pub struct Frame {
    pub(crate) code: Arc<Bytecode>,
    pub(crate) pc: usize,
    pub(crate) stack: Stack,
    pub(crate) memory: Memory,
    pub(crate) gas: Gas,
    pub(crate) return_data: Bytes,
    pub(crate) output: Bytes,
    pub(crate) spec: SpecId,
    pub(crate) pending: Pending,
    pub(crate) request: Option<Message>,
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
