//! The legacy Ethereum VM tests (ethereum/tests `VMTests`, kept in ethereum/legacytests): the
//! classic format that runs one piece of code as one message frame, without a transaction.
//!
//! A fixture file is a JSON object `testName -> VmTest`. Each test gives a block environment
//! (`env`), the message (`exec`: address, caller, origin, code, data, gas, gas price, value) and a
//! pre-state (`pre`). When the code ends normally the test also gives the expected post-state
//! (`post`), the gas left (`gas`), the output (`out`) and the logs hash (`logs`); a test with none
//! of these expects an exceptional halt. `callcreates` lists the sub-calls the code made.
//!
//! # Semantics (those of geth's and testeth's VM-test runners)
//!
//! * `exec.code` runs at `exec.address` as the top frame only: no transaction, so no intrinsic
//!   gas, no nonce bump, no refunds, no fee payment, and **no value transfer** (the value is only
//!   what CALLVALUE returns; the fixture's balances already account for it).
//! * The gas rules are those of Homestead ([`SPEC`]): the fixtures were filled by testeth with its
//!   Homestead VM-test schedule (e.g. SELFDESTRUCT costs 0, EXP 10 per byte, SLOAD 50), and no
//!   code in the set uses an opcode from a later fork.
//! * BLOCKHASH(n) is keccak256 of the decimal digits of n (ferrite's [`State`] default, and what
//!   geth's VM-test runner uses).
//! * The VM tests *record* sub-calls (CALL, CALLCODE, DELEGATECALL, CREATE, ...) in `callcreates`
//!   instead of executing them; ferrite's frame driver always executes them. A test whose code
//!   contains such an opcode, or that lists calls in `callcreates`, is therefore reported skipped
//!   with that reason rather than judged by different rules. (None of the 609 tests in
//!   legacytests' `Constantinople/VMTests` is affected.)
//!
//! # Comparison
//!
//! With `post`: the frame must end successfully (STOP, RETURN, SELFDESTRUCT), with exactly `gas`
//! left, output `out`, logs hashing to `logs` ([`trie::logs_hash`]) and a world state equal to
//! `post` account by account (balance, nonce, code, non-zero storage; no account missing or
//! extra) after self-destructed accounts are removed. Without `post`: the frame must end in an
//! exceptional halt (not success, not REVERT) with no gas left.

use super::fixture::{self, de_hex, de_opt, de_opt_state, de_state};
use super::runner::{self, CaseResult, Filter};
use alloy_primitives::{Address, Bytes, B256, U256};
use ferrite::frame::{self, ProgramSource};
use ferrite::interpreter::{Message, NoTracer, Tracer};
use ferrite_runtime::gas::SStoreValues;
use ferrite_runtime::host::{AccountStatus, Checkpoint, SelfDestructResult};
use ferrite_runtime::{Env, ExitCode, Host, Log, SpecId, StateLoad};
use ferrite_state::state::State;
use ferrite_state::trie::{self, LogView};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The fork whose rules the VM tests were filled with.
pub const SPEC: SpecId = SpecId::Homestead;

/// What the summary table shows in the fork column for VM tests.
pub const FORK_LABEL: &str = "VMTests";

/// The block environment of a VM test.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VmEnv {
    /// COINBASE.
    #[serde(deserialize_with = "de_hex")]
    pub current_coinbase: Address,
    /// DIFFICULTY.
    #[serde(deserialize_with = "de_hex")]
    pub current_difficulty: U256,
    /// GASLIMIT.
    #[serde(deserialize_with = "de_hex")]
    pub current_gas_limit: U256,
    /// NUMBER.
    #[serde(deserialize_with = "de_hex")]
    pub current_number: U256,
    /// TIMESTAMP.
    #[serde(deserialize_with = "de_hex")]
    pub current_timestamp: U256,
}

/// The message the code runs with (`exec`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Exec {
    /// ADDRESS: the account whose storage the code uses.
    #[serde(deserialize_with = "de_hex")]
    pub address: Address,
    /// CALLER.
    #[serde(deserialize_with = "de_hex")]
    pub caller: Address,
    /// ORIGIN.
    #[serde(deserialize_with = "de_hex")]
    pub origin: Address,
    /// The code to run.
    #[serde(deserialize_with = "de_hex")]
    pub code: Vec<u8>,
    /// Calldata.
    #[serde(deserialize_with = "de_hex")]
    pub data: Vec<u8>,
    /// Gas given to the frame.
    #[serde(deserialize_with = "de_hex")]
    pub gas: u64,
    /// GASPRICE.
    #[serde(deserialize_with = "de_hex")]
    pub gas_price: U256,
    /// CALLVALUE (not transferred).
    #[serde(deserialize_with = "de_hex")]
    pub value: U256,
}

/// One named test of a VM-test file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct VmTest {
    /// Block environment.
    pub env: VmEnv,
    /// The message.
    pub exec: Exec,
    /// World state before execution.
    #[serde(deserialize_with = "de_state")]
    pub pre: fixture::State,
    /// Expected world state after a successful end; `None` when an exceptional halt is expected.
    #[serde(default, deserialize_with = "de_opt_state")]
    pub post: Option<fixture::State>,
    /// Expected gas left (present exactly when `post` is).
    #[serde(default, deserialize_with = "de_opt")]
    pub gas: Option<u64>,
    /// Expected output (present exactly when `post` is).
    #[serde(default, deserialize_with = "de_opt")]
    pub out: Option<Vec<u8>>,
    /// Expected logs hash, `keccak256(rlp(logs))`.
    #[serde(default, deserialize_with = "de_opt")]
    pub logs: Option<B256>,
    /// Sub-calls the code made, as recorded by the filler (kept as raw JSON).
    #[serde(default)]
    pub callcreates: Option<Vec<serde_json::Value>>,
    /// Free-form metadata (`_info`).
    #[serde(default, rename = "_info")]
    pub info: Option<serde_json::Value>,
}

impl VmTest {
    /// Checks that the expectations are consistent: `post`, `gas`, `out` and `logs` are either
    /// all present (a successful end) or all absent (an exceptional halt).
    pub fn validate(&self) -> Result<(), String> {
        let present = [
            self.post.is_some(),
            self.gas.is_some(),
            self.out.is_some(),
            self.logs.is_some(),
        ];
        if present.iter().all(|p| *p) || present.iter().all(|p| !*p) {
            Ok(())
        } else {
            Err("post, gas, out and logs must be given together (or none of them)".into())
        }
    }

    /// True when the test expects an exceptional halt.
    pub fn expects_halt(&self) -> bool {
        self.post.is_none()
    }

    /// Why this test cannot be run faithfully by a driver that executes sub-calls, if so.
    pub fn skip_reason(&self, spec: SpecId) -> Option<String> {
        let recorded = self.callcreates.as_ref().map_or(0, Vec::len);
        if recorded > 0 {
            return Some(format!(
                "records {recorded} sub-call(s) in callcreates: VM tests do not execute sub-calls, \
                 ferrite's frame driver does"
            ));
        }
        let ops = sub_call_opcodes(&self.exec.code, spec);
        if !ops.is_empty() {
            return Some(format!(
                "code contains {}: VM tests record sub-calls instead of executing them, \
                 ferrite's frame driver executes them",
                ops.join(", ")
            ));
        }
        None
    }
}

/// The message-call and create opcodes of `spec` that occur in `code` (outside PUSH data).
pub fn sub_call_opcodes(code: &[u8], spec: SpecId) -> Vec<&'static str> {
    let table: [(u8, &str, SpecId); 6] = [
        (0xf0, "CREATE", SpecId::Frontier),
        (0xf1, "CALL", SpecId::Frontier),
        (0xf2, "CALLCODE", SpecId::Frontier),
        (0xf4, "DELEGATECALL", SpecId::Homestead),
        (0xf5, "CREATE2", SpecId::Constantinople),
        (0xfa, "STATICCALL", SpecId::Byzantium),
    ];
    let mut found = BTreeSet::new();
    let mut pc = 0;
    while let Some(&op) = code.get(pc) {
        if let Some((_, name, _)) = table
            .iter()
            .find(|(o, _, since)| *o == op && spec.is_enabled_in(*since))
        {
            found.insert(*name);
        }
        pc += 1;
        if (0x60..=0x7f).contains(&op) {
            pc += usize::from(op - 0x5f);
        }
    }
    found.into_iter().collect()
}

/// Parses a VM-test file into `testName -> VmTest` and validates every test.
pub fn load_file(path: &Path) -> Result<BTreeMap<String, VmTest>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Like [`load_file`], from the JSON text itself.
pub fn parse_str(text: &str) -> Result<BTreeMap<String, VmTest>, String> {
    let tests: BTreeMap<String, VmTest> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    for (name, t) in &tests {
        t.validate().map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(tests)
}

/// Whether the file at `path` is in the VM-test format: a JSON object of tests whose first test
/// has an `exec` key and no `transaction` (reads and scans the whole file). The folder name says
/// nothing: ethereum/tests' `GeneralStateTests/VMTests` holds state tests.
pub fn is_vm_test_file(path: &Path) -> bool {
    /// Only the keys of each test, skipping everything else without allocating.
    #[derive(Deserialize)]
    struct Sniff {
        exec: Option<serde::de::IgnoredAny>,
        transaction: Option<serde::de::IgnoredAny>,
    }
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    match serde_json::from_str::<BTreeMap<String, Sniff>>(&text) {
        Ok(tests) => tests
            .values()
            .next()
            .is_some_and(|t| t.exec.is_some() && t.transaction.is_none()),
        Err(_) => false,
    }
}

/// The [`Host`] of a VM test: the state, except that the top frame's value is not transferred
/// (the classic format's rule: the callee already holds it). Any later transfer is real.
struct VmHost<'a> {
    state: &'a mut State,
    top_transfer_pending: bool,
}

impl Host for VmHost<'_> {
    fn env(&self) -> &Env {
        self.state.env()
    }
    fn spec(&self) -> SpecId {
        self.state.spec()
    }
    fn block_hash(&mut self, number: u64) -> B256 {
        self.state.block_hash(number)
    }
    fn access_account(&mut self, address: Address) -> bool {
        self.state.access_account(address)
    }
    fn account_status(&mut self, address: Address) -> StateLoad<AccountStatus> {
        self.state.account_status(address)
    }
    fn balance(&mut self, address: Address) -> StateLoad<U256> {
        self.state.balance(address)
    }
    fn code(&mut self, address: Address) -> StateLoad<Bytes> {
        self.state.code(address)
    }
    fn code_with_hash(&mut self, address: Address) -> (Bytes, B256) {
        self.state.code_with_hash(address)
    }
    fn code_hash(&mut self, address: Address) -> StateLoad<B256> {
        self.state.code_hash(address)
    }
    fn sload(&mut self, address: Address, key: U256) -> StateLoad<U256> {
        self.state.sload(address, key)
    }
    fn sstore(&mut self, address: Address, key: U256, value: U256) -> StateLoad<SStoreValues> {
        self.state.sstore(address, key, value)
    }
    fn tload(&mut self, address: Address, key: U256) -> U256 {
        self.state.tload(address, key)
    }
    fn tstore(&mut self, address: Address, key: U256, value: U256) {
        self.state.tstore(address, key, value)
    }
    fn log(&mut self, log: Log) {
        self.state.log(log)
    }
    fn selfdestruct(&mut self, address: Address, target: Address) -> StateLoad<SelfDestructResult> {
        self.state.selfdestruct(address, target)
    }
    fn checkpoint(&mut self) -> Checkpoint {
        self.state.checkpoint()
    }
    fn checkpoint_commit(&mut self) {
        self.state.checkpoint_commit()
    }
    fn checkpoint_revert(&mut self, checkpoint: Checkpoint) {
        self.state.checkpoint_revert(checkpoint)
    }
    fn transfer(&mut self, from: Address, to: Address, value: U256) -> bool {
        if std::mem::take(&mut self.top_transfer_pending) {
            return true;
        }
        self.state.transfer(from, to, value)
    }
    fn nonce(&mut self, address: Address) -> u64 {
        self.state.nonce(address)
    }
    fn bump_nonce(&mut self, address: Address) -> Option<u64> {
        self.state.bump_nonce(address)
    }
    fn create_account(&mut self, address: Address) -> bool {
        self.state.create_account(address)
    }
    fn set_code(&mut self, address: Address, code: Bytes) {
        self.state.set_code(address, code)
    }
    fn touch(&mut self, address: Address) {
        self.state.touch(address)
    }
}

/// Builds the world state of `test` under `spec`, ready to run.
pub fn pre_state(test: &VmTest, spec: SpecId) -> State {
    let e = &test.env;
    let env = Env {
        chain_id: 1,
        coinbase: e.current_coinbase,
        number: e.current_number,
        timestamp: e.current_timestamp,
        gas_limit: e.current_gas_limit,
        prevrandao: e.current_difficulty,
        origin: test.exec.origin,
        gas_price: test.exec.gas_price,
        ..Env::default()
    };
    let mut state = State::new(spec, env);
    super::runner::insert_accounts(&mut state, &test.pre);
    state.begin_tx();
    state
}

/// What running a VM test's code produced.
#[derive(Debug)]
pub struct VmOutcome {
    /// How the frame ended.
    pub exit: ExitCode,
    /// Gas left (no refunds: there is no transaction).
    pub gas_left: u64,
    /// Returned (or reverted) data.
    pub output: Bytes,
    /// Logs (empty unless successful).
    pub logs: Vec<Log>,
    /// The world state afterwards (self-destructed accounts removed).
    pub state: State,
}

/// Runs the code of `test` under `spec` with frames tiered by `source`.
pub fn execute<T: Tracer>(
    test: &VmTest,
    spec: SpecId,
    tracer: &mut T,
    source: &dyn ProgramSource,
) -> VmOutcome {
    let mut state = pre_state(test, spec);
    let x = &test.exec;
    let msg = Message::call(
        x.caller,
        x.address,
        x.value,
        Bytes::from(x.data.clone()),
        x.gas,
    );
    let mut host = VmHost {
        state: &mut state,
        top_transfer_pending: true,
    };
    let code = Bytes::from(x.code.clone());
    let r = frame::execute_code(&mut host, msg, code, tracer, source);
    let logs = if r.exit.is_success() {
        std::mem::take(&mut state.logs)
    } else {
        Vec::new()
    };
    state.finalize_tx();
    VmOutcome {
        exit: r.exit,
        gas_left: r.gas.remaining,
        output: r.output,
        logs,
        state,
    }
}

/// The differences between the state after execution and the expected `post` (at most a few,
/// then a count).
fn state_diff(actual: &State, expected: &fixture::State) -> Vec<String> {
    let mut out = Vec::new();
    let addresses: BTreeSet<Address> = actual
        .accounts
        .keys()
        .chain(expected.keys())
        .copied()
        .collect();
    for a in addresses {
        match (actual.accounts.get(&a), expected.get(&a)) {
            (Some(_), None) => out.push(format!("{a}: unexpected account")),
            (None, Some(_)) => out.push(format!("{a}: account missing")),
            (Some(got), Some(want)) => {
                if got.balance != want.balance {
                    out.push(format!(
                        "{a}: balance {} != expected {}",
                        got.balance, want.balance
                    ));
                }
                if got.nonce != want.nonce {
                    out.push(format!(
                        "{a}: nonce {} != expected {}",
                        got.nonce, want.nonce
                    ));
                }
                if got.code[..] != want.code[..] {
                    out.push(format!("{a}: code differs"));
                }
                let want_storage: BTreeMap<U256, U256> = want
                    .storage
                    .iter()
                    .filter(|(_, v)| !v.is_zero())
                    .map(|(k, v)| (*k, *v))
                    .collect();
                let got_storage: BTreeMap<U256, U256> =
                    got.storage.iter().map(|(k, v)| (*k, *v)).collect();
                let keys: BTreeSet<U256> = want_storage
                    .keys()
                    .chain(got_storage.keys())
                    .copied()
                    .collect();
                for k in keys {
                    let g = got_storage.get(&k).copied().unwrap_or_default();
                    let w = want_storage.get(&k).copied().unwrap_or_default();
                    if g != w {
                        out.push(format!("{a}: storage[{k:#x}] = {g:#x} != expected {w:#x}"));
                    }
                }
            }
            (None, None) => {}
        }
    }
    const SHOWN: usize = 4;
    if out.len() > SHOWN {
        let more = out.len() - SHOWN;
        out.truncate(SHOWN);
        out.push(format!("and {more} more state differences"));
    }
    out
}

/// Runs one VM test under `spec` and compares it with its expectations.
pub fn run_test<T: Tracer>(
    name: &str,
    test: &VmTest,
    spec: SpecId,
    tracer: &mut T,
    source: &dyn ProgramSource,
) -> CaseResult {
    let mut result = CaseResult::new(name, FORK_LABEL, 0);
    if let Some(reason) = test.skip_reason(spec) {
        result.skipped = Some(reason);
        return result;
    }
    let o = execute(test, spec, tracer, source);
    result.state_root = runner::state_root(&o.state);
    let mut problems = Vec::new();
    match &test.post {
        None => {
            if !o.exit.is_halt() {
                problems.push(format!(
                    "expected an exceptional halt, frame ended with {}",
                    o.exit.name()
                ));
            }
            if o.gas_left != 0 {
                problems.push(format!("{} gas left after a halt", o.gas_left));
            }
        }
        Some(post) => {
            if !o.exit.is_success() {
                problems.push(format!(
                    "expected a successful end, frame ended with {}",
                    o.exit.name()
                ));
            }
            if let Some(gas) = test.gas {
                if o.gas_left != gas {
                    problems.push(format!("gas left {} != expected {gas}", o.gas_left));
                }
            }
            if let Some(out) = &test.out {
                if o.output[..] != out[..] {
                    problems.push(format!("output {} != expected 0x{}", o.output, hex(out)));
                }
            }
            if let Some(logs) = test.logs {
                let got = trie::logs_hash(o.logs.iter().map(|l| LogView {
                    address: l.address,
                    topics: &l.topics,
                    data: &l.data,
                }));
                if got != logs {
                    problems.push(format!("logs hash {got} != expected {logs}"));
                }
            }
            problems.extend(state_diff(&o.state, post));
        }
    }
    result.pass = problems.is_empty();
    if !result.pass {
        result.error = Some(problems.join("; "));
    }
    result
}

fn hex(b: &[u8]) -> String {
    alloy_primitives::hex::encode(b)
}

/// Runs every selected test of one VM-test file under [`SPEC`], frames tiered by
/// [`Filter::source`]. A fork filter other than [`SPEC`] selects none of them.
pub fn run_file(path: &Path, filter: &Filter) -> Vec<CaseResult> {
    run_file_with(path, filter, &mut NoTracer, filter.source())
}

/// [`run_file`] with a tracer and frames tiered by `source`.
pub fn run_file_with<T: Tracer>(
    path: &Path,
    filter: &Filter,
    tracer: &mut T,
    source: &dyn ProgramSource,
) -> Vec<CaseResult> {
    if filter.fork.is_some_and(|f| f != SPEC) {
        return Vec::new();
    }
    let tests = match load_file(path) {
        Ok(t) => t,
        Err(e) => {
            return vec![CaseResult::failed(
                path.display().to_string(),
                FORK_LABEL,
                e,
            )]
        }
    };
    tests
        .iter()
        .filter(|(name, _)| filter.name.as_ref().is_none_or(|re| re.is_match(name)))
        .map(|(name, t)| run_test(name, t, SPEC, tracer, source))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrite_state::Mode;

    const ADD0: &str = r#"{"add0": {
        "env": {"currentCoinbase": "0x2adc25665018aa1fe0e6bc666dac8fc2697ff9ba",
                "currentDifficulty": "0x020000", "currentGasLimit": "0x7fffffffffffffff",
                "currentNumber": "0x01", "currentTimestamp": "0x03e8"},
        "exec": {"address": "0x0f572e5295c57f15886f9b263e2f6d2d6c7b5ec6",
                 "caller": "0xcd1722f2947def4cf144679da39c4c32bdc35681",
                 "code": "0x6001600201600055", "data": "0x", "gas": "0x0186a0",
                 "gasPrice": "0x0c", "origin": "0xcd1722f2947def4cf144679da39c4c32bdc35681",
                 "value": "0x0b"},
        "gas": "0x013874",
        "logs": "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",
        "out": "0x",
        "post": {"0x0f572e5295c57f15886f9b263e2f6d2d6c7b5ec6": {
            "balance": "0x0de0b6b3a7640000", "code": "0x6001600201600055", "nonce": "0x00",
            "storage": {"0x00": "0x03"}}},
        "pre": {"0x0f572e5295c57f15886f9b263e2f6d2d6c7b5ec6": {
            "balance": "0x0de0b6b3a7640000", "code": "0x6001600201600055", "nonce": "0x00",
            "storage": {}}}
    }}"#;

    fn run(text: &str) -> CaseResult {
        let tests = parse_str(text).unwrap();
        let (name, t) = tests.iter().next().unwrap();
        run_test(name, t, SPEC, &mut NoTracer, &Mode::Interp)
    }

    #[test]
    fn synthetic_test_passes_and_mismatches_fail() {
        // 3 PUSH1 (9) + ADD (3) + SSTORE of a fresh slot (20000): 100000 - 20012 = 0x13874 left.
        let r = run(ADD0);
        assert!(r.pass, "{:?}", r.error);
        assert_eq!(r.fork, FORK_LABEL);
        for (from, to, what) in [
            ("\"gas\": \"0x013874\"", "\"gas\": \"0x013875\"", "gas left"),
            ("\"out\": \"0x\"", "\"out\": \"0x00\"", "output"),
            ("\"0x00\": \"0x03\"", "\"0x00\": \"0x04\"", "storage"),
            ("\"logs\": \"0x1dcc", "\"logs\": \"0x2dcc", "logs hash"),
        ] {
            let text = ADD0.replacen(from, to, 1);
            assert_ne!(text, ADD0, "{what}: substitution did not apply");
            let r = run(&text);
            assert!(!r.pass, "{what}");
            assert!(r.error.unwrap().contains(what), "{what}");
        }
    }

    #[test]
    fn value_is_not_transferred() {
        // The caller has no account (and no balance): the value is still only CALLVALUE.
        let text = ADD0
            .replace(
                "\"code\": \"0x6001600201600055\"",
                "\"code\": \"0x34600055\"",
            )
            .replace("\"0x00\": \"0x03\"", "\"0x00\": \"0x0b\"")
            .replace("\"gas\": \"0x013874\"", "\"gas\": \"0x01387b\"");
        let r = run(&text);
        assert!(r.pass, "{:?}", r.error);
    }

    #[test]
    fn missing_post_expects_an_exceptional_halt() {
        let strip = |t: &str| -> String {
            let mut v: serde_json::Value = serde_json::from_str(t).unwrap();
            let o = v["add0"].as_object_mut().unwrap();
            for k in ["post", "gas", "out", "logs"] {
                o.remove(k);
            }
            v.to_string()
        };
        // Succeeds: not the expected halt.
        let r = run(&strip(ADD0));
        assert!(!r.pass);
        assert!(r.error.unwrap().contains("exceptional halt"));
        // Stack underflow (ADD on an empty stack).
        let r = run(&strip(&ADD0.replace("0x6001600201600055", "0x01")));
        assert!(r.pass, "{:?}", r.error);
    }

    #[test]
    fn inconsistent_expectations_are_rejected() {
        let mut v: serde_json::Value = serde_json::from_str(ADD0).unwrap();
        v["add0"].as_object_mut().unwrap().remove("gas");
        assert!(parse_str(&v.to_string()).is_err());
        assert!(parse_str("{\"t\": 1}").is_err());
        assert!(parse_str("[").is_err());
    }

    #[test]
    fn sub_calls_are_skipped() {
        // PUSH2 0xf1f1 hides CALL bytes in push data; the trailing f0 is a real CREATE.
        assert!(sub_call_opcodes(&[0x61, 0xf1, 0xf1, 0x00], SpecId::Homestead).is_empty());
        assert_eq!(
            sub_call_opcodes(&[0x61, 0xf1, 0xf1, 0xf0], SpecId::Homestead),
            vec!["CREATE"]
        );
        assert!(sub_call_opcodes(&[0xfa], SpecId::Homestead).is_empty());
        assert_eq!(
            sub_call_opcodes(&[0xfa], SpecId::Byzantium),
            vec!["STATICCALL"]
        );
        let r = run(&ADD0.replace("0x6001600201600055\", \"data\"", "0x60f1f1\", \"data\""));
        assert!(r.skipped.is_some());
        let r = run(&ADD0.replacen(
            "\"gas\": \"0x013874\"",
            "\"callcreates\": [{}], \"gas\": \"0x013874\"",
            1,
        ));
        assert!(r.skipped.unwrap().contains("callcreates"));
    }
}
