//! Lowering: one analysed program → one Cranelift function.
//!
//! Signature: `extern "C" fn(frame: *mut Frame, host: *mut HostRef) -> u8` (an [`ExitCode`]).
//! At block boundaries the stack buffer holds every word and the frame holds the gas left; the
//! stack length is a Cranelift variable (a register, a block parameter where paths meet): each
//! block used to reload from the frame the length its predecessor had just stored there, a
//! store-to-load round trip on the way to every block's first operand (5% of snailtracer's run
//! time). It is written to the frame wherever something reads it there — before a helper that
//! takes the stack, before a suspension, before STOP and every hand-over to the interpreter —
//! so at any block boundary compiled code can still hand the frame to the interpreter. (Gas
//! left as a variable too was measured and dropped: twice as fast on a jump-bound loop, but
//! 45% slower on blake2b_huff, whose long blocks of memory accesses then merged it after every
//! expansion call, and up to 50% more compile time.)
//!
//! Within a block the EVM stack is virtual (`Cursor::vs`): PUSH, DUP, SWAP and POP move SSA values
//! and constants at compile time and emit no code; an operand is loaded from the stack buffer
//! only when an instruction reads it, and a value is stored back only when something needs it in
//! memory — a helper's inputs just before the call, everything at the block's exit or before a
//! frame suspends. This is the largest lever on both run time and compile time: about half of
//! real EVM code is stack shuffling, which used to cost two i128 loads and stores per word.
//!
//! Per block: take the stack length once and address every stack slot as `top + constant` (the
//! block's stack effect is known statically, helpers included); check the block's stack bounds
//! and its whole static gas in one branch, handing over to the interpreter if either fails (it
//! then reproduces the exact halt); charge static gas lazily at *sync points* (before a helper,
//! GAS, and at block end; a memory expansion takes the pending charge as an operand instead),
//! so helpers see exactly the gas the interpreter would. No charge has
//! a check of its own: the entry check covers the block's static gas, and a helper that charges
//! dynamic gas (`ferrite_exec`, `ferrite_mexpand`) checks that what is left still covers the
//! static gas the block charges after it (its `need` operand), halting out of gas early if not —
//! the same result, as only state-free code and memory and stack writes, all discarded by the
//! halt, lie in between. One branch and one exit fewer per charge (a fifth of snailtracer's
//! exits), and less IR to compile.
//!
//! Comparisons leave an i8 flag on the virtual stack, widened to a word only if it is stored or
//! used as one: most feed ISZERO or JUMPI. MLOAD/MSTORE at a constant offset (Solidity's
//! free-memory pointer, scratch space) check the memory size with one compare. A word the block
//! has accessed memory at is below 2^32 from there on, and so is it plus a constant: such words
//! stay small i64s (`Elem::Small`), so `mload(add(p, 0x20))` after an access at `p` costs one
//! 64-bit add and one compare instead of a 256-bit add and a four-limb check (a tenth of
//! snailtracer's region IR).
//!
//! Inlined: PUSH*, POP, DUP*, SWAP*, ADD, SUB, LT, GT, SLT, SGT, EQ, ISZERO, AND, OR, XOR, NOT, PC,
//! GAS, JUMPDEST, STOP, INVALID, MLOAD/MSTORE within current memory, SHL/SHR/SAR and SIGNEXTEND
//! by a constant and MUL/DIV/MOD by a constant power of two, and JUMP/JUMPI (static ones as
//! direct branches, dynamic ones through one shared `Switch` over the JUMPDEST blocks). Other
//! state-free word operations call their own helper (`ferrite_mul`, …) with operands by value;
//! everything else calls `ferrite_exec`, the runtime's instruction body. 256-bit add/sub use two i128 halves with an
//! `icmp ult` carry, which compiles in linear time (four i64 limbs with compare carries did not).

use crate::analysis::region::Region;
use crate::analysis::{Analysis, Exit, Instr};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    types, Block, ConstantData, FuncRef, Function, Inst, InstBuilder, MemFlagsData, Value,
};
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Switch, Variable};
use ferrite_runtime::builtins::{offsets, Builtin, PURE_HELPERS};
use ferrite_runtime::opcode::{flags, static_gas_table, OPCODE_INFO};
use ferrite_runtime::{ExitCode, Opcode, STACK_LIMIT, U256};

/// The helpers a lowered function calls.
#[derive(Clone, Copy, Debug)]
pub struct Imports {
    /// `ferrite_exec(frame, host, opcode, static gas to charge) -> u8`.
    pub exec: FuncRef,
    /// `ferrite_jump_fallback(frame, dest) -> u8`.
    pub jump_fallback: FuncRef,
    /// `ferrite_mexpand(frame, offset's low limb, OR of its upper limbs) -> u8`.
    pub mexpand: FuncRef,
    /// By opcode: the state-free operation's helper `(out, limbs…)` ([`PURE_HELPERS`]).
    pub pure: [Option<FuncRef>; 256],
}

impl Imports {
    /// Declares every helper through `import`.
    pub fn declare<E>(mut import: impl FnMut(Builtin) -> Result<FuncRef, E>) -> Result<Imports, E> {
        let mut pure = [None; 256];
        for (op, b) in PURE_HELPERS {
            pure[*op as usize] = Some(import(*b)?);
        }
        Ok(Imports {
            exec: import(Builtin::ferrite_exec)?,
            jump_fallback: import(Builtin::ferrite_jump_fallback)?,
            mexpand: import(Builtin::ferrite_mexpand)?,
            pure,
        })
    }
}

const WORD: i32 = 32;

/// Memory offsets that were accessed are below 2^32 ([`MEMORY_LIMIT`](ferrite_runtime::gas::MEMORY_LIMIT)).
const MEMORY_BITS: u8 = 32;
const _: () = assert!(ferrite_runtime::gas::MEMORY_LIMIT <= 1 << MEMORY_BITS);

struct Lower<'a, 'b> {
    b: FunctionBuilder<'b>,
    a: &'a Analysis,
    imports: Imports,
    /// The frame and host pointers of the code being emitted: reloaded from `context` at the
    /// start of every EVM block (see [`Lower::reload_context`]).
    frame: Value,
    host: Value,
    /// Stack slot holding the frame and host pointers.
    context: cranelift_codegen::ir::StackSlot,
    /// By block index: its IR block, or `None` outside the compiled region.
    blocks: Vec<Option<Block>>,
    /// By block index: where the function starts (the region's entries; without a region, the
    /// start of the code and resume points).
    entries: Vec<bool>,
    /// By block index, for blocks outside the region: the stub that hands over to the
    /// interpreter there (made on first use).
    cold: Vec<Option<Block>>,
    dispatch: Option<Block>,
    /// The stack length between blocks, in a register: a block takes it from its predecessor
    /// instead of reloading what that one just stored (a store-to-load round trip on the path
    /// to every block's first operand). Written to the frame only where something reads it
    /// there: helpers that take the stack, suspensions, and hand-overs to the interpreter.
    len: Variable,
    flags: MemFlagsData,
    /// Little-endian lane order for bitcasts between i128 and i64x2.
    le: MemFlagsData,
}

/// One word of the virtual stack.
#[derive(Clone, Copy, Debug)]
enum Elem {
    /// The stack buffer holds it at its position (untouched since block entry, or written by a
    /// helper).
    Mem,
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
    /// The same word at another position (so the buffer does not hold it there).
    fn moved(self) -> Elem {
        match self {
            Elem::Val { lo, hi, .. } => Elem::Val {
                lo,
                hi,
                clean: false,
            },
            Elem::Const { v, .. } => Elem::Const { v, clean: false },
            Elem::Mem => Elem::Mem,
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
struct Cursor {
    top: Value,
    len0: Value,
    vs: Vec<Elem>,
    floor: usize,
    pending_gas: u64,
    /// Static gas of the block's instructions so far (charged or pending).
    static_gas: u64,
    /// The `need` operands (`iconst`s) of the helper calls since the last `ferrite_exec` call
    /// that may charge dynamic gas, each with `static_gas` at its call: set to the static gas
    /// added since when the next `ferrite_exec` call or the block's end closes them (see
    /// [`Lower::close_needs`]).
    needs: Vec<(Inst, u64)>,
    /// Words the block has accessed memory at, with their low limb: they are below
    /// 2^[`MEMORY_BITS`] from there on (see [`Lower::small`]).
    offsets: Vec<((Value, Value), Value)>,
}

impl Cursor {
    /// Stack length now, relative to the entry length.
    fn delta(&self) -> i64 {
        self.vs.len() as i64 - self.floor as i64
    }

    /// Byte offset from `top` of `vs[idx]`'s slot.
    fn offset(&self, idx: usize) -> i32 {
        (idx as i32 - self.floor as i32) * WORD
    }

    /// The index in `vs` of the item `depth` below the top, modelling deeper entry items as
    /// needed (the analysis bounds them; this keeps the lowering total anyway).
    fn index(&mut self, depth: usize) -> usize {
        if depth >= self.vs.len() {
            let missing = depth + 1 - self.vs.len();
            self.vs
                .splice(0..0, std::iter::repeat_n(Elem::Mem, missing));
            self.floor += missing;
        }
        self.vs.len() - 1 - depth
    }

    /// Drops the top `n` items.
    fn pop(&mut self, n: usize) {
        if n > 0 {
            let i = self.index(n - 1);
            self.vs.truncate(i);
        }
    }
}

/// Builds the body of `func` for `analysis`: every block, or only the `region`'s (see
/// [`crate::analysis::region`]). A branch to a block outside the region hands the frame to the
/// interpreter at that block, and the region's entries are where the function starts.
pub fn lower(
    analysis: &Analysis,
    func: &mut Function,
    imports: Imports,
    config: TargetFrontendConfig,
    region: Option<&Region>,
) {
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(func, &mut fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let frame = b.block_params(entry)[0];
    let host = b.block_params(entry)[1];
    let context = b.create_sized_stack_slot(cranelift_codegen::ir::StackSlotData::new(
        cranelift_codegen::ir::StackSlotKind::ExplicitSlot,
        16,
        3,
    ));
    b.ins().stack_store(types::I64, frame, context, 0);
    b.ins().stack_store(types::I64, host, context, 8);
    let in_region = |i: usize| region.is_none_or(|r| r.hot.get(i).copied().unwrap_or(false));
    let blocks: Vec<Option<Block>> = (0..analysis.blocks.len())
        .map(|i| in_region(i).then(|| b.create_block()))
        .collect();
    let needs_dispatch = analysis.blocks.iter().enumerate().any(|(i, bl)| {
        in_region(i) && matches!(bl.exit, Exit::DynamicJump | Exit::DynamicJumpI(_))
    });
    let dispatch = needs_dispatch.then(|| {
        let d = b.create_block();
        b.append_block_param(d, types::I64);
        d
    });
    let len = b.declare_var(types::I64);
    let mut l = Lower {
        len,
        b,
        a: analysis,
        imports,
        frame,
        host,
        context,
        entries: match region {
            Some(r) => r.entries.clone(),
            None => analysis
                .blocks
                .iter()
                .map(|bl| bl.start == 0 || bl.is_resume_point)
                .collect(),
        },
        cold: vec![None; analysis.blocks.len()],
        blocks,
        dispatch,
        flags: MemFlagsData::trusted(),
        le: MemFlagsData::new().with_endianness(cranelift_codegen::ir::Endianness::Little),
    };
    l.entry_switch();
    for i in 0..analysis.blocks.len() {
        if in_region(i) {
            l.block(i);
        }
    }
    l.finish(config);
}

impl Lower<'_, '_> {
    fn iconst(&mut self, v: i64) -> Value {
        self.b.ins().iconst(types::I64, v)
    }

    /// Takes the frame and host pointers from the function's stack slot. Done per EVM block
    /// (and in the cold stubs and the dispatch), so neither pointer is live across the whole
    /// function: two values live everywhere, across every helper call, cost the register
    /// allocator 4% of a compile (snailtracer's 90% region, counted with callgrind).
    fn reload_context(&mut self) {
        let p = types::I64;
        self.frame = self.b.ins().stack_load(p, p, self.context, 0);
        self.host = self.b.ins().stack_load(p, p, self.context, 8);
    }

    /// A 64-bit field of the frame (at an offset from `builtins::offsets`).
    fn frame_field(&mut self, offset: usize) -> Value {
        self.b
            .ins()
            .load(types::I64, self.flags, self.frame, offset as i32)
    }

    /// Writes a 64-bit field of the frame.
    fn set_frame_field(&mut self, offset: usize, v: Value) {
        self.b.ins().store(self.flags, v, self.frame, offset as i32);
    }

    /// Returns `code`. Every exit returns directly: one shared exit block would gather a phi
    /// with an input per exit edge, which made register allocation superlinear.
    fn ret_code(&mut self, code: ExitCode) {
        let c = self.b.ins().iconst(types::I8, code as i64);
        self.b.ins().return_(&[c]);
    }

    /// Entry: resume at `frame.pc` (0 or after a suspended call); anything else → interpreter.
    fn entry_switch(&mut self) {
        let pc = self.frame_field(offsets::PC);
        let len = self.frame_field(offsets::STACK_LEN);
        self.b.def_var(self.len, len);
        let fallback = self.b.create_block();
        let mut sw = Switch::new();
        for (i, bl) in self.a.blocks.iter().enumerate() {
            if let (true, Some(target)) = (self.entries[i], self.blocks[i]) {
                sw.set_entry(bl.start as u128, target);
            }
        }
        sw.emit(&mut self.b, pc, fallback);
        self.b.switch_to_block(fallback);
        self.ret_code(ExitCode::Interpret);
    }

    /// The stack length now.
    fn len_now(&mut self, c: &Cursor) -> Value {
        self.b.ins().iadd_imm_s(c.len0, c.delta())
    }

    fn store_len(&mut self, c: &Cursor) {
        let len = self.len_now(c);
        self.set_frame_field(offsets::STACK_LEN, len);
    }

    /// Hands the stack length to the next block (see [`Lower::len`]).
    fn pass_len(&mut self, c: &Cursor) {
        let len = self.len_now(c);
        self.b.def_var(self.len, len);
    }

    /// Writes the stack length the blocks pass along to the frame.
    fn store_passed_len(&mut self) {
        let len = self.b.use_var(self.len);
        self.set_frame_field(offsets::STACK_LEN, len);
    }

    /// Charges the static gas accumulated since the last sync; out of gas → exit.
    fn sync_gas(&mut self, c: &mut Cursor) {
        if c.pending_gas == 0 {
            return;
        }
        let gas = self.frame_field(offsets::GAS_REMAINING);
        let left = self
            .b
            .ins()
            .iadd_imm_s(gas, (c.pending_gas as i64).wrapping_neg());
        self.set_frame_field(offsets::GAS_REMAINING, left);
        c.pending_gas = 0;
    }

    /// The `need` operand for a call to a helper that may charge dynamic gas: the static gas
    /// the block charges after the call up to its next `ferrite_exec` call or its end, which
    /// the helper checks is left after its own charge (else out of gas), so that those
    /// charges need no check of their own. `ferrite_exec` is called unconditionally, so its
    /// check also covers the charges after the memory expansions that follow it, which run only
    /// when needed: an expansion's stretch, too, reaches the next `ferrite_exec` call.
    fn open_need(&mut self, c: &mut Cursor, exec: bool) -> Value {
        if exec {
            self.close_needs(c);
        }
        let v = self.iconst(0);
        let Some(inst) = self.b.func.dfg.value_def(v).inst() else {
            unreachable!("an iconst is an instruction's result")
        };
        c.needs.push((inst, c.static_gas));
        v
    }

    /// Sets the open `need` operands to the static gas charged since their calls.
    fn close_needs(&mut self, c: &mut Cursor) {
        for (inst, at) in c.needs.drain(..) {
            let since = c.static_gas - at;
            self.b
                .func
                .replace(inst)
                .iconst(types::I64, since.min(i64::MAX as u64) as i64);
        }
    }

    /// A 256-bit constant as i128 halves.
    fn const_word(&mut self, v: &U256) -> (Value, Value) {
        let l = v.as_limbs();
        (self.const_half(l[0], l[1]), self.const_half(l[2], l[3]))
    }

    /// An i128 constant from its 64-bit halves (one instruction fewer when the high one is 0).
    fn const_half(&mut self, low: u64, high: u64) -> Value {
        let lo = self.iconst(low as i64);
        if high == 0 {
            return self.b.ins().uextend(types::I128, lo);
        }
        let hi = self.iconst(high as i64);
        self.b.ins().iconcat(lo, hi)
    }

    /// A word from a small value (i64).
    fn small_word(&mut self, v: Value) -> (Value, Value) {
        let lo = self.b.ins().uextend(types::I128, v);
        (lo, self.const_half(0, 0))
    }

    /// The item `depth` below the top as an i64 and a bound on its bits, if it is known to be
    /// small: an `Elem::Small`, or a word the block has already accessed memory at (which is
    /// below [`MEMORY_LIMIT`](ferrite_runtime::gas::MEMORY_LIMIT) once the access is done).
    fn small(&mut self, c: &mut Cursor, depth: usize) -> Option<(Value, u8)> {
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

    /// A word from a 0/1 flag (i8).
    fn bool_word(&mut self, flag: Value) -> (Value, Value) {
        let lo = self.b.ins().uextend(types::I128, flag);
        let zero = self.iconst(0);
        (lo, self.b.ins().uextend(types::I128, zero))
    }

    /// The word the stack buffer holds at `vs[idx]`'s slot, as i128 halves.
    fn load_slot(&mut self, c: &Cursor, idx: usize) -> (Value, Value) {
        let off = c.offset(idx);
        let lo = self.b.ins().load(types::I128, self.flags, c.top, off);
        let hi = self.b.ins().load(types::I128, self.flags, c.top, off + 16);
        (lo, hi)
    }

    /// `vs[idx]` as something other than `Mem` (loading it from the buffer if needed).
    fn materialize(&mut self, c: &mut Cursor, idx: usize) -> Elem {
        if let Elem::Mem = c.vs[idx] {
            let (lo, hi) = self.load_slot(c, idx);
            c.vs[idx] = Elem::Val {
                lo,
                hi,
                clean: true,
            };
        }
        c.vs[idx]
    }

    /// The word `depth` below the top as i128 halves.
    fn value(&mut self, c: &mut Cursor, depth: usize) -> (Value, Value) {
        let idx = c.index(depth);
        match self.materialize(c, idx) {
            Elem::Val { lo, hi, .. } => (lo, hi),
            Elem::Const { v, .. } => self.const_word(&v),
            // Widened at each use, never replaced in place: a use may sit in a conditional
            // path, whose values would not dominate later uses.
            Elem::Flag(f) => self.bool_word(f),
            Elem::Small { v, .. } => self.small_word(v),
            Elem::Mem => unreachable!("materialized"),
        }
    }

    /// Pops the top word as i128 halves.
    fn pop_value(&mut self, c: &mut Cursor) -> (Value, Value) {
        let w = self.value(c, 0);
        c.pop(1);
        w
    }

    fn push_value(&mut self, c: &mut Cursor, (lo, hi): (Value, Value)) {
        c.vs.push(Elem::Val {
            lo,
            hi,
            clean: false,
        });
    }

    /// Makes the buffer hold `vs[idx]`, for a `ferrite_exec` body (`for_helper`) or for
    /// compiled code (or the interpreter) to read back.
    fn store_item(&mut self, c: &mut Cursor, idx: usize, for_helper: bool) {
        let off = c.offset(idx);
        match c.vs[idx] {
            Elem::Val {
                lo,
                hi,
                clean: false,
            } => {
                // For a helper, 128-bit vector stores: the runtime reads words back as 128-bit
                // vectors, and a vector load of two 64-bit stores cannot be store-forwarded (it
                // stalls). Elsewhere plain stores (two 64-bit moves per half): compiled code
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
                let bytes = v.to_le_bytes::<32>();
                for (k, at) in [off, off + 16].into_iter().enumerate() {
                    let data = ConstantData::from(&bytes[16 * k..16 * k + 16]);
                    let handle = self.b.func.dfg.constants.insert(data);
                    let x = self.b.ins().vconst(types::I64X2, handle);
                    self.b.ins().store(self.flags, x, c.top, at);
                }
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
    fn flush_top(&mut self, c: &mut Cursor, n: usize) {
        for depth in 0..n {
            let idx = c.index(depth);
            self.store_item(c, idx, true);
        }
    }

    /// Stores every item the block changed (block exit, or a suspension: `for_helper`).
    fn flush_all(&mut self, c: &mut Cursor, for_helper: bool) {
        for idx in 0..c.vs.len() {
            self.store_item(c, idx, for_helper);
        }
    }

    /// A value is non-zero (i8 flag).
    fn nonzero(&mut self, (lo, hi): (Value, Value)) -> Value {
        let x = self.b.ins().bor(lo, hi);
        self.b.ins().icmp_imm_u(IntCC::NotEqual, x, 0)
    }

    /// Pops two words (`a` on top) and pushes `f(a, b)`.
    fn binary(
        &mut self,
        c: &mut Cursor,
        f: impl FnOnce(&mut Self, (Value, Value), (Value, Value)) -> (Value, Value),
    ) {
        let a = self.value(c, 0);
        let bw = self.value(c, 1);
        c.pop(2);
        let r = f(self, a, bw);
        self.push_value(c, r);
    }

    /// Pops two words (`a` on top) and pushes the flag `f(a, b)`.
    fn compare(
        &mut self,
        c: &mut Cursor,
        f: impl FnOnce(&mut Self, (Value, Value), (Value, Value)) -> Value,
    ) {
        let a = self.value(c, 0);
        let bw = self.value(c, 1);
        c.pop(2);
        let flag = f(self, a, bw);
        c.vs.push(Elem::Flag(flag));
    }

    /// Whether the word `depth` below the top is non-zero (i8 flag).
    fn truth(&mut self, c: &mut Cursor, depth: usize) -> Value {
        let idx = c.index(depth);
        if let Elem::Flag(f) = c.vs[idx] {
            return f;
        }
        let w = self.value(c, depth);
        self.nonzero(w)
    }

    /// `x < y` on words, unsigned or two's-complement signed (the sign bit is the high half's
    /// top bit, so only the high halves compare signed).
    fn less_than(&mut self, x: (Value, Value), y: (Value, Value), signed: bool) -> Value {
        let cc = if signed {
            IntCC::SignedLessThan
        } else {
            IntCC::UnsignedLessThan
        };
        let hi_lt = self.b.ins().icmp(cc, x.1, y.1);
        let hi_eq = self.b.ins().icmp(IntCC::Equal, x.1, y.1);
        let lo_lt = self.b.ins().icmp(IntCC::UnsignedLessThan, x.0, y.0);
        let t = self.b.ins().band(hi_eq, lo_lt);
        self.b.ins().bor(hi_lt, t)
    }

    fn block(&mut self, i: usize) {
        let bl = &self.a.blocks[i];
        let Some(this) = self.blocks[i] else {
            unreachable!("only region blocks are lowered")
        };
        self.b.switch_to_block(this);
        self.reload_context();
        let len0 = self.b.use_var(self.len);
        // Stack bounds and the block's whole static gas, once per block, in one branch; on
        // failure the interpreter reproduces the exact halt. Passing it, every static charge up
        // to the block's first gas-consuming helper is covered, so those charges need no check.
        let mut bad = None;
        let mut or = |l: &mut Self, x: Value| {
            bad = Some(match bad {
                Some(b) => l.b.ins().bor(b, x),
                None => x,
            })
        };
        if bl.max_growth > STACK_LIMIT || bl.min_stack > STACK_LIMIT {
            // The block cannot run without a stack error: always let the interpreter halt it.
            let t = self.b.ins().iconst(types::I8, 1);
            or(self, t);
        } else {
            if bl.min_stack > 0 {
                let low =
                    self.b
                        .ins()
                        .icmp_imm_u(IntCC::UnsignedLessThan, len0, bl.min_stack as i64);
                or(self, low);
            }
            if bl.max_growth > 0 {
                let high = self.b.ins().icmp_imm_u(
                    IntCC::UnsignedGreaterThan,
                    len0,
                    (STACK_LIMIT - bl.max_growth) as i64,
                );
                or(self, high);
            }
        }
        if bl.static_gas > 0 {
            let gas = self.frame_field(offsets::GAS_REMAINING);
            let short = self.b.ins().icmp_imm_u(
                IntCC::UnsignedLessThan,
                gas,
                bl.static_gas.min(i64::MAX as u64) as i64,
            );
            or(self, short);
        }
        if let Some(bad) = bad {
            let body = self.b.create_block();
            let deopt = self.b.create_block();
            self.b.ins().brif(bad, deopt, &[], body, &[]);
            self.b.switch_to_block(deopt);
            self.set_frame_field(offsets::STACK_LEN, len0);
            let pc = self.iconst(bl.start as i64);
            self.set_frame_field(offsets::PC, pc);
            self.ret_code(ExitCode::Interpret);
            self.b.switch_to_block(body);
        }
        // The buffer address is reloaded per block rather than kept in a register across the
        // whole function: a value live everywhere made register allocation superlinear.
        let base = self.frame_field(offsets::STACK_BASE);
        let shifted = self.b.ins().ishl_imm_u(len0, 5);
        let top = self.b.ins().iadd(base, shifted);
        let floor = bl.min_stack.min(STACK_LIMIT);
        let mut c = Cursor {
            top,
            len0,
            vs: vec![Elem::Mem; floor],
            floor,
            pending_gas: 0,
            static_gas: 0,
            needs: Vec::new(),
            offsets: Vec::new(),
        };
        self.block_body(i, &mut c);
        self.close_needs(&mut c);
    }

    /// The instructions and exit of block `i`, after its entry check.
    fn block_body(&mut self, i: usize, c: &mut Cursor) {
        let bl = &self.a.blocks[i];
        let gas_table = static_gas_table(self.a.spec);
        let range = bl.instrs.clone();
        let n = range.len();
        let exit = bl.exit.clone();
        for (k, idx) in range.enumerate() {
            let ins = self.a.instrs[idx].clone();
            let is_last = k + 1 == n;
            let info = &OPCODE_INFO[ins.opcode as usize];
            if !info.enabled_in(self.a.spec) {
                self.sync_gas(c);
                self.store_len(c);
                self.ret_code(ExitCode::InvalidOpcode);
                return;
            }
            let gas = gas_table[ins.opcode as usize] as u64;
            c.pending_gas += gas;
            c.static_gas += gas;
            if is_last && matches!(ins.opcode, 0x56 | 0x57) {
                break; // JUMP/JUMPI: lowered with the block exit below.
            }
            let Some(op) = Opcode::from_u8(ins.opcode) else {
                unreachable!("enabled opcodes are defined")
            };
            if self.instr(c, op, &ins) {
                return; // the instruction ended the block (terminator or suspension)
            }
        }
        self.sync_gas(c);
        self.block_exit(c, &exit);
    }

    /// Lowers one instruction; true when it ended control flow.
    fn instr(&mut self, c: &mut Cursor, op: Opcode, ins: &Instr) -> bool {
        use Opcode::*;
        match op {
            PUSH0 | PUSH1 | PUSH2 | PUSH3 | PUSH4 | PUSH5 | PUSH6 | PUSH7 | PUSH8 | PUSH9
            | PUSH10 | PUSH11 | PUSH12 | PUSH13 | PUSH14 | PUSH15 | PUSH16 | PUSH17 | PUSH18
            | PUSH19 | PUSH20 | PUSH21 | PUSH22 | PUSH23 | PUSH24 | PUSH25 | PUSH26 | PUSH27
            | PUSH28 | PUSH29 | PUSH30 | PUSH31 | PUSH32 => c.vs.push(Elem::Const {
                v: ins.imm,
                clean: false,
            }),
            POP => c.pop(1),
            DUP1 | DUP2 | DUP3 | DUP4 | DUP5 | DUP6 | DUP7 | DUP8 | DUP9 | DUP10 | DUP11
            | DUP12 | DUP13 | DUP14 | DUP15 | DUP16 => {
                let idx = c.index((ins.opcode - DUP1 as u8) as usize);
                let e = self.materialize(c, idx);
                c.vs.push(e.moved());
            }
            SWAP1 | SWAP2 | SWAP3 | SWAP4 | SWAP5 | SWAP6 | SWAP7 | SWAP8 | SWAP9 | SWAP10
            | SWAP11 | SWAP12 | SWAP13 | SWAP14 | SWAP15 | SWAP16 => {
                // The deeper index first: modelling it may shift the top's index.
                let deep = c.index((ins.opcode - SWAP1 as u8 + 1) as usize);
                let top = c.index(0);
                let a = self.materialize(c, top);
                let bw = self.materialize(c, deep);
                c.vs[top] = bw.moved();
                c.vs[deep] = a.moved();
            }
            ADD | SUB if self.add_sub_constant(c, op == ADD) => {}
            ADD => self.binary(c, |l, a, (bl, bh)| l.wide_add(a, bl, Some(bh))),
            SUB => self.binary(c, |l, a, (bl, bh)| l.wide_sub(a, bl, Some(bh))),
            LT => self.compare(c, |l, a, bw| l.less_than(a, bw, false)),
            GT => self.compare(c, |l, a, bw| l.less_than(bw, a, false)),
            SLT => self.compare(c, |l, a, bw| l.less_than(a, bw, true)),
            SGT => self.compare(c, |l, a, bw| l.less_than(bw, a, true)),
            EQ => self.compare(c, |l, (al, ah), (bl, bh)| {
                let e1 = l.b.ins().icmp(IntCC::Equal, al, bl);
                let e2 = l.b.ins().icmp(IntCC::Equal, ah, bh);
                l.b.ins().band(e1, e2)
            }),
            AND => self.binary(c, |l, (al, ah), (bl, bh)| {
                (l.b.ins().band(al, bl), l.b.ins().band(ah, bh))
            }),
            OR => self.binary(c, |l, (al, ah), (bl, bh)| {
                (l.b.ins().bor(al, bl), l.b.ins().bor(ah, bh))
            }),
            XOR => self.binary(c, |l, (al, ah), (bl, bh)| {
                (l.b.ins().bxor(al, bl), l.b.ins().bxor(ah, bh))
            }),
            ISZERO => {
                let nz = self.truth(c, 0);
                c.pop(1);
                let z = self.b.ins().bxor_imm_u(nz, 1);
                c.vs.push(Elem::Flag(z));
            }
            NOT => {
                let (lo, hi) = self.pop_value(c);
                let w = (self.b.ins().bnot(lo), self.b.ins().bnot(hi));
                self.push_value(c, w);
            }
            PC => c.vs.push(Elem::Const {
                v: U256::from(ins.pc),
                clean: false,
            }),
            GAS => {
                self.sync_gas(c);
                let g = self.frame_field(offsets::GAS_REMAINING);
                let lo = self.b.ins().uextend(types::I128, g);
                let zero = self.iconst(0);
                let hi = self.b.ins().uextend(types::I128, zero);
                self.push_value(c, (lo, hi));
            }
            JUMPDEST => {}
            MLOAD | MSTORE => self.memory_op(c, ins),
            STOP => {
                self.sync_gas(c);
                self.store_len(c);
                self.ret_code(ExitCode::Stop);
                return true;
            }
            INVALID => {
                self.sync_gas(c);
                self.store_len(c);
                self.ret_code(ExitCode::InvalidOpcode);
                return true;
            }
            // JUMP/JUMPI are lowered with the block exit; one that is not last cannot occur.
            JUMP | JUMPI => unreachable!("jumps end blocks"),
            MUL | DIV | MOD | SHL | SHR if self.by_constant_power(c, op) => {}
            SIGNEXTEND | SAR if self.signed_by_constant(c, op) => {}
            DIV | SDIV => self.division(c, op),
            MUL | MOD | SMOD | ADDMOD | MULMOD | SIGNEXTEND | BYTE | SHL | SHR | SAR | CLZ => {
                self.pure_call(c, op);
                let inputs = OPCODE_INFO[op as usize].inputs as usize;
                c.pop(inputs);
                c.vs.push(Elem::Mem);
            }
            EXP | KECCAK256 | ADDRESS | BALANCE | ORIGIN | CALLER | CALLVALUE | CALLDATALOAD
            | CALLDATASIZE | CALLDATACOPY | CODESIZE | CODECOPY | GASPRICE | EXTCODESIZE
            | EXTCODECOPY | RETURNDATASIZE | RETURNDATACOPY | EXTCODEHASH | BLOCKHASH
            | COINBASE | TIMESTAMP | NUMBER | PREVRANDAO | GASLIMIT | CHAINID | SELFBALANCE
            | BASEFEE | BLOBHASH | BLOBBASEFEE | MSTORE8 | SLOAD | SSTORE | MSIZE | TLOAD
            | TSTORE | MCOPY | LOG0 | LOG1 | LOG2 | LOG3 | LOG4 | CREATE | CALL | CALLCODE
            | RETURN | DELEGATECALL | CREATE2 | STATICCALL | REVERT | SELFDESTRUCT => {
                return self.helper(c, ins)
            }
        }
        false
    }

    /// Calls the state-free operation's helper: operands by value, the result written to the
    /// deepest operand's slot (no gas/len/pc flush needed). The operands stay on the virtual
    /// stack; the caller pops them.
    fn pure_call(&mut self, c: &mut Cursor, op: Opcode) {
        let inputs = OPCODE_INFO[op as usize].inputs as usize;
        let mut args = Vec::with_capacity(1 + 4 * inputs);
        let out_idx = c.index(inputs - 1);
        let out = self.b.ins().iadd_imm_s(c.top, c.offset(out_idx) as i64);
        args.push(out);
        for d in 0..inputs {
            let (lo, hi) = self.value(c, d);
            for half in [lo, hi] {
                let (x, y) = self.b.ins().isplit(half);
                args.extend([x, y]);
            }
        }
        let Some(f) = self.imports.pure[op as usize] else {
            unreachable!("every state-free opcode has a helper")
        };
        self.b.ins().call(f, &args);
    }

    /// DIV/SDIV: one native 64-bit division when both operands fit 64 bits (unsigned for DIV,
    /// signed for SDIV) and the divisor is neither 0 nor, for SDIV, -1 (the cases a hardware
    /// division traps on); otherwise the helper. Most divisions in real code are of small
    /// numbers (fixed-point arithmetic, integer square roots), and the helper call cost more
    /// than the division.
    fn division(&mut self, c: &mut Cursor, op: Opcode) {
        let signed = op == Opcode::SDIV;
        let fits = |l: &mut Self, (lo, hi): (Value, Value)| {
            let (l0, l1) = l.b.ins().isplit(lo);
            let (h0, h1) = l.b.ins().isplit(hi);
            // The three upper limbs are all the sign of the lowest (signed) or all zero.
            let ext = if signed {
                l.b.ins().sshr_imm_u(l0, 63)
            } else {
                l.iconst(0)
            };
            let d1 = l.b.ins().bxor(l1, ext);
            let d2 = l.b.ins().bxor(h0, ext);
            let d3 = l.b.ins().bxor(h1, ext);
            let d = l.b.ins().bor(d1, d2);
            let d = l.b.ins().bor(d, d3);
            (l0, l.b.ins().icmp_imm_u(IntCC::Equal, d, 0))
        };
        let a = self.value(c, 0);
        let bw = self.value(c, 1);
        let (x, x_ok) = fits(self, a);
        let (y, y_ok) = fits(self, bw);
        let ok = self.b.ins().band(x_ok, y_ok);
        let nonzero = self.b.ins().icmp_imm_u(IntCC::NotEqual, y, 0);
        let mut ok = self.b.ins().band(ok, nonzero);
        if signed {
            let not_minus_one = self.b.ins().icmp_imm_s(IntCC::NotEqual, y, -1);
            ok = self.b.ins().band(ok, not_minus_one);
        }
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        let join = self.b.create_block();
        self.b.append_block_param(join, types::I128);
        self.b.append_block_param(join, types::I128);
        self.b.ins().brif(ok, fast, &[], slow, &[]);
        self.b.switch_to_block(fast);
        let (lo, hi) = if signed {
            let q = self.b.ins().sdiv(x, y);
            let lo = self.b.ins().sextend(types::I128, q);
            (lo, self.b.ins().sshr_imm_u(lo, 127))
        } else {
            let q = self.b.ins().udiv(x, y);
            let zero = self.iconst(0);
            (
                self.b.ins().uextend(types::I128, q),
                self.b.ins().uextend(types::I128, zero),
            )
        };
        self.b.ins().jump(join, &[lo.into(), hi.into()]);
        self.b.switch_to_block(slow);
        self.pure_call(c, op);
        let deep = c.index(1);
        let (lo, hi) = self.load_slot(c, deep);
        self.b.ins().jump(join, &[lo.into(), hi.into()]);
        self.b.switch_to_block(join);
        c.pop(2);
        let p = self.b.block_params(join);
        let w = (p[0], p[1]);
        self.push_value(c, w);
    }

    /// The constant `depth` below the top, if that item is one.
    fn constant(&mut self, c: &mut Cursor, depth: usize) -> Option<U256> {
        let idx = c.index(depth);
        match c.vs[idx] {
            Elem::Const { v, .. } => Some(v),
            _ => None,
        }
    }

    /// ADD, or SUB (`add` false), with a constant operand below 2^128 (Solidity's offsets and
    /// counters: `add(p, 0x20)`, `sub(n, 1)`): the high half only takes the carry, three
    /// instructions fewer; adding or subtracting 0 emits nothing, and two constants fold. False
    /// (nothing emitted) for other operands.
    fn add_sub_constant(&mut self, c: &mut Cursor, add: bool) -> bool {
        let (a, b) = (self.constant(c, 0), self.constant(c, 1));
        if let (Some(a), Some(b)) = (a, b) {
            c.pop(2);
            let v = if add {
                a.wrapping_add(b)
            } else {
                a.wrapping_sub(b)
            };
            c.vs.push(Elem::Const { v, clean: false });
            return true;
        }
        // The constant and the depth of the other operand; SUB only by a constant (`a - k`).
        let (k, other) = match (a, b) {
            (Some(k), None) if add => (k, 1),
            (None, Some(k)) => (k, 0),
            _ => return false,
        };
        let [k0, k1, k2, k3] = *k.as_limbs();
        if k2 != 0 || k3 != 0 {
            return false;
        }
        if add && k < U256::from(1u64 << MEMORY_BITS) {
            if let Some((x, bits)) = self.small(c, other) {
                let bits = bits.max(MEMORY_BITS) + 1;
                if bits < 64 {
                    c.pop(2);
                    let v = self.b.ins().iadd_imm_u(x, k0 as i64);
                    c.vs.push(Elem::Small {
                        v,
                        bits,
                        clean: false,
                    });
                    return true;
                }
            }
        }
        let (xl, xh) = self.value(c, other);
        c.pop(2);
        if k0 == 0 && k1 == 0 {
            self.push_value(c, (xl, xh));
            return true;
        }
        let kv = self.const_half(k0, k1);
        let w = if add {
            self.wide_add((xl, xh), kv, None)
        } else {
            self.wide_sub((xl, xh), kv, None)
        };
        self.push_value(c, w);
        true
    }

    /// `a + b` on i128 halves, the low halves' carry into the high one (two i128 adds and an
    /// `icmp ult` carry compile in linear time; see the module docs). `bh` `None`: b's high
    /// half is zero.
    fn wide_add(
        &mut self,
        (al, ah): (Value, Value),
        bl: Value,
        bh: Option<Value>,
    ) -> (Value, Value) {
        let lo = self.b.ins().iadd(al, bl);
        let carry = self.b.ins().icmp(IntCC::UnsignedLessThan, lo, al);
        let carry = self.b.ins().uextend(types::I128, carry);
        let hi = match bh {
            Some(bh) => self.b.ins().iadd(ah, bh),
            None => ah,
        };
        (lo, self.b.ins().iadd(hi, carry))
    }

    /// `a - b` on i128 halves, as [`Lower::wide_add`].
    fn wide_sub(
        &mut self,
        (al, ah): (Value, Value),
        bl: Value,
        bh: Option<Value>,
    ) -> (Value, Value) {
        let lo = self.b.ins().isub(al, bl);
        let borrow = self.b.ins().icmp(IntCC::UnsignedLessThan, al, bl);
        let borrow = self.b.ins().uextend(types::I128, borrow);
        let hi = match bh {
            Some(bh) => self.b.ins().isub(ah, bh),
            None => ah,
        };
        (lo, self.b.ins().isub(hi, borrow))
    }

    /// Inlines SHL/SHR by a constant amount, and MUL/DIV/MOD by a constant power of two (how
    /// code before the shift opcodes shifts and masks) as shifts and masks on the i128 halves;
    /// false (nothing emitted) when the operands are not of that shape.
    fn by_constant_power(&mut self, c: &mut Cursor, op: Opcode) -> bool {
        use Opcode::*;
        let pow2 = |v: U256| (v.count_ones() == 1).then(|| v.trailing_zeros() as u32);
        // (depth of the constant, depth of the other operand, left?, shift)
        let shape = match op {
            SHL | SHR => self.constant(c, 0).map(|s| {
                let k = if s < U256::from(256) {
                    s.as_limbs()[0] as u32
                } else {
                    256
                };
                (1, op == SHL, k)
            }),
            DIV => self.constant(c, 1).and_then(pow2).map(|k| (0, false, k)),
            MUL => match self.constant(c, 1).and_then(pow2) {
                Some(k) => Some((0, true, k)),
                None => self.constant(c, 0).and_then(pow2).map(|k| (1, true, k)),
            },
            MOD => match self.constant(c, 1).and_then(pow2) {
                Some(k) => {
                    let x = self.value(c, 0);
                    let mask = (U256::from(1) << k as usize) - U256::from(1);
                    let m = self.const_word(&mask);
                    c.pop(2);
                    let r = (self.b.ins().band(x.0, m.0), self.b.ins().band(x.1, m.1));
                    self.push_value(c, r);
                    return true;
                }
                None => None,
            },
            _ => None,
        };
        let Some((other, left, k)) = shape else {
            return false;
        };
        let x = self.value(c, other);
        c.pop(2);
        let r = self.shift_const(x, left, k);
        self.push_value(c, r);
        true
    }

    /// Inlines SIGNEXTEND by a constant byte index and SAR by a constant amount (compilers emit
    /// both with constant operands: sign extension of narrower integer types, signed division
    /// by powers of two) as shifts on the i128 halves; false (nothing emitted) otherwise.
    fn signed_by_constant(&mut self, c: &mut Cursor, op: Opcode) -> bool {
        let Some(k) = self.constant(c, 0) else {
            return false;
        };
        let small = |k: U256, bound: u64| (k < U256::from(bound)).then(|| k.as_limbs()[0] as u32);
        let x = self.value(c, 1);
        c.pop(2);
        let (lo, hi) = x;
        let r = if op == Opcode::SAR {
            self.sar_const(x, small(k, 256).unwrap_or(256))
        } else {
            match small(k, 31) {
                // Byte 31 or beyond: the word is its own sign extension.
                None => x,
                // The sign bit 8k+7 lies in the low half: extend it through the low half, and
                // the high half is all sign.
                Some(b) if b < 16 => {
                    let s = 127 - (8 * b + 7) as i64;
                    let l = self.b.ins().ishl_imm_u(lo, s);
                    let l = self.b.ins().sshr_imm_u(l, s);
                    (l, self.b.ins().sshr_imm_u(l, 127))
                }
                Some(b) => {
                    let s = 255 - (8 * b + 7) as i64;
                    let h = self.b.ins().ishl_imm_u(hi, s);
                    (lo, self.b.ins().sshr_imm_u(h, s))
                }
            }
        };
        self.push_value(c, r);
        true
    }

    /// A 256-bit arithmetic right shift of `(lo, hi)` by the constant `k` (256 or more: all sign).
    fn sar_const(&mut self, (lo, hi): (Value, Value), k: u32) -> (Value, Value) {
        let sign = |l: &mut Self| l.b.ins().sshr_imm_u(hi, 127);
        match k {
            0 => (lo, hi),
            1..=127 => {
                let l = self.b.ins().ushr_imm_u(lo, k as i64);
                let spill = self.b.ins().ishl_imm_u(hi, 128 - k as i64);
                let l = self.b.ins().bor(l, spill);
                (l, self.b.ins().sshr_imm_u(hi, k as i64))
            }
            128 => (hi, sign(self)),
            129..=255 => {
                let l = self.b.ins().sshr_imm_u(hi, k as i64 - 128);
                (l, sign(self))
            }
            _ => {
                let s = sign(self);
                (s, s)
            }
        }
    }

    /// A 256-bit shift of `(lo, hi)` by the constant `k` (256 or more: zero).
    fn shift_const(&mut self, (lo, hi): (Value, Value), left: bool, k: u32) -> (Value, Value) {
        // Only shifts by 128 or more produce a zero half.
        let zero = |l: &mut Self| {
            let z = l.iconst(0);
            l.b.ins().iconcat(z, z)
        };
        let ins = |l: &mut Self, x: Value, by: u32, left: bool| {
            if left {
                l.b.ins().ishl_imm_u(x, by as i64)
            } else {
                l.b.ins().ushr_imm_u(x, by as i64)
            }
        };
        // Shifting left, bits move from the low half into the high one; right, the reverse.
        let (near, far) = if left { (lo, hi) } else { (hi, lo) };
        let (n, f) = match k {
            0 => (near, far),
            1..=127 => {
                let n = ins(self, near, k, left);
                let f = ins(self, far, k, left);
                let spill = ins(self, near, 128 - k, !left);
                (n, self.b.ins().bor(f, spill))
            }
            128 => (zero(self), near),
            129..=255 => {
                let f = ins(self, near, k - 128, left);
                (zero(self), f)
            }
            _ => {
                let z = zero(self);
                (z, z)
            }
        };
        if left {
            (n, f)
        } else {
            (f, n)
        }
    }

    /// Calls the runtime's body of the instruction; true when control ends here.
    fn helper(&mut self, c: &mut Cursor, ins: &Instr) -> bool {
        let info = &OPCODE_INFO[ins.opcode as usize];
        if info.has(flags::SUSPENDS) {
            // The frame resumes from the buffer (in either tier): everything must be there.
            self.flush_all(c, true);
        } else {
            self.flush_top(c, info.inputs as usize);
        }
        let r = self.exec_call(c, ins);
        if info.has(flags::TERMINATOR) || info.has(flags::SUSPENDS) {
            self.b.ins().return_(&[r]);
            return true;
        }
        self.continue_unless_exit(r);
        c.pop(info.inputs as usize);
        for _ in 0..info.outputs {
            c.vs.push(Elem::Mem);
        }
        false
    }

    /// Flushes the stack length (and, for a suspension, the pc it resumes at) and calls
    /// `ferrite_exec` with the static gas pending (the inputs must be flushed). No body but the
    /// suspending ones reads the pc.
    fn exec_call(&mut self, c: &mut Cursor, ins: &Instr) -> Value {
        // The helper charges the pending static gas; the body may charge dynamic gas (memory,
        // cold access, ...).
        let charge = self.iconst(c.pending_gas as i64);
        c.pending_gas = 0;
        let need = self.open_need(c, true);
        self.store_len(c);
        if OPCODE_INFO[ins.opcode as usize].has(flags::SUSPENDS) {
            let pc = self.iconst(ins.pc as i64 + 1);
            self.set_frame_field(offsets::PC, pc);
        }
        let opv = self.b.ins().iconst(types::I32, ins.opcode as i64);
        let call = self.b.ins().call(
            self.imports.exec,
            &[self.frame, self.host, opv, charge, need],
        );
        self.b.inst_results(call)[0]
    }

    /// Returns `r` if it is not `Continue`; otherwise goes on in a new block.
    fn continue_unless_exit(&mut self, r: Value) {
        let cont = self.b.create_block();
        self.continue_at_unless_exit(r, cont);
    }

    /// Returns `r` if it is not `Continue`; otherwise goes on at `cont`.
    fn continue_at_unless_exit(&mut self, r: Value, cont: Block) {
        let out = self.b.create_block();
        self.b.ins().brif(r, out, &[], cont, &[]);
        self.b.switch_to_block(out);
        self.b.ins().return_(&[r]);
        self.b.switch_to_block(cont);
    }

    /// The word `depth` below the top as four 64-bit limbs, least significant first (a helper's
    /// by-value operands); constants are emitted where they are used.
    fn limbs(&mut self, c: &mut Cursor, depth: usize) -> [Value; 4] {
        if let Some(v) = self.constant(c, depth) {
            return v.as_limbs().map(|x| self.iconst(x as i64));
        }
        let (lo, hi) = self.value(c, depth);
        let (l0, l1) = self.b.ins().isplit(lo);
        let (l2, l3) = self.b.ins().isplit(hi);
        [l0, l1, l2, l3]
    }

    /// MLOAD/MSTORE. When the word lies within current memory (one compare for a constant
    /// offset — Solidity's free-memory pointer, scratch space — a few otherwise) the access is
    /// inline; else `ferrite_mexpand` first grows memory (charging it) and the same inline
    /// access follows: one access path with a call on the side, no join of a fast and a slow
    /// path's words, and one helper for both opcodes.
    fn memory_op(&mut self, c: &mut Cursor, ins: &Instr) {
        let is_load = ins.opcode == Opcode::MLOAD as u8;
        // Operands are loaded before the paths split: a load in one path would not dominate
        // the code after them.
        let stored = (!is_load).then(|| self.value(c, 1));
        let limit = self.frame_field(offsets::MEM_WORD_LIMIT);
        let slow = self.b.create_block();
        let access = self.b.create_block();
        // The offset's low limb (a constant, or a value) and the OR of its upper limbs.
        let (at, upper) = match (self.small(c, 0), self.constant(c, 0)) {
            (Some((v, _)), _) => {
                let ok = self.b.ins().icmp(IntCC::UnsignedLessThan, v, limit);
                self.b.ins().brif(ok, access, &[], slow, &[]);
                (Ok(v), None)
            }
            (None, Some(v)) if v <= U256::from(u32::MAX) => {
                let off = v.as_limbs()[0] as i64;
                let ok = self
                    .b
                    .ins()
                    .icmp_imm_u(IntCC::UnsignedGreaterThan, limit, off);
                self.b.ins().brif(ok, access, &[], slow, &[]);
                (Err(off), None)
            }
            _ => {
                let [l0, l1, h0, h1] = self.limbs(c, 0);
                let idx = c.index(0);
                if let Elem::Val { lo, hi, .. } = c.vs[idx] {
                    // The access below halts unless the word is within memory.
                    c.offsets.push(((lo, hi), l0));
                }
                let upper = self.b.ins().bor(l1, h0);
                let upper = self.b.ins().bor(upper, h1);
                let in_range = self.b.ins().icmp(IntCC::UnsignedLessThan, l0, limit);
                let small = self.b.ins().icmp_imm_u(IntCC::Equal, upper, 0);
                let ok = self.b.ins().band(in_range, small);
                self.b.ins().brif(ok, access, &[], slow, &[]);
                (Ok(l0), Some(upper))
            }
        };
        self.b.switch_to_block(slow);
        let low = match at {
            Ok(l0) => l0,
            Err(off) => self.iconst(off),
        };
        let upper = upper.unwrap_or_else(|| self.iconst(0));
        // Expansion charges memory gas after the static gas still pending, which stays pending
        // (the access path does not charge it: both paths go on with it).
        let pending = self.iconst(c.pending_gas as i64);
        let need = self.open_need(c, false);
        let call = self.b.ins().call(
            self.imports.mexpand,
            &[self.frame, low, upper, pending, need],
        );
        let r = self.b.inst_results(call)[0];
        self.continue_at_unless_exit(r, access);
        // After an expansion the word is within memory, so its offset fits the low limb.
        let base = self.frame_field(offsets::MEM_BASE);
        let addr = match at {
            Ok(l0) => self.b.ins().iadd(base, l0),
            Err(0) => base,
            Err(off) => self.b.ins().iadd_imm_s(base, off),
        };
        // Memory is big-endian; stack words are little-endian i128 halves: the high half is
        // the first 16 bytes, byte-swapped.
        c.pop(if is_load { 1 } else { 2 });
        match stored {
            None => {
                let hi = self.b.ins().load(types::I128, self.flags, addr, 0);
                let lo = self.b.ins().load(types::I128, self.flags, addr, 16);
                let w = (self.b.ins().bswap(lo), self.b.ins().bswap(hi));
                self.push_value(c, w);
            }
            Some((lo, hi)) => {
                let hi = self.b.ins().bswap(hi);
                let lo = self.b.ins().bswap(lo);
                self.b.ins().store(self.flags, hi, addr, 0);
                self.b.ins().store(self.flags, lo, addr, 16);
            }
        }
    }

    /// Jumps to the dispatch with a popped destination (InvalidJump if it exceeds 64 bits).
    fn dynamic_jump(&mut self, dest: (Value, Value)) {
        let Some(dispatch) = self.dispatch else {
            unreachable!("dispatch exists when a dynamic jump does")
        };
        let (lo, hi) = dest;
        let (l0, l1) = self.b.ins().isplit(lo);
        let (h0, h1) = self.b.ins().isplit(hi);
        let upper = self.b.ins().bor(l1, h0);
        let upper = self.b.ins().bor(upper, h1);
        let bad = self.b.create_block();
        self.b.ins().brif(upper, bad, &[], dispatch, &[l0.into()]);
        self.b.switch_to_block(bad);
        self.ret_code(ExitCode::InvalidJump);
    }

    fn goto_pc(&mut self, pc: usize) {
        match self.a.block_at(pc) {
            Some(t) => self.goto_block(t),
            None => self.ret_code(ExitCode::Stop),
        }
    }

    /// Jumps to block `t`: its code in the region, else the stub handing over to the
    /// interpreter there.
    fn goto_block(&mut self, t: usize) {
        let target = match self.blocks[t] {
            Some(b) => b,
            None => *self.cold[t].get_or_insert_with(|| self.b.create_block()),
        };
        self.b.ins().jump(target, &[]);
    }

    fn block_exit(&mut self, c: &mut Cursor, exit: &Exit) {
        match exit {
            Exit::Fallthrough(pc) => {
                self.flush_all(c, false);
                self.pass_len(c);
                self.goto_pc(*pc);
            }
            Exit::Terminate => {
                // The code ran out: implicit STOP.
                self.store_len(c);
                self.ret_code(ExitCode::Stop);
            }
            Exit::StaticJump(t) => {
                c.pop(1);
                self.flush_all(c, false);
                self.pass_len(c);
                match t {
                    Some(t) => self.goto_block(*t),
                    None => self.ret_code(ExitCode::InvalidJump),
                }
            }
            Exit::DynamicJump => {
                let dest = self.pop_value(c);
                self.flush_all(c, false);
                self.pass_len(c);
                self.dynamic_jump(dest);
            }
            Exit::StaticJumpI(_, f) | Exit::DynamicJumpI(f) => {
                let dest = match exit {
                    Exit::DynamicJumpI(_) => Some(self.value(c, 0)),
                    _ => None,
                };
                let taken = self.truth(c, 1);
                c.pop(2);
                self.flush_all(c, false);
                self.pass_len(c);
                let yes = self.b.create_block();
                let no = self.b.create_block();
                self.b.ins().brif(taken, yes, &[], no, &[]);
                self.b.switch_to_block(no);
                self.goto_pc(*f);
                self.b.switch_to_block(yes);
                match (exit, dest) {
                    (Exit::StaticJumpI(Some(t), _), _) => self.goto_block(*t),
                    (_, Some(dest)) => self.dynamic_jump(dest),
                    _ => self.ret_code(ExitCode::InvalidJump),
                }
            }
        }
    }

    fn finish(mut self, config: TargetFrontendConfig) {
        if let Some(d) = self.dispatch {
            self.b.switch_to_block(d);
            let dest = self.b.block_params(d)[0];
            self.reload_context();
            let invalid = self.b.create_block();
            let mut sw = Switch::new();
            for bi in &self.a.dynamic_targets {
                if let Some(target) = self.blocks[*bi] {
                    sw.set_entry(self.a.blocks[*bi].start as u128, target);
                }
            }
            sw.emit(&mut self.b, dest, invalid);
            // Any other destination: validated at run time; valid ones continue interpreted.
            self.b.switch_to_block(invalid);
            self.store_passed_len();
            let call = self
                .b
                .ins()
                .call(self.imports.jump_fallback, &[self.frame, dest]);
            let r = self.b.inst_results(call)[0];
            self.b.ins().return_(&[r]);
        }
        for t in 0..self.cold.len() {
            if let Some(stub) = self.cold[t] {
                self.b.switch_to_block(stub);
                self.reload_context();
                self.store_passed_len();
                let pc = self.iconst(self.a.blocks[t].start as i64);
                self.set_frame_field(offsets::PC, pc);
                self.ret_code(ExitCode::Interpret);
            }
        }
        self.b.seal_all_blocks();
        self.b.finalize(config);
    }
}
