//! The JIT's inline opcodes, checked by a table against the runtime's bodies.
//!
//! Word operations (every opcode `pure::is_pure` names: the inlined ones of
//! [`inlined`] and the pure-helper ones, whose constant-operand shapes are inline too): for each
//! opcode and each operand form — every subset of its operands constants (PUSH32), the others
//! dynamic (CALLDATALOAD) — one compiled program per batch of operand tuples evaluates the
//! opcode on every tuple of edge values and returns all results, compared with
//! `pure::{unary, binary, ternary}` and with the interpreter running the same program.
//!
//! The other inlined opcodes (stack, PC, GAS, JUMPDEST, STOP, INVALID, memory, jumps) have no
//! word body: they run in small programs with constant and dynamic operands, compared with a
//! model of the stack and with the interpreter (`support::run_both`).
//! `every_inlined_opcode_is_covered` keeps [`inlined`] and these tests in step.

mod support;

use alloy_primitives::Bytes;
use ferrite::bytecode::Bytecode;
use ferrite::interpreter::NoTracer;
use ferrite::jit::lower::{inlined, lowering, Lowering};
use ferrite::runtime::builtins::PURE_HELPERS;
use ferrite::runtime::instructions::pure;
use ferrite::runtime::opcode::op;
use ferrite::runtime::{ExitCode, Opcode, SpecId, OPCODE_INFO, U256};
use ferrite::sources::WithProgram;
use ferrite_state::call::{self, CallConfig, CallOutcome};
use ferrite_state::Mode;
use std::sync::Arc;
use support::run_both;

/// Osaka: every word opcode (CLZ) is enabled.
const SPEC: SpecId = SpecId::Osaka;

/// Largest program built per batch (bytes): below the JIT's code size limit.
const BATCH_BYTES: usize = 24 * 1024;

fn pow2(k: usize) -> U256 {
    U256::from(1) << k
}

fn neg(x: U256) -> U256 {
    U256::ZERO.wrapping_sub(x)
}

fn hex(s: &str) -> U256 {
    U256::from_str_radix(s, 16).expect("hex word")
}

/// Edge values every word operand takes: limb and half boundaries, sign boundaries, all ones,
/// small numbers (DIV's 64-bit path), and two mixed-byte words whose bytes alternate high bits.
fn edges() -> Vec<U256> {
    let mut v: Vec<U256> = [0u64, 1, 2, 3, 7, 10, 0x7f, 0x80, 0xff]
        .into_iter()
        .map(U256::from)
        .collect();
    v.extend([
        pow2(63) - U256::from(1),
        pow2(63),
        pow2(64) - U256::from(1),
        pow2(64),
        pow2(64) + U256::from(1),
        pow2(127),
        pow2(128) - U256::from(1),
        pow2(128),
        pow2(192),
        pow2(255) - U256::from(1),
        pow2(255),
        U256::MAX,
        U256::MAX - U256::from(1),
        neg(U256::from(3)),
        neg(pow2(63)),
    ]);
    let mixed = hex("0123456789abcdeffedcba98765432100f1e2d3c4b5a69788796a5b4c3d2e1f0");
    v.extend([mixed, !mixed]);
    v
}

/// Extra values for the top operand of `op`: shift amounts for shifts, byte indices 0..=33 for
/// BYTE and SIGNEXTEND, powers of two for CLZ.
fn extras(op: Opcode) -> Vec<U256> {
    let v = |xs: &[u64]| xs.iter().map(|x| U256::from(*x)).collect::<Vec<_>>();
    match op {
        // Every limb offset (k / 64) with a zero, small and large remainder (k % 64): constant
        // shifts are lowered limb by limb.
        Opcode::SHL | Opcode::SHR | Opcode::SAR => v(&[
            0,
            1,
            2,
            7,
            8,
            31,
            62,
            63,
            64,
            65,
            100,
            127,
            128,
            129,
            160,
            191,
            192,
            200,
            224,
            248,
            254,
            255,
            256,
            257,
            1 << 32,
        ]),
        Opcode::BYTE | Opcode::SIGNEXTEND => (0..=33).map(U256::from).collect(),
        // Masks whose limbs are all ones, zero or neither (constants are lowered limb by limb):
        // an address, a `uint32`, a limb in the middle.
        Opcode::AND | Opcode::OR => vec![
            pow2(160) - U256::from(1),
            pow2(32) - U256::from(1),
            (pow2(64) - U256::from(1)) << 64,
        ],
        Opcode::CLZ => [0, 1, 7, 8, 63, 64, 65, 127, 128, 191, 192, 254, 255]
            .into_iter()
            .map(pow2)
            .collect(),
        _ => Vec::new(),
    }
}

/// The operand tuples for `op` (operand 0 is the top of the stack).
fn tuples(op: Opcode) -> Vec<Vec<U256>> {
    let e = edges();
    let mut tops = e.clone();
    tops.extend(extras(op));
    match OPCODE_INFO[op as usize].inputs {
        1 => tops.into_iter().map(|a| vec![a]).collect(),
        2 => tops
            .iter()
            .flat_map(|a| e.iter().map(move |b| vec![*a, *b]))
            .collect(),
        3 => {
            // Fewer values: three operands multiply (and ADDMOD/MULMOD have no inline shapes).
            let t: Vec<U256> = [U256::ZERO, U256::from(1), pow2(64) - U256::from(1)]
                .into_iter()
                .chain([pow2(128), pow2(255), U256::MAX, e[e.len() - 2]])
                .collect();
            let mut out = Vec::new();
            for a in &t {
                for b in &t {
                    for n in &t {
                        out.push(vec![*a, *b, *n]);
                    }
                }
            }
            out
        }
        n => unreachable!("word ops take 1 to 3 operands, not {n}"),
    }
}

/// The runtime's body.
fn body(op: Opcode, x: &[U256]) -> U256 {
    pure::apply(op as u8, x).expect("a word opcode with its operands")
}

/// Every word opcode: the ones `pure` defines.
fn word_ops() -> Vec<Opcode> {
    (0..=255u8)
        .filter(|b| pure::is_pure(*b))
        .map(|b| Opcode::from_u8(b).expect("pure opcodes are defined"))
        .collect()
}

fn push32(code: &mut Vec<u8>, v: U256) {
    code.push(op::PUSH32);
    code.extend_from_slice(&v.to_be_bytes::<32>());
}

fn push2(code: &mut Vec<u8>, v: usize) {
    let v = u16::try_from(v).expect("fits PUSH2");
    code.push(op::PUSH2);
    code.extend_from_slice(&v.to_be_bytes());
}

/// A program that evaluates `op` on each tuple (operand `i` a PUSH32 constant if bit `i` of
/// `consts` is set, else loaded from the calldata) and returns the results, one word each;
/// and its calldata (the dynamic operands, one word each).
fn program(op: Opcode, consts: u32, tuples: &[Vec<U256>]) -> (Vec<u8>, Vec<u8>) {
    let mut code = Vec::new();
    let mut input = Vec::new();
    // Grow memory to its final size once, so the stores below stay inline.
    code.push(op::PUSH0);
    push2(&mut code, 32 * (tuples.len() - 1));
    code.push(op::MSTORE);
    for (i, t) in tuples.iter().enumerate() {
        for (k, v) in t.iter().enumerate().rev() {
            if consts & (1 << k) != 0 {
                push32(&mut code, *v);
            } else {
                push2(&mut code, input.len());
                code.push(op::CALLDATALOAD);
                input.extend_from_slice(&v.to_be_bytes::<32>());
            }
        }
        code.push(op as u8);
        push2(&mut code, 32 * i);
        code.push(op::MSTORE);
    }
    push2(&mut code, 32 * tuples.len());
    code.extend([op::PUSH0, op::RETURN]);
    (code, input)
}

/// Runs `cfg` with its whole code compiled (a compile error fails the test, rather than running
/// interpreted).
fn run_compiled(cfg: &CallConfig) -> CallOutcome {
    let code = Arc::new(Bytecode::new(cfg.code.clone()));
    let program = ferrite::jit::compile(code, cfg.spec).expect("the program compiles");
    call::run_with(cfg, &mut NoTracer, &WithProgram(Arc::new(program)))
}

fn form(consts: u32, inputs: usize) -> String {
    (0..inputs)
        .map(|k| if consts & (1 << k) != 0 { 'c' } else { 'd' })
        .collect()
}

/// Checks `op` in every operand form on its tuples; returns how many results were compared.
fn check_op(op: Opcode) -> usize {
    let inputs = OPCODE_INFO[op as usize].inputs as usize;
    let all = tuples(op);
    // Bytes per tuple at most: PUSH32s, the op, PUSH2 and MSTORE.
    let per = 33 * inputs + 5;
    let mut checked = 0;
    for consts in 0..1u32 << inputs {
        for batch in all.chunks(BATCH_BYTES / per) {
            let (code, input) = program(op, consts, batch);
            let mut cfg = CallConfig::new(code, input);
            cfg.spec = SPEC;
            let jit = run_compiled(&cfg);
            cfg.mode = Mode::Interp;
            let interp = call::run(&cfg);
            let name = || format!("{op:?} with operands {}", form(consts, inputs));
            assert_eq!(jit.exit, ExitCode::Return, "{}", name());
            assert_eq!(
                (interp.exit, interp.gas_used),
                (jit.exit, jit.gas_used),
                "{}",
                name()
            );
            assert_eq!(jit.output.len(), 32 * batch.len(), "{}", name());
            for (i, t) in batch.iter().enumerate() {
                let word = |out: &Bytes| U256::from_be_slice(&out[32 * i..32 * i + 32]);
                let (j, b, n) = (word(&jit.output), body(op, t), word(&interp.output));
                assert!(
                    j == b && n == b,
                    "{} (c: constant, d: dynamic; top first) on [{}]: \
                     JIT {j:#x}, body {b:#x}, interpreter {n:#x}",
                    name(),
                    t.iter()
                        .map(|x| format!("{x:#x}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            checked += batch.len();
        }
    }
    checked
}

fn check_ops(ops: impl IntoIterator<Item = Opcode>) {
    for op in ops {
        assert!(check_op(op) > 0);
    }
}

/// The word ops the lowering inlines: ADD, SUB, comparisons, bitwise, ISZERO, NOT.
#[test]
fn inlined_word_ops_agree_with_the_bodies() {
    check_ops(
        word_ops()
            .into_iter()
            .filter(|op| lowering(*op) == Lowering::Inline),
    );
}

/// Helper ops with inline shapes for constant operands (shifts, SIGNEXTEND, powers of two,
/// small divisions).
#[test]
fn helper_word_ops_with_inline_shapes_agree_with_the_bodies() {
    use Opcode::*;
    check_ops([MUL, DIV, SDIV, MOD, SHL, SHR, SAR, SIGNEXTEND]);
}

/// The other helper ops: always the helper, whatever the operands.
#[test]
fn other_helper_word_ops_agree_with_the_bodies() {
    use Opcode::*;
    let shaped = [MUL, DIV, SDIV, MOD, SHL, SHR, SAR, SIGNEXTEND];
    check_ops(
        word_ops()
            .into_iter()
            .filter(|op| lowering(*op) == Lowering::Pure && !shaped.contains(op)),
    );
}

/// The stack ops, PC and POP against a model of the stack: PUSH1..PUSH32; DUP1..16 and
/// SWAP1..16 over 17 items that are constants, dynamic (CALLDATALOAD), or entry items of the
/// block (in the stack buffer, after a JUMPDEST); the whole stack is returned.
#[test]
fn stack_ops_agree_with_a_model() {
    let e = edges();
    let items: Vec<U256> = (0..17).map(|i| e[(i * 7 + 3) % e.len()]).collect();
    let input: Vec<u8> = items.iter().flat_map(|v| v.to_be_bytes::<32>()).collect();
    // Returns the stack, top first, and POPs it.
    let store_all = |code: &mut Vec<u8>, depth: usize| {
        for i in 0..depth {
            push2(code, 32 * i);
            code.push(op::MSTORE);
        }
        push2(code, 32 * depth);
        code.extend([op::PUSH0, op::RETURN]);
    };
    let check = |code: Vec<u8>, expected: &[U256]| {
        let mut cfg = CallConfig::new(code, input.clone());
        cfg.spec = SPEC;
        let o = run_both(&cfg);
        assert_eq!(o.exit, ExitCode::Return);
        let got: Vec<U256> = o.output.chunks(32).map(U256::from_be_slice).collect();
        assert_eq!(
            got,
            expected,
            "code {}",
            alloy_primitives::hex::encode(&cfg.code)
        );
    };
    // PUSH0..PUSH32 with immediates 1, 2, 3, ...; POP between (one PUSH1 popped).
    let mut code = Vec::new();
    let mut model = Vec::new();
    for n in 0..=32u8 {
        code.push(op::PUSH0 + n);
        code.extend(1..=n);
        model.push(U256::from_be_slice(&(1..=n).collect::<Vec<u8>>()));
        code.extend([op::PUSH1, 0xee, op::POP]);
    }
    let depth = model.len();
    store_all(&mut code, depth);
    model.reverse();
    check(code, &model);
    // DUPn and SWAPn in three forms.
    for form in ["constant", "dynamic", "entry"] {
        for n in 1..=16usize {
            for swap in [false, true] {
                let mut code = Vec::new();
                for (i, v) in items.iter().enumerate() {
                    match form {
                        "constant" => push32(&mut code, *v),
                        _ => {
                            push2(&mut code, 32 * i);
                            code.push(op::CALLDATALOAD);
                        }
                    }
                }
                if form == "entry" {
                    code.extend([op::JUMPDEST]);
                }
                // The model, top last.
                let mut stack = items.clone();
                let top = stack.len() - 1;
                if swap {
                    code.push(op::SWAP1 + n as u8 - 1);
                    stack.swap(top, top - n);
                } else {
                    code.push(op::DUP1 + n as u8 - 1);
                    stack.push(stack[top + 1 - n]);
                }
                store_all(&mut code, stack.len());
                stack.reverse();
                check(code, &stack);
            }
        }
    }
    // PC at a few positions, and PUSHes of the word it returns.
    let code = vec![
        op::PC,
        op::JUMPDEST,
        op::PC,
        op::PUSH1,
        0,
        op::POP,
        op::PC,
        op::PUSH0,
        op::MSTORE,
        op::PUSH1,
        32,
        op::MSTORE,
        op::PUSH1,
        64,
        op::MSTORE,
        op::PUSH1,
        96,
        op::PUSH0,
        op::RETURN,
    ];
    check(code, &[U256::from(6), U256::from(2), U256::ZERO]);
}

/// ADDRESS, CALLER and CALLVALUE read from the frame's message: for a top-level call, a nested
/// CALL (value sent), a DELEGATECALL (caller and value inherited) and a STATICCALL, the words
/// they push (returned and combined arithmetically, so every byte matters) agree with the
/// interpreter.
#[test]
fn message_fields_agree_with_the_interpreter() {
    // callee: ADDRESS CALLER CALLVALUE, then each one's word and their sum returned (128 bytes).
    let callee: Vec<u8> = vec![
        0x30, 0x33, 0x34, // ADDRESS CALLER CALLVALUE
        0x82, 0x82, 0x82, 0x01, 0x01, // DUP3 DUP3 DUP3 ADD ADD: the sum on top
        0x5f, 0x52, // PUSH0 MSTORE (sum at 0)
        0x60, 0x20, 0x52, // value at 32
        0x60, 0x40, 0x52, // caller at 64
        0x60, 0x60, 0x52, // address at 96
        0x60, 0x80, 0x5f, 0xf3, // RETURN 128 bytes
    ];
    // Bytes that differ, so a byte-order slip shows.
    let callee_at = alloy_primitives::address!("d102030405060708090a0b0c0d0e0f1011121314");
    for kind in [0xf1u8, 0xf4, 0xfa] {
        // main: ADDRESS CALLER CALLVALUE into memory, then call the callee (value 7 for CALL),
        // and return 128 bytes of the callee's output after its own three words.
        let mut code = vec![
            0x30, 0x5f, 0x52, 0x33, 0x60, 0x20, 0x52, 0x34, 0x60, 0x40, 0x52,
        ];
        code.extend([0x60, 0x80, 0x60, 0x60]); // out size 128, out offset 96
        code.extend([0x5f, 0x5f]); // in size 0, in offset 0
        if kind == 0xf1 {
            code.extend([0x60, 0x07]); // value
        }
        code.push(0x73);
        code.extend_from_slice(callee_at.as_slice());
        code.extend([0x5a, kind, 0x50]); // GAS, the call, POP the status
        code.extend([0x60, 0xe0, 0x5f, 0xf3]); // RETURN 224 bytes
        let mut cfg = CallConfig::new(code, Vec::new());
        cfg.spec = SPEC;
        cfg.value = U256::from(0x1234_5678_9abc_def0_u64) << 130 | U256::from(99);
        let mut acc = ferrite_state::Account::with_code(Bytes::from(callee.clone()));
        acc.nonce = 1;
        cfg.accounts.push((callee_at, acc));
        let out = run_both(&cfg);
        assert_eq!(out.exit, ExitCode::Return, "call kind {kind:#x}");
        assert_eq!(out.output.len(), 224);
    }
}

/// The opcodes compiled code reads from the transaction's `EnvWords` as whole words.
const ENV_WORDS: [Opcode; 10] = [
    Opcode::ORIGIN,
    Opcode::GASPRICE,
    Opcode::COINBASE,
    Opcode::TIMESTAMP,
    Opcode::NUMBER,
    Opcode::PREVRANDAO,
    Opcode::GASLIMIT,
    Opcode::CHAINID,
    Opcode::BASEFEE,
    Opcode::BLOBBASEFEE,
];

/// ORIGIN, GASPRICE, the block's words and BLOBHASH read the transaction's `EnvWords`: on an
/// environment whose words all differ (bytes that show a byte-order slip), with BLOBHASH at every
/// index from 0 to past the blobs and at indices above 2^64, compared with the interpreter.
#[test]
fn environment_words_agree_with_the_interpreter() {
    use op::*;
    let word =
        |k: u8| U256::from_be_bytes(core::array::from_fn::<u8, 32, _>(|i| k ^ (i as u8 * 7)));
    let addr = |k: u8| alloy_primitives::Address::from(core::array::from_fn(|i| k ^ (i as u8 * 5)));
    let env = ferrite::runtime::Env {
        chain_id: 0x0102_0304_0506_0708,
        coinbase: addr(0xc1),
        number: word(0x11),
        timestamp: word(0x22),
        gas_limit: word(0x33),
        basefee: word(0x44),
        prevrandao: word(0x55),
        blob_basefee: word(0x66),
        origin: addr(0x77),
        gas_price: word(0x88),
        blob_hashes: (0..3u8)
            .map(|k| word(0x90 + k).to_be_bytes::<32>().into())
            .collect(),
    };
    let indices: Vec<U256> = (0..5u64)
        .map(U256::from)
        .chain([pow2(64), pow2(64) + U256::from(1), pow2(200), U256::MAX])
        .collect();
    // Each word to memory in turn; BLOBHASH with a constant and with a dynamic index.
    let mut code = Vec::new();
    let mut at = 0usize;
    let mut store = |code: &mut Vec<u8>| {
        push2(code, at);
        code.push(MSTORE);
        at += 32;
    };
    for r in ENV_WORDS {
        code.push(r as u8);
        store(&mut code);
    }
    for (k, i) in indices.iter().enumerate() {
        push32(&mut code, *i);
        code.push(BLOBHASH);
        store(&mut code);
        push2(&mut code, 32 * k);
        code.push(CALLDATALOAD);
        code.push(BLOBHASH);
        store(&mut code);
    }
    push2(&mut code, at);
    code.extend([PUSH0, RETURN]);
    let input: Vec<u8> = indices.iter().flat_map(|v| v.to_be_bytes::<32>()).collect();
    let mut cfg = CallConfig::new(code, input);
    cfg.spec = SPEC;
    cfg.env = env.clone();
    let out = run_both(&cfg);
    assert_eq!(out.exit, ExitCode::Return);
    let got = |k: usize| U256::from_be_slice(&out.output[32 * k..32 * k + 32]);
    let words = ferrite::runtime::EnvWords::new(&env);
    assert_eq!(got(0), words.origin);
    assert_eq!(got(7), U256::from(env.chain_id));
    for k in 0..indices.len() {
        let want = if k < 3 {
            word(0x90 + k as u8)
        } else {
            U256::ZERO
        };
        assert_eq!(
            (got(10 + 2 * k), got(11 + 2 * k)),
            (want, want),
            "index {k}"
        );
    }
}

/// A program reads the environment's words only if its code has an instruction that does
/// (`Program::reads_env`); the driver makes them only for such a program, and one run without
/// them makes its own: the same result as with them.
#[test]
fn environment_words_are_made_only_for_code_that_reads_them() {
    let run = |code: Vec<u8>, with_env: bool| {
        let mut cfg = CallConfig::new(code.clone(), Vec::new());
        cfg.spec = SPEC;
        cfg.env.chain_id = 0x1234_5678;
        cfg.env.origin = alloy_primitives::Address::repeat_byte(0xab);
        let program =
            ferrite::jit::compile(Arc::new(Bytecode::new(code.into())), SPEC).expect("compiles");
        let mut state = call::prepare_state(&cfg);
        let bytecode = program.analysis().code.clone();
        let mut frame = ferrite::interpreter::Frame::new(cfg.message(), bytecode, SPEC);
        let words = ferrite::runtime::EnvWords::new(&state.env);
        let exit = program.run(&mut frame, &mut state, with_env.then_some(&words));
        let out = match frame.finish(exit) {
            ferrite::interpreter::Action::Done(r) => r.output,
            ferrite::interpreter::Action::Call(_) => panic!("no calls here"),
        };
        (program.reads_env(), exit, out)
    };
    // ORIGIN and CHAINID, returned.
    let reads = vec![
        op::ORIGIN,
        op::PUSH0,
        op::MSTORE,
        op::CHAINID,
        op::PUSH1,
        32,
        op::MSTORE,
        op::PUSH1,
        64,
        op::PUSH0,
        op::RETURN,
    ];
    let (flag, exit, with) = run(reads.clone(), true);
    assert!(flag);
    assert_eq!(exit, ExitCode::Return);
    assert_eq!(
        U256::from_be_slice(&with[..32]),
        U256::from_be_slice(&[0xab; 20])
    );
    assert_eq!(U256::from_be_slice(&with[32..]), U256::from(0x1234_5678u64));
    assert_eq!(run(reads, false), (true, ExitCode::Return, with));
    // CALLER and CALLVALUE are the message's, not the environment's.
    let other = vec![
        op::CALLER,
        op::CALLVALUE,
        op::ADD,
        op::PUSH0,
        op::MSTORE,
        op::PUSH1,
        32,
        op::PUSH0,
        op::RETURN,
    ];
    let (flag, exit, _) = run(other, false);
    assert!(!flag);
    assert_eq!(exit, ExitCode::Return);
}

/// SELFBALANCE reads a cache the frame keeps between calls: read before and after calls that
/// move value out (CALL with value) and in (a callee that sends value back), and across a
/// DELEGATECALL (whose frame reads the caller's account), compared with the interpreter.
#[test]
fn self_balance_agrees_with_the_interpreter() {
    use op::*;
    // The callee sends 5 wei back to its caller, then returns its own SELFBALANCE.
    let back: Vec<u8> = vec![
        PUSH0,
        PUSH0,
        PUSH0,
        PUSH0,
        PUSH1,
        5,
        CALLER,
        GAS,
        CALL,
        POP,
        SELFBALANCE,
        PUSH0,
        MSTORE,
        PUSH1,
        32,
        PUSH0,
        RETURN,
    ];
    let callee_at = alloy_primitives::address!("d102030405060708090a0b0c0d0e0f1011121314");
    // Called with value (the callee sending wei back), the target stops at once.
    let mut code = vec![CALLVALUE, ISZERO, PUSH1, 6, JUMPI, STOP, JUMPDEST];
    let mut at = 0usize;
    let mut store = |code: &mut Vec<u8>| {
        push2(code, at);
        code.push(MSTORE);
        at += 32;
    };
    code.extend([SELFBALANCE, SELFBALANCE, ADD]);
    store(&mut code);
    for (kind, value) in [(CALL, 7u8), (DELEGATECALL, 0), (CALL, 0)] {
        // out: 32 bytes at 0x400; no input.
        code.extend([PUSH1, 32]);
        push2(&mut code, 0x400);
        code.extend([PUSH0, PUSH0]);
        if kind == CALL {
            code.extend([PUSH1, value]);
        }
        code.push(0x73);
        code.extend_from_slice(callee_at.as_slice());
        code.extend([GAS, kind]);
        store(&mut code);
        code.push(SELFBALANCE);
        store(&mut code);
        push2(&mut code, 0x400);
        code.push(MLOAD);
        store(&mut code);
    }
    push2(&mut code, at);
    code.extend([PUSH0, RETURN]);
    let mut cfg = CallConfig::new(code, Vec::new());
    cfg.spec = SPEC;
    let mut acc = ferrite_state::Account::with_code(Bytes::from(back));
    acc.nonce = 1;
    acc.balance = U256::from(1000);
    cfg.accounts.push((callee_at, acc));
    let out = run_both(&cfg);
    assert_eq!(out.exit, ExitCode::Return);
    let got = |k: usize| U256::from_be_slice(&out.output[32 * k..32 * k + 32]);
    // The target starts with no balance: it sends 7 it does not have (the CALL fails), then
    // receives 5 from each callee run (the DELEGATECALL's run sends from the target itself).
    assert_eq!(got(0), U256::ZERO);
    let after: Vec<U256> = (0..3).map(|i| got(2 + 3 * i)).collect();
    assert_eq!(after[0], U256::ZERO, "the CALL with value failed");
    assert_eq!(after[2], U256::from(5), "the last callee sent 5");
}

/// CODESIZE, CALLDATASIZE and RETURNDATASIZE read lengths the frame keeps: in a top frame with
/// calldata, and around calls whose return data has different lengths (a precompile's output, a
/// revert's data, a call that returns nothing, a failed creation), compared with the interpreter.
#[test]
fn buffer_lengths_agree_with_the_interpreter() {
    // Sizes are collected in memory word by word: m[32*k] = size.
    let mut code = Vec::new();
    let mut k = 0u16;
    let mut save = |code: &mut Vec<u8>, op: u8| {
        let [hi, lo] = (32 * k).to_be_bytes();
        code.extend([op, 0x61, hi, lo, 0x52]); // OP PUSH2 32k MSTORE
        k += 1;
    };
    save(&mut code, 0x38); // CODESIZE
    save(&mut code, 0x36); // CALLDATASIZE
    save(&mut code, 0x3d); // RETURNDATASIZE (0)
                           // STATICCALL identity (0x04) with 45 bytes of input: return data of 45 bytes.
    code.extend([0x5f, 0x5f, 0x60, 45, 0x5f, 0x60, 0x04, 0x5a, 0xfa, 0x50]);
    save(&mut code, 0x3d);
    // CREATE with initcode PUSH1 7 PUSH0 REVERT (revert with 7 bytes): return data of 7 bytes.
    code.extend([0x63, 0x60, 0x07, 0x5f, 0xfd]); // PUSH4 the initcode
    code.extend([0x5f, 0x52]); // MSTORE at 0 (clobbers the first size: it is saved again below)
    code.extend([0x60, 4, 0x60, 28, 0x5f, 0xf0, 0x50]); // CREATE(0, 28, 4), POP
    save(&mut code, 0x3d);
    // CALL an account without code: return data emptied.
    code.extend([
        0x5f, 0x5f, 0x5f, 0x5f, 0x5f, 0x61, 0xbe, 0xef, 0x5a, 0xf1, 0x50,
    ]);
    save(&mut code, 0x3d);
    save(&mut code, 0x38); // CODESIZE again (slot 0 was clobbered)
                           // The lengths are small words: compared in 64 bits with constants below 2^63 (69 < 70,
                           // 70 == 70), in 256 with a larger one, and added to.
    let checks = [
        (vec![0x60, 69, 0x36], 0x10u8), // PUSH1 69 CALLDATASIZE LT: 70 < 69
        (vec![0x60, 69, 0x36], 0x11),   // GT: 70 > 69
        (vec![0x60, 70, 0x36], 0x14),   // EQ
        (vec![0x60, 71, 0x36], 0x12),   // SLT: 70 < 71
        (vec![0x68, 1, 0, 0, 0, 0, 0, 0, 0, 70, 0x36], 0x14), // PUSH9 2^64 + 70 CALLDATASIZE EQ
        (vec![0x60, 1, 0x36], 0x01),    // ADD: 71
    ];
    let checked = checks.len();
    for (prefix, op) in checks {
        code.extend(prefix);
        save(&mut code, op);
    }
    let [hi, lo] = (32 * k).to_be_bytes();
    code.extend([0x61, hi, lo, 0x5f, 0xf3]); // RETURN every saved size
    let n = k as usize;
    let cfg = {
        let mut c = CallConfig::new(code, vec![0xab; 70]);
        c.spec = SPEC;
        c
    };
    let out = run_both(&cfg);
    assert_eq!(out.exit, ExitCode::Return);
    let word = |i: usize| U256::from_be_slice(&out.output[32 * i..32 * i + 32]);
    assert_eq!(word(1), U256::from(70), "CALLDATASIZE");
    assert_eq!(word(2), U256::ZERO, "RETURNDATASIZE before any call");
    assert_eq!(word(3), U256::from(45), "after the identity precompile");
    assert_eq!(word(4), U256::from(7), "after a reverted creation");
    assert_eq!(word(5), U256::ZERO, "after a call to no code");
    let at = n - checked;
    assert_eq!(word(at - 1), U256::from(cfg.code.len()), "CODESIZE");
    let compares: Vec<U256> = (at..n).map(word).collect();
    let want = [0u64, 1, 1, 1, 0, 71].map(U256::from);
    assert_eq!(compares, want, "compares and an add of CALLDATASIZE");
}

/// GAS, JUMPDEST, STOP and INVALID: gas seen after static charges, a helper and a block
/// boundary; the exits and the gas they leave.
#[test]
fn gas_and_exits_agree_with_the_interpreter() {
    use op::*;
    let code = vec![
        GAS,
        PUSH1,
        0,
        MSTORE,
        PUSH0,
        CALLDATALOAD,
        POP,
        GAS,
        PUSH1,
        32,
        MSTORE,
        JUMPDEST,
        GAS,
        PUSH1,
        64,
        MSTORE,
        PUSH1,
        96,
        PUSH0,
        RETURN,
    ];
    let mut cfg = CallConfig::new(code, Vec::new());
    cfg.gas_limit = 100_000;
    let o = run_both(&cfg);
    let gas: Vec<U256> = o.output.chunks(32).map(U256::from_be_slice).collect();
    // GAS (2); PUSH1, MSTORE and a word of memory (9); PUSH0, CALLDATALOAD, POP, GAS (9);
    // PUSH1, MSTORE and a word (9), JUMPDEST and GAS (3).
    assert_eq!(gas, [99_998, 99_980, 99_968].map(U256::from));
    for (code, exit) in [
        (vec![PUSH1, 1, STOP, INVALID], ExitCode::Stop),
        (vec![PUSH1, 1, INVALID, STOP], ExitCode::InvalidOpcode),
        (vec![JUMPDEST, JUMPDEST, STOP], ExitCode::Stop),
    ] {
        let o = run_both(&CallConfig::new(code, Vec::new()));
        assert_eq!(o.exit, exit);
    }
}

/// MLOAD and MSTORE with constant and dynamic offsets and values: aligned, unaligned, within
/// and past current memory; the memory is returned.
#[test]
fn memory_ops_agree_with_the_interpreter() {
    let e = edges();
    let offsets = [0usize, 1, 31, 32, 33, 95, 96, 200];
    let input: Vec<u8> = offsets
        .iter()
        .map(|o| U256::from(*o))
        .chain(e.iter().copied())
        .flat_map(|v| v.to_be_bytes::<32>())
        .collect();
    for (k, off) in offsets.iter().enumerate() {
        for (dyn_off, dyn_val) in [(false, false), (false, true), (true, false), (true, true)] {
            let mut code = Vec::new();
            let val = |code: &mut Vec<u8>, j: usize| {
                if dyn_val {
                    push2(code, 32 * (offsets.len() + j));
                    code.push(op::CALLDATALOAD);
                } else {
                    push32(code, e[j]);
                }
            };
            // A dynamic offset plus a constant is a small word after the first access.
            let at = |code: &mut Vec<u8>, delta: usize| {
                if dyn_off {
                    push2(code, 32 * k);
                    code.push(op::CALLDATALOAD);
                    if delta > 0 {
                        push2(code, delta);
                        code.push(op::ADD);
                    }
                } else {
                    push2(code, off + delta);
                }
            };
            // MSTORE two values, MLOAD around them, store what was read past them.
            val(&mut code, k);
            at(&mut code, 0);
            code.push(op::MSTORE);
            val(&mut code, k + 9);
            at(&mut code, 17);
            code.push(op::MSTORE);
            for (delta, to) in [(0, 300), (5, 332), (17, 364), (40, 396)] {
                at(&mut code, delta);
                code.push(op::MLOAD);
                push2(&mut code, to);
                code.push(op::MSTORE);
            }
            // Words below 2^64 stored: an offset the block accessed plus a constant (a small
            // word), and a comparison's flag.
            at(&mut code, 0);
            code.extend([op::DUP1, op::MLOAD, op::POP]);
            push2(&mut code, 33);
            code.push(op::ADD);
            push2(&mut code, 428);
            code.push(op::MSTORE);
            val(&mut code, k);
            code.push(op::ISZERO);
            push2(&mut code, 460);
            code.push(op::MSTORE);
            push2(&mut code, 492);
            code.extend([op::PUSH0, op::RETURN]);
            let mut cfg = CallConfig::new(code, input.clone());
            cfg.spec = SPEC;
            let o = run_both(&cfg);
            assert_eq!((o.exit, o.output.len()), (ExitCode::Return, 492));
        }
    }
}

/// A stretch of accesses at one offset plus constants (`p`, `p + 0x40`, `p + 0x20`, `p - 0`
/// again), where the first access grows memory for the stretch's highest word: offsets small,
/// at the memory limit, past 2^32, 2^64 and 2^128 (wrapping near 2^64 and 2^256); the offset
/// read from calldata, masked to a small word, or passed from the block before; with MSIZE or
/// GAS inside the stretch (which end it), or SLOAD or KECCAK256 (which charge gas and do not);
/// and gas limits that run out before, at and after each expansion. Gas used, exit and output
/// (MSIZE and the words read) must agree.
#[test]
fn memory_stretches_agree_with_the_interpreter() {
    use op::*;
    let bases = [
        U256::ZERO,
        U256::from(1),
        U256::from(0x80),
        U256::from(5_000),
        U256::from(1u64 << 20),
        pow2(32) - U256::from(0x40),
        pow2(32),
        pow2(64) - U256::from(0x20),
        pow2(64),
        pow2(128),
        U256::MAX - U256::from(0x1f),
    ];
    // What runs between the first access and the others.
    let betweens: [&[u8]; 5] = [
        &[],
        &[MSIZE],
        &[GAS],
        &[PUSH0, SLOAD],
        &[PUSH1, 0x20, PUSH0, KECCAK256],
    ];
    for base in &bases {
        let input = base.to_be_bytes::<32>().to_vec();
        for form in 0..3 {
            for between in betweens {
                let mut code = vec![PUSH0, CALLDATALOAD];
                match form {
                    // Masked: a small word from the start.
                    1 => code.extend([PUSH4, 0xff, 0xff, 0xff, 0xff, AND]),
                    // Passed on the stack to the next block.
                    2 => code.extend([PUSH1, 5, JUMP, JUMPDEST]),
                    _ => {}
                }
                assert!(form != 2 || code[5] == JUMPDEST);
                // mstore(p, 7); x = mload(p + 0x40); mstore(p + 0x20, x); y = mload(p)
                code.extend([PUSH1, 7, DUP2, MSTORE]);
                if !between.is_empty() {
                    code.extend(between);
                    code.extend([PUSH2, 0x01, 0x00, MSTORE]);
                }
                code.extend([DUP1, PUSH1, 0x40, ADD, MLOAD]);
                code.extend([DUP2, PUSH1, 0x20, ADD, MSTORE, DUP1, MLOAD]);
                // Return MSIZE and `y`.
                code.extend([MSIZE, PUSH1, 0x20, MSTORE, PUSH1, 0x40, MSTORE]);
                code.extend([PUSH1, 0x40, PUSH1, 0x20, RETURN]);
                let mut cfg = CallConfig::new(code, input.clone());
                cfg.spec = SPEC;
                cfg.gas_limit = 10_000_000;
                let full = run_both(&cfg);
                // Gas limits from nothing to enough, and every limit near the end.
                let used = full.gas_used;
                let mut limits: Vec<u64> = (0..24).map(|i| used * i / 24).collect();
                limits.extend(used.saturating_sub(40)..=used + 1);
                for limit in limits {
                    cfg.gas_limit = limit;
                    run_both(&cfg);
                }
                // Offsets up to 2^20 fit the gas (from 2^32 they exceed the memory limit).
                let p = if form == 1 {
                    base & U256::from(u32::MAX)
                } else {
                    *base
                };
                let fits = p <= U256::from(1u64 << 20);
                assert_eq!(
                    full.exit == ExitCode::Return,
                    fits,
                    "base {base:#x} form {form}"
                );
            }
        }
    }
}

/// Offsets that are one word plus different constants (ABI encoding's `add(p, 4)`, `add(p, 36)`,
/// …): once `p + j` was accessed, `p + k` for `k >= j` is computed as a small word from it. Bases
/// include words whose sums wrap past 2^256 to small offsets, and the accesses run in both orders
/// (a smaller constant after a larger one is a whole-word sum again).
#[test]
fn sibling_offsets_agree_with_the_interpreter() {
    use op::*;
    let bases = [
        U256::ZERO,
        U256::from(0x80),
        U256::from(1u64 << 20),
        pow2(32) - U256::from(0x40),
        pow2(64),
        U256::MAX - U256::from(3),
        U256::MAX - U256::from(0x23),
        U256::MAX - U256::from(0x1f),
    ];
    for base in &bases {
        let input = base.to_be_bytes::<32>().to_vec();
        for order in [[4u8, 36, 68], [68, 36, 4]] {
            let mut code = vec![PUSH0, CALLDATALOAD];
            // mstore(p + a, 7); mstore(p + b, mload(p + a) + 1); x = mload(p + c)
            let [a, b, c] = order;
            code.extend([PUSH1, 7, DUP2, PUSH1, a, ADD, MSTORE]);
            code.extend([PUSH1, 1, DUP2, PUSH1, a, ADD, MLOAD, ADD]);
            code.extend([DUP2, PUSH1, b, ADD, MSTORE]);
            code.extend([DUP1, PUSH1, c, ADD, MLOAD]);
            // Return MSIZE and `x`.
            code.extend([MSIZE, PUSH0, MSTORE, PUSH1, 0x20, MSTORE]);
            code.extend([PUSH1, 0x40, PUSH0, RETURN]);
            let mut cfg = CallConfig::new(code, input.clone());
            cfg.spec = SPEC;
            cfg.gas_limit = 10_000_000;
            let full = run_both(&cfg);
            let used = full.gas_used;
            for limit in used.saturating_sub(30)..=used + 1 {
                cfg.gas_limit = limit;
                run_both(&cfg);
            }
            // Every offset small (below 2^21) or wrapped to one: the call returns.
            let fits = [a, b, c]
                .iter()
                .all(|k| base.wrapping_add(U256::from(*k)) < U256::from(1u64 << 21));
            assert_eq!(
                full.exit == ExitCode::Return,
                fits,
                "base {base:#x} {order:?}"
            );
        }
    }
}

/// Compares, ISZERO and ADD of small words (an AND with a mask below 2^63, a right shift by
/// more than 192 bits), which the lowering computes on 64-bit values, with each other, with
/// constants below 2^63 and above it, and with whole words; the results are returned.
#[test]
fn narrow_word_ops_agree_with_the_interpreter() {
    use op::*;
    let values = [
        U256::ZERO,
        U256::from(1),
        U256::from(0xff),
        pow2(63) - U256::from(1),
        hex("0123456789abcdeffedcba98765432100f1e2d3c4b5a69788796a5b4c3d2e1f0"),
        U256::MAX,
    ];
    let input: Vec<u8> = values.iter().flat_map(|v| v.to_be_bytes::<32>()).collect();
    // Operand forms: masked, shifted, a constant below 2^63, the constant as it is, the whole
    // word read (not small).
    let operand = |code: &mut Vec<u8>, form: usize, i: usize| match form {
        0 | 1 | 4 => {
            push2(code, 32 * i);
            code.push(CALLDATALOAD);
            if form == 0 {
                push32(code, pow2(63) - U256::from(1));
                code.push(AND);
            } else if form == 1 {
                code.extend([PUSH1, 200, SHR]);
            }
        }
        2 => push32(code, values[i] & (pow2(63) - U256::from(1))),
        _ => push32(code, values[i]),
    };
    for opcode in [LT, GT, SLT, SGT, EQ, ISZERO, ADD] {
        let mut code = Vec::new();
        let mut at = 0;
        for (i, j) in (0..values.len()).flat_map(|i| (0..values.len()).map(move |j| (i, j))) {
            for (fa, fb) in (0..5).flat_map(|a| (0..5).map(move |b| (a, b))) {
                if opcode == ISZERO && (j > 0 || fb > 0) {
                    continue;
                }
                if opcode != ISZERO {
                    operand(&mut code, fb, j);
                }
                operand(&mut code, fa, i);
                code.push(opcode);
                push2(&mut code, at);
                code.push(MSTORE);
                at += 32;
            }
        }
        push2(&mut code, at);
        code.extend([PUSH0, RETURN]);
        let mut cfg = CallConfig::new(code, input.clone());
        cfg.spec = SPEC;
        let o = run_both(&cfg);
        assert_eq!((o.exit, o.output.len()), (ExitCode::Return, at));
    }
}

/// JUMP and JUMPI: static and dynamic destinations, valid and not; conditions constant,
/// dynamic, small words and comparison flags, on edge values.
#[test]
fn jumps_agree_with_the_interpreter() {
    use op::*;
    let e = edges();
    let conds: Vec<U256> = [U256::ZERO, U256::from(1), pow2(64), pow2(128), pow2(255)]
        .into_iter()
        .chain([U256::MAX, e[e.len() - 1]])
        .collect();
    // Destination 0x80: JUMPDEST, returns 1; falling through returns 2. Destinations: the
    // JUMPDEST, a byte that is not one, past the code, above 2^64.
    let tail = |code: &mut Vec<u8>| {
        code.extend([PUSH1, 2, PUSH0, MSTORE, PUSH1, 32, PUSH0, RETURN]);
        assert!(code.len() <= 0x80);
        code.resize(0x81, JUMPDEST);
        code.extend([PUSH1, 1, PUSH0, MSTORE, PUSH1, 32, PUSH0, RETURN]);
    };
    let dests = [0x80u64, 0x81, 0x1000].map(U256::from);
    let dests = [dests[0], dests[1], dests[2], pow2(64) + dests[0]];
    let mut input: Vec<u8> = conds
        .iter()
        .chain(&dests)
        .flat_map(|v| v.to_be_bytes::<32>())
        .collect();
    input.extend(U256::from(7).to_be_bytes::<32>());
    for (di, dest) in dests.iter().enumerate() {
        // A pushed destination (static), one read from calldata (dynamic), and one folded from
        // constants (`PUSH32 d-1 PUSH1 1 ADD`: dynamic to the analysis, a constant to the JIT).
        for dest_form in ["static", "dynamic", "folded"] {
            let dest_code = |code: &mut Vec<u8>| match dest_form {
                "dynamic" => {
                    push2(code, 32 * (conds.len() + di));
                    code.push(CALLDATALOAD);
                }
                "folded" => {
                    push32(code, *dest - U256::from(1));
                    code.extend([PUSH1, 1, ADD]);
                }
                _ => push32(code, *dest),
            };
            let mut code = Vec::new();
            dest_code(&mut code);
            code.push(JUMP);
            tail(&mut code);
            let o = run_both(&CallConfig::new(code, input.clone()));
            assert_eq!(
                o.exit,
                if di == 0 {
                    ExitCode::Return
                } else {
                    ExitCode::InvalidJump
                }
            );
            for (ci, cond) in conds.iter().enumerate() {
                for cond_form in ["constant", "dynamic", "flag", "small"] {
                    let mut code = Vec::new();
                    match cond_form {
                        "constant" => push32(&mut code, *cond),
                        "dynamic" => {
                            push2(&mut code, 32 * ci);
                            code.push(CALLDATALOAD);
                        }
                        // The condition's low byte, a small word on the virtual stack.
                        "small" => {
                            push2(&mut code, 32 * ci);
                            code.extend([CALLDATALOAD, PUSH1, 0xff, AND]);
                        }
                        // cond < 7 (calldata's last word), a flag on the virtual stack.
                        _ => {
                            push2(&mut code, 32 * (conds.len() + dests.len()));
                            code.push(CALLDATALOAD);
                            push2(&mut code, 32 * ci);
                            code.push(CALLDATALOAD);
                            code.push(LT);
                        }
                    }
                    dest_code(&mut code);
                    code.push(JUMPI);
                    tail(&mut code);
                    run_both(&CallConfig::new(code, input.clone()));
                }
            }
        }
    }
}

/// Every inlined opcode is checked above: the word ops by the table, the rest by the stack,
/// exit, memory and jump tests; every word op is inlined or has a pure helper, and every pure
/// helper is a word op.
#[test]
fn every_inlined_opcode_is_covered() {
    use Opcode::*;
    let words = word_ops();
    let others = [
        POP,
        PC,
        GAS,
        JUMPDEST,
        STOP,
        INVALID,
        MLOAD,
        MSTORE,
        JUMP,
        JUMPI,
        ADDRESS,
        CALLER,
        CALLVALUE,
        CODESIZE,
        CALLDATASIZE,
        RETURNDATASIZE,
        BLOBHASH,
        SELFBALANCE,
    ];
    for op in inlined() {
        let b = op as u8;
        let stack = (op::PUSH0..=op::PUSH32).contains(&b)
            || (op::DUP1..=op::DUP16).contains(&b)
            || (op::SWAP1..=op::SWAP16).contains(&b);
        assert!(
            words.contains(&op) || stack || others.contains(&op) || ENV_WORDS.contains(&op),
            "{op:?} is inlined but not tested here"
        );
    }
    for op in &words {
        assert_ne!(lowering(*op), Lowering::Exec, "{op:?} is a word op");
    }
    for (b, _) in PURE_HELPERS {
        assert!(pure::is_pure(*b), "{b:#x} has a pure helper");
    }
}
