//! Loop-carried words: the words a simple loop changes stay in registers across its back
//! edge instead of making a round trip through the stack buffer on every iteration.
//!
//! A loop here is a back edge's run ([`super::loops`]): a head and the blocks it reaches only by
//! falling through, the last of which jumps back with the stack length the head was entered
//! with. Its blocks share one virtual stack ([`Cursor`]): a block goes on from the cursor its
//! predecessor left when it falls into it, so a word loaded by the loop's condition is not
//! loaded again by its body, and nothing is stored at the block boundary. The words the run
//! changes between the head's entry and its back edges (found before lowering by following the
//! stack's items through the run's instructions, [`changed_words`]) are Cranelift variables,
//! which the head's body starts with as values the buffer may not hold: a back edge passes the
//! values it computed, and the ways in from outside the loop (the head's entry check, the block
//! falling into a chained head) load them from the buffer. Every way out of the run stores
//! them, as it stores any word a block changed; a back edge whose gas check fails stores them
//! before handing over to the interpreter at the head. In fibonacci's loop no word goes through
//! the buffer any more (figures in `benches/PERFORMANCE.md`).
//!
//! At most [`MAX_CARRIED`] words: each is four general-purpose registers, and more than the
//! registers hold would only move the round trip into spill slots.

use super::stack::{Cursor, Elem};
use super::{gas, Lower};
use crate::analysis::Analysis;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, Value};
use cranelift_frontend::{FunctionBuilder, Variable};

/// Most words one loop carries in registers.
const MAX_CARRIED: usize = 3;

/// The loops whose changed words are carried in registers.
pub(super) struct Carry {
    /// By block index, for heads whose loop carries words: each word's byte offset from the
    /// head's entry top and its two variables (low and high i128 halves).
    words: Vec<Vec<(i32, Variable, Variable)>>,
    /// By block index: whether the block goes on from its predecessor's cursor (it is in a
    /// carrying loop's run, after the head).
    continued: Vec<bool>,
}

impl Carry {
    /// The carrying loops among the back edges of `loops`, where `runs` are the blocks' entry
    /// checks ([`gas::runs`]).
    pub(super) fn new(
        a: &Analysis,
        loops: &super::loops::Loops,
        runs: &[gas::Run],
        b: &mut FunctionBuilder,
    ) -> Carry {
        let n = a.blocks.len();
        let mut words = vec![Vec::new(); n];
        let mut continued = vec![false; n];
        for h in 0..n {
            if !loops.is_head(h) {
                continue;
            }
            let Some(last) = loops.last_back_edge(h) else {
                continue;
            };
            if calls(a, h, last) {
                continue;
            }
            let Some(changed) = changed_words(a, loops, h, last) else {
                continue;
            };
            // The head's entry check covers every word the run reads below its entry, so the
            // loads there stay within the stack.
            let deepest = changed.iter().map(|off| -off / super::WORD).max();
            if changed.is_empty()
                || changed.len() > MAX_CARRIED
                || deepest.is_some_and(|d| d as i64 > runs[h].min_stack())
            {
                continue;
            }
            words[h] = changed
                .into_iter()
                .map(|off| (off, b.declare_var(types::I128), b.declare_var(types::I128)))
                .collect();
            for c in &mut continued[h + 1..=last] {
                *c = true;
            }
        }
        Carry { words, continued }
    }

    /// Whether the loop headed by block `i` carries words.
    pub(super) fn carries_words(&self, i: usize) -> bool {
        !self.words[i].is_empty()
    }

    /// Whether block `i` goes on from its predecessor's cursor.
    pub(super) fn continues(&self, i: usize) -> bool {
        self.continued.get(i).copied().unwrap_or(false)
    }
}

/// Whether a block of `head..=last` calls a helper on every iteration: `ferrite_exec` or an
/// arithmetic helper (MUL, the divisions, ADDMOD, MULMOD; the shifts, BYTE and SIGNEXTEND are
/// mostly by a constant, inline). Words in registers would wait out each call in spill slots
/// (the callee-saved registers hold one word), a round trip as long as the buffer's, and
/// factorial's code grew by a third (figures in `benches/PERFORMANCE.md`).
fn calls(a: &Analysis, head: usize, last: usize) -> bool {
    use ferrite_runtime::Opcode::*;
    a.blocks[head..=last].iter().any(|bl| {
        a.instrs[bl.instrs.clone()].iter().any(|ins| {
            ferrite_runtime::Opcode::from_u8(ins.opcode).is_some_and(|op| {
                super::lowering(op) == super::Lowering::Exec
                    || matches!(op, MUL | DIV | SDIV | MOD | SMOD | ADDMOD | MULMOD)
            })
        })
    })
}

/// The byte offsets (from the head's entry top) of the words that the run `head..=last` leaves
/// changed at one of its back edges: following each item of the stack through the
/// instructions, a slot whose item at the back edge is not the one the head was entered with.
/// `None` if a back edge's stack is not the head's length (the loops' analysis rules it out).
fn changed_words(
    a: &Analysis,
    loops: &super::loops::Loops,
    head: usize,
    last: usize,
) -> Option<Vec<i32>> {
    let mut items = super::items::Items::default();
    let mut changed = Vec::new();
    for k in head..=last {
        for ins in &a.instrs[a.blocks[k].instrs.clone()] {
            items.step(ins.opcode, |_| {}, |_| {});
        }
        if !loops.is_back_edge(k) {
            continue;
        }
        let below = items.below;
        if items.stack.len() != below {
            return None;
        }
        for (idx, item) in items.stack.iter().enumerate() {
            let depth = below - 1 - idx;
            let off = -(depth as i32 + 1) * super::WORD;
            if *item != Some(depth) && !changed.contains(&off) {
                changed.push(off);
            }
        }
    }
    Some(changed)
}

impl Lower<'_, '_> {
    /// On a way into head `i`'s body other than a back edge (its entry check, or a
    /// chained head's predecessor falling into it), where the stack top is `top` and the
    /// buffer holds the stack: loads the words its loop carries (if any) into their variables.
    pub(super) fn load_carried(&mut self, i: usize, top: Value) {
        // The body takes the top address from the variable too, as back edges pass it
        // ([`Lower::loop_body`]; a chained head's body reads it only if its loop carries).
        self.b.def_var(self.loop_top, top);
        for k in 0..self.carry.words[i].len() {
            let (off, lo_var, hi_var) = self.carry.words[i][k];
            let lo = self.b.ins().load(types::I128, self.flags, top, off);
            let hi = self.b.ins().load(types::I128, self.flags, top, off + 16);
            self.b.def_var(lo_var, lo);
            self.b.def_var(hi_var, hi);
        }
    }

    /// In head `i`'s body, with cursor `c` fresh: the words its loop carries, as values the
    /// buffer may not hold.
    pub(super) fn start_carried(&mut self, i: usize, c: &mut Cursor) {
        for k in 0..self.carry.words[i].len() {
            let (off, lo_var, hi_var) = self.carry.words[i][k];
            let idx = c.index((-off / super::WORD - 1) as usize);
            c.vs[idx] = Elem::Val {
                lo: self.b.use_var(lo_var),
                hi: self.b.use_var(hi_var),
                clean: false,
            };
        }
    }

    /// Whether the block being lowered goes on at `pc` into a block that continues its cursor.
    pub(super) fn continues_at(&self, pc: usize) -> Option<usize> {
        self.a
            .block_at(pc)
            .filter(|n| *n == self.current + 1 && self.carry.continues(*n))
    }

    /// Goes on into block `next` (the current block's successor, see [`Lower::continues_at`])
    /// with cursor `c` as it is: nothing stored, no gas charged.
    pub(super) fn continue_into(&mut self, c: &mut Cursor, next: usize) {
        self.close_needs(c);
        let Some(body) = self.bodies[next] else {
            unreachable!("a block in a loop's run is chained")
        };
        self.b.ins().jump(body, &[]);
        self.conts[next] = Some((body, c.clone()));
    }

    /// Whether the static jump of the block being lowered is a back edge to head `t` whose loop
    /// carries words.
    pub(super) fn carries_back(&self, t: usize) -> bool {
        self.loops.is_back_edge(self.current)
            && self.carry.carries_words(t)
            && self.head_body(t).is_some()
    }

    /// The body of head `t`, after its entry check: a chained head's own, or the one made
    /// for back edges ([`Lower::loop_body`]).
    fn head_body(&self, t: usize) -> Option<cranelift_codegen::ir::Block> {
        self.bodies[t].or(self.loops.body(t))
    }

    /// A back edge to head `t` whose loop carries words ([`Lower::carries_back`]), after the
    /// jump's operands are popped and the static gas charged: the carried words as values, the
    /// others stored, then the head's gas check, and on to the head's body. A failing check
    /// stores the carried words too and hands over to the interpreter at the head.
    pub(super) fn carry_back(&mut self, c: &mut Cursor, t: usize) {
        let words = self.carry.words[t].clone();
        // Values first, while the buffer still holds what the block's copies read.
        let values: Vec<(Value, Value)> = words
            .iter()
            .map(|(off, ..)| self.value(c, (-off / super::WORD - 1) as usize))
            .collect();
        // The others stored, but for the head's dead words ([`Lower::flush_live`]). (A carried
        // word deeper than the mask reaches would be stored too: the same word, once more.)
        let carried = words
            .iter()
            .map(|(off, ..)| (-off / super::WORD - 1) as u32)
            .filter(|depth| *depth < 64)
            .fold(0u64, |m, depth| m | 1 << depth);
        self.flush_live(c, false, self.dead[t] | carried);
        self.pass_len(c);
        let need = self.runs[t].static_gas().min(i64::MAX as u64) as i64;
        if need > 0 {
            let gas = self.b.use_var(self.gas);
            let short = self.b.ins().icmp_imm_u(IntCC::UnsignedLessThan, gas, need);
            let (fail, ok) = (self.b.create_block(), self.b.create_block());
            self.b.ins().brif(short, fail, &[], ok, &[]);
            self.b.switch_to_block(fail);
            for ((off, ..), (lo, hi)) in words.iter().zip(&values) {
                self.b.ins().store(self.flags, *lo, c.top, *off);
                self.b.ins().store(self.flags, *hi, c.top, *off + 16);
            }
            let len = self.b.use_var(self.len);
            self.hand_over(t, len, true);
            self.b.switch_to_block(ok);
        }
        for ((_, lo_var, hi_var), (lo, hi)) in words.iter().zip(values) {
            self.b.def_var(*lo_var, lo);
            self.b.def_var(*hi_var, hi);
        }
        // As from a chained head's checked entry: the back edge charged all its gas.
        if self.bodies[t].is_some() && self.carries(t) {
            let none = self.iconst(0);
            self.b.def_var(self.chain_gas, none);
        }
        let top = self.top_now(c);
        // Not the body's own top itself: the variable would then hold one value (the entry's
        // sum), which x64 folds into every address as base and index, two registers held
        // across the loop instead of one.
        let top = self.b.ins().bor(top, top);
        self.b.def_var(self.loop_top, top);
        let Some(body) = self.head_body(t) else {
            unreachable!("checked by carries_back")
        };
        self.b.ins().jump(body, &[]);
    }
}
