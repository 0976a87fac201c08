//! revm 43 as an engine: a [`CallConfig`] run as a full transaction (approach (A) of
//! `../shared/design/revm-oracle.md` beside the repository) and reported in ferrite's terms.
//!
//! Setup mirrors `ferrite_state::call::prepare_state`: caller `0x1111…1111` with balance 2^256−1,
//! target `0xcccc…cccc` with the code, nonce 1 and the pre-set storage, plus `cfg.accounts`. The
//! block is revm's default `BlockEnv`, which is exactly `ferrite_state::call::default_env()` (chain id
//! 1, timestamp 1, gas limit 2^64−1, excess blob gas 0 so BLOBBASEFEE = 1, everything else 0);
//! the transaction is a legacy call with gas price 0, nonce check disabled and the EIP-7825 cap
//! lifted.
//!
//! Gas. revm reports transaction gas: intrinsic (21,000 + calldata + …) plus execution, after
//! the refund is capped and possibly raised to the EIP-7623 calldata floor. ferrite reports
//! execution gas of the top frame before refunds. So the transaction's gas limit is
//! `cfg.gas_limit + intrinsic` (the top frame then gets exactly `cfg.gas_limit`), and an inspector
//! reads the top frame's own result at `call_end`: execution gas = limit − remaining, refund =
//! the frame's raw refund counter (uncapped, what ferrite reports). Both are cross-checked
//! against revm's transaction-level [`ResultGas`](revm::context_interface::result::ResultGas)
//! (built before the EIP-7623 floor is applied): `total_gas_spent == intrinsic + exec` and
//! `inner_refunded == min(raw refund, total_gas_spent / quotient)`; a mismatch panics, which the
//! comparison reports as a harness failure rather than an engine divergence.
//!
//! Status. Success and revert map one to one; halt reasons map by [`halt_name`] (all out-of-gas
//! variants to `OutOfGas`, OpcodeNotFound/InvalidFEOpcode/NotActivated to `InvalidOpcode`,
//! StateChangeDuringStaticCall/CallNotAllowedInsideStatic to `StaticCallViolation`, the rest by
//! name). Where revm's reason differs from the spec's only by the order of its checks, the
//! halting instruction of the top frame (recorded by the inspector) decides, as the spec and
//! geth do: an opcode not in the fork is `InvalidOpcode` (revm charges a later fork's static gas
//! first), too few operands is `StackUnderflow` (revm's DUPn says StackOverflow, LOGn charges
//! memory before popping topics, SSTORE/LOG check the static flag first), an oversized
//! initcode with less than CREATE's 32,000 gas left is `OutOfGas`, and so is a RETURNDATACOPY
//! out of the buffer's bounds whose copy and memory gas exceed the gas left (revm checks the
//! bounds first, the spec charges first). All of these are exceptional
//! halts with identical effects; only the name is normalised.
//!
//! Caveat: `CALLER`'s balance is 2^256−1 on both sides, so value sent *to* the caller overflows
//! it; revm wraps, ferrite saturates. The generator never sends value to `CALLER`.
//!
//! Pitfall found while writing this: setting `cfg.spec` alone (as the design note shows) keeps
//! the *gas parameters* of the default spec (Osaka); [`CfgEnv::set_spec_and_mainnet_gas_params`]
//! must be used to pin a fork.

use crate::fuzz::{trace_line, Outcome};
use ferrite::runtime::{SpecId, OPCODE_INFO};
use ferrite_state::call::{CallConfig, CALLER, TARGET};
use revm::bytecode::Bytecode;
use revm::context::{CfgEnv, Context, ContextTr, TxEnv};
use revm::context_interface::cfg::gas::calculate_initial_tx_gas;
use revm::context_interface::result::{ExecutionResult, HaltReason, OutOfGasError, SuccessReason};
use revm::database::{AccountState, InMemoryDB};
use revm::interpreter::interpreter::EthInterpreter;
use revm::interpreter::interpreter_types::Jumps;
use revm::interpreter::{CallInputs, CallOutcome, CreateInputs, CreateOutcome, Interpreter};
use revm::primitives::hardfork::SpecId as RevmSpec;
use revm::primitives::{keccak256, Bytes, TxKind, U256};
use revm::state::AccountInfo;
use revm::{InspectCommitEvm, Inspector, MainBuilder, MainContext};
use std::collections::BTreeMap;

/// revm's fork for a ferrite fork (`None` for Constantinople, which revm does not model apart
/// from Petersburg).
pub fn revm_spec(spec: SpecId) -> Option<RevmSpec> {
    Some(match spec {
        SpecId::Frontier => RevmSpec::FRONTIER,
        SpecId::Homestead => RevmSpec::HOMESTEAD,
        SpecId::Tangerine => RevmSpec::TANGERINE,
        SpecId::SpuriousDragon => RevmSpec::SPURIOUS_DRAGON,
        SpecId::Byzantium => RevmSpec::BYZANTIUM,
        SpecId::Constantinople => return None,
        SpecId::Petersburg => RevmSpec::PETERSBURG,
        SpecId::Istanbul => RevmSpec::ISTANBUL,
        SpecId::Berlin => RevmSpec::BERLIN,
        SpecId::London => RevmSpec::LONDON,
        SpecId::Merge => RevmSpec::MERGE,
        SpecId::Shanghai => RevmSpec::SHANGHAI,
        SpecId::Cancun => RevmSpec::CANCUN,
        SpecId::Prague => RevmSpec::PRAGUE,
        SpecId::Osaka => RevmSpec::OSAKA,
    })
}

/// Code as revm stores it: EIP-7702 designators are recognised, anything else is legacy code.
fn bytecode(code: &[u8]) -> Bytecode {
    let raw = Bytes::copy_from_slice(code);
    Bytecode::new_raw_checked(raw.clone()).unwrap_or_else(|_| Bytecode::new_legacy(raw))
}

fn account_info(balance: U256, nonce: u64, code: &[u8]) -> AccountInfo {
    AccountInfo {
        balance,
        nonce,
        code_hash: keccak256(code),
        code: Some(bytecode(code)),
        ..AccountInfo::default()
    }
}

/// The top frame's own result, captured when it ends.
#[derive(Clone, Copy, Debug)]
struct TopFrame {
    gas_limit: u64,
    remaining: u64,
    refund: i64,
}

/// The top frame's latest instruction as it started: the one that halted, if the frame did.
#[derive(Clone, Copy, Debug)]
struct LastOp {
    op: u8,
    stack_len: usize,
    /// Gas left before the instruction (static gas not yet charged).
    gas: u64,
    /// The top three stack items, top first (zero where the stack is shorter).
    args: [U256; 3],
    /// Memory size in bytes.
    mem_len: usize,
}

/// Inspector that tracks call depth and keeps the depth-0 frame's gas; optionally records one
/// line per instruction in the format of [`trace_line`].
#[derive(Default)]
struct TopFrameInspector {
    depth: usize,
    top: Option<TopFrame>,
    last_top_op: Option<LastOp>,
    trace: Option<Vec<String>>,
}

/// Gas the spec charges RETURNDATACOPY before its bounds check: 3 + 3 per word + memory
/// expansion to `dst + len` (`None` when that does not even fit in 64 bits).
fn returndatacopy_cost(dst: U256, len: U256, mem_len: usize) -> Option<u128> {
    if len.is_zero() {
        return Some(3);
    }
    let len = u64::try_from(len).ok()? as u128;
    let end = (u64::try_from(dst).ok()? as u128) + len;
    let words = |bytes: u128| bytes.div_ceil(32);
    let mem = |w: u128| 3 * w + w * w / 512;
    let (old, new) = (words(mem_len as u128), words(end));
    Some(3 + 3 * words(len) + mem(new).saturating_sub(mem(old)))
}

impl<CTX> Inspector<CTX, EthInterpreter> for TopFrameInspector {
    fn step(&mut self, interp: &mut Interpreter<EthInterpreter>, _: &mut CTX) {
        if self.depth == 1 {
            let data = interp.stack.data();
            let arg = |i: usize| {
                data.len()
                    .checked_sub(i + 1)
                    .map_or(U256::ZERO, |j| data[j])
            };
            self.last_top_op = Some(LastOp {
                op: interp.bytecode.opcode(),
                stack_len: data.len(),
                gas: interp.gas.remaining(),
                args: [arg(0), arg(1), arg(2)],
                mem_len: interp.memory.len(),
            });
        }
        if let Some(t) = &mut self.trace {
            t.push(trace_line(
                self.depth,
                interp.bytecode.pc(),
                interp.bytecode.opcode(),
                interp.gas.remaining(),
                interp.stack.data(),
            ));
        }
    }

    fn call(&mut self, _: &mut CTX, _: &mut CallInputs) -> Option<CallOutcome> {
        self.depth += 1;
        None
    }

    fn call_end(&mut self, _: &mut CTX, inputs: &CallInputs, outcome: &mut CallOutcome) {
        self.depth -= 1;
        if self.depth == 0 {
            self.top = Some(TopFrame {
                gas_limit: inputs.gas_limit,
                remaining: outcome.result.gas.remaining(),
                refund: outcome.result.gas.refunded(),
            });
        }
    }

    fn create(&mut self, _: &mut CTX, _: &mut CreateInputs) -> Option<CreateOutcome> {
        self.depth += 1;
        None
    }

    fn create_end(&mut self, _: &mut CTX, _: &CreateInputs, _: &mut CreateOutcome) {
        self.depth -= 1;
    }
}

/// Maps a revm halt reason onto ferrite's `ExitCode` names.
pub fn halt_name(reason: &HaltReason) -> String {
    use HaltReason::*;
    match reason {
        OutOfGas(
            OutOfGasError::Basic
            | OutOfGasError::MemoryLimit
            | OutOfGasError::Memory
            | OutOfGasError::Precompile
            | OutOfGasError::InvalidOperand
            | OutOfGasError::ReentrancySentry,
        ) => "OutOfGas".into(),
        OpcodeNotFound | InvalidFEOpcode | NotActivated => "InvalidOpcode".into(),
        InvalidJump => "InvalidJump".into(),
        StackUnderflow => "StackUnderflow".into(),
        StackOverflow => "StackOverflow".into(),
        OutOfOffset => "OutOfOffset".into(),
        CreateCollision => "CreateCollision".into(),
        PrecompileError | PrecompileErrorWithContext(_) => "PrecompileError".into(),
        NonceOverflow => "NonceOverflow".into(),
        CreateContractSizeLimit => "CreateContractSizeLimit".into(),
        CreateContractStartingWithEF => "CreateContractStartingWithEF".into(),
        CreateInitCodeSizeLimit => "CreateInitCodeSizeLimit".into(),
        StateChangeDuringStaticCall | CallNotAllowedInsideStatic => "StaticCallViolation".into(),
        // Never the result of a top-level call in this setup; keep revm's name visible.
        other => format!("revm:{other:?}"),
    }
}

/// Runs `cfg` on revm as a transaction and reports the top frame in ferrite's terms.
pub fn revm_run(cfg: &CallConfig) -> Outcome {
    revm_exec(cfg, false).0
}

/// [`revm_run`] plus a per-instruction trace (see [`trace_line`]).
pub fn revm_trace(cfg: &CallConfig) -> (Outcome, Vec<String>) {
    let (o, t) = revm_exec(cfg, true);
    (o, t.unwrap_or_default())
}

fn revm_exec(cfg: &CallConfig, trace: bool) -> (Outcome, Option<Vec<String>>) {
    let spec = revm_spec(cfg.spec)
        .unwrap_or_else(|| panic!("revm has no separate fork for {}", cfg.spec.name()));

    let mut db = InMemoryDB::default();
    db.insert_account_info(CALLER, account_info(U256::MAX, 0, &[]));
    db.insert_account_info(TARGET, account_info(U256::ZERO, 1, &cfg.code));
    for (k, v) in &cfg.storage {
        db.insert_account_storage(TARGET, *k, *v)
            .expect("in-memory db");
    }
    for (addr, acc) in &cfg.accounts {
        db.insert_account_info(*addr, account_info(acc.balance, acc.nonce, &acc.code));
        for (k, v) in &acc.storage {
            db.insert_account_storage(*addr, *k, *v)
                .expect("in-memory db");
        }
    }

    let initial = calculate_initial_tx_gas(spec, &cfg.input, false, 0, 0, 0, None);
    assert_eq!(
        initial.initial_state_gas, 0,
        "no EIP-8037 state gas before Amsterdam"
    );
    let intrinsic = initial.initial_regular_gas;
    let tx_gas = cfg
        .gas_limit
        .checked_add(intrinsic)
        .expect("gas limit + intrinsic overflows u64");

    let mut cfg_env = CfgEnv::default();
    cfg_env.set_spec_and_mainnet_gas_params(spec);
    cfg_env.chain_id = 1;
    cfg_env.disable_nonce_check = true;
    cfg_env.tx_gas_limit_cap = Some(u64::MAX);

    let mut evm = Context::mainnet()
        .with_db(db)
        .with_cfg(cfg_env)
        .build_mainnet_with_inspector(TopFrameInspector {
            trace: trace.then(Vec::new),
            ..TopFrameInspector::default()
        });
    let tx = TxEnv::builder()
        .caller(CALLER)
        .kind(TxKind::Call(TARGET))
        .data(cfg.input.clone())
        .value(cfg.value)
        .gas_limit(tx_gas)
        .gas_price(0)
        .build()
        .expect("valid tx env");

    let result = match evm.inspect_tx_commit(tx) {
        Ok(r) => r,
        Err(e) => {
            let o = Outcome {
                status: format!("revm-error: {e:?}"),
                ..Outcome::default()
            };
            return (o, evm.inspector.trace.take());
        }
    };
    let top = evm.inspector.top.expect("the top frame ended");
    assert_eq!(
        top.gas_limit, cfg.gas_limit,
        "harness: top frame gas limit != cfg.gas_limit (intrinsic {intrinsic})"
    );

    let (status, output, logs, ok) = match &result {
        ExecutionResult::Success {
            reason,
            logs,
            output,
            ..
        } => {
            let name = match reason {
                SuccessReason::Stop => "Stop",
                SuccessReason::Return => "Return",
                SuccessReason::SelfDestruct => "SelfDestruct",
            };
            let logs = logs
                .iter()
                .map(|l| (l.address, l.topics().to_vec(), l.data.data.to_vec()))
                .collect();
            (name.to_string(), output.data().to_vec(), logs, true)
        }
        ExecutionResult::Revert { output, .. } => {
            ("Revert".to_string(), output.to_vec(), Vec::new(), false)
        }
        ExecutionResult::Halt { reason, .. } => {
            let mut name = halt_name(reason);
            match (reason, evm.inspector.last_top_op) {
                // An opcode that does not exist in the fork is an invalid opcode before anything
                // else. revm charges the static gas of a later fork's opcode (e.g. SLOTNUM 0x4b)
                // before reporting NotActivated, so with no gas left it says OutOfGas.
                (_, Some(l)) if !OPCODE_INFO[l.op as usize].enabled_in(cfg.spec) => {
                    name = "InvalidOpcode".into();
                }
                // Too few stack items is a stack underflow before anything else (geth validates
                // the stack first; the spec pops before charging gas). revm pops per instruction
                // and may report something else first: DUPn says StackOverflow (`Stack::dup`
                // has one flag for both bounds), LOGn charges memory before popping topics,
                // SSTORE/LOG check the static flag before popping.
                (_, Some(l)) if l.stack_len < OPCODE_INFO[l.op as usize].inputs as usize => {
                    name = "StackUnderflow".into();
                }
                // revm checks the EIP-3860 size before charging CREATE's 32,000 static gas;
                // the spec (and ferrite) charge first, so with less gas left it is out of gas.
                (HaltReason::CreateInitCodeSizeLimit, Some(l)) if l.gas < 32_000 => {
                    name = "OutOfGas".into();
                }
                // revm checks RETURNDATACOPY's bounds before charging its copy and memory gas
                // (unless the size does not fit a usize); the spec charges first.
                (HaltReason::OutOfOffset, Some(l))
                    if l.op == 0x3e
                        && returndatacopy_cost(l.args[0], l.args[2], l.mem_len)
                            .is_none_or(|c| c > l.gas as u128) =>
                {
                    name = "OutOfGas".into();
                }
                _ => {}
            }
            (name, Vec::new(), Vec::new(), false)
        }
    };
    let halted = matches!(result, ExecutionResult::Halt { .. });
    let gas_used = if halted {
        cfg.gas_limit
    } else {
        top.gas_limit - top.remaining
    };
    let gas_refund = if ok { top.refund } else { 0 };

    // Cross-check against revm's transaction-level figures. `ResultGas` is built before the
    // EIP-7623 floor is applied, so: total = intrinsic + exec, refunded = EIP-3529-capped refund.
    let spent = intrinsic + gas_used;
    let quotient = if cfg.spec.is_enabled_in(SpecId::London) {
        5
    } else {
        2
    };
    let capped = (gas_refund.max(0) as u64).min(spent / quotient);
    assert_eq!(
        (
            result.gas().total_gas_spent(),
            result.gas().inner_refunded()
        ),
        (spent, capped),
        "harness: revm (total_gas_spent, refunded) vs intrinsic {intrinsic} + exec {gas_used}, \
         raw refund {gas_refund}"
    );

    let mut storage = BTreeMap::new();
    for (addr, acc) in &evm.ctx.db_ref().cache.accounts {
        if matches!(acc.account_state, AccountState::NotExisting) {
            continue;
        }
        for (k, v) in &acc.storage {
            if !v.is_zero() {
                storage.insert((*addr, *k), *v);
            }
        }
    }

    let o = Outcome {
        status,
        gas_used,
        gas_refund,
        output,
        logs,
        storage,
    };
    (o, evm.inspector.trace.take())
}
