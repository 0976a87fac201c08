//! Memory: MLOAD/MSTORE inline, with expansion through `ferrite_mexpand`.
//!
//! MLOAD/MSTORE at a constant offset (Solidity's free-memory pointer, scratch space) check the
//! memory size with one compare. A word the block has accessed memory at is below 2^32 from there
//! on, and so is it plus a constant: such words stay small i64s ([`Elem::Small`]), so
//! `mload(add(p, 0x20))` after an access at `p` costs one 64-bit add and one compare instead of a
//! 256-bit add and a four-limb check (a tenth of snailtracer's region IR).

use super::stack::{Cursor, Elem};
use super::Lower;
use crate::analysis::Instr;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, Value};
use ferrite_runtime::builtins::offsets;
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
        let stored = (!is_load).then(|| self.value(c, 1));
        let constant = self
            .constant(c, 0)
            .filter(|v| *v <= U256::from(u32::MAX))
            .map(|v| v.as_limbs()[0]);
        if let Some(off) = constant.filter(|off| *off < c.mem_known) {
            // A word at or below one the block has accessed already: within memory, which
            // never shrinks. (Solidity reads and writes its scratch space and free-memory
            // pointer again and again: no check, and no expansion call to compile.)
            let base = self.frame_field(offsets::MEM_BASE);
            let addr = match off {
                0 => base,
                off => self.b.ins().iadd_imm_s(base, off as i64),
            };
            self.access(c, stored, addr, popped);
            return;
        }
        if let Some(off) = constant {
            c.mem_known = c.mem_known.max(off + 1);
        }
        let limit = self.frame_field(offsets::MEM_WORD_LIMIT);
        let slow = self.b.create_block();
        let access = self.b.create_block();
        // The offset's low limb (a constant, or a value) and the OR of its upper limbs.
        let (at, upper) = match (self.small(c, 0), constant) {
            (Some((v, _)), _) => {
                let ok = self.b.ins().icmp(IntCC::UnsignedLessThan, v, limit);
                self.b.ins().brif(ok, access, &[], slow, &[]);
                (Ok(v), None)
            }
            (None, Some(off)) => {
                let off = off as i64;
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
        // Memory gas was charged on this path: the frame holds the gas from here on.
        c.gas = None;
        c.gas_moved = true;
        // After an expansion the word is within memory, so its offset fits the low limb.
        let base = self.frame_field(offsets::MEM_BASE);
        let addr = match at {
            Ok(l0) => self.b.ins().iadd(base, l0),
            Err(0) => base,
            Err(off) => self.b.ins().iadd_imm_s(base, off),
        };
        self.access(c, stored, addr, popped);
    }

    /// MLOAD (`stored` `None`) or MSTORE of `stored` at `addr`, within memory.
    fn access(
        &mut self,
        c: &mut Cursor,
        stored: Option<(Value, Value)>,
        addr: Value,
        popped: bool,
    ) {
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
            Some((lo, hi)) => {
                let hi = self.b.ins().bswap(hi);
                let lo = self.b.ins().bswap(lo);
                self.b.ins().store(self.flags, hi, addr, 0);
                self.b.ins().store(self.flags, lo, addr, 16);
            }
        }
    }
}
