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

    /// Pops and returns a reference to the popped word (valid until the next push): no copy of
    /// the 32 bytes when the caller only reads them.
    #[inline]
    pub fn pop_ref(&mut self) -> &U256 {
        debug_assert!(self.len > 0, "stack underflow past the checks");
        self.len -= 1;
        // SAFETY: as in `pop`.
        unsafe { self.data.get_unchecked(self.len) }
    }

    /// Pops one word and returns it by reference together with the new top, for binary
    /// operators that replace their second operand in place.
    #[inline]
    pub fn pop_top(&mut self) -> (&U256, &mut U256) {
        debug_assert!(self.len >= 2, "stack underflow past the checks");
        self.len -= 1;
        // SAFETY: the caller checked `len >= inputs = 2`, so after the decrement both `len` and
        // `len - 1` are in bounds, and they are distinct, so the two references do not alias.
        unsafe {
            let p = self.data.as_mut_ptr();
            (&*p.add(self.len), &mut *p.add(self.len - 1))
        }
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

    /// DUPn (n from 1).
    #[inline]
    pub fn dup(&mut self, n: usize) {
        debug_assert!(n >= 1 && n <= self.len && self.len < STACK_LIMIT);
        // SAFETY: DUPn's row has `n` inputs and `n + 1` outputs, so the caller checked
        // `n <= len <= STACK_LIMIT - 1`: both indices are in bounds.
        unsafe {
            let p = self.data.as_mut_ptr();
            *p.add(self.len) = *p.add(self.len - n);
        }
        self.len += 1;
    }

    /// SWAPn (n from 1).
    #[inline]
    pub fn swap(&mut self, n: usize) {
        debug_assert!(n >= 1 && n < self.len);
        // SAFETY: SWAPn's row has `n + 1` inputs, so `len >= n + 1` was checked: `top` and
        // `top - n` are distinct in-bounds indices.
        unsafe {
            let p = self.data.as_mut_ptr();
            let top = self.len - 1;
            core::ptr::swap_nonoverlapping(p.add(top), p.add(top - n), 1);
        }
    }

    /// Clears the stack.
    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
    }
}
