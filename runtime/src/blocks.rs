//! Per-block static checks for the interpreter, found lazily and kept with the code.
//!
//! The interpreter checks the stack bounds and charges the static gas once per straight-line run
//! of instructions (a block) instead of once per instruction — evmone advanced's and revmc's
//! block charging, but without an up-front analysis pass: [`BlockTable`] has one 8-byte slot per
//! byte of the padded code, empty until the interpreter first enters a block at that pc, when
//! [`scan`] walks the block once and fills the slot. So a short call of a long contract pays for
//! the blocks it runs, not for the whole code, and the table lives in the [`Bytecode`] (shared
//! through its `Arc` by every call of the code, across threads: the slots are relaxed atomics,
//! and two threads filling one slot write the same value).
//!
//! A block starts at the pc the interpreter enters it at and runs to the first instruction that
//! ends a block (a terminator, JUMP/JUMPI, an instruction that observes the exact gas left or
//! suspends: GAS, SSTORE, CALL*, CREATE*), inclusive, or to the next JUMPDEST, exclusive; an
//! opcode not in the fork is left out (it runs with the per-instruction checks and halts).
//! These are `crate::analysis`'s blocks in the `ferrite` crate, except that any pc may start one
//! (an entry after compiled code handed over, say): a block entered mid-way is the suffix, whose
//! checks are exact for the suffix.
//!
//! Exactness: when a block's check passes, no instruction in it can underflow or overflow the
//! stack or run short of static gas, so only dynamic charges (memory, EXP, cold access) can halt
//! it — having charged the later instructions' static gas first, a dynamic charge can fail where
//! per-instruction charging would have failed a few instructions later. Either way the frame
//! halts exceptionally inside the block with all its gas consumed, with no state change kept;
//! the reported exit code can differ (out of gas rather than, say, a later static-call
//! violation), as in compiled code, which charges the same way. Everything that reads the gas
//! left ends its block, so it sees the exact figure. When the check fails, the frame is bound to
//! halt in this block, and the interpreter runs it with the per-instruction checks so the halt
//! (which instruction, which reason) is the exact one.
//!
//! Trade-off: 8 bytes per code byte for the code the interpreter runs, allocated zeroed (pages
//! of it never touched are never faulted in); a block too large for the packed fields
//! ([`BlockTable::entry`]) is marked never passing, so it runs checked.

use crate::bytecode::Bytecode;
use crate::frame::Frame;
use crate::opcode::{flags, op, static_gas_table, OPCODE_INFO};
use crate::{ExitCode, Host, SpecId, STACK_LIMIT};
use std::sync::atomic::{AtomicU64, Ordering};

/// Static gas bits of an entry.
const GAS_BITS: u32 = 24;
/// Stack bound bits (each of `min` and `span`).
const STACK_BITS: u32 = 11;
/// Bits of the offset from the block's first pc to its last instruction's.
const OFFSET_BITS: u32 = 17;
/// Set in every filled slot.
const FILLED: u64 = 1 << 63;
/// A block whose check never passes (runs with per-instruction checks).
const NEVER: u64 = FILLED | (((1 << STACK_BITS) - 1) << GAS_BITS);

/// One code's blocks for one fork, by first pc.
#[derive(Debug)]
pub struct BlockTable {
    spec: SpecId,
    slots: Box<[AtomicU64]>,
}

/// A block's checks, decoded from its slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockCheck {
    /// Sum of the static gas of its instructions.
    pub gas: u64,
    /// Least stack length at entry.
    pub min: usize,
    /// Greatest stack length at entry minus `min` (the block pushes at most
    /// `STACK_LIMIT - min - span` items above its entry height).
    pub span: usize,
    /// pc of its last instruction.
    pub last: usize,
}

impl BlockCheck {
    /// True when the block may run on a stack of `len` items: one unsigned compare for both
    /// bounds, as in [`crate::opcode::Check::admits`].
    #[inline(always)]
    pub fn admits(&self, len: usize) -> bool {
        len.wrapping_sub(self.min) <= self.span
    }
}

impl BlockTable {
    /// An empty table for `code` under `spec`.
    pub fn new(code: &Bytecode, spec: SpecId) -> BlockTable {
        let slots = (0..code.padded().len())
            .map(|_| AtomicU64::new(0))
            .collect();
        BlockTable { spec, slots }
    }

    /// The fork the table's gas is for.
    pub fn spec(&self) -> SpecId {
        self.spec
    }

    /// The checks of the block starting at `pc` (less than the padded code's length, which every
    /// instruction preserves), scanning it on its first visit.
    #[inline(always)]
    pub fn entry(&self, padded: &[u8], pc: usize) -> BlockCheck {
        let slot = &self.slots[pc];
        let mut e = slot.load(Ordering::Relaxed);
        if e == 0 {
            e = scan(padded, self.spec, pc);
            slot.store(e, Ordering::Relaxed);
        }
        let field = |shift: u32, bits: u32| ((e >> shift) & ((1 << bits) - 1)) as usize;
        BlockCheck {
            gas: field(0, GAS_BITS) as u64,
            min: field(GAS_BITS, STACK_BITS),
            span: field(GAS_BITS + STACK_BITS, STACK_BITS),
            last: pc + field(GAS_BITS + 2 * STACK_BITS, OFFSET_BITS),
        }
    }
}

impl Frame {
    /// Enters the block at `pc` (the frame's `pc`) if its checks pass for the whole block:
    /// charges its static gas and returns the pc of its last instruction. `None` (nothing
    /// charged) when they fail: the frame then halts in this block, to be run with
    /// [`Frame::step`]'s per-instruction checks.
    #[inline(always)]
    pub fn enter_block(&mut self, table: &BlockTable, padded: &[u8], pc: usize) -> Option<usize> {
        let b = table.entry(padded, pc);
        (b.admits(self.stack.len()) && self.gas.charge(b.gas)).then_some(b.last)
    }

    /// Executes the instruction `opcode` at `pc` (the frame's `pc`) inside a block
    /// [`Frame::enter_block`] entered, without per-instruction checks; afterwards the frame's
    /// `pc` is the next instruction's. Calling it outside such a block skips checks the
    /// instruction bodies rely on (see [`crate::instructions`]).
    #[inline(always)]
    pub fn step_in_block<H: Host + ?Sized>(
        &mut self,
        host: &mut H,
        pc: usize,
        opcode: u8,
    ) -> ExitCode {
        debug_assert_eq!(pc, self.pc);
        self.pc = pc + 1;
        self.execute(host, opcode)
    }
}

/// Walks the block starting at `start` in `padded` (the code and its 33 zero bytes, so the walk
/// ends at a STOP at the latest) and packs its checks into a slot.
#[cold]
#[inline(never)]
pub fn scan(padded: &[u8], spec: SpecId, start: usize) -> u64 {
    let gas_table = static_gas_table(spec);
    let (mut height, mut min, mut growth, mut gas) = (0i64, 0i64, 0i64, 0u64);
    let mut pc = start;
    let mut last = None;
    while let Some(&b) = padded.get(pc) {
        let info = &OPCODE_INFO[b as usize];
        if (last.is_some() && b == op::JUMPDEST) || !info.enabled_in(spec) {
            break;
        }
        gas += gas_table[b as usize] as u64;
        min = min.max(info.inputs as i64 - height);
        height += info.stack_delta() as i64;
        growth = growth.max(height);
        last = Some(pc);
        if info.has(flags::TERMINATOR | flags::JUMP | flags::NEEDS_GAS | flags::SUSPENDS) {
            break;
        }
        pc += 1 + info.immediate as usize;
    }
    let Some(last) = last else {
        // Starts with an opcode not in the fork.
        return NEVER;
    };
    let (min, growth) = (min as usize, growth as usize);
    let offset = (last - start) as u64;
    if gas >= 1 << GAS_BITS || offset >= 1 << OFFSET_BITS || min + growth > STACK_LIMIT {
        // Too large to pack, or overflows the stack from any height: per-instruction checks.
        return NEVER;
    }
    let span = (STACK_LIMIT - min - growth) as u64;
    FILLED
        | gas
        | (min as u64) << GAS_BITS
        | span << (GAS_BITS + STACK_BITS)
        | offset << (GAS_BITS + 2 * STACK_BITS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::Bytes;

    fn check(code: &[u8], pc: usize) -> BlockCheck {
        let code = Bytecode::new(Bytes::copy_from_slice(code));
        BlockTable::new(&code, SpecId::Cancun).entry(code.padded(), pc)
    }

    #[test]
    fn blocks_end_at_jumps_gas_and_jumpdests() {
        // PUSH1 1 PUSH1 2 ADD JUMPDEST POP STOP
        let c = check(&[0x60, 1, 0x60, 2, 0x01, 0x5b, 0x50, 0x00], 0);
        assert_eq!((c.gas, c.min, c.last), (9, 0, 4));
        assert_eq!(c.span, STACK_LIMIT - 2);
        // JUMPDEST POP STOP: needs one item, JUMPDEST 1 + POP 2.
        let c = check(&[0x60, 1, 0x60, 2, 0x01, 0x5b, 0x50, 0x00], 5);
        assert_eq!((c.gas, c.min, c.last), (3, 1, 7));
        // GAS ends its block: PUSH0 GAS POP.
        let c = check(&[0x5f, 0x5a, 0x50], 0);
        assert_eq!((c.gas, c.last), (4, 1));
        // Running off the end is the padding's STOP.
        let c = check(&[0x60, 1], 0);
        assert_eq!((c.gas, c.last), (3, 2));
    }

    #[test]
    fn undefined_opcodes_are_left_out() {
        // PUSH1 1 0x0c (unassigned)
        let c = check(&[0x60, 1, 0x0c], 0);
        assert_eq!(c.last, 0);
        let c = check(&[0x60, 1, 0x0c], 2);
        assert!(!c.admits(0) && !c.admits(STACK_LIMIT));
    }
}
