//! Compiled-code edge cases: each runs on both tiers (`support::run_both` asserts they agree) and
//! checks the expected figures; plus hostile code shapes, and cross-compilation for AArch64.

mod support;

use alloy_primitives::Bytes;
use ferrite::bytecode::Bytecode;
use ferrite::runtime::opcode::op::*;
use ferrite::runtime::{ExitCode, SpecId, U256};
use ferrite_state::call::CallConfig;
use std::sync::Arc;
use support::run_both;

fn cfg(code: Vec<u8>, gas: u64) -> CallConfig {
    let mut c = CallConfig::new(code, Vec::new());
    c.gas_limit = gas;
    c.spec = SpecId::Cancun;
    c
}

/// PUSH1 1 PUSH1 2 ADD POP (11 gas) then JUMPDEST (1) then STOP.
fn two_blocks() -> Vec<u8> {
    vec![PUSH1, 1, PUSH1, 2, ADD, POP, JUMPDEST, STOP]
}

#[test]
fn out_of_gas_exactly_at_a_block_boundary() {
    // 11 gas runs the first block; the JUMPDEST block needs 1 more.
    let o = run_both(&cfg(two_blocks(), 11));
    assert_eq!((o.exit, o.gas_used), (ExitCode::OutOfGas, 11));
    let o = run_both(&cfg(two_blocks(), 12));
    assert_eq!((o.exit, o.gas_used), (ExitCode::Stop, 12));
}

#[test]
fn out_of_gas_in_the_middle_of_a_block() {
    for gas in 0..11 {
        let o = run_both(&cfg(two_blocks(), gas));
        assert_eq!((o.exit, o.gas_used), (ExitCode::OutOfGas, gas));
    }
}

#[test]
fn out_of_gas_on_memory_expansion_mid_block() {
    // PUSH1 0 PUSH2 0x1000 MSTORE (expansion 4128 words) PUSH1 1 POP STOP
    let code = vec![PUSH1, 0, PUSH2, 0x10, 0x00, MSTORE, PUSH1, 1, POP, STOP];
    // 3+3+3 static, memory for 0x1020 bytes = 129 words: 3*129 + 129^2/512 = 387 + 32 = 419.
    let ok = run_both(&cfg(code.clone(), 9 + 419 + 5));
    assert_eq!((ok.exit, ok.gas_used), (ExitCode::Stop, 9 + 419 + 5));
    let short = run_both(&cfg(code, 9 + 419 + 4));
    assert_eq!(short.exit, ExitCode::OutOfGas);
}

/// Halts that a helper returns (`ferrite_exec`, `ferrite_mexpand`), which on x86-64 Linux
/// escape straight to compiled code's caller (`ferrite_runtime::escape`) instead of being
/// branched on at the call site: memory growth running out of gas in a loop, an instruction
/// body running out of gas in a loop, and a REVERT after a helper call, each at many gas
/// limits, so that the caller goes on with frame after frame that escaped (every result
/// compared with the interpreter's).
#[test]
fn halts_from_helpers_return_to_the_caller() {
    // i = 0; loop { mstore(i, i); i += 256 }: memory grows until out of gas.
    let grow = vec![
        PUSH0, JUMPDEST, DUP1, DUP1, MSTORE, PUSH2, 1, 0, ADD, PUSH1, 1, JUMP,
    ];
    // loop { pop(sload(0)) }: SLOAD's body charges until out of gas.
    let load = vec![JUMPDEST, PUSH0, SLOAD, POP, PUSH0, JUMP];
    // sload(0), then mstore(0, 7) and revert(0, 32).
    let revert = vec![
        PUSH0, SLOAD, POP, PUSH1, 7, PUSH0, MSTORE, PUSH1, 32, PUSH0, REVERT,
    ];
    for gas in (0..40_000).step_by(997) {
        let o = run_both(&cfg(grow.clone(), gas));
        assert_eq!(o.exit, ExitCode::OutOfGas);
        let o = run_both(&cfg(load.clone(), gas));
        assert_eq!(o.exit, ExitCode::OutOfGas);
        let o = run_both(&cfg(revert.clone(), gas));
        let want = if gas >= 2_100 + 2 + 2 + 3 + 3 + 3 + 2 + 3 {
            ExitCode::Revert
        } else {
            ExitCode::OutOfGas
        };
        assert_eq!(o.exit, want, "gas {gas}");
        if want == ExitCode::Revert {
            assert_eq!(o.output[31], 7);
        }
    }
}

/// Memory a block's every way in has grown (the lowering's `known_at_entry`): a block reached
/// both from a block that stored at 0x40 and from one that did not, by a static JUMPI and by
/// a dynamic jump, and at the head of a loop whose body grows memory, must still check (and
/// grow memory for) its access at 0x40 on the way that did not. Gas, MSIZE and the word read
/// are compared with the interpreter's for each way (`support::run_both`).
#[test]
fn memory_known_on_every_way_into_a_block() {
    // The join: drops the selector, reads 0x40, returns the word plus MSIZE, and GAS.
    const JOIN_TAIL: [u8; 17] = [
        JUMPDEST, POP, PUSH1, 0x40, MLOAD, MSIZE, ADD, GAS, PUSH0, MSTORE, PUSH1, 0x20, MSTORE,
        PUSH1, 0x40, PUSH0, RETURN,
    ];
    // Runs `code` with calldata word 0, then 1, choosing the way to the join.
    let each_way = |code: &[u8]| {
        for way in 0u8..2 {
            let mut c = cfg(code.to_vec(), 100_000);
            let mut input = [0u8; 32];
            input[31] = way;
            c.input = input.to_vec().into();
            assert_eq!(run_both(&c).exit, ExitCode::Return, "way {way}");
        }
    };
    // Calldata 0 stores at 0x40 and falls through; non-zero jumps over the store statically.
    let join = 14u8;
    let mut code = vec![
        PUSH0,
        CALLDATALOAD,
        DUP1,
        PUSH1,
        join,
        JUMPI, // 0..6
        PUSH1,
        0x80,
        PUSH1,
        0x40,
        MSTORE, // 6..11 (only on way 0)
        PUSH1,
        join,
        JUMP, // 11..14
    ];
    code.extend(JOIN_TAIL);
    assert_eq!(code[join as usize], JUMPDEST);
    each_way(&code);
    // A join reached statically from a block that stored at 0x40 and by a computed jump from
    // one that did not.
    let (store, join) = (11u8, 21u8);
    let mut dynamic = vec![
        PUSH0,
        CALLDATALOAD,
        PUSH1,
        store,
        JUMPI, // 0..5
        PUSH0,
        PUSH1,
        join,
        DUP1,
        POP,
        JUMP, // 5..11: computed jump, nothing stored
        JUMPDEST,
        PUSH1,
        0x80,
        PUSH1,
        0x40,
        MSTORE,
        PUSH0,
        PUSH1,
        join,
        JUMP, // 11..21
    ];
    dynamic.extend(JOIN_TAIL);
    assert_eq!(
        (dynamic[store as usize], dynamic[join as usize]),
        (JUMPDEST, JUMPDEST)
    );
    each_way(&dynamic);
    // A loop whose head reads 0x40, entered with no memory; its body stores further out.
    let looped = vec![
        PUSH1, 3,        // counter
        JUMPDEST, // 2: head
        PUSH1, 0x40, MLOAD, POP, // reads 0x40: memory grows on the first iteration only
        PUSH1, 1, SWAP1, SUB, DUP1, PUSH1, 0x80, MSTORE, // counter - 1 stored at 0x80
        DUP1, PUSH1, 2, JUMPI, // again while non-zero
        MSIZE, GAS, PUSH0, MSTORE, PUSH1, 0x20, MSTORE, PUSH1, 0x40, PUSH0, RETURN,
    ];
    let o = run_both(&cfg(looped, 100_000));
    assert_eq!(o.exit, ExitCode::Return);
}

#[test]
fn gas_inside_a_block_sees_exact_gas() {
    // PUSH1 1 POP GAS PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN
    let code = vec![
        PUSH1, 1, POP, GAS, PUSH1, 0, MSTORE, PUSH1, 32, PUSH1, 0, RETURN,
    ];
    let o = run_both(&cfg(code, 1000));
    assert_eq!(o.exit, ExitCode::Return);
    // GAS pushes 1000 - 3 - 2 - 2.
    assert_eq!(o.output[31], (1000u64 - 7) as u8);
    assert_eq!(o.output[30], ((1000u64 - 7) >> 8) as u8);
}

#[test]
fn stack_overflow_at_1024() {
    let mut code = vec![PUSH0; 1024];
    code.push(STOP);
    let o = run_both(&cfg(code.clone(), 10_000));
    assert_eq!(o.exit, ExitCode::Stop);
    code.insert(0, PUSH0);
    let o = run_both(&cfg(code, 10_000));
    assert_eq!((o.exit, o.gas_used), (ExitCode::StackOverflow, 10_000));
}

#[test]
fn stack_underflow_and_invalid_jumps() {
    let o = run_both(&cfg(vec![PUSH1, 1, ADD], 100));
    assert_eq!(o.exit, ExitCode::StackUnderflow);
    // Static jump into PUSH data.
    let o = run_both(&cfg(vec![PUSH1, 4, JUMP, PUSH1, JUMPDEST, STOP], 100));
    assert_eq!(o.exit, ExitCode::InvalidJump);
    // Dynamic jump (destination computed) to a JUMPDEST and to a non-JUMPDEST.
    let dynamic = |dest: u8| vec![PUSH1, dest - 1, PUSH1, 1, ADD, JUMP, STOP, JUMPDEST, STOP];
    assert_eq!(run_both(&cfg(dynamic(7), 100)).exit, ExitCode::Stop);
    assert_eq!(run_both(&cfg(dynamic(6), 100)).exit, ExitCode::InvalidJump);
    // A destination above 2^64.
    let mut big = vec![PUSH9, 1, 0, 0, 0, 0, 0, 0, 0, 7];
    big.extend([JUMP, JUMPDEST, STOP]);
    assert_eq!(run_both(&cfg(big, 100)).exit, ExitCode::InvalidJump);
}

#[test]
fn jumpi_with_constant_and_dynamic_conditions() {
    // PUSH1 cond PUSH1 8 JUMPI PUSH1 1 STOP ... JUMPDEST(8) PUSH1 2 STOP
    for cond in [0u8, 1, 0xff] {
        let code = vec![
            PUSH1, cond, PUSH1, 8, JUMPI, PUSH1, 1, STOP, JUMPDEST, PUSH1, 2, STOP,
        ];
        let o = run_both(&cfg(code, 100));
        assert_eq!(o.exit, ExitCode::Stop);
        assert_eq!(
            o.gas_used,
            if cond == 0 {
                3 + 3 + 10 + 3
            } else {
                3 + 3 + 10 + 1 + 3
            }
        );
    }
}

#[test]
fn arithmetic_and_comparisons_inline_agree() {
    let words: [&[u8]; 6] = [
        &[0],
        &[1],
        &[0x80],
        &[0xff; 32],
        &[0x7f, 0xff],
        &[1, 0, 0, 0, 0, 0, 0, 0, 0],
    ];
    for op in [
        ADD, SUB, LT, GT, EQ, AND, OR, XOR, SLT, SGT, MUL, DIV, SHL, SHR, SAR, BYTE,
    ] {
        for a in words {
            for b in words {
                let mut code = vec![PUSH0 + b.len() as u8];
                code.extend_from_slice(b);
                code.push(PUSH0 + a.len() as u8);
                code.extend_from_slice(a);
                code.extend([op, PUSH0, MSTORE, PUSH1, 32, PUSH0, RETURN]);
                let o = run_both(&cfg(code, 1000));
                assert_eq!(o.exit, ExitCode::Return);
            }
        }
    }
}

/// Hostile shapes compile within the JIT's limits (or are refused) and agree with the
/// interpreter. Compile times for these shapes are reported by `ferrite analyze --compile`.
#[test]
fn hostile_code_shapes() {
    let n = 24 * 1024;
    let jumpdests = vec![JUMPDEST; n];
    let push1s: Vec<u8> = (0..n)
        .map(|i| if i % 2 == 0 { PUSH1 } else { 0x01 })
        .collect();
    let mut push_jump = Vec::new();
    while push_jump.len() + 4 < n {
        let next = (push_jump.len() + 4) as u16;
        push_jump.extend([PUSH2, (next >> 8) as u8, next as u8, JUMP, JUMPDEST]);
    }
    // Deterministic pseudo-random bytes.
    let mut x = 0x9e3779b97f4a7c15u64;
    let random: Vec<u8> = (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    // A straight run of 8,192 instructions without a memory access, then accesses at fresh
    // offsets to its end (CALLVALUE MLOAD POP): cut into pieces like any run that accesses memory.
    let mut late_accesses = [CALLVALUE, POP].repeat(4096);
    while late_accesses.len() + 3 <= n {
        late_accesses.extend([CALLVALUE, MLOAD, POP]);
    }
    for code in [jumpdests, push1s, push_jump, random, late_accesses] {
        let arc = Arc::new(Bytecode::new(Bytes::from(code.clone())));
        // Compiles or is refused with a reason; never panics.
        let _ = ferrite::jit::compile(arc, SpecId::Cancun);
        run_both(&cfg(code, 30_000_000));
    }
}

#[test]
fn aarch64_code_generation() {
    let samples: Vec<Vec<u8>> = vec![
        two_blocks(),
        vec![PUSH1, 4, JUMP, PUSH1, JUMPDEST, STOP],
        vec![
            PUSH1, 6, PUSH1, 1, ADD, JUMP, JUMPDEST, PUSH1, 0, SLOAD, PUSH1, 0, SSTORE, STOP,
        ],
        vec![
            PUSH0, PUSH0, PUSH0, PUSH0, PUSH0, ADDRESS, GAS, CALL, POP, STOP,
        ],
    ];
    for code in samples {
        let arc = Arc::new(Bytecode::new(Bytes::from(code)));
        let size =
            ferrite::jit::compile_for_target(arc, SpecId::Prague, "aarch64-unknown-linux-gnu")
                .expect("AArch64 compiles");
        assert!(size > 0);
    }
}

/// Runs `code` (which leaves one word on the stack) followed by `MSTORE(0, word) RETURN(0, 32)`
/// on both tiers with `input` as calldata (`run_both` asserts they agree).
fn returns_word(mut code: Vec<u8>, input: Vec<u8>) {
    code.extend_from_slice(&[PUSH0, MSTORE, PUSH1, 32, PUSH0, RETURN]);
    let mut c = cfg(code, 100_000);
    c.input = input.into();
    assert_eq!(run_both(&c).output.len(), 32);
}

/// ADD and SUB with a constant operand below 2^128 take the carry into the high half only, and
/// two constants fold at compile time: constants at every carry boundary (0, 1, 2^64 - 1, 2^64,
/// 2^127, 2^128 - 1, and 2^128 and 2^256 - 1, which take the general path), in either operand
/// position, against words whose halves overflow, against the interpreter.
#[test]
fn add_and_sub_with_constants() {
    let word = |hex: &str| {
        let mut w = [0u8; 32];
        let b: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        w[32 - b.len()..].copy_from_slice(&b);
        w
    };
    let values = [
        [0u8; 32],
        [0xff; 32],
        word("ffffffffffffffffffffffffffffffff"),
        word("ffffffffffffffff"),
        word("010000000000000000000000000000000000000000000000"),
        word("1234"),
    ];
    let constants: Vec<Vec<u8>> = vec![
        vec![0],
        vec![1],
        vec![0xff; 8],
        [vec![1], vec![0; 8]].concat(),
        [vec![0x80], vec![0; 15]].concat(),
        vec![0xff; 16],
        [vec![1], vec![0; 16]].concat(),
        vec![0xff; 32],
    ];
    let push = |k: &[u8]| [vec![PUSH0 + k.len() as u8], k.to_vec()].concat();
    for v in values {
        for k in &constants {
            for op in [ADD, SUB] {
                // The value on top, the constant under it, and the other way round.
                returns_word(
                    [push(k), vec![PUSH0, CALLDATALOAD, op]].concat(),
                    v.to_vec(),
                );
                returns_word(
                    [vec![PUSH0, CALLDATALOAD], push(k), vec![op]].concat(),
                    v.to_vec(),
                );
                // Both constant: the word pushed as a constant too.
                returns_word([push(k), push(&v), vec![op]].concat(), vec![]);
                returns_word([push(&v), push(k), vec![op]].concat(), vec![]);
            }
        }
    }
}

/// SHL/SHR by a constant and MUL/DIV/MOD by a constant power of two are inlined as shifts and
/// masks: every shift amount class (0, within a half, 128, across, 255, ≥ 256) on words with bits
/// in both halves, against the interpreter. The operand comes from calldata so only the amount
/// (or the power of two) is a compile-time constant.
#[test]
fn shifts_and_powers_of_two_by_constants() {
    let value = [0xf0u8; 32]; // bits set in every limb
    let mut input = value.to_vec();
    input[0] = 0x9a;
    input[31] = 0x35;
    for k in [
        0u16, 1, 7, 63, 64, 65, 127, 128, 129, 191, 200, 255, 256, 300,
    ] {
        // SHL/SHR: PUSH2 k, then the value as the second operand.
        for shift in [SHL, SHR] {
            let k2 = k.to_be_bytes();
            returns_word(
                vec![PUSH0, CALLDATALOAD, PUSH2, k2[0], k2[1], shift],
                input.clone(),
            );
        }
        if k >= 256 {
            continue;
        }
        // MUL (constant on either side), DIV, MOD by 2^k: PUSH32 2^k.
        let mut p = [0u8; 32];
        p[31 - (k as usize) / 8] = 1 << (k % 8);
        for (op, const_first) in [(MUL, true), (MUL, false), (DIV, true), (MOD, true)] {
            let mut code = Vec::new();
            if const_first {
                code.push(PUSH32);
                code.extend_from_slice(&p);
                code.extend_from_slice(&[PUSH0, CALLDATALOAD]);
            } else {
                code.extend_from_slice(&[PUSH0, CALLDATALOAD, PUSH32]);
                code.extend_from_slice(&p);
            }
            code.push(op);
            returns_word(code, input.clone());
        }
    }
}

/// Words computed in registers below an ADDMOD's or MULMOD's operands go to their buffer slots
/// before the helper call and are read back after it (`park_below`): a sum and a difference
/// kept under the operands (one of them also an operand, by DUP) are used after the call,
/// summed with its result and returned, for operands from calldata.
#[test]
fn words_below_modular_operands_survive_the_call() {
    let words = [
        U256::from(5u64),
        U256::MAX,
        U256::from(1u64) << 200,
        U256::from(0x1234_5678u64),
        U256::from(7u64),
    ];
    for op in [ADDMOD, MULMOD] {
        for (i, a) in words.iter().enumerate() {
            let b = words[(i + 1) % words.len()];
            let n = words[(i + 2) % words.len()];
            let mut input = Vec::new();
            for w in [a, &b, &n] {
                input.extend_from_slice(&w.to_be_bytes::<32>());
            }
            let code = vec![
                PUSH0,
                CALLDATALOAD,
                PUSH1,
                32,
                CALLDATALOAD,
                DUP2,
                DUP2,
                ADD, // [a, b, a+b]
                SWAP2,
                SUB, // [a+b, b-a]
                PUSH1,
                64,
                CALLDATALOAD,
                DUP3,
                DUP3,
                op, // [a+b, b-a, op(b-a, a+b, n)]
                ADD,
                ADD, // all three summed
            ];
            returns_word(code, input);
        }
    }
}

/// SLT/SGT are inlined as a signed compare of the high i128 halves and an unsigned one of the low
/// halves: pairs differing only in the sign bit, only in the low half, equal, and at the extremes.
#[test]
fn signed_comparisons_inline() {
    let mut words: Vec<[u8; 32]> = Vec::new();
    for (hi, lo) in [
        (0u8, 0u8),
        (0, 1),
        (0x80, 0),
        (0x80, 1),
        (0x7f, 0xff),
        (0xff, 0xff),
        (0xff, 0),
    ] {
        let mut w = [hi; 32];
        w[16..].fill(lo);
        words.push(w);
    }
    for a in &words {
        for b in &words {
            for op in [SLT, SGT, LT, GT] {
                // a is CALLDATALOAD(0) (top), b CALLDATALOAD(32).
                returns_word(
                    vec![PUSH1, 32, CALLDATALOAD, PUSH0, CALLDATALOAD, op],
                    [&a[..], &b[..]].concat(),
                );
            }
        }
    }
}

/// DIV/SDIV run one native 64-bit division when both operands fit 64 bits and the divisor is
/// neither 0 nor (SDIV) -1, else the helper: operands on both sides of every bound (zero, ±1,
/// the i64 and u64 extremes, just past 64 bits, negative words), against the interpreter, plus
/// known quotients at the edges. MOD/SMOD (their helper on the same grid) alongside.
#[test]
fn small_divisions_inline() {
    let word = |v: i128| {
        let mut w = [if v < 0 { 0xff } else { 0 }; 32];
        w[16..].copy_from_slice(&v.to_be_bytes());
        w
    };
    let values: Vec<[u8; 32]> = [
        0i128,
        1,
        -1,
        2,
        7,
        -7,
        i64::MAX as i128,
        i64::MIN as i128,
        1 << 63,
        (1 << 64) - 1,
        1 << 64,
        -(1 << 64),
        i128::MAX,
    ]
    .into_iter()
    .map(word)
    .collect();
    let code = |op| vec![PUSH1, 32, CALLDATALOAD, PUSH0, CALLDATALOAD, op];
    for a in &values {
        for b in &values {
            for op in [DIV, SDIV, MOD, SMOD] {
                // a is CALLDATALOAD(0) (the dividend, on top), b CALLDATALOAD(32).
                returns_word(code(op), [&a[..], &b[..]].concat());
            }
        }
    }
    let quotient = |op, a: i128, b: i128| {
        let mut c = code(op);
        c.extend_from_slice(&[PUSH0, MSTORE, PUSH1, 32, PUSH0, RETURN]);
        let mut cfg = cfg(c, 100_000);
        cfg.input = [word(a), word(b)].concat().into();
        run_both(&cfg).output.to_vec()
    };
    // i64::MIN / -1 = 2^63 (positive): the one quotient of i64 operands that overflows i64.
    assert_eq!(quotient(SDIV, i64::MIN as i128, -1), word(1 << 63));
    assert_eq!(quotient(SDIV, -7, 2), word(-3));
    assert_eq!(quotient(SDIV, 7, -2), word(-3));
    assert_eq!(quotient(SDIV, 7, 0), word(0));
    assert_eq!(quotient(DIV, (1 << 64) - 1, 3), word(((1 << 64) - 1) / 3));
    assert_eq!(quotient(DIV, 7, 0), word(0));
    // Remainders take the dividend's sign; i64::MIN % -1 is 0.
    assert_eq!(quotient(SMOD, -7, 2), word(-1));
    assert_eq!(quotient(SMOD, 7, -2), word(1));
    assert_eq!(quotient(SMOD, i64::MIN as i128, -1), word(0));
    assert_eq!(quotient(MOD, (1 << 64) - 1, 10), word(5));
    assert_eq!(quotient(MOD, 7, 0), word(0));
}

/// Compiled code keeps the stack length in a register between blocks and writes it to the frame
/// only where something reads it there. A dynamic jump to a JUMPDEST outside the dispatch (past
/// its cap, so not compiled as a target) hands the frame to the interpreter, which must see the
/// exact stack and gas: the result is GAS plus an item pushed blocks earlier.
#[test]
fn interpreter_takes_over_with_the_registers_state() {
    let pads = ferrite::analysis::MAX_DYNAMIC_TARGETS + 8;
    // PUSH1 0x2a; PUSH2 (target - 1); PUSH1 1; ADD; JUMP (dynamic: the target is computed).
    let prefix = 2 + 3 + 2 + 1 + 1;
    let target = prefix + pads;
    let t = (target as u16 - 1).to_be_bytes();
    let mut code = vec![PUSH1, 0x2a, PUSH2, t[0], t[1], PUSH1, 1, ADD, JUMP];
    code.push(JUMPDEST); // a block in between, so the jump leaves a compiled predecessor
    code.extend(std::iter::repeat_n(JUMPDEST, pads - 1));
    assert_eq!(code.len(), target);
    code.extend_from_slice(&[JUMPDEST, GAS, ADD]);
    let mut c = cfg(code.clone(), 100_000);
    code.extend_from_slice(&[PUSH0, MSTORE, PUSH1, 32, PUSH0, RETURN]);
    c.code = code.into();
    // The target is not a compiled dispatch target: the jump goes through the fallback.
    let a = ferrite::analysis::analyze(Arc::new(Bytecode::new(c.code.clone())), c.spec);
    let tb = a.block_at(target).expect("the target starts a block");
    assert!(!a.dynamic_targets.contains(&tb));
    let out = run_both(&c);
    assert_eq!(out.exit, ExitCode::Return);
    // GAS's value plus 0x2a (both tiers agree on it exactly: `run_both`).
    let word = alloy_primitives::U256::from_be_slice(&out.output);
    assert!(word > alloy_primitives::U256::from(0x2a + 90_000));
}

/// Comparison results stay flags inside a block until used as words: used by arithmetic, as
/// memory operands, duplicated, swapped, kept across a block boundary, negated twice, and fed to
/// JUMPI (directly and after ISZERO). Operands come from calldata so nothing folds.
#[test]
fn comparison_flags_used_as_words() {
    let a = [0x11u8; 32];
    let mut b = [0x11u8; 32];
    b[31] = 0x12; // a < b by the last byte only
    let input: Vec<u8> = a.iter().chain(b.iter()).copied().collect();
    let load = |k: u8| vec![PUSH1, 32 * k, CALLDATALOAD];
    let lt = || [load(1), load(0), vec![LT]].concat(); // a < b = 1
                                                       // Arithmetic on flags: (a<b) + (a<b)*... and NOT/XOR of a flag.
    returns_word([lt(), lt(), vec![ADD]].concat(), input.clone());
    returns_word([lt(), vec![NOT]].concat(), input.clone());
    returns_word(
        [lt(), vec![ISZERO, ISZERO, PUSH1, 7, MUL]].concat(),
        input.clone(),
    );
    returns_word(
        [lt(), vec![DUP1, SWAP1, SUB, ISZERO]].concat(),
        input.clone(),
    );
    returns_word(
        [lt(), load(0), load(0), vec![EQ, EQ]].concat(),
        input.clone(),
    );
    // A flag as an MSTORE value and as an MLOAD offset.
    returns_word(
        [lt(), vec![PUSH1, 64, MSTORE, PUSH1, 64, MLOAD]].concat(),
        input.clone(),
    );
    returns_word([lt(), vec![MLOAD]].concat(), input.clone());
    // A flag live across a block boundary (the JUMPDEST starts a new block), then JUMPI on it.
    let mut code = [lt(), vec![JUMPDEST, DUP1, PUSH1, 0]].concat();
    let dest = code.len() as u8 + 5;
    code.extend_from_slice(&[POP, PUSH1, dest, JUMPI, INVALID, JUMPDEST]);
    code.extend_from_slice(&[ISZERO]);
    returns_word(code, input.clone());
    // JUMPI on ISZERO of a flag that is false (GT): taken.
    let mut code = [load(1), load(0), vec![GT, ISZERO]].concat();
    let dest = code.len() as u8 + 4;
    code.extend_from_slice(&[PUSH1, dest, JUMPI, INVALID, JUMPDEST, PUSH1, 5]);
    returns_word(code, input);
}

/// MLOAD/MSTORE at constant offsets: exactly at the end of current memory (inline), one byte
/// past it (expansion), and offsets too large for the one-compare check (above 2^32, above
/// 2^64: out of gas through the helper).
#[test]
fn memory_at_constant_offsets() {
    // MSTORE(0x40, 1) grows memory to 0x60; then MLOAD(0x40) is inline, MLOAD(0x41) expands.
    let prefix = vec![PUSH1, 1, PUSH1, 0x40, MSTORE];
    returns_word([prefix.clone(), vec![PUSH1, 0x40, MLOAD]].concat(), vec![]);
    returns_word([prefix.clone(), vec![PUSH1, 0x41, MLOAD]].concat(), vec![]);
    returns_word(
        [
            prefix.clone(),
            vec![MSIZE, PUSH1, 0x20, MLOAD, POP, MSIZE, ADD],
        ]
        .concat(),
        vec![],
    );
    for big in [
        vec![PUSH5, 1, 0, 0, 0, 0],
        vec![PUSH9, 1, 0, 0, 0, 0, 0, 0, 0, 0],
    ] {
        for op in [MLOAD, MSTORE] {
            let mut code = prefix.clone();
            if op == MSTORE {
                code.extend_from_slice(&[PUSH1, 9]);
            }
            code.extend_from_slice(&big);
            code.extend_from_slice(&[op, STOP]);
            let o = run_both(&cfg(code, 1_000_000));
            assert_eq!(o.exit, ExitCode::OutOfGas);
        }
    }
}

/// A block's accesses at constant offsets at or below one it made are inline without a check
/// (memory never shrinks); one a byte above still expands memory and charges for it, exactly,
/// at every gas limit around that charge.
#[test]
fn memory_known_from_earlier_accesses_in_the_block() {
    // MSTORE(0x40, 7), then MLOAD at 0x3f, 0x40, 0, and `last`; the result sums them with MSIZE.
    for last in [0x40u8, 0x41, 0x60, 0x61] {
        let code = vec![
            PUSH1, 7, PUSH1, 0x40, MSTORE, PUSH1, 0x3f, MLOAD, PUSH1, 0x40, MLOAD, ADD, PUSH1, 0,
            MLOAD, ADD, PUSH1, last, MLOAD, ADD, MSIZE, ADD,
        ];
        returns_word(code.clone(), vec![]);
        let mut stop = code;
        stop.push(STOP);
        let full = run_both(&cfg(stop.clone(), 1_000_000)).gas_used;
        for gas in full.saturating_sub(8)..=full {
            let o = run_both(&cfg(stop.clone(), gas));
            let want = if gas == full {
                ExitCode::Stop
            } else {
                ExitCode::OutOfGas
            };
            assert_eq!(o.exit, want, "last {last:#x}, gas {gas}");
        }
    }
}

/// MLOAD/MSTORE at offsets from calldata around the end of memory of every small size (0 to 3
/// words): a word lies within memory exactly when its offset is below the length less 31, and
/// 0 words of memory hold none; offsets past 2^32, 2^64 and 2^128 go out of gas. The result
/// carries the word and MSIZE, against the interpreter.
#[test]
fn memory_at_dynamic_offsets_around_its_end() {
    for words in 0u8..=3 {
        let size = words as u64 * 32;
        let mut grow = vec![];
        if words > 0 {
            grow = vec![PUSH1, 7, PUSH1, (size - 32) as u8, MSTORE];
        }
        let mut offsets: Vec<u64> = vec![0, 1, 31, 32, 33, 64, 95, 96, 97];
        offsets.extend([
            size.saturating_sub(33),
            size.saturating_sub(32),
            size.saturating_sub(31),
        ]);
        offsets.extend([size, 1 << 32, u64::MAX]);
        let mut inputs: Vec<[u8; 32]> = offsets
            .iter()
            .map(|o| {
                let mut w = [0u8; 32];
                w[24..].copy_from_slice(&o.to_be_bytes());
                w
            })
            .collect();
        let mut past_64 = [0u8; 32];
        past_64[23] = 1;
        let mut past_128 = [0u8; 32];
        past_128[15] = 1;
        inputs.extend([past_64, past_128]);
        for input in inputs {
            for op in [MLOAD, MSTORE] {
                let mut code = grow.clone();
                if op == MSTORE {
                    code.extend_from_slice(&[PUSH1, 0x2a]);
                }
                code.extend_from_slice(&[PUSH0, CALLDATALOAD, op]);
                if op == MSTORE {
                    code.push(MSIZE);
                } else {
                    code.extend_from_slice(&[MSIZE, ADD]);
                }
                code.extend_from_slice(&[PUSH0, MSTORE, PUSH1, 32, PUSH0, RETURN]);
                let mut c = cfg(code, 1_000_000);
                c.input = input.to_vec().into();
                run_both(&c);
            }
        }
    }
}

/// A word the block has accessed memory at is known to be below 2^32, and adding a constant
/// below 2^32 keeps it a small i64 (its accesses check only the limit): offsets from calldata
/// (some past memory, some too large, some with a small low limb but upper bits), accesses at `p + k` within and past memory, a chain of
/// additions growing past 63 bits (the general path then), and the small words used as words
/// (stored, compared, jumped on, carried to the next block), against the interpreter.
#[test]
fn memory_at_offsets_plus_constants() {
    let ps: [u64; 7] = [0, 1, 32, 100, 4000, 1 << 20, 1 << 33];
    // Low limb `p`, and a bit set in an upper limb for the last three (never within memory,
    // though the low limb is).
    let upper = [
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        Some(23),
        Some(15),
        Some(0),
    ];
    for (i, high) in upper.into_iter().enumerate() {
        let p = ps.get(i).copied().unwrap_or(32);
        let mut input = [0u8; 32];
        input[24..].copy_from_slice(&p.to_be_bytes());
        if let Some(b) = high {
            input[b] |= 0x80;
        }
        // p MLOAD (known small from here), p+0x20 MLOAD, MSTORE at p+0x40 of p+0x60, then p+k
        // for a k past current memory.
        let mut code = vec![PUSH0, CALLDATALOAD, DUP1, MLOAD, POP];
        code.extend_from_slice(&[DUP1, PUSH1, 0x20, ADD, MLOAD, POP]);
        code.extend_from_slice(&[DUP1, PUSH1, 0x60, ADD, DUP2, PUSH1, 0x40, ADD, MSTORE]);
        code.extend_from_slice(&[DUP1, PUSH2, 0x01, 0x00, ADD, MLOAD, ADD]);
        // A chain of 40 additions of 2^32 - 1: small up to 63 bits, general after.
        for _ in 0..40 {
            code.extend_from_slice(&[PUSH4, 0xff, 0xff, 0xff, 0xff, ADD]);
        }
        // Compare it, jump on it, carry it to the next block.
        code.extend_from_slice(&[DUP1, DUP1, PUSH1, 3, LT, POP, ISZERO, PUSH1, 0]);
        let dest = code.len() as u8 + 3;
        code.extend_from_slice(&[ADD, PUSH1, dest, JUMPI, JUMPDEST]);
        let mut c = cfg(code.clone(), 10_000_000);
        c.input = input.to_vec().into();
        run_both(&c);
        // The same, with the sum returned and MSIZE.
        code.extend_from_slice(&[MSIZE, ADD, PUSH0, MSTORE, PUSH1, 32, PUSH0, RETURN]);
        let mut c = cfg(code, 10_000_000);
        c.input = input.to_vec().into();
        let o = run_both(&c);
        if p < 1 << 20 && high.is_none() {
            assert_eq!(o.exit, ExitCode::Return, "p {p}");
        }
    }
}

/// Runs `code` (which ends in STOP) with every gas limit from 0 to two above what it uses that
/// `near(limit, used)` selects, on both tiers: enough gas stops with the exact gas used, any
/// less runs out of gas using all of it.
fn stops_or_runs_out_at_every_limit(code: Vec<u8>, near: impl Fn(u64, u64) -> bool) {
    let full = run_both(&cfg(code.clone(), 1_000_000));
    assert_eq!(full.exit, ExitCode::Stop);
    let used = full.gas_used;
    for gas in (0..=used + 2).filter(|g| near(*g, used)) {
        let o = run_both(&cfg(code.clone(), gas));
        if gas >= used {
            assert_eq!((o.exit, o.gas_used), (ExitCode::Stop, used), "gas {gas}");
        } else {
            assert_eq!((o.exit, o.gas_used), (ExitCode::OutOfGas, gas), "gas {gas}");
        }
    }
}

/// A block's static gas is checked once at entry, and a helper that consumed dynamic gas (a
/// cold SLOAD, memory expansion) checks that what is left covers the static charges after it:
/// every gas limit around each threshold ends identically on both tiers, with the exact gas
/// used.
#[test]
fn gas_checks_after_dynamic_gas_helpers() {
    // PUSH1 0 SLOAD (cold: 2100) PUSH1 1 ADD PUSH2 0x0100 MSTORE (expansion) PUSH1 2 MUL POP STOP
    let code = vec![
        PUSH1, 0, SLOAD, PUSH1, 1, ADD, PUSH2, 0x01, 0x00, MSTORE, PUSH1, 2, PUSH1, 3, MUL, POP,
        STOP,
    ];
    stops_or_runs_out_at_every_limit(code, |g, used| {
        g <= 40 || g + 40 >= used || (2100..2120).contains(&g)
    });
}

/// Regression (found by the differential fuzzer while the gas checks after helpers moved into
/// the helpers): a memory access that needs no expansion calls nothing, so the gas check of the
/// helper before it (SLOAD here) must cover the static charges after the access too. Checked
/// at every gas limit around the thresholds: the check ending at the access let the charges
/// after it run unchecked and wrap the gas counter.
#[test]
fn gas_checks_reach_past_memory_accesses_within_memory() {
    // PUSH0 MLOAD POP (memory: one word) PUSH0 SLOAD POP PUSH0 MLOAD (within memory)
    // PUSH1 7 MUL PUSH1 9 ADD PUSH1 3 SWAP1 SUB POP STOP
    let code = vec![
        PUSH0, MLOAD, POP, PUSH0, SLOAD, POP, PUSH0, MLOAD, PUSH1, 7, MUL, PUSH1, 9, ADD, PUSH1, 3,
        SWAP1, SUB, POP, STOP,
    ];
    stops_or_runs_out_at_every_limit(code, |g, used| {
        g <= 40 || g + 60 >= used || (2100..2130).contains(&g)
    });
}

/// SIGNEXTEND by a constant byte index and SAR by a constant amount are inlined as shifts on the
/// i128 halves: every byte index (and indices past 31), shift amounts in every class, on words
/// whose sign bits are set, clear and mixed, against the interpreter.
#[test]
fn signextend_and_sar_by_constants() {
    let mut mixed = [0u8; 32];
    for (i, b) in mixed.iter_mut().enumerate() {
        *b = if i % 3 == 0 { 0x80 } else { 0x17 };
    }
    let mut other = mixed;
    other.reverse();
    for value in [[0x80u8; 32], [0x7f; 32], [0xff; 32], [0; 32], mixed, other] {
        for k in (0u16..=33).chain([128, 255, 256, 300]) {
            let k2 = k.to_be_bytes();
            let code = vec![PUSH0, CALLDATALOAD, PUSH2, k2[0], k2[1], SIGNEXTEND];
            returns_word(code, value.to_vec());
        }
        for k in [
            0u16, 1, 7, 8, 63, 64, 65, 127, 128, 129, 191, 200, 254, 255, 256, 300,
        ] {
            let k2 = k.to_be_bytes();
            returns_word(
                vec![PUSH0, CALLDATALOAD, PUSH2, k2[0], k2[1], SAR],
                value.to_vec(),
            );
        }
    }
}

/// Blocks a static-only block falls into are checked with it, once (a chain): halts inside the
/// chain — out of gas at every gas limit, a stack underflow or overflow in a later block —
/// and a chained loop head also entered by a jump, against the interpreter.
#[test]
fn chained_blocks_halt_exactly() {
    let underflow = vec![PUSH1, 1, POP, JUMPDEST, PUSH1, 2, POP, JUMPDEST, POP, STOP];
    let mut overflow = vec![PUSH1, 1, JUMPDEST];
    overflow.extend(std::iter::repeat_n([DUP1, JUMPDEST], 1100).flatten());
    overflow.push(STOP);
    // PUSH1 3 JUMPDEST(2) PUSH1 1 SWAP1 SUB JUMPDEST DUP1 PUSH1 2 JUMPI STOP: the head at 2
    // is entered by falling through and by the JUMPI.
    let looped = vec![
        PUSH1, 3, JUMPDEST, PUSH1, 1, SWAP1, SUB, JUMPDEST, DUP1, PUSH1, 2, JUMPI, STOP,
    ];
    // Gas carried uncharged along the chain, then read (GAS, returned), charged with a memory
    // expansion, and with a helper's own charge (SLOAD).
    let carried = vec![
        PUSH1, 1, POP, JUMPDEST, PUSH1, 2, POP, JUMPDEST, GAS, PUSH0, MSTORE, JUMPDEST, PUSH1, 9,
        POP, JUMPDEST, PUSH0, SLOAD, POP, JUMPDEST, GAS, PUSH1, 32, MSTORE, PUSH1, 64, PUSH0,
        RETURN,
    ];
    // fibonacci's loop (revmc's), at every third gas limit: a JUMPI block and the jump block
    // it falls into, checked together; the count comes from calldata.
    let fib = alloy_primitives::hex::decode(
        "5f355f60015b8215601a578181019150909160019003916005565b9150505f5260205ff3",
    )
    .expect("hex");
    for code in [underflow, overflow, looped, carried] {
        for gas in (0..120)
            .chain((2_000..2_300).step_by(7))
            .chain([10_000, 1_000_000])
        {
            run_both(&cfg(code.clone(), gas));
        }
    }
    for n in [0u64, 1, 2, 7] {
        for gas in (0..400).step_by(3) {
            let mut c = cfg(fib.clone(), gas);
            c.input = alloy_primitives::U256::from(n)
                .to_be_bytes::<32>()
                .to_vec()
                .into();
            run_both(&c);
        }
    }
}

/// A JUMPI's fall-through block is checked with the JUMPI's block, so that check also covers
/// the way not taken: where the gas suffices for the jump but not for the fall-through's static
/// gas, compiled code hands over to the interpreter early, and the result is still exact — at
/// every gas limit, with the jump taken and not.
#[test]
fn jumpi_fall_through_checked_with_its_jumpi() {
    // The condition is known only when the code runs: CALLER (non-zero: taken) or
    // CALLDATASIZE (no input: not taken); a constant condition branches one way only.
    for condition in [CALLER, CALLDATASIZE] {
        // condition PUSH1 target JUMPI, then 20 x (PUSH1 1 POP) STOP, target: JUMPDEST STOP.
        let mut code = vec![condition, PUSH1, 0, JUMPI];
        code.extend(std::iter::repeat_n([PUSH1, 1, POP], 20).flatten());
        code.push(STOP);
        let target = code.len() as u8;
        code[2] = target;
        code.extend([JUMPDEST, STOP]);
        stops_or_runs_out_at_every_limit(code, |_, _| true);
    }
}

/// A constant-offset MLOAD/MSTORE checks memory, and grows it, for the highest constant offset
/// its stretch accesses, so that the accesses after it need no check: at every gas limit around
/// the expansions the result is the interpreter's, with the exact gas used. GAS and MSIZE end a
/// stretch (they see the gas left and the memory size): their values, returned, agree too.
#[test]
fn memory_grown_ahead_for_a_stretch() {
    // PUSH1 1 PUSH0 MSTORE, PUSH1 2 PUSH2 0x0400 MSTORE, PUSH2 0x0100 MLOAD POP,
    // PUSH1 3 PUSH2 0x0800 MSTORE, STOP: the first store grows memory for the last.
    let plain = vec![
        PUSH1, 1, PUSH0, MSTORE, PUSH1, 2, PUSH2, 0x04, 0x00, MSTORE, PUSH2, 0x01, 0x00, MLOAD,
        POP, PUSH1, 3, PUSH2, 0x08, 0x00, MSTORE, STOP,
    ];
    stops_or_runs_out_at_every_limit(plain, |g, used| g <= 30 || g + 200 >= used);
    // PUSH1 1 PUSH2 0x0200 MSTORE, GAS, PUSH1 2 PUSH2 0x0600 MSTORE, MSIZE, PUSH1 3
    // PUSH2 0x0a00 MSTORE, GAS, then the three words (GAS, MSIZE, GAS) stored at 0..0x60 and
    // returned.
    let observed = vec![
        PUSH1, 1, PUSH2, 0x02, 0x00, MSTORE, GAS, PUSH1, 2, PUSH2, 0x06, 0x00, MSTORE, MSIZE,
        PUSH1, 3, PUSH2, 0x0a, 0x00, MSTORE, GAS, PUSH0, MSTORE, PUSH1, 0x20, MSTORE, PUSH1, 0x40,
        MSTORE, PUSH1, 0x60, PUSH0, RETURN,
    ];
    for gas in (0..400).chain([10_000, 1_000_000]) {
        run_both(&cfg(observed.clone(), gas));
    }
}

/// ADDMOD and MULMOD take their operands by reference, where the buffer holds each: its own
/// slot (an entry item, or a value stored there first), or the slot a DUP or SWAP copied it
/// from; the result overwrites the deepest operand's slot. Random sequences of DUPs, SWAPs,
/// pushes, additions and the two operations over eight entry items (calldata words, passed
/// through a JUMPDEST so the second block reads them from the buffer) put operands in every
/// such place, aliasing each other and the result's slot, with copies of that slot below;
/// every item left is returned, so a copy read after the slot was overwritten shows.
#[test]
fn modular_operands_by_reference_in_every_place() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let input: Vec<u8> = (0..8u8)
        .flat_map(|i| {
            let mut w = [0xa5u8 ^ i; 32];
            w[0] = i; // moduli below 2^251, some small: most results differ from operands
            w[1..31 - i as usize * 3].fill(0);
            w
        })
        .collect();
    for _ in 0..300 {
        let mut code = Vec::new();
        for i in 0..8u8 {
            code.extend_from_slice(&[PUSH1, 32 * i, CALLDATALOAD]);
        }
        code.extend_from_slice(&[PUSH1, 27, JUMP, JUMPDEST]);
        assert_eq!(code.len(), 28);
        let mut depth = 8usize;
        for _ in 0..12 {
            match next(6) {
                0 if depth < 14 => {
                    code.push(DUP1 + next(depth.min(8) as u64) as u8);
                    depth += 1;
                }
                1 => code.push(SWAP1 + next((depth - 1).min(8) as u64) as u8),
                2 if depth < 14 => {
                    code.extend_from_slice(&[PUSH1, 1 + next(250) as u8]);
                    depth += 1;
                }
                3 if depth > 3 => {
                    code.push(ADD);
                    depth -= 1;
                }
                _ if depth > 3 => {
                    code.push(if next(2) == 0 { ADDMOD } else { MULMOD });
                    depth -= 2;
                }
                _ => code.push(JUMPDEST),
            }
        }
        for k in 0..depth as u16 {
            let [hi, lo] = (32 * k).to_be_bytes();
            code.extend_from_slice(&[PUSH2, hi, lo, MSTORE]);
        }
        let [hi, lo] = (32 * depth as u16).to_be_bytes();
        code.extend_from_slice(&[PUSH2, hi, lo, PUSH0, RETURN]);
        let mut c = cfg(code, 1_000_000);
        c.input = input.clone().into();
        assert_eq!(run_both(&c).exit, ExitCode::Return);
    }
}

/// Values computed before a memory expansion (`ferrite_mexpand`, a call on the access's slow
/// path) are used after it: eight words from calldata and their sums are live across
/// expansions at growing offsets the compiler cannot know (each MSTORE grows memory),
/// constants are stored after each, and everything is returned, against the interpreter.
#[test]
fn values_live_across_memory_expansion() {
    let mut code = Vec::new();
    for i in 0..8u8 {
        code.extend_from_slice(&[PUSH1, 32 * i, CALLDATALOAD]);
    }
    // Sums of neighbours: sixteen words live, in registers where the allocator can.
    for _ in 0..8 {
        code.extend_from_slice(&[DUP8, DUP8, ADD]);
    }
    // Four expansions (offsets 0x400, 0x800, ... plus the calldata's size, unknown to the
    // compiler), each followed by a constant store that reuses vector registers, then all
    // sixteen words stored and returned.
    for k in 1..=4u8 {
        code.extend_from_slice(&[CALLDATASIZE, PUSH2, 4 * k, 0, ADD]);
        code.extend_from_slice(&[DUP2, SWAP1, MSTORE]);
        code.extend_from_slice(&[PUSH32]);
        code.extend_from_slice(&[0x5a; 32]);
        code.extend_from_slice(&[PUSH2, 4 * k, 0x20, MSTORE]);
    }
    for k in 0..16u16 {
        let [hi, lo] = (0x2000 + 32 * k).to_be_bytes();
        code.extend_from_slice(&[PUSH2, hi, lo, MSTORE]);
    }
    code.extend_from_slice(&[PUSH2, 0x14, 0, PUSH2, 0x20, 0, RETURN]);
    let mut c = cfg(code, 1_000_000);
    c.input = (0..256u32)
        .map(|i| (i * 37 + 11) as u8)
        .collect::<Vec<u8>>()
        .into();
    let out = run_both(&c);
    assert_eq!(out.exit, ExitCode::Return);
    assert_eq!(out.output.len(), 0x1400);
}

/// Constants a block leaves on the stack are stored as 64-bit immediates when both limbs of a
/// 16-byte half fit a sign-extended 32-bit immediate and the function pushes that half rarely,
/// else from the constant pool: halves at each side of the immediate's bounds (2^31 - 1, 2^31,
/// -2^31, -1 as a limb), in either half of the word, pushed once or often enough to be pooled,
/// are stored at a block's end and read back by the next block, against the interpreter.
#[test]
fn constants_stored_as_immediates_or_from_the_pool() {
    let limb = |v: u64| v.to_be_bytes().to_vec();
    let halves: Vec<Vec<u8>> = vec![
        [limb(0), limb(0x7fff_ffff)].concat(),
        [limb(0), limb(0x8000_0000)].concat(),
        [limb(u64::MAX), limb(0xffff_ffff_8000_0000)].concat(),
        [limb(0x7fff_ffff), limb(u64::MAX)].concat(),
        [limb(0x1_0000_0000), limb(5)].concat(),
        [limb(0), limb(0)].concat(),
    ];
    for (i, a) in halves.iter().enumerate() {
        for b in &halves[i..] {
            let word = [a.clone(), b.clone()].concat();
            for copies in [1, 7] {
                // PUSH32 word (× copies), then JUMP to the next block, which XORs them with a
                // word from calldata so that each is read back from the buffer.
                let mut code = Vec::new();
                for _ in 0..copies {
                    code.push(PUSH32);
                    code.extend_from_slice(&word);
                }
                let dest = (code.len() + 4) as u16;
                code.push(PUSH2);
                code.extend_from_slice(&dest.to_be_bytes());
                code.extend_from_slice(&[JUMP, JUMPDEST]);
                code.extend_from_slice(&[PUSH0, CALLDATALOAD]);
                code.extend(std::iter::repeat_n(XOR, copies));
                returns_word(code, vec![0x5a; 32]);
            }
        }
    }
}

/// A loop of static jumps (gas carried in a register, the frame's copy stale), then one exit of
/// each kind that must see exact gas: every gas limit up to enough must agree with the
/// interpreter, so a flush missing on any exit path shows as a gas or status difference.
#[test]
fn gas_carried_across_static_jumps_is_exact_at_every_exit() {
    // PUSH1 3; loop: JUMPDEST PUSH1 1 SWAP1 SUB DUP1 PUSH1 2 JUMPI; POP; <tail at pc 11>
    let head = vec![
        PUSH1, 3, JUMPDEST, PUSH1, 1, SWAP1, SUB, DUP1, PUSH1, 2, JUMPI, POP,
    ];
    let tails: Vec<(&str, Vec<u8>, ExitCode)> = vec![
        ("stop", vec![STOP], ExitCode::Stop),
        ("invalid opcode", vec![INVALID], ExitCode::InvalidOpcode),
        ("helper", vec![PUSH1, 0, SLOAD, POP, STOP], ExitCode::Stop),
        (
            // CALLDATASIZE is 0, so the jump is dynamic but lands on pc 17.
            "dynamic jump",
            vec![PUSH1, 17, CALLDATASIZE, ADD, JUMP, JUMPDEST, STOP],
            ExitCode::Stop,
        ),
        (
            "invalid dynamic jump",
            vec![CALLDATASIZE, JUMP],
            ExitCode::InvalidJump,
        ),
        (
            "invalid static jump",
            vec![PUSH1, 0, JUMP],
            ExitCode::InvalidJump,
        ),
        // JUMPIs not taken, falling through off the end of the code.
        ("constant jumpi", vec![PUSH0, PUSH0, JUMPI], ExitCode::Stop),
        ("jumpi", vec![CALLDATASIZE, PUSH0, JUMPI], ExitCode::Stop),
        (
            "memory expansion",
            vec![PUSH1, 0, PUSH2, 0x10, 0x00, MSTORE, STOP],
            ExitCode::Stop,
        ),
        (
            "gas",
            vec![GAS, PUSH1, 0, MSTORE, PUSH1, 32, PUSH1, 0, RETURN],
            ExitCode::Return,
        ),
        (
            // CALL to the identity precompile with all gas left.
            "call",
            vec![
                PUSH1, 0, PUSH1, 0, PUSH1, 0, PUSH1, 0, PUSH1, 0, PUSH1, 4, GAS, CALL, POP, STOP,
            ],
            ExitCode::Stop,
        ),
    ];
    for (name, tail, exit) in tails {
        let mut code = head.clone();
        code.extend(tail);
        let full = run_both(&cfg(code.clone(), 1_000_000));
        assert_eq!(full.exit, exit, "{name}");
        // Below some threshold the run is out of gas, from it on it takes the tail's exit; for
        // the tails that halt normally the threshold is the gas they use.
        let mut threshold = None;
        for gas in 0..full.gas_used + 3 {
            let o = run_both(&cfg(code.clone(), gas));
            match threshold {
                None if o.exit == ExitCode::OutOfGas => {}
                None => threshold = Some(gas),
                Some(t) if gas > t + 3 => break,
                Some(_) => {}
            }
            let expected = if threshold.is_some() {
                exit
            } else {
                ExitCode::OutOfGas
            };
            assert_eq!(o.exit, expected, "{name} at {gas}");
        }
        if matches!(exit, ExitCode::Stop | ExitCode::Return) {
            assert_eq!(threshold, Some(full.gas_used), "{name}");
        }
    }
}

/// Loops whose back edge returns to the head with the stack length unchanged check only the
/// gas there; others check the stack as well. Each shape runs on both tiers at every gas
/// limit up to what it needs, so a back edge that skipped a check it needs, or handed over at
/// the wrong length, shows as a difference.
#[test]
fn loop_back_edges_check_what_they_must() {
    let shapes: Vec<(&str, Vec<u8>, ExitCode)> = vec![
        (
            // The head is fallen into (chained) and jumps back to itself by JUMPI.
            "chained head",
            vec![
                PUSH1, 4, JUMPDEST, PUSH1, 1, SWAP1, SUB, DUP1, PUSH1, 2, JUMPI, STOP,
            ],
            ExitCode::Stop,
        ),
        (
            // The head is only jumped to.
            "jumped-to head",
            vec![
                PUSH1, 4, PUSH1, 6, JUMP, INVALID, JUMPDEST, PUSH1, 1, SWAP1, SUB, DUP1, PUSH1, 6,
                JUMPI, STOP,
            ],
            ExitCode::Stop,
        ),
        (
            // fibonacci's shape: the condition's JUMPI falls into the body, whose JUMP goes
            // back to the head.
            "condition and body",
            vec![
                PUSH1, 5, PUSH0, PUSH1, 1, JUMPDEST, DUP3, ISZERO, PUSH1, 0x1a, JUMPI, DUP2, DUP2,
                ADD, SWAP2, POP, SWAP1, SWAP2, PUSH1, 1, SWAP1, SUB, SWAP2, PUSH1, 5, JUMP,
                JUMPDEST, STOP,
            ],
            ExitCode::Stop,
        ),
        (
            // Grows the stack by one per iteration: the stack check stays on the back edge.
            "growing",
            vec![JUMPDEST, PUSH0, PUSH0, JUMP],
            ExitCode::StackOverflow,
        ),
        (
            // Shrinks it by one per iteration.
            "shrinking",
            vec![
                PUSH0, PUSH0, PUSH0, PUSH0, PUSH0, JUMPDEST, POP, PUSH1, 5, JUMP,
            ],
            ExitCode::StackUnderflow,
        ),
    ];
    for (name, code, exit) in shapes {
        let full = run_both(&cfg(code.clone(), 100_000));
        assert_eq!(full.exit, exit, "{name}");
        // The normal halts use exactly the gas they need; the stack errors consume it all.
        let need = match exit {
            ExitCode::Stop => full.gas_used,
            _ => (0..100_000)
                .find(|g| run_both(&cfg(code.clone(), *g)).exit == exit)
                .unwrap_or(0),
        };
        for gas in 0..need + 3 {
            let o = run_both(&cfg(code.clone(), gas));
            let expected = if gas >= need {
                exit
            } else {
                ExitCode::OutOfGas
            };
            assert_eq!(o.exit, expected, "{name} at {gas}");
        }
    }
}

/// A block entered only by a JUMPI's fall-through starts from the stack top address its
/// predecessor passes on, shifted by what that block pushed and popped: the words it reads
/// below its entry must be the ones the predecessor left.
#[test]
fn fall_through_blocks_read_the_words_left_for_them() {
    // PUSH1 7 PUSH1 9 <condition> PUSH1 dest JUMPI; ADD PUSH1 5 MUL PUSH0 MSTORE (the sum
    // times 5) then RETURN the word; dest: JUMPDEST STOP (never taken).
    for condition in [vec![CALLDATASIZE], vec![PUSH0]] {
        let mut code = vec![PUSH1, 7, PUSH1, 9];
        code.extend(&condition);
        let dest = code.len() as u8 + 3 + 12;
        code.extend([PUSH1, dest, JUMPI]);
        code.extend([ADD, PUSH1, 5, MUL, PUSH0, MSTORE, PUSH1, 32, PUSH0, RETURN]);
        code.extend([INVALID, INVALID, JUMPDEST, STOP]);
        assert_eq!(code[dest as usize], JUMPDEST);
        let o = run_both(&cfg(code, 100_000));
        assert_eq!(o.exit, ExitCode::Return);
        assert_eq!(o.output[31], 80);
    }
}
