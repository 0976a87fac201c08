//! The 1024-deep call/create limit, run on a 2 MiB native stack.
//!
//! The frame driver keeps EVM frames on the heap, so a full-depth chain must not overflow a small
//! native stack. The EVM rule (Yellow Paper, geth's `CallCreateDepth`): the transaction's frame
//! has depth 0, each CALL*/CREATE* runs its callee one deeper, and a call or create whose callee
//! would have depth 1025 fails (0 pushed, gas returned) without running. So a self-recursive
//! contract runs 1025 frames: the top one plus 1024 nested.

mod support;
use alloy_primitives::{Bytes, U256};
use ferrite::runtime::opcode::op::*;
use ferrite::runtime::{ExitCode, SpecId};
use ferrite_state::call::{CallConfig, CallOutcome, TARGET};

/// Runs `cfg` on a fresh thread with a 2 MiB stack.
fn run_on_small_stack(cfg: CallConfig) -> CallOutcome {
    std::thread::Builder::new()
        .name("evm-2mib-stack".into())
        .stack_size(2 * 1024 * 1024)
        .spawn(move || support::run_both(&cfg))
        .expect("spawn the 2 MiB thread")
        .join()
        .expect("the EVM thread must not crash")
}

fn config(code: Vec<u8>, spec: SpecId, gas_limit: u64) -> CallConfig {
    let mut cfg = CallConfig::new(Bytes::from(code), Bytes::new());
    cfg.spec = spec;
    cfg.gas_limit = gas_limit;
    cfg
}

fn slot(out: &CallOutcome, key: u64) -> U256 {
    out.state.storage(&TARGET, &U256::from(key))
}

/// A contract that counts its frames in slot 0 and calls itself with the gas pushed by
/// `gas_arg`; the frame whose CALL fails stores its frame number in slot 1 and the result of a
/// `CREATE(0, 0, 0)` attempted at that same depth, as ISZERO(address), in slot 2.
///
/// ```text
///  0: PUSH1 0 SLOAD PUSH1 1 ADD DUP1 PUSH1 0 SSTORE   ; n = ++slot0 (stack: n)
///  9: PUSH1 0 DUP1 DUP1 DUP1 DUP1 ADDRESS <gas_arg>    ; retLen retOff argLen argOff value to gas
///     CALL                                             ; stack: n ok
///     PUSH1 <end> JUMPI                                ; success: done
///     PUSH1 1 SSTORE                                   ; slot1 = n (the call failed here)
///     PUSH1 0 DUP1 DUP1 CREATE ISZERO PUSH1 2 SSTORE   ; slot2 = (CREATE failed)
///     STOP
/// end: JUMPDEST STOP
/// ```
fn self_caller(gas_arg: &[u8]) -> Vec<u8> {
    let mut c = vec![
        PUSH1, 0, SLOAD, PUSH1, 1, ADD, DUP1, PUSH1, 0, SSTORE, // n = ++slot0
        PUSH1, 0, DUP1, DUP1, DUP1, DUP1, ADDRESS,
    ];
    c.extend_from_slice(gas_arg);
    c.push(CALL);
    let jump_at = c.len();
    c.extend_from_slice(&[PUSH1, 0, JUMPI]); // destination patched below
    c.extend_from_slice(&[PUSH1, 1, SSTORE]);
    c.extend_from_slice(&[PUSH1, 0, DUP1, DUP1, CREATE, ISZERO, PUSH1, 2, SSTORE, STOP]);
    let end = c.len();
    c[jump_at + 1] = u8::try_from(end).expect("short code");
    c.extend_from_slice(&[JUMPDEST, STOP]);
    c
}

/// Checks the outcome of [`self_caller`]: 1025 frames ran, the 1025th (depth 1024) saw its
/// CALL fail, and its CREATE failed too without bumping the nonce.
#[track_caller]
fn assert_full_depth(out: &CallOutcome) {
    assert_eq!(out.exit, ExitCode::Stop);
    assert_eq!(
        slot(out, 0),
        U256::from(1025),
        "frames run: the top frame plus 1024 nested calls"
    );
    assert_eq!(
        slot(out, 1),
        U256::from(1025),
        "only the frame at depth 1024 may see its CALL fail"
    );
    assert_eq!(
        slot(out, 2),
        U256::from(1),
        "CREATE from depth 1024 must fail too"
    );
    assert_eq!(
        out.state.accounts[&TARGET].nonce, 1,
        "a CREATE refused for depth does not bump the nonce"
    );
    assert_eq!(out.state.accounts.len(), 2, "nothing was created");
}

#[test]
fn call_chain_reaches_depth_1024_with_63_64_forwarding() {
    // Prague: each CALL forwards all but 1/64 of what is left (EIP-150), so the frame at depth
    // 1024 gets about G·(63/64)^1024 ≈ G·9.9e-8. With G = 10^13 that is ~990 000 gas, plenty
    // for its SSTOREs (≤ 22 100 each) and CREATE attempt (32 000, handed back when refused);
    // the levels above it cost only ~350 gas each (warm SLOAD/SSTORE, CALL to self).
    let code = self_caller(&[GAS]);
    let out = run_on_small_stack(config(code, SpecId::Prague, 10_000_000_000_000));
    assert_full_depth(&out);
}

#[test]
fn call_chain_reaches_depth_1024_in_homestead() {
    // Before EIP-150 a CALL may forward everything it asks for: pass GAS − 100 explicitly
    // (PUSH1 100 GAS SUB), which leaves more than CALL's 40 behind. Gas does not decay with
    // depth, so 10^8 is ample for 1025 frames of ~5 300 gas each.
    let code = self_caller(&[PUSH1, 100, GAS, SUB]);
    let out = run_on_small_stack(config(code, SpecId::Homestead, 100_000_000));
    assert_full_depth(&out);
}

/// Code that is its own initcode: copies itself to memory, CREATEs a child from it, and
/// returns (child's code size + 1) zero bytes as its own deployed code.
///
/// ```text
/// CODESIZE PUSH1 0 PUSH1 0 CODECOPY   ; mem[0..n] = own code
/// CODESIZE PUSH1 0 PUSH1 0 CREATE     ; child (at depth + 1) or 0
/// EXTCODESIZE PUSH1 1 ADD             ; len = size(child) + 1
/// PUSH2 0x0100 RETURN                 ; len zero bytes
/// ```
///
/// A frame at depth d whose descendants all succeed returns 1025 − d bytes: the frame at depth
/// 1024 cannot create (its child would be at 1025), returns 1 byte, its parent 2, …
fn self_creator() -> Vec<u8> {
    vec![
        CODESIZE,
        PUSH1,
        0,
        PUSH1,
        0,
        CODECOPY, // copy own code
        CODESIZE,
        PUSH1,
        0,
        PUSH1,
        0,
        CREATE, // create a child from it
        EXTCODESIZE,
        PUSH1,
        1,
        ADD, // size(child) + 1
        PUSH2,
        0x01,
        0x00,
        RETURN,
    ]
}

#[track_caller]
fn assert_create_chain(out: &CallOutcome) {
    assert_eq!(out.exit, ExitCode::Return);
    // The top frame (depth 0) returns 1025 bytes: its child at depth 1 deployed 1024 bytes,
    // and so on down to depth 1024 which deployed 1 byte. One more level would make it 1026.
    assert_eq!(
        out.output.len(),
        1025,
        "1024 nested CREATEs below the top frame"
    );
    assert!(out.output.iter().all(|&b| b == 0));
    // The caller, the target and the 1024 created contracts.
    assert_eq!(out.state.accounts.len(), 2 + 1024);
    let mut sizes: Vec<usize> = out
        .state
        .accounts
        .iter()
        .filter(|(a, _)| **a != TARGET)
        .map(|(_, acc)| acc.code.len())
        .filter(|&n| n > 0)
        .collect();
    sizes.sort_unstable();
    assert_eq!(sizes, (1..=1024).collect::<Vec<_>>());
}

#[test]
fn create_chain_reaches_depth_1024() {
    // Prague: CREATE forwards all but 1/64 (EIP-150), so everything below depth d is paid from
    // G_d ≈ G·(63/64)^d. Each level costs ~36 000 (CREATE 32 000, cold EXTCODESIZE of the new
    // address, copies, deposit), so the tightest point is ~64 levels above the bottom, where
    // ~64 · 36 000 ≈ 2.3e6 gas must come out of G·(63/64)^960 ≈ G·2.7e-7: G must exceed ~1e13
    // (with exactly 10^13 the chain breaks near depth 978). 10^15 leaves a 100× margin; the gas
    // actually used is ~1.4e8, mostly code deposits (200 · (1 + … + 1024) ≈ 1.05e8).
    let out = run_on_small_stack(config(
        self_creator(),
        SpecId::Prague,
        1_000_000_000_000_000,
    ));
    assert_create_chain(&out);
}

#[test]
fn create_chain_reaches_depth_1024_in_homestead() {
    // Homestead: CREATE forwards everything; deposits total 200 · (1 + … + 1024) ≈ 1.05e8.
    let out = run_on_small_stack(config(self_creator(), SpecId::Homestead, 1_000_000_000));
    assert_create_chain(&out);
}
