//! Gas: one check per block, static charges at sync points, `need` operands for helpers.
//!
//! A block checks its stack bounds and its whole static gas on entry (a compare and a branch
//! each, to one shared hand-over), handing over to the interpreter if either fails (it then
//! reproduces the exact halt). Static gas is charged lazily at *sync points* (before a helper,
//! GAS, and at block end; a memory expansion takes the pending charge as an operand instead), so
//! helpers see exactly the gas the interpreter would.
//! No charge has a check of its own: the entry check covers the block's static gas, and a helper
//! that charges dynamic gas (`ferrite_exec`, `ferrite_mexpand`) checks that what is left still
//! covers the static gas the block charges after it (its `need` operand), halting out of gas early
//! if not — the same result, as only state-free code and memory and stack writes, all discarded by
//! the halt, lie in between. One branch and one exit fewer per charge (a fifth of snailtracer's
//! exits), and less IR to compile.

use super::stack::Cursor;
use super::Lower;
use crate::analysis;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, Block, InstBuilder, Value};
use ferrite_runtime::builtins::{mexpand_operand, offsets, MEXPAND_PENDING_BITS};
use ferrite_runtime::opcode::OPCODE_INFO;
use ferrite_runtime::{ExitCode, STACK_LIMIT};

impl Lower<'_, '_> {
    /// Checks the stack bounds and the whole static gas of `run` (block `i` and the blocks it
    /// falls into, see [`Run`]), entered with stack length `len0`, once, to one hand-over; on
    /// failure the interpreter reproduces the exact halt from block `i` (writing the gas left to
    /// the frame first if `stale`: the frame's may be older). Passing it, every static charge up
    /// to the run's first gas-consuming helper is covered, so those charges need no check.
    /// Returns the gas it loaded, if it checked gas.
    pub(super) fn entry_check(&mut self, i: usize, len0: Value, stale: bool) -> Option<Value> {
        let run = self.runs[i];
        // Each failing condition branches to the one hand-over ([`Lower::leave_if`]).
        let mut deopt = None;
        let mut fail_if = |l: &mut Self, x: Value| {
            let d = *deopt.get_or_insert_with(|| l.b.create_block());
            l.leave_if(x, d);
        };
        if run.max_growth > STACK_LIMIT as i64 || run.min_stack > STACK_LIMIT as i64 {
            // The run cannot go through without a stack error: let the interpreter halt it.
            let t = self.b.ins().iconst(types::I8, 1);
            fail_if(self, t);
        } else {
            // `min_stack <= len0 <= high` as one unsigned comparison: `len0 - min_stack` wraps
            // above the range's width when `len0` is below it.
            let high = STACK_LIMIT as i64 - run.max_growth.max(0);
            let bad = match (run.min_stack > 0, run.max_growth > 0) {
                (false, false) => None,
                (true, false) => Some(self.b.ins().icmp_imm_u(
                    IntCC::UnsignedLessThan,
                    len0,
                    run.min_stack,
                )),
                (false, true) => Some(self.b.ins().icmp_imm_u(
                    IntCC::UnsignedGreaterThan,
                    len0,
                    high,
                )),
                (true, true) if high < run.min_stack => Some(self.b.ins().iconst(types::I8, 1)),
                (true, true) => {
                    // A subtraction, not an add of `-min`: x64 folds an add of a length that
                    // is itself a sum into one address computation, with the constant in a
                    // register (`movabs`, then `lea`).
                    let min = self.iconst(run.min_stack);
                    let off = self.b.ins().isub(len0, min);
                    Some(self.b.ins().icmp_imm_u(
                        IntCC::UnsignedGreaterThan,
                        off,
                        high - run.min_stack,
                    ))
                }
            };
            if let Some(bad) = bad {
                fail_if(self, bad);
            }
        }
        let mut loaded = None;
        if run.static_gas > 0 {
            let gas = self.b.use_var(self.gas);
            loaded = Some(gas);
            let short = self.b.ins().icmp_imm_u(
                IntCC::UnsignedLessThan,
                gas,
                run.static_gas.min(i64::MAX as u64) as i64,
            );
            fail_if(self, short);
        }
        if let Some(deopt) = deopt {
            let Some(body) = self.b.current_block() else {
                unreachable!("the checks continue in a block")
            };
            self.b.switch_to_block(deopt);
            // A loop head's hand-over is shared with its back edges: it reads the length
            // from the variable, which flows in from both.
            let len = match self.loops.is_head(i) {
                true => {
                    self.loops.set_deopt(i, deopt);
                    self.b.use_var(self.len)
                }
                false => len0,
            };
            self.hand_over(i, len, stale);
            self.b.switch_to_block(body);
        }
        loaded
    }

    /// The gas-only check of a back edge to head `i` ([`super::loops`]): on to `body` if the
    /// gas left covers the run's static gas, else to the interpreter at the head.
    pub(super) fn gas_check(&mut self, i: usize, body: Block) {
        let need = self.runs[i].static_gas.min(i64::MAX as u64) as i64;
        if need == 0 {
            self.b.ins().jump(body, &[]);
            return;
        }
        let gas = self.b.use_var(self.gas);
        let short = self.b.ins().icmp_imm_u(IntCC::UnsignedLessThan, gas, need);
        // The head's own hand-over if it has one (the same code).
        let (deopt, shared) = match self.loops.deopt(i) {
            Some(d) => (d, true),
            None => (self.b.create_block(), false),
        };
        self.b.ins().brif(short, deopt, &[], body, &[]);
        if !shared {
            self.b.switch_to_block(deopt);
            let len0 = self.b.use_var(self.len);
            self.hand_over(i, len0, true);
        }
    }

    /// Hands the frame over to the interpreter at block `i`, entered with stack length `len0`
    /// (writing the gas left to the frame first if `stale`).
    pub(super) fn hand_over(&mut self, i: usize, len0: Value, stale: bool) {
        self.set_frame_field(offsets::STACK_LEN, len0);
        if stale {
            self.store_passed_gas();
        }
        let pc = self.iconst(self.a.blocks[i].start as i64);
        self.set_frame_field(offsets::PC, pc);
        self.ret_code(ExitCode::Interpret);
    }

    /// Charges the static gas accumulated since the last sync (and any the chain carried in).
    pub(super) fn sync_gas(&mut self, c: &mut Cursor) {
        self.charge_carried(c);
        if c.pending_gas == 0 {
            return;
        }
        let pending = c.pending_gas.min(i64::MAX as u64) as i64;
        let left = match c.gas {
            Some(g) => self.b.ins().iadd_imm_s(g, pending.wrapping_neg()),
            None => {
                // Just loaded: a subtraction, not an add of the negation, which x64 folds with
                // the load as its memory operand and the constant in a register (`mov $-k`,
                // `mov`, `add mem`: 14 bytes against `mov mem`, `sub $k`: 8).
                let g = self.frame_field(offsets::GAS_REMAINING);
                let k = self.iconst(pending);
                self.b.ins().isub(g, k)
            }
        };
        c.gas = Some(left);
        c.stale = true;
        c.pending_gas = 0;
    }

    /// Writes the gas left to the frame if the frame's is older: before a helper that reads or
    /// charges it, and before every exit (the driver and the interpreter read it there).
    pub(super) fn flush_gas(&mut self, c: &mut Cursor) {
        if !c.stale {
            return;
        }
        if let Some(g) = c.gas {
            self.set_frame_field(offsets::GAS_REMAINING, g);
        }
        c.stale = false;
    }

    /// Writes the gas the blocks pass along ([`Lower::gas`]) to the frame: where a block's
    /// exit leaves this function's blocks (a hand-over to the interpreter, a halt, the
    /// dispatch of dynamic jumps), after [`Lower::pass_len`].
    pub(super) fn store_passed_gas(&mut self) {
        let g = self.b.use_var(self.gas);
        self.set_frame_field(offsets::GAS_REMAINING, g);
    }

    /// Charges the static gas the chain carried into the block, if any: before anything that
    /// reads or charges the frame's gas.
    pub(super) fn charge_carried(&mut self, c: &mut Cursor) {
        let Some(carried) = c.carried.take() else {
            return;
        };
        let gas = match c.gas {
            Some(g) => g,
            None => self.frame_field(offsets::GAS_REMAINING),
        };
        let left = self.b.ins().isub(gas, carried);
        c.gas = Some(left);
        c.stale = true;
    }

    /// At the end of a block that falls into a chained block: its uncharged static gas (with
    /// what the chain carried in) goes on to that block instead of being charged, so a chain of
    /// static-only blocks writes the frame's gas once, not once per block. The chain's head
    /// checked that the gas covers all of it.
    pub(super) fn carry_gas(&mut self, c: &mut Cursor) {
        let pending = c.pending_gas as i64;
        let total = match c.carried.take() {
            Some(v) => self.b.ins().iadd_imm_s(v, pending),
            None => self.iconst(pending),
        };
        c.pending_gas = 0;
        self.b.def_var(self.chain_gas, total);
    }

    /// The `need` operand for a call to a helper that may charge dynamic gas: the static gas
    /// the block charges after the call up to its next `ferrite_exec` call or its end, which
    /// the helper checks is left after its own charge (else out of gas), so that those
    /// charges need no check of their own. `ferrite_exec` is called unconditionally, so its
    /// check also covers the charges after the memory expansions that follow it, which run only
    /// when needed: an expansion's stretch, too, reaches the next `ferrite_exec` call.
    /// With `pending` (a memory expansion), the operand is `ferrite_mexpand`'s, which packs the
    /// pending gas with the need ([`mexpand_operand`]; the caller checked that it fits).
    pub(super) fn open_need(&mut self, c: &mut Cursor, exec: bool, pending: Option<u64>) -> Value {
        if exec {
            self.close_needs(c);
        }
        let v = self.iconst(0);
        let Some(inst) = self.b.func.dfg.value_def(v).inst() else {
            unreachable!("an iconst is an instruction's result")
        };
        c.needs.push((inst, c.static_gas, pending));
        v
    }

    /// Sets the open `need` operands to the static gas charged since their calls.
    pub(super) fn close_needs(&mut self, c: &mut Cursor) {
        for (inst, at, pending) in c.needs.drain(..) {
            let since = (c.static_gas - at).min(i64::MAX as u64);
            let operand = match pending {
                // The need fits (the assertion on `MAX_IR_WEIGHT` below).
                Some(p) => mexpand_operand(p, since).expect("a function's static gas fits"),
                None => since,
            };
            self.b.func.replace(inst).iconst(types::I64, operand as i64);
        }
    }
}

// A need (static gas within one function) fits the bits `ferrite_mexpand`'s operand leaves it:
// a compiled function weighs at most `MAX_IR_WEIGHT`, at least 2 per instruction, and an
// instruction's static gas is a `u16`.
const _: () =
    assert!((crate::jit::MAX_IR_WEIGHT as u64 / 2) << 16 < 1 << (64 - MEXPAND_PENDING_BITS));

/// What an entry check covers: static gas, and stack bounds on the entry length.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Run {
    static_gas: u64,
    /// Items needed at entry.
    min_stack: i64,
    /// Greatest growth over the entry length.
    max_growth: i64,
}

impl Run {
    /// The static gas the check covers.
    pub(super) fn static_gas(&self) -> u64 {
        self.static_gas
    }

    /// The items the run needs at entry.
    pub(super) fn min_stack(&self) -> i64 {
        self.min_stack
    }
}

/// By block index, the run of blocks each block's entry check covers: the block and, while
/// the next one is `chained` (its predecessor's check may cover it, see `Lower::chained`), the
/// next one, and the block its static jump goes to if that is `jump_chained` (the only way in
/// there, see `jump_chained`); all relative to the block's entry, and where both ways go on,
/// the costlier of the two. Built backwards (a jump-chained block comes after its jump), so a
/// chain of any length costs one pass.
pub(super) fn runs(a: &analysis::Analysis, chained: &[bool], jump_chained: &[bool]) -> Vec<Run> {
    let mut runs = vec![Run::default(); a.blocks.len()];
    for i in (0..a.blocks.len()).rev() {
        let bl = &a.blocks[i];
        let own = Run {
            static_gas: bl.static_gas,
            min_stack: bl.min_stack as i64,
            max_growth: bl.max_growth as i64,
        };
        let jumped = match bl.exit {
            analysis::Exit::StaticJump(Some(t)) | analysis::Exit::StaticJumpI(Some(t), _)
                if t > i && jump_chained[t] =>
            {
                Some(runs[t])
            }
            _ => None,
        };
        let fallen = chained
            .get(i + 1)
            .copied()
            .unwrap_or(false)
            .then(|| runs[i + 1]);
        // The rest of the run, seen from this block's entry: it starts `delta` items higher.
        let delta = stack_delta(a, bl);
        runs[i] = [fallen, jumped]
            .into_iter()
            .flatten()
            .fold(own, |run, rest| Run {
                static_gas: run
                    .static_gas
                    .max(own.static_gas.saturating_add(rest.static_gas)),
                min_stack: run.min_stack.max(rest.min_stack - delta),
                max_growth: run.max_growth.max(delta + rest.max_growth),
            });
    }
    runs
}

/// The net stack change of block `bl` (outputs minus inputs of its instructions).
pub(super) fn stack_delta(a: &analysis::Analysis, bl: &analysis::Block) -> i64 {
    a.instrs[bl.instrs.clone()]
        .iter()
        .map(|ins| {
            let info = &OPCODE_INFO[ins.opcode as usize];
            info.outputs as i64 - info.inputs as i64
        })
        .sum()
}
