//! Escapes: a helper that halts compiled code returns straight to the code's caller.
//!
//! Compiled code calls `ferrite_exec` (an instruction's body) and `ferrite_mexpand` (memory
//! growth) hundreds of times per contract, and each may halt it (out of gas, a stack or memory
//! error, a revert) or suspend it (CALL/CREATE). Branching on the exit code after every such
//! call cost a compare, a branch and two blocks per call site (the branch's edge to the shared
//! exit is critical, so Cranelift splits it): a twelfth of snailtracer's compile work (figures in
//! `benches/PERFORMANCE.md`). Instead, on x86-64 Linux the driver enters compiled code through
//! [`enter`], which saves the callee-saved registers and notes its stack pointer in the frame
//! ([`JIT_ESCAPE`](crate::builtins::offsets::JIT_ESCAPE)), and the two helpers end with
//! [`exit`], which returns only `Continue`: any other code it returns from [`enter`] itself, by
//! resetting the stack pointer to the one [`enter`] noted, as the compiled function would have
//! from its one return block (the helper has noted the code in the frame already).
//!
//! The frames skipped are compiled code's, which hold nothing to drop, and the helper's own,
//! left when all it holds is the code (wasmtime's libcalls leave theirs the same way when they
//! raise a trap); the registers they saved are restored from [`enter`]'s copies, the pinned
//! frame register (r15) included. [`ESCAPES`] tells the lowering whether call sites may omit
//! the check; elsewhere the helpers return every code and every call site checks.

use crate::frame::Frame;

/// Whether helper calls escape on a halt here (see the module docs): compiled code for this host
/// then needs no exit check after `ferrite_exec` and `ferrite_mexpand`.
pub const ESCAPES: bool = cfg!(all(target_arch = "x86_64", target_os = "linux"));

/// A compiled function: the frame (its host noted in it, `Frame::set_jit_host`), and the index
/// of the entry `frame.pc` is at (any index the function has no entry for hands the frame to
/// the interpreter); it returns the exit code.
pub type Entry = unsafe extern "C" fn(*mut Frame, u32) -> u8;

/// Runs compiled function `f` on `frame` from entry `index`, returning its exit code, or the
/// code a helper escaped with.
///
/// # Safety
/// `f` must be compiled code following `Entry`'s C ABI, `frame` valid and exclusive for the
/// call, and the frame's host set as the helpers require.
pub unsafe fn enter(f: Entry, frame: *mut Frame, index: u32) -> u8 {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    {
        // SAFETY: the caller's; `x64::enter` calls `f` with the same arguments under the C ABI
        // and returns its result, or the code a helper escaped with to its saved stack.
        let code = unsafe { x64::enter(frame, index, f) };
        // The stack it noted is gone: a helper called outside compiled code returns its code.
        // SAFETY: `frame` is valid and exclusive (the caller's).
        unsafe { (*frame).jit_escape = 0 };
        code
    }
    #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
    {
        // SAFETY: the caller's.
        unsafe { f(frame, index) }
    }
}

/// Returns `code`, a helper's exit code already noted in the frame, to compiled code: where
/// helpers escape ([`ESCAPES`]) and `code` is not `Continue` (0), to the caller of the compiled
/// code instead, as its return block would have. Called last in the helper, whose own frame
/// holds nothing to drop by then (it is skipped, as wasmtime's libcalls are by its traps).
///
/// # Safety
/// `frame` must be valid; while [`enter`] runs it, the caller must be a helper that compiled code
/// called, with nothing left to drop. (Outside [`enter`] the frame notes no stack, and the code
/// is returned.)
#[inline(always)]
pub unsafe fn exit(frame: *mut Frame, code: u8) -> u8 {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    // SAFETY: `frame` is valid (the caller's); 0 unless `enter` is running it.
    if code != 0 && unsafe { (*frame).jit_escape } != 0 {
        // SAFETY: the caller's: `enter` noted the stack pointer to return through in `frame`,
        // and only compiled code's frames and the helper's lie above it.
        unsafe { x64::escape(frame, code) }
    }
    let _ = frame;
    code
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod x64 {
    use super::{Entry, Frame};
    use crate::builtins::offsets;

    /// Saves the callee-saved registers, then pushes the address of its own epilogue and notes
    /// the stack pointer there in the frame: [`escape`] loads that stack pointer and returns,
    /// which pops the epilogue's address and lands in it with the code in `al`. Stack: 8 mod 16
    /// on entry, six pushes, then the epilogue's address: aligned for the call.
    ///
    /// # Safety
    /// As [`super::enter`].
    #[unsafe(naked)]
    pub(super) unsafe extern "C" fn enter(frame: *mut Frame, index: u32, f: Entry) -> u8 {
        core::arch::naked_asm!(
            "push rbp",
            "mov rbp, rsp",
            "push rbx",
            "push r12",
            "push r13",
            "push r14",
            "push r15",
            "lea rax, [rip + 2f]",
            "push rax",
            "mov [rdi + {escape}], rsp",
            "call rdx",
            "add rsp, 8",
            "2:",
            "pop r15",
            "pop r14",
            "pop r13",
            "pop r12",
            "pop rbx",
            "pop rbp",
            "ret",
            escape = const offsets::JIT_ESCAPE,
        )
    }

    /// Returns `code` from [`enter`]: loads the stack pointer it noted in the frame and returns,
    /// which pops the address of its epilogue and lands there with the code in `al`.
    ///
    /// # Safety
    /// As [`super::exit`].
    #[unsafe(naked)]
    pub(super) unsafe extern "C" fn escape(frame: *mut Frame, code: u8) -> ! {
        core::arch::naked_asm!(
            "mov eax, esi",
            "mov rsp, [rdi + {escape}]",
            "ret",
            escape = const offsets::JIT_ESCAPE,
        )
    }
}
