//! Control: the entry switch, block exits, jumps, and the shared tails of the function.
//!
//! The function starts with an indexed jump to one of its entries (the start of the code and
//! resume points after a suspended call, or a region's or chunk's entries): the caller passes
//! the index of `frame.pc`'s entry ([`entry_blocks`]); any other index hands over to the
//! interpreter. Static jumps are direct branches; dynamic ones go through one shared `Switch`
//! over the JUMPDEST blocks (the dispatch), whose other destinations `ferrite_jump_fallback`
//! validates. A branch to a block outside the region goes to a stub that hands the frame to the
//! interpreter there. Every exit returns its code directly.

use super::stack::Cursor;
use super::Lower;
use crate::analysis::Exit;
use cranelift_codegen::ir::{types, Block, InstBuilder, JumpTableData, Value};
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_frontend::Switch;
use ferrite_runtime::builtins::{offsets, Builtin};
use ferrite_runtime::ExitCode;

/// The entry blocks of a function in the order of its entry index: the blocks marked in
/// `entries`, by block index.
pub fn entry_blocks(entries: &[bool]) -> impl Iterator<Item = usize> + '_ {
    (0..entries.len()).filter(|i| entries[*i])
}

impl Lower<'_, '_> {
    /// Returns `code`, through the function's one return block: noted in the frame (where the
    /// helpers note theirs, [`Lower::ret_helper`]) by a block shared by the exits with that
    /// code, so that each exit is one jump (snailtracer has 456 hand-overs to the interpreter
    /// at its blocks' entry checks).
    pub(super) fn ret_code(&mut self, code: ExitCode) {
        let out = *self.code_exits[code as usize].get_or_insert_with(|| self.b.create_block());
        self.b.ins().jump(out, &[]);
    }

    /// Ends the function from within a block with `code` (a halt: STOP, INVALID, an opcode
    /// the fork lacks, the code running out): the gas left and the stack length to the
    /// frame, where the driver reads them.
    pub(super) fn halt(&mut self, c: &mut Cursor, code: ExitCode) {
        self.sync_gas(c);
        self.flush_gas(c);
        self.store_len(c);
        self.ret_code(code);
    }

    /// Returns `code` at a block boundary, after [`Lower::pass_len`]: the gas the block
    /// passes on to the frame first (the driver and the interpreter read it there).
    fn ret_passed(&mut self, code: ExitCode) {
        self.store_passed_gas();
        self.ret_code(code);
    }

    /// Returns the exit code a helper just returned (and noted in the frame).
    pub(super) fn ret_helper(&mut self) {
        let out = self.exit_block();
        self.b.ins().jump(out, &[]);
    }

    /// The function's one return block, which returns the exit code noted in the frame
    /// (`frame.jit_exit`). One block: a `return` at each exit repeated the epilogue (five
    /// registers restored, the frame popped: a dozen instructions) at every block's entry
    /// check, jump and halt — a tenth of the machine code. It takes no block parameter, which
    /// with an input per exit made register allocation superlinear; and the code is noted in
    /// the frame by whoever exits, so that a helper's call site stores nothing.
    pub(super) fn exit_block(&mut self) -> Block {
        *self.exit_code.get_or_insert_with(|| self.b.create_block())
    }

    /// Entry: at the entry block `index` (in block order, see [`entry_blocks`]), which the
    /// caller looked up for `frame.pc`; any other index → interpreter. One indexed jump: a
    /// switch on the pc searched hundreds of entries (a crossing between chunks cost ~26 ns).
    pub(super) fn entry_switch(&mut self, index: Value) {
        let len = self.frame_field(offsets::STACK_LEN);
        self.b.def_var(self.len, len);
        let gas = self.frame_field(offsets::GAS_REMAINING);
        self.b.def_var(self.gas, gas);
        let fallback = self.b.create_block();
        let targets: Vec<Block> = entry_blocks(&self.entries)
            .filter_map(|i| {
                self.entered[i] = true;
                self.blocks[i]
            })
            .collect();
        if let [only] = targets[..] {
            // One entry (a whole program without resume points): a compare is less code than
            // a jump table.
            self.b.ins().brif(index, fallback, &[], only, &[]);
        } else {
            let targets: Vec<_> = targets
                .iter()
                .map(|t| self.b.func.dfg.block_call(*t, &[]))
                .collect();
            let otherwise = self.b.func.dfg.block_call(fallback, &[]);
            let table = self
                .b
                .create_jump_table(JumpTableData::new(otherwise, &targets));
            self.b.ins().br_table(index, table);
        }
        self.b.switch_to_block(fallback);
        self.ret_code(ExitCode::Interpret);
    }

    /// Jumps to the dispatch with a popped destination (InvalidJump if it exceeds 64 bits).
    pub(super) fn dynamic_jump(&mut self, dest: (Value, Value)) {
        let dispatch = *self.dispatch.get_or_insert_with(|| {
            let d = self.b.create_block();
            self.b.append_block_param(d, types::I64);
            d
        });
        // The dispatch reads the frame's gas (a phi there would take an input per jump).
        self.store_passed_gas();
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

    pub(super) fn goto_pc(&mut self, pc: usize) {
        match self.a.block_at(pc) {
            Some(t) => self.goto_block(t),
            None => self.ret_passed(ExitCode::Stop),
        }
    }

    /// Jumps to block `t`: its code in the region, else the stub handing over to the
    /// interpreter there.
    pub(super) fn goto_block(&mut self, t: usize) {
        // A block entered only by another block's jump has no entry of its own: the jump goes
        // on into it ([`Lower::enter_jumped`]); a jump the lowering folded to a constant here
        // hands over to the interpreter there.
        let only_jumped = self.jumped[t].is_some();
        match self.blocks[t].filter(|_| !only_jumped) {
            Some(b) => {
                self.entered[t] = true;
                self.b.ins().jump(b, &[]);
            }
            None => self.hand_over_at(t),
        }
    }

    /// Jumps to the stub that hands the frame over to the interpreter at block `t`.
    pub(super) fn hand_over_at(&mut self, t: usize) {
        // The interpreter takes over there: it reads the frame's gas.
        self.store_passed_gas();
        let stub = *self.cold[t].get_or_insert_with(|| self.b.create_block());
        self.b.ins().jump(stub, &[]);
    }

    /// The static jump of the block being lowered to block `t`, its only way in
    /// ([`only_jumps`]), with the stack stored and the length and gas passed: `t`'s entry
    /// check here (unless this block's own check covered `t`: `jump_chained`), then on into
    /// `t` with this cursor, whose words `t` need not load again (nor its stack top address be
    /// computed again from the length).
    pub(super) fn enter_jumped(&mut self, c: &Cursor, t: usize) {
        if !self.jump_chained[t] {
            let len = self.len_now(c);
            self.entry_check(t, len, true);
        }
        let body = self.b.create_block();
        self.b.ins().jump(body, &[]);
        let mut c = c.clone();
        self.close_needs(&mut c);
        self.conts[t] = Some((body, c));
    }

    /// The block a jump to the constant `dest` lands on: `Some(None)` when `dest` is not a
    /// JUMPDEST (the jump halts), `None` when the destination is not a constant.
    fn constant_target(&mut self, c: &mut Cursor) -> Option<Option<usize>> {
        let dest = self.constant(c, 0)?;
        Some(
            ferrite_runtime::word::to_u64(&dest)
                .filter(|d| self.a.code.is_jumpdest(*d as usize))
                .and_then(|d| self.a.jumpdest_blocks.get(&(d as usize)).copied()),
        )
    }

    pub(super) fn block_exit(&mut self, c: &mut Cursor, exit: &Exit) {
        // A destination the analysis left dynamic may still be a constant here, folded from
        // constants (`PUSH1 3 PC ADD JUMP`): it branches directly, as a static jump does,
        // instead of through the dispatch (which holds at most `MAX_DYNAMIC_TARGETS` arms).
        let folded;
        let exit = match exit {
            Exit::DynamicJump => match self.constant_target(c) {
                Some(t) => {
                    folded = Exit::StaticJump(t);
                    &folded
                }
                None => exit,
            },
            Exit::DynamicJumpI(f) => match self.constant_target(c) {
                Some(t) => {
                    folded = Exit::StaticJumpI(t, *f);
                    &folded
                }
                None => exit,
            },
            _ => exit,
        };
        match exit {
            Exit::Fallthrough(pc) => self.fall_on(c, *pc, false),
            Exit::Terminate => {
                // The code ran out: implicit STOP.
                self.halt(c, ExitCode::Stop);
            }
            Exit::StaticJump(Some(t)) if self.carries_back(*t) => {
                c.pop(1);
                self.carry_back(c, *t);
            }
            Exit::StaticJump(t) => {
                c.pop(1);
                self.store_for(c, &[*t]);
                match t {
                    Some(t) => self.goto_static(c, *t),
                    None => self.ret_passed(ExitCode::InvalidJump),
                }
            }
            Exit::DynamicJump => {
                let dest = self.pop_value(c);
                self.flush_all(c, false);
                self.pass_len(c);
                self.dynamic_jump(dest);
            }
            // A constant condition (`PUSH0 PUSH0 JUMPI`, EEST's fall-through benchmark) takes
            // one way without a branch: a `brif` on a constant that Cranelift folds later leaves
            // the other way unreachable, and removing thousands of unreachable blocks that jump
            // to one shared block is quadratic in Cranelift (a quarter of the compile of 8,191
            // such JUMPIs).
            Exit::StaticJumpI(_, f) | Exit::DynamicJumpI(f) if self.constant(c, 1).is_some() => {
                let taken = self.constant(c, 1).is_some_and(|v| !v.is_zero());
                let dest = match (exit, taken) {
                    (Exit::DynamicJumpI(_), true) => Some(self.value(c, 0)),
                    _ => None,
                };
                c.pop(2);
                match taken {
                    false => self.fall_on(c, *f, false),
                    true => self.jump_on(c, exit, dest, false),
                }
            }
            Exit::StaticJumpI(_, f) | Exit::DynamicJumpI(f) => {
                let dest = match exit {
                    Exit::DynamicJumpI(_) => Some(self.value(c, 0)),
                    _ => None,
                };
                let taken = self.zero_flag(c, 1, false);
                c.pop(2);
                // Unless a way goes on with the words in registers (into a block that
                // continues the cursor, or back to a loop's head that carries them), both
                // leave the stack in the buffer: stored once, before the branch.
                let back = matches!(exit, Exit::StaticJumpI(Some(t), _) if self.carries_back(*t));
                let flushed = !back && self.continues_at(*f).is_none();
                if flushed {
                    self.store_for(c, &[static_target(exit), self.a.block_at(*f)]);
                }
                let yes = self.b.create_block();
                let no = self.b.create_block();
                self.b.ins().brif(taken, yes, &[], no, &[]);
                self.b.switch_to_block(no);
                self.fall_on(&mut c.clone(), *f, flushed);
                self.b.switch_to_block(yes);
                self.jump_on(c, exit, dest, flushed);
            }
        }
    }

    /// Leaves the block for `targets` (blocks; `None`, a way whose reader is not known: the
    /// dispatch, a halt): stores the stack but the words every target pops unread
    /// ([`Lower::flush_live`]), and passes the length and gas on.
    fn store_for(&mut self, c: &mut Cursor, targets: &[Option<usize>]) {
        let dead = targets
            .iter()
            .fold(u64::MAX, |m, t| m & t.map_or(0, |t| self.dead[t]));
        self.flush_live(c, false, dead);
        self.pass_len(c);
    }

    /// Goes on at `f`, where the block being lowered falls through (or its JUMPI does not
    /// jump): with the cursor as it is into a block that continues it ([`Lower::continue_into`]),
    /// else with the stack stored (already, if `flushed`) into the next block's body if it is
    /// chained, or through its entry.
    fn fall_on(&mut self, c: &mut Cursor, f: usize, flushed: bool) {
        if let Some(next) = self.continues_at(f) {
            return self.continue_into(c, next);
        }
        if !flushed {
            self.store_for(c, &[self.a.block_at(f)]);
        }
        self.pass_top(c, f);
        // A chained fall-through: its checks passed with this block's; the gas is charged
        // (nothing carried into it, see `Lower::block`), or carried by `carry_gas`.
        let next = self.a.block_at(f);
        match next.and_then(|t| self.bodies[t].map(|body| (t, body))) {
            Some((t, body)) => {
                if self.carry.carries_words(t) {
                    let top = self.top_now(c);
                    self.load_carried(t, top);
                }
                self.b.ins().jump(body, &[]);
            }
            None => self.goto_pc(f),
        }
    }

    /// Takes the jump of a JUMPI `exit` (to `dest` if dynamic): a back edge that carries words
    /// passes them ([`Lower::carry_back`]); any other jump stores the stack (already, if
    /// `flushed`).
    fn jump_on(
        &mut self,
        c: &mut Cursor,
        exit: &Exit,
        dest: Option<(Value, Value)>,
        flushed: bool,
    ) {
        if let Exit::StaticJumpI(Some(t), _) = exit {
            if self.carries_back(*t) {
                return self.carry_back(c, *t);
            }
        }
        if !flushed {
            self.store_for(c, &[static_target(exit)]);
        }
        match (exit, dest) {
            (Exit::StaticJumpI(Some(t), _), _) => self.goto_static(c, *t),
            (_, Some(dest)) => self.dynamic_jump(dest),
            _ => self.ret_passed(ExitCode::InvalidJump),
        }
    }

    pub(super) fn finish(mut self, config: TargetFrontendConfig) {
        if let Some(d) = self.dispatch {
            self.b.switch_to_block(d);
            let dest = self.b.block_params(d)[0];
            // Jumping blocks stored their gas; a phi here would take an input per jump.
            let gas = self.frame_field(offsets::GAS_REMAINING);
            self.b.def_var(self.gas, gas);
            let invalid = self.b.create_block();
            let mut sw = Switch::new();
            for bi in &self.a.dynamic_targets {
                if let Some(target) = self.blocks[*bi] {
                    self.entered[*bi] = true;
                    sw.set_entry(self.a.blocks[*bi].start as u128, target);
                }
            }
            sw.emit(&mut self.b, dest, invalid);
            // Any other destination: validated at run time; valid ones continue interpreted.
            self.b.switch_to_block(invalid);
            self.store_passed_len();
            let frame = self.frame();
            let f = self.import(Builtin::ferrite_jump_fallback);
            self.call(f, &[frame, dest]);
            self.ret_helper();
        }
        self.checked_entries();
        self.loop_entries();
        for t in 0..self.cold.len() {
            if let Some(stub) = self.cold[t] {
                self.b.switch_to_block(stub);
                self.store_passed_len();
                let pc = self.iconst(self.a.blocks[t].start as i64);
                self.set_frame_field(offsets::PC, pc);
                self.ret_code(ExitCode::Interpret);
            }
        }
        for (code, block) in std::mem::take(&mut self.code_exits).into_iter().enumerate() {
            if let Some(block) = block {
                self.b.switch_to_block(block);
                let c = self.b.ins().iconst(types::I8, code as i64);
                let frame = self.frame();
                self.b
                    .ins()
                    .store(self.flags, c, frame, offsets::JIT_EXIT as i32);
                self.ret_helper();
            }
        }
        // Last: the dispatch and the stubs above exit through it.
        if let Some(d) = self.exit_code {
            self.b.switch_to_block(d);
            let frame = self.frame();
            let r = self
                .b
                .ins()
                .load(types::I8, self.flags, frame, offsets::JIT_EXIT as i32);
            self.restore_pinned();
            self.b.ins().return_(&[r]);
        }
        self.b.seal_all_blocks();
        self.b.finalize(config);
    }
}

/// By block index: the block whose static jump is the block's only way in, when that block
/// comes first (so that its cursor is there to go on from): no other static jump, no block
/// falling into it, not an entry of the function or a resume point, and not a destination of
/// the dispatch of dynamic jumps (in a function that has one, nearly every JUMPDEST is: this
/// is for code without dynamic jumps, Huff's and small loops'; `dynamic` marks them, see
/// [`dispatched`]). Blocks the function does not compile do not count: the interpreter hands
/// over only at entries.
pub(super) fn only_jumps(
    a: &crate::analysis::Analysis,
    compiled: &[bool],
    entries: &[bool],
    dynamic: &[bool],
) -> Vec<Option<usize>> {
    let n = a.blocks.len();
    // By block index: the ways in counted, and the last block they came from.
    let mut ways = vec![(0u32, 0usize); n];
    for (p, bl) in a.blocks.iter().enumerate() {
        if !compiled[p] {
            continue;
        }
        if let Exit::StaticJump(Some(t)) | Exit::StaticJumpI(Some(t), _) = bl.exit {
            ways[t] = (ways[t].0 + 1, p);
        }
        if let Some(next) = a.blocks.get(p + 1) {
            if super::falls_into(&bl.exit, next.start) {
                ways[p + 1] = (ways[p + 1].0 + 2, p);
            }
        }
    }
    (0..n)
        .map(|t| {
            let (count, p) = ways[t];
            (count == 1
                && p < t
                && compiled[t]
                && !entries[t]
                && !a.blocks[t].is_resume_point
                && !dynamic[t])
                .then_some(p)
        })
        .collect()
}

/// By block index: the blocks the dispatch of dynamic jumps of a function holding the
/// `compiled` blocks goes to (of the whole code, with every block marked: the chunks' entries).
/// The dispatch exists only if a `compiled` block jumps dynamically; it then goes to every
/// JUMPDEST of `dynamic_targets` (most of them: see `analysis::MAX_DYNAMIC_TARGETS`; a jump to
/// another goes on in the interpreter).
pub(crate) fn dispatched(a: &crate::analysis::Analysis, compiled: &[bool]) -> Vec<bool> {
    let mut dynamic = vec![false; a.blocks.len()];
    let dispatches = a
        .blocks
        .iter()
        .zip(compiled)
        .any(|(bl, c)| *c && matches!(bl.exit, Exit::DynamicJump | Exit::DynamicJumpI(_)));
    if dispatches {
        for t in &a.dynamic_targets {
            dynamic[*t] = true;
        }
    }
    dynamic
}

/// By block index: whether a jump of the analysis may land on the block: a `compiled` block's
/// static jump, or the dispatch of dynamic jumps (`dynamic`, see [`dispatched`]). A JUMPDEST
/// that none lands on (a run of JUMPDESTs in code without dynamic jumps, ipsilon's
/// `JUMPDEST_n0`) is entered by falling through only, as a block that starts with any other
/// instruction is.
pub(super) fn landed(
    a: &crate::analysis::Analysis,
    compiled: &[bool],
    dynamic: &[bool],
) -> Vec<bool> {
    let mut landed = dynamic.to_vec();
    for (bl, c) in a.blocks.iter().zip(compiled) {
        if let (true, Exit::StaticJump(Some(t)) | Exit::StaticJumpI(Some(t), _)) = (*c, &bl.exit) {
            landed[*t] = true;
        }
    }
    landed
}

/// Where a JUMPI `exit` jumps when its destination is static and valid.
fn static_target(exit: &Exit) -> Option<usize> {
    match exit {
        Exit::StaticJumpI(t, _) => *t,
        _ => None,
    }
}
