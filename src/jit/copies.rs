//! Copies of small call trees for the chunks of a program (see [`super::chunks`]).
//!
//! Most hot crossings between chunks are calls of small Solidity functions (checked arithmetic,
//! a constructor of a zeroed struct) from another chunk, and their returns: revmc's snailtracer
//! crossed ~600k times per run without copies, 15–20% slower than one function. A *call tree*
//! is a callee's blocks, what they reach by static jumps, and the continuations its own calls
//! push, so that its returns come back inside it or to its caller. Each chunk gets a copy of the
//! small trees its blocks lead to, lightest first, within a budget: copies are code and compile
//! work (figures in `benches/PERFORMANCE.md`).

use super::block_weight;
use super::chunks::compiled;
use crate::analysis::{Analysis, Exit};
use std::collections::HashMap;

/// The heaviest call tree ([`call_tree`]) copied into a chunk that calls it.
pub const COPY_WEIGHT: usize = 1_000;

/// The copies of a program weigh at most this share (in percent) of its chunks. revmc's
/// snailtracer ran 15–20% slower compiled with 5–7% and as fast as one function with 10%;
/// copies are code: ipsilon's snailtracer's machine code grew from 28.5 to 31.4 bytes per byte
/// of EVM code with 10% (figures in `benches/PERFORMANCE.md`).
pub const COPY_BUDGET_PERCENT: usize = 10;

/// Most blocks in one call tree: bounds the search however light its blocks.
pub(super) const COPY_BLOCKS: usize = 64;

/// Adds to each chunk the call trees of at most `cap` weight that its own blocks lead to (by a
/// fallthrough, a static jump or a pushed continuation) and it does not hold, so that calls
/// and returns stay within the chunk: the lightest first, within [`COPY_BUDGET_PERCENT`]. Only
/// blocks of the program (`hot`, or all) are copied: a call tree stops at a block the program
/// leaves to the interpreter.
pub(super) fn copy_callees(
    a: &Analysis,
    hot: Option<&[bool]>,
    chunks: &mut [Vec<bool>],
    cap: usize,
) {
    let compiled = |i: usize| compiled(hot, i);
    let mut trees: HashMap<usize, Option<(usize, Vec<usize>)>> = HashMap::new();
    let mut seen = vec![usize::MAX; a.blocks.len()];
    let succ: Vec<Vec<usize>> = (0..a.blocks.len()).map(|i| successors(a, i)).collect();
    // (tree weight, chunk, callee) for each callee a chunk's own blocks jump to elsewhere.
    let mut wanted = Vec::new();
    for (k, chunk) in chunks.iter().enumerate() {
        for &t in (0..chunk.len())
            .filter(|i| chunk[*i])
            .flat_map(|i| &succ[i])
        {
            if chunk[t] || !compiled(t) {
                continue;
            }
            let tree = trees.entry(t).or_insert_with(|| {
                call_tree(a, &succ, t, cap, &compiled, &mut seen).map(|tree| {
                    let w = tree.iter().map(|b| block_weight(a, &a.blocks[*b])).sum();
                    (w, tree)
                })
            });
            if let Some((w, _)) = tree {
                wanted.push((*w, k, t));
            }
        }
    }
    // The lightest first, within a budget: small trees (checked arithmetic, a struct's
    // constructor) are the hot ones in Solidity code, and every copy is code and compile work.
    wanted.sort_unstable();
    wanted.dedup();
    let total: usize = chunks
        .iter()
        .flat_map(|c| (0..c.len()).filter(|i| c[*i]))
        .map(|i| block_weight(a, &a.blocks[i]))
        .sum();
    let mut budget = total * COPY_BUDGET_PERCENT / 100;
    for (_, k, t) in wanted {
        let Some(Some((_, tree))) = trees.get(&t) else {
            continue;
        };
        let chunk = &mut chunks[k];
        let w: usize = tree
            .iter()
            .filter(|b| !chunk[**b])
            .map(|b| block_weight(a, &a.blocks[*b]))
            .sum();
        if w > budget {
            continue;
        }
        budget -= w;
        for b in tree {
            chunk[*b] = true;
        }
    }
}

/// The call tree at block `f` if it weighs at most `cap` and has at most [`COPY_BLOCKS`] blocks:
/// the blocks reached from `f` by fallthroughs and static jumps, and, at a block that calls (a
/// static JUMP), the JUMPDESTs it pushes besides its destination (the continuations its callee
/// returns to by a dynamic jump). Returns then leave the tree only to where the caller pushed:
/// the caller's chunk. `succ` holds those successors by block index; `seen` holds, by block
/// index, the `f` of the last tree that met the block (`usize::MAX`: none), one array for every
/// tree of a program, so that a tree costs its own size.
fn call_tree(
    a: &Analysis,
    succ: &[Vec<usize>],
    f: usize,
    cap: usize,
    compiled: &dyn Fn(usize) -> bool,
    seen: &mut [usize],
) -> Option<Vec<usize>> {
    let mut tree = vec![f];
    seen[f] = f;
    let mut weight = block_weight(a, &a.blocks[f]);
    let mut k = 0;
    while let Some(&i) = tree.get(k) {
        for &t in &succ[i] {
            if seen[t] == f || !compiled(t) {
                continue;
            }
            seen[t] = f;
            weight += block_weight(a, &a.blocks[t]);
            if weight > cap || tree.len() >= COPY_BLOCKS {
                return None;
            }
            tree.push(t);
        }
        k += 1;
    }
    Some(tree)
}

/// Block `i`'s successors in a call tree (see [`call_tree`]). Pushed constants count only at a
/// call: elsewhere small numbers that happen to be JUMPDEST pcs (panic codes, offsets) would
/// pull in unrelated code.
fn successors(a: &Analysis, i: usize) -> Vec<usize> {
    let bl = &a.blocks[i];
    let mut out: Vec<usize> = a.static_successors(i).collect();
    if let Exit::StaticJump(Some(dest)) = bl.exit {
        let pushed = a
            .pushed_jumpdests(&a.instrs[bl.instrs.clone()])
            .filter(|b| *b != dest);
        out.extend(pushed);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jit::chunks::tests::two_calls;
    use crate::jit::chunks::{
        dispatch_targets, entry_at, entry_table, partition, split, whole_chunk, Plan,
    };
    use crate::jit::lower::entry_blocks;

    #[test]
    fn chunks_get_copies_of_the_small_functions_they_call() {
        let (a, f, ret1, _) = two_calls(400);
        let block = |pc: usize| a.block_at(pc).expect("a block starts there");
        let owned = partition(&a, None, 600, usize::MAX);
        assert!(owned.len() >= 3, "{} chunks", owned.len());
        let (first, last) = (0, owned.len() - 1);
        assert!(owned[last][block(f)] && !owned[first][block(f)]);
        let mut masks = owned.clone();
        copy_callees(&a, None, &mut masks, COPY_WEIGHT);
        assert!(
            masks[first][block(f)],
            "the first chunk calls F: it holds a copy"
        );
        // (A chunk whose fallthrough successor's tree reaches the second call holds F too.)
        assert!(
            !masks[1][block(f)],
            "a chunk far from both calls holds none"
        );
        // A copy is never entered from outside: F is entered in its own chunk.
        let plan = Plan {
            regions: masks
                .iter()
                .zip(&owned)
                .map(|(m, o)| Some(whole_chunk(&a, m.clone(), o, &dispatch_targets(&a))))
                .collect(),
            owned: owned.clone(),
        };
        let table = entry_table(&a, &plan);
        assert_eq!(split(entry_at(&table, f)).0, last);
        assert_eq!(
            split(entry_at(&table, ret1)).0,
            first,
            "a return address is an entry"
        );
        // Each function's entries are numbered in block order from 0.
        for (k, r) in plan.regions.iter().enumerate() {
            let r = r.as_ref().expect("a chunk's region");
            let owned_entries = entry_blocks(&r.entries).filter(|i| owned[k][*i]);
            for (index, i) in entry_blocks(&r.entries).enumerate() {
                if owned[k][i] {
                    assert_eq!(
                        entry_at(&table, a.blocks[i].start),
                        (k as u32) << 24 | index as u32
                    );
                }
            }
            assert!(owned_entries.count() > 0);
        }
        // Blocks outside the compiled set are not copied.
        let mut hot = vec![true; a.blocks.len()];
        hot[block(f)] = false;
        let mut masks = partition(&a, Some(&hot), 600, usize::MAX);
        copy_callees(&a, Some(&hot), &mut masks, COPY_WEIGHT);
        assert!(masks.iter().all(|m| !m[block(f)]));
    }
}
