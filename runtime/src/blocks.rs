//! The interpreter's per-block checks, found lazily and kept with the code.
//!
//! The interpreter checks the stack bounds and charges the static gas once per straight-line run
//! of instructions (a block) instead of once per instruction, as evmone advanced and compiled
//! code do, but without an up-front analysis pass: a [`BlockTable`] has one 8-byte slot per byte
//! of the padded code, empty until the interpreter first enters a block at that pc, when
//! [`scan`] walks the block once and fills the slot. A short call of a long contract pays for the
//! blocks it runs, and the table lives with the [`Bytecode`] (shared through its `Arc` by every
//! call of the code, across threads: the slots are relaxed atomics, and two threads filling one
//! slot write the same value).
//!
//! A block starts where the interpreter enters it (the frame's first pc, a resumption, a jump's
//! destination, the instruction after one that ends a block) and runs to the first instruction
//! that ends one ([`ends_block`]: JUMP/JUMPI and the instructions that observe the exact gas left
//! or suspend — GAS, SSTORE, CALL*, CREATE*), inclusive, or to a terminator. It runs on through a
//! JUMPDEST reached by falling through; a jump to that JUMPDEST enters the shorter block that
//! starts there (slots are per pc, so blocks may overlap). The interpreter leaves a block only
//! after an instruction that ends it, so it needs no per-instruction test of where the block ends.
//!
//! Exactness: when a block's check passes, no instruction in it can underflow or overflow the
//! stack or run short of static gas, so only dynamic charges (memory, EXP, cold access) can halt
//! it. Having charged the later instructions' static gas first, a dynamic charge can fail where
//! per-instruction charging would have failed a few instructions later; either way the frame
//! halts exceptionally inside the block with all its gas consumed (the reported exit code may
//! differ, as in compiled code, which charges the same way). Everything that reads the gas left
//! ends its block, so it sees the exact figure. When the check fails, the frame is bound to halt
//! in this block, and the interpreter runs it with the per-instruction checks, so the halt is the
//! exact one. A block that reaches an opcode not in the fork never passes its check (it halts
//! there), so it runs with the per-instruction checks too.
//!
//! Trade-off: 8 bytes per code byte for the code the interpreter runs, per fork, allocated zeroed
//! (pages never touched are never faulted in).

use crate::bytecode::Bytecode;
use crate::opcode::{flags, static_gas_table, OPCODE_INFO};
use crate::{SpecId, STACK_LIMIT};
use std::sync::atomic::{AtomicU64, Ordering};

/// A block whose check never passes: `min = u16::MAX`, `span = 0` (no stack length admits it).
const NEVER: u64 = (u16::MAX as u64) << 32;

/// True for an opcode after which the interpreter enters a new block (see the module docs).
/// Terminators end a block too, but never continue.
#[inline(always)]
pub const fn ends_block(opcode: u8) -> bool {
    OPCODE_INFO[opcode as usize].has(flags::JUMP | flags::NEEDS_GAS | flags::SUSPENDS)
}

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
    pub gas: u32,
    /// Least stack length at entry.
    pub min: u16,
    /// Greatest stack length at entry minus `min`.
    pub span: u16,
}

impl BlockCheck {
    /// True when the block may run on a stack of `len` items: one unsigned compare for both
    /// bounds, as in [`crate::opcode::Check::admits`].
    #[inline(always)]
    pub fn admits(&self, len: usize) -> bool {
        len.wrapping_sub(self.min as usize) <= self.span as usize
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

    /// The checks of the block starting at `pc` in `padded` (this table's code), scanning it on
    /// its first visit. A `pc` past the code reads as a block that never passes.
    #[inline(always)]
    pub fn entry(&self, padded: &[u8], pc: usize) -> BlockCheck {
        let e = match self.slots.get(pc) {
            Some(slot) => {
                let mut e = slot.load(Ordering::Relaxed);
                if e == 0 {
                    e = scan(padded, self.spec, pc);
                    slot.store(e, Ordering::Relaxed);
                }
                e
            }
            None => NEVER,
        };
        BlockCheck {
            gas: e as u32,
            min: (e >> 32) as u16,
            span: (e >> 48) as u16,
        }
    }
}

/// Walks the block starting at `start` in `padded` (the code and its 33 zero bytes, so the walk
/// ends at a STOP at the latest) and packs its checks into a slot (never 0).
#[cold]
#[inline(never)]
pub fn scan(padded: &[u8], spec: SpecId, start: usize) -> u64 {
    let gas_table = static_gas_table(spec);
    let (mut height, mut min, mut growth, mut gas) = (0i64, 0i64, 0i64, 0u64);
    let mut pc = start;
    loop {
        let Some(&b) = padded.get(pc) else {
            // Unreachable with padded code (it ends with zeros, STOP), but a walk off the end is
            // not a block to trust.
            return NEVER;
        };
        let info = &OPCODE_INFO[b as usize];
        if !info.enabled_in(spec) {
            // The frame halts here: the per-instruction checks find where and why.
            return NEVER;
        }
        gas += gas_table[b as usize] as u64;
        min = min.max(info.inputs as i64 - height);
        height += info.stack_delta() as i64;
        growth = growth.max(height);
        if info.has(flags::TERMINATOR) || ends_block(b) {
            break;
        }
        pc += 1 + info.immediate as usize;
    }
    let (min, growth) = (min as usize, growth as usize);
    if gas > u32::MAX as u64 || min + growth > STACK_LIMIT {
        // Too much to pack, or overflows the stack from any height: per-instruction checks.
        return NEVER;
    }
    // `span <= STACK_LIMIT`, and `span = 0` would need `growth = STACK_LIMIT - min`, 1024 items
    // pushed at a cost: nonzero static gas, so a filled slot is never 0 either way.
    let span = (STACK_LIMIT - min - growth) as u64;
    gas | (min as u64) << 32 | span << 48
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opcode::op;
    use alloy_primitives::Bytes;

    fn check(code: &[u8], pc: usize) -> BlockCheck {
        let code = Bytecode::new(Bytes::copy_from_slice(code));
        BlockTable::new(&code, SpecId::Cancun).entry(code.padded(), pc)
    }

    #[test]
    fn blocks_end_at_jumps_gas_and_run_through_jumpdests() {
        // PUSH1 1 PUSH1 2 ADD JUMPDEST POP STOP: one block, 3 + 3 + 3 + 1 + 2 + 0.
        let c = check(&[0x60, 1, 0x60, 2, 0x01, 0x5b, 0x50, 0x00], 0);
        assert_eq!((c.gas, c.min), (12, 0));
        assert_eq!(c.span as usize, STACK_LIMIT - 2);
        // From the JUMPDEST: needs one item.
        let c = check(&[0x60, 1, 0x60, 2, 0x01, 0x5b, 0x50, 0x00], 5);
        assert_eq!((c.gas, c.min), (3, 1));
        // GAS ends its block: PUSH0 GAS POP.
        let c = check(&[0x5f, 0x5a, 0x50], 0);
        assert_eq!(c.gas, 4);
        // Running off the end is the padding's STOP.
        let c = check(&[0x60, 1], 0);
        assert_eq!(c.gas, 3);
    }

    #[test]
    fn blocks_reaching_an_invalid_opcode_never_pass() {
        // PUSH1 1 0x0c (unassigned)
        let c = check(&[0x60, 1, 0x0c], 0);
        assert!(!c.admits(0) && !c.admits(STACK_LIMIT));
        // Stack overflow from any height: 1025 PUSH0.
        let c = check(&[0x5f; 1025], 0);
        assert!(!(0..=STACK_LIMIT).any(|l| c.admits(l)));
    }

    #[test]
    fn ends_block_matches_the_flags() {
        for b in [
            op::JUMP,
            op::JUMPI,
            op::GAS,
            op::SSTORE,
            op::CALL,
            op::CALLCODE,
            op::DELEGATECALL,
            op::STATICCALL,
            op::CREATE,
            op::CREATE2,
        ] {
            assert!(ends_block(b), "{b:#x}");
        }
        assert!(!ends_block(op::ADD) && !ends_block(op::JUMPDEST) && !ends_block(op::SLOAD));
    }
}
