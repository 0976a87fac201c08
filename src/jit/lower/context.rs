//! The transaction's environment and SELFBALANCE, read in place.
//!
//! The environment is constant during a transaction, so the frame driver converts it once to
//! [`EnvWords`](ferrite_runtime::EnvWords) and compiled code loads ORIGIN, GASPRICE, the block's
//! words and BLOBHASH from there (through the `HostRef` the frame notes) instead of calling
//! `ferrite_exec`, whose dispatch and host call cost more than the opcodes' work (EEST's
//! transaction-context benchmarks ran at half revm's speed compiled). SELFBALANCE loads the
//! frame's cache of it and calls `ferrite_selfbalance` only to fill it (see
//! `Frame::self_balance` for why the cache holds).

use super::stack::Cursor;
use super::Lower;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value};
use ferrite_runtime::builtins::{offsets, Builtin};
use ferrite_runtime::Opcode;

/// Whether compiled code reads `op` from the transaction's [`EnvWords`](ferrite_runtime::EnvWords)
/// (`Lower::env_word`, `Lower::blobhash`): a program with none of these runs without them
/// (`Program::reads_env`).
pub fn reads_env(op: Opcode) -> bool {
    offsets::env_word(op).is_some() || op == Opcode::BLOBHASH
}

impl Lower<'_, '_> {
    /// The address of the transaction's [`EnvWords`](ferrite_runtime::EnvWords).
    fn env_ptr(&mut self) -> Value {
        let host = self.host();
        self.b
            .ins()
            .load(types::I64, self.flags, host, offsets::HOST_ENV as i32)
    }

    /// The word at `base + at` (four little-endian limbs, eight-byte aligned: not `aligned`
    /// for a 16-byte load) as i128 halves: CALLVALUE's, the environment's, SELFBALANCE's.
    pub(super) fn load_word(&mut self, base: Value, at: i32) -> (Value, Value) {
        let f = MemFlagsData::new().with_notrap();
        let lo = self.b.ins().load(types::I128, f, base, at);
        let hi = self.b.ins().load(types::I128, f, base, at + 16);
        (lo, hi)
    }

    /// ORIGIN, GASPRICE, COINBASE, TIMESTAMP, NUMBER, PREVRANDAO, GASLIMIT, CHAINID, BASEFEE,
    /// BLOBBASEFEE.
    pub(super) fn env_word(&mut self, c: &mut Cursor, op: Opcode) {
        let Some(at) = offsets::env_word(op) else {
            unreachable!("{op:?} is not an environment word")
        };
        let env = self.env_ptr();
        let w = self.load_word(env, at as i32);
        self.push_value(c, w);
    }

    /// BLOBHASH: the hash at the index, or zero past the transaction's blobs (read from the
    /// environment's zero word, so that the load needs no branch).
    pub(super) fn blobhash(&mut self, c: &mut Cursor) {
        let [l0, l1, h0, h1] = self.limbs(c, 0);
        c.pop(1);
        let env = self.env_ptr();
        let len = self
            .b
            .ins()
            .load(types::I64, self.flags, env, offsets::ENV_BLOB_LEN as i32);
        let upper = self.b.ins().bor(l1, h0);
        let upper = self.b.ins().bor(upper, h1);
        let small = self.b.ins().icmp_imm_u(IntCC::Equal, upper, 0);
        let below = self.b.ins().icmp(IntCC::UnsignedLessThan, l0, len);
        let ok = self.b.ins().band(small, below);
        let base = self
            .b
            .ins()
            .load(types::I64, self.flags, env, offsets::ENV_BLOB_PTR as i32);
        // The index's address is only loaded from when it is in range.
        let off = self.b.ins().ishl_imm_u(l0, 5);
        let at = self.b.ins().iadd(base, off);
        let zero = self.b.ins().iadd_imm_s(env, offsets::ENV_ZERO as i64);
        let ptr = self.b.ins().select(ok, at, zero);
        let w = self.load_word(ptr, 0);
        self.push_value(c, w);
    }

    /// SELFBALANCE: the frame's cached value, filled by `ferrite_selfbalance` on first use.
    pub(super) fn selfbalance(&mut self, c: &mut Cursor) {
        let known = self.frame_field(offsets::SELF_BALANCE_KNOWN);
        let fill = self.b.create_block();
        let read = self.b.create_block();
        self.b.ins().brif(known, read, &[], fill, &[]);
        self.b.switch_to_block(fill);
        let frame = self.frame();
        let f = self.import(Builtin::ferrite_selfbalance);
        self.call(f, &[frame]);
        self.b.ins().jump(read, &[]);
        self.b.switch_to_block(read);
        let frame = self.frame();
        let w = self.load_word(frame, offsets::SELF_BALANCE as i32);
        self.push_value(c, w);
    }
}
