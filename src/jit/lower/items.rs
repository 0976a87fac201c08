//! The stack's words followed through instructions by identity, before lowering: which words a
//! loop changes (`carry.rs`), and which words a block pops without reading them.
//!
//! A word a block pops unread on every path through it (`JUMPDEST SWAP2 POP POP` after a loop,
//! the `POP`s that drop a call's leftovers) is dead where the block starts: a jump there need
//! not store it in the stack buffer. Nothing can tell: the block never reads the word, and an
//! interpreter taking over at the block (a failed entry check) pops it as unread; only the
//! stack's length is observable (underflow, overflow), and that is unchanged. The buffer then
//! holds an older word in that slot, which is why the dead words are those popped by POP alone:
//! a DUP or any other instruction taking the word as an operand reads it, and a word still on
//! the stack at the block's end is live.

use crate::analysis::Analysis;
use ferrite_runtime::opcode::OPCODE_INFO;

/// The stack as its words' identities, top last: `Some(d)`, the word `d` deep where the
/// following started; `None`, a word computed since.
#[derive(Default)]
pub(super) struct Items {
    pub(super) stack: Vec<Option<usize>>,
    /// How many of the starting words `stack` models (its first items).
    pub(super) below: usize,
}

impl Items {
    /// The index of the item `depth` below the top, modelling deeper starting words as needed.
    fn reach(&mut self, depth: usize) -> usize {
        if depth >= self.stack.len() {
            let missing = depth + 1 - self.stack.len();
            let deeper = (self.below..self.below + missing).rev().map(Some);
            self.stack.splice(0..0, deeper);
            self.below += missing;
        }
        self.stack.len() - 1 - depth
    }

    /// Follows the words through one instruction: `read(d)` for each starting word `d` it
    /// reads (an operand, or copied by a DUP), `dropped(d)` for each a POP drops.
    pub(super) fn step(
        &mut self,
        opcode: u8,
        mut read: impl FnMut(usize),
        mut dropped: impl FnMut(usize),
    ) {
        match opcode {
            op @ 0x80..=0x8f => {
                let i = self.reach((op - 0x80) as usize);
                if let Some(d) = self.stack[i] {
                    read(d);
                }
                self.stack.push(self.stack[i]);
            }
            op @ 0x90..=0x9f => {
                let deep = self.reach((op - 0x90 + 1) as usize);
                let top = self.stack.len() - 1;
                self.stack.swap(deep, top);
            }
            0x50 => {
                let i = self.reach(0);
                if let Some(d) = self.stack[i] {
                    dropped(d);
                }
                self.stack.truncate(i);
            }
            op => {
                let info = &OPCODE_INFO[op as usize];
                if info.inputs > 0 {
                    let i = self.reach(info.inputs as usize - 1);
                    self.stack.drain(i..).flatten().for_each(&mut read);
                }
                self.stack
                    .extend(std::iter::repeat_n(None, info.outputs as usize));
            }
        }
    }
}

/// By block index: the words each block pops unread, bit `d` for the word `d` deep at its
/// entry (the 64 topmost words; deeper ones count as read), for the blocks `compiled` marks
/// (none for others: a chunk's function follows only its own blocks).
pub(super) fn dead_on_entry(a: &Analysis, compiled: &[bool]) -> Vec<u64> {
    a.blocks
        .iter()
        .zip(compiled)
        .map(|(bl, compiled)| {
            if !compiled {
                return 0;
            }
            let (mut read, mut dropped) = (0u64, 0u64);
            let bit = |d: usize| if d < 64 { 1u64 << d } else { 0 };
            let mut items = Items::default();
            for ins in &a.instrs[bl.instrs.clone()] {
                items.step(ins.opcode, |d| read |= bit(d), |d| dropped |= bit(d));
            }
            dropped & !read
        })
        .collect()
}
