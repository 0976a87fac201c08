//! The baseline tier's programs as several functions ("chunks"), so that its compile time grows
//! linearly.
//!
//! Cranelift's register allocators work on a whole function at once. The single-pass one (the
//! baseline tier's) is quadratic in the blocks of a function, and the backtracking one's working
//! set outgrows the caches on large functions (snailtracer's 17.7 KB: ~80 MB for one function;
//! the same blocks as sixteen functions took 58% of the time). So the baseline tier cuts a
//! program into runs of consecutive blocks of bounded weight and block count, each lowered as a
//! region of its own ([`Region::new`]) and allocated single-pass: a branch to a block of another
//! chunk leaves the function with [`ExitCode::Interpret`] at that block, and a function is entered
//! at its JUMPDESTs, resume points and the blocks other chunks reach.
//! [`Program::run`](super::Program::run) then calls the chunk that owns the pc, without going
//! through the interpreter; a hand-over at a block of the same chunk (a failed block check, which
//! precedes an exact halt) goes to the interpreter as before.
//!
//! Only the baseline tier, whose programs are replaced by optimized ones: each crossing costs a
//! return and a call (about 3.6 ns), and hot paths cross often — revmc's snailtracer crossed
//! 718k times per run in chunks of 4,000, 15–20% slower; the optimized tier compiles one function.
//!
//! The machine code of all chunks is one image: a header of the functions' offsets, then each
//! function, 16-byte aligned (a program of one function has the same layout). The disk cache
//! stores that image as it is; the partition is recomputed from the analysis when the image is
//! loaded, and a header that does not match it is refused.

use super::SINGLE_PASS_MAX_BLOCKS;
use super::{CompileError, Tier};
use crate::analysis::region::Region;
use crate::analysis::Analysis;
use ferrite_runtime::ExitCode;

/// Most IR weight ([`super::ir_weight`]) per chunk; a single block heavier than this is a chunk
/// of its own.
pub const CHUNK_WEIGHT: usize = 4_000;

/// Each function's start in the image is aligned to this.
const ALIGN: usize = 16;

/// The chunks of the compiled blocks (all, or the region's `hot` ones), as block masks: runs of
/// consecutive blocks, each of at most [`CHUNK_WEIGHT`] and [`SINGLE_PASS_MAX_BLOCKS`] blocks (a
/// single block heavier than that is a chunk of its own).
///
/// Consecutive blocks, because compilers lay out a function's blocks together. Grouping along
/// the jumps the code shows instead (fallthroughs and conditional jumps first, then calls
/// recognised by a pushed return address) made more crossings, not fewer, on revmc's
/// snailtracer: 898k against 718k per run, since Solidity's calls and returns are mostly jumps
/// whose targets only the stack knows.
pub(crate) fn partition(a: &Analysis, hot: Option<&[bool]>) -> Vec<Vec<bool>> {
    let n = a.blocks.len();
    let compiled = |i: usize| hot.is_none_or(|h| h.get(i).copied().unwrap_or(false));
    let mut parts: Vec<Vec<bool>> = Vec::new();
    let (mut weight, mut blocks) = (0, 0);
    for i in (0..n).filter(|i| compiled(*i)) {
        let w = super::block_weight(a, &a.blocks[i]);
        match parts.last_mut() {
            Some(p) if weight + w <= CHUNK_WEIGHT && blocks < SINGLE_PASS_MAX_BLOCKS => {
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

/// The functions of a program at `tier`, as the regions each compiles: at the baseline tier the
/// chunks of [`partition`], each a region of its own (unless there is one); otherwise one
/// function, the program's own region (or the whole code).
pub(crate) fn plan(a: &Analysis, region: Option<&Region>, tier: Tier) -> Vec<Option<Region>> {
    if tier != Tier::Baseline {
        return vec![region.cloned()];
    }
    let parts = partition(a, region.map(|r| &r.hot[..]));
    if parts.len() == 1 {
        return vec![region.cloned()];
    }
    parts.into_iter().map(|p| Some(Region::new(a, p))).collect()
}

/// By pc: 1 + the index of the chunk entered there (0: none). Only for several chunks.
pub(crate) fn owners(a: &Analysis, regions: &[Option<Region>]) -> Option<Vec<u16>> {
    if regions.len() < 2 {
        return None;
    }
    let mut by_pc = vec![0u16; a.code.raw().len() + 1];
    for (k, r) in regions.iter().enumerate() {
        let Some(r) = r else { continue };
        for (bl, _) in a.blocks.iter().zip(&r.entries).filter(|(_, e)| **e) {
            by_pc[bl.start] = k as u16 + 1;
        }
    }
    Some(by_pc)
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

/// After chunk `k` returned `code` with the frame at `pc`: the chunk to run next, if the frame
/// left `k` for a block another chunk is entered at (see the module docs).
#[inline]
pub(crate) fn next(owners: Option<&[u16]>, k: usize, code: u8, pc: usize) -> Option<usize> {
    if code != ExitCode::Interpret as u8 {
        return None;
    }
    match owners?.get(pc).copied().unwrap_or(0) {
        0 => None,
        j if j as usize - 1 == k => None,
        j => Some(j as usize - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let owners = [0u16, 1, 2, 0];
        let interp = ExitCode::Interpret as u8;
        assert_eq!(next(Some(&owners), 0, interp, 2), Some(1));
        assert_eq!(
            next(Some(&owners), 1, interp, 2),
            None,
            "its own block: exact halt"
        );
        assert_eq!(
            next(Some(&owners), 0, interp, 3),
            None,
            "no chunk enters there"
        );
        assert_eq!(next(Some(&owners), 0, interp, 99), None);
        assert_eq!(next(Some(&owners), 0, ExitCode::Stop as u8, 2), None);
        assert_eq!(next(None, 0, interp, 2), None);
    }
}
