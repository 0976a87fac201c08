//! How a frame ends: the one-byte exit code shared by interpreter, JIT helpers and the frame driver.
//!
//! `0` means "continue"; every other value ends (or suspends) the frame. Keeping it a `u8` lets
//! compiled code test a helper's result with one compare and branch to a single cold exit.

use core::fmt;

/// One-byte status returned by every instruction body and runtime helper.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExitCode {
    /// Keep executing.
    Continue = 0,
    /// STOP (or running off the end of the code).
    Stop = 1,
    /// RETURN.
    Return = 2,
    /// SELFDESTRUCT.
    SelfDestruct = 3,
    /// REVERT: state rolled back, remaining gas refunded to the caller.
    Revert = 4,
    /// The frame suspended for a nested CALL*/CREATE*; the driver resumes it.
    Suspend = 5,
    /// Compiled code hands the frame to the interpreter at `frame.pc` (a block's entry check
    /// failed, or the resume point is not a compiled block): the exact halt is the interpreter's.
    Interpret = 6,
    /// Out of gas (static, dynamic, memory expansion, or SSTORE under the stipend).
    OutOfGas = 0x10,
    /// Undefined opcode, INVALID (0xFE), or an opcode not yet enabled in the fork.
    InvalidOpcode = 0x11,
    /// JUMP/JUMPI to something other than a JUMPDEST.
    InvalidJump = 0x12,
    /// Too few stack items.
    StackUnderflow = 0x13,
    /// More than 1024 stack items.
    StackOverflow = 0x14,
    /// State modification inside STATICCALL.
    StaticCallViolation = 0x15,
    /// RETURNDATACOPY past the end of the return data buffer.
    OutOfOffset = 0x16,
    /// CREATE/CREATE2 to an address that already has code or a nonce.
    CreateCollision = 0x17,
    /// Deployed code larger than the EIP-170 limit.
    CreateContractSizeLimit = 0x18,
    /// Deployed code starting with 0xEF (EIP-3541).
    CreateContractStartingWithEF = 0x19,
    /// Initcode larger than the EIP-3860 limit.
    CreateInitCodeSizeLimit = 0x1a,
    /// A precompile rejected its input.
    PrecompileError = 0x1b,
    /// Nonce overflow on CREATE.
    NonceOverflow = 0x1c,
    /// Gas or an offset does not fit the implementation's limits (treated as out of gas).
    InvalidOperand = 0x1d,
}

impl ExitCode {
    /// True for `Continue`.
    #[inline]
    pub const fn is_continue(self) -> bool {
        matches!(self, ExitCode::Continue)
    }

    /// True for a successful end (STOP, RETURN, SELFDESTRUCT).
    #[inline]
    pub const fn is_success(self) -> bool {
        matches!(
            self,
            ExitCode::Stop | ExitCode::Return | ExitCode::SelfDestruct
        )
    }

    /// True for REVERT.
    #[inline]
    pub const fn is_revert(self) -> bool {
        matches!(self, ExitCode::Revert)
    }

    /// True for an exceptional halt (all gas consumed, state reverted).
    #[inline]
    pub const fn is_halt(self) -> bool {
        self as u8 >= 0x10
    }

    /// Decodes a byte produced by [`ExitCode::as_u8`].
    pub const fn from_u8(b: u8) -> Option<ExitCode> {
        use ExitCode::*;
        Some(match b {
            0 => Continue,
            1 => Stop,
            2 => Return,
            3 => SelfDestruct,
            4 => Revert,
            5 => Suspend,
            6 => Interpret,
            0x10 => OutOfGas,
            0x11 => InvalidOpcode,
            0x12 => InvalidJump,
            0x13 => StackUnderflow,
            0x14 => StackOverflow,
            0x15 => StaticCallViolation,
            0x16 => OutOfOffset,
            0x17 => CreateCollision,
            0x18 => CreateContractSizeLimit,
            0x19 => CreateContractStartingWithEF,
            0x1a => CreateInitCodeSizeLimit,
            0x1b => PrecompileError,
            0x1c => NonceOverflow,
            0x1d => InvalidOperand,
            _ => return None,
        })
    }

    /// The byte value.
    #[inline]
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// The status name printed by `ferrite run --json`.
    pub const fn name(self) -> &'static str {
        use ExitCode::*;
        match self {
            Continue => "Continue",
            Stop => "Stop",
            Return => "Return",
            SelfDestruct => "SelfDestruct",
            Revert => "Revert",
            Suspend => "Suspend",
            Interpret => "Interpret",
            OutOfGas => "OutOfGas",
            InvalidOpcode => "InvalidOpcode",
            InvalidJump => "InvalidJump",
            StackUnderflow => "StackUnderflow",
            StackOverflow => "StackOverflow",
            StaticCallViolation => "StaticCallViolation",
            OutOfOffset => "OutOfOffset",
            CreateCollision => "CreateCollision",
            CreateContractSizeLimit => "CreateContractSizeLimit",
            CreateContractStartingWithEF => "CreateContractStartingWithEF",
            CreateInitCodeSizeLimit => "CreateInitCodeSizeLimit",
            PrecompileError => "PrecompileError",
            NonceOverflow => "NonceOverflow",
            InvalidOperand => "InvalidOperand",
        }
    }
}

impl fmt::Display for ExitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for b in 0..=255u8 {
            if let Some(c) = ExitCode::from_u8(b) {
                assert_eq!(c.as_u8(), b);
            }
        }
        assert!(ExitCode::OutOfGas.is_halt());
        assert!(!ExitCode::Revert.is_halt());
        assert!(ExitCode::Return.is_success());
    }
}
