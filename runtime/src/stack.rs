//! The 1024-word operand stack shared by both tiers.
//!
//! Instruction bodies assume the caller has checked the bounds (per instruction in the
//! interpreter, per block once analysis does it), as evmone does; the accessors still use checked
//! indexing, so a bookkeeping bug is a panic in tests rather than memory corruption.

use crate::word::U256;

/// Maximum number of items.
pub const STACK_LIMIT: usize = 1024;

/// A frame's operand stack.
#[derive(Clone, Debug)]
pub struct Stack {
    data: Vec<U256>,
}

impl Default for Stack {
    fn default() -> Self {
        Stack::new()
    }
}

impl Stack {
    /// An empty stack with room for [`STACK_LIMIT`] items (never reallocates).
    pub fn new() -> Stack {
        Stack {
            data: Vec::with_capacity(STACK_LIMIT),
        }
    }

    /// Number of items.
    #[inline]
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Items, bottom first.
    #[inline]
    pub fn as_slice(&self) -> &[U256] {
        &self.data
    }

    /// Pushes (caller checked for overflow).
    #[inline]
    pub fn push(&mut self, v: U256) {
        debug_assert!(self.data.len() < STACK_LIMIT);
        self.data.push(v);
    }

    /// Pops (caller checked for underflow).
    #[inline]
    pub fn pop(&mut self) -> U256 {
        self.data.pop().unwrap_or_default()
    }

    /// The `n`-th item from the top (0 = top).
    #[inline]
    pub fn peek(&self, n: usize) -> &U256 {
        &self.data[self.data.len() - 1 - n]
    }

    /// Mutable top item.
    #[inline]
    pub fn top_mut(&mut self) -> &mut U256 {
        let n = self.data.len() - 1;
        &mut self.data[n]
    }

    /// DUPn (n from 1).
    #[inline]
    pub fn dup(&mut self, n: usize) {
        let v = self.data[self.data.len() - n];
        self.data.push(v);
    }

    /// SWAPn (n from 1).
    #[inline]
    pub fn swap(&mut self, n: usize) {
        let top = self.data.len() - 1;
        self.data.swap(top, top - n);
    }

    /// Clears the stack.
    #[inline]
    pub fn clear(&mut self) {
        self.data.clear();
    }
}
