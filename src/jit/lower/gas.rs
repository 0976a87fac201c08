//! Gas: one check per block, static charges at sync points, `need` operands for helpers.
//!
//! A block checks its stack bounds and its whole static gas in one branch on entry, handing over
//! to the interpreter if either fails (it then reproduces the exact halt). Static gas is charged
//! lazily at *sync points* (before a helper, GAS, and at block end; a memory expansion takes the
//! pending charge as an operand instead), so helpers see exactly the gas the interpreter would.
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
use cranelift_codegen::ir::{types, InstBuilder, Value};
use ferrite_runtime::builtins::offsets;
use ferrite_runtime::{ExitCode, STACK_LIMIT};

impl Lower<'_, '_> {
    /// Checks the stack bounds and the whole static gas of block `bl`, entered with stack length
    /// `len0`, once, in one branch; on failure the interpreter reproduces the exact halt. Passing
    /// it, every static charge up to the block's first gas-consuming helper is covered, so those
    /// charges need no check. Returns the gas it loaded, if it checked gas.
    pub(super) fn entry_check(&mut self, bl: &analysis::Block, len0: Value) -> Option<Value> {
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
        let mut loaded = None;
        if bl.static_gas > 0 {
            let gas = self.frame_field(offsets::GAS_REMAINING);
            loaded = Some(gas);
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
        loaded
    }

    /// Charges the static gas accumulated since the last sync; out of gas → exit.
    pub(super) fn sync_gas(&mut self, c: &mut Cursor) {
        if c.pending_gas == 0 {
            return;
        }
        let gas = match c.gas {
            Some(g) => g,
            None => self.frame_field(offsets::GAS_REMAINING),
        };
        let left = self
            .b
            .ins()
            .iadd_imm_s(gas, (c.pending_gas as i64).wrapping_neg());
        self.set_frame_field(offsets::GAS_REMAINING, left);
        c.gas = Some(left);
        c.pending_gas = 0;
    }

    /// The `need` operand for a call to a helper that may charge dynamic gas: the static gas
    /// the block charges after the call up to its next `ferrite_exec` call or its end, which
    /// the helper checks is left after its own charge (else out of gas), so that those
    /// charges need no check of their own. `ferrite_exec` is called unconditionally, so its
    /// check also covers the charges after the memory expansions that follow it, which run only
    /// when needed: an expansion's stretch, too, reaches the next `ferrite_exec` call.
    pub(super) fn open_need(&mut self, c: &mut Cursor, exec: bool) -> Value {
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
    pub(super) fn close_needs(&mut self, c: &mut Cursor) {
        for (inst, at) in c.needs.drain(..) {
            let since = c.static_gas - at;
            self.b
                .func
                .replace(inst)
                .iconst(types::I64, since.min(i64::MAX as u64) as i64);
        }
    }
}
