//! `ferrite-runtime`: the EVM semantics shared by every ferrite tier.
//!
//! This crate is the single home of what an opcode *means*: the opcode table ([`opcode`]), forks
//! ([`fork`]), the gas schedule ([`gas`]), 256-bit word semantics ([`word`]), memory and stack, the
//! [`host::Host`] trait, the one-byte [`exit::ExitCode`], the message [`frame::Frame`] and the
//! instruction bodies ([`instructions`]). The interpreter's loop calls the bodies directly; compiled
//! code calls them through the `extern "C"` helpers of [`builtins`], entered through [`escape`],
//! which lets a helper that halts return straight to compiled code's caller. Nothing here knows about
//! Cranelift, so the semantics can be tested, fuzzed and reused without the code generator.

pub mod builtins;
pub mod bytecode;
pub mod escape;
pub mod exit;
pub mod fork;
pub mod frame;
pub mod gas;
pub mod host;
pub mod instructions;
pub mod memory;
pub mod opcode;
pub mod stack;
pub mod word;

pub use exit::ExitCode;
pub use fork::SpecId;
pub use frame::{
    delegation_target, Action, CallKind, Frame, FrameResult, Message, MessageKind,
    DELEGATION_PREFIX,
};
pub use host::{Bytes, Env, EnvWords, Host, Log, StateLoad};
pub use memory::Memory;
pub use opcode::{OpInfo, Opcode, OPCODE_INFO};
pub use stack::{Stack, STACK_LIMIT};
pub use word::{Address, B256, U256};
