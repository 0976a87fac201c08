//! Lowering: one analysed program → one Cranelift function.
//!
//! Signature: `extern "C" fn(frame: *mut Frame, entry: u32) -> u8` (an
//! [`ExitCode`]). The frame pointer lives in Cranelift's pinned register (r15 on x86-64) for the
//! whole function; the caller's value of that register waits in the function's stack slot and
//! is restored at the one return.
//! At block boundaries the stack buffer holds every word and the frame holds the gas left (the
//! stack length passes between blocks in a register, and is written to the frame wherever
//! something reads it there), so at any block boundary compiled code can hand the frame to the
//! interpreter, which then reproduces an exact halt. The exception is a simple loop, whose
//! blocks share one virtual stack and whose changed words cross the back edge in registers
//! (`carry.rs`): the one hand-over within it, a back edge's failed gas check, stores them first.
//!
//! The lowering's stages, each in its own part:
//! - here (`mod.rs`): the driver — [`lower`] walks the (region's) blocks, each block its
//!   instructions, and `Lower::instr` picks how each opcode is lowered;
//! - `stack.rs`: the virtual stack of SSA values and constants within a block, and the stack
//!   length between blocks;
//! - `gas.rs`: the block's entry check (stack bounds and static gas, one hand-over) and static
//!   charges at sync points;
//! - `words.rs`: 256-bit arithmetic, comparisons and shifts on two i128 halves;
//! - `compare.rs`: comparisons with a constant on 64-bit limbs;
//! - `memory.rs`: MLOAD/MSTORE inline, memory expansion through a helper, small offsets;
//! - `calls.rs`: `ferrite_exec` (the runtime's instruction bodies) and the pure word helpers;
//! - `context.rs`: the transaction's environment and SELFBALANCE, read in place;
//! - `control.rs`: the entry switch, block exits, static and dynamic jumps, hand-overs.
//! - `loops.rs` and `carry.rs`: back edges that skip the head's stack check, and loops whose
//!   changed words stay in registers;
//! - `fold.rs`: after the function is built, chains of constant adds folded into one add.
//!
//! Inlined ([`inlined`]): PUSH*, POP, DUP*, SWAP*, ADD, SUB, LT, GT, SLT, SGT, EQ, ISZERO, AND, OR,
//! XOR, NOT, CLZ, PC, GAS, JUMPDEST, STOP, INVALID, the message's and the environment's fields
//! (ADDRESS, CALLER, CALLVALUE, the three lengths, ORIGIN, GASPRICE, the block's words,
//! BLOBHASH, SELFBALANCE once read), MLOAD/MSTORE within current memory, and JUMP/JUMPI
//! (static ones as direct branches, dynamic ones through one shared `Switch` over the JUMPDEST
//! blocks). Other state-free word operations call their own helper (`ferrite_mul`, …) with
//! operands by value (ADDMOD and MULMOD by reference, where the buffer holds them), but
//! SHL/SHR/SAR and SIGNEXTEND by a constant and MUL/DIV/MOD by a constant power of two are
//! inline; everything else calls `ferrite_exec`, the runtime's instruction body, or its copy
//! for that one opcode (SLOAD, SSTORE, KECCAK256, …: `EXEC_HELPERS`; see [`lowering`]). A
//! state-free operation of constants is computed while lowering, by the runtime's body of it,
//! and stays a constant. Every exit notes its code in the frame and leaves
//! through one return block.

mod calls;
mod carry;
mod compare;
mod context;
mod control;
mod fold;
pub use context::reads_env;
pub(crate) use control::dispatched;
pub use control::entry_blocks;
pub use memory::MemoryFacts;
mod gas;
mod items;
mod loops;
mod memory;
mod small;
mod stack;
mod words;

use crate::analysis::region::Region;
use crate::analysis::{Analysis, Exit, Instr};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, Block, FuncRef, Function, InstBuilder, MemFlagsData, Value};
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use ferrite_runtime::builtins::{offsets, Builtin, PURE_HELPERS};
use ferrite_runtime::opcode::{static_gas_table, OPCODE_INFO};
use ferrite_runtime::{ExitCode, Opcode, STACK_LIMIT, U256};
use stack::{Cursor, Elem};

/// The helpers a lowered function calls, declared in it on first use (a function declares only
/// those it calls: Cranelift computes the ABI of every declared signature for each compile, a
/// sixtieth of a small contract's compile when all were declared).
pub struct Imports<'i> {
    /// Declares a helper in the function (`jit::import_helper`).
    import: &'i dyn Fn(&mut Function, Builtin) -> FuncRef,
    /// By index in [`Builtin::ALL`]: the helper's reference, once declared.
    declared: Vec<Option<FuncRef>>,
}

impl<'i> Imports<'i> {
    /// Helpers to declare through `import` as the lowering calls them.
    pub fn new(import: &'i dyn Fn(&mut Function, Builtin) -> FuncRef) -> Imports<'i> {
        Imports {
            import,
            declared: vec![None; Builtin::ALL.len()],
        }
    }
}

/// How the lowering emits an opcode (see [`lowering`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lowering {
    /// Inline code, without a helper call (MLOAD/MSTORE call `ferrite_mexpand` only to grow
    /// memory): see [`inlined`].
    Inline,
    /// A call of the opcode's state-free helper (by [`PURE_HELPERS`]), operands by value; inline
    /// instead for some constant operands (SHL/SHR/SAR by a constant, SIGNEXTEND by a constant
    /// byte index, MUL/DIV/MOD by a constant power of two) and, for DIV/SDIV, operands that fit
    /// 64 bits.
    Pure,
    /// A call of `ferrite_exec`, the runtime's body of the instruction: everything else.
    Exec,
}

/// How the lowering emits `op`: inline, through its pure helper ([`PURE_HELPERS`]), or through
/// `ferrite_exec`. The one place that decides, written as an exhaustive match so that a new row
/// of the opcode table fails to compile until the JIT decides how to lower it; the pure arm is
/// checked against [`PURE_HELPERS`] at compile time below.
pub const fn lowering(op: Opcode) -> Lowering {
    use Opcode::*;
    match op {
        STOP | ADD | SUB | LT | GT | SLT | SGT | EQ | ISZERO | AND | OR | XOR | NOT | POP
        | MLOAD | MSTORE | JUMP | JUMPI | PC | GAS | JUMPDEST | PUSH0 | PUSH1 | PUSH2 | PUSH3
        | PUSH4 | PUSH5 | PUSH6 | PUSH7 | PUSH8 | PUSH9 | PUSH10 | PUSH11 | PUSH12 | PUSH13
        | PUSH14 | PUSH15 | PUSH16 | PUSH17 | PUSH18 | PUSH19 | PUSH20 | PUSH21 | PUSH22
        | PUSH23 | PUSH24 | PUSH25 | PUSH26 | PUSH27 | PUSH28 | PUSH29 | PUSH30 | PUSH31
        | PUSH32 | DUP1 | DUP2 | DUP3 | DUP4 | DUP5 | DUP6 | DUP7 | DUP8 | DUP9 | DUP10 | DUP11
        | DUP12 | DUP13 | DUP14 | DUP15 | DUP16 | SWAP1 | SWAP2 | SWAP3 | SWAP4 | SWAP5 | SWAP6
        | SWAP7 | SWAP8 | SWAP9 | SWAP10 | SWAP11 | SWAP12 | SWAP13 | SWAP14 | SWAP15 | SWAP16
        | INVALID | ADDRESS | CALLER | CALLVALUE | CODESIZE | CALLDATASIZE | RETURNDATASIZE
        | CLZ | ORIGIN | GASPRICE | COINBASE | TIMESTAMP | NUMBER | PREVRANDAO | GASLIMIT
        | CHAINID | BASEFEE | BLOBBASEFEE | BLOBHASH | SELFBALANCE => Lowering::Inline,
        MUL | DIV | SDIV | MOD | SMOD | ADDMOD | MULMOD | SIGNEXTEND | BYTE | SHL | SHR | SAR => {
            Lowering::Pure
        }
        EXP | KECCAK256 | BALANCE | CALLDATALOAD | CALLDATACOPY | CODECOPY | EXTCODESIZE
        | EXTCODECOPY | RETURNDATACOPY | EXTCODEHASH | BLOCKHASH | MSTORE8 | SLOAD | SSTORE
        | MSIZE | TLOAD | TSTORE | MCOPY | LOG0 | LOG1 | LOG2 | LOG3 | LOG4 | CREATE | CALL
        | CALLCODE | RETURN | DELEGATECALL | CREATE2 | STATICCALL | REVERT | SELFDESTRUCT => {
            Lowering::Exec
        }
    }
}

// The pure arm of `lowering` is exactly the opcodes with a pure helper.
const _: () = {
    let mut i = 0;
    while i < PURE_HELPERS.len() {
        match Opcode::from_u8(PURE_HELPERS[i].0) {
            Some(op) => assert!(
                matches!(lowering(op), Lowering::Pure),
                "a pure helper's opcode is not lowered through it"
            ),
            None => panic!("a pure helper for an undefined opcode"),
        }
        i += 1;
    }
    let (mut b, mut pure) = (0, 0);
    while b < 256 {
        if let Some(op) = Opcode::from_u8(b as u8) {
            if matches!(lowering(op), Lowering::Pure) {
                pure += 1;
            }
        }
        b += 1;
    }
    assert!(
        pure == PURE_HELPERS.len(),
        "an opcode lowered through a pure helper has none"
    );
};

/// The opcodes the lowering emits inline ([`Lowering::Inline`]), in byte order.
pub fn inlined() -> impl Iterator<Item = Opcode> {
    (0..=u8::MAX)
        .filter_map(Opcode::from_u8)
        .filter(|op| lowering(*op) == Lowering::Inline)
}

/// Bytes per stack slot.
const WORD: i32 = 32;

/// The lowering of one function: the builder and what every stage shares (its methods are
/// spread over the stages' files).
struct Lower<'a, 'b> {
    b: FunctionBuilder<'b>,
    a: &'a Analysis,
    imports: Imports<'a>,
    /// Stack slot holding the caller's pinned register.
    context: cranelift_codegen::ir::StackSlot,
    /// The frame pointer read from the pinned register in the current IR block since its
    /// last call (see [`Lower::frame`]).
    frame_read: Option<(Block, Value)>,
    /// The memory buffer's address, loaded in the current IR block since its last call (see
    /// [`Lower::memory_base`]).
    mem_base_read: Option<(Block, Value)>,
    /// The program's memory accesses by block ([`MemoryFacts`]).
    memory: &'a MemoryFacts,
    /// By block index: its IR block, or `None` outside the compiled region.
    blocks: Vec<Option<Block>>,
    /// By block index: where the function starts (the region's entries; without a region, the
    /// start of the code and resume points).
    entries: Vec<bool>,
    /// By block index, for blocks outside the region: the stub that hands over to the
    /// interpreter there (made on first use).
    cold: Vec<Option<Block>>,
    /// By block index: what the block's entry check covers (see `gas::runs`).
    runs: Vec<gas::Run>,
    /// By block index, for blocks entered by falling through from their predecessor, whose
    /// entry check covered them too ([`chained`]): the body after the block's own checked
    /// entry (`blocks`, for jumps and the entry switch), where the predecessor goes.
    bodies: Vec<Option<Block>>,
    /// By block index: whether something goes to the block's checked entry (`blocks`): a jump,
    /// the entry switch or the dispatch (see [`Lower::checked_entries`]).
    entered: Vec<bool>,
    /// The static gas a chain carries uncharged into a chained block's body (0 from its own
    /// checked entry; see [`Lower::carry_gas`]).
    chain_gas: Variable,
    /// The dispatch of dynamic jumps: made by the first jump whose destination is not a
    /// constant (a program without one has no dispatch to compile).
    dispatch: Option<Block>,
    /// The one return block, returning the exit code noted in the frame (made on first use;
    /// see [`Lower::exit_block`]).
    exit_code: Option<Block>,
    /// By exit code: the block that notes it in the frame and goes to the return block, shared
    /// by the exits with that code (made on first use; see [`Lower::ret_code`]).
    code_exits: Vec<Option<Block>>,
    /// The stack length between blocks, in a register: a block takes it from its predecessor
    /// instead of reloading what that one just stored (a store-to-load round trip on the path
    /// to every block's first operand). Written to the frame only where something reads it
    /// there: helpers that take the stack, suspensions, and hand-overs to the interpreter.
    len: Variable,
    /// The gas left between blocks, in a register, for the same reason as `len`: a block's
    /// entry check compared the gas its predecessor had just stored, a store-to-load round
    /// trip on every block's path (two per iteration of a two-block loop). The frame's copy
    /// is written only where something reads it (helpers that charge or read gas, exits and
    /// hand-overs to the interpreter: [`Lower::flush_gas`], [`Lower::store_passed_gas`]), as
    /// wasmtime keeps fuel; within a block the gas stays in `Cursor::gas`.
    gas: Variable,
    /// The stack top address at a loop head's body, which its entry and its back edges define
    /// ([`super::loops`]).
    loop_top: Variable,
    /// The opcode of the instruction after the one being lowered, in its block.
    next_op: Option<u8>,
    flags: MemFlagsData,
    /// Little-endian lane order for bitcasts between i128 and i64x2.
    le: MemFlagsData,
    /// The 16-byte constants stored so far in the current IR block, as vectors: a constant
    /// stored twice in a block is materialized once (Cranelift's `opt_level=none` does not
    /// share them; a flushed zero word was two `vpxor`s per store).
    vconsts: (Option<Block>, Vec<([u8; 16], Value)>),
    /// The 16-byte halves pushed often enough in the function that a constant-pool entry is
    /// smaller than immediates (see [`pooled_halves`]).
    pooled: Vec<[u8; 16]>,
    /// The back edges that enter their head past its stack check ([`loops`]).
    loops: loops::Loops,
    /// The loops that carry the words they change in registers ([`carry`]).
    carry: carry::Carry,
    /// By block index: the IR block and the cursor a block goes on from, left by the block
    /// that falls into it in a loop's run ([`Lower::continue_into`]) or by its only jump
    /// ([`Lower::enter_jumped`]).
    conts: Vec<Option<(Block, Cursor)>>,
    /// By block index: the one block whose static jump is the only way in
    /// ([`control::only_jumps`]).
    jumped: Vec<Option<usize>>,
    /// By block index: whether a jump of the analysis may land on the block
    /// ([`control::landed`]).
    landed: Vec<bool>,
    /// By block index: whether the block's one jump's entry check covers it ([`jump_chained`]).
    jump_chained: Vec<bool>,
    /// By block index: the words at its entry that it pops unread, which jumps there need not
    /// store ([`items::dead_on_entry`]).
    dead: Vec<u64>,
    /// The index of the block being lowered.
    current: usize,
    /// The stack top address the block after the current one starts at, when only the
    /// current one's fall-through enters it ([`Lower::pass_top`]).
    fall_top: Option<(usize, Value)>,
}

/// Most pushes of one 16-byte half stored as two 64-bit immediates (9 bytes each on x64)
/// rather than from the constant pool (a 16-byte entry, then an 8-byte load and a 7-byte store
/// per IR block that stores it): up to five stores, immediates are the smaller.
const MAX_IMMEDIATE_PUSHES: usize = 5;

/// The nonzero 16-byte halves of the constants pushed in `region`'s blocks (all without one)
/// more than [`MAX_IMMEDIATE_PUSHES`] times: those a stored constant takes from the pool.
fn pooled_halves(analysis: &Analysis, region: Option<&Region>) -> Vec<[u8; 16]> {
    let mut counts: std::collections::HashMap<[u8; 16], usize> = Default::default();
    for (i, bl) in analysis.blocks.iter().enumerate() {
        if region.is_some_and(|r| !r.hot.get(i).copied().unwrap_or(false)) {
            continue;
        }
        for ins in &analysis.instrs[bl.instrs.clone()] {
            if !(Opcode::PUSH1 as u8..=Opcode::PUSH32 as u8).contains(&ins.opcode) {
                continue;
            }
            let bytes = ins.imm.to_le_bytes::<32>();
            for half in bytes.chunks_exact(16) {
                let mut h = [0u8; 16];
                h.copy_from_slice(half);
                if h != [0; 16] {
                    *counts.entry(h).or_default() += 1;
                }
            }
        }
    }
    counts
        .into_iter()
        .filter(|(_, n)| *n > MAX_IMMEDIATE_PUSHES)
        .map(|(h, _)| h)
        .collect()
}

/// Whether block `i` is entered only by falling through from block `i - 1`, both compiled
/// (`compiled`, by block index): no jump of the analysis lands on it (`landed`, see
/// [`control::landed`]) and the function does not start there (`entries`). A jump that the
/// lowering folds to a constant may still name it: that jump hands over to the interpreter
/// there ([`Lower::goto_static`]).
fn fall_through_only(
    compiled: impl Fn(usize) -> bool,
    landed: &[bool],
    entries: &[bool],
    i: usize,
) -> bool {
    i > 0 && compiled(i) && compiled(i - 1) && !entries[i] && !landed[i]
}

/// By block index: where a function compiling `region` (or the whole code) starts, at the entry
/// index of [`entry_blocks`]: the region's entries; without a region, the start of the code and
/// resume points.
pub fn entries(analysis: &Analysis, region: Option<&Region>) -> Vec<bool> {
    match region {
        Some(r) => r.entries.clone(),
        None => analysis
            .blocks
            .iter()
            .map(|bl| bl.start == 0 || bl.is_resume_point)
            .collect(),
    }
}

/// Builds the body of `func` for `analysis`: every block, or only the `region`'s (see
/// [`crate::analysis::region`]). A branch to a block outside the region hands the frame to the
/// interpreter at that block, and the region's entries are where the function starts.
/// `memory` is [`MemoryFacts::new`] of `analysis`. `fctx` is empty, and is again when this
/// returns (a caller may keep it for the next function).
pub fn lower<'a>(
    analysis: &'a Analysis,
    memory: &'a MemoryFacts,
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
    imports: Imports<'a>,
    config: TargetFrontendConfig,
    region: Option<&Region>,
) {
    let mut b = FunctionBuilder::new(func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let frame = b.block_params(entry)[0];
    let index = b.block_params(entry)[1];
    let context = b.create_sized_stack_slot(cranelift_codegen::ir::StackSlotData::new(
        cranelift_codegen::ir::StackSlotKind::ExplicitSlot,
        8,
        3,
    ));
    // The frame lives in the pinned register for the whole function (see [`Lower::frame`]);
    // the caller's value of that register is kept in the slot and restored at the return.
    let caller = b.ins().get_pinned_reg(types::I64);
    b.ins().stack_store(types::I64, caller, context, 0);
    b.ins().set_pinned_reg(frame);
    let in_region = |i: usize| region.is_none_or(|r| r.hot.get(i).copied().unwrap_or(false));
    let blocks: Vec<Option<Block>> = (0..analysis.blocks.len())
        .map(|i| in_region(i).then(|| b.create_block()))
        .collect();
    let len = b.declare_var(types::I64);
    let gas = b.declare_var(types::I64);
    let loop_top = b.declare_var(types::I64);
    let chain_gas = b.declare_var(types::I64);
    let chained = chained(analysis, &blocks);
    let bodies = chained
        .iter()
        .map(|c| c.then(|| b.create_block()))
        .collect();
    let compiled: Vec<bool> = blocks.iter().map(Option::is_some).collect();
    let entries = entries(analysis, region);
    let dynamic = control::dispatched(analysis, &compiled);
    let landed = control::landed(analysis, &compiled, &dynamic);
    let loops = loops::Loops::new(analysis, &chained, &compiled, &landed, &entries);
    let jumped = control::only_jumps(analysis, &compiled, &entries, &dynamic);
    let jump_chained = jump_chained(analysis, &jumped);
    let runs = gas::runs(analysis, &chained, &jump_chained);
    let carry = carry::Carry::new(analysis, &loops, &runs, &mut b);
    let mut l = Lower {
        memory,
        loops,
        carry,
        conts: vec![None; analysis.blocks.len()],
        jumped,
        landed,
        jump_chained,
        dead: items::dead_on_entry(analysis, &compiled),
        current: 0,
        fall_top: None,
        len,
        gas,
        loop_top,
        runs,
        bodies,
        chain_gas,
        b,
        a: analysis,
        imports,
        context,
        frame_read: None,
        mem_base_read: None,
        entries,
        cold: vec![None; analysis.blocks.len()],
        entered: vec![false; analysis.blocks.len()],
        blocks,
        dispatch: None,
        exit_code: None,
        code_exits: vec![None; 256],
        next_op: None,
        flags: MemFlagsData::trusted(),
        le: MemFlagsData::new().with_endianness(cranelift_codegen::ir::Endianness::Little),
        vconsts: (None, Vec::new()),
        pooled: pooled_halves(analysis, region),
    };
    l.entry_switch(index);
    for i in 0..analysis.blocks.len() {
        if in_region(i) {
            l.block(i);
        }
    }
    l.finish(config);
    fold::constant_adds(func);
}

/// Whether a block ending with `exit` goes on at `pc` when it does not jump: it falls through,
/// or it is a JUMPI whose condition is false.
fn falls_into(exit: &Exit, pc: usize) -> bool {
    match exit {
        Exit::Fallthrough(f) | Exit::StaticJumpI(_, f) | Exit::DynamicJumpI(f) => *f == pc,
        _ => false,
    }
}

/// By block index: whether the block is entered by falling through from its predecessor in the
/// same function (also when a JUMPI does not jump), and that predecessor's entry check may
/// cover it. After a JUMPI the check then also covers a way not taken: a check that fails for
/// the fall-through's share alone hands over to the interpreter one block early, which runs
/// the same code exactly (a loop's condition and body are checked once per iteration, not
/// twice). The predecessor only has
/// static gas (no helper that charges gas, no memory access that may grow memory), so the
/// static gas the check saw is still there when the block starts; and the block is not where a
/// suspended call resumes (gas changed meanwhile). A chain of such blocks is checked once at its
/// head; on failure the interpreter runs from the head and halts exactly where it must.
fn chained(a: &Analysis, compiled: &[Option<Block>]) -> Vec<bool> {
    (0..a.blocks.len())
        .map(|i| {
            i > 0
                && compiled[i].is_some()
                && compiled[i - 1].is_some()
                && !a.blocks[i].is_resume_point
                && falls_into(&a.blocks[i - 1].exit, a.blocks[i].start)
                && static_only(a, &a.blocks[i - 1])
        })
        .collect()
}

/// Whether block `bl` has only static gas: no helper that charges gas itself, no memory access
/// that may grow memory (see [`chained`]).
fn static_only(a: &Analysis, bl: &crate::analysis::Block) -> bool {
    a.instrs[bl.instrs.clone()].iter().all(|ins| {
        OPCODE_INFO[ins.opcode as usize].enabled_in(a.spec)
            && Opcode::from_u8(ins.opcode).is_some_and(|op| {
                !matches!(op, Opcode::MLOAD | Opcode::MSTORE)
                    && matches!(lowering(op), Lowering::Inline | Lowering::Pure)
            })
    })
}

/// By block index: whether the block's only way in is a static jump ([`control::only_jumps`])
/// from a block with only static gas, whose entry check may then cover it as a chained block's
/// predecessor does ([`chained`]; the check covers the costlier of that block's two ways on).
fn jump_chained(a: &Analysis, jumped: &[Option<usize>]) -> Vec<bool> {
    jumped
        .iter()
        .map(|p| p.is_some_and(|p| static_only(a, &a.blocks[p])))
        .collect()
}

impl Lower<'_, '_> {
    /// Helper `h`, declared in the function on its first use.
    fn import(&mut self, h: Builtin) -> FuncRef {
        let i = Builtin::ALL.iter().position(|x| *x == h).unwrap_or(0);
        *self.imports.declared[i].get_or_insert_with(|| (self.imports.import)(self.b.func, h))
    }

    fn iconst(&mut self, v: i64) -> Value {
        self.b.ins().iconst(types::I64, v)
    }

    /// The frame pointer, from the pinned register: read once per IR block and again after
    /// each call ([`Lower::call`]), so that it never occupies an allocatable register across a
    /// call, nor a spill slot around it. (Reloaded from a stack slot once per EVM block, as
    /// before, it was spilled and reloaded around the calls of long blocks, and every block
    /// paid a load; figures in `benches/PERFORMANCE.md`.)
    fn frame(&mut self) -> Value {
        let block = self.b.current_block();
        if let Some((b, v)) = self.frame_read {
            if Some(b) == block {
                return v;
            }
        }
        let v = self.b.ins().get_pinned_reg(types::I64);
        self.frame_read = block.map(|b| (b, v));
        v
    }

    /// Calls helper `f` with `args`; the frame, the memory buffer's address and vector
    /// constants are read again after it ([`Lower::frame`]): a call no longer always ends the
    /// IR block (helpers escape, `ferrite_runtime::escape`), and a value kept across it would
    /// hold a callee-saved register or a spill slot (every vector register is caller-saved).
    fn call(&mut self, f: FuncRef, args: &[Value]) -> cranelift_codegen::ir::Inst {
        let call = self.b.ins().call(f, args);
        self.frame_read = None;
        self.mem_base_read = None;
        self.vconsts = (None, Vec::new());
        call
    }

    /// Branches to `target` when `cond` is non-zero, else goes on in a new block: one compare
    /// and branch per condition (x64 fuses a compare with the branch after it), where flags
    /// combined into one branch cost a `setcc` each and the combining.
    fn leave_if(&mut self, cond: Value, target: Block) {
        let next = self.b.create_block();
        self.b.ins().brif(cond, target, &[], next, &[]);
        self.b.switch_to_block(next);
    }

    /// Restores the caller's pinned register before the function returns.
    fn restore_pinned(&mut self) {
        let p = types::I64;
        let caller = self.b.ins().stack_load(p, p, self.context, 0);
        self.b.ins().set_pinned_reg(caller);
    }

    /// The `HostRef` pointer, from the frame at each use (`Frame::set_jit_host`): only the
    /// environment's words are read through it here; the helpers find it themselves.
    fn host(&mut self) -> Value {
        self.frame_field(offsets::JIT_HOST)
    }

    /// A 64-bit field of the frame (at an offset from `builtins::offsets`).
    fn frame_field(&mut self, offset: usize) -> Value {
        let frame = self.frame();
        self.b
            .ins()
            .load(types::I64, self.flags, frame, offset as i32)
    }

    /// The word of the 20-byte big-endian address at `offset` in the frame: its top four bytes,
    /// then two eight-byte halves, byte-swapped into the (low, high) 128-bit halves.
    fn address_word(&mut self, offset: usize) -> (Value, Value) {
        let at = offset as i32;
        // Not `aligned`: the fields sit at any byte offset.
        let bytes = MemFlagsData::new().with_notrap();
        let frame = self.frame();
        let top = self.b.ins().load(types::I32, bytes, frame, at);
        let mid = self.b.ins().load(types::I64, bytes, frame, at + 4);
        let low = self.b.ins().load(types::I64, bytes, frame, at + 12);
        let (top, mid, low) = (
            self.b.ins().bswap(top),
            self.b.ins().bswap(mid),
            self.b.ins().bswap(low),
        );
        let lo = self.b.ins().iconcat(low, mid);
        let hi = self.b.ins().uextend(types::I128, top);
        (lo, hi)
    }

    /// Writes a 64-bit field of the frame.
    fn set_frame_field(&mut self, offset: usize, v: Value) {
        let frame = self.frame();
        self.b.ins().store(self.flags, v, frame, offset as i32);
    }

    /// Lowers block `i`: its entry check, instructions and exit. A chained block's body is
    /// where its predecessor goes; its checked entry, for jumps and the entry switch, is
    /// emitted at the end and only if something goes there ([`Lower::checked_entries`]).
    fn block(&mut self, i: usize) {
        let bl = &self.a.blocks[i];
        let Some(this) = self.blocks[i] else {
            unreachable!("only region blocks are lowered")
        };
        if let Some((body, mut c)) = self.conts[i].take() {
            self.b.switch_to_block(body);
            self.current = i;
            c.mem_known = c
                .mem_known
                .max(self.memory.at_entry[i].saturating_sub(WORD as u64 - 1));
            self.block_body(i, &mut c);
            self.close_needs(&mut c);
            return;
        }
        let (len0, gas, carried);
        let mut head_top = None;
        if let Some(body) = self.bodies[i] {
            self.b.switch_to_block(body);
            len0 = self.b.use_var(self.len);
            carried = self.carries(i).then(|| self.b.use_var(self.chain_gas));
            gas = None;
            if self.carry.carries_words(i) {
                // Every way in defines it ([`Lower::load_carried`], [`Lower::carry_back`]).
                head_top = Some(self.b.use_var(self.loop_top));
            }
        } else {
            self.b.switch_to_block(this);
            let entry_len = self.b.use_var(self.len);
            let checked = self.entry_check(i, entry_len, !self.fresh(i));
            if self.loops.is_head(i) {
                // Back edges come in below the check: the length, the gas and the top address
                // flow in from two ways.
                self.loop_body(i, entry_len);
                (len0, gas) = (self.b.use_var(self.len), None);
                head_top = Some(self.b.use_var(self.loop_top));
            } else {
                (len0, gas) = (entry_len, checked);
            }
            carried = None;
        }
        self.current = i;
        let top = match self.fall_top.take() {
            Some((n, top)) if n == i => Some(top),
            _ => head_top,
        };
        let mut c = self.cursor(len0, bl.min_stack.min(STACK_LIMIT), top);
        // Blocks pass the gas left in a register, and the frame's may be older.
        c.gas = Some(gas.unwrap_or_else(|| self.b.use_var(self.gas)));
        c.stale = !self.fresh(i);
        c.carried = carried;
        // A word ending within the memory every path here has grown is within memory.
        c.mem_known = self.memory.at_entry[i].saturating_sub(WORD as u64 - 1);
        if self.carry.carries_words(i) {
            self.start_carried(i, &mut c);
        }
        self.block_body(i, &mut c);
        self.close_needs(&mut c);
    }

    /// Whether block `i` is entered only from the entry switch, where the frame's gas is the
    /// gas left: an entry that no jump lands on (it is no JUMPDEST) and no block falls into.
    fn fresh(&self, i: usize) -> bool {
        let start = self.a.blocks[i].start;
        self.entries[i]
            && self.bodies[i].is_none()
            && !self.a.code.is_jumpdest(start)
            && (i == 0 || !falls_into(&self.a.blocks[i - 1].exit, start))
    }

    /// Whether block `i` is entered only by falling through from block `i - 1`
    /// ([`fall_through_only`]).
    pub(super) fn plain(&self, i: usize) -> bool {
        fall_through_only(|k| self.blocks[k].is_some(), &self.landed, &self.entries, i)
    }

    /// Whether chained block `i`'s predecessor carries static gas into it: one that falls
    /// through; after a JUMPI, whose block charged its gas before branching, there is none.
    pub(super) fn carries(&self, i: usize) -> bool {
        matches!(self.a.blocks[i - 1].exit, Exit::Fallthrough(_))
    }

    /// The checked entries of the chained blocks that something goes to (a jump, the entry
    /// switch, the dispatch): the block's own entry check, then its body. Most chained blocks
    /// follow a JUMPI and nothing jumps to them; their checked entries, emitted unreachable,
    /// cost the lowering and Cranelift's removal of unreachable blocks, which recomputes the
    /// predecessors of every block they branch to: quadratic when thousands of them branch to
    /// one (a run of JUMPDESTs spent half its compile there).
    fn checked_entries(&mut self) {
        for i in 0..self.bodies.len() {
            let (Some(body), Some(this)) = (self.bodies[i], self.blocks[i]) else {
                continue;
            };
            if !self.entered[i] {
                continue;
            }
            self.b.switch_to_block(this);
            let len0 = self.b.use_var(self.len);
            self.entry_check(i, len0, true);
            if self.carry.carries_words(i) {
                let top = self.entry_top(len0);
                self.load_carried(i, top);
            }
            if self.carries(i) {
                let none = self.iconst(0);
                self.b.def_var(self.chain_gas, none);
            }
            self.b.ins().jump(body, &[]);
        }
    }

    /// The instructions and exit of block `i`, after its entry check.
    fn block_body(&mut self, i: usize, c: &mut Cursor) {
        let bl = &self.a.blocks[i];
        let gas_table = static_gas_table(self.a.spec);
        let range = bl.instrs.clone();
        let n = range.len();
        let exit = bl.exit.clone();
        for (k, idx) in range.clone().enumerate() {
            let ins = self.a.instrs[idx].clone();
            let is_last = k + 1 == n;
            self.next_op = (!is_last).then(|| self.a.instrs[idx + 1].opcode);
            let info = &OPCODE_INFO[ins.opcode as usize];
            if !info.enabled_in(self.a.spec) {
                self.halt(c, ExitCode::InvalidOpcode);
                return;
            }
            let gas = gas_table[ins.opcode as usize] as u64;
            c.pending_gas += gas;
            c.static_gas += gas;
            if is_last && matches!(ins.opcode, 0x56 | 0x57) {
                break; // JUMP/JUMPI: lowered with the block exit below.
            }
            let Some(op) = Opcode::from_u8(ins.opcode) else {
                unreachable!("enabled opcodes are defined")
            };
            if self.instr(c, op, &ins) {
                return; // the instruction ended the block (terminator or suspension)
            }
        }
        match exit {
            // Going on into a block that continues the cursor: the gas stays pending in it.
            Exit::Fallthrough(pc) if self.continues_at(pc).is_some() => {}
            Exit::Fallthrough(pc)
                if self
                    .a
                    .block_at(pc)
                    .is_some_and(|t| self.bodies[t].is_some()) =>
            {
                self.carry_gas(c)
            }
            _ => self.sync_gas(c),
        }
        self.block_exit(c, &exit);
    }

    /// Lowers one instruction as [`lowering`] says; true when it ended control flow.
    fn instr(&mut self, c: &mut Cursor, op: Opcode, ins: &Instr) -> bool {
        if self.fold_constants(c, op) {
            return false;
        }
        match lowering(op) {
            Lowering::Inline => self.inline(c, op, ins),
            Lowering::Pure => {
                self.pure_op(c, op);
                false
            }
            Lowering::Exec => self.helper(c, ins),
        }
    }

    /// Lowers an instruction of [`inlined`]; true when it ended control flow.
    fn inline(&mut self, c: &mut Cursor, op: Opcode, ins: &Instr) -> bool {
        use Opcode::*;
        match op {
            PUSH0 | PUSH1 | PUSH2 | PUSH3 | PUSH4 | PUSH5 | PUSH6 | PUSH7 | PUSH8 | PUSH9
            | PUSH10 | PUSH11 | PUSH12 | PUSH13 | PUSH14 | PUSH15 | PUSH16 | PUSH17 | PUSH18
            | PUSH19 | PUSH20 | PUSH21 | PUSH22 | PUSH23 | PUSH24 | PUSH25 | PUSH26 | PUSH27
            | PUSH28 | PUSH29 | PUSH30 | PUSH31 | PUSH32 => c.vs.push(Elem::Const {
                v: ins.imm,
                clean: false,
            }),
            POP => c.pop(1),
            DUP1 | DUP2 | DUP3 | DUP4 | DUP5 | DUP6 | DUP7 | DUP8 | DUP9 | DUP10 | DUP11
            | DUP12 | DUP13 | DUP14 | DUP15 | DUP16 => {
                let idx = c.index((ins.opcode - DUP1 as u8) as usize);
                let (from, to) = (c.offset(idx), c.offset(c.vs.len()));
                c.vs.push(c.vs[idx].moved(from, to));
            }
            SWAP1 | SWAP2 | SWAP3 | SWAP4 | SWAP5 | SWAP6 | SWAP7 | SWAP8 | SWAP9 | SWAP10
            | SWAP11 | SWAP12 | SWAP13 | SWAP14 | SWAP15 | SWAP16 => {
                // The deeper index first: modelling it may shift the top's index.
                let deep = c.index((ins.opcode - SWAP1 as u8 + 1) as usize);
                let top = c.index(0);
                let (t, d) = (c.offset(top), c.offset(deep));
                let (a, bw) = (c.vs[top], c.vs[deep]);
                c.vs[top] = bw.moved(d, t);
                c.vs[deep] = a.moved(t, d);
            }
            ADD | SUB if self.add_sub_constant(c, op == ADD) => {}
            ADD if self.small_add(c) || self.add_small_to_word(c) => {}
            ADD => self.commutative(c, |l, a, (bl, bh)| l.wide_add(a, bl, Some(bh))),
            SUB => self.binary(c, |l, a, (bl, bh)| l.wide_sub(a, bl, Some(bh))),
            LT if self.narrow_compare(c, IntCC::UnsignedLessThan) => {}
            GT if self.narrow_compare(c, IntCC::UnsignedGreaterThan) => {}
            SLT if self.narrow_compare(c, IntCC::SignedLessThan) => {}
            SGT if self.narrow_compare(c, IntCC::SignedGreaterThan) => {}
            EQ if self.narrow_compare(c, IntCC::Equal) => {}
            LT if self.compare_constant(c, IntCC::UnsignedLessThan) => {}
            GT if self.compare_constant(c, IntCC::UnsignedGreaterThan) => {}
            EQ if self.compare_constant(c, IntCC::Equal) => {}
            LT => self.compare(c, |l, a, bw| l.less_than(a, bw, false)),
            GT => self.compare(c, |l, a, bw| l.less_than(bw, a, false)),
            SLT => self.compare(c, |l, a, bw| l.less_than(a, bw, true)),
            SGT => self.compare(c, |l, a, bw| l.less_than(bw, a, true)),
            EQ => self.compare(c, |l, (al, ah), (bl, bh)| {
                let e1 = l.b.ins().icmp(IntCC::Equal, al, bl);
                let e2 = l.b.ins().icmp(IntCC::Equal, ah, bh);
                l.b.ins().band(e1, e2)
            }),
            AND | OR if self.bitwise_constant(c, op == AND) => {}
            AND => self.commutative(c, |l, (al, ah), (bl, bh)| {
                (l.b.ins().band(al, bl), l.b.ins().band(ah, bh))
            }),
            OR => self.commutative(c, |l, (al, ah), (bl, bh)| {
                (l.b.ins().bor(al, bl), l.b.ins().bor(ah, bh))
            }),
            XOR => self.commutative(c, |l, (al, ah), (bl, bh)| {
                (l.b.ins().bxor(al, bl), l.b.ins().bxor(ah, bh))
            }),
            ISZERO => {
                let z = self.zero_flag(c, 0, true);
                c.pop(1);
                c.vs.push(Elem::Flag(z));
            }
            CLZ => self.clz(c),
            NOT => {
                let (lo, hi) = self.pop_value(c);
                let w = (self.b.ins().bnot(lo), self.b.ins().bnot(hi));
                self.push_value(c, w);
            }
            PC => c.vs.push(Elem::Const {
                v: U256::from(ins.pc),
                clean: false,
            }),
            GAS => {
                self.sync_gas(c);
                let g = match c.gas {
                    Some(g) => g,
                    None => self.frame_field(offsets::GAS_REMAINING),
                };
                let lo = self.b.ins().uextend(types::I128, g);
                let zero = self.iconst(0);
                let hi = self.b.ins().uextend(types::I128, zero);
                self.push_value(c, (lo, hi));
            }
            JUMPDEST => {}
            // The message's fields, read where the frame holds them (a helper call each was
            // slower than interpreting them: EEST's call-context benchmarks).
            ADDRESS => {
                let w = self.address_word(offsets::MSG_TARGET);
                self.push_value(c, w);
            }
            CALLER => {
                let w = self.address_word(offsets::MSG_CALLER);
                self.push_value(c, w);
            }
            CALLVALUE => {
                let frame = self.frame();
                let w = self.load_word(frame, offsets::MSG_VALUE as i32);
                self.push_value(c, w);
            }
            CODESIZE | CALLDATASIZE | RETURNDATASIZE => {
                let at = match op {
                    CODESIZE => offsets::CODE_LEN,
                    CALLDATASIZE => offsets::INPUT_LEN,
                    _ => offsets::RETURN_DATA_LEN,
                };
                // A buffer's length is below 2^63 (`isize::MAX` bounds allocations): a small
                // word, compared in 64 bits (`lt(calldatasize(), 4)`).
                let v = self.frame_field(at);
                c.push_small(v, 63);
            }
            ORIGIN | GASPRICE | COINBASE | TIMESTAMP | NUMBER | PREVRANDAO | GASLIMIT | CHAINID
            | BASEFEE | BLOBBASEFEE => self.env_word(c, op),
            BLOBHASH => self.blobhash(c),
            SELFBALANCE => self.selfbalance(c),
            MLOAD | MSTORE => {
                // An MLOAD whose word the next instruction pops (memory-touching loops) grows
                // memory and charges for it, but reads nothing (Cranelift keeps dead loads).
                let popped = self.next_op == Some(POP as u8);
                self.memory_op(c, ins, popped)
            }
            STOP => {
                self.halt(c, ExitCode::Stop);
                return true;
            }
            INVALID => {
                self.halt(c, ExitCode::InvalidOpcode);
                return true;
            }
            // JUMP/JUMPI are lowered with the block exit; one that is not last cannot occur.
            JUMP | JUMPI => unreachable!("jumps end blocks"),
            _ => unreachable!("{op:?} is not inlined"),
        }
        false
    }
}
