//! Lowering: one analysed program → one Cranelift function.
//!
//! Signature: `extern "C" fn(frame: *mut Frame, host: *mut HostRef) -> u8` (an [`ExitCode`]).
//! The frame is the single source of truth (stack buffer, `stack.len`, `gas.remaining`, `pc`), so
//! at any block boundary compiled code can hand the frame to the interpreter.
//!
//! Per block: load the stack length once and address every stack slot as `top + constant`
//! (the block's stack effect is known statically, helpers included); check the block's stack
//! bounds once, handing over to the interpreter if they fail (it then reproduces the exact halt);
//! charge static gas lazily at *sync points* (before a helper, GAS, and at block end), so helpers
//! see exactly the gas the interpreter would and an out-of-gas happens at the same instruction.
//!
//! Inlined: PUSH*, POP, DUP*, SWAP*, ADD, SUB, LT, GT, EQ, ISZERO, AND, OR, XOR, NOT, PC, GAS,
//! JUMPDEST, STOP, INVALID, and JUMP/JUMPI (static ones as direct branches, dynamic ones through
//! one shared `Switch` over the JUMPDEST blocks). Everything else calls `ferrite_exec`, the
//! runtime's instruction body. 256-bit add/sub use two i128 halves with an `icmp ult` carry,
//! which compiles in linear time (four i64 limbs with compare carries did not).

use crate::analysis::{Analysis, Exit};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, Block, FuncRef, Function, InstBuilder, MemFlagsData, Value};
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Switch};
use ferrite_runtime::builtins::offsets;
use ferrite_runtime::opcode::{static_gas_table, OPCODE_INFO};
use ferrite_runtime::{ExitCode, Opcode, STACK_LIMIT};

/// The helpers a lowered function calls.
#[derive(Clone, Copy, Debug)]
pub struct Imports {
    /// `ferrite_exec(frame, host, opcode) -> u8`.
    pub exec: FuncRef,
    /// `ferrite_stack_base(frame) -> *mut U256`.
    pub stack_base: FuncRef,
    /// `ferrite_jump_fallback(frame, dest) -> u8`.
    pub jump_fallback: FuncRef,
    /// `ferrite_pure(top_slot, opcode)`.
    pub pure: FuncRef,
}

const WORD: i32 = 32;

struct Lower<'a, 'b> {
    b: FunctionBuilder<'b>,
    a: &'a Analysis,
    imports: Imports,
    frame: Value,
    host: Value,
    base: Value,
    blocks: Vec<Block>,
    dispatch: Option<Block>,
    flags: MemFlagsData,
}

/// Per-block lowering state: the entry length, the current stack offset relative to it, and the
/// static gas not yet charged.
struct Cursor {
    top: Value,
    len0: Value,
    delta: i32,
    pending_gas: u64,
}

impl Cursor {
    fn slot(&self, i: i32) -> i32 {
        (self.delta - 1 - i) * WORD
    }
}

/// Builds the body of `func` for `analysis`.
pub fn lower(
    analysis: &Analysis,
    func: &mut Function,
    imports: Imports,
    config: TargetFrontendConfig,
) {
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(func, &mut fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let frame = b.block_params(entry)[0];
    let host = b.block_params(entry)[1];
    let call = b.ins().call(imports.stack_base, &[frame]);
    let base = b.inst_results(call)[0];
    let blocks: Vec<Block> = analysis.blocks.iter().map(|_| b.create_block()).collect();
    let needs_dispatch = analysis
        .blocks
        .iter()
        .any(|bl| matches!(bl.exit, Exit::DynamicJump | Exit::DynamicJumpI(_)));
    let dispatch = needs_dispatch.then(|| {
        let d = b.create_block();
        b.append_block_param(d, types::I64);
        d
    });
    let mut l = Lower {
        b,
        a: analysis,
        imports,
        frame,
        host,
        base,
        blocks,
        dispatch,
        flags: MemFlagsData::trusted(),
    };
    l.entry_switch();
    for i in 0..analysis.blocks.len() {
        l.block(i);
    }
    l.finish(config);
}

impl Lower<'_, '_> {
    fn iconst(&mut self, v: i64) -> Value {
        self.b.ins().iconst(types::I64, v)
    }

    /// Returns `code`. Every exit returns directly: one shared exit block would gather a phi
    /// with an input per exit edge, which made register allocation superlinear.
    fn ret_code(&mut self, code: ExitCode) {
        let c = self.b.ins().iconst(types::I8, code as i64);
        self.b.ins().return_(&[c]);
    }

    /// Entry: resume at `frame.pc` (0 or after a suspended call); anything else → interpreter.
    fn entry_switch(&mut self) {
        let pc = self
            .b
            .ins()
            .load(types::I64, self.flags, self.frame, offsets::PC as i32);
        let fallback = self.b.create_block();
        let mut sw = Switch::new();
        for (i, bl) in self.a.blocks.iter().enumerate() {
            if bl.start == 0 || bl.is_resume_point {
                sw.set_entry(bl.start as u128, self.blocks[i]);
            }
        }
        sw.emit(&mut self.b, pc, fallback);
        self.b.switch_to_block(fallback);
        self.ret_code(ExitCode::Interpret);
    }

    fn store_len(&mut self, c: &Cursor) {
        let d = self.iconst(c.delta as i64);
        let len = self.b.ins().iadd(c.len0, d);
        self.b
            .ins()
            .store(self.flags, len, self.frame, offsets::STACK_LEN as i32);
    }

    /// Charges the static gas accumulated since the last sync; out of gas → exit.
    fn sync_gas(&mut self, c: &mut Cursor) {
        if c.pending_gas == 0 {
            return;
        }
        let off = offsets::GAS_REMAINING as i32;
        let gas = self.b.ins().load(types::I64, self.flags, self.frame, off);
        let cost = self.iconst(c.pending_gas as i64);
        let short = self.b.ins().icmp(IntCC::UnsignedLessThan, gas, cost);
        let ok = self.b.create_block();
        let oog = self.b.create_block();
        self.b.ins().brif(short, oog, &[], ok, &[]);
        self.b.switch_to_block(oog);
        self.ret_code(ExitCode::OutOfGas);
        self.b.switch_to_block(ok);
        let left = self.b.ins().isub(gas, cost);
        self.b.ins().store(self.flags, left, self.frame, off);
        c.pending_gas = 0;
    }

    fn load_word(&mut self, c: &Cursor, i: i32) -> (Value, Value) {
        let off = c.slot(i);
        let lo = self.b.ins().load(types::I128, self.flags, c.top, off);
        let hi = self.b.ins().load(types::I128, self.flags, c.top, off + 16);
        (lo, hi)
    }

    fn store_word(&mut self, c: &Cursor, i: i32, (lo, hi): (Value, Value)) {
        let off = c.slot(i);
        self.b.ins().store(self.flags, lo, c.top, off);
        self.b.ins().store(self.flags, hi, c.top, off + 16);
    }

    /// Stores a 0/1 flag (i8) as a word in slot `i`.
    fn store_bool(&mut self, c: &Cursor, i: i32, flag: Value) {
        let lo = self.b.ins().uextend(types::I128, flag);
        let zero = self.b.ins().iconst(types::I64, 0);
        let hi = self.b.ins().uextend(types::I128, zero);
        self.store_word(c, i, (lo, hi));
    }

    /// Pushes a constant word.
    fn push_const(&mut self, c: &mut Cursor, v: &ferrite_runtime::U256) {
        c.delta += 1;
        let off = c.slot(0);
        for (k, limb) in v.as_limbs().iter().enumerate() {
            let x = self.iconst(*limb as i64);
            self.b.ins().store(self.flags, x, c.top, off + 8 * k as i32);
        }
    }

    /// A value is non-zero (i8 flag).
    fn nonzero(&mut self, (lo, hi): (Value, Value)) -> Value {
        let x = self.b.ins().bor(lo, hi);
        self.b.ins().icmp_imm_u(IntCC::NotEqual, x, 0)
    }

    fn binary(
        &mut self,
        c: &mut Cursor,
        f: impl FnOnce(&mut Self, (Value, Value), (Value, Value)) -> Result<(Value, Value), Value>,
    ) {
        let a = self.load_word(c, 0);
        let bw = self.load_word(c, 1);
        match f(self, a, bw) {
            Ok(w) => self.store_word(c, 1, w),
            Err(flag) => self.store_bool(c, 1, flag),
        }
        c.delta -= 1;
    }

    fn block(&mut self, i: usize) {
        let bl = &self.a.blocks[i];
        self.b.switch_to_block(self.blocks[i]);
        let len0 = self.b.ins().load(
            types::I64,
            self.flags,
            self.frame,
            offsets::STACK_LEN as i32,
        );
        // Stack bounds once per block; on failure the interpreter reproduces the exact halt.
        let bad = if bl.min_stack == 0 && bl.max_growth == 0 {
            None
        } else if bl.max_growth > STACK_LIMIT || bl.min_stack > STACK_LIMIT {
            // The block cannot run without a stack error: always let the interpreter halt it.
            Some(self.b.ins().iconst(types::I8, 1))
        } else {
            let low = self
                .b
                .ins()
                .icmp_imm_u(IntCC::UnsignedLessThan, len0, bl.min_stack as i64);
            let high = self.b.ins().icmp_imm_u(
                IntCC::UnsignedGreaterThan,
                len0,
                (STACK_LIMIT - bl.max_growth) as i64,
            );
            Some(self.b.ins().bor(low, high))
        };
        if let Some(bad) = bad {
            let body = self.b.create_block();
            let deopt = self.b.create_block();
            self.b.ins().brif(bad, deopt, &[], body, &[]);
            self.b.switch_to_block(deopt);
            let pc = self.iconst(bl.start as i64);
            self.b
                .ins()
                .store(self.flags, pc, self.frame, offsets::PC as i32);
            self.ret_code(ExitCode::Interpret);
            self.b.switch_to_block(body);
        }
        let shifted = self.b.ins().ishl_imm_u(len0, 5);
        let top = self.b.ins().iadd(self.base, shifted);
        let mut c = Cursor {
            top,
            len0,
            delta: 0,
            pending_gas: 0,
        };
        let gas_table = static_gas_table(self.a.spec);
        let range = bl.instrs.clone();
        let n = range.len();
        let exit = bl.exit.clone();
        for (k, idx) in range.enumerate() {
            let ins = self.a.instrs[idx].clone();
            let is_last = k + 1 == n;
            let info = &OPCODE_INFO[ins.opcode as usize];
            if !info.enabled_in(self.a.spec) {
                self.sync_gas(&mut c);
                self.store_len(&c);
                self.ret_code(ExitCode::InvalidOpcode);
                return;
            }
            c.pending_gas += gas_table[ins.opcode as usize] as u64;
            if is_last && matches!(ins.opcode, 0x56 | 0x57) {
                break; // JUMP/JUMPI: lowered with the block exit below.
            }
            let Some(op) = Opcode::from_u8(ins.opcode) else {
                unreachable!("enabled opcodes are defined")
            };
            if self.instr(&mut c, op, &ins) {
                return; // the instruction ended the block (terminator or suspension)
            }
        }
        self.sync_gas(&mut c);
        self.block_exit(&mut c, &exit);
    }

    /// Lowers one instruction; true when it ended control flow.
    fn instr(&mut self, c: &mut Cursor, op: Opcode, ins: &crate::analysis::Instr) -> bool {
        use Opcode::*;
        match op {
            PUSH0 | PUSH1 | PUSH2 | PUSH3 | PUSH4 | PUSH5 | PUSH6 | PUSH7 | PUSH8 | PUSH9
            | PUSH10 | PUSH11 | PUSH12 | PUSH13 | PUSH14 | PUSH15 | PUSH16 | PUSH17 | PUSH18
            | PUSH19 | PUSH20 | PUSH21 | PUSH22 | PUSH23 | PUSH24 | PUSH25 | PUSH26 | PUSH27
            | PUSH28 | PUSH29 | PUSH30 | PUSH31 | PUSH32 => self.push_const(c, &ins.imm),
            POP => c.delta -= 1,
            DUP1 | DUP2 | DUP3 | DUP4 | DUP5 | DUP6 | DUP7 | DUP8 | DUP9 | DUP10 | DUP11
            | DUP12 | DUP13 | DUP14 | DUP15 | DUP16 => {
                let n = (ins.opcode - DUP1 as u8) as i32;
                let w = self.load_word(c, n);
                c.delta += 1;
                self.store_word(c, 0, w);
            }
            SWAP1 | SWAP2 | SWAP3 | SWAP4 | SWAP5 | SWAP6 | SWAP7 | SWAP8 | SWAP9 | SWAP10
            | SWAP11 | SWAP12 | SWAP13 | SWAP14 | SWAP15 | SWAP16 => {
                let n = (ins.opcode - SWAP1 as u8 + 1) as i32;
                let a = self.load_word(c, 0);
                let bw = self.load_word(c, n);
                self.store_word(c, 0, bw);
                self.store_word(c, n, a);
            }
            ADD => self.binary(c, |l, (al, ah), (bl, bh)| {
                let lo = l.b.ins().iadd(al, bl);
                let carry = l.b.ins().icmp(IntCC::UnsignedLessThan, lo, al);
                let carry = l.b.ins().uextend(types::I128, carry);
                let hi = l.b.ins().iadd(ah, bh);
                Ok((lo, l.b.ins().iadd(hi, carry)))
            }),
            SUB => self.binary(c, |l, (al, ah), (bl, bh)| {
                let lo = l.b.ins().isub(al, bl);
                let borrow = l.b.ins().icmp(IntCC::UnsignedLessThan, al, bl);
                let borrow = l.b.ins().uextend(types::I128, borrow);
                let hi = l.b.ins().isub(ah, bh);
                Ok((lo, l.b.ins().isub(hi, borrow)))
            }),
            LT | GT => {
                let (x, y) = if op == LT { (0, 1) } else { (1, 0) };
                let wx = self.load_word(c, x);
                let wy = self.load_word(c, y);
                let hi_lt = self.b.ins().icmp(IntCC::UnsignedLessThan, wx.1, wy.1);
                let hi_eq = self.b.ins().icmp(IntCC::Equal, wx.1, wy.1);
                let lo_lt = self.b.ins().icmp(IntCC::UnsignedLessThan, wx.0, wy.0);
                let t = self.b.ins().band(hi_eq, lo_lt);
                let r = self.b.ins().bor(hi_lt, t);
                self.store_bool(c, 1, r);
                c.delta -= 1;
            }
            EQ => self.binary(c, |l, (al, ah), (bl, bh)| {
                let e1 = l.b.ins().icmp(IntCC::Equal, al, bl);
                let e2 = l.b.ins().icmp(IntCC::Equal, ah, bh);
                Err(l.b.ins().band(e1, e2))
            }),
            AND => self.binary(c, |l, (al, ah), (bl, bh)| {
                Ok((l.b.ins().band(al, bl), l.b.ins().band(ah, bh)))
            }),
            OR => self.binary(c, |l, (al, ah), (bl, bh)| {
                Ok((l.b.ins().bor(al, bl), l.b.ins().bor(ah, bh)))
            }),
            XOR => self.binary(c, |l, (al, ah), (bl, bh)| {
                Ok((l.b.ins().bxor(al, bl), l.b.ins().bxor(ah, bh)))
            }),
            ISZERO => {
                let w = self.load_word(c, 0);
                let nz = self.nonzero(w);
                let z = self.b.ins().bxor_imm_u(nz, 1);
                self.store_bool(c, 0, z);
            }
            NOT => {
                let (lo, hi) = self.load_word(c, 0);
                let w = (self.b.ins().bnot(lo), self.b.ins().bnot(hi));
                self.store_word(c, 0, w);
            }
            PC => self.push_const(c, &ferrite_runtime::U256::from(ins.pc)),
            GAS => {
                self.sync_gas(c);
                let g = self.b.ins().load(
                    types::I64,
                    self.flags,
                    self.frame,
                    offsets::GAS_REMAINING as i32,
                );
                c.delta += 1;
                let off = c.slot(0);
                self.b.ins().store(self.flags, g, c.top, off);
                let z = self.iconst(0);
                for k in 1..4 {
                    self.b.ins().store(self.flags, z, c.top, off + 8 * k);
                }
            }
            JUMPDEST => {}
            MLOAD | MSTORE => self.memory_op(c, ins),
            STOP => {
                self.sync_gas(c);
                self.store_len(c);
                self.ret_code(ExitCode::Stop);
                return true;
            }
            INVALID => {
                self.sync_gas(c);
                self.store_len(c);
                self.ret_code(ExitCode::InvalidOpcode);
                return true;
            }
            // JUMP/JUMPI are lowered with the block exit; one that is not last cannot occur.
            JUMP | JUMPI => unreachable!("jumps end blocks"),
            MUL | DIV | SDIV | MOD | SMOD | ADDMOD | MULMOD | SIGNEXTEND | SLT | SGT | BYTE
            | SHL | SHR | SAR | CLZ => {
                // State-free: operands in place, no gas/len/pc flush needed.
                let off = c.slot(0);
                let ptr = self.b.ins().iadd_imm_s(c.top, off as i64);
                let opv = self.b.ins().iconst(types::I32, ins.opcode as i64);
                self.b.ins().call(self.imports.pure, &[ptr, opv]);
                c.delta += OPCODE_INFO[ins.opcode as usize].stack_delta();
            }
            EXP | KECCAK256 | ADDRESS | BALANCE | ORIGIN | CALLER | CALLVALUE | CALLDATALOAD
            | CALLDATASIZE | CALLDATACOPY | CODESIZE | CODECOPY | GASPRICE | EXTCODESIZE
            | EXTCODECOPY | RETURNDATASIZE | RETURNDATACOPY | EXTCODEHASH | BLOCKHASH
            | COINBASE | TIMESTAMP | NUMBER | PREVRANDAO | GASLIMIT | CHAINID | SELFBALANCE
            | BASEFEE | BLOBHASH | BLOBBASEFEE | MSTORE8 | SLOAD | SSTORE | MSIZE | TLOAD
            | TSTORE | MCOPY | LOG0 | LOG1 | LOG2 | LOG3 | LOG4 | CREATE | CALL | CALLCODE
            | RETURN | DELEGATECALL | CREATE2 | STATICCALL | REVERT | SELFDESTRUCT => {
                return self.helper(c, ins)
            }
        }
        false
    }

    /// Calls the runtime's body of the instruction; true when control ends here.
    fn helper(&mut self, c: &mut Cursor, ins: &crate::analysis::Instr) -> bool {
        let info = &OPCODE_INFO[ins.opcode as usize];
        self.sync_gas(c);
        let ends = info.has(ferrite_runtime::opcode::flags::TERMINATOR)
            || info.has(ferrite_runtime::opcode::flags::SUSPENDS);
        let r = self.exec_call(c, ins);
        if ends {
            self.b.ins().return_(&[r]);
            return true;
        }
        self.continue_unless_exit(r);
        c.delta += info.stack_delta();
        false
    }

    /// Flushes the stack length and pc and calls `ferrite_exec` (gas must be synced).
    fn exec_call(&mut self, c: &Cursor, ins: &crate::analysis::Instr) -> Value {
        self.store_len(c);
        let pc = self.iconst(ins.pc as i64 + 1);
        self.b
            .ins()
            .store(self.flags, pc, self.frame, offsets::PC as i32);
        let opv = self.b.ins().iconst(types::I32, ins.opcode as i64);
        let call = self
            .b
            .ins()
            .call(self.imports.exec, &[self.frame, self.host, opv]);
        self.b.inst_results(call)[0]
    }

    /// Returns `r` if it is not `Continue`; otherwise goes on in a new block.
    fn continue_unless_exit(&mut self, r: Value) {
        let cont = self.b.create_block();
        let out = self.b.create_block();
        self.b.ins().brif(r, out, &[], cont, &[]);
        self.b.switch_to_block(out);
        self.b.ins().return_(&[r]);
        self.b.switch_to_block(cont);
    }

    /// The address of the memory word whose offset is in stack slot `i` when it lies within the
    /// current memory (no expansion, no gas); otherwise branches to `slow`.
    fn memory_word(&mut self, c: &Cursor, i: i32, slow: Block) -> Value {
        let off = c.slot(i);
        let limbs: Vec<Value> = (0..4)
            .map(|k| {
                self.b
                    .ins()
                    .load(types::I64, self.flags, c.top, off + 8 * k)
            })
            .collect();
        let upper = self.b.ins().bor(limbs[1], limbs[2]);
        let upper = self.b.ins().bor(upper, limbs[3]);
        let size = self
            .b
            .ins()
            .load(types::I64, self.flags, self.frame, offsets::MEM_SIZE as i32);
        let big_enough = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, size, 32);
        let last = self.b.ins().iadd_imm_s(size, -32);
        let in_range = self
            .b
            .ins()
            .icmp(IntCC::UnsignedLessThanOrEqual, limbs[0], last);
        let small = self.b.ins().icmp_imm_u(IntCC::Equal, upper, 0);
        let ok = self.b.ins().band(big_enough, in_range);
        let ok = self.b.ins().band(ok, small);
        let fast = self.b.create_block();
        self.b.ins().brif(ok, fast, &[], slow, &[]);
        self.b.switch_to_block(fast);
        let base = self
            .b
            .ins()
            .load(types::I64, self.flags, self.frame, offsets::MEM_BASE as i32);
        self.b.ins().iadd(base, limbs[0])
    }

    /// MLOAD/MSTORE: inline when memory needs no expansion, else the runtime body.
    fn memory_op(&mut self, c: &mut Cursor, ins: &crate::analysis::Instr) {
        // Charge static gas up to here on both paths (the slow path's body needs it synced).
        self.sync_gas(c);
        let slow = self.b.create_block();
        let join = self.b.create_block();
        let addr = self.memory_word(c, 0, slow);
        // Memory is big-endian; stack words are little-endian limbs.
        if ins.opcode == Opcode::MLOAD as u8 {
            let off = c.slot(0);
            for k in 0..4 {
                let v = self.b.ins().load(types::I64, self.flags, addr, 8 * (3 - k));
                let v = self.b.ins().bswap(v);
                self.b.ins().store(self.flags, v, c.top, off + 8 * k);
            }
        } else {
            let off = c.slot(1);
            for k in 0..4 {
                let v = self
                    .b
                    .ins()
                    .load(types::I64, self.flags, c.top, off + 8 * k);
                let v = self.b.ins().bswap(v);
                self.b.ins().store(self.flags, v, addr, 8 * (3 - k));
            }
        }
        self.b.ins().jump(join, &[]);
        self.b.switch_to_block(slow);
        let r = self.exec_call(c, ins);
        self.continue_unless_exit(r);
        self.b.ins().jump(join, &[]);
        self.b.switch_to_block(join);
        c.delta += OPCODE_INFO[ins.opcode as usize].stack_delta();
    }

    /// Pops a jump destination; jumps to the dispatch (or InvalidJump if it exceeds 64 bits).
    fn dynamic_jump(&mut self, dest: (Value, Value)) {
        let Some(dispatch) = self.dispatch else {
            unreachable!("dispatch exists when a dynamic jump does")
        };
        let (lo, hi) = dest;
        let (l0, l1) = self.b.ins().isplit(lo);
        let (h0, h1) = self.b.ins().isplit(hi);
        let upper = self.b.ins().bor(l1, h0);
        let upper = self.b.ins().bor(upper, h1);
        let bad = self.b.create_block();
        self.b.ins().brif(upper, bad, &[], dispatch, &[l0.into()]);
        self.b.switch_to_block(bad);
        self.ret_code(ExitCode::InvalidJump);
    }

    fn goto_pc(&mut self, pc: usize) {
        match self.a.block_at(pc) {
            Some(t) => {
                self.b.ins().jump(self.blocks[t], &[]);
            }
            None => self.ret_code(ExitCode::Stop),
        }
    }

    fn block_exit(&mut self, c: &mut Cursor, exit: &Exit) {
        match exit {
            Exit::Fallthrough(pc) => {
                self.store_len(c);
                self.goto_pc(*pc);
            }
            Exit::Terminate => {
                // The code ran out: implicit STOP.
                self.store_len(c);
                self.ret_code(ExitCode::Stop);
            }
            Exit::StaticJump(t) => {
                c.delta -= 1;
                self.store_len(c);
                match t {
                    Some(t) => {
                        self.b.ins().jump(self.blocks[*t], &[]);
                    }
                    None => self.ret_code(ExitCode::InvalidJump),
                }
            }
            Exit::DynamicJump => {
                let dest = self.load_word(c, 0);
                c.delta -= 1;
                self.store_len(c);
                self.dynamic_jump(dest);
            }
            Exit::StaticJumpI(_, f) | Exit::DynamicJumpI(f) => {
                let dest = self.load_word(c, 0);
                let cond = self.load_word(c, 1);
                c.delta -= 2;
                self.store_len(c);
                let taken = self.nonzero(cond);
                let yes = self.b.create_block();
                let no = self.b.create_block();
                self.b.ins().brif(taken, yes, &[], no, &[]);
                self.b.switch_to_block(no);
                self.goto_pc(*f);
                self.b.switch_to_block(yes);
                match exit {
                    Exit::StaticJumpI(Some(t), _) => {
                        self.b.ins().jump(self.blocks[*t], &[]);
                    }
                    Exit::StaticJumpI(None, _) => self.ret_code(ExitCode::InvalidJump),
                    _ => self.dynamic_jump(dest),
                }
            }
        }
    }

    fn finish(mut self, config: TargetFrontendConfig) {
        if let Some(d) = self.dispatch {
            self.b.switch_to_block(d);
            let dest = self.b.block_params(d)[0];
            let invalid = self.b.create_block();
            let mut sw = Switch::new();
            for bi in &self.a.dynamic_targets {
                sw.set_entry(self.a.blocks[*bi].start as u128, self.blocks[*bi]);
            }
            sw.emit(&mut self.b, dest, invalid);
            // Any other destination: validated at run time; valid ones continue interpreted.
            self.b.switch_to_block(invalid);
            let call = self
                .b
                .ins()
                .call(self.imports.jump_fallback, &[self.frame, dest]);
            let r = self.b.inst_results(call)[0];
            self.b.ins().return_(&[r]);
        }
        self.b.seal_all_blocks();
        self.b.finalize(config);
    }
}
