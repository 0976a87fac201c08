//! The 1024-word operand stack shared by both tiers.
//!
//! Instruction bodies assume the caller has checked the bounds (per instruction in the
//! interpreter, per block once analysis does it), as evmone does; the accessors still use checked
//! indexing, so a bookkeeping bug is a panic in tests rather than memory corruption.

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
        self.data[self.len] = v;
        self.len += 1;
    }

    /// Pops (caller checked for underflow).
    #[inline]
    pub fn pop(&mut self) -> U256 {
        self.len -= 1;
        self.data[self.len]
    }

    /// The `n`-th item from the top (0 = top).
    #[inline]
    pub fn peek(&self, n: usize) -> &U256 {
        &self.data[self.len - 1 - n]
    }

    /// Mutable top item.
    #[inline]
    pub fn top_mut(&mut self) -> &mut U256 {
        &mut self.data[self.len - 1]
    }

    /// DUPn (n from 1).
    #[inline]
    pub fn dup(&mut self, n: usize) {
        self.data[self.len] = self.data[self.len - n];
        self.len += 1;
    }

    /// SWAPn (n from 1).
    #[inline]
    pub fn swap(&mut self, n: usize) {
        let top = self.len - 1;
        self.data.swap(top, top - n);
    }

    /// Clears the stack.
    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
    }
}
