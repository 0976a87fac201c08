//! A seeded generator of EVM programs that run deep rather than fail at once.
//!
//! A program is a sequence of *snippets* (an operation with its operands, a bounded loop, a
//! guarded block, a call, a create, …). The generator tracks the stack height so operands exist,
//! prefers values already on the stack, draws constants from edge cases, keeps memory offsets
//! small (sometimes huge), and only emits opcodes enabled in the fork
//! (`OPCODE_INFO[b].enabled_in(spec)`). Snippets: pushes of edge constants, arithmetic/bitwise/
//! comparison ops, DUP/SWAP/POP, MLOAD/MSTORE/MSTORE8/MCOPY/MSIZE, KECCAK256, CALLDATA*, CODE*/
//! EXTCODE*, RETURNDATA*, SLOAD/SSTORE/TLOAD/TSTORE, LOG0–4, environment ops, counted loops
//! (counter on the stack or in memory, JUMPI back to a JUMPDEST), forward jumps and JUMPI-guarded
//! blocks, CALL/CALLCODE/DELEGATECALL/STATICCALL into the callee, precompiles (with well-formed
//! inputs for ecrecover, modexp, bn254, blake2f), EOAs, empty and EIP-7702-delegated
//! accounts and (with little gas) back into `TARGET`, CREATE/CREATE2 of small initcodes
//! (deploying, reverting, 0xEF-prefixed, oversized, …), RETURN/REVERT/STOP/SELFDESTRUCT.
//!
//! A per-program *chaos* rate (0 for 40% of programs) adds snippets meant to fail, which break
//! the fork gating on purpose: invalid jumps, undefined or not-yet-enabled opcodes, stack
//! under/overflow, huge memory, out-of-bounds RETURNDATACOPY, raw random bytes (never JUMP/JUMPI,
//! so random code cannot spin until 10^9 gas are burnt). Programs end by exposing their state:
//! the stack dumped to memory and returned, or to storage, or a REVERT/STOP/SELFDESTRUCT.
//!
//! [`case`] builds a whole [`CallConfig`]: the main program at `TARGET`, a second generated
//! contract at [`CALLEE`] (which never calls itself directly), a funded EOA, in Prague+ four
//! EIP-7702-delegated accounts (to the callee, to another designator, to a precompile, to
//! nothing), pre-set storage, a gas limit (10^7 mostly; 10^9 only for chaos-free cases; 10^6;
//! or 5,000–300,000) and a call value. Everything is a pure function of the seed.

use ferrite::runtime::opcode::op;
use ferrite::runtime::{Address, SpecId, OPCODE_INFO, U256};
use ferrite_state::call::{CallConfig, CALLER, TARGET};
use ferrite_state::state::Account;

use super::unhex;

/// The second generated contract, called by the main program.
pub const CALLEE: Address = Address::new([0xdd; 20]);
/// A funded externally owned account.
pub const EOA: Address = Address::new([0xee; 20]);
/// Prague+: an account whose code is the EIP-7702 designator `0xef0100 ‖ CALLEE`.
pub const DELEGATED: Address = Address::new([0x77; 20]);
/// Prague+: `0xef0100 ‖ DELEGATED` (a designator pointing at a designator: not followed twice).
pub const DELEGATED_CHAIN: Address = Address::new([
    0x77, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
]);
/// Prague+: `0xef0100 ‖ 0x…01` (delegation to a precompile runs empty code).
pub const DELEGATED_PRECOMPILE: Address = Address::new([
    0x77, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
]);
/// Prague+: `0xef0100 ‖ NOBODY` (delegation to an account that does not exist).
pub const DELEGATED_EMPTY: Address = Address::new([
    0x77, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03,
]);
/// An address that holds no account.
pub const NOBODY: Address = Address::new([
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xde, 0xad,
]);

/// SplitMix64: tiny, fast, and good enough for test-case generation.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    /// A uniformly chosen element.
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    /// A uniformly random 256-bit word.
    pub fn word(&mut self) -> U256 {
        U256::from_limbs([
            self.next_u64(),
            self.next_u64(),
            self.next_u64(),
            self.next_u64(),
        ])
    }
}

/// Seed of case `index` of a run seeded with `seed` for `spec` (independent streams per fork).
pub fn case_seed(seed: u64, spec: SpecId, index: u64) -> u64 {
    let mut r = Rng::new(seed ^ ((spec as u64) << 56) ^ index.wrapping_mul(0x2545_f491_4f6c_dd1d));
    r.next_u64()
}

/// Code under construction with forward labels for PUSH2 jump targets.
#[derive(Default)]
struct Asm {
    code: Vec<u8>,
    labels: Vec<Option<usize>>,
    fixups: Vec<(usize, usize)>,
}

impl Asm {
    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }

    fn bind(&mut self, l: usize) {
        self.labels[l] = Some(self.code.len());
    }

    /// `PUSH2 <label>`.
    fn push_label(&mut self, l: usize) {
        self.code.push(op::PUSH2);
        self.fixups.push((self.code.len(), l));
        self.code.extend([0, 0]);
    }

    fn finish(mut self) -> Vec<u8> {
        for (at, l) in std::mem::take(&mut self.fixups) {
            let target = self.labels[l].expect("label bound") as u16;
            self.code[at..at + 2].copy_from_slice(&target.to_be_bytes());
        }
        self.code
    }
}

/// Which contract is being generated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The called program at `TARGET`.
    Main,
    /// The program at [`CALLEE`] (never calls `CALLEE` or `TARGET`, so no recursion).
    Callee,
}

struct Gen<'r> {
    rng: &'r mut Rng,
    spec: SpecId,
    role: Role,
    asm: Asm,
    /// Stack height as far as the generator knows.
    h: usize,
    /// Items below this height belong to an enclosing construct (loop counter); never consume.
    floor: usize,
    /// Inside a loop body or a guarded block: no calls, creates, loops, terminators or chaos.
    nested: bool,
    /// Per-mille chance that a snippet is one meant to fail.
    chaos: u64,
    /// Stack height above which items are popped or stored away.
    max_stack: usize,
}

const EDGE: [u64; 16] = [
    0, 1, 2, 3, 7, 8, 31, 32, 33, 63, 64, 127, 128, 255, 256, 257,
];

impl Gen<'_> {
    fn enabled(&self, b: u8) -> bool {
        OPCODE_INFO[b as usize].enabled_in(self.spec)
    }

    fn avail(&self) -> usize {
        self.h.saturating_sub(self.floor)
    }

    /// Emits an opcode and updates the stack height (false when not enabled in the fork).
    fn op(&mut self, b: u8) -> bool {
        if !self.enabled(b) {
            return false;
        }
        let info = &OPCODE_INFO[b as usize];
        self.asm.code.push(b);
        self.h = self.h.saturating_sub(info.inputs as usize) + info.outputs as usize;
        true
    }

    /// Pushes a constant with the shortest PUSH (PUSH0 for zero when enabled), sometimes wider.
    fn push(&mut self, v: U256) {
        if v.is_zero() && self.enabled(op::PUSH0) && self.rng.chance(1, 2) {
            self.asm.code.push(op::PUSH0);
        } else {
            let mut n = v.byte_len().max(1);
            if self.rng.chance(1, 10) {
                n = self.rng.range(n as u64, 32) as usize;
            }
            self.asm.code.push(op::PUSH1 + n as u8 - 1);
            self.asm
                .code
                .extend_from_slice(&v.to_be_bytes::<32>()[32 - n..]);
        }
        self.h += 1;
    }

    fn push_u64(&mut self, v: u64) {
        self.push(U256::from(v));
    }

    /// An interesting constant.
    fn value(&mut self) -> U256 {
        match self.rng.below(20) {
            0..=6 => U256::from(self.rng.below(33)),
            7..=10 => U256::from(self.rng.pick(&EDGE)),
            11 => self.rng.word(),
            12 => {
                let n = self.rng.range(1, 32) as usize;
                U256::from_be_slice(&self.rng.bytes(n))
            }
            13 => self.addr(),
            14 => U256::MAX - U256::from(self.rng.below(3)),
            15 => {
                let k = self.rng.below(256) as usize;
                let p = U256::from(1u8) << k;
                match self.rng.below(3) {
                    0 => p,
                    1 => p.wrapping_sub(U256::from(1u8)),
                    _ => p.wrapping_add(U256::from(1u8)),
                }
            }
            16 => U256::from(u64::MAX) + U256::from(self.rng.below(2)),
            _ => U256::from(self.rng.below(1 << 16)),
        }
    }

    /// An address-like word: known accounts, precompiles, random, or with dirty upper bits.
    fn addr(&mut self) -> U256 {
        let a = match self.rng.below(12) {
            0 => TARGET,
            1 => CALLER,
            2 | 3 => CALLEE,
            4 => EOA,
            5 => NOBODY,
            6 if self.spec.is_enabled_in(SpecId::Prague) => self.rng.pick(&[
                DELEGATED,
                DELEGATED_CHAIN,
                DELEGATED_PRECOMPILE,
                DELEGATED_EMPTY,
            ]),
            7 => Address::with_last_byte(self.rng.range(1, 10) as u8),
            8 => Address::ZERO,
            9 => {
                let mut w = self.rng.word();
                w |= U256::from_be_slice(CALLEE.as_slice());
                return w;
            }
            _ => Address::from_slice(&self.rng.bytes(20)),
        };
        U256::from_be_slice(a.as_slice())
    }

    /// A SELFDESTRUCT beneficiary: any [`Gen::addr`] but `CALLER`. ferrite's call setup gives
    /// `CALLER` a balance of 2^256−1, so value sent to it overflows: revm wraps the balance,
    /// ferrite saturates. Neither can happen on a real chain; the generator avoids it.
    fn beneficiary(&mut self) -> U256 {
        let a = self.addr();
        if a == U256::from_be_slice(CALLER.as_slice()) {
            U256::from_be_slice(EOA.as_slice())
        } else {
            a
        }
    }

    fn chaos(&mut self) -> bool {
        !self.nested && self.rng.below(1000) < self.chaos
    }

    /// A memory offset: mostly small, sometimes large, rarely (chaos) huge.
    fn mem_off(&mut self) -> U256 {
        if self.nested {
            // Stays clear of the loop counters at 0x400..0x480.
            return U256::from(self.rng.below(0x300));
        }
        match self.rng.below(100) {
            0..=69 => U256::from(self.rng.below(256)),
            70..=84 => U256::from(self.rng.below(32) * 32),
            85..=96 => U256::from(self.rng.below(0x1_0000)),
            97 | 98 => U256::from(self.rng.below(0x10_0000)),
            _ if self.chaos() => self.huge(),
            _ => U256::from(self.rng.below(64)),
        }
    }

    /// A length: mostly short, sometimes zero or longer, rarely (chaos) huge.
    fn mem_len(&mut self) -> U256 {
        if self.nested {
            return U256::from(self.rng.below(65));
        }
        match self.rng.below(100) {
            0..=9 => U256::ZERO,
            10..=79 => U256::from(self.rng.below(65)),
            80..=97 => U256::from(self.rng.below(1200)),
            _ if self.chaos() => self.huge(),
            _ => U256::from(self.rng.below(0x8000)),
        }
    }

    fn huge(&mut self) -> U256 {
        match self.rng.below(6) {
            0 => U256::from(u32::MAX),
            1 => U256::from(1u64 << 32),
            2 => U256::from(u64::MAX),
            3 => U256::from(1u8) << 255,
            4 => U256::MAX,
            _ => U256::from(0x0100_0000u64 + self.rng.below(0x100_0000)),
        }
    }

    fn storage_key(&mut self) -> U256 {
        match self.rng.below(10) {
            0..=6 => U256::from(self.rng.below(6)),
            7 | 8 => U256::from(0x100 + self.rng.below(4)),
            _ => self.rng.word(),
        }
    }

    fn storage_value(&mut self) -> U256 {
        match self.rng.below(10) {
            0..=2 => U256::ZERO,
            3 | 4 => U256::from(1u8),
            5 => U256::from(2u8),
            _ => self.value(),
        }
    }

    /// Makes `n` operands available: some already on the stack, the rest pushed fresh.
    fn operands(&mut self, n: usize) {
        let min_fresh = n.saturating_sub(self.avail());
        let fresh = self.rng.range(min_fresh as u64, n as u64) as usize;
        for _ in 0..fresh {
            let v = self.value();
            self.push(v);
        }
    }

    /// Keeps the stack short: pops or dumps extra items.
    fn trim(&mut self) {
        while self.avail() > self.max_stack {
            if self.rng.chance(1, 2) {
                self.op(op::POP);
            } else {
                let off = U256::from(self.rng.below(16) * 32);
                self.push(off);
                self.op(op::MSTORE);
            }
        }
    }

    /// Pops down to the floor.
    fn pop_to_floor(&mut self) {
        while self.h > self.floor {
            self.op(op::POP);
        }
    }

    // ---- snippets -------------------------------------------------------------------------

    fn snippet(&mut self) {
        self.trim();
        if self.chaos() {
            self.chaos_snippet();
            return;
        }
        let w = self.rng.below(100);
        match w {
            0..=4 => {
                let v = self.value();
                self.push(v);
            }
            5..=29 => self.alu(),
            30..=35 => self.stack_op(),
            36..=46 => self.memory(),
            47..=49 => self.keccak(),
            50..=53 => self.calldata(),
            54..=55 => self.code_ops(),
            56..=58 => self.returndata(),
            59..=66 => self.storage(),
            67..=69 => self.transient(),
            70..=72 => self.log(),
            73..=78 => self.env(),
            79..=82 if !self.nested => self.bounded_loop(),
            83..=85 if !self.nested => self.guarded(),
            86..=92 if !self.nested => self.call(),
            93..=96 if !self.nested => self.create(),
            97 if !self.nested => self.early_end(),
            _ => self.alu(),
        }
    }

    fn alu(&mut self) {
        const OPS: [u8; 26] = [
            op::ADD,
            op::MUL,
            op::SUB,
            op::DIV,
            op::SDIV,
            op::MOD,
            op::SMOD,
            op::ADDMOD,
            op::MULMOD,
            op::EXP,
            op::SIGNEXTEND,
            op::LT,
            op::GT,
            op::SLT,
            op::SGT,
            op::EQ,
            op::ISZERO,
            op::AND,
            op::OR,
            op::XOR,
            op::NOT,
            op::BYTE,
            op::SHL,
            op::SHR,
            op::SAR,
            op::CLZ,
        ];
        let b = self.rng.pick(&OPS);
        if !self.enabled(b) {
            return;
        }
        self.operands(OPCODE_INFO[b as usize].inputs as usize);
        self.op(b);
    }

    fn stack_op(&mut self) {
        let avail = self.avail();
        match self.rng.below(3) {
            0 if avail >= 1 => {
                let n = self.rng.range(1, avail.min(16) as u64) as u8;
                self.op(op::DUP1 + n - 1);
            }
            1 if avail >= 2 => {
                let n = self.rng.range(1, (avail - 1).min(16) as u64) as u8;
                self.op(op::SWAP1 + n - 1);
            }
            2 if avail >= 1 => {
                self.op(op::POP);
            }
            _ => {
                let v = self.value();
                self.push(v);
            }
        }
    }

    fn memory(&mut self) {
        match self.rng.below(6) {
            0 | 1 => {
                self.operands(1);
                let off = self.mem_off();
                self.push(off);
                self.op(op::MSTORE);
            }
            2 => {
                self.operands(1);
                let off = self.mem_off();
                self.push(off);
                self.op(op::MSTORE8);
            }
            3 => {
                let off = self.mem_off();
                self.push(off);
                self.op(op::MLOAD);
            }
            4 if self.enabled(op::MCOPY) => {
                let len = self.mem_len();
                let src = self.mem_off();
                let dst = self.mem_off();
                self.push(len);
                self.push(src);
                self.push(dst);
                self.op(op::MCOPY);
            }
            _ => {
                self.op(op::MSIZE);
            }
        }
    }

    fn keccak(&mut self) {
        let len = self.mem_len();
        let off = self.mem_off();
        self.push(len);
        self.push(off);
        self.op(op::KECCAK256);
    }

    fn calldata(&mut self) {
        match self.rng.below(3) {
            0 => {
                let i = if self.rng.chance(4, 5) {
                    U256::from(self.rng.below(100))
                } else {
                    self.value()
                };
                self.push(i);
                self.op(op::CALLDATALOAD);
            }
            1 => {
                self.op(op::CALLDATASIZE);
            }
            _ => {
                let len = self.mem_len();
                let src = U256::from(self.rng.below(120));
                let dst = self.mem_off();
                self.push(len);
                self.push(src);
                self.push(dst);
                self.op(op::CALLDATACOPY);
            }
        }
    }

    fn code_ops(&mut self) {
        match self.rng.below(5) {
            0 => {
                self.op(op::CODESIZE);
            }
            1 => {
                let len = self.mem_len();
                let src = U256::from(self.rng.below(300));
                let dst = self.mem_off();
                self.push(len);
                self.push(src);
                self.push(dst);
                self.op(op::CODECOPY);
            }
            2 => {
                let a = self.addr();
                self.push(a);
                self.op(op::EXTCODESIZE);
            }
            3 if self.enabled(op::EXTCODEHASH) => {
                let a = self.addr();
                self.push(a);
                self.op(op::EXTCODEHASH);
            }
            _ => {
                let len = self.mem_len();
                let src = U256::from(self.rng.below(40));
                let dst = self.mem_off();
                let a = self.addr();
                self.push(len);
                self.push(src);
                self.push(dst);
                self.push(a);
                self.op(op::EXTCODECOPY);
            }
        }
    }

    fn returndata(&mut self) {
        if !self.enabled(op::RETURNDATASIZE) {
            return;
        }
        match self.rng.below(3) {
            // Nested code must not overwrite the loop counters with a long return buffer.
            _ if self.nested => {
                self.op(op::RETURNDATASIZE);
            }
            0 => {
                self.op(op::RETURNDATASIZE);
            }
            _ => {
                // In bounds: copy all of it (possibly nothing).
                self.op(op::RETURNDATASIZE);
                self.push_u64(0);
                let dst = self.mem_off();
                self.push(dst);
                self.op(op::RETURNDATACOPY);
            }
        }
    }

    fn storage(&mut self) {
        if self.rng.chance(2, 5) {
            let k = self.storage_key();
            self.push(k);
            self.op(op::SLOAD);
        } else {
            // Sometimes store a computed value already on the stack.
            if self.avail() == 0 || self.rng.chance(2, 3) {
                let v = self.storage_value();
                self.push(v);
            }
            let k = self.storage_key();
            self.push(k);
            self.op(op::SSTORE);
        }
    }

    fn transient(&mut self) {
        if !self.enabled(op::TLOAD) {
            return self.storage();
        }
        if self.rng.chance(1, 2) {
            let k = self.storage_key();
            self.push(k);
            self.op(op::TLOAD);
        } else {
            let v = self.storage_value();
            self.push(v);
            let k = self.storage_key();
            self.push(k);
            self.op(op::TSTORE);
        }
    }

    fn log(&mut self) {
        let n = self.rng.below(5) as u8;
        for _ in 0..n {
            let t = self.value();
            self.push(t);
        }
        let len = if self.rng.chance(3, 4) {
            U256::from(self.rng.below(70))
        } else {
            self.mem_len()
        };
        let off = self.mem_off();
        self.push(len);
        self.push(off);
        self.op(op::LOG0 + n);
    }

    fn env(&mut self) {
        const NULLARY: [u8; 20] = [
            op::ADDRESS,
            op::ORIGIN,
            op::CALLER,
            op::CALLVALUE,
            op::CALLDATASIZE,
            op::CODESIZE,
            op::GASPRICE,
            op::COINBASE,
            op::TIMESTAMP,
            op::NUMBER,
            op::PREVRANDAO,
            op::GASLIMIT,
            op::CHAINID,
            op::SELFBALANCE,
            op::BASEFEE,
            op::BLOBBASEFEE,
            op::PC,
            op::MSIZE,
            op::GAS,
            op::RETURNDATASIZE,
        ];
        match self.rng.below(6) {
            0 => {
                let a = self.addr();
                self.push(a);
                self.op(op::BALANCE);
            }
            1 => {
                let n = match self.rng.below(4) {
                    0 => U256::ZERO,
                    1 => U256::from(1u8),
                    2 => U256::from(256u16),
                    _ => self.value(),
                };
                self.push(n);
                self.op(op::BLOCKHASH);
            }
            2 if self.enabled(op::BLOBHASH) => {
                let i = U256::from(self.rng.below(3));
                self.push(i);
                self.op(op::BLOBHASH);
            }
            _ => {
                let b = self.rng.pick(&NULLARY);
                self.op(b);
            }
        }
    }

    /// Generates `n` snippets with the current stack protected, then pops back (net effect 0).
    fn block(&mut self, n: u64) {
        let (old_floor, old_nested) = (self.floor, self.nested);
        self.floor = self.h;
        self.nested = true;
        for _ in 0..n {
            self.snippet();
        }
        self.pop_to_floor();
        self.floor = old_floor;
        self.nested = old_nested;
    }

    /// A counted loop; the counter lives on the stack or in memory at 0x400.
    fn bounded_loop(&mut self) {
        let count = match self.rng.below(10) {
            0..=3 => self.rng.range(1, 5),
            4..=7 => self.rng.range(6, 40),
            8 => self.rng.pick(&[64, 100, 128]),
            _ => self.rng.range(150, 300),
        };
        let body = self.rng.range(1, 8);
        let top = self.asm.label();
        if self.rng.chance(2, 3) {
            // [.., c] JUMPDEST body; c-1; DUP1; JUMPI back; POP
            self.push_u64(count);
            self.asm.bind(top);
            self.op(op::JUMPDEST);
            self.block(body);
            self.push_u64(1);
            self.op(op::SWAP1);
            self.op(op::SUB);
            self.op(op::DUP1);
            self.asm.push_label(top);
            self.h += 1;
            self.op(op::JUMPI);
            self.op(op::POP);
        } else {
            let slot = U256::from(0x400 + 32 * self.rng.below(4));
            self.push_u64(count);
            self.push(slot);
            self.op(op::MSTORE);
            self.asm.bind(top);
            self.op(op::JUMPDEST);
            self.block(body);
            self.push(slot);
            self.op(op::MLOAD);
            self.push_u64(1);
            self.op(op::SWAP1);
            self.op(op::SUB);
            self.op(op::DUP1);
            self.push(slot);
            self.op(op::MSTORE);
            self.asm.push_label(top);
            self.h += 1;
            self.op(op::JUMPI);
        }
    }

    /// A forward jump over junk, or a JUMPI around a net-zero block.
    fn guarded(&mut self) {
        let end = self.asm.label();
        if self.rng.chance(1, 2) {
            self.asm.push_label(end);
            self.h += 1;
            self.op(op::JUMP);
            // Junk that never runs; no PUSH bytes, so the JUMPDEST stays an instruction.
            for _ in 0..self.rng.range(0, 8) {
                let b = self.rng.next_u64() as u8;
                self.asm
                    .code
                    .push(if (0x5f..=0x7f).contains(&b) { 0xfe } else { b });
            }
        } else {
            self.operands(1);
            self.asm.push_label(end);
            self.h += 1;
            self.op(op::JUMPI);
            let n = self.rng.range(1, 4);
            self.block(n);
        }
        self.asm.bind(end);
        self.op(op::JUMPDEST);
    }

    fn precompile(&mut self) -> u64 {
        let mut set: Vec<u64> = (1..=9).collect();
        if self.spec.is_enabled_in(SpecId::Cancun) {
            set.push(0x0a);
        }
        if self.spec.is_enabled_in(SpecId::Prague) {
            set.extend(0x0b..=0x11);
        }
        if self.spec.is_enabled_in(SpecId::Osaka) {
            set.push(0x100);
        }
        self.rng.pick(&set)
    }

    /// Writes `bytes` to memory at `off` with PUSH32/MSTORE (zero-padded to whole words).
    fn store_bytes(&mut self, off: u64, bytes: &[u8]) {
        for (i, chunk) in bytes.chunks(32).enumerate() {
            let mut w = [0u8; 32];
            w[..chunk.len()].copy_from_slice(chunk);
            self.asm.code.push(op::PUSH32);
            self.asm.code.extend_from_slice(&w);
            self.h += 1;
            self.push_u64(off + 32 * i as u64);
            self.op(op::MSTORE);
        }
    }

    /// Well-formed (or deliberately malformed) precompile input at memory offset 0x100; returns
    /// its length.
    fn precompile_input(&mut self, pc: u64) -> u64 {
        let word = |v: u64| U256::from(v).to_be_bytes::<32>().to_vec();
        let input: Vec<u8> = match pc {
            // ecrecover: a valid signature (recovers 0x7156526fbd7a3c72969b54f64e42c10fbb768c8a),
            // sometimes with v or s broken
            1 if self.rng.chance(2, 3) => {
                let mut v = unhex(
                    "456e9aea5e197a1f1af7a3e85a3212fa4049a3ba34c2289b4c860fc0b0c64ef3\
                     000000000000000000000000000000000000000000000000000000000000001c\
                     9242685bf161793cc25603c231bc2f568eb630ea16aa137d2664ac8038825608\
                     4f8ae3bd7535248d0bd448298cc2e2071e56992d0774dc340c368ae950852ada",
                );
                match self.rng.below(4) {
                    0 => v[63] = 0x1b,
                    1 => v[62] = 1,
                    2 => v[127] ^= 1,
                    _ => {}
                }
                v
            }
            // modexp header only: large lengths, operands zero-padded (EIP-7823 caps them at
            // 1024 bytes from Osaka on)
            5 if self.rng.chance(1, 4) => {
                let big = [64u64, 128, 256, 511, 1024, 1025, 4096];
                let b = self.rng.pick(&big);
                let e = self.rng.pick(&[0u64, 1, 32, 33, 64, 1025]);
                let m = self.rng.pick(&big);
                let n = self.rng.range(0, 64) as usize;
                [word(b), word(e), word(m), self.rng.bytes(n)].concat()
            }
            // modexp: small lengths, random operands
            5 => {
                let (b, e, m) = (
                    self.rng.range(0, 33),
                    self.rng.range(0, 33),
                    self.rng.range(0, 33),
                );
                let mut v = [word(b), word(e), word(m)].concat();
                let n = (b + e + m) as usize;
                v.extend(self.rng.bytes(n));
                v
            }
            // bn254 add/mul: generator point (1, 2) twice, or zeros (infinity)
            6 | 7 if self.rng.chance(2, 3) => {
                let g = [word(1), word(2)].concat();
                if self.rng.chance(1, 2) {
                    [g.clone(), g].concat()
                } else {
                    [g, word(self.rng.below(1000))].concat()
                }
            }
            8 if self.rng.chance(1, 2) => vec![0; 192 * self.rng.below(2) as usize],
            // blake2f: 213 bytes, few rounds, valid final flag
            9 => {
                let mut v = self.rng.bytes(213);
                v[..4].copy_from_slice(&(self.rng.below(13) as u32).to_be_bytes());
                v[212] = self.rng.below(2) as u8;
                v
            }
            _ => {
                let n = self.rng.pick(&[0, 1, 32, 64, 96, 128, 160, 192, 213, 256]);
                if self.rng.chance(1, 2) {
                    vec![0; n]
                } else {
                    self.rng.bytes(n)
                }
            }
        };
        self.store_bytes(0x100, &input);
        input.len() as u64
    }

    fn call(&mut self) {
        let kinds = [op::CALL, op::CALLCODE, op::DELEGATECALL, op::STATICCALL];
        let kind = self.rng.pick(&kinds);
        if !self.enabled(kind) {
            return;
        }
        enum To {
            Callee,
            Precompile(u64),
            Other(U256),
        }
        let to = match self.rng.below(10) {
            0..=4 if self.role == Role::Main => To::Callee,
            5..=7 => To::Precompile(self.precompile()),
            _ => {
                let a = match self.rng.below(5) {
                    0 => EOA,
                    1 => NOBODY,
                    // Not from the callee: DELEGATED runs the callee's code (unbounded recursion).
                    2 if self.spec.is_enabled_in(SpecId::Prague) && self.role == Role::Main => {
                        self.rng.pick(&[
                            DELEGATED,
                            DELEGATED_CHAIN,
                            DELEGATED_PRECOMPILE,
                            DELEGATED_EMPTY,
                        ])
                    }
                    // Re-entry into TARGET, with little gas (see below).
                    3 => TARGET,
                    _ => Address::with_last_byte(0x42),
                };
                To::Other(U256::from_be_slice(a.as_slice()))
            }
        };
        let (args_off, args_len) = match to {
            To::Precompile(pc) => (U256::from(0x100), U256::from(self.precompile_input(pc))),
            _ => (
                U256::from(self.rng.below(128)),
                U256::from(self.rng.below(100)),
            ),
        };
        // Calls into TARGET itself recurse: keep their gas small.
        let self_call = matches!(&to, To::Other(a) if *a == U256::from_be_slice(TARGET.as_slice()));
        let ret_len = U256::from(self.rng.pick(&[0u64, 1, 20, 32, 64, 100]));
        let ret_off = U256::from(self.rng.below(96));
        self.push(ret_len);
        self.push(ret_off);
        self.push(args_len);
        self.push(args_off);
        if kind == op::CALL || kind == op::CALLCODE {
            let v = match self.rng.below(10) {
                0..=6 => U256::ZERO,
                7 | 8 => U256::from(self.rng.range(1, 1000)),
                _ => self.value(),
            };
            self.push(v);
        }
        let addr = match to {
            To::Callee => U256::from_be_slice(CALLEE.as_slice()),
            To::Precompile(pc) => U256::from(pc),
            To::Other(a) => a,
        };
        self.push(addr);
        if self_call {
            let g = self.rng.range(0, 40_000);
            self.push_u64(g);
        } else {
            match self.rng.below(8) {
                0..=3 => {
                    self.op(op::GAS);
                }
                4 => {
                    let g = self.rng.pick(&[0u64, 1, 100, 2300, 2600, 3000, 10_000]);
                    self.push_u64(g);
                }
                5 | 6 => {
                    let g = self.rng.range(5_000, 500_000);
                    self.push_u64(g);
                }
                _ => {
                    let g = self.value();
                    self.push(g);
                }
            }
        }
        self.op(kind);
        match self.rng.below(4) {
            0 => {
                self.op(op::POP);
            }
            1 => self.returndata(),
            2 => {
                let off = U256::from(self.rng.below(96));
                self.push(off);
                self.op(op::MLOAD);
            }
            _ => {}
        }
    }

    /// Initcode for CREATE/CREATE2.
    fn initcode(&mut self) -> Vec<u8> {
        // Runtime code deployed by the "return" variants (at most 32 bytes).
        let runtimes: [&[u8]; 5] = [
            &[0x60, 0x2a, 0x60, 0x00, 0x55, 0x00], // SSTORE(0, 42) STOP
            &[0x33, 0xff],                         // SELFDESTRUCT(CALLER)
            &[0x60, 0x2a, 0x60, 0, 0x52, 0x60, 0x20, 0x60, 0, 0xf3], // return 42
            &[0x00],
            &[0xfe],
        ];
        let ret = |rt: &[u8]| -> Vec<u8> {
            // PUSH32 rt‖0…; PUSH1 0; MSTORE; PUSH1 len; PUSH1 0; RETURN
            let mut w = [0u8; 32];
            w[..rt.len()].copy_from_slice(rt);
            let mut c = vec![op::PUSH32];
            c.extend_from_slice(&w);
            c.extend([0x60, 0, 0x52, 0x60, rt.len() as u8, 0x60, 0, 0xf3]);
            c
        };
        match self.rng.below(12) {
            0 => Vec::new(),
            1..=3 => {
                let i = self.rng.below(runtimes.len() as u64) as usize;
                ret(runtimes[i])
            }
            4 => {
                let n = self.rng.range(1, 32) as usize;
                ret(&self.junk(n))
            }
            // REVERT with 32 bytes of data
            5 => vec![0x60, 0x2a, 0x60, 0, 0x52, 0x60, 0x20, 0x60, 0, 0xfd],
            6 => vec![0xfe],
            // constructor writes storage then stops
            7 => vec![0x60, 0x07, 0x60, 0x01, 0x55, 0x00],
            // deploys code starting with 0xEF (rejected since London)
            8 => vec![0x60, 0xef, 0x60, 0, 0x53, 0x60, 0x01, 0x60, 0, 0xf3],
            // deploys 24577 bytes (over the EIP-170 limit since Spurious Dragon)
            9 => vec![0x61, 0x60, 0x01, 0x60, 0, 0xf3],
            // logs, then returns its CALLVALUE and CODESIZE as code
            10 => vec![
                0x60, 0, 0x60, 0, 0xa0, 0x34, 0x60, 0, 0x52, 0x38, 0x60, 0x20, 0x52, 0x60, 0x40,
                0x60, 0, 0xf3,
            ],
            _ => {
                let n = self.rng.range(1, 24) as usize;
                self.junk(n)
            }
        }
    }

    /// Random bytes without JUMP/JUMPI (so random code cannot loop until 10^9 gas run out).
    fn junk(&mut self, n: usize) -> Vec<u8> {
        let mut v = self.rng.bytes(n);
        for b in v.iter_mut() {
            if *b == op::JUMP || *b == op::JUMPI {
                *b = op::JUMPDEST;
            }
        }
        v
    }

    fn create(&mut self) {
        let create2 = self.enabled(op::CREATE2) && self.rng.chance(1, 2);
        let init = self.initcode();
        let off = self.rng.pick(&[0u64, 32, 0x100, 0x180]);
        self.store_bytes(off, &init);
        let mut size = init.len() as u64;
        if self.rng.chance(1, 20) {
            size = 49_153; // over the EIP-3860 initcode limit (Shanghai+)
        } else if self.rng.chance(1, 8) {
            size += self.rng.below(4);
        }
        if create2 {
            let salt = if self.rng.chance(3, 4) {
                U256::from(self.rng.below(3))
            } else {
                self.rng.word()
            };
            self.push(salt);
        }
        self.push_u64(size);
        self.push_u64(off);
        let v = if self.rng.chance(4, 5) {
            U256::ZERO
        } else {
            U256::from(self.rng.range(1, 100))
        };
        self.push(v);
        self.op(if create2 { op::CREATE2 } else { op::CREATE });
        match self.rng.below(4) {
            0 => {
                self.op(op::DUP1);
                self.op(op::EXTCODESIZE);
            }
            1 => {
                // call the new contract: [.., addr] → CALL(GAS, addr, 0, 0, 0, 0, 32)
                self.push_u64(32);
                self.push_u64(0);
                self.push_u64(0);
                self.push_u64(0);
                self.push_u64(0);
                self.op(op::DUP6);
                self.op(op::GAS);
                self.op(op::CALL);
            }
            _ => {}
        }
    }

    /// RETURN/REVERT/STOP/SELFDESTRUCT in the middle of the program.
    fn early_end(&mut self) {
        match self.rng.below(4) {
            0 | 1 => {
                let len = U256::from(self.rng.below(70));
                let off = U256::from(self.rng.below(128));
                self.push(len);
                self.push(off);
                let b = if self.rng.chance(1, 2) {
                    op::RETURN
                } else {
                    op::REVERT
                };
                self.op(b);
            }
            2 => {
                self.op(op::STOP);
            }
            _ => {
                let a = self.beneficiary();
                self.push(a);
                self.op(op::SELFDESTRUCT);
            }
        }
    }

    /// Snippets meant to fail (or to hit rarely exercised paths).
    fn chaos_snippet(&mut self) {
        match self.rng.below(11) {
            // JUMP into PUSH data that happens to be 0x5b
            0 => {
                let l = self.asm.label();
                self.asm.push_label(l);
                self.h += 1;
                self.op(op::JUMP);
                self.asm.code.push(op::PUSH1);
                self.asm.bind(l);
                self.asm.code.push(op::JUMPDEST);
                self.h += 1;
            }
            // JUMP/JUMPI past the end or onto a non-JUMPDEST
            1 => {
                let cond = self.rng.below(3);
                if cond > 0 {
                    self.push_u64(cond - 1); // JUMPI with 0 falls through
                }
                let t = self.rng.pick(&[0u64, 1, 0xffff, u64::MAX]);
                self.push_u64(t);
                self.op(if cond > 0 { op::JUMPI } else { op::JUMP });
            }
            // INVALID or an unassigned byte
            2 => {
                let b = self
                    .rng
                    .pick(&[0xfe, 0x0c, 0x21, 0x4b, 0xa5, 0xb0, 0xe0, 0xef, 0xf6, 0xfb]);
                if !self.enabled(b) {
                    self.asm.code.push(b);
                }
            }
            // an opcode from a later fork
            3 => {
                let later: Vec<u8> = (0..=255u8)
                    .filter(|b| {
                        let i = &OPCODE_INFO[*b as usize];
                        i.defined && !i.enabled_in(self.spec)
                    })
                    .collect();
                if !later.is_empty() {
                    let b = self.rng.pick(&later);
                    self.operands(OPCODE_INFO[b as usize].inputs as usize);
                    self.asm.code.push(b);
                }
            }
            // stack underflow
            4 => {
                let n = self.h + 1;
                if n <= 16 {
                    self.asm.code.push(op::DUP1 + n as u8 - 1);
                } else {
                    self.asm.code.push(op::SWAP16);
                }
            }
            // stack overflow: push forever
            5 => {
                let l = self.asm.label();
                self.asm.bind(l);
                self.op(op::JUMPDEST);
                self.op(op::CALLVALUE);
                self.asm.push_label(l);
                self.asm.code.push(op::JUMP);
            }
            // huge memory access
            6 => {
                let off = self.huge();
                self.push(off);
                let b = self.rng.pick(&[op::MLOAD, op::MSTORE8, op::CALLDATALOAD]);
                if b == op::MSTORE8 {
                    self.operands(1);
                    self.op(op::SWAP1);
                }
                self.op(b);
            }
            // RETURNDATACOPY past the end of the buffer
            7 if self.enabled(op::RETURNDATACOPY) => {
                self.push_u64(1);
                self.op(op::RETURNDATASIZE);
                self.push_u64(0);
                self.op(op::RETURNDATACOPY);
            }
            // a few raw random bytes (the stack height is a guess from here on)
            8 | 9 => {
                let n = self.rng.range(1, 12) as usize;
                let bytes = self.junk(n);
                self.asm.code.extend(bytes);
            }
            _ => self.early_end(),
        }
    }

    /// Makes the final state observable.
    fn epilogue(&mut self) {
        let n = self.avail().min(12);
        match (self.role, self.rng.below(20)) {
            (Role::Callee, 0..=11) | (Role::Main, 0..=7) => {
                for i in 0..n {
                    self.push_u64(0x200 + 32 * i as u64);
                    self.op(op::MSTORE);
                }
                let (off, len) = if self.role == Role::Callee {
                    (0x200, 32 * n as u64)
                } else {
                    (0, 0x200 + 32 * n as u64)
                };
                self.push_u64(len);
                self.push_u64(off);
                self.op(op::RETURN);
            }
            (Role::Main, 8..=10) => {
                for i in 0..n {
                    self.push_u64(0x1000 + i as u64);
                    self.op(op::SSTORE);
                }
            }
            (_, 12..=14) => {
                let len = U256::from(self.rng.below(70));
                let off = U256::from(self.rng.below(128));
                self.push(len);
                self.push(off);
                self.op(op::REVERT);
            }
            (_, 15 | 16) => {
                self.op(op::STOP);
            }
            (_, 17) => {
                let a = self.beneficiary();
                self.push(a);
                self.op(op::SELFDESTRUCT);
            }
            (_, 18) => {
                let len = self.mem_len();
                let off = self.mem_off();
                self.push(len);
                self.push(off);
                self.op(op::RETURN);
            }
            _ => {} // fall off the end
        }
    }
}

fn generate(rng: &mut Rng, spec: SpecId, role: Role, snippets: u64, chaos: u64) -> Vec<u8> {
    let mut g = Gen {
        rng,
        spec,
        role,
        asm: Asm::default(),
        h: 0,
        floor: 0,
        nested: false,
        chaos,
        max_stack: 0,
    };
    g.max_stack = g.rng.range(6, 24) as usize;
    for _ in 0..snippets {
        g.snippet();
    }
    g.epilogue();
    let mut code = g.asm.finish();
    // Never start with 0xEF: revm would read an 0xEF01 prefix as an EIP-7702 designator.
    if code.first() == Some(&0xef) {
        code.insert(0, op::JUMPDEST);
    }
    code
}

/// A random program for `spec` and its calldata.
pub fn program(rng: &mut Rng, spec: SpecId) -> (Vec<u8>, Vec<u8>) {
    let chaos = rng.pick(&CHAOS);
    program_with_chaos(rng, spec, chaos)
}

/// Per-mille chaos rates a program is drawn with (0 = only well-formed snippets).
const CHAOS: [u64; 5] = [0, 0, 5, 15, 40];

fn program_with_chaos(rng: &mut Rng, spec: SpecId, chaos: u64) -> (Vec<u8>, Vec<u8>) {
    let n = rng.range(4, 64);
    let code = generate(rng, spec, Role::Main, n, chaos);
    (code, calldata(rng))
}

fn calldata(rng: &mut Rng) -> Vec<u8> {
    match rng.below(4) {
        0 => Vec::new(),
        1 => rng.bytes(4),
        _ => {
            let n = rng.range(1, 100) as usize;
            let mut v = rng.bytes(n);
            for b in v.iter_mut() {
                if rng.chance(1, 3) {
                    *b = 0;
                }
            }
            v
        }
    }
}

fn preset_storage(rng: &mut Rng) -> Vec<(U256, U256)> {
    if rng.chance(2, 5) {
        return Vec::new();
    }
    (0..rng.range(1, 5))
        .map(|_| {
            let k = U256::from(rng.below(6));
            let v = match rng.below(4) {
                0 => U256::from(1u8),
                1 => U256::from(2u8),
                2 => U256::MAX,
                _ => rng.word(),
            };
            (k, v)
        })
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .collect()
}

/// A complete case for `spec` from `seed`: main program, callee, accounts, storage, gas, value.
pub fn case(seed: u64, spec: SpecId) -> CallConfig {
    let rng = &mut Rng::new(seed);
    let chaos = rng.pick(&CHAOS);
    let (code, input) = program_with_chaos(rng, spec, chaos);
    let callee_chaos = rng.pick(&[0, 10, 30]);
    let callee_len = rng.range(2, 30);
    let callee_code = generate(rng, spec, Role::Callee, callee_len, callee_chaos);

    let mut cfg = CallConfig::new(code, input);
    cfg.spec = spec;
    // 10^9 only for chaos-free programs: nothing in them can loop until that much gas is burnt.
    let calm = chaos == 0 && callee_chaos == 0;
    cfg.gas_limit = match rng.below(20) {
        0..=9 => 10_000_000,
        10..=11 if calm => 1_000_000_000,
        10..=11 => 10_000_000,
        12..=14 => 1_000_000,
        _ => rng.range(5_000, 300_000),
    };
    cfg.value = match rng.below(10) {
        0..=6 => U256::ZERO,
        7 => U256::from(1u8),
        _ => U256::from(10u64.pow(18)),
    };
    cfg.storage = preset_storage(rng);

    let mut callee = Account::with_code(callee_code.into());
    callee.nonce = 1;
    callee.balance = if rng.chance(1, 2) {
        U256::ZERO
    } else {
        U256::from(10u64.pow(18))
    };
    callee.storage = preset_storage(rng).into_iter().collect();
    cfg.accounts.push((CALLEE, callee));
    cfg.accounts.push((
        EOA,
        Account {
            balance: U256::from(10u64.pow(18)),
            nonce: 3,
            ..Account::default()
        },
    ));
    if spec.is_enabled_in(SpecId::Prague) {
        for (at, to) in [
            (DELEGATED, CALLEE),
            (DELEGATED_CHAIN, DELEGATED),
            (DELEGATED_PRECOMPILE, Address::with_last_byte(1)),
            (DELEGATED_EMPTY, NOBODY),
        ] {
            let mut code = vec![0xef, 0x01, 0x00];
            code.extend_from_slice(to.as_slice());
            let mut d = Account::with_code(code.into());
            d.nonce = 1;
            cfg.accounts.push((at, d));
        }
    }
    cfg
}
