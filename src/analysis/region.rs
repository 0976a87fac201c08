//! Hot regions: which blocks to compile, from an execution profile.
//!
//! Compile time grows with the code compiled, and real contracts run a small part of
//! themselves: snailtracer executes 99% of its instructions in a sixth of its blocks, a token
//! contract's transfer path is a few dozen of its hundreds. A region program compiles only the
//! blocks a profile shows hot; the interpreter runs the rest, handing the frame back at the next
//! region block (see [`crate::frame`]).
//!
//! The pass is a pure function of the analysis and the counts: blocks are taken in order of how
//! often they were entered (the benefit per instruction compiled), until they cover the asked
//! share of all instructions executed. Ties go to the lower block index, so the result is
//! deterministic.

use super::Analysis;

/// The blocks a region program compiles and where it can be entered, by block index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    /// Compiled.
    pub hot: Vec<bool>,
    /// Compiled and entered from the interpreter (see [`Region::new`]: the start, resume
    /// points, JUMPDESTs, blocks reached from cold code).
    pub entries: Vec<bool>,
}

impl Region {
    /// The region of the `hot` blocks.
    pub fn new(a: &Analysis, hot: Vec<bool>) -> Region {
        let entries = entries(a, &hot);
        Region { hot, entries }
    }

    /// The region of the blocks covering `coverage` of the instructions `counts` executed
    /// ([`hot_blocks`]).
    pub fn from_profile(a: &Analysis, counts: &[u32], coverage: f64) -> Region {
        Region::new(a, hot_blocks(a, counts, coverage))
    }
}

/// The blocks (by index) that cover `coverage` (0..=1) of the instructions executed, per
/// `counts` (executions by pc; a block's count is its first instruction's). Blocks never
/// executed are never taken, so `coverage = 1.0` compiles exactly what ran.
pub fn hot_blocks(a: &Analysis, counts: &[u32], coverage: f64) -> Vec<bool> {
    let entered = |start: usize| counts.get(start).copied().unwrap_or(0) as u64;
    let weight = |i: usize| entered(a.blocks[i].start) * a.blocks[i].instrs.len() as u64;
    let total: u64 = (0..a.blocks.len()).map(weight).sum();
    let mut order: Vec<usize> = (0..a.blocks.len())
        .filter(|i| entered(a.blocks[*i].start) > 0)
        .collect();
    order.sort_by_key(|i| (std::cmp::Reverse(entered(a.blocks[*i].start)), *i));
    let goal = (total as f64 * coverage.clamp(0.0, 1.0)).ceil() as u64;
    let mut hot = vec![false; a.blocks.len()];
    let mut covered = 0u64;
    for i in order {
        if covered >= goal {
            break;
        }
        hot[i] = true;
        covered += weight(i);
    }
    hot
}

/// The blocks of `region` (by index) where a frame the interpreter is running can come back to
/// native code: the start of the code, resume points after calls, JUMPDESTs (any dynamic jump
/// may land there), and blocks reached from outside the region by fallthrough or static jump.
/// Not every region block: each entry is an edge from the function's entry switch, and a region
/// block only reached from region blocks is entered by the interpreter only after a hand-over
/// inside the region (a failed block check, which precedes a halt), where it keeps
/// interpreting to the next entry.
fn entries(a: &Analysis, region: &[bool]) -> Vec<bool> {
    let hot = |i: usize| region.get(i).copied().unwrap_or(false);
    let reached = reached_from_outside(a, hot);
    a.blocks
        .iter()
        .enumerate()
        .map(|(i, bl)| {
            hot(i)
                && (bl.start == 0
                    || bl.is_resume_point
                    || a.code.is_jumpdest(bl.start)
                    || reached[i])
        })
        .collect()
}

/// By block index: reached by a fallthrough or static jump from a block not `inside`.
pub fn reached_from_outside(a: &Analysis, inside: impl Fn(usize) -> bool) -> Vec<bool> {
    let mut reached = vec![false; a.blocks.len()];
    for i in (0..a.blocks.len()).filter(|i| !inside(*i)) {
        for t in a.static_successors(i) {
            reached[t] = true;
        }
    }
    reached
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyze;
    use ferrite_runtime::bytecode::Bytecode;
    use ferrite_runtime::opcode::op::*;
    use ferrite_runtime::SpecId;
    use std::sync::Arc;

    fn analysis() -> Analysis {
        // Three blocks. Block 0: PUSH1 3 JUMP (pc 0..3); block 1: JUMPDEST PUSH1 1 POP STOP (pc 3..8);
        // block 2: JUMPDEST STOP (pc 8..10).
        let code = vec![
            PUSH1, 3, JUMP, JUMPDEST, PUSH1, 1, POP, STOP, JUMPDEST, STOP,
        ];
        analyze(Arc::new(Bytecode::new(code.into())), SpecId::Cancun)
    }

    #[test]
    fn takes_the_most_entered_blocks_until_covered() {
        let a = analysis();
        assert_eq!(a.blocks.len(), 3);
        let mut counts = vec![0u32; 10];
        counts[0] = 1; // 2 instructions
        counts[3] = 100; // 4 instructions each: 400
        counts[8] = 10; // 2 each: 20
                        // 400 of 422 covers 90%: only the hottest block.
        assert_eq!(hot_blocks(&a, &counts, 0.9), vec![false, true, false]);
        // 99%: the next most entered too.
        assert_eq!(hot_blocks(&a, &counts, 0.99), vec![false, true, true]);
        // Everything that ran, never what did not.
        assert_eq!(hot_blocks(&a, &counts, 1.0), vec![true, true, true]);
        counts[8] = 0;
        assert_eq!(hot_blocks(&a, &counts, 1.0), vec![true, true, false]);
        // No profile: nothing.
        assert_eq!(hot_blocks(&a, &[], 1.0), vec![false, false, false]);
    }

    #[test]
    fn entries_are_where_the_interpreter_can_come_back() {
        // Block 0: PUSH1 1 PUSH1 9 JUMPI; block 1 (its fallthrough): PUSH1 1 POP STOP;
        // block 2: JUMPDEST STOP.
        let code = vec![
            PUSH1, 1, PUSH1, 9, JUMPI, PUSH1, 1, POP, STOP, JUMPDEST, STOP,
        ];
        let a = analyze(Arc::new(Bytecode::new(code.into())), SpecId::Cancun);
        assert_eq!(a.blocks.len(), 3);
        // Block 1 is reached from cold block 0; block 2 is a JUMPDEST.
        let r = Region::new(&a, vec![false, true, true]);
        assert_eq!(r.entries, vec![false, true, true]);
        // Block 0 starts the code; block 1 is reached only from the region.
        let r = Region::new(&a, vec![true, true, false]);
        assert_eq!(r.entries, vec![true, false, false]);
    }
}
