//! The `extern "C"` helpers compiled code calls, and the ABI facts it relies on.
//!
//! [`for_each_builtin!`] is the one list of helpers: each line gives the symbol name, the Rust
//! function and its parameter/return types as [`AbiType`]s. The JIT walks the same list to
//! register symbols and to declare Cranelift signatures, so a helper cannot be declared twice or
//! drift from its definition (the wasmtime `foreach_builtin_function!` pattern, avoiding revmc's
//! double declarations).
//!
//! Compiled code receives `*mut Frame` and `*mut HostRef` and touches the frame only at the
//! offsets in [`offsets`] (computed with `offset_of!`, so they follow the Rust layout). Helpers
//! return a one-byte [`ExitCode`]; `0` means continue, anything else sends compiled code to its
//! single exit.

use crate::frame::Frame;
use crate::host::Host;
use crate::word::U256;
use crate::ExitCode;

/// A thin pointer to a `dyn Host`, so compiled code can pass the host through the C ABI.
pub struct HostRef<'a> {
    /// The host.
    pub host: &'a mut (dyn Host + 'a),
}

/// Machine types of helper parameters and results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbiType {
    /// A pointer (`*mut Frame`, `*mut HostRef`).
    Ptr,
    /// A 32-bit integer.
    I32,
    /// A 64-bit integer.
    I64,
    /// An 8-bit integer (the exit code).
    I8,
    /// No result.
    Void,
}

/// Byte offsets of the frame fields compiled code reads and writes.
pub mod offsets {
    use crate::frame::Frame;
    use crate::gas::Gas;
    use crate::memory::Memory;
    use crate::stack::Stack;
    use core::mem::offset_of;

    /// `frame.pc` (usize).
    pub const PC: usize = offset_of!(Frame, pc);
    /// `frame.stack.len` (usize).
    pub const STACK_LEN: usize = offset_of!(Frame, stack) + Stack::LEN_OFFSET;
    /// Address of the stack buffer (`*mut U256`, stable while the frame lives).
    pub const STACK_BASE: usize = offset_of!(Frame, stack) + Stack::BASE_OFFSET;
    /// `frame.gas.remaining` (u64).
    pub const GAS_REMAINING: usize = offset_of!(Frame, gas) + offset_of!(Gas, remaining);
    /// Address of the memory buffer (usize).
    pub const MEM_BASE: usize = offset_of!(Frame, memory) + Memory::BASE_OFFSET;
    /// Memory size in bytes (usize).
    pub const MEM_SIZE: usize = offset_of!(Frame, memory) + Memory::SIZE_OFFSET;
}

const _: () = {
    assert!(
        core::mem::size_of::<U256>() == 32,
        "compiled code assumes 4 little-endian u64 limbs"
    );
    assert!(core::mem::align_of::<U256>() == 8);
    assert!(
        core::mem::size_of::<usize>() == 8,
        "compiled code assumes 64-bit pointers"
    );
};

/// Runs the body of `opcode` on the frame (checks already done by the compiled block).
///
/// # Safety
/// `frame` and `host` must be valid, exclusive pointers for the duration of the call.
pub unsafe extern "C" fn ferrite_exec(
    frame: *mut Frame,
    host: *mut HostRef<'_>,
    opcode: u32,
) -> u8 {
    // SAFETY: compiled code passes the frame and host pointers it was entered with, which the
    // caller of the compiled program guarantees are valid and not aliased during the call.
    let (frame, host) = unsafe { (&mut *frame, &mut *(*host).host) };
    frame.execute(host, opcode as u8) as u8
}

/// A dynamic jump to a destination compiled code has no direct branch for: validates it and hands
/// the frame to the interpreter there (or halts with an invalid jump).
///
/// # Safety
/// `frame` must be a valid, exclusive pointer.
pub unsafe extern "C" fn ferrite_jump_fallback(frame: *mut Frame, dest: u64) -> u8 {
    // SAFETY: as for `ferrite_exec`.
    let frame = unsafe { &mut *frame };
    if frame.code.is_jumpdest(dest as usize) {
        frame.pc = dest as usize;
        ExitCode::Interpret as u8
    } else {
        ExitCode::InvalidJump as u8
    }
}

/// A state-free word operation on operands in place: `top` is the stack's top slot; the result
/// replaces the deepest operand (so the stack shrinks by inputs − 1).
///
/// # Safety
/// `top` and the `inputs − 1` slots below it must be valid stack slots.
#[inline(always)]
unsafe fn pure_in_place(top: *mut U256, op: u8) {
    use crate::instructions::pure;
    // SAFETY: the compiled block checked the stack bounds for this instruction's inputs, so the
    // slots `top - (inputs - 1) ..= top` lie inside the frame's stack buffer.
    unsafe {
        match crate::opcode::OPCODE_INFO[op as usize].inputs {
            1 => *top = pure::unary(op, *top),
            2 => *top.sub(1) = pure::binary(op, *top, *top.sub(1)),
            _ => *top.sub(2) = pure::ternary(op, *top, *top.sub(1), *top.sub(2)),
        }
    }
}

/// One helper per state-free opcode, so the operation is a direct call with the opcode's body
/// inlined (a shared helper dispatching on the opcode cost a table look-up and an indirect jump
/// per call), and [`PURE_HELPERS`] mapping opcodes to them.
macro_rules! pure_helpers {
    ($($name:ident = $op:ident;)*) => {
        $(
            #[doc = concat!("`", stringify!($op), "` on operands in place: `top` is the stack's top")]
            /// slot; the result replaces the deepest operand.
            ///
            /// # Safety
            /// `top` and the slots below it that the opcode reads must be valid stack slots.
            pub unsafe extern "C" fn $name(top: *mut U256) {
                // SAFETY: the caller upholds this function's contract, which is
                // `pure_in_place`'s for this opcode.
                unsafe { pure_in_place(top, crate::opcode::op::$op) }
            }
        )*

        /// The per-opcode helpers for state-free word operations: (opcode, builtin).
        pub const PURE_HELPERS: &[(u8, Builtin)] = &[$((crate::opcode::op::$op, Builtin::$name)),*];
    };
}

pure_helpers! {
    ferrite_mul = MUL;
    ferrite_div = DIV;
    ferrite_sdiv = SDIV;
    ferrite_mod = MOD;
    ferrite_smod = SMOD;
    ferrite_addmod = ADDMOD;
    ferrite_mulmod = MULMOD;
    ferrite_signextend = SIGNEXTEND;
    ferrite_slt = SLT;
    ferrite_sgt = SGT;
    ferrite_byte = BYTE;
    ferrite_shl = SHL;
    ferrite_shr = SHR;
    ferrite_sar = SAR;
    ferrite_clz = CLZ;
}

/// Calls `$m!` with the list of builtins: `name, function, [params], result`.
#[macro_export]
macro_rules! for_each_builtin {
    ($m:ident) => {
        $m! {
            ferrite_exec = $crate::builtins::ferrite_exec, [Ptr, Ptr, I32], I8;
            ferrite_jump_fallback = $crate::builtins::ferrite_jump_fallback, [Ptr, I64], I8;
            ferrite_mul = $crate::builtins::ferrite_mul, [Ptr], Void;
            ferrite_div = $crate::builtins::ferrite_div, [Ptr], Void;
            ferrite_sdiv = $crate::builtins::ferrite_sdiv, [Ptr], Void;
            ferrite_mod = $crate::builtins::ferrite_mod, [Ptr], Void;
            ferrite_smod = $crate::builtins::ferrite_smod, [Ptr], Void;
            ferrite_addmod = $crate::builtins::ferrite_addmod, [Ptr], Void;
            ferrite_mulmod = $crate::builtins::ferrite_mulmod, [Ptr], Void;
            ferrite_signextend = $crate::builtins::ferrite_signextend, [Ptr], Void;
            ferrite_slt = $crate::builtins::ferrite_slt, [Ptr], Void;
            ferrite_sgt = $crate::builtins::ferrite_sgt, [Ptr], Void;
            ferrite_byte = $crate::builtins::ferrite_byte, [Ptr], Void;
            ferrite_shl = $crate::builtins::ferrite_shl, [Ptr], Void;
            ferrite_shr = $crate::builtins::ferrite_shr, [Ptr], Void;
            ferrite_sar = $crate::builtins::ferrite_sar, [Ptr], Void;
            ferrite_clz = $crate::builtins::ferrite_clz, [Ptr], Void;
        }
    };
}

macro_rules! declare_ids {
    ($($name:ident = $f:path, [$($p:ident),*], $r:ident;)*) => {
        /// Identifies a builtin.
        #[allow(non_camel_case_types, reason = "variants are the helper symbol names")]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Builtin { $(
            #[doc = concat!("`", stringify!($name), "`")]
            $name,
        )* }

        impl Builtin {
            /// Every builtin.
            pub const ALL: &'static [Builtin] = &[$(Builtin::$name),*];

            /// The symbol name.
            pub fn name(self) -> &'static str {
                match self { $(Builtin::$name => stringify!($name),)* }
            }

            /// The function's address.
            pub fn address(self) -> *const u8 {
                match self { $(Builtin::$name => $f as *const u8,)* }
            }

            /// Parameter and result types.
            pub fn signature(self) -> (&'static [AbiType], AbiType) {
                match self { $(Builtin::$name => (&[$(AbiType::$p),*], AbiType::$r),)* }
            }
        }
    };
}

for_each_builtin!(declare_ids);
