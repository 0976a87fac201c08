//! The 1024-word operand stack shared by both tiers.
//!
//! Instruction bodies assume the caller has checked the bounds (per instruction in the
//! interpreter, per block once analysis does it), as evmone does; the accessors still use checked
//! indexing, so a bookkeeping bug is a panic in tests rather than memory corruption.

use crate::word::U256;

/// Maximum number of items.
pub const STACK_LIMIT: usize = 1024;

/// A frame's operand stack: a fixed heap buffer of [`STACK_LIMIT`] words and a length.
///
/// The buffer never moves while the frame lives, so compiled code can hold its address; `len` is
/// read and written by compiled code at [`Stack::LEN_OFFSET`].
#[derive(Clone, Debug)]
pub struct Stack {
    data: Box<[U256; STACK_LIMIT]>,
    len: usize,
}

impl Default for Stack {
    fn default() -> Self {
        Stack::new()
    }
}

impl Stack {
    /// Byte offset of the length field.
    pub const LEN_OFFSET: usize = core::mem::offset_of!(Stack, len);

    /// An empty stack.
    pub fn new() -> Stack {
        let data: Box<[U256; STACK_LIMIT]> = vec![U256::ZERO; STACK_LIMIT]
            .into_boxed_slice()
            .try_into()
            .unwrap_or_else(|_| unreachable!("the vector has STACK_LIMIT items"));
        Stack { data, len: 0 }
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
