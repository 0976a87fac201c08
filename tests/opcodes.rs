//! Per-opcode tests with hand-computed results and exact execution gas.
//!
//! Every test runs bytecode at `0xcccc…cccc`, called by `0x1111…1111`, through
//! [`ferrite_state::call::run`] and checks the result word (or the exit code) and the execution gas:
//! gas limit − gas left, before refunds, without intrinsic gas. The expected figures are derived
//! by hand from the Yellow Paper and the EIPs, not from ferrite's own tables; each gas figure is
//! explained in a comment next to it.
//!
//! Notation in the gas comments: `PUSH` is 3 (every PUSH1–PUSH32), `RET` is the 15 gas of the
//! "return the top word" suffix when memory is still empty (see [`RET`]), `RET'` is its 12 gas
//! when word 0 of memory is already allocated (see [`RET_WARM`]).

mod support;
use alloy_primitives::{address, keccak256, Address, Bytes, B256, U256};
use ferrite::runtime::opcode::op::*;
use ferrite::runtime::{ExitCode, SpecId};
use ferrite_state::call::{CallConfig, CallOutcome, TARGET};
use ferrite_state::state::Account;

// ---------------------------------------------------------------------------------------------
// A tiny assembler and the run helpers.
// ---------------------------------------------------------------------------------------------

/// Builds bytecode from ops and pushes.
#[derive(Clone, Debug, Default)]
struct Asm(Vec<u8>);

impl Asm {
    fn new() -> Asm {
        Asm::default()
    }

    /// One opcode byte.
    fn op(mut self, opcode: u8) -> Asm {
        self.0.push(opcode);
        self
    }

    /// Several opcode bytes.
    fn ops(mut self, opcodes: &[u8]) -> Asm {
        self.0.extend_from_slice(opcodes);
        self
    }

    /// The shortest PUSHn of `v` (PUSH1 for zero).
    fn push(self, v: u64) -> Asm {
        self.push_u(U256::from(v))
    }

    /// The shortest PUSHn of a word (PUSH1 for zero).
    fn push_u(self, v: U256) -> Asm {
        let n = v.bit_len().div_ceil(8).max(1);
        self.push_n(n, v)
    }

    /// PUSHn of the low `n` bytes of `v`.
    fn push_n(mut self, n: usize, v: U256) -> Asm {
        assert!((1..=32).contains(&n));
        assert!(v.bit_len() <= 8 * n, "{v:#x} does not fit in {n} bytes");
        self.0.push(PUSH1 + (n as u8 - 1));
        self.0.extend_from_slice(&v.to_be_bytes::<32>()[32 - n..]);
        self
    }

    /// PUSH20 of an address.
    fn push_addr(self, a: Address) -> Asm {
        self.push_n(20, U256::from_be_slice(a.as_slice()))
    }

    /// PUSHn of raw bytes (1..=32 of them).
    fn push_bytes(mut self, b: &[u8]) -> Asm {
        assert!((1..=32).contains(&b.len()));
        self.0.push(PUSH1 + (b.len() as u8 - 1));
        self.0.extend_from_slice(b);
        self
    }

    /// A JUMPDEST that must land at byte offset `at` (keeps hand-computed jump targets honest).
    fn jumpdest(self, at: usize) -> Asm {
        assert_eq!(
            self.0.len(),
            at,
            "JUMPDEST is not where the jump expects it"
        );
        self.op(JUMPDEST)
    }

    /// `PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN`: returns the top word.
    ///
    /// Gas: 3 + 3 + 3 + 3 + 0 = 12, plus 3 if memory was empty (word 0 gets allocated).
    fn ret_top(self) -> Asm {
        self.push(0).op(MSTORE).push(32).push(0).op(RETURN)
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn bytes(&self) -> Bytes {
        Bytes::from(self.0.clone())
    }
}

/// Gas of [`Asm::ret_top`] on empty memory: PUSH1 0 (3) + MSTORE (3 + 3 memory for word 0) +
/// PUSH1 32 (3) + PUSH1 0 (3) + RETURN (0).
const RET: u64 = 15;
/// Gas of [`Asm::ret_top`] when word 0 is already allocated: 3 + 3 + 3 + 3 + 0.
const RET_WARM: u64 = 12;

/// 2^255 (−2^255 as a signed word).
const MIN: U256 = U256::from_limbs([0, 0, 0, 1 << 63]);
/// 2^256 − 1 (−1 as a signed word).
const MAX: U256 = U256::MAX;
/// 2^255 − 1, the largest positive signed word.
const SMAX: U256 = U256::from_limbs([u64::MAX, u64::MAX, u64::MAX, u64::MAX >> 1]);

fn u(x: u64) -> U256 {
    U256::from(x)
}

/// −x as a two's-complement word.
fn neg(x: u64) -> U256 {
    U256::ZERO.wrapping_sub(U256::from(x))
}

/// 2^n.
fn pow2(n: usize) -> U256 {
    U256::from(1) << n
}

fn addr_word(a: Address) -> U256 {
    U256::from_be_slice(a.as_slice())
}

/// The transaction sender `0x1111…1111` (named apart from the CALLER opcode byte).
const SENDER: Address = ferrite_state::call::CALLER;
const OTHER: Address = address!("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
const EMPTY: Address = address!("000000000000000000000000000000000000dead");

fn config(code: &Asm, spec: SpecId) -> CallConfig {
    let mut cfg = CallConfig::new(code.bytes(), Bytes::new());
    cfg.spec = spec;
    cfg
}

/// Config with an extra account holding `code` at [`OTHER`].
fn with_other(code: &Asm, spec: SpecId, other: &Asm) -> CallConfig {
    let mut cfg = config(code, spec);
    cfg.accounts
        .push((OTHER, Account::with_code(other.bytes())));
    cfg
}

/// The 32-byte output as a word.
#[track_caller]
fn word(out: &CallOutcome) -> U256 {
    assert_eq!(out.output.len(), 32, "output {}", out.output);
    U256::from_be_slice(&out.output)
}

/// Runs `cfg`, expects RETURN of the word `want` using exactly `gas` gas.
#[track_caller]
fn check_cfg(cfg: &CallConfig, want: U256, gas: u64) -> CallOutcome {
    let out = support::run_both(cfg);
    assert_eq!(
        out.exit,
        ExitCode::Return,
        "code {} ({:?})",
        cfg.code,
        cfg.spec
    );
    assert_eq!(
        word(&out),
        want,
        "result of {} ({:?}): got {:#x}, want {want:#x}",
        cfg.code,
        cfg.spec,
        word(&out)
    );
    assert_eq!(out.gas_used, gas, "gas of {} ({:?})", cfg.code, cfg.spec);
    out
}

/// Runs `code` in `spec`, expects RETURN of `want` using exactly `gas` gas.
#[track_caller]
fn check(spec: SpecId, code: Asm, want: U256, gas: u64) -> CallOutcome {
    check_cfg(&config(&code, spec), want, gas)
}

/// Runs `cfg` and expects exit `exit` using exactly `gas` gas.
#[track_caller]
fn check_exit(cfg: &CallConfig, exit: ExitCode, gas: u64) -> CallOutcome {
    let out = support::run_both(cfg);
    assert_eq!(out.exit, exit, "code {} ({:?})", cfg.code, cfg.spec);
    assert_eq!(out.gas_used, gas, "gas of {} ({:?})", cfg.code, cfg.spec);
    out
}

/// Runs `code` with 100 000 gas and expects an exceptional halt `exit` that consumes it all.
#[track_caller]
fn check_halt(spec: SpecId, code: Asm, exit: ExitCode) -> CallOutcome {
    let mut cfg = config(&code, spec);
    cfg.gas_limit = 100_000;
    let out = check_exit(&cfg, exit, 100_000);
    assert!(out.output.is_empty(), "a halt returns no data");
    out
}

/// `a OP b` with `a` on top of the stack: `PUSH b, PUSH a, OP`, then return the result.
/// Gas: PUSH 3 + PUSH 3 + G(OP) + RET 15.
fn bin(opcode: u8, a: U256, b: U256) -> Asm {
    Asm::new().push_u(b).push_u(a).op(opcode).ret_top()
}

/// `OP(a, b, n)` with `a` on top: `PUSH n, PUSH b, PUSH a, OP`, return. Gas: 9 + G(OP) + 15.
fn tern(opcode: u8, a: U256, b: U256, n: U256) -> Asm {
    Asm::new()
        .push_u(n)
        .push_u(b)
        .push_u(a)
        .op(opcode)
        .ret_top()
}

/// `OP(a)`: `PUSH a, OP`, return. Gas: 3 + G(OP) + 15.
fn un(opcode: u8, a: U256) -> Asm {
    Asm::new().push_u(a).op(opcode).ret_top()
}

/// Checks a table of binary cases that all cost `PUSH + PUSH + g + RET`.
#[track_caller]
fn bin_table(spec: SpecId, opcode: u8, g: u64, cases: &[(U256, U256, U256)]) {
    for &(a, b, want) in cases {
        check(spec, bin(opcode, a, b), want, 3 + 3 + g + RET);
    }
}

const P: SpecId = SpecId::Prague;

// ---------------------------------------------------------------------------------------------
// Arithmetic.
// ---------------------------------------------------------------------------------------------

mod arithmetic {
    use super::*;

    #[test]
    fn add() {
        // 3 + 3 + ADD 3 + RET 15 = 24
        bin_table(
            P,
            ADD,
            3,
            &[
                (u(1), u(2), u(3)),
                (u(0), u(0), u(0)),
                (MAX, u(1), u(0)), // wraps
                (MIN, MIN, u(0)),
                (MAX, MAX, MAX - u(1)),
            ],
        );
    }

    #[test]
    fn mul() {
        // 3 + 3 + MUL 5 + RET 15 = 26
        bin_table(
            P,
            MUL,
            5,
            &[
                (u(3), u(7), u(21)),
                (MAX, MAX, u(1)), // (−1)·(−1)
                (MIN, u(2), u(0)),
                (u(0), MAX, u(0)),
                (pow2(128), pow2(128), u(0)),
                (pow2(127), pow2(128), MIN),
            ],
        );
    }

    #[test]
    fn sub() {
        // a − b with a on top. 3 + 3 + SUB 3 + RET 15 = 24
        bin_table(
            P,
            SUB,
            3,
            &[
                (u(5), u(3), u(2)),
                (u(1), u(2), MAX),
                (u(0), u(1), MAX),
                (u(0), MIN, MIN),
                (MAX, MAX, u(0)),
            ],
        );
    }

    #[test]
    fn div() {
        // 3 + 3 + DIV 5 + RET 15 = 26
        bin_table(
            P,
            DIV,
            5,
            &[
                (u(7), u(2), u(3)),
                (u(7), u(0), u(0)), // division by zero is 0
                (MAX, u(0), u(0)),
                (u(0), u(0), u(0)),
                (MAX, u(1), MAX),
                (u(1), MAX, u(0)),
                (MAX, MAX, u(1)),
                (MIN, MAX, u(0)), // unsigned
            ],
        );
    }

    #[test]
    fn sdiv() {
        // 3 + 3 + SDIV 5 + RET 15 = 26
        bin_table(
            P,
            SDIV,
            5,
            &[
                (MIN, MAX, MIN), // −2^255 / −1 overflows back to −2^255
                (neg(7), u(2), neg(3)),
                (u(7), neg(2), neg(3)),
                (neg(7), neg(2), u(3)),
                (u(7), u(0), u(0)),
                (MIN, u(0), u(0)),
                (MIN, u(1), MIN),
                (MAX, MAX, u(1)),
                (SMAX, MAX, MIN + u(1)), // (2^255−1)/−1 = −(2^255−1)
                (u(0), neg(5), u(0)),
            ],
        );
    }

    #[test]
    fn modulo() {
        // 3 + 3 + MOD 5 + RET 15 = 26
        bin_table(
            P,
            MOD,
            5,
            &[
                (u(7), u(3), u(1)),
                (u(7), u(0), u(0)), // modulo zero is 0
                (MAX, u(0), u(0)),
                (MAX, u(2), u(1)),
                (neg(7), u(3), u(0)), // unsigned: 2^256−7 = 3·(…) → 2^256 ≡ 1 (mod 3), so −7 ≡ 1−7 ≡ 0
                (u(3), u(7), u(3)),
            ],
        );
    }

    #[test]
    fn smod() {
        // Result takes the sign of the dividend. 3 + 3 + SMOD 5 + RET 15 = 26
        bin_table(
            P,
            SMOD,
            5,
            &[
                (neg(7), u(3), neg(1)),
                (u(7), neg(3), u(1)),
                (neg(7), neg(3), neg(1)),
                (u(7), u(3), u(1)),
                (MIN, MAX, u(0)),
                (MIN, u(3), neg(2)), // −2^255 = −(3·k + 2) since 2^255 ≡ 2 (mod 3)
                (u(7), u(0), u(0)),
                (neg(7), u(0), u(0)),
            ],
        );
    }

    #[test]
    fn addmod() {
        // (a + b) mod n with the sum taken over the integers. 3 PUSH (9) + ADDMOD 8 + RET 15 = 32
        let cases = [
            // 2^256 ≡ 6 (mod 10), so MAX ≡ 5 and MAX + 2 ≡ 7 (a wrapping add would give 1).
            (MAX, u(2), u(10), u(7)),
            (MAX, MAX, MAX, u(0)), // 2·MAX mod MAX; wrapping would give MAX − 1
            (MAX, u(1), u(2), u(0)), // 2^256 is even
            (u(1), u(2), u(0), u(0)), // modulus 0
            (MAX, MAX, u(0), u(0)),
            (u(5), u(6), u(1), u(0)),
            (u(5), u(6), u(7), u(4)),
        ];
        for (a, b, n, want) in cases {
            check(P, tern(ADDMOD, a, b, n), want, 9 + 8 + RET);
        }
    }

    #[test]
    fn mulmod() {
        // (a · b) mod n over the integers. 9 + MULMOD 8 + RET 15 = 32
        let cases = [
            // 2^256 ≡ 4 (mod 12) so MAX ≡ 3 and MAX² ≡ 9.
            (MAX, MAX, u(12), u(9)),
            (MIN, u(2), u(3), u(1)), // 2^256 ≡ 1 (mod 3); wrapping would give 0
            (MAX, MAX, MAX, u(0)),
            (MAX, MAX, MAX - u(1), u(1)), // MAX ≡ 1 (mod MAX − 1)
            (u(5), u(5), u(0), u(0)),     // modulus 0
            (MAX, MAX, u(0), u(0)),
            (u(5), u(5), u(7), u(4)),
        ];
        for (a, b, n, want) in cases {
            check(P, tern(MULMOD, a, b, n), want, 9 + 8 + RET);
        }
    }

    #[test]
    fn exp_values_and_gas_after_spurious_dragon() {
        // base on top. 3 + 3 + EXP 10 + 50·bytes(exponent) + RET 15 = 31 + 50·bytes
        check(P, bin(EXP, u(2), u(255)), MIN, 31 + 50); // 255 is 1 byte
        check(P, bin(EXP, u(2), u(256)), u(0), 31 + 100); // 256 is 2 bytes
        check(P, bin(EXP, u(0), u(0)), u(1), 31); // 0^0 = 1, zero-byte exponent
        check(P, bin(EXP, u(0), u(1)), u(0), 31 + 50);
        check(P, bin(EXP, u(3), u(5)), u(243), 31 + 50);
        check(P, bin(EXP, MAX, MAX), MAX, 31 + 50 * 32); // (−1)^odd
        check(P, bin(EXP, MAX, MAX - u(1)), u(1), 31 + 50 * 32); // (−1)^even
        check(P, bin(EXP, u(2), MIN), u(0), 31 + 50 * 32);
        check(P, bin(EXP, u(2), pow2(64)), u(0), 31 + 50 * 9); // 2^64 is 9 bytes
        check(P, bin(EXP, u(1), MAX), u(1), 31 + 50 * 32);
    }

    #[test]
    fn exp_gas_per_byte_by_fork() {
        // 2^256 = 0 with a 2-byte exponent: 31 + 2·(10 before EIP-160, 50 from Spurious Dragon).
        for spec in SpecId::ALL {
            let per = if spec >= SpecId::SpuriousDragon {
                50
            } else {
                10
            };
            check(spec, bin(EXP, u(2), u(256)), u(0), 31 + 2 * per);
            check(spec, bin(EXP, u(2), MAX), u(0), 31 + 32 * per);
        }
    }

    #[test]
    fn signextend() {
        // SIGNEXTEND(b, x), b on top. 3 + 3 + 5 + RET 15 = 26
        bin_table(
            P,
            SIGNEXTEND,
            5,
            &[
                (u(0), u(0xff), MAX),
                (u(0), u(0x7f), u(0x7f)),
                (u(0), u(0x17f), u(0x7f)), // higher bits cleared
                (u(0), u(0x1ff), MAX),     // higher bits set
                (u(1), u(0x80ff), MAX - u(0x7f00)),
                (u(1), u(0x7fff), u(0x7fff)),
                (u(30), u(0x80) << 240, u(0xff80) << 240),
                (u(30), u(0x7f) << 240, u(0x7f) << 240),
                (u(31), MIN, MIN), // b ≥ 31: no-op
                (u(31), u(5), u(5)),
                (u(32), u(0xff), u(0xff)),
                (MAX, u(0xff), u(0xff)),
                (pow2(64), u(0xff), u(0xff)), // not truncated to b = 0
                (u(0), u(0), u(0)),
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Comparison and bitwise logic.
// ---------------------------------------------------------------------------------------------

mod bitwise {
    use super::*;

    #[test]
    fn comparisons() {
        // a on top; every case 3 + 3 + 3 + RET 15 = 24
        bin_table(
            P,
            LT,
            3,
            &[
                (u(1), u(2), u(1)),
                (u(2), u(1), u(0)),
                (u(5), u(5), u(0)),
                (MAX, u(0), u(0)),
                (u(0), MAX, u(1)),
                (SMAX, MIN, u(1)),
            ],
        );
        bin_table(
            P,
            GT,
            3,
            &[
                (u(2), u(1), u(1)),
                (u(1), u(2), u(0)),
                (MAX, MIN, u(1)),
                (u(0), u(0), u(0)),
            ],
        );
        bin_table(
            P,
            SLT,
            3,
            &[
                (neg(1), u(0), u(1)),
                (u(0), neg(1), u(0)),
                (MIN, SMAX, u(1)),
                (MIN, MAX, u(1)),
                (neg(2), neg(1), u(1)),
                (neg(1), neg(1), u(0)),
                (SMAX, MIN, u(0)),
            ],
        );
        bin_table(
            P,
            SGT,
            3,
            &[
                (u(0), neg(1), u(1)),
                (neg(1), u(0), u(0)),
                (SMAX, MIN, u(1)),
                (MAX, MIN, u(1)),
                (MIN, MIN, u(0)),
            ],
        );
        bin_table(
            P,
            EQ,
            3,
            &[
                (MAX, MAX, u(1)),
                (u(0), MAX, u(0)),
                (u(0), u(0), u(1)),
                (MIN, SMAX, u(0)),
            ],
        );
    }

    #[test]
    fn iszero_and_not() {
        // 3 + 3 + RET 15 = 21
        for (a, want) in [(u(0), u(1)), (u(1), u(0)), (MAX, u(0)), (MIN, u(0))] {
            check(P, un(ISZERO, a), want, 21);
        }
        for (a, want) in [
            (u(0), MAX),
            (MAX, u(0)),
            (MIN, SMAX),
            (u(0xff), MAX - u(0xff)),
        ] {
            check(P, un(NOT, a), want, 21);
        }
    }

    #[test]
    fn and_or_xor() {
        // 3 + 3 + 3 + RET 15 = 24
        bin_table(
            P,
            AND,
            3,
            &[
                (MAX, u(0xf0f0), u(0xf0f0)),
                (MIN, SMAX, u(0)),
                (u(0xff), u(0x0f), u(0x0f)),
            ],
        );
        bin_table(
            P,
            OR,
            3,
            &[
                (u(0xf0), u(0x0f), u(0xff)),
                (MIN, SMAX, MAX),
                (u(0), u(0), u(0)),
            ],
        );
        bin_table(
            P,
            XOR,
            3,
            &[
                (MAX, MIN, SMAX),
                (MAX, MAX, u(0)),
                (u(0xf0), u(0xff), u(0x0f)),
            ],
        );
    }

    #[test]
    fn byte() {
        // BYTE(i, x), i on top, byte 0 is the most significant. 3 + 3 + 3 + RET 15 = 24
        bin_table(
            P,
            BYTE,
            3,
            &[
                (u(0), MIN, u(0x80)),
                (u(31), u(0xab), u(0xab)),
                (u(30), u(0xabcd), u(0xab)),
                (u(0), u(0xab), u(0)),
                (u(31), MAX, u(0xff)),
                (u(32), MAX, u(0)),
                (MAX, MAX, u(0)),
                (pow2(64), MAX, u(0)), // not truncated to i = 0
            ],
        );
    }

    #[test]
    fn shl() {
        // SHL(shift, value), shift on top. 3 + 3 + 3 + RET 15 = 24
        bin_table(
            P,
            SHL,
            3,
            &[
                (u(0), MAX, MAX),
                (u(0), u(0), u(0)),
                (u(1), u(1), u(2)),
                (u(1), MAX, MAX - u(1)),
                (u(255), u(1), MIN),
                (u(255), MAX, MIN),
                (u(256), u(1), u(0)),
                (u(257), MAX, u(0)),
                (MAX, MAX, u(0)),
                (pow2(64), u(1), u(0)), // not truncated to a shift of 0
            ],
        );
    }

    #[test]
    fn shr() {
        // 3 + 3 + 3 + RET 15 = 24
        bin_table(
            P,
            SHR,
            3,
            &[
                (u(0), MIN, MIN),
                (u(1), u(2), u(1)),
                (u(1), MIN, pow2(254)),
                (u(255), MIN, u(1)),
                (u(255), MAX, u(1)),
                (u(256), MAX, u(0)),
                (u(257), MIN, u(0)),
                (MAX, MAX, u(0)),
                (pow2(64), MAX, u(0)),
            ],
        );
    }

    #[test]
    fn sar() {
        // 3 + 3 + 3 + RET 15 = 24
        bin_table(
            P,
            SAR,
            3,
            &[
                (u(0), neg(1), neg(1)),
                (u(1), neg(4), neg(2)),
                (u(1), u(4), u(2)),
                (u(1), MIN, MIN + pow2(254)), // 0xc000…
                (u(255), MIN, MAX),
                (u(256), MIN, MAX),
                (u(257), MIN, MAX),
                (MAX, MIN, MAX),
                (pow2(64), MIN, MAX),
                (u(254), SMAX, u(1)),
                (u(255), SMAX, u(0)),
                (u(256), SMAX, u(0)),
                (MAX, SMAX, u(0)),
                (u(0), u(0), u(0)),
            ],
        );
    }

    #[test]
    fn shifts_need_constantinople() {
        // Constantinople introduced SHL/SHR/SAR (EIP-145).
        check(SpecId::Constantinople, bin(SHL, u(4), u(1)), u(16), 24);
        check(SpecId::Constantinople, bin(SAR, u(4), neg(32)), neg(2), 24);
        for opcode in [SHL, SHR, SAR] {
            check_halt(
                SpecId::Byzantium,
                bin(opcode, u(1), u(1)),
                ExitCode::InvalidOpcode,
            );
        }
    }

    #[test]
    fn clz_osaka() {
        // EIP-7939: CLZ costs 5. 3 + 5 + RET 15 = 23
        let spec = SpecId::Osaka;
        for (a, want) in [
            (u(0), u(256)),
            (u(1), u(255)),
            (MIN, u(0)),
            (MAX, u(0)),
            (SMAX, u(1)),
            (pow2(128), u(127)),
            (u(0xff), u(248)),
        ] {
            check(spec, un(CLZ, a), want, 23);
        }
    }

    #[test]
    fn clz_is_invalid_before_osaka() {
        check_halt(SpecId::Prague, un(CLZ, u(1)), ExitCode::InvalidOpcode);
        check_halt(SpecId::Cancun, un(CLZ, u(1)), ExitCode::InvalidOpcode);
    }
}

// ---------------------------------------------------------------------------------------------
// Stack: PUSH*, POP, DUP*, SWAP*, underflow and overflow.
// ---------------------------------------------------------------------------------------------

mod stack {
    use super::*;

    #[test]
    fn push0_shanghai() {
        // PUSH0 2 + PUSH1 3 + ADD 3 + RET 15 = 23
        let code = Asm::new().op(PUSH0).push(5).op(ADD).ret_top();
        check(SpecId::Shanghai, code.clone(), u(5), 23);
        check(P, code, u(5), 23);
        // PUSH0 alone: 2 + RET 15 = 17
        check(SpecId::Shanghai, Asm::new().op(PUSH0).ret_top(), u(0), 17);
    }

    #[test]
    fn push0_is_invalid_before_shanghai() {
        check_halt(
            SpecId::Merge,
            Asm::new().op(PUSH0).ret_top(),
            ExitCode::InvalidOpcode,
        );
        check_halt(
            SpecId::Frontier,
            Asm::new().op(PUSH0),
            ExitCode::InvalidOpcode,
        );
    }

    #[test]
    fn push_widths() {
        // PUSH32 3 + RET 15 = 18
        check(P, Asm::new().push_n(32, MAX).ret_top(), MAX, 18);
        check(P, Asm::new().push_n(32, u(1)).ret_top(), u(1), 18);
        check(P, Asm::new().push_n(17, pow2(128)).ret_top(), pow2(128), 18);
        check(P, Asm::new().push_n(1, u(0x80)).ret_top(), u(0x80), 18);
    }

    #[test]
    fn truncated_push_reads_zeros_and_stops() {
        // PUSH2 with one immediate byte at the end of the code: reads 0x12, 0x00, then runs off
        // the end (STOP). The value cannot be observed once the code ends; what matters is a
        // clean stop after PUSH2's 3 gas, not a halt or a read past the code.
        let cfg = config(&Asm::new().ops(&[PUSH2, 0x12]), P);
        let out = check_exit(&cfg, ExitCode::Stop, 3);
        assert!(out.output.is_empty());
    }

    #[test]
    fn pop() {
        // PUSH 3 + PUSH 3 + POP 2 + RET 15 = 23
        check(P, Asm::new().push(1).push(2).op(POP).ret_top(), u(1), 23);
    }

    #[test]
    fn dup() {
        // PUSH 3 + DUP1 3 + ADD 3 + RET 15 = 24
        check(P, Asm::new().push(21).op(DUP1).op(ADD).ret_top(), u(42), 24);
        // 16 pushes (48) + DUP16 3 + RET 15 = 66; DUP16 copies the 16th item = the first push.
        let mut code = Asm::new();
        for i in 1..=16 {
            code = code.push(i);
        }
        check(P, code.op(DUP16).ret_top(), u(1), 66);
    }

    #[test]
    fn swap() {
        // PUSH 1, PUSH 2, SWAP1 → top 1 over 2; SUB = 1 − 2. 3 + 3 + 3 + 3 + RET 15 = 27
        check(
            P,
            Asm::new().push(1).push(2).op(SWAP1).op(SUB).ret_top(),
            MAX,
            27,
        );
        // 17 pushes (51) + SWAP16 3 + RET 15 = 69; the 17th item (first push) comes to the top.
        let mut code = Asm::new();
        for i in 1..=17 {
            code = code.push(i);
        }
        check(P, code.op(SWAP16).ret_top(), u(1), 69);
    }

    #[test]
    fn underflow() {
        check_halt(P, Asm::new().push(1).op(ADD), ExitCode::StackUnderflow);
        check_halt(P, Asm::new().op(POP), ExitCode::StackUnderflow);
        check_halt(P, Asm::new().op(ISZERO), ExitCode::StackUnderflow);
        check_halt(P, Asm::new().push(1).op(DUP2), ExitCode::StackUnderflow);
        check_halt(P, Asm::new().push(1).op(SWAP1), ExitCode::StackUnderflow);
        check_halt(
            P,
            Asm::new().push(1).push(1).op(ADDMOD),
            ExitCode::StackUnderflow,
        );
        let mut sixteen = Asm::new();
        for _ in 0..16 {
            sixteen = sixteen.push(1);
        }
        check_halt(P, sixteen.clone().op(SWAP16), ExitCode::StackUnderflow);
        // DUP16 needs 16 items: 15 is an underflow.
        let mut fifteen = Asm::new();
        for _ in 0..15 {
            fifteen = fifteen.push(1);
        }
        check_halt(P, fifteen.op(DUP16), ExitCode::StackUnderflow);
        check_halt(P, Asm::new().op(JUMP), ExitCode::StackUnderflow);
        check_halt(P, Asm::new().push(0).op(RETURN), ExitCode::StackUnderflow);
    }

    fn pushes(n: usize) -> Asm {
        let mut code = Asm::new();
        for _ in 0..n {
            code = code.push(1);
        }
        code
    }

    #[test]
    fn full_stack_is_fine() {
        // 1024 PUSH1: 1024 · 3 = 3072, then STOP.
        check_exit(&config(&pushes(1024), P), ExitCode::Stop, 3072);
        // 1023 pushes + DUP1 = 1024 items: 3069 + 3 = 3072.
        check_exit(&config(&pushes(1023).op(DUP1), P), ExitCode::Stop, 3072);
        // SWAP on a full stack does not grow it: 3072 + 3.
        check_exit(&config(&pushes(1024).op(SWAP1), P), ExitCode::Stop, 3075);
    }

    #[test]
    fn overflow() {
        check_halt(P, pushes(1025), ExitCode::StackOverflow);
        check_halt(P, pushes(1024).op(DUP1), ExitCode::StackOverflow);
        check_halt(P, pushes(1024).op(PC), ExitCode::StackOverflow);
        check_halt(P, pushes(1024).op(PUSH0), ExitCode::StackOverflow);
        check_halt(SpecId::Frontier, pushes(1025), ExitCode::StackOverflow);
    }
}

// ---------------------------------------------------------------------------------------------
// Memory: MLOAD, MSTORE, MSTORE8, MSIZE, MCOPY, KECCAK256, expansion cost.
// ---------------------------------------------------------------------------------------------

mod memory {
    use super::*;

    #[test]
    fn mstore_mload() {
        let v = MAX - u(0x1234);
        // PUSH32 3 + PUSH1 3 + MSTORE 3 + mem 3 (1 word) + PUSH1 3 + MLOAD 3 + RET' 12 = 30
        let code = Asm::new()
            .push_u(v)
            .push(0)
            .op(MSTORE)
            .push(0)
            .op(MLOAD)
            .ret_top();
        check(P, code, v, 3 + 3 + 6 + 3 + 3 + RET_WARM);
    }

    #[test]
    fn mload_unaligned() {
        // MSTORE 0xaabb at 0 puts aa bb at bytes 30, 31; MLOAD at 1 reads bytes 1..33 → 0xaabb00.
        // PUSH 3 + PUSH 3 + MSTORE 3 + mem 3 + PUSH 3 + MLOAD 3 + mem 3 (2nd word) + RET' 12 = 33
        let code = Asm::new()
            .push(0xaabb)
            .push(0)
            .op(MSTORE)
            .push(1)
            .op(MLOAD)
            .ret_top();
        check(P, code, u(0xaabb00), 33);
    }

    #[test]
    fn mload_of_fresh_memory_is_zero() {
        // PUSH 3 + MLOAD 3 + mem 3·2 words (bytes 33..65 → 65 bytes = 3 words: 9) + RET' 12 = 27
        check(
            P,
            Asm::new().push(33).op(MLOAD).ret_top(),
            u(0),
            3 + 3 + 9 + 12,
        );
    }

    #[test]
    fn mstore8() {
        // Stores the low byte only. PUSH 3 + PUSH 3 + MSTORE8 3 + mem 3 + PUSH 3 + MLOAD 3
        // + RET' 12 = 30
        let code = Asm::new()
            .push(0xabcd)
            .push(31)
            .op(MSTORE8)
            .push(0)
            .op(MLOAD)
            .ret_top();
        check(P, code, u(0xcd), 30);
    }

    #[test]
    fn msize() {
        // MSIZE 2 + RET 15 = 17
        check(P, Asm::new().op(MSIZE).ret_top(), u(0), 17);
        // MSTORE8 at 32 touches byte 32 → 2 words. PUSH 3 + PUSH 3 + MSTORE8 3 + mem 6
        // + MSIZE 2 + RET' 12 = 29
        let code = Asm::new().push(1).push(32).op(MSTORE8).op(MSIZE).ret_top();
        check(P, code, u(64), 29);
    }

    #[test]
    fn expansion_cost_is_quadratic() {
        // MSTORE at 0x7fe0 ends at 0x8000 = 32768 bytes = 1024 words:
        // mem = 3·1024 + 1024²/512 = 3072 + 2048 = 5120. PUSH 3 + PUSH 3 + MSTORE 3 + 5120 = 5129
        let code = Asm::new().push(0).push(0x7fe0).op(MSTORE);
        check_exit(&config(&code, P), ExitCode::Stop, 5129);
        // Same, then MSIZE: 5129 + MSIZE 2 + RET' 12 = 5143
        let code = Asm::new()
            .push(0)
            .push(0x7fe0)
            .op(MSTORE)
            .op(MSIZE)
            .ret_top();
        check(P, code, u(0x8000), 5143);
        // Grown in two steps the total memory cost is the same: 1 word (3), then to 1024 words
        // (5120 − 3 = 5117). 2·(PUSH 3 + PUSH 3 + MSTORE 3) = 18 + 3 + 5117 = 5138
        let code = Asm::new()
            .push(0)
            .push(0)
            .op(MSTORE)
            .push(0)
            .push(0x7fe0)
            .op(MSTORE);
        check_exit(&config(&code, P), ExitCode::Stop, 5138);
        // 1000 words (end 32000 = 0x7d00): 3·1000 + ⌊10^6/512⌋ = 3000 + 1953 = 4953; + 9 = 4962
        let code = Asm::new().push(0).push(0x7ce0).op(MSTORE);
        check_exit(&config(&code, P), ExitCode::Stop, 4962);
        // 1 MiB = 32768 words: 3·32768 + 32768²/512 = 98304 + 2097152 = 2195456; + 9 = 2195465
        let code = Asm::new().push(0).push(0x0fffe0).op(MSTORE);
        check_exit(&config(&code, P), ExitCode::Stop, 2_195_465);
    }

    #[test]
    fn expansion_out_of_gas() {
        // 1024 words cost 5129 in total (see above); one gas less is out of gas, all gas used.
        let code = Asm::new().push(0).push(0x7fe0).op(MSTORE);
        let mut cfg = config(&code, P);
        cfg.gas_limit = 5128;
        check_exit(&cfg, ExitCode::OutOfGas, 5128);
        cfg.gas_limit = 5129;
        check_exit(&cfg, ExitCode::Stop, 5129);
    }

    /// Runs `code` with u64::MAX/2 gas (enough to pay for several GiB of memory under the
    /// quadratic formula) and expects out of gas with every unit consumed: ferrite caps memory
    /// at 2^32 bytes (unreachable under any real gas limit) and must refuse before allocating.
    #[track_caller]
    fn huge(code: Asm) {
        let mut cfg = config(&code, P);
        cfg.gas_limit = u64::MAX / 2;
        let out = check_exit(&cfg, ExitCode::OutOfGas, u64::MAX / 2);
        assert!(out.output.is_empty());
    }

    #[test]
    fn offsets_beyond_4gib_are_out_of_gas_without_allocating() {
        let four_gib = pow2(32);
        huge(Asm::new().push(1).push_u(four_gib).op(MSTORE));
        huge(Asm::new().push(1).push_u(four_gib).op(MSTORE8));
        huge(Asm::new().push_u(four_gib).op(MLOAD));
        huge(Asm::new().push_u(MAX).op(MLOAD));
        huge(Asm::new().push_u(MIN).op(MLOAD));
        huge(Asm::new().push_u(pow2(64) - u(1)).op(MLOAD)); // offset + 32 overflows u64
                                                            // RETURN of 2^32 + 1 bytes at 0.
        huge(Asm::new().push_u(four_gib + u(1)).push(0).op(RETURN));
        // CALLDATACOPY of 1 byte to 2^32.
        huge(Asm::new().push(1).push(0).push_u(four_gib).op(CALLDATACOPY));
        // KECCAK256 of 2^32 bytes at 1.
        huge(Asm::new().push_u(four_gib).push(1).op(KECCAK256));
        // LOG0 of 1 byte at 2^40.
        huge(Asm::new().push(1).push_u(pow2(40)).op(LOG0));
    }

    #[test]
    fn zero_length_never_expands() {
        // RETURN(MAX, 0): PUSH1 3 + PUSH32 3 + RETURN 0 = 6, empty output.
        let code = Asm::new().push(0).push_u(MAX).op(RETURN);
        let out = check_exit(&config(&code, P), ExitCode::Return, 6);
        assert!(out.output.is_empty());
        // CALLDATACOPY(MAX, MAX, 0): 3 PUSH (9) + 3 static, no copy or memory gas = 12.
        let code = Asm::new()
            .push(0)
            .push_u(MAX)
            .push_u(MAX)
            .op(CALLDATACOPY)
            .op(MSIZE)
            .ret_top();
        // 12 + MSIZE 2 + RET 15 = 29, MSIZE still 0.
        check(P, code, u(0), 29);
        // KECCAK256(MAX, 0) = keccak256(""): PUSH 3 + PUSH 3 + 30 + RET 15 = 51.
        let code = Asm::new().push(0).push_u(MAX).op(KECCAK256).ret_top();
        check(P, code, U256::from_be_bytes(keccak256([]).0), 51);
    }

    #[test]
    fn keccak256_op() {
        let empty = U256::from_be_bytes(
            alloy_primitives::b256!(
                "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
            )
            .0,
        );
        // PUSH 3 + PUSH 3 + KECCAK256 30 + RET 15 = 51
        check(
            P,
            Asm::new().push(0).push(0).op(KECCAK256).ret_top(),
            empty,
            51,
        );
        // 32 zero bytes: 30 + 6·1 word + mem 3 = 39; + 6 + RET' 12 = 57
        let zeros32 = U256::from_be_bytes(
            alloy_primitives::b256!(
                "290decd9548b62a8d60345a988386fc84ba6bc95484008f6362f93160ef3e563"
            )
            .0,
        );
        check(
            P,
            Asm::new().push(32).push(0).op(KECCAK256).ret_top(),
            zeros32,
            57,
        );
        // 33 bytes: 30 + 6·2 + mem 6 = 48; + 6 + RET' 12 = 66
        let zeros33 = U256::from_be_bytes(keccak256([0u8; 33]).0);
        check(
            P,
            Asm::new().push(33).push(0).op(KECCAK256).ret_top(),
            zeros33,
            66,
        );
    }

    #[test]
    fn mcopy_cancun() {
        let v = u(0x0102_0304_0506);
        // PUSH 3 + PUSH 3 + MSTORE 3 + mem 3 = 12
        // 3 PUSH (9) + MCOPY 3 + copy 3·1 word + mem 3 (2nd word) = 18
        // PUSH 3 + MLOAD 3 = 6; RET' 12. Total 48.
        let code = Asm::new()
            .push_u(v)
            .push(0)
            .op(MSTORE)
            .push(32) // len
            .push(0) // src
            .push(32) // dst
            .op(MCOPY)
            .push(32)
            .op(MLOAD)
            .ret_top();
        check(SpecId::Cancun, code, v, 48);
        // Overlapping copy to dst 1: bytes 1..33 = old bytes 0..32, so MLOAD(1) = v.
        // 12 + 9 + 3 + 3 + mem 3 (33 bytes → 2 words) = 30; PUSH 3 + MLOAD 3 = 6; RET' 12 → 48
        let code = Asm::new()
            .push_u(v)
            .push(0)
            .op(MSTORE)
            .push(32)
            .push(0)
            .push(1)
            .op(MCOPY)
            .push(1)
            .op(MLOAD)
            .ret_top();
        check(SpecId::Cancun, code, v, 48);
        // Zero length with huge offsets: 9 + 3 = 12, then STOP.
        let code = Asm::new().push(0).push_u(MAX).push_u(MAX).op(MCOPY);
        check_exit(&config(&code, SpecId::Cancun), ExitCode::Stop, 12);
        // MCOPY is Cancun's (EIP-5656).
        check_halt(
            SpecId::Shanghai,
            Asm::new().push(0).push(0).push(0).op(MCOPY),
            ExitCode::InvalidOpcode,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Control flow: JUMP, JUMPI, PC, GAS, STOP, RETURN, REVERT, INVALID, undefined opcodes.
// ---------------------------------------------------------------------------------------------

mod control {
    use super::*;

    #[test]
    fn jump() {
        // 0: PUSH1 4, 2: JUMP, 3: INVALID, 4: JUMPDEST, 5: PUSH1 1, RET
        // PUSH 3 + JUMP 8 + JUMPDEST 1 + PUSH 3 + RET 15 = 30
        let code = Asm::new()
            .push(4)
            .op(JUMP)
            .op(INVALID)
            .jumpdest(4)
            .push(1)
            .ret_top();
        check(P, code, u(1), 30);
    }

    #[test]
    fn jump_into_push_data_is_invalid() {
        // 60 04 56 60 5b 00: byte 4 is 0x5b but it is PUSH1's immediate.
        let code = Asm::new().push(4).op(JUMP).push(0x5b).op(STOP);
        check_halt(P, code, ExitCode::InvalidJump);
        // The same layout one byte later hits a real JUMPDEST: PUSH 3 + JUMP 8 + JUMPDEST 1 = 12.
        let code = Asm::new().push(5).op(JUMP).push(0x5b).jumpdest(5).op(STOP);
        check_exit(&config(&code, P), ExitCode::Stop, 12);
        // Inside a PUSH32 full of 0x5b.
        let code = Asm::new()
            .push(10)
            .op(JUMP)
            .push_bytes(&[0x5b; 32])
            .op(JUMPDEST);
        check_halt(P, code, ExitCode::InvalidJump);
    }

    #[test]
    fn jump_to_non_jumpdest_is_invalid() {
        // To a STOP.
        check_halt(
            P,
            Asm::new().push(3).op(JUMP).op(STOP),
            ExitCode::InvalidJump,
        );
        // Past the end of the code (the padding is not code).
        check_halt(P, Asm::new().push(100).op(JUMP), ExitCode::InvalidJump);
        check_halt(P, Asm::new().push(3).op(JUMP), ExitCode::InvalidJump);
        // 2^64 + 11 would truncate to 11, a JUMPDEST: must still be invalid.
        // 0: PUSH9 (10 bytes), 10: JUMP, 11: JUMPDEST
        let code = Asm::new().push_u(pow2(64) + u(11)).op(JUMP).jumpdest(11);
        check_halt(P, code, ExitCode::InvalidJump);
        check_halt(P, Asm::new().push_u(MAX).op(JUMP), ExitCode::InvalidJump);
    }

    /// 0: PUSH1 cond, 2: PUSH1 15, 4: JUMPI, 5: PUSH1 7, 7: RET (8 bytes), 15: JUMPDEST,
    /// 16: PUSH1 9, RET.
    fn jumpi_code(cond: U256, dest: u64) -> Asm {
        Asm::new()
            .push_n(1.max(cond.bit_len().div_ceil(8)), cond)
            .push(dest)
            .op(JUMPI)
            .push(7)
            .ret_top()
            .jumpdest(15 + cond.bit_len().div_ceil(8).saturating_sub(1))
            .push(9)
            .ret_top()
    }

    #[test]
    fn jumpi() {
        // Zero condition falls through: PUSH 3 + PUSH 3 + JUMPI 10 + PUSH 3 + RET 15 = 34
        check(P, jumpi_code(u(0), 15), u(7), 34);
        // Non-zero jumps: PUSH 3 + PUSH 3 + JUMPI 10 + JUMPDEST 1 + PUSH 3 + RET 15 = 35
        check(P, jumpi_code(u(1), 15), u(9), 35);
        // A condition whose only set bit is 2^255 is non-zero (PUSH32 shifts the code by 31).
        check(P, jumpi_code(MIN, 15 + 31), u(9), 35);
        // With a zero condition the destination is not validated.
        check(P, jumpi_code(u(0), 0xff), u(7), 34);
        check(P, jumpi_code(u(0), 3), u(7), 34);
        // With a non-zero condition it is.
        check_halt(P, jumpi_code(u(1), 3), ExitCode::InvalidJump);
        check_halt(P, jumpi_code(u(1), 0xff), ExitCode::InvalidJump);
    }

    #[test]
    fn pc() {
        // 0: PUSH1 0, 2: POP, 3: PC. PUSH 3 + POP 2 + PC 2 + RET 15 = 22
        check(P, Asm::new().push(0).op(POP).op(PC).ret_top(), u(3), 22);
        check(P, Asm::new().op(PC).ret_top(), u(0), 17);
    }

    #[test]
    fn gas() {
        // GAS reports what is left after its own 2: 100000 − 2. Used: 2 + RET 15 = 17.
        let mut cfg = config(&Asm::new().op(GAS).ret_top(), P);
        cfg.gas_limit = 100_000;
        check_cfg(&cfg, u(99_998), 17);
        // After PUSH1 + POP (5) and GAS (2): 100000 − 7.
        let mut cfg = config(&Asm::new().push(1).op(POP).op(GAS).ret_top(), P);
        cfg.gas_limit = 100_000;
        check_cfg(&cfg, u(99_993), 22);
    }

    #[test]
    fn stop_and_running_off_the_end() {
        let out = check_exit(&config(&Asm::new(), P), ExitCode::Stop, 0);
        assert!(out.output.is_empty());
        check_exit(&config(&Asm::new().op(STOP).push(1), P), ExitCode::Stop, 0);
        check_exit(&config(&Asm::new().push(1), P), ExitCode::Stop, 3);
    }

    #[test]
    fn return_data() {
        // RETURN(30, 4) of a word 0xaabbccdd at 0: bytes 30, 31 = cc dd, 32, 33 = 0.
        // PUSH 3 + PUSH 3 + MSTORE 3 + mem 3 + PUSH 3 + PUSH 3 + RETURN 0 + mem 3 (2nd word) = 21
        let code = Asm::new()
            .push(0xaabbccdd)
            .push(0)
            .op(MSTORE)
            .push(4)
            .push(30)
            .op(RETURN);
        let out = check_exit(&config(&code, P), ExitCode::Return, 21);
        assert_eq!(out.output.as_ref(), &[0xcc, 0xdd, 0, 0]);
    }

    #[test]
    fn revert_keeps_gas_and_returns_data() {
        // PUSH 3 + PUSH 3 + MSTORE 6 + PUSH 3 + PUSH 3 + REVERT 0 = 18; the rest is not consumed.
        let code = Asm::new()
            .push(0x2a)
            .push(0)
            .op(MSTORE)
            .push(32)
            .push(0)
            .op(REVERT);
        let out = check_exit(&config(&code, SpecId::Byzantium), ExitCode::Revert, 18);
        assert_eq!(word(&out), u(0x2a));
        let out = check_exit(&config(&code, P), ExitCode::Revert, 18);
        assert_eq!(word(&out), u(0x2a));
        assert!(out.logs.is_empty());
        // REVERT is Byzantium's (EIP-140); before, 0xfd is undefined.
        check_halt(SpecId::SpuriousDragon, code, ExitCode::InvalidOpcode);
    }

    #[test]
    fn invalid_and_undefined() {
        check_halt(P, Asm::new().op(INVALID), ExitCode::InvalidOpcode);
        check_halt(P, Asm::new().push(1).op(INVALID), ExitCode::InvalidOpcode);
        check_halt(
            SpecId::Frontier,
            Asm::new().op(INVALID),
            ExitCode::InvalidOpcode,
        );
        for undefined in [0x0c, 0x0d, 0x0f, 0x21, 0x4b, 0xa5, 0xef, 0xf6, 0xfb] {
            check_halt(P, Asm::new().op(undefined), ExitCode::InvalidOpcode);
            check_halt(
                SpecId::Osaka,
                Asm::new().op(undefined),
                ExitCode::InvalidOpcode,
            );
        }
        // Undefined but never reached is fine.
        check_exit(&config(&Asm::new().op(STOP).op(0x0c), P), ExitCode::Stop, 0);
    }
}

// ---------------------------------------------------------------------------------------------
// Environment: message, code, block and account queries.
// ---------------------------------------------------------------------------------------------

mod environment {
    use super::*;

    /// `OP` then return: OP's gas + RET 15.
    fn get(opcode: u8) -> Asm {
        Asm::new().op(opcode).ret_top()
    }

    #[test]
    fn message() {
        // Each: base 2 + RET 15 = 17
        check(P, get(ADDRESS), addr_word(TARGET), 17);
        check(P, get(CALLER), addr_word(SENDER), 17);
        check(P, get(ORIGIN), addr_word(SENDER), 17);
        check(P, get(GASPRICE), u(0), 17);
        let mut cfg = config(&get(CALLVALUE), P);
        cfg.value = u(1234);
        check_cfg(&cfg, u(1234), 17);
        check(P, get(CALLVALUE), u(0), 17);
    }

    #[test]
    fn calldata() {
        let input = Bytes::from(vec![0xaa, 0xbb, 0xcc]);
        let with_input = |code: Asm| {
            let mut cfg = config(&code, P);
            cfg.input = input.clone();
            cfg
        };
        // CALLDATASIZE 2 + RET 15 = 17
        check_cfg(&with_input(get(CALLDATASIZE)), u(3), 17);
        // CALLDATALOAD(1) = bb cc 00…: PUSH 3 + 3 + RET 15 = 21
        let load = |off: U256| Asm::new().push_u(off).op(CALLDATALOAD).ret_top();
        check_cfg(&with_input(load(u(1))), u(0xbbcc) << 240, 21);
        check_cfg(&with_input(load(u(0))), u(0xaabbcc) << 232, 21);
        check_cfg(&with_input(load(u(3))), u(0), 21);
        check_cfg(&with_input(load(MAX)), u(0), 21);
        check_cfg(&with_input(load(pow2(64))), u(0), 21);
        // CALLDATACOPY(0, 1, 32): 3 PUSH (9) + 3 + copy 3 + mem 3 = 18; PUSH + MLOAD 6; RET' 12
        // = 36
        let copy = Asm::new()
            .push(32)
            .push(1)
            .push(0)
            .op(CALLDATACOPY)
            .push(0)
            .op(MLOAD)
            .ret_top();
        check_cfg(&with_input(copy), u(0xbbcc) << 240, 36);
        // 33 bytes: copy 3·2 + mem 3·2 → 9 + 3 + 6 + 6 + 6 + 12 = 42
        let copy = Asm::new()
            .push(33)
            .push(0)
            .push(0)
            .op(CALLDATACOPY)
            .push(0)
            .op(MLOAD)
            .ret_top();
        check_cfg(&with_input(copy), u(0xaabbcc) << 232, 42);
        // A source offset past the input copies zeros (and still charges): same 36 gas.
        let copy = Asm::new()
            .push(32)
            .push_u(MAX)
            .push(0)
            .op(CALLDATACOPY)
            .push(0)
            .op(MLOAD)
            .ret_top();
        check_cfg(&with_input(copy), u(0), 9 + 3 + 3 + 3 + 6 + 12);
    }

    #[test]
    fn code() {
        // CODESIZE (1 byte) + RET (8 bytes) = 9. CODESIZE 2 + RET 15 = 17
        check(P, get(CODESIZE), u(9), 17);
        // CODECOPY(0, 0, 32) of an 18-byte code, then MLOAD(0): code followed by 14 zero bytes.
        // 3 PUSH (9) + 3 + copy 3 + mem 3 + PUSH + MLOAD 6 + RET' 12 = 36
        let code = Asm::new()
            .push(32)
            .push(0)
            .push(0)
            .op(CODECOPY)
            .push(0)
            .op(MLOAD)
            .ret_top();
        assert_eq!(code.len(), 18);
        let mut expect = code.0.clone();
        expect.resize(32, 0);
        check(P, code, U256::from_be_slice(&expect), 36);
    }

    #[test]
    fn block() {
        // Each: 2 + RET 15 = 17. The harness's block: chain id 1, timestamp 1, gas limit
        // 2^64 − 1, blob base fee 1, everything else 0.
        check(P, get(COINBASE), u(0), 17);
        check(P, get(TIMESTAMP), u(1), 17);
        check(P, get(NUMBER), u(0), 17);
        check(P, get(PREVRANDAO), u(0), 17);
        check(P, get(GASLIMIT), u(u64::MAX), 17);
        check(P, get(CHAINID), u(1), 17);
        check(P, get(BASEFEE), u(0), 17);
        check(P, get(BLOBBASEFEE), u(1), 17);
        // BLOBHASH(0) with no blobs: PUSH 3 + 3 + RET 15 = 21
        check(P, Asm::new().push(0).op(BLOBHASH).ret_top(), u(0), 21);
        // BLOCKHASH of the current block (0) is 0: PUSH 3 + 20 + RET 15 = 38
        check(P, Asm::new().push(0).op(BLOCKHASH).ret_top(), u(0), 38);
        check(P, Asm::new().push_u(MAX).op(BLOCKHASH).ret_top(), u(0), 38);
    }

    #[test]
    fn opcodes_arrive_with_their_forks() {
        check(SpecId::Istanbul, get(CHAINID), u(1), 17);
        check_halt(SpecId::Petersburg, get(CHAINID), ExitCode::InvalidOpcode);
        check_halt(
            SpecId::Petersburg,
            get(SELFBALANCE),
            ExitCode::InvalidOpcode,
        );
        check(SpecId::London, get(BASEFEE), u(0), 17);
        check_halt(SpecId::Berlin, get(BASEFEE), ExitCode::InvalidOpcode);
        check_halt(SpecId::Shanghai, get(BLOBBASEFEE), ExitCode::InvalidOpcode);
        check_halt(
            SpecId::Homestead,
            get(RETURNDATASIZE),
            ExitCode::InvalidOpcode,
        );
        check_halt(
            SpecId::Byzantium,
            un(EXTCODEHASH, u(1)),
            ExitCode::InvalidOpcode,
        );
        check_halt(
            SpecId::Frontier,
            un(DELEGATECALL, u(1)),
            ExitCode::InvalidOpcode,
        );
    }

    #[test]
    fn selfbalance() {
        // The call's value lands in the target first. SELFBALANCE 5 + RET 15 = 20
        let mut cfg = config(&get(SELFBALANCE), P);
        cfg.value = u(77);
        check_cfg(&cfg, u(77), 20);
    }

    #[test]
    fn returndatasize_starts_empty() {
        check(P, get(RETURNDATASIZE), u(0), 17);
    }

    #[test]
    fn returndatacopy_out_of_bounds() {
        // No return data yet: copying 1 byte from 0 is out of bounds.
        let copy = |len: u64, src: u64| Asm::new().push(len).push(src).push(0).op(RETURNDATACOPY);
        check_halt(P, copy(1, 0), ExitCode::OutOfOffset);
        // Even with length 0, an offset past the end is out of bounds (offset + 0 > 0).
        check_halt(P, copy(0, 1), ExitCode::OutOfOffset);
        // 0 bytes at 0 is fine: 3 PUSH (9) + 3 = 12, then STOP.
        check_exit(&config(&copy(0, 0), P), ExitCode::Stop, 12);
        // Offset + length overflowing 2^256 is out of bounds, not wrapped.
        let code = Asm::new().push(2).push_u(MAX).push(0).op(RETURNDATACOPY);
        check_halt(P, code, ExitCode::OutOfOffset);
    }

    /// An account with a balance and 5 bytes of code at [`OTHER`].
    fn other_account() -> Account {
        let mut a = Account::with_code(Bytes::from(vec![0x60, 0x01, 0x60, 0x02, 0x01]));
        a.balance = u(1000);
        a
    }

    fn with_account(code: &Asm, spec: SpecId) -> CallConfig {
        let mut cfg = config(code, spec);
        cfg.accounts.push((OTHER, other_account()));
        cfg
    }

    #[test]
    fn balance_cold_then_warm_berlin() {
        // PUSH20 3 + BALANCE 100 + cold 2500 + POP 2 + PUSH20 3 + BALANCE 100 (warm) + RET 15
        // = 2723
        let code = Asm::new()
            .push_addr(OTHER)
            .op(BALANCE)
            .op(POP)
            .push_addr(OTHER)
            .op(BALANCE)
            .ret_top();
        for spec in [SpecId::Berlin, SpecId::London, SpecId::Cancun, P] {
            check_cfg(&with_account(&code, spec), u(1000), 2723);
        }
        // The target itself and the caller are warm: ADDRESS 2 + BALANCE 100 + RET 15 = 117
        check(P, Asm::new().op(ADDRESS).op(BALANCE).ret_top(), u(0), 117);
        check(
            P,
            Asm::new().op(CALLER).op(BALANCE).ret_top(),
            MAX, // the harness funds the caller with 2^256 − 1
            117,
        );
        // Precompiles are warm from Berlin: PUSH 3 + 100 + RET 15 = 118
        check(P, Asm::new().push(1).op(BALANCE).ret_top(), u(0), 118);
        // A non-existent account is just as cold: 3 + 2600 + 15 = 2618
        check(
            P,
            Asm::new().push_addr(EMPTY).op(BALANCE).ret_top(),
            u(0),
            2618,
        );
    }

    #[test]
    fn balance_before_berlin() {
        // PUSH20 3 + BALANCE g + RET 15 with g = 20 (Frontier), 400 (EIP-150), 700 (EIP-1884).
        let code = Asm::new().push_addr(OTHER).op(BALANCE).ret_top();
        for (spec, g) in [
            (SpecId::Frontier, 20),
            (SpecId::Homestead, 20),
            (SpecId::Tangerine, 400),
            (SpecId::Petersburg, 400),
            (SpecId::Istanbul, 700),
        ] {
            check_cfg(&with_account(&code, spec), u(1000), 3 + g + 15);
        }
    }

    #[test]
    fn extcodesize_cold_then_warm() {
        // PUSH20 3 + EXTCODESIZE 2600 (cold) + POP 2 + PUSH20 3 + 100 (warm) + RET 15 = 2723
        let code = Asm::new()
            .push_addr(OTHER)
            .op(EXTCODESIZE)
            .op(POP)
            .push_addr(OTHER)
            .op(EXTCODESIZE)
            .ret_top();
        check_cfg(&with_account(&code, SpecId::Berlin), u(5), 2723);
        check_cfg(&with_account(&code, P), u(5), 2723);
        // Warmth is per account, shared between opcodes: EXTCODESIZE then BALANCE → 2723.
        let code = Asm::new()
            .push_addr(OTHER)
            .op(EXTCODESIZE)
            .op(POP)
            .push_addr(OTHER)
            .op(BALANCE)
            .ret_top();
        check_cfg(&with_account(&code, P), u(1000), 2723);
        // Pre-Berlin: 700 since EIP-150 (3 + 700 + 15), 20 in Frontier.
        let code = Asm::new().push_addr(OTHER).op(EXTCODESIZE).ret_top();
        check_cfg(&with_account(&code, SpecId::Istanbul), u(5), 718);
        check_cfg(&with_account(&code, SpecId::Frontier), u(5), 38);
        // Own code size via EXTCODESIZE(ADDRESS): 2 + 100 + 15 = 117; the code is 10 bytes.
        check(
            P,
            Asm::new().op(ADDRESS).op(EXTCODESIZE).ret_top(),
            u(10),
            117,
        );
    }

    #[test]
    fn extcodehash() {
        // PUSH20 3 + EXTCODEHASH 2600 (cold) + RET 15 = 2618
        let code = Asm::new().push_addr(OTHER).op(EXTCODEHASH).ret_top();
        let h = keccak256(other_account().code);
        check_cfg(&with_account(&code, P), U256::from_be_bytes(h.0), 2618);
        // A non-existent account hashes to 0.
        let code = Asm::new().push_addr(EMPTY).op(EXTCODEHASH).ret_top();
        check(P, code.clone(), u(0), 2618);
        // An existing but empty account (EIP-161) also hashes to 0.
        let mut cfg = config(&code, P);
        cfg.accounts.push((EMPTY, Account::default()));
        check_cfg(&cfg, u(0), 2618);
        // An account with only a balance hashes to keccak256("").
        let mut cfg = config(&code, P);
        cfg.accounts.push((
            EMPTY,
            Account {
                balance: u(1),
                ..Account::default()
            },
        ));
        check_cfg(&cfg, U256::from_be_bytes(keccak256([]).0), 2618);
        // Constantinople: 400 flat. Istanbul: 700.
        let code = Asm::new().push_addr(OTHER).op(EXTCODEHASH).ret_top();
        check_cfg(
            &with_account(&code, SpecId::Constantinople),
            U256::from_be_bytes(h.0),
            418,
        );
        check_cfg(
            &with_account(&code, SpecId::Istanbul),
            U256::from_be_bytes(h.0),
            718,
        );
    }

    #[test]
    fn extcodecopy() {
        // EXTCODECOPY(OTHER, 0, 0, 32): 3 PUSH (9) + PUSH20 3 + 100 + cold 2500 + copy 3
        // + mem 3 = 2618; PUSH + MLOAD 6; RET' 12 → 2636
        let code = Asm::new()
            .push(32)
            .push(0)
            .push(0)
            .push_addr(OTHER)
            .op(EXTCODECOPY)
            .push(0)
            .op(MLOAD)
            .ret_top();
        let mut expect = other_account().code.to_vec();
        expect.resize(32, 0);
        check_cfg(&with_account(&code, P), U256::from_be_slice(&expect), 2636);
    }
}

// ---------------------------------------------------------------------------------------------
// Storage and transient storage.
// ---------------------------------------------------------------------------------------------

mod storage {
    use super::*;

    fn with_storage(code: &Asm, spec: SpecId, slots: &[(u64, u64)]) -> CallConfig {
        let mut cfg = config(code, spec);
        cfg.storage = slots.iter().map(|&(k, v)| (u(k), u(v))).collect();
        cfg
    }

    /// `SSTORE(key, value)` then STOP: PUSH 3 + PUSH 3 + SSTORE.
    fn sstore(key: u64, value: u64) -> Asm {
        Asm::new().push(value).push(key).op(SSTORE)
    }

    fn slot(out: &CallOutcome, key: u64) -> U256 {
        out.state.storage(&TARGET, &u(key))
    }

    #[test]
    fn sload_cold_then_warm() {
        let code = Asm::new().push(1).op(SLOAD).ret_top();
        // PUSH 3 + SLOAD 2100 (cold, EIP-2929) + RET 15 = 2118
        check_cfg(&with_storage(&code, P, &[(1, 0x42)]), u(0x42), 2118);
        check_cfg(
            &with_storage(&code, SpecId::Berlin, &[(1, 0x42)]),
            u(0x42),
            2118,
        );
        // Unset slots cost the same.
        check_cfg(&with_storage(&code, P, &[]), u(0), 2118);
        // PUSH 3 + 2100 + POP 2 + PUSH 3 + SLOAD 100 (warm) + RET 15 = 2223
        let code = Asm::new()
            .push(1)
            .op(SLOAD)
            .op(POP)
            .push(1)
            .op(SLOAD)
            .ret_top();
        check_cfg(&with_storage(&code, P, &[(1, 0x42)]), u(0x42), 2223);
    }

    #[test]
    fn sload_before_berlin() {
        // PUSH 3 + SLOAD g + RET 15: 50 (Frontier), 200 (EIP-150), 800 (EIP-1884).
        let code = Asm::new().push(1).op(SLOAD).ret_top();
        for (spec, g) in [
            (SpecId::Frontier, 50),
            (SpecId::Tangerine, 200),
            (SpecId::Petersburg, 200),
            (SpecId::Istanbul, 800),
        ] {
            check_cfg(&with_storage(&code, spec, &[(1, 7)]), u(7), 3 + g + 15);
        }
    }

    #[test]
    fn sstore_fresh_cold_nonzero() {
        // 0 → 0x42, cold: 20000 + 2100 = 22100. PUSH 3 + PUSH 3 + 22100 = 22106
        for spec in [
            SpecId::Berlin,
            SpecId::London,
            SpecId::Cancun,
            P,
            SpecId::Osaka,
        ] {
            let out = check_exit(&config(&sstore(1, 0x42), spec), ExitCode::Stop, 22_106);
            assert_eq!(slot(&out, 1), u(0x42));
            assert_eq!(out.gas_refund, 0);
        }
        // Pre-Berlin: 20000 flat. 6 + 20000
        for spec in [SpecId::Frontier, SpecId::Petersburg, SpecId::Istanbul] {
            let out = check_exit(&config(&sstore(1, 0x42), spec), ExitCode::Stop, 20_006);
            assert_eq!(slot(&out, 1), u(0x42));
        }
    }

    #[test]
    fn sstore_reset_cold() {
        // 1 → 2 on a cold slot: 5000 − 2100 = 2900 plus the 2100 cold surcharge. 6 + 5000.
        let out = check_exit(
            &with_storage(&sstore(1, 2), P, &[(1, 1)]),
            ExitCode::Stop,
            5006,
        );
        assert_eq!(slot(&out, 1), u(2));
        assert_eq!(out.gas_refund, 0);
        // The same slot warmed first by SLOAD: PUSH 3 + 2100 + POP 2 + 6 + 2900 = 5011.
        let code = Asm::new()
            .push(1)
            .op(SLOAD)
            .op(POP)
            .push(2)
            .push(1)
            .op(SSTORE);
        check_exit(&with_storage(&code, P, &[(1, 1)]), ExitCode::Stop, 5011);
    }

    #[test]
    fn sstore_clear_refunds() {
        // 1 → 0 cold: 5000 gas (2900 + 2100). Refund 4800 since London (EIP-3529), 15000 before.
        for (spec, gas, refund) in [
            (SpecId::Frontier, 6 + 5000, 15_000),
            (SpecId::Petersburg, 6 + 5000, 15_000),
            (SpecId::Istanbul, 6 + 5000, 15_000),
            (SpecId::Berlin, 6 + 5000, 15_000),
            (SpecId::London, 6 + 5000, 4800),
            (P, 6 + 5000, 4800),
        ] {
            let out = check_exit(
                &with_storage(&sstore(1, 0), spec, &[(1, 1)]),
                ExitCode::Stop,
                gas,
            );
            assert_eq!(out.gas_refund, refund, "{spec:?}");
            assert_eq!(slot(&out, 1), u(0));
        }
    }

    #[test]
    fn sstore_no_op() {
        // Writing the present value: warm-read price. Cold: 100 + 2100. Istanbul 800 (EIP-2200),
        // Constantinople 200 (EIP-1283), Petersburg 5000 (old rule: non-zero → non-zero).
        for (spec, g) in [
            (P, 2200),
            (SpecId::Berlin, 2200),
            (SpecId::Istanbul, 800),
            (SpecId::Constantinople, 200),
            (SpecId::Petersburg, 5000),
        ] {
            let out = check_exit(
                &with_storage(&sstore(1, 1), spec, &[(1, 1)]),
                ExitCode::Stop,
                6 + g,
            );
            assert_eq!(out.gas_refund, 0, "{spec:?}");
        }
        // 0 → 0: same price. Pre-Istanbul 0 → 0 is a "reset": 5000.
        check_exit(&config(&sstore(1, 0), P), ExitCode::Stop, 6 + 2200);
        check_exit(
            &config(&sstore(1, 0), SpecId::Petersburg),
            ExitCode::Stop,
            6 + 5000,
        );
    }

    #[test]
    fn sstore_dirty_slots_london() {
        // 0 → 1 → 0: 22100, then warm dirty write 100 with refund 20000 − 100 = 19900.
        // 2·6 + 22100 + 100 = 22212
        let code = sstore(1, 1).push(0).push(1).op(SSTORE);
        let out = check_exit(&config(&code, P), ExitCode::Stop, 22_212);
        assert_eq!(out.gas_refund, 19_900);
        assert_eq!(slot(&out, 1), u(0));
        // 1 → 2 → 1: 5000, then 100 with refund (5000 − 2100) − 100 = 2800. 12 + 5100 = 5112
        let code = sstore(1, 2).push(1).push(1).op(SSTORE);
        let out = check_exit(&with_storage(&code, P, &[(1, 1)]), ExitCode::Stop, 5112);
        assert_eq!(out.gas_refund, 2800);
        // 1 → 0 → 1: 5000 (+4800), then 100 (−4800 + 2800). Net refund 2800. 5112 gas.
        let code = sstore(1, 0).push(1).push(1).op(SSTORE);
        let out = check_exit(&with_storage(&code, P, &[(1, 1)]), ExitCode::Stop, 5112);
        assert_eq!(out.gas_refund, 2800);
        // 1 → 2 → 0: 5000, then 100 with refund 4800. 5112 gas.
        let code = sstore(1, 2).push(0).push(1).op(SSTORE);
        let out = check_exit(&with_storage(&code, P, &[(1, 1)]), ExitCode::Stop, 5112);
        assert_eq!(out.gas_refund, 4800);
    }

    #[test]
    fn sstore_refund_is_dropped_on_revert() {
        // 1 → 0 then REVERT(0, 0): 6 + 5000 + PUSH 3 + PUSH 3 = 5012, no refund, slot restored.
        let code = sstore(1, 0).push(0).push(0).op(REVERT);
        let out = check_exit(&with_storage(&code, P, &[(1, 1)]), ExitCode::Revert, 5012);
        assert_eq!(out.gas_refund, 0);
        assert_eq!(slot(&out, 1), u(1));
    }

    #[test]
    fn sstore_sentry_istanbul() {
        // EIP-2200: SSTORE with gas left ≤ 2300 fails, whatever it would cost.
        // No-op write (800 in Istanbul) with exactly 2301 left after the two pushes: fine, 806.
        let mut cfg = with_storage(&sstore(1, 1), SpecId::Istanbul, &[(1, 1)]);
        cfg.gas_limit = 6 + 2301;
        check_exit(&cfg, ExitCode::Stop, 806);
        // With 2300 left: out of gas, all gas used.
        cfg.gas_limit = 6 + 2300;
        check_exit(&cfg, ExitCode::OutOfGas, 2306);
        // Same in Berlin (no-op on a cold slot costs 2200, still under 2301).
        let mut cfg = with_storage(&sstore(1, 1), SpecId::Berlin, &[(1, 1)]);
        cfg.gas_limit = 6 + 2301;
        check_exit(&cfg, ExitCode::Stop, 2206);
        cfg.gas_limit = 6 + 2300;
        check_exit(&cfg, ExitCode::OutOfGas, 2306);
        // Constantinople's EIP-1283 had no sentry: a 200-gas no-op with 200 left succeeds.
        let mut cfg = with_storage(&sstore(1, 1), SpecId::Constantinople, &[(1, 1)]);
        cfg.gas_limit = 6 + 200;
        check_exit(&cfg, ExitCode::Stop, 206);
    }

    #[test]
    fn transient_storage_cancun() {
        // PUSH 3 + PUSH 3 + TSTORE 100 + PUSH 3 + TLOAD 100 + RET 15 = 224
        let code = Asm::new()
            .push(0x42)
            .push(1)
            .op(TSTORE)
            .push(1)
            .op(TLOAD)
            .ret_top();
        let out = check(SpecId::Cancun, code.clone(), u(0x42), 224);
        // Transient: nothing reaches storage.
        assert_eq!(slot(&out, 1), u(0));
        check(P, code, u(0x42), 224);
        // Unset key: PUSH 3 + TLOAD 100 + RET 15 = 118 (no warm/cold distinction).
        check(
            SpecId::Cancun,
            Asm::new().push(1).op(TLOAD).ret_top(),
            u(0),
            118,
        );
        // Before Cancun the opcodes do not exist (EIP-1153).
        check_halt(
            SpecId::Shanghai,
            Asm::new().push(1).op(TLOAD),
            ExitCode::InvalidOpcode,
        );
        check_halt(
            SpecId::Shanghai,
            Asm::new().push(1).push(1).op(TSTORE),
            ExitCode::InvalidOpcode,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Logs.
// ---------------------------------------------------------------------------------------------

mod logs {
    use super::*;

    #[test]
    fn log0_empty() {
        // PUSH 3 + PUSH 3 + LOG0 375 = 381
        let code = Asm::new().push(0).push(0).op(LOG0);
        let out = check_exit(&config(&code, P), ExitCode::Stop, 381);
        assert_eq!(out.logs.len(), 1);
        assert_eq!(out.logs[0].address, TARGET);
        assert!(out.logs[0].topics.is_empty());
        assert!(out.logs[0].data.is_empty());
    }

    #[test]
    fn log2_with_a_word() {
        // PUSH32 3 + PUSH 3 + MSTORE 3 + mem 3 = 12
        // 4 PUSH (12) + LOG2 375 + 2·375 + 8·32 = 12 + 1125 + 256
        // Total 12 + 12 + 1125 + 256 = 1405
        let v = MAX - u(1);
        let code = Asm::new()
            .push_u(v)
            .push(0)
            .op(MSTORE)
            .push(0x22) // topic 2
            .push(0x11) // topic 1
            .push(32) // length
            .push(0) // offset
            .op(LOG2);
        let out = check_exit(&config(&code, P), ExitCode::Stop, 1405);
        assert_eq!(out.logs.len(), 1);
        let log = &out.logs[0];
        assert_eq!(log.topics, vec![B256::from(u(0x11)), B256::from(u(0x22))]);
        assert_eq!(log.data.as_ref(), &v.to_be_bytes::<32>());
    }

    #[test]
    fn log4_expands_memory() {
        // 6 PUSH (18) + LOG4 375 + 4·375 + 8·3 bytes + mem to 33 bytes (2 words: 6)
        // = 18 + 1875 + 24 + 6 = 1923
        let code = Asm::new()
            .push(4)
            .push(3)
            .push(2)
            .push(1)
            .push(3) // length
            .push(30) // offset
            .op(LOG4);
        let out = check_exit(&config(&code, SpecId::Frontier), ExitCode::Stop, 1923);
        assert_eq!(out.logs[0].topics.len(), 4);
        assert_eq!(out.logs[0].topics[3], B256::from(u(4)));
        assert_eq!(out.logs[0].data.as_ref(), &[0, 0, 0]);
        let out = check_exit(&config(&code, P), ExitCode::Stop, 1923);
        assert_eq!(out.logs[0].topics[0], B256::from(u(1)));
    }

    #[test]
    fn logs_of_a_reverted_frame_are_dropped() {
        // LOG0 381 + PUSH 3 + PUSH 3 + REVERT 0 = 387
        let code = Asm::new()
            .push(0)
            .push(0)
            .op(LOG0)
            .push(0)
            .push(0)
            .op(REVERT);
        let out = check_exit(&config(&code, P), ExitCode::Revert, 387);
        assert!(out.logs.is_empty());
    }

    #[test]
    fn log_zero_length_at_huge_offset() {
        // LOG0(MAX, 0): no memory touched. PUSH 3 + PUSH32 3 + 375 = 381
        let code = Asm::new().push(0).push_u(MAX).op(LOG0);
        let out = check_exit(&config(&code, P), ExitCode::Stop, 381);
        assert!(out.logs[0].data.is_empty());
    }

    #[test]
    fn log_in_a_sub_call_is_attributed_to_the_callee() {
        // OTHER: LOG1(0, 0, topic 7) = 3 PUSH (9) + 750 = 759.
        // TARGET: CALL(0xffff, OTHER, 0, 0, 0, 0, 0) = 21 + 100 + 2500 + 759 = 3380, STOP.
        let callee = Asm::new().push(7).push(0).push(0).op(LOG1);
        let code = Asm::new()
            .push(0)
            .push(0)
            .push(0)
            .push(0)
            .push(0)
            .push_addr(OTHER)
            .push(0xffff)
            .op(CALL);
        let out = check_exit(&with_other(&code, P, &callee), ExitCode::Stop, 3380);
        assert_eq!(out.logs.len(), 1);
        assert_eq!(out.logs[0].address, OTHER);
        assert_eq!(out.logs[0].topics, vec![B256::from(u(7))]);
    }

    #[test]
    fn log_out_of_gas_on_data() {
        // LOG0 of 10 bytes: 6 + 375 + 80 + mem 3 = 464. One less is out of gas.
        let code = Asm::new().push(10).push(0).op(LOG0);
        let mut cfg = config(&code, P);
        cfg.gas_limit = 464;
        check_exit(&cfg, ExitCode::Stop, 464);
        cfg.gas_limit = 463;
        let out = check_exit(&cfg, ExitCode::OutOfGas, 463);
        assert!(out.logs.is_empty());
    }
}

// ---------------------------------------------------------------------------------------------
// Calls, creates and precompiles.
// ---------------------------------------------------------------------------------------------

mod calls {
    use super::*;

    /// `STATICCALL(gas, OTHER, 0, 0, 0, 0)` and return the success flag.
    /// 6 PUSH (18) + STATICCALL 100 + cold 2500 + callee + RET 15.
    fn staticcall_other(gas: u64) -> Asm {
        Asm::new()
            .push(0)
            .push(0)
            .push(0)
            .push(0)
            .push_addr(OTHER)
            .push(gas)
            .op(STATICCALL)
            .ret_top()
    }

    #[test]
    fn static_call_violations_push_zero() {
        // The callee halts, so all 10000 forwarded gas is gone:
        // 18 + 2600 + 10000 + RET 15 = 12633
        let violators = [
            ("SSTORE", Asm::new().push(1).push(0).op(SSTORE)),
            ("LOG0", Asm::new().push(0).push(0).op(LOG0)),
            ("LOG2", Asm::new().push(0).push(0).push(0).push(0).op(LOG2)),
            ("TSTORE", Asm::new().push(1).push(0).op(TSTORE)),
            ("CREATE", Asm::new().push(0).push(0).push(0).op(CREATE)),
            (
                "CREATE2",
                Asm::new().push(0).push(0).push(0).push(0).op(CREATE2),
            ),
            (
                "SELFDESTRUCT",
                Asm::new().push_addr(SENDER).op(SELFDESTRUCT),
            ),
            (
                "CALL with value",
                Asm::new()
                    .push(0)
                    .push(0)
                    .push(0)
                    .push(0)
                    .push(1)
                    .push_addr(SENDER)
                    .push(0)
                    .op(CALL),
            ),
        ];
        for (what, callee) in violators {
            let cfg = with_other(&staticcall_other(10_000), P, &callee);
            let out = support::run_both(&cfg);
            assert_eq!(out.exit, ExitCode::Return, "{what}");
            assert_eq!(word(&out), u(0), "{what} inside STATICCALL must fail");
            assert_eq!(out.gas_used, 12_633, "{what}");
            assert_eq!(out.state.storage(&OTHER, &u(0)), u(0), "{what}");
            assert!(out.logs.is_empty(), "{what}");
        }
    }

    #[test]
    fn static_call_reads_are_fine() {
        // Callee: PUSH1 0, SLOAD (cold 2100), POP, STOP = 3 + 2100 + 2 = 2105.
        // 18 + 2600 + 2105 + RET 15 = 4738, success.
        let callee = Asm::new().push(0).op(SLOAD).op(POP);
        check_cfg(
            &with_other(&staticcall_other(10_000), P, &callee),
            u(1),
            4738,
        );
        // CALL without value inside a static call is allowed (to an empty account):
        // callee 7 PUSH (21) + CALL 100 + cold 2500 = 2621. 18 + 2600 + 2621 + 15 = 5254
        let callee = Asm::new()
            .push(0)
            .push(0)
            .push(0)
            .push(0)
            .push(0)
            .push_addr(EMPTY)
            .push(0)
            .op(CALL);
        check_cfg(
            &with_other(&staticcall_other(10_000), P, &callee),
            u(1),
            5254,
        );
    }

    /// `CALL(gas, to, value, 0, 0, 0, 0)` and return the success flag.
    /// 7 PUSH (21) + CALL + RET 15.
    fn call_flag(to: Address, value: u64, gas: u64) -> Asm {
        Asm::new()
            .push(0)
            .push(0)
            .push(0)
            .push(0)
            .push(value)
            .push_addr(to)
            .push(gas)
            .op(CALL)
            .ret_top()
    }

    #[test]
    fn call_with_value_to_an_empty_account() {
        // CALL 100 + cold 2500 + value 9000 + new account 25000 = 36600; the callee gets
        // 0 + 2300 stipend, has no code and hands all 2300 back, which the caller keeps.
        // 21 + 36600 − 2300 + RET 15 = 34336
        let mut cfg = config(&call_flag(EMPTY, 1, 0), P);
        cfg.value = u(1);
        let out = check_cfg(&cfg, u(1), 34_336);
        assert_eq!(out.state.accounts[&EMPTY].balance, u(1));
        assert_eq!(out.state.accounts[&TARGET].balance, u(0));
        // Requesting more gas changes nothing: the empty callee returns it all.
        let mut cfg = config(&call_flag(EMPTY, 1, 50_000), P);
        cfg.value = u(1);
        check_cfg(&cfg, u(1), 34_336);
        // Tangerine Whistle: CALL 700 + 9000 + 25000 (account does not exist) − 2300:
        // 21 + 34700 − 2300 + 15 = 32436
        let mut cfg = config(&call_flag(EMPTY, 1, 0), SpecId::Tangerine);
        cfg.value = u(1);
        check_cfg(&cfg, u(1), 32_436);
    }

    #[test]
    fn call_without_value_to_an_empty_account() {
        // Since EIP-161 no new-account charge without value: 21 + 100 + 2500 + 15 = 2636
        check(P, call_flag(EMPTY, 0, 0), u(1), 2636);
        // Before, any call to a non-existent account paid it: 21 + 700 + 25000 + 15 = 25736
        check(SpecId::Tangerine, call_flag(EMPTY, 0, 0), u(1), 25_736);
        // Frontier: CALL is 40. 21 + 40 + 25000 + 15 = 25076
        check(SpecId::Frontier, call_flag(EMPTY, 0, 0), u(1), 25_076);
        // ...but not to one that exists: 21 + 700 + 15 = 736
        let mut cfg = config(&call_flag(OTHER, 0, 0), SpecId::Tangerine);
        cfg.accounts.push((OTHER, Account::default()));
        check_cfg(&cfg, u(1), 736);
    }

    #[test]
    fn call_with_value_to_an_existing_account() {
        // No new-account charge: 21 + 100 + 2500 + 9000 − 2300 + 15 = 9336
        let mut cfg = config(&call_flag(OTHER, 1, 0), P);
        cfg.value = u(1);
        cfg.accounts.push((
            OTHER,
            Account {
                balance: u(5),
                ..Account::default()
            },
        ));
        let out = check_cfg(&cfg, u(1), 9336);
        assert_eq!(out.state.accounts[&OTHER].balance, u(6));
    }

    #[test]
    fn call_with_insufficient_balance() {
        // The target has no balance: the call fails (0) without running, but all charges
        // apply and the forwarded gas plus stipend come back: same 34336 as a successful call.
        let out = check(P, call_flag(EMPTY, 1, 0), u(0), 34_336);
        assert!(!out.state.accounts.contains_key(&EMPTY));
    }

    /// OTHER returns the word 0x2a: PUSH 3 + RET 15 = 18 gas.
    fn returns_2a() -> Asm {
        Asm::new().push(0x2a).ret_top()
    }

    #[test]
    fn call_return_data() {
        // CALL(0xffff, OTHER, 0, 0, 0, 0, 32) writes the word into memory [0, 32).
        // 7 PUSH (21) + 100 + 2500 + mem 3 + callee 18 + POP 2 + PUSH 3 + PUSH 3 + RETURN = 2650
        let code = Asm::new()
            .push(32)
            .push(0)
            .push(0)
            .push(0)
            .push(0)
            .push_addr(OTHER)
            .push(0xffff)
            .op(CALL)
            .op(POP)
            .push(32)
            .push(0)
            .op(RETURN);
        check_cfg(&with_other(&code, P, &returns_2a()), u(0x2a), 2650);
        // Without an output area: RETURNDATASIZE is 32.
        // 21 + 2600 + 18 + POP 2 + RETURNDATASIZE 2 + RET 15 = 2658
        let code = Asm::new()
            .push(0)
            .push(0)
            .push(0)
            .push(0)
            .push(0)
            .push_addr(OTHER)
            .push(0xffff)
            .op(CALL)
            .op(POP)
            .op(RETURNDATASIZE)
            .ret_top();
        check_cfg(&with_other(&code, P, &returns_2a()), u(32), 2658);
        // RETURNDATACOPY(0, 0, 32): 21 + 2600 + 18 + 2 = 2641; 3 PUSH (9) + 3 + copy 3 + mem 3
        // = 18; PUSH 3 + PUSH 3 + RETURN = 6 → 2665
        let call = Asm::new()
            .push(0)
            .push(0)
            .push(0)
            .push(0)
            .push(0)
            .push_addr(OTHER)
            .push(0xffff)
            .op(CALL)
            .op(POP);
        let code = call
            .clone()
            .push(32)
            .push(0)
            .push(0)
            .op(RETURNDATACOPY)
            .push(32)
            .push(0)
            .op(RETURN);
        check_cfg(&with_other(&code, P, &returns_2a()), u(0x2a), 2665);
        // Copying 32 bytes from offset 1 of 32 bytes of return data is out of bounds.
        let code = call
            .push(32)
            .push(1)
            .push(0)
            .op(RETURNDATACOPY)
            .push(32)
            .push(0)
            .op(RETURN);
        let mut cfg = with_other(&code, P, &returns_2a());
        cfg.gas_limit = 100_000;
        check_exit(&cfg, ExitCode::OutOfOffset, 100_000);
    }

    #[test]
    fn delegatecall_sees_caller_and_value() {
        // OTHER returns CALLER, CALLVALUE, ADDRESS as three words:
        // 3 × (2 + PUSH 3 + MSTORE 3 + mem 3) + PUSH 3 + PUSH 3 + RETURN 0 = 33 + 6 = 39
        let callee = Asm::new()
            .op(CALLER)
            .push(0)
            .op(MSTORE)
            .op(CALLVALUE)
            .push(32)
            .op(MSTORE)
            .op(ADDRESS)
            .push(64)
            .op(MSTORE)
            .push(96)
            .push(0)
            .op(RETURN);
        // DELEGATECALL(0xffff, OTHER, 0, 0, 0, 96): 6 PUSH (18) + 100 + cold 2500 + mem 9
        // (3 words for the output) + callee 39 + POP 2 + PUSH 3 + PUSH 3 + RETURN = 2674
        let code = Asm::new()
            .push(96)
            .push(0)
            .push(0)
            .push(0)
            .push_addr(OTHER)
            .push(0xffff)
            .op(DELEGATECALL)
            .op(POP)
            .push(96)
            .push(0)
            .op(RETURN);
        let mut cfg = with_other(&code, P, &callee);
        cfg.value = u(7);
        let out = check_exit(&cfg, ExitCode::Return, 2674);
        let mut want = Vec::new();
        want.extend_from_slice(&addr_word(SENDER).to_be_bytes::<32>());
        want.extend_from_slice(&u(7).to_be_bytes::<32>());
        want.extend_from_slice(&addr_word(TARGET).to_be_bytes::<32>());
        assert_eq!(out.output.as_ref(), want.as_slice());

        // CALLCODE with value 5: caller and address are the target, value is 5, and the
        // callee gets a stipend. 7 PUSH (21) + 100 + 2500 + 9000 + mem 9 + callee 39 − stipend
        // 2300 (handed back) + POP 2 + 6 = 9377
        let code = Asm::new()
            .push(96)
            .push(0)
            .push(0)
            .push(0)
            .push(5)
            .push_addr(OTHER)
            .push(0xffff)
            .op(CALLCODE)
            .op(POP)
            .push(96)
            .push(0)
            .op(RETURN);
        let mut cfg = with_other(&code, P, &callee);
        cfg.value = u(5);
        let out = check_exit(&cfg, ExitCode::Return, 9377);
        let mut want = Vec::new();
        want.extend_from_slice(&addr_word(TARGET).to_be_bytes::<32>());
        want.extend_from_slice(&u(5).to_be_bytes::<32>());
        want.extend_from_slice(&addr_word(TARGET).to_be_bytes::<32>());
        assert_eq!(out.output.as_ref(), want.as_slice());
        assert_eq!(out.state.accounts[&TARGET].balance, u(5));
    }

    #[test]
    fn delegatecall_writes_the_callers_storage() {
        // Callee: SSTORE(1, 0x42) = 6 + 22100 (TARGET's slot 1, cold, fresh).
        // 6 PUSH (18) + 100 + 2500 + 22106 = 24724
        let callee = Asm::new().push(0x42).push(1).op(SSTORE);
        let code = Asm::new()
            .push(0)
            .push(0)
            .push(0)
            .push(0)
            .push_addr(OTHER)
            .push(0x0f_ffff)
            .op(DELEGATECALL);
        let out = check_exit(&with_other(&code, P, &callee), ExitCode::Stop, 24_724);
        assert_eq!(out.state.storage(&TARGET, &u(1)), u(0x42));
        assert_eq!(out.state.storage(&OTHER, &u(1)), u(0));
    }

    /// Initcode deploying `runtime` (≤ 32 bytes): PUSHn runtime, PUSH1 0, MSTORE,
    /// PUSH1 n, PUSH1 32−n, RETURN. Gas: 3 + 3 + 6 + 3 + 3 + 0 = 18.
    fn initcode(runtime: &[u8]) -> Asm {
        let n = runtime.len() as u64;
        Asm::new()
            .push_bytes(runtime)
            .push(0)
            .op(MSTORE)
            .push(n)
            .push(32 - n)
            .op(RETURN)
    }

    /// Runtime code returning 42 (10 bytes).
    fn runtime_42() -> Asm {
        Asm::new().push(42).ret_top()
    }

    /// Places `init` (≤ 32 bytes) at memory[32 − len, 32): PUSHn init, PUSH1 0, MSTORE.
    /// Gas: 3 + 3 + 3 + mem 3 = 12.
    fn stage(init: &Asm) -> Asm {
        Asm::new().push_bytes(&init.0).push(0).op(MSTORE)
    }

    #[test]
    fn create_address_and_code() {
        let runtime = runtime_42();
        let init = initcode(&runtime.0);
        let n = init.len() as u64; // 19
        assert_eq!(n, 19);
        // stage 12; 3 PUSH (9) + CREATE 32000 + initcode 2·1 word (EIP-3860) = 32011;
        // initcode 18 + deposit 200·10 = 2018 (the unused 63/64 comes back);
        // DUP1 3 + EXTCODESIZE 100 (the new address is warm) + PUSH 3 + MSTORE 3 + mem 3 = 112;
        // PUSH 3 + MSTORE 3 = 6; PUSH 3 + PUSH 3 + RETURN = 6. Total 12 + 32011 + 2018 + 112 + 12
        // = 34165
        let code = stage(&init)
            .push(n)
            .push(32 - n)
            .push(0)
            .op(CREATE)
            .op(DUP1)
            .op(EXTCODESIZE)
            .push(32)
            .op(MSTORE)
            .push(0)
            .op(MSTORE)
            .push(64)
            .push(0)
            .op(RETURN);
        let out = check_exit(&config(&code, P), ExitCode::Return, 34_165);
        // CREATE address: keccak256(rlp([sender, nonce]))[12..]; the target has nonce 1.
        // rlp = 0xd6 0x94 <20-byte sender> 0x01.
        let mut rlp = vec![0xd6, 0x94];
        rlp.extend_from_slice(TARGET.as_slice());
        rlp.push(0x01);
        let want = Address::from_slice(&keccak256(&rlp)[12..]);
        assert_eq!(&out.output[12..32], want.as_slice(), "created address");
        assert_eq!(U256::from_be_slice(&out.output[32..]), u(10), "code size");
        let created = &out.state.accounts[&want];
        assert_eq!(created.code.as_ref(), runtime.0.as_slice());
        assert_eq!(created.nonce, 1, "EIP-161: new contracts start at nonce 1");
        assert_eq!(out.state.accounts[&TARGET].nonce, 2);
    }

    #[test]
    fn create2_address_and_code() {
        let runtime = runtime_42();
        let init = initcode(&runtime.0);
        let n = init.len() as u64;
        let salt = u(0x5a17);
        // As CREATE plus hashing the initcode: 6·1 word, plus one more PUSH (salt):
        // 12 + 4 PUSH (12) + 32000 + 2 + 6 + 2018 + 112 + 6 + 6 = 34174
        let code = stage(&init)
            .push_u(salt)
            .push(n)
            .push(32 - n)
            .push(0)
            .op(CREATE2)
            .op(DUP1)
            .op(EXTCODESIZE)
            .push(32)
            .op(MSTORE)
            .push(0)
            .op(MSTORE)
            .push(64)
            .push(0)
            .op(RETURN);
        let out = check_exit(&config(&code, P), ExitCode::Return, 34_174);
        // keccak256(0xff ‖ sender ‖ salt ‖ keccak256(initcode))[12..]
        let mut pre = vec![0xff];
        pre.extend_from_slice(TARGET.as_slice());
        pre.extend_from_slice(&salt.to_be_bytes::<32>());
        pre.extend_from_slice(keccak256(&init.0).as_slice());
        let want = Address::from_slice(&keccak256(&pre)[12..]);
        assert_eq!(&out.output[12..32], want.as_slice(), "created address");
        assert_eq!(U256::from_be_slice(&out.output[32..]), u(10), "code size");
        assert_eq!(
            out.state.accounts[&want].code.as_ref(),
            runtime.0.as_slice()
        );
        // CREATE2 needs Constantinople (EIP-1014).
        check_halt(
            SpecId::Byzantium,
            Asm::new().push(0).push(0).push(0).push(0).op(CREATE2),
            ExitCode::InvalidOpcode,
        );
    }

    #[test]
    fn created_contract_runs() {
        // CREATE then CALL the new contract and return what it returns (42).
        let init = initcode(&runtime_42().0);
        let n = init.len() as u64;
        let code = stage(&init)
            .push(n)
            .push(32 - n)
            .push(0)
            .op(CREATE) // [addr]
            .push(32)
            .push(0)
            .push(0)
            .push(0)
            .push(0)
            .op(DUP6)
            .op(GAS)
            .op(CALL)
            .push(32)
            .push(0)
            .op(RETURN);
        let out = support::run_both(&config(&code, P));
        assert_eq!(out.exit, ExitCode::Return);
        assert_eq!(word(&out), u(42));
    }

    #[test]
    fn create_failures_push_zero() {
        // Initcode that reverts with one word: CREATE pushes 0 and RETURNDATASIZE is 32.
        let reverting = Asm::new()
            .push(0x2a)
            .push(0)
            .op(MSTORE)
            .push(32)
            .push(0)
            .op(REVERT);
        let n = reverting.len() as u64;
        let code = stage(&reverting)
            .push(n)
            .push(32 - n)
            .push(0)
            .op(CREATE)
            .op(RETURNDATASIZE)
            .op(ADD) // 0 + 32
            .ret_top();
        let out = support::run_both(&config(&code, P));
        assert_eq!(out.exit, ExitCode::Return);
        assert_eq!(word(&out), u(32));
        assert_eq!(out.state.accounts.len(), 2, "only caller and target exist");
        // Deploying code that starts with 0xEF fails from London (EIP-3541): address 0.
        let init_ef = initcode(&[0xef]);
        let n = init_ef.len() as u64;
        let code = stage(&init_ef)
            .push(n)
            .push(32 - n)
            .push(0)
            .op(CREATE)
            .ret_top();
        let out = support::run_both(&config(&code, P));
        assert_eq!(out.exit, ExitCode::Return);
        assert_eq!(word(&out), u(0));
        let out = support::run_both(&config(&code, SpecId::Berlin));
        assert_ne!(word(&out), u(0), "0xEF code is fine before London");
    }

    #[test]
    fn create2_collision() {
        // Two CREATE2 with the same salt and initcode: the second collides and pushes 0.
        let init = initcode(&runtime_42().0);
        let n = init.len() as u64;
        let create2 = |a: Asm| a.push(1).push(n).push(32 - n).push(0).op(CREATE2);
        let code = create2(create2(stage(&init))).ret_top();
        let out = support::run_both(&config(&code, P));
        assert_eq!(out.exit, ExitCode::Return);
        assert_eq!(word(&out), u(0));
    }

    #[test]
    fn create_initcode_limit_shanghai() {
        // EIP-3860: initcode over 49152 bytes is an exceptional halt.
        let code = Asm::new().push(49_153).push(0).push(0).op(CREATE);
        check_halt(
            SpecId::Shanghai,
            code.clone(),
            ExitCode::CreateInitCodeSizeLimit,
        );
        // Before Shanghai it is merely memory-expensive: 49153 bytes of zeros deploy nothing.
        let mut cfg = config(&code.ret_top(), SpecId::Merge);
        cfg.gas_limit = 10_000_000;
        let out = support::run_both(&cfg);
        assert_eq!(out.exit, ExitCode::Return);
        assert_ne!(word(&out), u(0));
    }

    #[test]
    fn precompile_identity() {
        let v = MAX - u(0xabc);
        // PUSH32 3 + PUSH 3 + MSTORE 3 + mem 3 = 12
        // CALL(0xffff, 0x04, 0, 0, 32, 32, 32): 7 PUSH (21) + CALL 100 (precompiles are warm)
        // + mem 3 (output word 2) + identity 15 + 3·1 word = 142
        // POP 2; PUSH 3 + MLOAD 3; RET' 12. Total 12 + 142 + 2 + 6 + 12 = 174
        let code = Asm::new()
            .push_u(v)
            .push(0)
            .op(MSTORE)
            .push(32) // out len
            .push(32) // out offset
            .push(32) // in len
            .push(0) // in offset
            .push(0) // value
            .push(4)
            .push(0xffff)
            .op(CALL)
            .op(POP)
            .push(32)
            .op(MLOAD)
            .ret_top();
        check(P, code.clone(), v, 174);
        check(SpecId::Berlin, code.clone(), v, 174);
        // Istanbul: CALL 700 and no warm/cold: 174 − 100 + 700 = 774
        check(SpecId::Istanbul, code, v, 774);
    }

    #[test]
    fn precompile_identity_return_data_and_out_of_gas() {
        // Identity of 33 bytes: 15 + 3·2 = 21 gas. With exactly 21 it succeeds, with 20 it fails
        // and the 20 are consumed.
        let code = |gas: u64| {
            Asm::new()
                .push(0)
                .push(0)
                .push(33)
                .push(0)
                .push(0)
                .push(4)
                .push(gas)
                .op(CALL)
                .op(RETURNDATASIZE)
                .op(ADD)
                .ret_top()
        };
        // 7 PUSH (21) + 100 + mem 6 (input 33 bytes) + 21 + RETURNDATASIZE 2 + ADD 3 + RET' 12
        // = 165; result 1 + 33.
        check(P, code(21), u(34), 165);
        // Fails: pushes 0, no return data. 21 + 100 + 6 + 20 + 2 + 3 + 12 = 164.
        check(P, code(20), u(0), 164);
    }

    #[test]
    fn precompile_sha256() {
        // sha256("") = e3b0…b855 costs 60. 7 PUSH (21) + 100 + mem 3 + 60 + POP 2 + 6 = 192
        let code = Asm::new()
            .push(32)
            .push(0)
            .push(0)
            .push(0)
            .push(0)
            .push(2)
            .push(0xffff)
            .op(CALL)
            .op(POP)
            .push(32)
            .push(0)
            .op(RETURN);
        let want = U256::from_be_bytes(
            alloy_primitives::b256!(
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            )
            .0,
        );
        check(P, code, want, 192);
    }
}

mod calls_more {
    use super::*;

    /// `CALL(gas, to, 0, 0, 0, 0, 0)`: 5 PUSH + PUSH20 + PUSH (21 gas when `gas` is a PUSH).
    fn plain_call(to: Address, gas: u64) -> Asm {
        Asm::new()
            .push(0)
            .push(0)
            .push(0)
            .push(0)
            .push(0)
            .push_addr(to)
            .push(gas)
            .op(CALL)
    }

    #[test]
    fn call_forwards_all_but_one_64th() {
        // OTHER halts (INVALID) and so burns whatever it is given.
        // 5 PUSH1 + PUSH20 = 18, GAS 2: 99 980 left. CALL 100 + cold 2500: 97 380 left.
        // EIP-150 cap: 97 380 − ⌊97 380 / 64⌋ = 97 380 − 1521 = 95 859 forwarded and burnt.
        // 1521 left, RET 15 → 1506 left: used 100 000 − 1506 = 98 494.
        let code = Asm::new()
            .push(0)
            .push(0)
            .push(0)
            .push(0)
            .push(0)
            .push_addr(OTHER)
            .op(GAS)
            .op(CALL)
            .ret_top();
        let invalid = Asm::new().op(INVALID);
        let mut cfg = with_other(&code, P, &invalid);
        cfg.gas_limit = 100_000;
        check_cfg(&cfg, u(0), 98_494);
        // Homestead has no cap: asking for more than is left after CALL's 40 is out of gas.
        let mut cfg = with_other(&code, SpecId::Homestead, &invalid);
        cfg.gas_limit = 100_000;
        check_exit(&cfg, ExitCode::OutOfGas, 100_000);
        // An explicit 1000 is forwarded as is (and burnt): 21 + 40 + 1000 + 15 = 1076.
        check_cfg(
            &with_other(
                &plain_call(OTHER, 1000).ret_top(),
                SpecId::Homestead,
                &invalid,
            ),
            u(0),
            1076,
        );
    }

    #[test]
    fn sub_call_revert_keeps_gas_and_data_halt_burns_gas() {
        // OTHER reverts with one word: 3 + 3 + 6 + 3 + 3 = 18 gas; the rest comes back.
        // 21 + 100 + 2500 + 18 + RETURNDATASIZE 2 + ADD 3 + RET 15 = 2659; 0 + 32 = 32.
        let reverting = Asm::new()
            .push(0x2a)
            .push(0)
            .op(MSTORE)
            .push(32)
            .push(0)
            .op(REVERT);
        let code = plain_call(OTHER, 0xffff)
            .op(RETURNDATASIZE)
            .op(ADD)
            .ret_top();
        check_cfg(&with_other(&code, P, &reverting), u(32), 2659);
        // OTHER halts: all 1000 burnt, no return data. 21 + 2600 + 1000 + 2 + 3 + 15 = 3641
        let code = plain_call(OTHER, 1000).op(RETURNDATASIZE).op(ADD).ret_top();
        check_cfg(&with_other(&code, P, &Asm::new().op(INVALID)), u(0), 3641);
    }

    #[test]
    fn output_area_smaller_than_return_data() {
        // OTHER returns 32 bytes of 0xff (PUSH32 3 + RET 15 = 18); only 1 byte is copied.
        // 7 PUSH (21) + 100 + 2500 + mem 3 + 18 + POP 2 + PUSH 3 + MLOAD 3 + RET' 12 = 2662
        let code = Asm::new()
            .push(1)
            .push(0)
            .push(0)
            .push(0)
            .push(0)
            .push_addr(OTHER)
            .push(0xffff)
            .op(CALL)
            .op(POP)
            .push(0)
            .op(MLOAD)
            .ret_top();
        let callee = Asm::new().push_u(MAX).ret_top();
        check_cfg(&with_other(&code, P, &callee), u(0xff) << 248, 2662);
    }

    #[test]
    fn static_mode_is_inherited_by_nested_calls() {
        const THIRD: Address = address!("3333333333333333333333333333333333333333");
        // THIRD: SSTORE(0, 1), a violation since it runs under a STATICCALL two levels up.
        // OTHER: CALL(5000, THIRD, 0, …) = 21 + 100 + 2500 + 5000 (burnt) + RET 15 = 7636,
        //        returns the flag 0.
        // TARGET: STATICCALL(0xffff, OTHER, 0, 0, 0, 32) = 6 PUSH (18) + 100 + 2500 + mem 3
        //         + 7636, POP 2, PUSH 3 + PUSH 3 + RETURN = 10 265.
        let other = plain_call(THIRD, 5000).ret_top();
        let code = Asm::new()
            .push(32)
            .push(0)
            .push(0)
            .push(0)
            .push_addr(OTHER)
            .push(0xffff)
            .op(STATICCALL)
            .op(POP)
            .push(32)
            .push(0)
            .op(RETURN);
        let mut cfg = with_other(&code, P, &other);
        cfg.accounts.push((
            THIRD,
            Account::with_code(Asm::new().push(1).push(0).op(SSTORE).bytes()),
        ));
        let out = check_cfg(&cfg, u(0), 10_265);
        assert_eq!(out.state.storage(&THIRD, &u(0)), u(0));
    }

    #[test]
    fn access_list_reverts_with_the_scope() {
        // EIP-2929: accounts warmed inside a reverted call are cold again afterwards.
        // OTHER: BALANCE(EMPTY) cold = 3 + 2600, POP 2, then REVERT(0, 0) 6 → 2611.
        // TARGET: 21 + 2600 + 2611 + POP 2 + PUSH20 3 + BALANCE(EMPTY) 2600 (cold again)
        //         + RET 15 = 7852
        let touch = Asm::new().push_addr(EMPTY).op(BALANCE).op(POP);
        let code = plain_call(OTHER, 0xffff)
            .op(POP)
            .push_addr(EMPTY)
            .op(BALANCE)
            .ret_top();
        let reverting = touch.clone().push(0).push(0).op(REVERT);
        check_cfg(&with_other(&code, P, &reverting), u(0), 7852);
        // If OTHER returns normally (2605), EMPTY stays warm: 21 + 2600 + 2605 + 2 + 3 + 100
        // + 15 = 5346
        check_cfg(&with_other(&code, P, &touch), u(0), 5346);
    }

    #[test]
    fn transient_storage_reverts_with_the_scope() {
        // Through DELEGATECALL OTHER's TSTORE(1, 0x42) (3 + 3 + 100 = 106) hits TARGET's
        // transient storage. TARGET: 6 PUSH (18) + 100 + 2500 + 106 + POP 2 + PUSH 3
        // + TLOAD 100 + RET 15 = 2844.
        let tstore = Asm::new().push(0x42).push(1).op(TSTORE);
        let code = Asm::new()
            .push(0)
            .push(0)
            .push(0)
            .push(0)
            .push_addr(OTHER)
            .push(0xffff)
            .op(DELEGATECALL)
            .op(POP)
            .push(1)
            .op(TLOAD)
            .ret_top();
        check_cfg(&with_other(&code, SpecId::Cancun, &tstore), u(0x42), 2844);
        // If OTHER then reverts (+ 6), the write is undone: 2850 and 0.
        let reverting = tstore.push(0).push(0).op(REVERT);
        check_cfg(&with_other(&code, SpecId::Cancun, &reverting), u(0), 2850);
    }

    #[test]
    fn refunds_flow_up_from_successful_sub_calls_only() {
        // OTHER via DELEGATECALL clears TARGET's slot 1 (1 → 0, cold): 6 + 5000, refund 4800.
        // TARGET: 6 PUSH (18) + 100 + 2500 + 5006 = 7624, then STOP.
        let clear = Asm::new().push(0).push(1).op(SSTORE);
        let code = Asm::new()
            .push(0)
            .push(0)
            .push(0)
            .push(0)
            .push_addr(OTHER)
            .push(0xffff)
            .op(DELEGATECALL);
        let mut cfg = with_other(&code, P, &clear);
        cfg.storage = vec![(u(1), u(1))];
        let out = check_exit(&cfg, ExitCode::Stop, 7624);
        assert_eq!(out.gas_refund, 4800);
        assert_eq!(out.state.storage(&TARGET, &u(1)), u(0));
        // OTHER reverting afterwards (+ 6): no refund, slot restored. 7630.
        let mut cfg = with_other(&code, P, &clear.push(0).push(0).op(REVERT));
        cfg.storage = vec![(u(1), u(1))];
        let out = check_exit(&cfg, ExitCode::Stop, 7630);
        assert_eq!(out.gas_refund, 0);
        assert_eq!(out.state.storage(&TARGET, &u(1)), u(1));
    }

    #[test]
    fn eip7702_delegated_call() {
        const X: Address = address!("0000000000000000000000000000000000007702");
        let mut designator = vec![0xef, 0x01, 0x00];
        designator.extend_from_slice(OTHER.as_slice());
        // OTHER returns 42 (18 gas). CALL(0xffff, X, 0, 0, 0, 0, 32) in Prague runs OTHER's
        // code and also pays for accessing OTHER: 21 + 100 + 2500 (X cold) + 2600 (delegate
        // cold) + mem 3 + 18 + POP 2 + PUSH 3 + PUSH 3 + RETURN = 5250.
        let code = Asm::new()
            .push(32)
            .push(0)
            .push(0)
            .push(0)
            .push(0)
            .push_addr(X)
            .push(0xffff)
            .op(CALL)
            .op(POP)
            .push(32)
            .push(0)
            .op(RETURN);
        let mut cfg = with_other(&code, P, &Asm::new().push(42).ret_top());
        cfg.accounts
            .push((X, Account::with_code(Bytes::from(designator.clone()))));
        check_cfg(&cfg, u(42), 5250);
        // Before Prague the designator is just code starting with 0xEF: the callee halts on
        // it and burns the 0xffff. 21 + 2600 + 3 + 65 535 + 2 + 6 = 68 167; memory stays 0.
        cfg.spec = SpecId::Cancun;
        check_cfg(&cfg, u(0), 68_167);
        // EXTCODESIZE sees the 23-byte designator: 3 + 2600 + 15 = 2618.
        let mut cfg = config(&Asm::new().push_addr(X).op(EXTCODESIZE).ret_top(), P);
        cfg.accounts
            .push((X, Account::with_code(Bytes::from(designator))));
        check_cfg(&cfg, u(23), 2618);
    }

    /// Initcode returning 10 bytes of runtime code (see `calls::initcode`): 18 gas + 2000
    /// deposit. Staged at memory[13, 32) for 12 gas.
    fn stage_10_byte_deployer() -> (Asm, u64) {
        let runtime = Asm::new().push(42).ret_top();
        let init = Asm::new()
            .push_bytes(&runtime.0)
            .push(0)
            .op(MSTORE)
            .push(10)
            .push(22)
            .op(RETURN);
        let n = init.len() as u64;
        (Asm::new().push_bytes(&init.0).push(0).op(MSTORE), n)
    }

    #[test]
    fn create_deposit_out_of_gas_by_fork() {
        let (stage, n) = stage_10_byte_deployer();
        let code = stage.push(n).push(32 - n).push(0).op(CREATE).ret_top();
        // Frontier: stage 12 + 3 PUSH (9) + CREATE 32000 = 32021; with a limit of 34019 the
        // child gets all 1998 left, spends 18 and cannot pay the 2000 deposit. Frontier keeps the
        // (code-less) contract, pushes its address and returns the child's 1980 unused gas:
        // 32021 + 18 + RET' 12 = 32051.
        let mut cfg = config(&code, SpecId::Frontier);
        cfg.gas_limit = 34_019;
        let mut rlp = vec![0xd6, 0x94];
        rlp.extend_from_slice(TARGET.as_slice());
        rlp.push(0x01);
        let addr = Address::from_slice(&keccak256(&rlp)[12..]);
        let out = check_cfg(&cfg, addr_word(addr), 32_051);
        assert!(out.state.accounts[&addr].code.is_empty());
        // Homestead (EIP-2): the create fails and burns the 1998, leaving nothing for RET.
        cfg.spec = SpecId::Homestead;
        check_exit(&cfg, ExitCode::OutOfGas, 34_019);
        // Tangerine: with 2048 left the child gets 2048 − 32 = 2016, spends 18, and 1998 <
        // 2000: fails, burns 2016; 32 left pay RET' 12. Used 34 069 − 20 = 34 049, pushes 0.
        cfg.spec = SpecId::Tangerine;
        cfg.gas_limit = 34_069;
        check_cfg(&cfg, u(0), 34_049);
    }

    #[test]
    fn create2_collision_burns_the_forwarded_gas() {
        let (stage, n) = stage_10_byte_deployer();
        let create2 = |a: Asm| a.push(1).push(n).push(32 - n).push(0).op(CREATE2);
        let code = create2(create2(stage)).ret_top();
        // First CREATE2: stage 12 + 4 PUSH (12) + 32000 + initcode 2 + hash 6 + child 18
        // + deposit 2000 = 34 050.
        // Second: 12 + 32 008 → 66 070 used, 933 930 left; forwarded 933 930 − 14 592
        // = 919 338, all burnt by the collision. 14 592 − RET' 12 = 14 580 left.
        // Used: 1 000 000 − 14 580 = 985 420.
        let mut cfg = config(&code, P);
        cfg.gas_limit = 1_000_000;
        let out = check_cfg(&cfg, u(0), 985_420);
        assert_eq!(
            out.state.accounts[&TARGET].nonce, 3,
            "both attempts bump the nonce"
        );
    }

    #[test]
    fn create_with_value() {
        // CREATE(1, 0, 0) with no balance: refused before the nonce bump.
        // 3 PUSH (9) + 32000 + RET 15 = 32024, the forwarded gas all comes back.
        let code = Asm::new().push(0).push(0).push(1).op(CREATE).ret_top();
        let out = check(P, code.clone(), u(0), 32_024);
        assert_eq!(out.state.accounts[&TARGET].nonce, 1);
        // With balance 1 it creates an empty contract holding 1 wei: same 32024.
        let mut rlp = vec![0xd6, 0x94];
        rlp.extend_from_slice(TARGET.as_slice());
        rlp.push(0x01);
        let addr = Address::from_slice(&keccak256(&rlp)[12..]);
        let mut cfg = config(&code, P);
        cfg.value = u(1);
        let out = check_cfg(&cfg, addr_word(addr), 32_024);
        assert_eq!(out.state.accounts[&addr].balance, u(1));
        assert_eq!(out.state.accounts[&TARGET].balance, u(0));
    }
}

// ---------------------------------------------------------------------------------------------
// System: SELFDESTRUCT.
// ---------------------------------------------------------------------------------------------

mod system {
    use super::*;

    const BENEFICIARY: Address = address!("00000000000000000000000000000000000beef0");

    #[test]
    fn selfdestruct_cancun_moves_balance_only() {
        // PUSH20 3 + SELFDESTRUCT 5000 + cold 2600 + new account 25000 (value to an empty
        // account) = 32603
        let mut cfg = config(
            &Asm::new().push_addr(BENEFICIARY).op(SELFDESTRUCT),
            SpecId::Cancun,
        );
        cfg.value = u(5);
        let out = check_exit(&cfg, ExitCode::SelfDestruct, 32_603);
        assert_eq!(out.gas_refund, 0);
        assert_eq!(out.state.accounts[&BENEFICIARY].balance, u(5));
        // EIP-6780: not created in this transaction, so the account survives without balance.
        assert_eq!(out.state.accounts[&TARGET].balance, u(0));
        assert!(!out.state.accounts[&TARGET].code.is_empty());
    }

    #[test]
    fn selfdestruct_cancun_in_the_creating_transaction_deletes() {
        // Initcode: PUSH20 BENEFICIARY SELFDESTRUCT (22 bytes) = 3 + 5000 + cold 2600 + new
        // account 25000 (it holds the 1 wei sent) = 32 603.
        // TARGET: PUSH22 3 + PUSH1 3 + MSTORE 6 = 12; 3 PUSH (9) + CREATE 32000 + initcode 2·1
        // word = 32 011; child 32 603; RET' 12. Total 64 638; pushes the new address.
        let init = Asm::new().push_addr(BENEFICIARY).op(SELFDESTRUCT);
        let n = init.len() as u64;
        assert_eq!(n, 22);
        let code = Asm::new()
            .push_bytes(&init.0)
            .push(0)
            .op(MSTORE)
            .push(n)
            .push(32 - n)
            .push(1)
            .op(CREATE)
            .ret_top();
        let mut rlp = vec![0xd6, 0x94];
        rlp.extend_from_slice(TARGET.as_slice());
        rlp.push(0x01);
        let created = Address::from_slice(&keccak256(&rlp)[12..]);
        let mut cfg = config(&code, SpecId::Cancun);
        cfg.value = u(1);
        let out = check_cfg(&cfg, addr_word(created), 64_638);
        // EIP-6780: created and destroyed in the same transaction, so it is gone.
        assert!(!out.state.accounts.contains_key(&created));
        assert_eq!(out.state.accounts[&BENEFICIARY].balance, u(1));
    }

    #[test]
    fn selfdestruct_warm_beneficiary_no_value() {
        // The caller is warm and non-empty, no value: PUSH20 3 + 5000 = 5003, no refund (London).
        let code = Asm::new().push_addr(SENDER).op(SELFDESTRUCT);
        check_exit(&config(&code, P), ExitCode::SelfDestruct, 5003);
        // Berlin still refunds 24000 and deletes the account.
        let out = check_exit(&config(&code, SpecId::Berlin), ExitCode::SelfDestruct, 5003);
        assert_eq!(out.gas_refund, 24_000);
        assert!(!out.state.accounts.contains_key(&TARGET));
    }

    #[test]
    fn selfdestruct_frontier() {
        // Frontier: SELFDESTRUCT is free and refunds 24000. PUSH20 3 + 0 = 3.
        let code = Asm::new().push_addr(BENEFICIARY).op(SELFDESTRUCT);
        let mut cfg = config(&code, SpecId::Frontier);
        cfg.value = u(9);
        let out = check_exit(&cfg, ExitCode::SelfDestruct, 3);
        assert_eq!(out.gas_refund, 24_000);
        assert_eq!(out.state.accounts[&BENEFICIARY].balance, u(9));
        assert!(!out.state.accounts.contains_key(&TARGET));
        // Tangerine: 5000 + 25000 (beneficiary does not exist) = 30003.
        let mut cfg = config(&code, SpecId::Tangerine);
        cfg.value = u(9);
        check_exit(&cfg, ExitCode::SelfDestruct, 30_003);
    }
}
