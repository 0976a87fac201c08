//! The `extern "C"` helpers compiled code calls, and the ABI facts it relies on.
//!
//! [`for_each_builtin!`](crate::for_each_builtin) is the one list of helpers, in the wasmtime
//! `foreach_builtin_function!` pattern: each entry gives a helper's symbol name and its
//! parameters and result as ABI kinds. [`builtin_abi!`](crate::builtin_abi) reads a kind two
//! ways, as the exact Rust type (`frame` is `*mut Frame`, `word` is `*mut U256`, `u64` is `u64`)
//! and as the [`AbiType`] the JIT declares to Cranelift (every pointer kind is [`AbiType::Ptr`]).
//! [`Builtin::address`] takes each helper through the `unsafe extern "C" fn` pointer type its
//! entry describes, and [`Builtin::signature`] returns the same entry's [`AbiType`]s, so a helper
//! whose Rust signature disagrees with the list (a parameter added, `u64` made `u32`, a word
//! pointer where the frame is declared) fails to compile instead of being called with arguments
//! it does not expect. The state-free helpers are one line each: the list names them under their
//! family (unary, binary, ternary), whose template defines them, and [`PURE_HELPERS`] and
//! [`Builtin`] come from the same lines.
//!
//! The price is that each signature is written twice, in the list and on the function (or its
//! family's template), and that a helper may only use the kinds' types; the check compares
//! types, not meanings, so two `u64` parameters swapped on one side still compile.
//!
//! Compiled code receives `*mut Frame` and `*mut HostRef` and touches the frame only at the
//! offsets in [`offsets`] (computed with `offset_of!`, so they follow the Rust layout). Helpers
//! return a one-byte [`ExitCode`]; `0` means continue, anything else sends compiled code to its
//! single exit.

use crate::frame::Frame;
use crate::host::{EnvWords, Host};
use crate::word::U256;
use crate::{escape, ExitCode};

/// A thin pointer to a `dyn Host` (with the environment's words), which the frame notes while
/// compiled code runs it ([`Frame::set_jit_host`]): the helpers reach the host through it.
pub struct HostRef<'a> {
    /// The host.
    pub host: &'a mut (dyn Host + 'a),
    /// The environment's words, which compiled code reads at `offsets::HOST_ENV`; null when
    /// the program has no instruction that reads them.
    pub env: *const EnvWords,
}

/// Machine types of helper parameters and results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbiType {
    /// A pointer (`*mut Frame`, `*mut HostRef`, `*mut U256`: distinct kinds in the list, one
    /// machine type).
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
    /// Memory size in bytes less 31, saturating (usize): a word at offset `o` lies within
    /// memory exactly when `o` is below it.
    pub const MEM_WORD_LIMIT: usize = offset_of!(Frame, memory) + Memory::WORD_LIMIT_OFFSET;
    /// `frame.msg.target` (ADDRESS: 20 big-endian bytes).
    pub const MSG_TARGET: usize = offset_of!(Frame, msg) + offset_of!(Message, target);
    /// `frame.msg.caller` (CALLER: 20 big-endian bytes).
    pub const MSG_CALLER: usize = offset_of!(Frame, msg) + offset_of!(Message, caller);
    /// `frame.code_len` (CODESIZE, u64).
    pub const CODE_LEN: usize = offset_of!(Frame, code_len);
    /// `frame.input_len` (CALLDATASIZE, u64).
    pub const INPUT_LEN: usize = offset_of!(Frame, input_len);
    /// `frame.return_data_len` (RETURNDATASIZE, u64).
    pub const RETURN_DATA_LEN: usize = offset_of!(Frame, return_data_len);
    /// `frame.msg.value` (CALLVALUE: a `U256`, four little-endian limbs).
    pub const MSG_VALUE: usize = offset_of!(Frame, msg) + offset_of!(Message, value);
    /// `frame.self_balance` (SELFBALANCE's cached value, a `U256`).
    pub const SELF_BALANCE: usize = offset_of!(Frame, self_balance);
    /// `frame.self_balance_known` (u64: 1 when `SELF_BALANCE` holds the value).
    pub const SELF_BALANCE_KNOWN: usize = offset_of!(Frame, self_balance_known);
    /// `frame.jit_exit` (u8: the exit code compiled code returns next).
    pub const JIT_EXIT: usize = offset_of!(Frame, jit_exit);
    /// `frame.jit_host` (the address of the `HostRef` the helpers use, see
    /// [`Frame::set_jit_host`]).
    pub const JIT_HOST: usize = offset_of!(Frame, jit_host);
    /// `frame.jit_escape` (see [`escape`](crate::escape)).
    pub const JIT_ESCAPE: usize = offset_of!(Frame, jit_escape);
    /// `host_ref.env` (`*const EnvWords`), in the frame's `HostRef`.
    pub const HOST_ENV: usize = offset_of!(HostRef, env);
    /// The [`EnvWords`] field of `op`'s word, for the environment opcodes read in place.
    pub const fn env_word(op: crate::Opcode) -> Option<usize> {
        use crate::Opcode::*;
        Some(match op {
            ORIGIN => offset_of!(EnvWords, origin),
            GASPRICE => offset_of!(EnvWords, gas_price),
            COINBASE => offset_of!(EnvWords, coinbase),
            TIMESTAMP => offset_of!(EnvWords, timestamp),
            NUMBER => offset_of!(EnvWords, number),
            PREVRANDAO => offset_of!(EnvWords, prevrandao),
            GASLIMIT => offset_of!(EnvWords, gas_limit),
            CHAINID => offset_of!(EnvWords, chain_id),
            BASEFEE => offset_of!(EnvWords, basefee),
            BLOBBASEFEE => offset_of!(EnvWords, blob_basefee),
            _ => return None,
        })
    }
    /// `EnvWords::zero`, `blob_ptr` and `blob_len` (BLOBHASH).
    pub const ENV_ZERO: usize = offset_of!(EnvWords, zero);
    /// See [`ENV_ZERO`].
    pub const ENV_BLOB_PTR: usize = offset_of!(EnvWords, blob_ptr);
    /// See [`ENV_ZERO`].
    pub const ENV_BLOB_LEN: usize = offset_of!(EnvWords, blob_len);
    use super::HostRef;
    use crate::frame::Message;
    use crate::host::EnvWords;

    // The fields compiled code touches on every block lie where an x64 access takes a one-byte
    // displacement (see `Frame`).
    const _: () = {
        let hot = [
            PC,
            STACK_LEN,
            STACK_BASE,
            GAS_REMAINING,
            MEM_BASE,
            MEM_WORD_LIMIT,
            JIT_EXIT,
        ];
        let mut i = 0;
        while i < hot.len() {
            assert!(hot[i] < 128, "a hot frame field lies at offset 128 or more");
            i += 1;
        }
    };
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

/// Charges the static gas compiled code has accumulated since its last charge (this
/// instruction's included), then runs the body of the opcode on the frame (stack bounds already
/// checked by the compiled block). Charging here spares compiled code a gas check and an exit
/// path before every helper call. `op_gas` is the opcode in its low byte and that static gas
/// above it ([`exec_operand`]): one constant, which x64 moves into its argument register with
/// a 32-bit immediate nearly always, where two took a register more (6 bytes per call site).
///
/// A code other than `Continue` returns from compiled code's entry instead, where compiled
/// code was entered through [`escape::enter`] (x86-64 Linux; see [`escape`]).
///
/// # Safety
/// `frame` must be a valid, exclusive pointer for the duration of the call, and its host
/// ([`Frame::set_jit_host`]) a valid `HostRef` that nothing else uses meanwhile; called while
/// [`escape::enter`] runs the frame, only by the compiled code it entered.
pub unsafe extern "C" fn ferrite_exec(frame_ptr: *mut Frame, op_gas: u64, need: u64) -> u8 {
    // SAFETY: the caller's.
    let code = unsafe { ferrite_exec_last(frame_ptr, op_gas, need) };
    // SAFETY: compiled code entered through `escape::enter` with this frame called this
    // helper; nothing here is left to drop.
    unsafe { escape::exit(frame_ptr, code) }
}

/// [`ferrite_exec`] for an instruction that ends compiled code's block whatever it returns
/// (a terminator, or a call or create that suspends the frame): its call site returns the
/// code itself, so the helper returns every code rather than escaping, and the processor's
/// return predictions stay right (an escape returns elsewhere than the call came from).
///
/// # Safety
/// As for [`ferrite_exec`].
pub unsafe extern "C" fn ferrite_exec_last(frame: *mut Frame, op_gas: u64, need: u64) -> u8 {
    // SAFETY: the caller's.
    unsafe { exec_one(frame, exec_parts(op_gas).0, op_gas, need) }
}

/// The body of [`ferrite_exec_last`] for `opcode` (the operand's, or a constant that folds the
/// dispatch away in the per-opcode helpers of [`EXEC_HELPERS`]).
///
/// # Safety
/// As for [`ferrite_exec`].
#[inline(always)]
unsafe fn exec_one(frame: *mut Frame, opcode: u8, op_gas: u64, need: u64) -> u8 {
    // SAFETY: compiled code passes the frame pointer it was entered with, which the caller of
    // the compiled program guarantees is valid and not aliased during the call.
    let frame = unsafe { &mut *frame };
    // SAFETY: the program's runner set the frame's host to its `HostRef`, which lives, and is
    // used by nothing else, until the compiled function this call comes from returns.
    let host = unsafe { jit_host(frame) };
    let (_, static_gas) = exec_parts(op_gas);
    let code = if frame.gas.charge(static_gas) {
        let exit = frame.execute(host, opcode);
        need_left(frame, exit, need)
    } else {
        ExitCode::OutOfGas as u8
    };
    exit_with(frame, code)
}

/// [`ferrite_exec`]'s `op_gas` operand: `opcode` in the low byte, `static_gas` above it; `None`
/// if the gas does not fit the 56 bits left (the caller then charges it itself and passes 0).
pub fn exec_operand(opcode: u8, static_gas: u64) -> Option<u64> {
    (static_gas >> 56 == 0).then_some(static_gas << 8 | u64::from(opcode))
}

/// The opcode and the static gas of an [`exec_operand`].
#[inline(always)]
fn exec_parts(op_gas: u64) -> (u8, u64) {
    (op_gas as u8, op_gas >> 8)
}

/// Bits of [`ferrite_mexpand`]'s `pending_need` operand that hold the pending static gas.
pub const MEXPAND_PENDING_BITS: u32 = 16;

/// [`ferrite_mexpand`]'s `pending_need` operand; `None` if `pending` does not fit its
/// [`MEXPAND_PENDING_BITS`] bits (the caller then charges it first and passes 0) or `need` the
/// rest.
pub fn mexpand_operand(pending: u64, need: u64) -> Option<u64> {
    let fits = pending >> MEXPAND_PENDING_BITS == 0 && need >> (64 - MEXPAND_PENDING_BITS) == 0;
    fits.then_some(need << MEXPAND_PENDING_BITS | pending)
}

/// The pending gas and the need of a [`mexpand_operand`].
#[inline(always)]
fn mexpand_parts(pending_need: u64) -> (u64, u64) {
    (
        pending_need & ((1 << MEXPAND_PENDING_BITS) - 1),
        pending_need >> MEXPAND_PENDING_BITS,
    )
}

/// The host of a frame compiled code runs ([`Frame::set_jit_host`]).
///
/// # Safety
/// The frame's host must be the address of a live `HostRef` that nothing else uses for the
/// returned reference's lifetime.
#[inline(always)]
unsafe fn jit_host<'h>(frame: &Frame) -> &'h mut dyn Host {
    let href = frame.jit_host as *mut HostRef<'h>;
    debug_assert!(!href.is_null(), "compiled code runs without a host");
    // SAFETY: the caller's.
    unsafe { &mut *(*href).host }
}

/// Returns `code` to compiled code, noted in the frame for its return block (see
/// [`Frame::jit_exit`](crate::Frame)): every helper that returns an exit code returns it
/// through this.
#[inline(always)]
fn exit_with(frame: &mut Frame, code: u8) -> u8 {
    frame.jit_exit = code;
    code
}

/// `exit`, or out of gas if it continues with less than `need` gas left: the static gas compiled
/// code charges without checks up to its next call that may charge dynamic gas (or its block's
/// end). Halting here rather than at the instruction that would run out is the same result: the
/// instructions in between are state-free or write only memory and the stack, which a halt
/// discards, and no other halt can come first (the block's stack bounds were checked at its
/// entry, and an undefined opcode ends the stretch).
fn need_left(frame: &Frame, exit: ExitCode, need: u64) -> u8 {
    if exit == ExitCode::Continue && frame.gas.remaining < need {
        return ExitCode::OutOfGas as u8;
    }
    exit as u8
}

/// A dynamic jump to a destination compiled code has no direct branch for: validates it and hands
/// the frame to the interpreter there (or halts with an invalid jump).
///
/// # Safety
/// `frame` must be a valid, exclusive pointer.
pub unsafe extern "C" fn ferrite_jump_fallback(frame: *mut Frame, dest: u64) -> u8 {
    // SAFETY: as for `ferrite_exec`.
    let frame = unsafe { &mut *frame };
    let code = if frame.code.is_jumpdest(dest as usize) {
        frame.pc = dest as usize;
        ExitCode::Interpret
    } else {
        ExitCode::InvalidJump
    };
    exit_with(frame, code as u8)
}

/// Expands memory (charged) to hold the word at offset `low`, for an MLOAD or MSTORE whose word
/// lies outside current memory; compiled code then accesses the word inline. `high` is non-zero
/// when the offset does not fit 64 bits (the OR of its upper limbs): out of gas, as for the
/// interpreter. `pending_need` ([`mexpand_operand`]) holds, in its low
/// [`MEXPAND_PENDING_BITS`] bits, the static gas compiled code has yet to charge (this
/// instruction's included): the expansion must leave room for it, but it stays uncharged, so
/// that compiled code goes on with the same pending charge whether or not it called this; above
/// them, the `need` of [`ferrite_exec`]. One constant, which x64 moves with a 32-bit immediate
/// nearly always, where two took a register more (6 bytes per call site). Halts escape as
/// [`ferrite_exec`]'s do.
///
/// # Safety
/// `frame` must be a valid, exclusive pointer; called while [`escape::enter`] runs the frame,
/// only by the compiled code it entered.
pub unsafe extern "C" fn ferrite_mexpand(
    frame_ptr: *mut Frame,
    low: u64,
    high: u64,
    pending_need: u64,
) -> u8 {
    // SAFETY: as for `ferrite_exec`.
    let frame = unsafe { &mut *frame_ptr };
    let (pending, need) = mexpand_parts(pending_need);
    let code = if frame.gas.charge(pending) {
        // An offset beyond 64 bits is out of gas, as for the interpreter.
        let grown = match high {
            0 => frame.memory.expand_word_to_grow(&mut frame.gas, low),
            _ => Err(ExitCode::OutOfGas),
        };
        let exit = match grown {
            Ok(()) => ExitCode::Continue,
            Err(e) => e,
        };
        frame.gas.remaining += pending;
        need_left(frame, exit, need.saturating_add(pending))
    } else {
        ExitCode::OutOfGas as u8
    };
    let code = exit_with(frame, code);
    // SAFETY: compiled code entered through `escape::enter` with this frame called this
    // helper; nothing here is left to drop.
    unsafe { escape::exit(frame_ptr, code) }
}

/// Reads SELFBALANCE's value into the frame's cache ([`Frame::self_balance`]), where compiled
/// code then loads it (it calls this only when the cache is empty).
///
/// # Safety
/// As for [`ferrite_exec`].
pub unsafe extern "C" fn ferrite_selfbalance(frame: *mut Frame) {
    // SAFETY: as for `ferrite_exec`.
    let frame = unsafe { &mut *frame };
    // SAFETY: as for `ferrite_exec`.
    let host = unsafe { jit_host(frame) };
    frame.self_balance(host);
}

/// Limbs the C ABI passes on the stack (after the sixth integer argument on x86-64 System V),
/// read one by one: compiled code wrote them with 64-bit stores, and LLVM otherwise loads
/// neighbouring limbs as one 128-bit vector, which cannot be forwarded from two stores and
/// stalls (~40% of SDIV's helper time before this barrier).
#[inline(always)]
fn from_stack<const N: usize>(limbs: [u64; N]) -> [u64; N] {
    limbs.map(std::hint::black_box)
}

/// The word at `p` read as four 64-bit limbs: compiled code writes stack words as 64-bit
/// stores (i128 halves split in two), and a 128-bit load of two of them cannot be forwarded
/// from the stores and stalls (see [`from_stack`]).
///
/// # Safety
/// `p` must be valid for a read of one word.
#[inline(always)]
unsafe fn read_word(p: *const U256) -> U256 {
    let p = p.cast::<u64>();
    // SAFETY: the caller's; a word is four aligned limbs, little-endian.
    U256::from_limbs([0, 1, 2, 3].map(|i| unsafe { p.add(i).read_volatile() }))
}

/// Whether binary helper `opcode`'s body copies its operands to memory, where LLVM reads the
/// limbs passed on the stack as 128-bit vectors and [`from_stack`] must keep them apart: the
/// division family (its slow paths take the words by reference) and BYTE (indexes the word's
/// bytes). The others compute on the limbs in registers, where the barrier only cost stores and
/// loads (blake2b_huff's MUL and SHR helpers: 3.5% of its compiled run time). Checked by
/// listing each helper's vector loads from its stack arguments (`objdump -d`).
const fn copies_operands(opcode: u8) -> bool {
    use crate::opcode::op;
    matches!(opcode, op::DIV | op::SDIV | op::MOD | op::SMOD | op::BYTE)
}

/// Calls `$m!` with the one list of builtins: every helper compiled code calls, each a function
/// of the same name in [`builtins`](crate::builtins), with its parameters and result as ABI kinds
/// (see [`builtin_abi!`](crate::builtin_abi); no result for helpers that return nothing).
///
/// - `fn name(param: kind, …) -> kind;` is a helper written out in that module.
/// - `unary (param: kind, …) { name = OPCODE; … }`, and likewise `binary` and `ternary`, are the
///   per-opcode helpers for state-free word operations: the family's template defines each one,
///   with the family's parameters, for the opcode named after it. Giving compiled code a helper
///   for another opcode of [`instructions::pure`](crate::instructions::pure) is one line.
///
/// This module's own expansion defines the family helpers, [`Builtin`] and [`PURE_HELPERS`], and
/// binds every helper to the typed fn pointer its entry describes.
#[macro_export]
macro_rules! for_each_builtin {
    ($m:ident) => {
        $m! {
            fn ferrite_exec(frame: frame, op_gas: u64, need: u64) -> u8;
            fn ferrite_exec_last(frame: frame, op_gas: u64, need: u64) -> u8;
            fn ferrite_jump_fallback(frame: frame, dest: u64) -> u8;
            fn ferrite_mexpand(frame: frame, low: u64, high: u64, pending_need: u64) -> u8;
            fn ferrite_selfbalance(frame: frame);
            // `ferrite_exec` for one opcode each (the frequent host calls and hashes of
            // Solidity code): its body called directly, not through the dispatch over every
            // opcode.
            exec (frame: frame, op_gas: u64, need: u64) -> u8 {
                ferrite_sload = SLOAD;
                ferrite_sstore = SSTORE;
                ferrite_tload = TLOAD;
                ferrite_tstore = TSTORE;
                ferrite_calldataload = CALLDATALOAD;
                ferrite_keccak256 = KECCAK256;
                ferrite_exp = EXP;
                ferrite_calldatacopy = CALLDATACOPY;
                ferrite_returndatacopy = RETURNDATACOPY;
                ferrite_codecopy = CODECOPY;
                ferrite_mcopy = MCOPY;
            }
            // Operands by value as little-endian limbs, top of the stack first; the result goes
            // to `out`, the deepest operand's stack slot.
            // (CLZ, the family's last member, is now inline; the family stays for the next.)
            unary (out: word, a0: u64, a1: u64, a2: u64, a3: u64) {}
            binary (
                out: word,
                a0: u64, a1: u64, a2: u64, a3: u64,
                b0: u64, b1: u64, b2: u64, b3: u64,
            ) {
                ferrite_mul = MUL;
                ferrite_div = DIV;
                ferrite_sdiv = SDIV;
                ferrite_mod = MOD;
                ferrite_smod = SMOD;
                ferrite_signextend = SIGNEXTEND;
                ferrite_byte = BYTE;
                ferrite_shl = SHL;
                ferrite_shr = SHR;
                ferrite_sar = SAR;
            }
            // By reference: each operand where the stack buffer holds it; the result goes to
            // `out`, the deepest operand's slot.
            ternary (out: word, a: word, b: word, n: word) {
                ferrite_addmod = ADDMOD;
                ferrite_mulmod = MULMOD;
            }
        }
    };
}

/// Maps the ABI kinds of [`for_each_builtin!`](crate::for_each_builtin) to the exact Rust type a
/// helper must use and to the [`AbiType`] the JIT declares to Cranelift:
///
/// | kind | Rust | [`AbiType`] |
/// |---|---|---|
/// | `frame` | `*mut Frame` | `Ptr` |
/// | `word` | `*mut U256` | `Ptr` |
/// | `u8`, `u32`, `u64` | same | `I8`, `I32`, `I64` |
///
/// Forms, each over one entry's `(param: kind, …) -> kind` (`-> kind` absent for no result):
///
/// - `builtin_abi!(fn (…) -> kind)`: the `unsafe extern "C" fn` pointer type;
/// - `builtin_abi!(bind name (…) -> kind)`: the function `name` as that pointer type, which
///   does not compile unless `name`'s signature is exactly that one;
/// - `builtin_abi!(signature (…) -> kind)`: `(&'static [AbiType], AbiType)`, as
///   [`Builtin::signature`] returns.
///
/// # Examples
///
/// A helper that agrees with its entry:
///
/// ```
/// use ferrite_runtime::builtin_abi;
/// use ferrite_runtime::builtins::AbiType;
/// use ferrite_runtime::Frame;
///
/// unsafe extern "C" fn jump(_frame: *mut Frame, _dest: u64) -> u8 {
///     0
/// }
///
/// let _f = builtin_abi!(bind jump (frame: frame, dest: u64) -> u8);
/// assert_eq!(
///     builtin_abi!(signature (frame: frame, dest: u64) -> u8),
///     (&[AbiType::Ptr, AbiType::I64][..], AbiType::I8),
/// );
/// ```
///
/// The same entry rejects a helper whose `dest` is a `u32` (each example below differs from the
/// one above in that one type, so nothing else can make it fail to compile):
///
/// ```compile_fail,E0308
/// use ferrite_runtime::builtin_abi;
/// use ferrite_runtime::Frame;
///
/// unsafe extern "C" fn jump(_frame: *mut Frame, _dest: u32) -> u8 {
///     0
/// }
///
/// let _f = builtin_abi!(bind jump (frame: frame, dest: u64) -> u8);
/// ```
///
/// and one that takes a word pointer where the entry has the frame, though both are
/// [`AbiType::Ptr`] to Cranelift:
///
/// ```compile_fail,E0308
/// use ferrite_runtime::builtin_abi;
/// use ferrite_runtime::U256;
///
/// unsafe extern "C" fn jump(_frame: *mut U256, _dest: u64) -> u8 {
///     0
/// }
///
/// let _f = builtin_abi!(bind jump (frame: frame, dest: u64) -> u8);
/// ```
#[macro_export]
macro_rules! builtin_abi {
    (fn ($($p:ident: $k:ident),* $(,)?) $(-> $r:ident)?) => {
        unsafe extern "C" fn($($crate::builtin_abi!(type $k)),*) $(-> $crate::builtin_abi!(type $r))?
    };
    (bind $f:ident $params:tt $(-> $r:ident)?) => {{
        let f: $crate::builtin_abi!(fn $params $(-> $r)?) = $f;
        f
    }};
    (signature ($($p:ident: $k:ident),* $(,)?) $(-> $r:ident)?) => {{
        const SIGNATURE: (&[$crate::builtins::AbiType], $crate::builtins::AbiType) = (
            &[$($crate::builtin_abi!(abi $k)),*],
            $crate::builtin_abi!(result $($r)?),
        );
        SIGNATURE
    }};
    (result) => { $crate::builtins::AbiType::Void };
    (result $r:ident) => { $crate::builtin_abi!(abi $r) };
    (type frame) => { *mut $crate::frame::Frame };
    (type word) => { *mut $crate::word::U256 };
    (type u8) => { u8 };
    (type u32) => { u32 };
    (type u64) => { u64 };
    (abi frame) => { $crate::builtins::AbiType::Ptr };
    (abi word) => { $crate::builtins::AbiType::Ptr };
    (abi u8) => { $crate::builtins::AbiType::I8 };
    (abi u32) => { $crate::builtins::AbiType::I32 };
    (abi u64) => { $crate::builtins::AbiType::I64 };
}

/// The expansion of [`for_each_builtin!`](crate::for_each_builtin) for this crate.
///
/// The state-free helpers are one direct call per opcode with the opcode's body inlined: a shared
/// helper dispatching on the opcode cost a table look-up and an indirect jump per call. Unary
/// and binary operands come by value, because compiled code keeps them in registers and writes
/// words as 64-bit stores: a helper reading them back from the stack with 128-bit loads stalled
/// on store forwarding (two thirds of SDIV's helper time in snailtracer). The ternary ones come
/// by reference (the JIT's `by_reference` says why), read limb by limb ([`read_word`]) for the
/// same reason.
///
/// The templates spell out their parameters instead of deriving them from the family's kinds, so
/// that binding them to their entries checks them as it checks the written-out helpers.
macro_rules! define_builtins {
    (
        $(fn $name:ident $params:tt $(-> $ret:ident)?;)*
        exec $ep:tt -> u8 { $($e:ident = $eop:ident;)* }
        unary $up:tt { $($u:ident = $uop:ident;)* }
        binary $bp:tt { $($b:ident = $bop:ident;)* }
        ternary $tp:tt { $($t:ident = $top:ident;)* }
    ) => {
        $(
            #[doc = concat!("[`ferrite_exec`] for `", stringify!($eop), "` alone.")]
            ///
            /// # Safety
            /// As for [`ferrite_exec`].
            pub unsafe extern "C" fn $e(frame_ptr: *mut Frame, op_gas: u64, need: u64) -> u8 {
                // SAFETY: the caller's, as for `ferrite_exec`.
                let code = unsafe { exec_one(frame_ptr, crate::opcode::op::$eop, op_gas, need) };
                // SAFETY: as for `ferrite_exec`.
                unsafe { escape::exit(frame_ptr, code) }
            }
        )*
        $(
            #[doc = concat!("`", stringify!($uop), "` of the word `a`, written to `out`.")]
            ///
            /// # Safety
            /// `out` must be valid for a write of one word.
            pub unsafe extern "C" fn $u(out: *mut U256, a0: u64, a1: u64, a2: u64, a3: u64) {
                use crate::instructions::pure;
                let r = pure::unary(crate::opcode::op::$uop, U256::from_limbs([a0, a1, a2, a3]));
                // SAFETY: compiled code passes the deepest operand's slot, inside the frame's
                // stack buffer (bounds checked per block).
                unsafe { out.write(r) }
            }
        )*
        $(
            #[doc = concat!("`", stringify!($bop), "` of `a` (top) and `b`, written to `out`.")]
            ///
            /// # Safety
            /// `out` must be valid for a write of one word.
            #[allow(clippy::too_many_arguments, reason = "two words as limbs, in registers")]
            pub unsafe extern "C" fn $b(
                out: *mut U256,
                a0: u64, a1: u64, a2: u64, a3: u64,
                b0: u64, b1: u64, b2: u64, b3: u64,
            ) {
                use crate::instructions::pure;
                let [b1, b2, b3] = if copies_operands(crate::opcode::op::$bop) {
                    from_stack([b1, b2, b3])
                } else {
                    [b1, b2, b3]
                };
                let r = pure::binary_helper(
                    crate::opcode::op::$bop,
                    U256::from_limbs([a0, a1, a2, a3]),
                    U256::from_limbs([b0, b1, b2, b3]),
                );
                // SAFETY: as for the unary helpers.
                unsafe { out.write(r) }
            }
        )*
        $(
            #[doc = concat!("`", stringify!($top), "` of the words at `a` (top), `b` and `n`, written to `out`.")]
            ///
            /// # Safety
            /// `a`, `b` and `n` must be valid for a read of one word and `out` for a write
            /// (`out` may be one of the others: they are read first).
            pub unsafe extern "C" fn $t(out: *mut U256, a: *mut U256, b: *mut U256, n: *mut U256) {
                use crate::instructions::pure;
                // SAFETY: compiled code passes slots of the frame's stack buffer (bounds checked
                // per block).
                let [a, b, n] = [a, b, n].map(|p| unsafe { read_word(p) });
                // SAFETY: as above; the operands were read, so `out` aliases none of them.
                let out = unsafe { &mut *out };
                pure::ternary_helper(out, crate::opcode::op::$top, a, b, n);
            }
        )*

        /// The per-opcode versions of `ferrite_exec`: (opcode, builtin).
        pub const EXEC_HELPERS: &[(u8, Builtin)] = &[
            $((crate::opcode::op::$eop, Builtin::$e),)*
        ];

        /// The per-opcode helpers for state-free word operations: (opcode, builtin).
        pub const PURE_HELPERS: &[(u8, Builtin)] = &[
            $((crate::opcode::op::$uop, Builtin::$u),)*
            $((crate::opcode::op::$bop, Builtin::$b),)*
            $((crate::opcode::op::$top, Builtin::$t),)*
        ];

        define_builtins!(@ids
            $($name $params $(-> $ret)?;)*
            $($e $ep -> u8;)*
            $($u $up;)*
            $($b $bp;)*
            $($t $tp;)*
        );
    };
    (@ids $($name:ident $params:tt $(-> $ret:ident)?;)*) => {
        /// Identifies a builtin.
        #[allow(non_camel_case_types, reason = "variants are the helper symbol names")]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Builtin { $(
            #[doc = concat!("[`", stringify!($name), "`](fn@", stringify!($name), ")")]
            $name,
        )* }

        impl Builtin {
            /// Every builtin.
            pub const ALL: &'static [Builtin] = &[$(Builtin::$name),*];

            /// The symbol name.
            pub fn name(self) -> &'static str {
                match self { $(Builtin::$name => stringify!($name),)* }
            }

            /// The function's address, taken from the typed fn pointer its entry describes.
            pub fn address(self) -> *const u8 {
                match self {
                    $(Builtin::$name => crate::builtin_abi!(bind $name $params $(-> $ret)?) as *const u8,)*
                }
            }

            /// Parameter and result types, from the same entry.
            pub fn signature(self) -> (&'static [AbiType], AbiType) {
                match self {
                    $(Builtin::$name => crate::builtin_abi!(signature $params $(-> $ret)?),)*
                }
            }
        }
    };
}

for_each_builtin!(define_builtins);

#[cfg(test)]
mod tests {
    use super::{exec_operand, exec_parts, mexpand_operand, mexpand_parts, MEXPAND_PENDING_BITS};

    /// The opcode and the gas come back out as `ferrite_exec` reads them; gas beyond 56 bits
    /// does not pack.
    #[test]
    fn exec_operand_packs_opcode_and_gas() {
        for (op, gas) in [
            (0x00, 0),
            (0x54, 2100),
            (0xff, (1 << 56) - 1),
            (0xf1, 1 << 40),
        ] {
            let v = exec_operand(op, gas).expect("fits");
            assert_eq!(exec_parts(v), (op, gas));
        }
        assert_eq!(exec_operand(0x54, 1 << 56), None);
        assert_eq!(exec_operand(0x54, u64::MAX), None);
    }

    /// The per-opcode versions of `ferrite_exec` escape on a halt, so none may be for an
    /// instruction that ends compiled code's block (those call `ferrite_exec_last`), and each
    /// opcode has at most one.
    #[test]
    fn exec_helpers_are_for_instructions_that_go_on() {
        use crate::opcode::{flags, OPCODE_INFO};
        let mut seen = std::collections::HashSet::new();
        for (op, h) in super::EXEC_HELPERS {
            let info = &OPCODE_INFO[*op as usize];
            assert!(info.defined, "{h:?}");
            assert!(
                !info.has(flags::TERMINATOR) && !info.has(flags::SUSPENDS),
                "{h:?}"
            );
            assert!(seen.insert(*op), "two helpers for {}", info.name);
        }
    }

    /// The pending gas and the need come back out as `ferrite_mexpand` reads them.
    #[test]
    fn mexpand_operand_packs_pending_and_need() {
        let bits = MEXPAND_PENDING_BITS;
        for (pending, need) in [(0, 0), (3, 21), ((1 << bits) - 1, (1 << (64 - bits)) - 1)] {
            let v = mexpand_operand(pending, need).expect("fits");
            assert_eq!(mexpand_parts(v), (pending, need));
        }
        assert_eq!(mexpand_operand(1 << bits, 0), None);
        assert_eq!(mexpand_operand(0, 1 << (64 - bits)), None);
    }
}
