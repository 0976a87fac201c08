//! Bytecode analysis shared by the tiers: basic blocks with precomputed gas and stack bounds,
//! fused PUSH runs and statically resolved jumps.
//!
//! [`analyze`] runs three small passes over the padded code and returns an immutable
//! [`Analysis`]:
//! 1. `decode` — instructions with their immediates, skipping PUSH data;
//! 2. `split` — basic blocks: a block starts at pc 0, at every JUMPDEST and after every JUMPI or
//!    instruction that suspends (CALL*, CREATE*); it ends after terminators and jumps. GAS and
//!    SSTORE, which observe the exact gas left, stay inside blocks: compiled code charges static
//!    gas lazily and charges what is pending right before them (GAS inline, SSTORE through
//!    `ferrite_exec`), so they see the gas per-instruction charging leaves (a block per GAS cost
//!    compiled code more than interpreting it, EEST's `gas_op`). Code after a terminator that no JUMPDEST starts is dead
//!    and gets no block. Per block: static gas (from the fork's table), the stack height it needs
//!    at entry and its maximum growth, so compiled code checks gas and stack once per block;
//! 3. `resolve` — a PUSH directly before JUMP/JUMPI fixes the destination: valid targets become
//!    block indices (direct branches), invalid ones a static invalid jump. Consecutive PUSHes are
//!    marked as fused runs.
//!
//! Trade-off: checking a whole block's gas up front differs from per-instruction charging only
//! when the check fails; compiled code then hands the frame to the interpreter at the block start,
//! which reproduces the exact halt (reason, gas) instruction by instruction.

mod display;
pub mod region;

use ferrite_runtime::bytecode::Bytecode;
use ferrite_runtime::opcode::{flags, op, static_gas_table, OPCODE_INFO};
use ferrite_runtime::{SpecId, STACK_LIMIT, U256};
use std::collections::HashMap;
use std::sync::Arc;

/// One decoded instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instr {
    /// Program counter of the opcode.
    pub pc: usize,
    /// Opcode byte.
    pub opcode: u8,
    /// PUSH immediate (zero-padded past the end of the code).
    pub imm: U256,
}

/// How control leaves a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Falls into the block starting at the next pc.
    Fallthrough(usize),
    /// JUMP to a destination fixed at analysis time (`None`: not a JUMPDEST → invalid jump).
    StaticJump(Option<usize>),
    /// JUMP to a destination popped from the stack.
    DynamicJump,
    /// JUMPI with a static destination (`None`: invalid) and the fallthrough block.
    StaticJumpI(Option<usize>, usize),
    /// JUMPI with a dynamic destination and the fallthrough block.
    DynamicJumpI(usize),
    /// The last instruction ends the frame (STOP, RETURN, REVERT, INVALID, SELFDESTRUCT, or an
    /// opcode not defined in the fork), or the code ended.
    Terminate,
}

/// A basic block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// pc of the first instruction.
    pub start: usize,
    /// Range of [`Analysis::instrs`].
    pub instrs: std::ops::Range<usize>,
    /// Sum of the static gas of its instructions.
    pub static_gas: u64,
    /// Stack items needed at entry.
    pub min_stack: usize,
    /// Maximum stack growth over the block relative to entry.
    pub max_growth: usize,
    /// How control leaves it.
    pub exit: Exit,
    /// The block is entered after a suspended CALL*/CREATE* returns.
    pub is_resume_point: bool,
}

/// The result of analysing one code under one fork.
#[derive(Debug)]
pub struct Analysis {
    /// The code.
    pub code: Arc<Bytecode>,
    /// The fork whose gas table was used.
    pub spec: SpecId,
    /// Reachable instructions in pc order.
    pub instrs: Vec<Instr>,
    /// Basic blocks in pc order.
    pub blocks: Vec<Block>,
    /// Block index of every JUMPDEST that starts a block.
    pub jumpdest_blocks: HashMap<usize, usize>,
    /// Number of PUSH instructions that belong to a run of two or more consecutive PUSHes.
    pub fused_pushes: usize,
    /// Number of JUMP/JUMPI whose destination was resolved statically.
    pub static_jumps: usize,
    /// Blocks that dynamic jumps get direct branches to, at most [`MAX_DYNAMIC_TARGETS`]:
    /// JUMPDESTs whose pc is pushed as a constant somewhere (return addresses) first, then the
    /// others in pc order. A dynamic jump elsewhere is validated at run time and continues in
    /// the interpreter.
    pub dynamic_targets: Vec<usize>,
}

/// Cap on [`Analysis::dynamic_targets`]: one dispatch with tens of thousands of arms made
/// Cranelift's compile time explode (24,557 JUMPDESTs: over 20 s).
pub const MAX_DYNAMIC_TARGETS: usize = 4096;

impl Analysis {
    /// Block index starting at `pc`, if any.
    pub fn block_at(&self, pc: usize) -> Option<usize> {
        self.blocks.binary_search_by_key(&pc, |b| b.start).ok()
    }

    /// Block `i`'s successors by fallthrough (also a JUMPI not taken) and static jumps.
    pub fn static_successors(&self, i: usize) -> impl Iterator<Item = usize> {
        let succ = match &self.blocks[i].exit {
            Exit::Fallthrough(pc) | Exit::DynamicJumpI(pc) => [self.block_at(*pc), None],
            Exit::StaticJump(t) => [*t, None],
            Exit::StaticJumpI(t, pc) => [*t, self.block_at(*pc)],
            Exit::DynamicJump | Exit::Terminate => [None, None],
        };
        succ.into_iter().flatten()
    }

    /// The JUMPDEST blocks whose pc a PUSH of `instrs` pushes (return addresses, jump targets).
    pub fn pushed_jumpdests<'a>(&'a self, instrs: &'a [Instr]) -> impl Iterator<Item = usize> + 'a {
        instrs
            .iter()
            .filter(|i| is_push(i.opcode))
            .filter_map(|i| ferrite_runtime::word::to_u64(&i.imm))
            .filter_map(|pc| self.jumpdest_blocks.get(&(pc as usize)).copied())
    }
}

fn is_push(b: u8) -> bool {
    (op::PUSH1..=op::PUSH32).contains(&b)
}

/// True when the instruction ends a block after itself.
fn ends_block(opcode: u8, spec: SpecId) -> bool {
    let info = &OPCODE_INFO[opcode as usize];
    !info.enabled_in(spec)
        || info.has(flags::TERMINATOR)
        || info.has(flags::JUMP)
        || info.has(flags::SUSPENDS)
}

/// Pass 1: decode reachable instructions (code after a terminator up to the next JUMPDEST is
/// skipped).
fn decode(code: &Bytecode, spec: SpecId) -> Vec<Instr> {
    let raw = code.raw();
    let padded = code.padded();
    let mut out = Vec::new();
    let mut pc = 0;
    let mut dead = false;
    while pc < raw.len() {
        let b = raw[pc];
        let n = if is_push(b) {
            (b - op::PUSH1 + 1) as usize
        } else {
            0
        };
        if b == op::JUMPDEST {
            dead = false;
        }
        if !dead {
            let imm = if n > 0 {
                U256::from_be_slice(&padded[pc + 1..pc + 1 + n])
            } else {
                U256::ZERO
            };
            out.push(Instr { pc, opcode: b, imm });
            let info = &OPCODE_INFO[b as usize];
            if !info.enabled_in(spec) || info.has(flags::TERMINATOR) || b == op::JUMP {
                dead = true;
            }
        }
        pc += 1 + n;
    }
    out
}

/// A straight run of more instructions than this (no JUMPDEST, jump or terminator), with
/// [`LONG_BLOCK_ACCESSES`] memory accesses, is cut into blocks of [`PIECE_INSTRS`] that fall
/// into each other: the JIT compiles a function of a few
/// blocks at most, and one block is one piece of work for it (memory_grow_mstore is a single
/// block of 20,483 instructions). Runs up to this length stay whole (blake2b_huff's compression
/// rounds: 4,453 instructions).
pub const LONG_BLOCK_INSTRS: usize = 8_192;

/// A long run is cut only if it accesses memory this often: each access is a branch and a
/// slow path in compiled code, and the blocks those make are what the register allocator's work
/// grows with (memory_grow_mstore: 4,096 accesses, 270–320 ms as one block, 82 ms in pieces;
/// 8,192 instructions without one and then 5,461 accesses: 550 ms when only the first
/// [`LONG_BLOCK_INSTRS`] instructions were counted). A long run of arithmetic alone compiles
/// fast as one block and folds its constants across it (signextend: 24 KB in 30 ms, 2.6 bytes
/// of machine code per byte; in pieces, each flushing its stack, 48 ms and 34).
pub const LONG_BLOCK_ACCESSES: usize = 256;

/// Instructions per piece of a long run ([`LONG_BLOCK_INSTRS`]).
pub const PIECE_INSTRS: usize = 2_048;

/// Whether the straight run starting at `first` is longer than [`LONG_BLOCK_INSTRS`] with
/// [`LONG_BLOCK_ACCESSES`] memory accesses in it (stops at the run's end, so every block start
/// scans its own block once at most: the pieces of a cut run are not scanned again).
fn long_block(instrs: &[Instr], first: usize, spec: SpecId) -> bool {
    let run = &instrs[first..];
    let len = run
        .iter()
        .enumerate()
        .position(|(k, ins)| (k > 0 && ins.opcode == op::JUMPDEST) || ends_block(ins.opcode, spec))
        .unwrap_or(run.len());
    let accesses = run[..len]
        .iter()
        .filter(|ins| matches!(ins.opcode, op::MLOAD | op::MSTORE | op::MSTORE8))
        .count();
    len > LONG_BLOCK_INSTRS && accesses >= LONG_BLOCK_ACCESSES
}

/// Pass 2: split into blocks and compute gas and stack bounds.
fn split(instrs: &[Instr], spec: SpecId, code_len: usize) -> Vec<Block> {
    let gas = static_gas_table(spec);
    let mut blocks = Vec::new();
    let mut i = 0;
    let mut resume_next = false;
    // The block before ended as a piece of a long run: this one goes on cutting it.
    let mut piece = false;
    while i < instrs.len() {
        let first = i;
        let long = piece || long_block(instrs, first, spec);
        piece = false;
        let (mut height, mut min_stack, mut max_growth, mut static_gas) = (0i64, 0i64, 0i64, 0u64);
        let mut end = instrs.len();
        let mut j = i;
        while j < instrs.len() {
            let ins = &instrs[j];
            if j > first && ins.opcode == op::JUMPDEST {
                end = j;
                break;
            }
            let info = &OPCODE_INFO[ins.opcode as usize];
            if info.enabled_in(spec) {
                static_gas += gas[ins.opcode as usize] as u64;
                min_stack = min_stack.max(info.inputs as i64 - height);
                height += info.stack_delta() as i64;
                max_growth = max_growth.max(height);
            }
            if ends_block(ins.opcode, spec) {
                end = j + 1;
                break;
            }
            if long && j + 1 - first >= PIECE_INSTRS {
                // A piece of a long straight run ends here, unless a jump follows (its PUSH
                // must stay in the jump's block for the jump to resolve statically).
                let next = instrs.get(j + 1).map(|n| n.opcode);
                if !matches!(next, Some(op::JUMP | op::JUMPI | op::JUMPDEST) | None) {
                    end = j + 1;
                    piece = true;
                    break;
                }
            }
            j += 1;
        }
        let last = &instrs[end - 1];
        let next_pc = instrs.get(end).map(|n| n.pc);
        let info = &OPCODE_INFO[last.opcode as usize];
        // The next instruction starts a block only if it directly follows (it is not dead code).
        let follows =
            |pc: Option<usize>| pc.filter(|p| *p == last.pc + 1 + info.immediate as usize);
        let exit = if !info.enabled_in(spec) || info.has(flags::TERMINATOR) {
            Exit::Terminate
        } else if last.opcode == op::JUMP {
            Exit::DynamicJump
        } else if last.opcode == op::JUMPI {
            // Not taken: the next pc (past the end of the code that is an implicit STOP).
            Exit::DynamicJumpI(last.pc + 1)
        } else {
            match follows(next_pc) {
                Some(pc) if last.opcode == op::JUMPI => Exit::DynamicJumpI(pc),
                Some(pc) => Exit::Fallthrough(pc),
                // Code ends (implicit STOP).
                None => Exit::Terminate,
            }
        };
        let _ = code_len;
        blocks.push(Block {
            start: instrs[first].pc,
            instrs: first..end,
            static_gas,
            min_stack: min_stack.max(0) as usize,
            max_growth: max_growth.max(0) as usize,
            exit,
            is_resume_point: resume_next,
        });
        resume_next = info.has(flags::SUSPENDS);
        i = end;
    }
    blocks
}

/// Pass 3: resolve PUSH+JUMP(I), count fused PUSH runs, and map fallthrough pcs to indices.
fn resolve(a: &mut Analysis) {
    let code = a.code.clone();
    let mut static_jumps = 0;
    for bi in 0..a.blocks.len() {
        let b = &a.blocks[bi];
        let n = b.instrs.len();
        let _ = &code;
        if n < 2 {
            continue;
        }
        let prev = &a.instrs[b.instrs.end - 2];
        if !is_push(prev.opcode) {
            continue;
        }
        let target = ferrite_runtime::word::to_u64(&prev.imm)
            .filter(|d| code.is_jumpdest(*d as usize))
            .and_then(|d| a.jumpdest_blocks.get(&(d as usize)).copied());
        let new_exit = match &b.exit {
            Exit::DynamicJump => Exit::StaticJump(target),
            Exit::DynamicJumpI(f) => Exit::StaticJumpI(target, *f),
            _ => continue,
        };
        static_jumps += 1;
        a.blocks[bi].exit = new_exit;
    }
    a.static_jumps = static_jumps;
    let mut fused = 0;
    let mut run = 0;
    for ins in &a.instrs {
        if is_push(ins.opcode) || ins.opcode == op::PUSH0 {
            run += 1;
        } else {
            if run >= 2 {
                fused += run;
            }
            run = 0;
        }
    }
    if run >= 2 {
        fused += run;
    }
    a.fused_pushes = fused;
    let mut targets: Vec<usize> = a.pushed_jumpdests(&a.instrs).collect();
    targets.sort_unstable();
    targets.dedup();
    targets.truncate(MAX_DYNAMIC_TARGETS);
    // Then every other JUMPDEST while there is room: destinations computed at run time (Huff's
    // jump tables, e.g. weierstrudel) would otherwise leave compiled code for the rest of the
    // frame (with pushed targets only, weierstrudel ran no faster compiled than interpreted).
    if targets.len() < MAX_DYNAMIC_TARGETS {
        let mut rest: Vec<usize> = a
            .jumpdest_blocks
            .values()
            .copied()
            .filter(|b| targets.binary_search(b).is_err())
            .collect();
        rest.sort_unstable();
        rest.truncate(MAX_DYNAMIC_TARGETS - targets.len());
        targets.extend(rest);
        targets.sort_unstable();
    }
    a.dynamic_targets = targets;
}

/// Analyses `code` for `spec`.
pub fn analyze(code: Arc<Bytecode>, spec: SpecId) -> Analysis {
    let instrs = decode(&code, spec);
    let blocks = split(&instrs, spec, code.raw().len());
    let jumpdest_blocks = blocks
        .iter()
        .enumerate()
        .filter(|(_, b)| code.is_jumpdest(b.start))
        .map(|(i, b)| (b.start, i))
        .collect();
    let mut a = Analysis {
        code,
        spec,
        instrs,
        blocks,
        jumpdest_blocks,
        fused_pushes: 0,
        static_jumps: 0,
        dynamic_targets: Vec::new(),
    };
    resolve(&mut a);
    a
}

/// True when a block's entry check passes for `len` items: no underflow or overflow inside it.
pub fn stack_ok(b: &Block, len: usize) -> bool {
    len >= b.min_stack && len + b.max_growth <= STACK_LIMIT
}

#[cfg(test)]
mod tests;
