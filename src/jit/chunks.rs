//! Programs as several functions ("chunks"), so that their compile time grows linearly and
//! their functions compile on several threads.
//!
//! Cranelift's register allocators work on a whole function at once. The single-pass one (the
//! baseline tier's) is quadratic in the blocks of a function, and the backtracking one's working
//! set outgrows the caches on large functions (snailtracer's 17.7 KB: ~80 MB for one function;
//! the same blocks as sixteen functions took 58% of the time). So a program is cut into runs of
//! consecutive blocks of bounded weight (and, at the baseline tier, block count), each lowered
//! as a region of its own: a branch to a block of another chunk leaves the function with
//! [`ExitCode::Interpret`] at that block, and a function is entered at the blocks other chunks
//! reach, by a static edge or a dynamic jump ([`whole_chunk`]; a region program's chunks, at
//! every entry of the region). [`Program::run`](super::Program::run) then calls the chunk that
//! owns the pc at that block's entry index ([`entry_table`]), without going through the
//! interpreter; a hand-over at a block the chunk owns (a failed block check, which precedes an
//! exact halt) goes to the interpreter as before.
//!
//! Each crossing costs a return and a call, and a hot path that crosses is slower: revmc's
//! snailtracer crossed 718k times per run in plain runs of 4,000, 15–20% slower. So the
//! optimized tier gives each chunk copies of the small call trees its blocks lead to
//! ([`copies`]), and code that jumps all over itself is not cut at all ([`TANGLED`]). A chunk
//! owns its run; a copy is only run by the chunk that holds it, entered from its own blocks, and
//! a pc is always entered in the chunk that owns it (figures in `benches/PERFORMANCE.md`).
//! Below the weight of two chunks a program is one function, unless its code is dense (compile
//! work per byte, [`DENSE_MIN_COST`]): then two, cut where the fewest edges cross, so that its
//! compile time per KB stays near that of sparser code on a machine of two cores or more.
//!
//! The machine code of all chunks is one image: a header of the functions' offsets, then each
//! function, 16-byte aligned (a program of one function has the same layout). The disk cache
//! stores that image as it is; the partition is recomputed from the analysis when the image is
//! loaded, and a header that does not match it is refused (its constants are part of
//! [`plan_constants`], so a file made with others is refused as well).

use super::copies;
use super::lower::entry_blocks;
use super::SINGLE_PASS_MAX_BLOCKS;
use super::{block_weight, CompileError, Tier};
use crate::analysis::region::{reached_from_outside, Region};
use crate::analysis::Analysis;
use ferrite_runtime::ExitCode;

/// Most IR weight ([`super::ir_weight`]) per baseline chunk; a single block heavier than this
/// is a chunk of its own.
pub const CHUNK_WEIGHT: usize = 4_000;

/// Most IR weight per optimized chunk (not counting the copies): where regalloc2's working set
/// still fits the caches. snailtracer's whole program compiled in 97 ms at 8,000, 100 ms at
/// 4,000 and 116 ms at 16,000, against 199 ms as one function (one thread).
pub const OPT_CHUNK_WEIGHT: usize = 8_000;

/// What a block adds to its function's compile work beyond its IR weight, in units of IR
/// weight: its entry check's blocks and the live ranges that end and start at it. Fitted to
/// callgrind counts of the chunks' compiles (snailtracer's of 26 and 245 blocks cost 139M and
/// 229M instructions at the same weight): about 0.0185M instructions per unit of weight and
/// 0.37M per block.
const BLOCK_COST: usize = 20;

/// No optimized chunks below this weight (one and a half chunks): a small second chunk costs
/// more (copies, crossings, a second function) than it saves (airdrop, 5 KB: 20–22 ms whole,
/// 23–27 ms in two).
const MIN_CHUNKED_WEIGHT: usize = OPT_CHUNK_WEIGHT * 3 / 2;

/// A program below [`MIN_CHUNKED_WEIGHT`] still compiles as two functions, on two threads, when
/// its compile work ([`cost`]) is at least this and at least [`DENSE_COST_PER_BYTE`] per byte
/// of code: dense code (long runs of arithmetic between few jumps, as in hashes and fixed-point
/// math) costs more compile time per KB than any other as one function, and two of it run
/// nearly as fast (few edges to cross). Not sparser code, whose compile is fast enough as one
/// function and whose calls and returns would cross the cut (Solidity's), nor smaller programs,
/// whose crossings cost more mispredicted returns than the compile saves. Figures in
/// `benches/PERFORMANCE.md`.
const DENSE_MIN_COST: usize = 4_000;

/// See [`DENSE_MIN_COST`]: compile work per byte of code, in tenths.
const DENSE_COST_PER_BYTE: usize = 25;

/// A program whose chunks, with their copies, leave more than this share of their static edges
/// ([`cut_share`]) compiles as one function: control would cross between them too often.
/// ipsilon's jump_around, jumps all over 20 KB of code, had 79% of its 4,096 edges cut and
/// crossed 3,246 times per run (4 µs → 90 µs run time); the Solidity contracts of the
/// benchmarks have at most 8% (7–28% before the copies), and one function compiles it in 4 ms
/// per KB: the cost of one large function grows with its register pressure, not its size alone.
const TANGLED: f64 = 0.25;

/// Fewer static edges than this never make a program tangled: a few heavy blocks
/// (blake2b_huff: 6 edges, 4 cut, 132 crossings per run) cross rarely.
const TANGLE_MIN_EDGES: usize = 64;

/// Each function's start in the image is aligned to this.
const ALIGN: usize = 16;

/// Every constant the plan of a program depends on (with the analysis's block cuts), for the
/// disk cache's target line ([`super::host_target`]): the plan is recomputed when an image is
/// loaded, and an image planned with other constants has other functions, which the header's
/// function count alone may not tell.
pub(crate) fn plan_constants() -> String {
    use crate::analysis::{LONG_BLOCK_ACCESSES, LONG_BLOCK_INSTRS, PIECE_INSTRS};
    format!(
        "chunks {CHUNK_WEIGHT}/{SINGLE_PASS_MAX_BLOCKS} {OPT_CHUNK_WEIGHT}/{MIN_CHUNKED_WEIGHT} \
         split odd/{BLOCK_COST} dense {DENSE_MIN_COST}/{DENSE_COST_PER_BYTE} \
         tangled {TANGLED}/{TANGLE_MIN_EDGES} copies {}/{}/{} \
         long runs {LONG_BLOCK_INSTRS}/{LONG_BLOCK_ACCESSES} in all/{PIECE_INSTRS}",
        copies::COPY_WEIGHT,
        copies::COPY_BUDGET_PERCENT,
        copies::COPY_BLOCKS,
    )
}

/// The functions of a program: the region each compiles, and the blocks each owns (enters
/// from [`Program::run`](super::Program::run)).
pub(crate) struct Plan {
    /// One per function: its region (`None`: the whole code).
    pub regions: Vec<Option<Region>>,
    /// The blocks each function owns, when there are several: its chunk, without the copies.
    pub owned: Vec<Vec<bool>>,
}

impl Plan {
    /// One function: the program's own region (or the whole code).
    fn single(region: Option<&Region>) -> Plan {
        Plan {
            regions: vec![region.cloned()],
            owned: Vec::new(),
        }
    }
}

/// Whether block `i` is compiled: in `hot`, or any block without it.
pub(super) fn compiled(hot: Option<&[bool]>, i: usize) -> bool {
    hot.is_none_or(|h| h.get(i).copied().unwrap_or(false))
}

/// The chunks of the compiled blocks (all, or the region's `hot` ones), as block masks: runs of
/// consecutive blocks, each of at most `weight_cap` and `max_blocks` blocks (a single block heavier
/// than that is a chunk of its own).
///
/// Consecutive blocks, because compilers lay out a function's blocks together. Grouping along
/// the jumps the code shows instead (fallthroughs and conditional jumps first, then calls
/// recognised by a pushed return address) made more crossings, not fewer, on revmc's
/// snailtracer: 898k against 718k per run, since Solidity's calls and returns are mostly jumps
/// whose targets only the stack knows.
pub(crate) fn partition(
    a: &Analysis,
    hot: Option<&[bool]>,
    weight_cap: usize,
    max_blocks: usize,
) -> Vec<Vec<bool>> {
    let n = a.blocks.len();
    let mut parts: Vec<Vec<bool>> = Vec::new();
    let (mut weight, mut blocks) = (0, 0);
    for i in (0..n).filter(|i| compiled(hot, *i)) {
        let w = block_weight(a, &a.blocks[i]);
        match parts.last_mut() {
            Some(p) if weight + w <= weight_cap && blocks < max_blocks => {
                p[i] = true;
                weight += w;
                blocks += 1;
            }
            _ => {
                let mut one = vec![false; n];
                one[i] = true;
                parts.push(one);
                (weight, blocks) = (w, 1);
            }
        }
    }
    if parts.is_empty() {
        parts.push(vec![false; n]);
    }
    parts
}

/// Cuts the costliest of `parts` ([`cost`]) in two, where the fewest static edges cross
/// ([`crossings`]) between two fifths and three fifths of its cost (nearest the middle among
/// equals). With an odd number of chunks of about equal cost, one of two threads compiles one
/// more than the other (seaport's five: 804M instructions of compile work against 577M); after
/// the cut, and compiled costliest first, both finish nearly together. Only one cut more: each
/// is crossed at run time (a return and a call), and three chunks cut into four made revmc's
/// snailtracer 26% slower.
fn split_costliest(a: &Analysis, parts: &mut Vec<Vec<bool>>) {
    let Some((total, k)) = parts
        .iter()
        .enumerate()
        .map(|(k, p)| (cost(a, p), k))
        .max_by_key(|&(cost, k)| (cost, usize::MAX - k))
    else {
        return;
    };
    let blocks: Vec<usize> = (0..parts[k].len()).filter(|i| parts[k][*i]).collect();
    let crossing = crossings(a);
    let mut best: Option<(usize, usize, usize)> = None; // (edges crossed, distance, position)
    let mut before = 0;
    for (j, &i) in blocks.iter().enumerate() {
        if j > 0 && (total * 2 / 5..=total * 3 / 5).contains(&before) {
            let key = (crossing[i], before.abs_diff(total / 2), j);
            if best.is_none_or(|b| key < b) {
                best = Some(key);
            }
        }
        before += block_cost(a, i);
    }
    let Some((_, _, j)) = best else {
        return;
    };
    let mut second = vec![false; parts[k].len()];
    for &i in &blocks[j..] {
        parts[k][i] = false;
        second[i] = true;
    }
    parts.insert(k + 1, second);
}

/// Whether the blocks of `mask` are a dense single function that compiles as two
/// ([`DENSE_MIN_COST`]).
fn dense(a: &Analysis, mask: &[bool]) -> bool {
    let c = cost(a, mask);
    c >= DENSE_MIN_COST && c * 10 >= a.code.raw().len() * DENSE_COST_PER_BYTE
}

/// The compile cost of the blocks of `mask` ([`block_cost`]).
pub(super) fn cost(a: &Analysis, mask: &[bool]) -> usize {
    (0..mask.len())
        .filter(|i| mask[*i])
        .map(|i| block_cost(a, i))
        .sum()
}

/// By block index `x`: how many static edges (and pushed return addresses) a cut before block
/// `x` would cross.
fn crossings(a: &Analysis) -> Vec<usize> {
    let n = a.blocks.len();
    let mut diff = vec![0i64; n + 1];
    for u in 0..n {
        let bl = &a.blocks[u];
        let pushed = a.pushed_jumpdests(&a.instrs[bl.instrs.clone()]);
        for v in a.static_successors(u).chain(pushed) {
            let (lo, hi) = (u.min(v), u.max(v));
            if lo < hi {
                diff[lo + 1] += 1;
                diff[hi + 1] -= 1;
            }
        }
    }
    let mut run = 0i64;
    diff.iter()
        .take(n)
        .map(|d| {
            run += d;
            run.max(0) as usize
        })
        .collect()
}

/// Block `i`'s share of its function's compile work: its IR weight and [`BLOCK_COST`].
fn block_cost(a: &Analysis, i: usize) -> usize {
    block_weight(a, &a.blocks[i]) + BLOCK_COST
}

/// The functions of a program at `tier` for `region` (or the whole code): the chunks of
/// [`partition`] (an odd number of five or more optimized ones, or one dense one ([`dense`]),
/// one more: [`split_costliest`]),
/// each a region of its own, the optimized tier's with copies of the small call
/// trees they call ([`copies`]); one function, the program's own region, if there is
/// one chunk.
pub(crate) fn plan(a: &Analysis, region: Option<&Region>, tier: Tier) -> Plan {
    let hot = region.map(|r| &r.hot[..]);
    let owned = match tier {
        Tier::Baseline => partition(a, hot, CHUNK_WEIGHT, SINGLE_PASS_MAX_BLOCKS),
        Tier::Optimized => {
            let total: usize = (0..a.blocks.len())
                .filter(|i| compiled(hot, *i))
                .map(|i| block_weight(a, &a.blocks[i]))
                .sum();
            let cap = if total < MIN_CHUNKED_WEIGHT {
                usize::MAX
            } else {
                OPT_CHUNK_WEIGHT
            };
            let mut parts = partition(a, hot, cap, usize::MAX);
            if (parts.len() >= 5 && parts.len() % 2 == 1)
                || (parts.len() == 1 && dense(a, &parts[0]))
            {
                split_costliest(a, &mut parts);
            }
            parts
        }
    };
    if owned.len() == 1 {
        return Plan::single(region);
    }
    let mut masks = owned.clone();
    if tier == Tier::Optimized {
        // Copies only lower the share of edges cut: past half, no need to make them.
        if cut_share(a, &owned, &owned) > 0.5 || {
            copies::copy_callees(a, hot, &mut masks, copies::COPY_WEIGHT);
            cut_share(a, &owned, &masks) > TANGLED
        } {
            return Plan::single(region);
        }
    }
    let targets = dispatch_targets(a);
    let regions = masks
        .into_iter()
        .zip(&owned)
        .map(|(m, own)| {
            Some(match region {
                Some(_) => Region::new(a, m),
                None => whole_chunk(a, m, own, &targets),
            })
        })
        .collect();
    Plan { regions, owned }
}

/// The share of the static edges (fallthroughs and static jumps) from the blocks each chunk
/// owns (`owned`) that leave the chunk with its copies (`masks`); 0 for fewer than
/// [`TANGLE_MIN_EDGES`] edges.
fn cut_share(a: &Analysis, owned: &[Vec<bool>], masks: &[Vec<bool>]) -> f64 {
    let (mut cut, mut all) = (0usize, 0usize);
    for (own, mask) in owned.iter().zip(masks) {
        for i in (0..own.len()).filter(|i| own[*i]) {
            for t in a.static_successors(i) {
                all += 1;
                cut += usize::from(!mask[t]);
            }
        }
    }
    if all < TANGLE_MIN_EDGES {
        0.0
    } else {
        cut as f64 / all as f64
    }
}

/// A chunk of a whole program: entered only where [`Program::run`](super::Program::run) can
/// enter it, at the blocks it owns that are the start of the code, resume points, destinations of
/// the dispatch of dynamic jumps (if the code has one; a destination outside it continues in the
/// interpreter, as in one function) or reached by a fallthrough or static jump from a block it
/// does not own (another chunk's, or a copy of it in another chunk). Not at every JUMPDEST, as
/// a region program is, whose frame the interpreter hands back at any of them: an entry costs a
/// block of its own at each, and JUMPDEST_n0's 2,087 blocks compiled to 103 bytes per byte of
/// code as a region against 23 whole.
pub(super) fn whole_chunk(a: &Analysis, hot: Vec<bool>, own: &[bool], targets: &[bool]) -> Region {
    let reached = reached_from_outside(a, |i| own[i]);
    let entries = (0..a.blocks.len())
        .map(|i| {
            let bl = &a.blocks[i];
            own[i] && (bl.start == 0 || bl.is_resume_point || targets[i] || reached[i])
        })
        .collect();
    Region { hot, entries }
}

/// By block index: a destination of the dispatch of dynamic jumps, if the code has a dynamic
/// jump (the dispatch of a function holding every block).
pub(super) fn dispatch_targets(a: &Analysis) -> Vec<bool> {
    super::lower::dispatched(a, &vec![true; a.blocks.len()])
}

/// No entry at a pc: the function 0 with an index past its entries (it hands over).
const NO_ENTRY: u32 = u32::MAX;

/// Bits of an [`entry_table`] value that hold the entry index; the function is above them.
const INDEX_BITS: u32 = 24;

/// By pc: the function entered there (the one whose chunk owns the block, with several) and its
/// entry index in it ([`entry_blocks`]), as `function << 24 | index`; [`NO_ENTRY`] where no
/// function is entered. Indexes stay below 2^24: a program has fewer blocks than bytes of code.
pub(crate) fn entry_table(a: &Analysis, plan: &Plan) -> Vec<u32> {
    let mut table = vec![NO_ENTRY; a.code.raw().len() + 1];
    for (k, r) in plan.regions.iter().enumerate() {
        let entries = super::lower::entries(a, r.as_ref());
        for (index, i) in entry_blocks(&entries).enumerate() {
            if plan.owned.get(k).is_none_or(|own| own[i]) {
                table[a.blocks[i].start] = (k as u32) << INDEX_BITS | index as u32;
            }
        }
    }
    table
}

/// The [`entry_table`] value at `pc`.
#[inline]
pub(crate) fn entry_at(table: &[u32], pc: usize) -> u32 {
    table.get(pc).copied().unwrap_or(NO_ENTRY)
}

/// The function and entry index of an [`entry_table`] value ([`NO_ENTRY`]: function 0, an
/// index no function has).
#[inline]
pub(crate) fn split(at: u32) -> (usize, u32) {
    if at == NO_ENTRY {
        (0, NO_ENTRY)
    } else {
        ((at >> INDEX_BITS) as usize, at & ((1 << INDEX_BITS) - 1))
    }
}

/// The header's length for `n` functions: a count, then an offset each (u32, little-endian).
pub(crate) fn header_len(n: usize) -> usize {
    (4 * (n + 1)).next_multiple_of(ALIGN)
}

/// Appends a function's machine code to `image`, aligned; returns its offset.
pub(crate) fn append(image: &mut Vec<u8>, code: &[u8]) -> u32 {
    image.resize(image.len().next_multiple_of(ALIGN), 0);
    let at = image.len() as u32;
    image.extend_from_slice(code);
    at
}

/// Writes the header (room for it was left at the start of `image`).
pub(crate) fn write_header(image: &mut [u8], offsets: &[u32]) {
    let words = std::iter::once(offsets.len() as u32).chain(offsets.iter().copied());
    for (i, w) in words.enumerate() {
        image[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
}

/// The functions' offsets from an image's header, checked: `n` of them, increasing, aligned,
/// after the header and within the image.
pub(crate) fn read_header(image: &[u8], n: usize) -> Result<Vec<u32>, CompileError> {
    let bad = |why: &str| CompileError::Codegen(format!("code image header: {why}"));
    let word = |i: usize| {
        image
            .get(4 * i..4 * i + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    if word(0) != Some(n as u32) {
        return Err(bad("wrong function count"));
    }
    let mut offsets = Vec::with_capacity(n);
    let mut floor = header_len(n);
    for i in 0..n {
        let at = word(i + 1).ok_or_else(|| bad("truncated"))? as usize;
        if at < floor || at % ALIGN != 0 || at >= image.len() {
            return Err(bad("offset out of place"));
        }
        offsets.push(at as u32);
        floor = at + 1;
    }
    Ok(offsets)
}

/// After function `k` returned `code` with the frame at `pc`: the entry to run next, if the
/// frame left `k` for a block another function is entered at (see the module docs).
#[inline]
pub(crate) fn next(table: &[u32], k: usize, code: u8, pc: usize) -> Option<u32> {
    if code != ExitCode::Interpret as u8 {
        return None;
    }
    match entry_at(table, pc) {
        NO_ENTRY => None,
        at if split(at).0 == k => None,
        at => Some(at),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::analysis::analyze;
    use ferrite_runtime::bytecode::Bytecode;
    use ferrite_runtime::opcode::op::*;
    use ferrite_runtime::SpecId;
    use std::sync::Arc;

    /// Two calls of a one-block function `F` (at the end), one from the start of the code and
    /// one from its end, with `filler` blocks between; a JUMPDEST no one pushes in the middle.
    /// Returns the analysis and the pcs of `F`, the first return address and the JUMPDEST.
    pub(crate) fn two_calls(filler: usize) -> (Analysis, usize, usize, usize) {
        let mut code = vec![PUSH2, 0, 0, PUSH2, 0, 0, JUMP]; // call F, return to `ret1`
        let ret1 = code.len();
        code.push(JUMPDEST);
        let lone = code.len() + 4 * (filler / 2);
        for _ in 0..filler {
            code.extend([JUMPDEST, PUSH1, 1, POP]);
        }
        code.extend([PUSH2, 0, 0, PUSH2, 0, 0, JUMP]); // call F, return to `ret2`
        let at2 = code.len() - 7;
        let ret2 = code.len();
        code.extend([JUMPDEST, STOP]);
        let f = code.len();
        code.extend([JUMPDEST, JUMP]); // F: return
        for (at, ret) in [(0, ret1), (at2, ret2)] {
            code[at + 1..at + 3].copy_from_slice(&(ret as u16).to_be_bytes());
            code[at + 4..at + 6].copy_from_slice(&(f as u16).to_be_bytes());
        }
        let a = analyze(Arc::new(Bytecode::new(code.into())), SpecId::Cancun);
        (a, f, ret1, lone)
    }

    #[test]
    fn whole_chunks_are_entered_only_where_control_arrives() {
        let (a, f, ret1, lone) = two_calls(200);
        let block = |pc: usize| a.block_at(pc).expect("a block starts there");
        let owned = partition(&a, None, 600, usize::MAX);
        let targets = dispatch_targets(&a);
        // The code has a dynamic jump (F's return): its dispatch's destinations are entries.
        assert!(targets[block(f)] && targets[block(ret1)] && targets[block(lone)]);
        let first = whole_chunk(&a, owned[0].clone(), &owned[0], &targets);
        assert!(first.entries[0] && first.entries[block(ret1)]);
        // Without a dynamic jump, only the start and where another chunk falls in.
        let mut code = vec![PUSH0];
        for _ in 0..300 {
            code.extend([JUMPDEST, PUSH1, 1, POP]);
        }
        code.push(STOP);
        let a = analyze(Arc::new(Bytecode::new(code.into())), SpecId::Cancun);
        let owned = partition(&a, None, 600, usize::MAX);
        assert!(owned.len() >= 3);
        let targets = dispatch_targets(&a);
        assert!(targets.iter().all(|t| !t));
        for (k, own) in owned.iter().enumerate() {
            let r = whole_chunk(&a, own.clone(), own, &targets);
            let start = (0..a.blocks.len())
                .find(|i| own[*i])
                .expect("a chunk has blocks");
            let entries: Vec<usize> = entry_blocks(&r.entries).collect();
            assert_eq!(entries, vec![start], "chunk {k}: its first block only");
        }
    }

    /// An optimized program cut into an odd number of five or more chunks has its costliest
    /// chunk cut once more, in the middle: consecutive runs covering every block once.
    #[test]
    fn an_odd_count_of_optimized_chunks_gets_one_more() {
        // 150 blocks of equal weight (245): 32 per chunk, five chunks, the last of 22.
        let block: Vec<u8> = [JUMPDEST]
            .into_iter()
            .chain([PUSH1, 1, POP].repeat(60))
            .collect();
        let mut code = block.repeat(150);
        code.push(STOP);
        let a = analyze(Arc::new(Bytecode::new(code.into())), SpecId::Cancun);
        assert_eq!(partition(&a, None, OPT_CHUNK_WEIGHT, usize::MAX).len(), 5);
        let plan = plan(&a, None, Tier::Optimized);
        let mut next = 0;
        let sizes: Vec<usize> = plan
            .owned
            .iter()
            .map(|own| {
                let blocks: Vec<usize> = (0..own.len()).filter(|i| own[*i]).collect();
                assert_eq!(blocks[0], next, "consecutive, each block once");
                assert_eq!(blocks.last(), Some(&(blocks[0] + blocks.len() - 1)));
                next += blocks.len();
                blocks.len()
            })
            .collect();
        // The last block (STOP) is a block of its own.
        assert_eq!(next, a.blocks.len());
        assert_eq!(sizes[..5], [16, 16, 32, 32, 32], "{sizes:?}");
    }

    fn image(offsets: &[u32], len: usize) -> Vec<u8> {
        let mut image = vec![0u8; len];
        write_header(&mut image, offsets);
        image
    }

    #[test]
    fn header_round_trips() {
        let img = image(&[16, 48, 96], 200);
        assert_eq!(read_header(&img, 3).ok(), Some(vec![16, 48, 96]));
        assert_eq!(header_len(1), 16);
        assert_eq!(header_len(4), 32);
    }

    #[test]
    fn bad_headers_are_refused() {
        let n = 3;
        for (offsets, len) in [
            (&[16u32, 48, 96][..], 96), // last function outside the image
            (&[16, 96, 48][..], 200),   // out of order
            (&[16, 40, 96][..], 200),   // misaligned
            (&[0, 48, 96][..], 200),    // inside the header
            (&[16, 48][..], 200),       // another function count
        ] {
            assert!(
                read_header(&image(offsets, len), n).is_err(),
                "{offsets:?} {len}"
            );
        }
        assert!(read_header(&[1, 0], 1).is_err(), "truncated");
    }

    #[test]
    fn next_chunk_only_for_another_chunks_entry() {
        // pc 1: function 0's entry 5; pc 2: function 1's entry 0; pc 0 and 3: none.
        let table = [NO_ENTRY, 5, 1 << INDEX_BITS, NO_ENTRY];
        let interp = ExitCode::Interpret as u8;
        assert_eq!(next(&table, 0, interp, 2), Some(1 << INDEX_BITS));
        assert_eq!(
            next(&table, 1, interp, 2),
            None,
            "its own block: exact halt"
        );
        assert_eq!(next(&table, 1, interp, 1), Some(5));
        assert_eq!(next(&table, 0, interp, 3), None, "no function enters there");
        assert_eq!(next(&table, 0, interp, 99), None);
        assert_eq!(next(&table, 0, ExitCode::Stop as u8, 2), None);
        assert_eq!(split(entry_at(&table, 2)), (1, 0));
        assert_eq!(split(entry_at(&table, 0)), (0, NO_ENTRY));
    }
}
