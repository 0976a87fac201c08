//! The virtual stack: the EVM stack of a block as SSA values and constants.
//!
//! Within a block (and across the blocks of a simple loop, `carry.rs`) the EVM stack is
//! virtual ([`Cursor::vs`]): PUSH, DUP, SWAP and POP move SSA
//! values and constants at compile time and emit no code; an operand is loaded from the stack
//! buffer only when an instruction reads it, and a value is stored back only when something needs
//! it in memory — a helper's inputs just before the call, everything at the block's exit or before
//! a frame suspends. This is the largest lever on both run time and compile time: about half of
//! real EVM code is stack shuffling, which used to cost two i128 loads and stores per word.
//!
//! Per block the stack length is taken once and every stack slot is addressed as `top +
//! constant` (the block's stack effect is known statically, helpers included). Between blocks
//! the stack length is a Cranelift variable (a register, a block parameter where paths meet):
//! each block used to reload from the frame the length its predecessor had just stored there, a
//! store-to-load round trip on the way to every block's first operand (5% of snailtracer's run
//! time). It is written to the frame wherever something reads it there — before a helper that
//! takes the stack, before a suspension, before STOP and every hand-over to the interpreter — so
//! at any block boundary compiled code can still hand the frame to the interpreter. (Gas left as
//! a variable too was measured and dropped: twice as fast on a jump-bound loop, but 45% slower on
//! blake2b_huff, whose long blocks of memory accesses then merged it after every expansion call,
//! and up to 50% more compile time.)

use super::{Lower, WORD};
use cranelift_codegen::ir::{types, ConstantData, Inst, InstBuilder, Value};
use ferrite_runtime::builtins::offsets;
use ferrite_runtime::U256;

/// A word as its low and high i128 halves.
pub(super) type Word = (Value, Value);

/// One word of the virtual stack.
#[derive(Clone, Copy, Debug)]
pub(super) enum Elem {
    /// The stack buffer holds it at its position (untouched since block entry, or written by a
    /// helper).
    Mem,
    /// The buffer holds it at another position, byte offset `src` from the entry top, where it
    /// was at block entry: a DUP or SWAP of a word the block has not read. It is loaded only
    /// where something reads it, and copied slot to slot (two 128-bit vector moves, no
    /// general-purpose register) where it is stored: SWAPs and DUPs of words a block only
    /// passes on (Solidity's argument shuffles, `SWAPn POP` epilogues) no longer hold four
    /// registers each from the shuffle to the block's end. Any write to `src` reads such items
    /// first ([`Lower::protect`]).
    Slot(i32),
    /// An SSA value as low and high i128 halves; `clean` when the buffer holds it too.
    Val { lo: Value, hi: Value, clean: bool },
    /// A constant; `clean` as for `Val`.
    Const { v: U256, clean: bool },
    /// A comparison's 0/1 result as an i8 flag, widened to a word only where one is needed:
    /// a comparison feeding ISZERO or JUMPI (most of them) never becomes a word. Never held by
    /// the buffer.
    Flag(Value),
    /// A word below `2^bits` (`bits` < 64) as an i64, widened only where a word is needed: a
    /// memory offset plus a constant (`add(p, 0x20)`, Solidity's struct fields and array
    /// elements), which then needs neither a 256-bit addition nor the upper-limb check of its
    /// memory access. `clean` as for `Val`.
    Small { v: Value, bits: u8, clean: bool },
}

impl Elem {
    /// Whether the buffer holds the word neither at its position nor, as a copy, at another
    /// (a store at its position is what puts it there).
    pub(super) fn dirty(self) -> bool {
        match self {
            Elem::Mem | Elem::Slot(_) => false,
            Elem::Val { clean, .. } | Elem::Const { clean, .. } | Elem::Small { clean, .. } => {
                !clean
            }
            Elem::Flag(_) => true,
        }
    }

    /// The same word at another position (so the buffer does not hold it there): moved from
    /// byte offset `from` to `to`.
    pub(super) fn moved(self, from: i32, to: i32) -> Elem {
        match self {
            Elem::Mem | Elem::Slot(_) if from == to => self,
            Elem::Mem => Elem::Slot(from),
            Elem::Slot(src) if src == to => Elem::Mem,
            Elem::Slot(src) => Elem::Slot(src),
            Elem::Val { lo, hi, .. } => Elem::Val {
                lo,
                hi,
                clean: false,
            },
            Elem::Const { v, .. } => Elem::Const { v, clean: false },
            Elem::Flag(f) => Elem::Flag(f),
            Elem::Small { v, bits, .. } => Elem::Small {
                v,
                bits,
                clean: false,
            },
        }
    }
}

/// Per-block lowering state: the entry stack length and top-of-stack address, the virtual
/// stack, and the static gas not yet charged.
///
/// `vs[i]` sits at stack slot `len0 + i - floor`: the first `floor` items are the entry items
/// the block reads (their buffer slots are below `len0`), the rest were pushed by the block.
#[derive(Clone)]
pub(super) struct Cursor {
    /// The address of the entry stack top (slot `len0`) in the stack buffer.
    pub(super) top: Value,
    /// The stack length at block entry.
    pub(super) len0: Value,
    /// The virtual stack, top last.
    pub(super) vs: Vec<Elem>,
    /// How many of `vs`'s first items are entry items.
    pub(super) floor: usize,
    /// Static gas not yet charged (see [`Lower::sync_gas`]).
    pub(super) pending_gas: u64,
    /// Static gas the blocks before it in a chain left uncharged (see [`Lower::carry_gas`]),
    /// charged with the block's first charge.
    pub(super) carried: Option<Value>,
    /// The gas left as an SSA value, while one is known: passed in or loaded by the entry
    /// check, replaced by each charge (the frame's field is written only where something reads
    /// it: `stale`), forgotten at a helper that charges gas itself, after which it is reloaded
    /// from the frame.
    pub(super) gas: Option<Value>,
    /// Whether the frame's gas field may be older than `gas`: charges go to `gas` only, and
    /// the frame is written where something reads it ([`Lower::flush_gas`]).
    pub(super) stale: bool,
    /// Static gas of the block's instructions so far (charged or pending).
    pub(super) static_gas: u64,
    /// The `need` operands (`iconst`s) of the helper calls since the last `ferrite_exec` call
    /// that may charge dynamic gas, each with `static_gas` at its call: set to the static gas
    /// added since when the next `ferrite_exec` call or the block's end closes them (see
    /// [`Lower::close_needs`]).
    pub(super) needs: Vec<(Inst, u64, Option<u64>)>,
    /// Words the block has accessed memory at, with their low limb: they are below
    /// 2^[`MEMORY_BITS`](super::memory::MEMORY_BITS) from there on (see [`Lower::small`]).
    pub(super) offsets: Vec<((Value, Value), Value)>,
    /// Words at constant offsets below this are within memory: every way into the block has
    /// grown memory that far ([`MemoryFacts`](super::MemoryFacts)), or the block accessed a word
    /// at `mem_known - 1` (see [`Lower::memory_op`]).
    pub(super) mem_known: u64,
    /// Small words the block computed as another i64 plus a constant (`add(p, 0x20)` of an
    /// offset `p`), by the value: the value they add to (itself no such sum) and the constant.
    pub(super) derived: Vec<(Value, Value, u64)>,
    /// i64 values `x` such that memory holds `[0, x + end)`: the block accessed memory there,
    /// or grew it that far (see [`Lower::memory_op`]).
    pub(super) checked: Vec<(Value, u64)>,
    /// Whole words the block computed as another whole word plus a constant below
    /// 2^[`MEMORY_BITS`](super::memory::MEMORY_BITS): the word, the constant and the sum. Once
    /// the sum is a memory offset it is small, and so is the word plus any larger constant
    /// (see [`Lower::add_sub_constant`]).
    pub(super) sums: Vec<(Word, u64, Word)>,
}

impl Cursor {
    /// Stack length now, relative to the entry length.
    pub(super) fn delta(&self) -> i64 {
        self.vs.len() as i64 - self.floor as i64
    }

    /// Byte offset from `top` of `vs[idx]`'s slot.
    pub(super) fn offset(&self, idx: usize) -> i32 {
        (idx as i32 - self.floor as i32) * WORD
    }

    /// The index in `vs` of the item `depth` below the top, modelling deeper entry items as
    /// needed (the analysis bounds them; this keeps the lowering total anyway).
    pub(super) fn index(&mut self, depth: usize) -> usize {
        if depth >= self.vs.len() {
            let missing = depth + 1 - self.vs.len();
            self.vs
                .splice(0..0, std::iter::repeat_n(Elem::Mem, missing));
            self.floor += missing;
        }
        self.vs.len() - 1 - depth
    }

    /// Pushes the small word `v` (below `2^bits`, `bits` < 64), not held by the buffer.
    /// `(x, k)` with `v = x + k` and `x` no such sum ([`Cursor::derived`]).
    pub(super) fn root(&self, v: Value) -> (Value, u64) {
        self.derived
            .iter()
            .find(|(w, ..)| *w == v)
            .map_or((v, 0), |(_, x, k)| (*x, *k))
    }

    /// Whether memory holds the word at `v` ([`Cursor::checked`]).
    pub(super) fn within_memory(&self, v: Value) -> bool {
        let (x, k) = self.root(v);
        self.checked
            .iter()
            .any(|(y, end)| *y == x && k + WORD as u64 <= *end)
    }

    pub(super) fn push_small(&mut self, v: Value, bits: u8) {
        self.vs.push(Elem::Small {
            v,
            bits,
            clean: false,
        });
    }

    /// Drops the top `n` items.
    pub(super) fn pop(&mut self, n: usize) {
        if n > 0 {
            let i = self.index(n - 1);
            self.vs.truncate(i);
        }
    }
}

impl Lower<'_, '_> {
    /// The vector of the 16 bytes `half` (little-endian), shared within the current IR block
    /// ([`Lower::vconsts`]).
    pub(super) fn vconst(&mut self, half: [u8; 16]) -> Value {
        let block = self.b.current_block();
        if self.vconsts.0 != block {
            self.vconsts = (block, Vec::new());
        }
        if let Some((_, v)) = self.vconsts.1.iter().find(|(h, _)| *h == half) {
            return *v;
        }
        let handle = self
            .b
            .func
            .dfg
            .constants
            .insert(ConstantData::from(&half[..]));
        let x = self.b.ins().vconst(types::I64X2, handle);
        self.vconsts.1.push((half, x));
        x
    }

    /// Stores the 32 `bytes` of a constant at `base + at` (a stack slot's little-endian word,
    /// or memory's big-endian one), each 16-byte half as two 64-bit immediates where they fit
    /// ([`Lower::immediates`]), else as a vector constant.
    pub(super) fn store_bytes(&mut self, bytes: [u8; 32], base: Value, at: i32) {
        for (k, chunk) in bytes.chunks_exact(16).enumerate() {
            let mut half = [0u8; 16];
            half.copy_from_slice(chunk);
            let at = at + 16 * k as i32;
            match self.immediates(half) {
                Some(limbs) => {
                    for (j, limb) in limbs.into_iter().enumerate() {
                        let x = self.iconst(limb);
                        self.b.ins().store(self.flags, x, base, at + 8 * j as i32);
                    }
                }
                None => {
                    let x = self.vconst(half);
                    self.b.ins().store(self.flags, x, base, at);
                }
            }
        }
    }

    /// The two limbs of the nonzero 16-byte `half` of a constant to store as 64-bit immediates
    /// instead of a vector from the constant pool: when both fit x64's sign-extended 32-bit
    /// immediate and the function pushes the half rarely (not [`Lower::pooled`]), where the
    /// immediates are less code. Not for zero (a `vpxor`, with no pool entry). Also for a
    /// helper's input, though the runtime may read it back as a 128-bit vector, which two
    /// 64-bit stores cannot be store-forwarded to: no run time measured changed
    /// (PERFORMANCE.md).
    fn immediates(&self, half: [u8; 16]) -> Option<[i64; 2]> {
        let limb = |k: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&half[8 * k..8 * k + 8]);
            i64::from_le_bytes(b)
        };
        let limbs = [limb(0), limb(1)];
        let fits = limbs.iter().all(|l| i32::try_from(*l).is_ok());
        (fits && half != [0; 16] && !self.pooled.contains(&half)).then_some(limbs)
    }

    /// The cursor of a block entered with stack length `len0`, whose first `floor` items are
    /// entry items, and whose entry top address is `top` if its predecessor passed it on
    /// ([`Lower::pass_top`]).
    pub(super) fn cursor(&mut self, len0: Value, floor: usize, top: Option<Value>) -> Cursor {
        // The buffer address is reloaded per block rather than kept in a register across the
        // whole function: a value live everywhere made register allocation superlinear.
        let top = top.unwrap_or_else(|| self.entry_top(len0));
        Cursor {
            top,
            len0,
            vs: vec![Elem::Mem; floor],
            floor,
            pending_gas: 0,
            carried: None,
            gas: None,
            stale: false,
            static_gas: 0,
            needs: Vec::new(),
            offsets: Vec::new(),
            mem_known: 0,
            derived: Vec::new(),
            checked: Vec::new(),
            sums: Vec::new(),
        }
    }

    /// The address of stack slot `len0` in the stack buffer.
    pub(super) fn entry_top(&mut self, len0: Value) -> Value {
        let base = self.frame_field(offsets::STACK_BASE);
        let shifted = self.b.ins().ishl_imm_u(len0, 5);
        self.b.ins().iadd(base, shifted)
    }

    /// The stack length now.
    pub(super) fn len_now(&mut self, c: &Cursor) -> Value {
        match c.delta() {
            0 => c.len0,
            d => self.b.ins().iadd_imm_s(c.len0, d),
        }
    }

    /// The address of the slot just above the stack now (the next block's entry top).
    pub(super) fn top_now(&mut self, c: &Cursor) -> Value {
        match c.delta() {
            0 => c.top,
            d => self.b.ins().iadd_imm_s(c.top, d * super::WORD as i64),
        }
    }

    pub(super) fn store_len(&mut self, c: &Cursor) {
        let len = self.len_now(c);
        self.set_frame_field(offsets::STACK_LEN, len);
    }

    /// Hands the stack length and the gas left to the next block (see [`Lower::len`] and
    /// [`Lower::gas`]), after the block's last sync (the frame's gas may be older:
    /// [`Lower::store_passed_gas`] writes it where the next block leaves the function).
    pub(super) fn pass_len(&mut self, c: &mut Cursor) {
        let len = self.len_now(c);
        self.b.def_var(self.len, len);
        let gas = match c.gas {
            Some(g) => g,
            None => {
                let g = self.frame_field(offsets::GAS_REMAINING);
                c.gas = Some(g);
                g
            }
        };
        self.b.def_var(self.gas, gas);
    }

    /// At an exit that goes on at `pc` when it does not jump (after [`Lower::pass_len`]): the
    /// stack top address there, for the next block to start from if nothing else enters it
    /// ([`Lower::plain`]), instead of reloading the buffer address and recomputing it from
    /// the length (a load, a shift and an add on the path into every block after a JUMPI).
    /// The address lives only across that edge.
    pub(super) fn pass_top(&mut self, c: &Cursor, pc: usize) {
        let Some(n) = self.a.block_at(pc) else {
            return;
        };
        if n != self.current + 1 || !self.plain(n) {
            return;
        }
        let top = self.top_now(c);
        self.fall_top = Some((n, top));
    }

    /// Writes the stack length the blocks pass along to the frame.
    pub(super) fn store_passed_len(&mut self) {
        let len = self.b.use_var(self.len);
        self.set_frame_field(offsets::STACK_LEN, len);
    }

    /// The constant `depth` below the top, if that item is one.
    pub(super) fn constant(&mut self, c: &mut Cursor, depth: usize) -> Option<U256> {
        let idx = c.index(depth);
        match c.vs[idx] {
            Elem::Const { v, .. } => Some(v),
            _ => None,
        }
    }

    /// The word the stack buffer holds at byte offset `off` from the entry top, as i128 halves.
    pub(super) fn load_at(&mut self, c: &Cursor, off: i32) -> (Value, Value) {
        let lo = self.b.ins().load(types::I128, self.flags, c.top, off);
        let hi = self.b.ins().load(types::I128, self.flags, c.top, off + 16);
        (lo, hi)
    }

    /// `vs[idx]` as something other than `Mem` or `Slot` (loading it from the buffer if
    /// needed). Every item the same load yields takes it too (the word at its position and its
    /// copies), so a word read twice is loaded once and is one SSA value.
    pub(super) fn materialize(&mut self, c: &mut Cursor, idx: usize) -> Elem {
        let src = match c.vs[idx] {
            Elem::Mem => c.offset(idx),
            Elem::Slot(src) => src,
            e => return e,
        };
        let (lo, hi) = self.load_at(c, src);
        for j in 0..c.vs.len() {
            let at = c.offset(j);
            c.vs[j] = match c.vs[j] {
                Elem::Mem if at == src => Elem::Val {
                    lo,
                    hi,
                    clean: true,
                },
                Elem::Slot(s) if s == src => Elem::Val {
                    lo,
                    hi,
                    clean: false,
                },
                e => e,
            };
        }
        c.vs[idx]
    }

    /// Before something writes the buffer at the byte offsets `written`: the items that are
    /// copies of a word there (`Slot`) are read first.
    pub(super) fn protect(&mut self, c: &mut Cursor, written: impl std::ops::RangeBounds<i32>) {
        for j in 0..c.vs.len() {
            if matches!(c.vs[j], Elem::Slot(src) if written.contains(&src)) {
                self.materialize(c, j);
            }
        }
    }

    /// Before a helper that takes `inputs` words writes the buffer from its deepest input's
    /// position up (its outputs): [`Lower::protect`] of those positions (with no inputs, from
    /// just above the top).
    pub(super) fn protect_outputs(&mut self, c: &mut Cursor, inputs: usize) {
        let from = match inputs {
            0 => c.offset(c.vs.len()),
            n => {
                let idx = c.index(n - 1);
                c.offset(idx)
            }
        };
        self.protect(c, from..);
    }

    /// The word at byte offset `src` as two 128-bit vectors, for a copy in the buffer that
    /// needs no general-purpose register ([`Lower::copy_stores`] writes it).
    fn copy_loads(&mut self, c: &Cursor, src: i32) -> [Value; 2] {
        [src, src + 16].map(|at| self.b.ins().load(types::I64X2, self.flags, c.top, at))
    }

    fn copy_stores(&mut self, c: &Cursor, dst: i32, halves: [Value; 2]) {
        for (k, v) in halves.into_iter().enumerate() {
            self.b
                .ins()
                .store(self.flags, v, c.top, dst + 16 * k as i32);
        }
    }

    /// The word `depth` below the top as i128 halves.
    pub(super) fn value(&mut self, c: &mut Cursor, depth: usize) -> (Value, Value) {
        let idx = c.index(depth);
        match self.materialize(c, idx) {
            Elem::Val { lo, hi, .. } => (lo, hi),
            Elem::Const { v, .. } => self.const_word(&v),
            // Widened at each use, never replaced in place: a use may sit in a conditional
            // path, whose values would not dominate later uses.
            Elem::Flag(f) => self.bool_word(f),
            Elem::Small { v, .. } => self.small_word(v),
            Elem::Mem | Elem::Slot(_) => unreachable!("materialized"),
        }
    }

    /// Pops the top word as i128 halves.
    pub(super) fn pop_value(&mut self, c: &mut Cursor) -> (Value, Value) {
        let w = self.value(c, 0);
        c.pop(1);
        w
    }

    pub(super) fn push_value(&mut self, c: &mut Cursor, (lo, hi): (Value, Value)) {
        c.vs.push(Elem::Val {
            lo,
            hi,
            clean: false,
        });
    }

    /// Makes the buffer hold `vs[idx]`, for a `ferrite_exec` body (`for_helper`) or for
    /// compiled code (or the interpreter) to read back.
    pub(super) fn store_item(&mut self, c: &mut Cursor, idx: usize, for_helper: bool) {
        let off = c.offset(idx);
        if !matches!(c.vs[idx], Elem::Mem) {
            self.protect(c, off..=off);
        }
        match c.vs[idx] {
            Elem::Slot(src) => {
                let halves = self.copy_loads(c, src);
                self.copy_stores(c, off, halves);
                c.vs[idx] = Elem::Mem;
            }
            Elem::Val {
                lo,
                hi,
                clean: false,
            } => {
                // For a helper, 128-bit vector stores: the runtime's bodies read some words back
                // as 128-bit vectors, and a vector load of two 64-bit stores cannot be
                // store-forwarded (it stalls). The interpreter's stack reads limbs now, but
                // 64-bit stores here still measured slower (PERFORMANCE.md, 2026-12-06).
                // Elsewhere plain stores (two 64-bit moves per half): compiled code
                // reads words back as 64-bit halves, and the vector's assembly cost an
                // instruction per half (measured: geomean JIT/revm 3.08-3.13 -> 3.20-3.22, and
                // 2% less compile work on snailtracer's region).
                for (half, at) in [(lo, off), (hi, off + 16)] {
                    if for_helper {
                        let v = self.b.ins().bitcast(types::I64X2, self.le, half);
                        self.b.ins().store(self.flags, v, c.top, at);
                    } else {
                        self.b.ins().store(self.flags, half, c.top, at);
                    }
                }
                c.vs[idx] = Elem::Val {
                    lo,
                    hi,
                    clean: true,
                };
            }
            Elem::Const { v, clean: false } => {
                self.store_bytes(v.to_le_bytes::<32>(), c.top, off);
                c.vs[idx] = Elem::Const { v, clean: true };
            }
            // Narrow items become words (in place: a store is never in a conditional path).
            Elem::Small { clean: false, .. } | Elem::Flag(_) => {
                let (lo, hi) = self.value(c, c.vs.len() - 1 - idx);
                c.vs[idx] = Elem::Val {
                    lo,
                    hi,
                    clean: false,
                };
                self.store_item(c, idx, for_helper);
            }
            _ => {}
        }
    }

    /// Stores the top `n` items (a helper's inputs).
    pub(super) fn flush_top(&mut self, c: &mut Cursor, n: usize) {
        for depth in 0..n {
            let idx = c.index(depth);
            self.store_item(c, idx, true);
        }
    }

    /// Stores every item the block changed (block exit, or a suspension: `for_helper`). The
    /// copies are read before anything is written, so none needs a general-purpose register.
    pub(super) fn flush_all(&mut self, c: &mut Cursor, for_helper: bool) {
        self.flush_live(c, for_helper, 0);
    }

    /// [`Lower::flush_all`] but for the items `dead` marks (bit `d`: the item `d` below the
    /// top), which the blocks the stack goes to pop unread (`items.rs`): the buffer keeps an
    /// older word in their slots.
    pub(super) fn flush_live(&mut self, c: &mut Cursor, for_helper: bool, dead: u64) {
        let n = c.vs.len();
        for idx in 0..n {
            let depth = n - 1 - idx;
            if depth < 64 && dead >> depth & 1 == 1 {
                // Left as the buffer has it: nothing reads it after this exit.
                c.vs[idx] = Elem::Mem;
            }
        }
        let mut copies = Vec::new();
        for idx in 0..c.vs.len() {
            if let Elem::Slot(src) = c.vs[idx] {
                copies.push((idx, self.copy_loads(c, src)));
                // Stored below; nothing reads it before.
                c.vs[idx] = Elem::Mem;
            }
        }
        for idx in 0..c.vs.len() {
            self.store_item(c, idx, for_helper);
        }
        for (idx, halves) in copies {
            let dst = c.offset(idx);
            self.copy_stores(c, dst, halves);
        }
    }
}
