//! Memory: MLOAD/MSTORE inline, with expansion through `ferrite_mexpand`.
//!
//! MLOAD/MSTORE at a constant offset (Solidity's free-memory pointer, scratch space) check the
//! memory size with one compare. A word the block has accessed memory at is below 2^32 from there
//! on, and so is it plus a constant: such words stay small i64s ([`Elem::Small`]), so
//! `mload(add(p, 0x20))` after an access at `p` costs one 64-bit add and one compare instead of a
//! 256-bit add and a four-limb check (a tenth of snailtracer's region IR). A constant-offset
//! access that needs a check grows memory for the highest constant offset its stretch goes on
//! to access ([`memory_ahead`]), so the accesses after it need none; an access at `p + k` grows
//! it for the highest `p + k'` the stretch accesses, so that `p + k'` (and anything in between)
//! needs no check either: Solidity reads and writes a struct's fields one after the other.
//! Which accesses go unchecked the lowering decides from its own values ([`Cursor::checked`]):
//! the analysis only says how far to grow.

use super::stack::{Cursor, Elem};
use super::{Lower, WORD};
use crate::analysis::{self, Analysis, Instr};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, Value};
use ferrite_runtime::builtins::{mexpand_operand, offsets, Builtin};
use ferrite_runtime::{Opcode, U256};

/// Memory offsets that were accessed are below 2^32 ([`MEMORY_LIMIT`](ferrite_runtime::gas::MEMORY_LIMIT)).
pub(super) const MEMORY_BITS: u8 = 32;
const _: () = assert!(ferrite_runtime::gas::MEMORY_LIMIT <= 1 << MEMORY_BITS);

impl Lower<'_, '_> {
    /// The item `depth` below the top as an i64 and a bound on its bits, if it is known to be
    /// small: an `Elem::Small`, or a word the block has already accessed memory at (which is
    /// below [`MEMORY_LIMIT`](ferrite_runtime::gas::MEMORY_LIMIT) once the access is done).
    pub(super) fn small(&mut self, c: &mut Cursor, depth: usize) -> Option<(Value, u8)> {
        let idx = c.index(depth);
        match c.vs[idx] {
            Elem::Small { v, bits, .. } => Some((v, bits)),
            Elem::Val { lo, hi, .. } => c
                .offsets
                .iter()
                .find(|(w, _)| *w == (lo, hi))
                .map(|(_, v)| (*v, MEMORY_BITS)),
            _ => None,
        }
    }

    /// MLOAD/MSTORE. When the word lies within current memory (one compare for a constant
    /// offset — Solidity's free-memory pointer, scratch space — a few otherwise) the access is
    /// inline; else `ferrite_mexpand` first grows memory (charging it) and the same inline
    /// access follows: one access path with a call on the side, no join of a fast and a slow
    /// path's words, and one helper for both opcodes.
    /// `popped`: an MLOAD's word is popped unread (the access then reads nothing).
    pub(super) fn memory_op(&mut self, c: &mut Cursor, ins: &Instr, popped: bool) {
        let is_load = ins.opcode == Opcode::MLOAD as u8;
        // Expansion takes the pending static gas as an operand: the carried gas goes first.
        self.charge_carried(c);
        // Operands are loaded before the paths split: a load in one path would not dominate
        // the code after them.
        let stored = (!is_load).then(|| self.stored(c));
        let constant = self.constant(c, 0).and_then(constant_offset);
        if let Some(off) = constant.filter(|off| *off < c.mem_known) {
            // A word at or below one the block has accessed already: within memory, which
            // never shrinks. (Solidity reads and writes its scratch space and free-memory
            // pointer again and again: no check, and no expansion call to compile.)
            let base = self.memory_base();
            let addr = match off {
                0 => base,
                off => self.b.ins().iadd_imm_s(base, off as i64),
            };
            self.access(c, stored, addr, popped);
            return;
        }
        if constant.is_none() {
            // A small word the block accessed memory at, or grew memory beyond, plus a
            // constant within that (a struct's fields after its first): no check.
            if let Some((v, _)) = self.small(c, 0).filter(|(v, _)| c.within_memory(*v)) {
                let base = self.memory_base();
                let addr = self.b.ins().iadd(base, v);
                self.access(c, stored, addr, popped);
                return;
            }
        }
        // A constant offset checks (and grows memory) for the highest constant offset the
        // stretch accesses from here, so that the accesses after it need none; another offset
        // for the highest word the stretch accesses at it plus a constant.
        let checked = constant.map(|off| {
            let ahead = at_pc(&self.memory.aheads[self.current].constant, ins.pc)
                .map_or(off, |h| h.max(off));
            c.mem_known = c.mem_known.max(ahead + 1);
            ahead
        });
        let beyond = match constant {
            Some(_) => 0,
            None => at_pc(&self.memory.aheads[self.current].relative, ins.pc).unwrap_or(0),
        };
        // Pending gas beyond what the expansion's operand holds (not met in practice) is
        // charged here, as at any sync point, which the entry check covers.
        if mexpand_operand(c.pending_gas, 0).is_none() {
            self.sync_gas(c);
        }
        // The expansion charges the frame's gas, and after it both paths go on from there.
        self.flush_gas(c);
        let limit = self.frame_field(offsets::MEM_WORD_LIMIT);
        let slow = self.b.create_block();
        let access = self.b.create_block();
        // The offset's low limb (a constant, or a value), the low limb of the highest word
        // checked, and the OR of its upper limbs.
        let (at, end, upper) = match (self.small(c, 0), checked) {
            (Some((v, _)), _) => {
                // Below 2^63 plus below 2^32: no wrap.
                let end = match beyond {
                    0 => v,
                    n => self.b.ins().iadd_imm_u(v, n as i64),
                };
                let (x, k) = c.root(v);
                c.checked.push((x, k + beyond + WORD as u64));
                let ok = self.b.ins().icmp(IntCC::UnsignedLessThan, end, limit);
                self.b.ins().brif(ok, access, &[], slow, &[]);
                (Ok(v), Ok(end), None)
            }
            (None, Some(off)) => {
                let off = off as i64;
                let ok = self
                    .b
                    .ins()
                    .icmp_imm_u(IntCC::UnsignedGreaterThan, limit, off);
                self.b.ins().brif(ok, access, &[], slow, &[]);
                (Err(off), Err(off), None)
            }
            _ => {
                let [l0, l1, h0, h1] = self.limbs(c, 0);
                let idx = c.index(0);
                if let Elem::Val { lo, hi, .. } = c.vs[idx] {
                    // The access below halts unless the word is within memory.
                    c.offsets.push(((lo, hi), l0));
                }
                c.checked.push((l0, beyond + WORD as u64));
                // A branch per condition ([`Lower::leave_if`]).
                let upper = self.b.ins().bor(l1, h0);
                let mut upper = self.b.ins().bor(upper, h1);
                let mut end = l0;
                if beyond > 0 {
                    // Memory ends below 2^32: a low limb from there is out of gas, and one
                    // below it plus `beyond` does not wrap.
                    let high = self.b.ins().ushr_imm_u(l0, i64::from(MEMORY_BITS));
                    upper = self.b.ins().bor(upper, high);
                    end = self.b.ins().iadd_imm_u(l0, beyond as i64);
                }
                self.leave_if(upper, slow);
                let in_range = self.b.ins().icmp(IntCC::UnsignedLessThan, end, limit);
                self.b.ins().brif(in_range, access, &[], slow, &[]);
                (Ok(l0), Ok(end), Some(upper))
            }
        };
        self.b.switch_to_block(slow);
        let low = match end {
            Ok(end) => end,
            Err(off) => self.iconst(off),
        };
        let upper = upper.unwrap_or_else(|| self.iconst(0));
        // Expansion charges memory gas after the static gas still pending, which stays pending
        // (the access path does not charge it: both paths go on with it).
        let pending_need = self.open_need(c, false, Some(c.pending_gas));
        let frame = self.frame();
        let mexpand = self.import(Builtin::ferrite_mexpand);
        let call = self.call(mexpand, &[frame, low, upper, pending_need]);
        let r = self.b.inst_results(call)[0];
        self.continue_at_unless_exit(r, access);
        // Memory gas was charged on this path: the frame holds the gas from here on.
        c.gas = None;
        // After an expansion the word is within memory, so its offset fits the low limb.
        let base = self.memory_base();
        let addr = match (at, constant) {
            (Ok(l0), _) => self.b.ins().iadd(base, l0),
            (Err(_), Some(0)) | (Err(_), None) => base,
            (Err(_), Some(off)) => self.b.ins().iadd_imm_s(base, off as i64),
        };
        self.access(c, stored, addr, popped);
    }

    /// The word an MSTORE stores, the second from the top.
    fn stored(&mut self, c: &mut Cursor) -> Stored {
        if let Some(v) = self.constant(c, 1) {
            // Stored as its big-endian bytes, with no value to keep across the expansion path
            // and no byte swap.
            return Stored::Const(v);
        }
        if let Some((v, _)) = self.small(c, 1) {
            return Stored::Small(v);
        }
        let at = c.index(1);
        match c.vs[at] {
            Elem::Flag(f) => Stored::Small(self.b.ins().uextend(types::I64, f)),
            _ => {
                let (lo, hi) = self.value(c, 1);
                Stored::Word(lo, hi)
            }
        }
    }

    /// The memory buffer's address: loaded once per IR block between calls (only a helper
    /// moves the buffer), so a struct's fields after the first access share one load. Not
    /// across IR blocks: a value live from one to the next would hold a register (or a spill
    /// slot) across the code between.
    fn memory_base(&mut self) -> Value {
        let block = self.b.current_block();
        match self.mem_base_read {
            Some((b, v)) if Some(b) == block => v,
            _ => {
                let v = self.frame_field(offsets::MEM_BASE);
                self.mem_base_read = block.map(|b| (b, v));
                v
            }
        }
    }

    /// MLOAD (`stored` `None`) or MSTORE of `stored` at `addr`, within memory.
    fn access(&mut self, c: &mut Cursor, stored: Option<Stored>, addr: Value, popped: bool) {
        // Memory is big-endian; stack words are little-endian i128 halves: the high half is
        // the first 16 bytes, byte-swapped.
        c.pop(if stored.is_none() { 1 } else { 2 });
        match stored {
            None if popped => c.vs.push(Elem::Const {
                v: U256::ZERO,
                clean: false,
            }),
            None => {
                let hi = self.b.ins().load(types::I128, self.flags, addr, 0);
                let lo = self.b.ins().load(types::I128, self.flags, addr, 16);
                let w = (self.b.ins().bswap(lo), self.b.ins().bswap(hi));
                self.push_value(c, w);
            }
            Some(Stored::Word(lo, hi)) => {
                let hi = self.b.ins().bswap(hi);
                let lo = self.b.ins().bswap(lo);
                self.b.ins().store(self.flags, hi, addr, 0);
                self.b.ins().store(self.flags, lo, addr, 16);
            }
            Some(Stored::Small(v)) => {
                let zero = self.vconst([0; 16]);
                self.b.ins().store(self.flags, zero, addr, 0);
                let zero = self.iconst(0);
                self.b.ins().store(self.flags, zero, addr, 16);
                let v = self.b.ins().bswap(v);
                self.b.ins().store(self.flags, v, addr, 24);
            }
            Some(Stored::Const(v)) => self.store_bytes(v.to_be_bytes::<32>(), addr, 0),
        }
    }
}

/// The word an MSTORE writes.
#[derive(Clone, Copy)]
pub(super) enum Stored {
    /// A value, as little-endian i128 halves.
    Word(Value, Value),
    /// A word below 2^64 (a small word or a comparison's flag), as an i64: its high 24 bytes
    /// are zero, stored as such, with one 64-bit byte swap.
    Small(Value),
    /// A constant.
    Const(U256),
}

/// What the rest of a stretch of a block's MLOADs and MSTOREs accesses (see [`memory_ahead`]).
#[derive(Default)]
pub(super) struct Ahead {
    /// By pc (ascending) of each access at a constant offset: the highest constant offset
    /// the stretch accesses from there.
    pub(super) constant: Vec<(usize, u64)>,
    /// By pc (ascending) of each access at `x + k` (`x` a word the block reads or computes,
    /// `k` a constant): how far beyond `k` the stretch goes on to access `x` plus a constant,
    /// where that is further than the access itself.
    pub(super) relative: Vec<(usize, u64)>,
}

/// What the lowering knows of a program's memory accesses, per block: computed once per program
/// (its chunks' functions share it), over all its blocks, since the memory a block is entered
/// with depends on every way into it, whichever are compiled.
pub struct MemoryFacts {
    /// What each block's stretches access ([`memory_ahead`]).
    pub(super) aheads: Vec<Ahead>,
    /// The memory each block is entered with ([`known_at_entry`]).
    pub(super) at_entry: Vec<u64>,
}

impl MemoryFacts {
    /// The facts of `a`'s blocks.
    pub fn new(a: &Analysis) -> MemoryFacts {
        let aheads: Vec<Ahead> = a.blocks.iter().map(|bl| memory_ahead(a, bl)).collect();
        let at_entry = known_at_entry(a, &aheads);
        MemoryFacts { aheads, at_entry }
    }
}

/// By block index: a size memory has reached (in bytes) whenever the block is entered, from
/// the MLOADs and MSTOREs at constant offsets on every path from the code's start (memory
/// never shrinks, and a block whose end is reached has made all its accesses). Solidity's
/// first block stores the free-memory pointer at 0x40, so its scratch words (0x00, 0x20) and
/// the pointer need no check anywhere else.
///
/// A forward data flow over the whole code's blocks, whichever are compiled (every execution,
/// in either tier, follows these edges): static edges as the analysis resolved them, and from
/// each dynamic jump to every JUMPDEST. A block's entry size is the least over what reaches
/// it; one that nothing reaches, or a flow that has not settled after [`KNOWN_PASSES`]
/// passes, knows nothing (0).
fn known_at_entry(a: &Analysis, aheads: &[Ahead]) -> Vec<u64> {
    let n = a.blocks.len();
    // What each block's own accesses at constant offsets leave memory at, at least.
    let grown: Vec<u64> = aheads
        .iter()
        .map(|h| {
            h.constant
                .iter()
                .map(|(_, off)| off.saturating_add(WORD as u64))
                .max()
                .unwrap_or(0)
        })
        .collect();
    // u64::MAX: not reached (yet).
    let mut known = vec![u64::MAX; n];
    let Some(start) = a.block_at(0) else {
        return vec![0; n];
    };
    known[start] = 0;
    let jumpdests: Vec<usize> = a.jumpdest_blocks.values().copied().collect();
    for _ in 0..KNOWN_PASSES {
        let mut changed = false;
        let mut dynamic = u64::MAX;
        for i in 0..n {
            if known[i] == u64::MAX {
                continue;
            }
            let out = known[i].max(grown[i]);
            for s in a.static_successors(i) {
                if out < known[s] {
                    known[s] = out;
                    changed = true;
                }
            }
            if matches!(
                a.blocks[i].exit,
                analysis::Exit::DynamicJump | analysis::Exit::DynamicJumpI(_)
            ) {
                dynamic = dynamic.min(out);
            }
        }
        for &j in &jumpdests {
            if dynamic < known[j] {
                known[j] = dynamic;
                changed = true;
            }
        }
        if !changed {
            return known
                .into_iter()
                .map(|k| if k == u64::MAX { 0 } else { k })
                .collect();
        }
    }
    vec![0; n]
}

/// Passes [`known_at_entry`] makes at most (each lowers some block's size; a back edge takes
/// one more pass to carry a lower size round its loop).
const KNOWN_PASSES: usize = 32;

/// The entry of `by_pc` (ascending by pc, as [`Ahead`]'s lists) for the access at `pc`.
fn at_pc(by_pc: &[(usize, u64)], pc: usize) -> Option<u64> {
    by_pc
        .binary_search_by_key(&pc, |(p, _)| *p)
        .ok()
        .map(|i| by_pc[i].1)
}

/// A word of block `bl`'s stack as [`memory_ahead`] follows it.
#[derive(Clone, Copy, PartialEq)]
enum Word {
    Const(U256),
    /// The `id`th word the block reads or computes, plus a constant below 2^32.
    Plus(u32, u64),
}

/// For each MLOAD/MSTORE of block `bl`, by pc: how far the rest of its stretch accesses memory
/// at the same offset plus constants — the highest constant offset for an access at a
/// constant, and how far beyond its own offset for an access at `x + k` (Solidity's struct
/// fields: `mload(p)`, `mload(add(p, 0x20))`, `mload(add(p, 0x40))`). A stretch ends at an
/// instruction [`ends_stretch`] names, at an undefined opcode, and at the block's end. Words
/// are followed as the lowering follows them: PUSH, DUP, SWAP, POP, ADD of a constant, and
/// state-free operations of constants (computed by the runtime's bodies).
///
/// The first access of a stretch that needs a check checks, and grows memory to, the highest
/// word: the accesses after it need none (weierstrudel stores its tables at ever higher
/// constant offsets; Solidity reads and writes a struct's fields one after the other). Growing
/// memory earlier than the code does is the same result: nothing in the stretch sees the memory
/// size or the gas left, a word read from the grown memory is zero as it would be after its
/// own expansion, the total charge depends only on the final size, and running out of gas
/// early ends the frame as running out later does (the argument of the `need` operands,
/// `gas.rs`). These offsets only decide how far memory grows: which accesses then need no
/// check the lowering decides from the values it computed itself ([`Cursor::checked`]).
pub(super) fn memory_ahead(a: &Analysis, bl: &analysis::Block) -> Ahead {
    use ferrite_runtime::instructions::pure;
    let mut stack: Vec<Word> = Vec::new();
    // Words numbered as the block reads or computes them.
    let mut fresh = 0u32;
    let new_word = |fresh: &mut u32| {
        *fresh += 1;
        Word::Plus(*fresh, 0)
    };
    // The block's entry items, each its own word, as deep as an instruction reaches.
    let reach = |stack: &mut Vec<Word>, n: usize, fresh: &mut u32| {
        while stack.len() < n {
            stack.insert(0, new_word(fresh));
        }
    };
    // (pc, the access's offset) per access, and stretch boundaries as `None`.
    let mut seen: Vec<Option<(usize, Word)>> = Vec::new();
    for ins in &a.instrs[bl.instrs.clone()] {
        let info = &ferrite_runtime::OPCODE_INFO[ins.opcode as usize];
        // An undefined opcode halts the block there (with its own status): nothing after it
        // runs, so nothing after it is grown for.
        let Some(op) = Opcode::from_u8(ins.opcode).filter(|_| info.enabled_in(a.spec)) else {
            break;
        };
        let inputs = info.inputs as usize;
        reach(&mut stack, inputs, &mut fresh);
        match op {
            Opcode::MLOAD | Opcode::MSTORE => {
                seen.push(Some((ins.pc, stack[stack.len() - 1])));
            }
            _ if ends_stretch(op) => seen.push(None),
            _ => {}
        }
        let code = ins.opcode;
        let word = match op {
            _ if (0x60..=0x7f).contains(&code) || op == Opcode::PUSH0 => Word::Const(ins.imm),
            _ if (0x80..=0x8f).contains(&code) => {
                let d = (code - 0x80) as usize;
                reach(&mut stack, d + 1, &mut fresh);
                stack[stack.len() - 1 - d]
            }
            _ if (0x90..=0x9f).contains(&code) => {
                let d = (code - 0x90 + 1) as usize;
                reach(&mut stack, d + 1, &mut fresh);
                let n = stack.len();
                stack.swap(n - 1, n - 1 - d);
                continue;
            }
            _ => {
                let args = stack.split_off(stack.len() - inputs);
                match (op, &args[..]) {
                    _ if info.outputs == 0 => continue,
                    (
                        Opcode::ADD,
                        [Word::Plus(x, k), Word::Const(c)] | [Word::Const(c), Word::Plus(x, k)],
                    ) if *c < U256::from(1u64 << MEMORY_BITS) => {
                        let k = k + c.as_limbs()[0];
                        if k < 1 << MEMORY_BITS {
                            Word::Plus(*x, k)
                        } else {
                            new_word(&mut fresh)
                        }
                    }
                    _ if pure::is_pure(code) => {
                        // Operands top first, all constant, or no constant result.
                        let consts: Option<Vec<U256>> = args
                            .iter()
                            .rev()
                            .map(|w| match w {
                                Word::Const(v) => Some(*v),
                                Word::Plus(..) => None,
                            })
                            .collect();
                        match consts.and_then(|v| pure::apply(code, &v)) {
                            Some(v) => Word::Const(v),
                            None => new_word(&mut fresh),
                        }
                    }
                    _ => new_word(&mut fresh),
                }
            }
        };
        stack.push(word);
    }
    // Backwards: the highest offset from each access to its stretch's end.
    let mut out = Ahead::default();
    let mut high: Option<u64> = None;
    let mut relative: Vec<(u32, u64)> = Vec::new();
    for s in seen.iter().rev() {
        match *s {
            None => {
                high = None;
                relative.clear();
            }
            Some((pc, Word::Const(v))) => {
                if let Some(off) = constant_offset(v) {
                    let h = high.map_or(off, |h| h.max(off));
                    high = Some(h);
                    out.constant.push((pc, h));
                }
            }
            Some((pc, Word::Plus(x, k))) => match relative.iter_mut().find(|(y, _)| *y == x) {
                Some((_, h)) if *h > k => out.relative.push((pc, *h - k)),
                Some((_, h)) => *h = k,
                None => relative.push((x, k)),
            },
        }
    }
    // In pc order, for `memory_op`'s binary search.
    out.constant.reverse();
    out.relative.reverse();
    out
}

/// Whether `op` ends a stretch of accesses that one expansion may grow memory for: it sees the
/// gas left (GAS; SSTORE's stipend check; the gas a call or create passes on) or the memory
/// size (MSIZE), may halt with another status than out of gas (a write in a static call,
/// RETURNDATACOPY past the return data), or ends the frame. The helpers that only charge gas
/// (and grow memory themselves) do not: charged earlier or later, the total is the same, and
/// running out of it ends the frame the same way.
fn ends_stretch(op: Opcode) -> bool {
    use Opcode::*;
    match super::lowering(op) {
        super::Lowering::Inline | super::Lowering::Pure => op == GAS,
        super::Lowering::Exec => !matches!(
            op,
            SLOAD
                | TLOAD
                | KECCAK256
                | CALLDATALOAD
                | CALLDATACOPY
                | CODECOPY
                | EXTCODECOPY
                | EXTCODESIZE
                | EXTCODEHASH
                | BALANCE
                | BLOCKHASH
                | MCOPY
                | MSTORE8
                | EXP
        ),
    }
}

/// A constant memory offset the lowering checks with one compare: one that fits 32 bits (a
/// larger one runs out of gas, through the general path).
fn constant_offset(v: U256) -> Option<u64> {
    (v <= U256::from(u32::MAX)).then(|| v.as_limbs()[0])
}
