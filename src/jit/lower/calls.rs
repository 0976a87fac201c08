//! Calls: `ferrite_exec` for the runtime's instruction bodies, and the pure helpers.
//!
//! An opcode the lowering does not inline calls `ferrite_exec` (the runtime's body of the
//! instruction, on the frame) with its inputs flushed to the stack buffer, the static gas pending
//! and the `need` operand (see [`gas`](super::gas)), or the same helper for its opcode alone
//! ([`EXEC_HELPERS`]: SLOAD, SSTORE, KECCAK256, …, whose dispatch over every opcode cost a
//! tenth of a warm SLOAD); a state-free word operation calls its own
//! helper (`ferrite_mul`, …, [`PURE_HELPERS`](ferrite_runtime::builtins::PURE_HELPERS)) with its
//! operands by value (ADDMOD and MULMOD by reference), and DIV/SDIV of words that fit 64 bits
//! divide natively first.

use super::stack::{Cursor, Elem};
use super::Lower;
use crate::analysis::Instr;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, Block, FuncRef, InstBuilder, Value};
use ferrite_runtime::builtins::{exec_operand, offsets, Builtin, EXEC_HELPERS, PURE_HELPERS};
use ferrite_runtime::escape::ESCAPES;
use ferrite_runtime::opcode::{flags, OPCODE_INFO};
use ferrite_runtime::Opcode;

impl Lower<'_, '_> {
    /// Calls the runtime's body of the instruction; true when control ends here.
    pub(super) fn helper(&mut self, c: &mut Cursor, ins: &Instr) -> bool {
        let info = &OPCODE_INFO[ins.opcode as usize];
        self.protect_outputs(c, info.inputs as usize);
        if info.has(flags::SUSPENDS) {
            // The frame resumes from the buffer (in either tier): everything must be there.
            self.flush_all(c, true);
        } else {
            self.flush_top(c, info.inputs as usize);
        }
        let r = self.exec_call(c, ins);
        if info.has(flags::TERMINATOR) || info.has(flags::SUSPENDS) {
            self.ret_helper();
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
    pub(super) fn exec_call(&mut self, c: &mut Cursor, ins: &Instr) -> Value {
        // The helper charges the pending static gas; the body may charge dynamic gas (memory,
        // cold access, ...).
        self.charge_carried(c);
        let op_gas = match exec_operand(ins.opcode, c.pending_gas) {
            Some(v) => v,
            None => {
                // More static gas than the operand holds (not met in practice: a block's static
                // gas is far below 2^56): charged here, as at any sync point, which the entry
                // check covers.
                self.sync_gas(c);
                u64::from(ins.opcode)
            }
        };
        self.flush_gas(c);
        c.pending_gas = 0;
        // The helper charges (and may charge more): the frame holds the gas from here on.
        c.gas = None;
        let need = self.open_need(c, true, None);
        self.store_len(c);
        if OPCODE_INFO[ins.opcode as usize].has(flags::SUSPENDS) {
            let pc = self.iconst(ins.pc as i64 + 1);
            self.set_frame_field(offsets::PC, pc);
        }
        let op_gas = self.iconst(op_gas as i64);
        let frame = self.frame();
        let info = &OPCODE_INFO[ins.opcode as usize];
        let exec = if info.has(flags::TERMINATOR) || info.has(flags::SUSPENDS) {
            self.import(Builtin::ferrite_exec_last)
        } else {
            let own = EXEC_HELPERS.iter().find(|(o, _)| *o == ins.opcode);
            self.import(own.map_or(Builtin::ferrite_exec, |(_, h)| *h))
        };
        let call = self.call(exec, &[frame, op_gas, need]);
        self.b.inst_results(call)[0]
    }

    /// Before a helper call: the whole words below its `inputs` operands that live in registers
    /// go to their buffer slots, to be read back where used after the call, instead of living
    /// across it in registers it clobbers (the allocator spilled them, and weierstrudel's long
    /// blocks of ADDMOD/MULMOD made that a tenth of its compile work). Only before those two:
    /// before the other word helpers and `ferrite_exec` it cost snailtracer compile work (small
    /// words and flags widened, memory offsets the block had checked read afresh); figures in
    /// `benches/PERFORMANCE.md`.
    fn park_below(&mut self, c: &mut Cursor, inputs: usize) {
        for idx in 0..c.vs.len().saturating_sub(inputs) {
            if matches!(c.vs[idx], Elem::Val { .. }) {
                self.store_item(c, idx, false);
                c.vs[idx] = Elem::Mem;
            }
        }
    }

    /// Returns `r` if it is not `Continue`; otherwise goes on in a new block (in the same one
    /// where the helper escapes instead of returning another code: [`ESCAPES`]).
    pub(super) fn continue_unless_exit(&mut self, r: Value) {
        if ESCAPES {
            return;
        }
        let cont = self.b.create_block();
        self.continue_at_unless_exit(r, cont);
    }

    /// Returns `r`, a helper's exit code, if it is not `Continue`; otherwise goes on at `cont`.
    /// Every call site shares one return block ([`Lower::exit_block`]); none checks where the
    /// helper returns only to continue ([`ESCAPES`]).
    pub(super) fn continue_at_unless_exit(&mut self, r: Value, cont: Block) {
        if ESCAPES {
            self.b.ins().jump(cont, &[]);
            self.b.switch_to_block(cont);
            return;
        }
        let out = self.exit_block();
        self.b.ins().brif(r, out, &[], cont, &[]);
        self.b.switch_to_block(cont);
    }

    /// The word `depth` below the top as four 64-bit limbs, least significant first (a helper's
    /// by-value operands); constants are emitted where they are used.
    pub(super) fn limbs(&mut self, c: &mut Cursor, depth: usize) -> [Value; 4] {
        if let Some(v) = self.constant(c, depth) {
            return v.as_limbs().map(|x| self.iconst(x as i64));
        }
        let x = self.value(c, depth);
        self.word_limbs(x)
    }

    /// A state-free operation with a helper ([`PURE_HELPERS`](ferrite_runtime::builtins::PURE_HELPERS)): inline for the constant
    /// operands [`Lower::by_constant_power`] and [`Lower::signed_by_constant`] take, DIV/SDIV
    /// natively when their operands fit 64 bits ([`Lower::division`]), otherwise the helper.
    pub(super) fn pure_op(&mut self, c: &mut Cursor, op: Opcode) {
        use Opcode::*;
        match op {
            MUL | DIV | MOD | SHL | SHR if self.by_constant_power(c, op) => {}
            SIGNEXTEND | SAR if self.signed_by_constant(c, op) => {}
            DIV | SDIV => self.division(c, op),
            ADDMOD | MULMOD => self.by_reference(c, op),
            _ => {
                let inputs = OPCODE_INFO[op as usize].inputs as usize;
                self.protect_outputs(c, inputs);
                self.pure_call(c, op);
                c.pop(inputs);
                c.vs.push(Elem::Mem);
            }
        }
    }

    /// Calls the state-free operation's helper: operands by value, the result written to the
    /// deepest operand's slot (no gas/len/pc flush needed). The operands stay on the virtual
    /// stack; the caller pops them.
    pub(super) fn pure_call(&mut self, c: &mut Cursor, op: Opcode) {
        let inputs = OPCODE_INFO[op as usize].inputs as usize;
        let mut args = Vec::with_capacity(1 + 4 * inputs);
        let out_idx = c.index(inputs - 1);
        let out = self.b.ins().iadd_imm_s(c.top, c.offset(out_idx) as i64);
        args.push(out);
        for d in 0..inputs {
            let limbs = self.limbs(c, d);
            args.extend(limbs);
        }
        let f = self.pure_helper(op);
        self.call(f, &args);
    }

    /// The helper of state-free opcode `op` ([`PURE_HELPERS`](ferrite_runtime::builtins::PURE_HELPERS)).
    fn pure_helper(&mut self, op: Opcode) -> FuncRef {
        let Some((_, h)) = PURE_HELPERS.iter().find(|(o, _)| *o == op as u8) else {
            unreachable!("every state-free opcode has a helper")
        };
        self.import(*h)
    }

    /// ADDMOD and MULMOD: the helper takes each operand's address where the buffer holds it —
    /// its own slot, stored there first unless the buffer holds it already, or the slot a DUP or
    /// SWAP copied it from — and writes the result to the deepest operand's slot. Twelve limbs
    /// by value were six registers and six stack arguments per call, loaded from the buffer and
    /// moved through spill slots around it, for words modular code mostly only passes on
    /// (weierstrudel's figures in `benches/PERFORMANCE.md`). The binary helpers stay by value:
    /// their operands are mostly values the block just computed, which by reference cost four
    /// stores each (measured there too).
    fn by_reference(&mut self, c: &mut Cursor, op: Opcode) {
        self.park_below(c, 3);
        let f = self.pure_helper(op);
        // The deepest first: modelling it may add entry items below the others.
        let deep = c.index(2);
        let idx = [c.index(0), c.index(1), deep];
        // A store materializes the items copied from its slot, which may be another operand:
        // store until every operand not copied from a slot is where the buffer holds it.
        while let Some(i) = idx.iter().copied().find(|&i| c.vs[i].dirty()) {
            self.store_item(c, i, false);
        }
        let out = c.offset(deep);
        let out_ptr = self.b.ins().iadd_imm_s(c.top, out as i64);
        let mut args = vec![out_ptr];
        for i in idx {
            args.push(match c.vs[i] {
                Elem::Slot(src) => self.b.ins().iadd_imm_s(c.top, src as i64),
                // The deepest operand in its own slot is where the result goes.
                _ if i == deep => out_ptr,
                _ => self.b.ins().iadd_imm_s(c.top, c.offset(i) as i64),
            });
        }
        // The result overwrites the deepest operand's slot: the items below the operands that
        // are copies of it are read first (the operands are read by the helper before it
        // writes).
        for j in 0..c.vs.len() - 3 {
            if matches!(c.vs[j], Elem::Slot(src) if src == out) {
                self.materialize(c, j);
            }
        }
        self.call(f, &args);
        c.pop(3);
        c.vs.push(Elem::Mem);
    }

    /// DIV/SDIV: one native 64-bit division when both operands fit 64 bits (unsigned for DIV,
    /// signed for SDIV) and the divisor is neither 0 nor, for SDIV, -1 (the cases a hardware
    /// division traps on); otherwise the helper. Most divisions in real code are of small
    /// numbers (fixed-point arithmetic, integer square roots), and the helper call cost more
    /// than the division.
    pub(super) fn division(&mut self, c: &mut Cursor, op: Opcode) {
        let signed = op == Opcode::SDIV;
        // The word's low limb, and what is non-zero when the word does not fit 64 bits.
        let low_limb = |l: &mut Self, (lo, hi): (Value, Value)| {
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
            (l0, l.b.ins().bor(d, d3))
        };
        // The helper on the slow path writes the deeper operand's position.
        self.protect_outputs(c, 2);
        let a = self.value(c, 0);
        let bw = self.value(c, 1);
        let slow = self.b.create_block();
        let join = self.b.create_block();
        self.b.append_block_param(join, types::I128);
        self.b.append_block_param(join, types::I128);
        // To the helper on each condition that fails, one branch each ([`Lower::leave_if`]).
        let (x, x_wide) = low_limb(self, a);
        self.leave_if(x_wide, slow);
        let (y, y_wide) = low_limb(self, bw);
        self.leave_if(y_wide, slow);
        let zero = self.b.ins().icmp_imm_u(IntCC::Equal, y, 0);
        self.leave_if(zero, slow);
        if signed {
            let minus_one = self.b.ins().icmp_imm_s(IntCC::Equal, y, -1);
            self.leave_if(minus_one, slow);
        }
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
        let deep = c.offset(deep);
        let (lo, hi) = self.load_at(c, deep);
        self.b.ins().jump(join, &[lo.into(), hi.into()]);
        self.b.switch_to_block(join);
        c.pop(2);
        let p = self.b.block_params(join);
        let w = (p[0], p[1]);
        self.push_value(c, w);
    }
}
