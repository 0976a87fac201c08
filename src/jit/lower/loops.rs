//! Loop back edges: a static jump back to the head of its run, with the stack length the head
//! was entered with, enters past the head's stack check and checks only the gas.
//!
//! A run's entry check ([`Lower::entry_check`]) compares the stack length with the run's
//! bounds and the gas left with the run's static gas. When a block that the head reaches only
//! by falling through (no JUMPDEST between them, no entry of the function) jumps back to the
//! head, and the blocks on the way leave the stack length as they found it, the length at the
//! jump is the one the head's check passed when this iteration entered: its stack bounds hold
//! again, and only the gas can have run short. A loop whose condition and body form one run (a
//! `for` loop as Solidity and Huff compile it: fibonacci's) so checks a register against a
//! constant per iteration instead of the length's bounds too. A back edge whose check fails
//! hands over to the interpreter at the head, as any failed entry does.
//!
//! Only the analysis's static jumps count: a jump the lowering folds to a constant may come
//! from a block whose length the analysis did not tie to the head's.

use super::stack::Cursor;
use super::{fall_through_only, gas, Lower};
use crate::analysis::{Analysis, Exit};
use cranelift_codegen::ir::{Block, InstBuilder, Value};

/// The back edges of a function and the blocks they go to.
pub(super) struct Loops {
    /// By block index: whether the block's static jump is a back edge to its run's head.
    back: Vec<bool>,
    /// By block index, for the heads of back edges that are not chained: the IR block after
    /// the head's entry check, which back edges go to once their gas check passes (a chained
    /// head's is its body, [`Lower::bodies`]).
    bodies: Vec<Option<Block>>,
    /// By block index: whether some back edge goes to the block.
    heads: Vec<bool>,
    /// By block index, for heads: the last block of its run with a back edge to it.
    last: Vec<Option<usize>>,
    /// By block index: the gas-only entry of a head, made by the first back edge lowered.
    entries: Vec<Option<Block>>,
    /// By block index: the hand-over to the interpreter of a head's entry check, which its
    /// back edges share.
    deopts: Vec<Option<Block>>,
}

impl Loops {
    /// The back edges among `a`'s blocks, where `chained` (by block index, see
    /// [`super::chained`]) marks the blocks entered by falling through within a run, `landed`
    /// those a jump may land on ([`super::control::landed`]), and `compiled` and `entries` the
    /// blocks this function holds and starts at.
    pub(super) fn new(
        a: &Analysis,
        chained: &[bool],
        compiled: &[bool],
        landed: &[bool],
        entries: &[bool],
    ) -> Self {
        let n = a.blocks.len();
        let mut back = vec![false; n];
        let mut heads = vec![false; n];
        let mut last = vec![None; n];
        // The head of the stretch of plainly fallen-into blocks ending at `k`, and the stack
        // length at `k`'s entry relative to the head's.
        let (mut head, mut delta) = (0, 0i64);
        for (k, bl) in a.blocks.iter().enumerate() {
            let plain = chained[k] && fall_through_only(|j| compiled[j], landed, entries, k);
            if !plain {
                (head, delta) = (k, 0);
            }
            delta += gas::stack_delta(a, bl);
            let target = match bl.exit {
                Exit::StaticJump(Some(t)) | Exit::StaticJumpI(Some(t), _) => Some(t),
                _ => None,
            };
            if target == Some(head) && delta == 0 && compiled[head] {
                back[k] = true;
                heads[head] = true;
                last[head] = Some(k);
            }
        }
        Loops {
            back,
            bodies: vec![None; n],
            heads,
            last,
            entries: vec![None; n],
            deopts: vec![None; n],
        }
    }

    /// For head `i`: the last block of its run that jumps back to it.
    pub(super) fn last_back_edge(&self, i: usize) -> Option<usize> {
        self.last[i]
    }

    /// Head `i`'s body (after its entry check), once lowered, if it is not chained.
    pub(super) fn body(&self, i: usize) -> Option<Block> {
        self.bodies[i]
    }

    /// Whether block `i` is the head of a back edge.
    pub(super) fn is_head(&self, i: usize) -> bool {
        self.heads[i]
    }

    /// Notes head `i`'s hand-over to the interpreter (made by its entry check).
    pub(super) fn set_deopt(&mut self, i: usize, deopt: Block) {
        self.deopts[i] = Some(deopt);
    }

    /// Head `i`'s hand-over to the interpreter, if its entry check made one.
    pub(super) fn deopt(&self, i: usize) -> Option<Block> {
        self.deopts[i]
    }

    /// Whether block `i`'s static jump is a back edge.
    pub(super) fn is_back_edge(&self, i: usize) -> bool {
        self.back[i]
    }
}

impl Lower<'_, '_> {
    /// After the entry check of head `i` (not chained): starts the IR block back edges go
    /// to, which reads the stack length and the gas from the variables (they flow in from two
    /// ways). A chained head's body is already such a block.
    pub(super) fn loop_body(&mut self, i: usize, len0: Value) {
        // The stack top address as a variable: back edges pass the one they computed (the
        // same length), instead of the head reloading the buffer address and shifting the
        // length on every iteration.
        let top = self.entry_top(len0);
        self.b.def_var(self.loop_top, top);
        self.load_carried(i, top);
        let body = self.b.create_block();
        self.b.ins().jump(body, &[]);
        self.b.switch_to_block(body);
        self.loops.bodies[i] = Some(body);
    }

    /// Jumps from the block being lowered to block `t` by its static jump: through the
    /// gas-only entry if the jump is a back edge, else through `t`'s entry check.
    pub(super) fn goto_static(&mut self, c: &Cursor, t: usize) {
        if !self.loops.is_back_edge(self.current) {
            if self.jumped[t] == Some(self.current) {
                return self.enter_jumped(c, t);
            }
            if self.plain(t) {
                // A jump the lowering folded to a constant onto a block that otherwise is only
                // fallen into, whose body goes on from its predecessor's cursor.
                return self.hand_over_at(t);
            }
            return self.goto_block(t);
        }
        // The head's entry top (the stack length is the one the head was entered with), for
        // a head whose body reads it ([`Lower::loop_body`]; a chained head's computes its own).
        if self.loops.bodies[t].is_some() {
            let top = self.top_now(c);
            self.b.def_var(self.loop_top, top);
        }
        let entry = match self.loops.entries[t] {
            Some(e) => e,
            None => {
                let e = self.b.create_block();
                self.loops.entries[t] = Some(e);
                e
            }
        };
        self.b.ins().jump(entry, &[]);
    }

    /// The gas-only entries of the heads back edges went to.
    pub(super) fn loop_entries(&mut self) {
        for t in 0..self.loops.entries.len() {
            let Some(entry) = self.loops.entries[t] else {
                continue;
            };
            self.b.switch_to_block(entry);
            let body = match self.bodies[t] {
                Some(body) => {
                    // As from the head's checked entry: the back edge charged all its gas.
                    if self.carries(t) {
                        let none = self.iconst(0);
                        self.b.def_var(self.chain_gas, none);
                    }
                    body
                }
                None => match self.loops.bodies[t] {
                    Some(body) => body,
                    // Not reached: a head is lowered before its back edges are (it comes
                    // first, and is compiled). The full check would do.
                    None => {
                        self.goto_block(t);
                        continue;
                    }
                },
            };
            self.gas_check(t, body);
        }
    }
}
