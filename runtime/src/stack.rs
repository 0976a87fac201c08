//! The 1024-word operand stack shared by both tiers.
//!
//! Instruction bodies assume the caller has checked the bounds — per instruction in the
//! interpreter (one look-up in the per-fork check table), per basic block in compiled code (the
//! analysis' stack bounds) — as evmone does. The hot accessors (push, pop, peek, top, dup, swap)
//! therefore index without re-checking: the checked indexing they replaced was a compare and a
//! branch on every operand, about a tenth of the interpreter's instructions on stack-heavy code.
//! They keep `debug_assert!`s, so a bookkeeping bug is a panic in debug tests; in release it
//! would be memory corruption, which is why the unchecked code lives here and nowhere else.
//!
//! The checked-bounds invariant every caller upholds: before an instruction body runs,
//! `inputs <= len <= STACK_LIMIT + inputs - outputs` for that opcode (see
//! `opcode::Check`), and each body touches only the `inputs` items it consumes (or, for DUPn and
//! SWAPn, the `n`/`n + 1` items its row declares as inputs) and pushes at most `outputs`.
//!
//! Two views of the same buffer: [`Stack`], the frame's (its length a field that compiled code
//! and the cold instruction bodies read), and [`StackTop`], the interpreter's (the buffer's
//! address and the length as plain values the dispatch loop keeps in registers; see
//! `instructions::Running`). The hot bodies take the second, so an instruction no longer loads
//! and stores the frame's length: that store-to-load round trip was on the dependency chain of
//! every instruction.

use crate::word::U256;

/// Maximum number of items.
pub const STACK_LIMIT: usize = 1024;

/// A frame's operand stack: a heap buffer of [`STACK_LIMIT`] words and a length.
///
/// The buffer never moves while the frame lives, so compiled code can hold its address (mirrored
/// in `base`, read at [`Stack::BASE_OFFSET`]); `len` is read and written by compiled code at
/// [`Stack::LEN_OFFSET`]. Buffers are recycled through a small per-thread pool: a fresh one is
/// 32 KiB to allocate and zero, which dominated small calls (every frame needs one), while a
/// recycled one needs neither — words above `len` are never read, so stale values are harmless.
#[derive(Debug)]
pub struct Stack {
    data: Box<[U256]>,
    base: usize,
    len: usize,
}

/// Most recycled buffers kept per thread (32 KiB each).
const POOL_SIZE: usize = 64;

thread_local! {
    static POOL: std::cell::RefCell<Vec<Box<[U256]>>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Default for Stack {
    fn default() -> Self {
        Stack::new()
    }
}

impl Clone for Stack {
    fn clone(&self) -> Self {
        let mut s = Stack::new();
        s.data[..self.len].copy_from_slice(&self.data[..self.len]);
        s.len = self.len;
        s
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let data = std::mem::take(&mut self.data);
        if data.len() == STACK_LIMIT {
            // During thread teardown the pool may be gone: the buffer is then simply freed.
            let _ = POOL.try_with(|p| {
                if let Ok(mut p) = p.try_borrow_mut() {
                    if p.len() < POOL_SIZE {
                        p.push(data);
                    }
                }
            });
        }
    }
}

impl Stack {
    /// Byte offset of the length field.
    pub const LEN_OFFSET: usize = core::mem::offset_of!(Stack, len);
    /// Byte offset of the buffer's address (`usize`, stable for the stack's life).
    pub const BASE_OFFSET: usize = core::mem::offset_of!(Stack, base);

    /// An empty stack.
    pub fn new() -> Stack {
        let recycled = POOL
            .try_with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.pop()))
            .ok()
            .flatten();
        let mut data = recycled.unwrap_or_else(|| vec![U256::ZERO; STACK_LIMIT].into_boxed_slice());
        let base = data.as_mut_ptr() as usize;
        Stack { data, base, len: 0 }
    }

    /// Address of the bottom word (stable for the stack's life).
    #[inline]
    pub fn base_ptr(&mut self) -> *mut U256 {
        self.data.as_mut_ptr()
    }

    /// The stack as a [`StackTop`] (the caller writes the length back with [`Stack::set_len`]).
    #[inline(always)]
    pub(crate) fn top(&mut self) -> StackTop {
        StackTop {
            base: self.data.as_mut_ptr(),
            len: self.len,
        }
    }

    /// Takes back the length of a [`StackTop`] made by [`Stack::top`].
    #[inline(always)]
    pub(crate) fn set_len(&mut self, top: &StackTop) {
        debug_assert!(top.base == self.data.as_mut_ptr() && top.len <= STACK_LIMIT);
        self.len = top.len;
    }

    /// Number of items.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Items, bottom first.
    #[inline]
    pub fn as_slice(&self) -> &[U256] {
        &self.data[..self.len]
    }

    /// Pushes (caller checked for overflow).
    #[inline]
    pub fn push(&mut self, v: U256) {
        debug_assert!(self.len < STACK_LIMIT, "stack overflow past the checks");
        // SAFETY: the caller checked `len <= STACK_LIMIT + inputs - outputs` for an instruction
        // that pushes, so `len < STACK_LIMIT = data.len()` (module docs).
        unsafe { *self.data.get_unchecked_mut(self.len) = v };
        self.len += 1;
    }

    /// Pops (caller checked for underflow).
    #[inline]
    pub fn pop(&mut self) -> U256 {
        debug_assert!(self.len > 0, "stack underflow past the checks");
        self.len -= 1;
        // SAFETY: the caller checked `len >= inputs >= 1` for an instruction that pops, so the
        // new `len` is in `0..STACK_LIMIT` (module docs).
        unsafe { *self.data.get_unchecked(self.len) }
    }

    /// The `n`-th item from the top (0 = top).
    #[inline]
    pub fn peek(&self, n: usize) -> &U256 {
        debug_assert!(n < self.len, "stack underflow past the checks");
        // SAFETY: callers peek only at items their instruction declares as inputs, and
        // `len >= inputs` was checked (module docs).
        unsafe { self.data.get_unchecked(self.len - 1 - n) }
    }

    /// Mutable top item.
    #[inline]
    pub fn top_mut(&mut self) -> &mut U256 {
        debug_assert!(self.len > 0, "stack underflow past the checks");
        // SAFETY: the caller's instruction has at least one input, so `len >= 1` was checked.
        unsafe { self.data.get_unchecked_mut(self.len - 1) }
    }

    /// Clears the stack.
    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

/// The interpreter's view of a frame's [`Stack`]: the buffer's address and the length as plain
/// values, which the dispatch loop keeps in registers (the frame's `len` field, behind a
/// `&mut Frame` that opaque calls may change, had to be loaded and stored by every instruction).
///
/// Made from a live frame's stack by `Stack::top` and its length written back with
/// `Stack::set_len` before anything reads the frame's stack; `instructions::Running` holds the
/// frame's exclusive borrow for as long as a view exists, so the buffer outlives it and nothing
/// else touches it meanwhile. The accessors rest on the bounds invariant of the module docs, as
/// [`Stack`]'s do.
#[derive(Debug)]
pub struct StackTop {
    base: *mut U256,
    len: usize,
}

impl StackTop {
    /// Number of items.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Pushes (caller checked for overflow).
    #[inline(always)]
    pub fn push(&mut self, v: U256) {
        debug_assert!(self.len < STACK_LIMIT, "stack overflow past the checks");
        // SAFETY: `base` is the live buffer of `STACK_LIMIT` words (type docs), and the caller
        // checked `len <= STACK_LIMIT + inputs - outputs` for an instruction that pushes, so
        // `len < STACK_LIMIT` (module docs).
        unsafe { *self.base.add(self.len) = v };
        self.len += 1;
    }

    /// Pops (caller checked for underflow).
    #[inline(always)]
    pub fn pop(&mut self) -> U256 {
        debug_assert!(self.len > 0, "stack underflow past the checks");
        self.len -= 1;
        // SAFETY: live buffer (type docs); the caller checked `len >= inputs >= 1`, so the new
        // `len` is in `0..STACK_LIMIT` (module docs).
        unsafe { read_limbs(self.base.add(self.len)) }
    }

    /// The `n`-th item from the top (0 = top).
    #[inline(always)]
    pub fn peek(&self, n: usize) -> &U256 {
        debug_assert!(n < self.len, "stack underflow past the checks");
        // SAFETY: live buffer (type docs); callers peek only at items their instruction
        // declares as inputs, and `len >= inputs` was checked (module docs).
        unsafe { &*self.base.add(self.len - 1 - n) }
    }

    /// Mutable top item.
    #[inline(always)]
    pub fn top_mut(&mut self) -> &mut U256 {
        debug_assert!(self.len > 0, "stack underflow past the checks");
        // SAFETY: live buffer (type docs); the caller's instruction has at least one input, so
        // `len >= 1` was checked.
        unsafe { &mut *self.base.add(self.len - 1) }
    }

    /// The `n`-th item from the top (0 = top), read as limbs (see `read_limbs`).
    #[inline(always)]
    pub fn read(&self, n: usize) -> U256 {
        debug_assert!(n < self.len, "stack underflow past the checks");
        // SAFETY: as in `peek`.
        unsafe { read_limbs(self.base.add(self.len - 1 - n)) }
    }

    /// DUPn (n from 1).
    #[inline(always)]
    pub fn dup(&mut self, n: usize) {
        debug_assert!(n >= 1 && n <= self.len && self.len < STACK_LIMIT);
        // SAFETY: live buffer (type docs); DUPn's row has `n` inputs and `n + 1` outputs, so
        // the caller checked `n <= len <= STACK_LIMIT - 1`: both indices are in bounds.
        unsafe {
            let p = self.base;
            *p.add(self.len) = read_limbs(p.add(self.len - n));
        }
        self.len += 1;
    }

    /// SWAPn (n from 1).
    #[inline(always)]
    pub fn swap(&mut self, n: usize) {
        debug_assert!(n >= 1 && n < self.len);
        // SAFETY: live buffer (type docs); SWAPn's row has `n + 1` inputs, so `len >= n + 1`
        // was checked: `top` and `top - n` are distinct in-bounds indices.
        unsafe {
            let p = self.base;
            let top = self.len - 1;
            let (a, b) = (read_limbs(p.add(top)), read_limbs(p.add(top - n)));
            *p.add(top) = b;
            *p.add(top - n) = a;
        }
    }
}

/// Reads the word at `p` as four 8-byte loads, and no wider.
///
/// Why: the words on the stack are written and read back by consecutive instructions, so most
/// loads are served by store-to-load forwarding, which works only when the load lies within one
/// earlier store. The arithmetic writes 8-byte limbs, while the compiler copied whole words (DUP,
/// SWAP) and tested them (ISZERO, JUMPI's condition) with 16-byte vector loads: such a load of a
/// word written as limbs (an ADD's sum, a pushed immediate) cannot be forwarded and waits for the
/// stores to reach the cache, on the dependency chain of the instructions that follow (fib:
/// about a quarter of its time; `benches/PERFORMANCE.md`). Volatile reads are the way to keep
/// the compiler from merging the limb loads into vector ones; they compile to plain `mov`s.
///
/// # Safety
/// `p` is valid for reads of a `U256` (aligned, in the live stack buffer).
#[inline(always)]
unsafe fn read_limbs(p: *const U256) -> U256 {
    let q = p.cast::<u64>();
    // SAFETY: the caller's `p` is a valid, aligned `U256`, which is four `u64` limbs.
    unsafe {
        U256::from_limbs([
            core::ptr::read_volatile(q),
            core::ptr::read_volatile(q.add(1)),
            core::ptr::read_volatile(q.add(2)),
            core::ptr::read_volatile(q.add(3)),
        ])
    }
}
