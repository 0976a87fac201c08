//! Runs state-test cases: builds the pre-state and block, executes the transaction, and compares
//! the post-state root and logs hash with the fixture.
//!
//! A malformed fixture or an unknown fork becomes one failed (or skipped, with its reason) case,
//! never a crash of the run.

use super::fixture::{self, Case, TestUnit};
use alloy_primitives::{Bytes, B256, U256};
use ferrite::engine::Engine;
use ferrite::frame::ProgramSource;
use ferrite::interpreter::{NoTracer, Tracer};
use ferrite_runtime::{Env, SpecId};
use ferrite_state::state::{Account, State};
use ferrite_state::transaction::{self, fake_exponential, Authorization, Block, Tx};
use ferrite_state::trie::{self, AccountView, LogView};
use ferrite_state::Mode;
use std::path::Path;
use std::sync::Arc;

/// The outcome of one (test, fork, index) case.
#[derive(Clone, Debug)]
pub struct CaseResult {
    /// Test name (file stem and test key).
    pub name: String,
    /// Fork name as written in the fixture.
    pub fork: String,
    /// Index in `post[fork]`.
    pub index: usize,
    /// True when the state root and logs hash (or the expected exception) matched.
    pub pass: bool,
    /// The computed post-state root.
    pub state_root: B256,
    /// Why the case failed (or was skipped).
    pub error: Option<String>,
    /// Set when the case was not run, with the reason.
    pub skipped: Option<String>,
}

impl CaseResult {
    /// A not-yet-passing result for case `index` of `name` under `fork`.
    pub fn new(name: impl Into<String>, fork: impl Into<String>, index: usize) -> CaseResult {
        CaseResult {
            name: name.into(),
            fork: fork.into(),
            index,
            pass: false,
            state_root: B256::ZERO,
            error: None,
            skipped: None,
        }
    }

    /// `name [fork:index]: why` (the failure or skip reason; empty for a pass), as the tests and
    /// the CLI report a case.
    pub fn describe(&self) -> String {
        format!(
            "{} [{}:{}]: {}",
            self.name,
            self.fork,
            self.index,
            self.error
                .as_deref()
                .or(self.skipped.as_deref())
                .unwrap_or("")
        )
    }

    /// A failed result carrying `error` (a fixture that cannot be loaded or resolved).
    pub fn failed(name: impl Into<String>, fork: impl Into<String>, error: String) -> CaseResult {
        CaseResult {
            error: Some(error),
            ..CaseResult::new(name, fork, 0)
        }
    }
}

/// Filters applied to a run.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only this fork.
    pub fork: Option<SpecId>,
    /// Only tests whose name contains a match of this pattern.
    pub name: Option<regex_lite::Regex>,
    /// Execution tier (when no `engine` is set).
    pub mode: Mode,
    /// Run every case through this engine (one code cache and tiering for the whole run)
    /// instead of `mode`.
    pub engine: Option<Arc<Engine>>,
}

impl Filter {
    /// What picks native programs for the cases: the engine if set, else `mode`.
    pub fn source(&self) -> &dyn ProgramSource {
        match &self.engine {
            Some(e) => &**e,
            None => &self.mode,
        }
    }
}

/// Blob parameters (max blobs per block, base-fee update fraction) of a fork, from the fixture's
/// `blobSchedule` or the EIP defaults.
pub fn blob_params(unit: &TestUnit, fork: &str, spec: SpecId) -> (u64, u64) {
    if let Some(p) = unit
        .config
        .as_ref()
        .and_then(|c| c.blob_schedule.as_ref())
        .and_then(|s| s.get(fork))
    {
        return (p.max, p.base_fee_update_fraction);
    }
    if spec.is_enabled_in(SpecId::Prague) {
        (9, 5_007_716)
    } else {
        (6, 3_338_477)
    }
}

/// Inserts a fixture's accounts (zero storage values dropped) into `state`.
pub fn insert_accounts(state: &mut State, accounts: &fixture::State) {
    for (addr, a) in accounts {
        let mut acc = Account::with_code(Bytes::from(a.code.clone()));
        acc.balance = a.balance;
        acc.nonce = a.nonce;
        acc.storage = a
            .storage
            .iter()
            .filter(|(_, v)| !v.is_zero())
            .map(|(k, v)| (*k, *v))
            .collect();
        state.insert_account(*addr, acc);
    }
}

/// Builds the pre-state of `unit` for `spec`.
pub fn pre_state(unit: &TestUnit, spec: SpecId) -> State {
    let e = &unit.env;
    let env = Env {
        chain_id: unit.config.as_ref().and_then(|c| c.chainid).unwrap_or(1),
        coinbase: e.current_coinbase,
        number: U256::from(e.current_number),
        timestamp: U256::from(e.current_timestamp),
        gas_limit: U256::from(e.current_gas_limit),
        basefee: e.current_base_fee.unwrap_or_default(),
        prevrandao: match (spec.is_enabled_in(SpecId::Merge), e.current_random) {
            (true, Some(r)) => U256::from_be_bytes(r.0),
            _ => e.current_difficulty,
        },
        ..Env::default()
    };
    let mut state = State::new(spec, env);
    insert_accounts(&mut state, &unit.pre);
    state
}

/// The decoded transaction of a case, or the reason it cannot be encoded.
pub fn build_tx(case: &Case<'_>) -> Result<Tx, String> {
    let t = case.transaction;
    let tx_type = case.tx_type().ok_or("transaction cannot be encoded")?;
    let value = case.value.ok_or("value does not fit in 256 bits")?;
    let authorizations = t
        .authorization_list
        .iter()
        .flatten()
        .map(|a| Authorization {
            chain_id: a.chain_id,
            address: a.address,
            nonce: a.nonce,
            authority: a.parity().and_then(|p| {
                transaction::recover_authority(a.chain_id, a.address, a.nonce, p, a.r, a.s)
            }),
        })
        .collect();
    Ok(Tx {
        tx_type,
        caller: t.resolved_sender()?,
        to: t.to,
        value,
        data: Bytes::copy_from_slice(case.data),
        gas_limit: case.gas_limit,
        nonce: t.nonce,
        gas_price: t.gas_price.unwrap_or_default(),
        max_fee_per_gas: t.max_fee_per_gas.unwrap_or_default(),
        max_priority_fee_per_gas: t.max_priority_fee_per_gas.unwrap_or_default(),
        access_list: case
            .access_list
            .iter()
            .flat_map(|l| l.iter())
            .map(|i| (i.address, i.storage_keys.clone()))
            .collect(),
        blob_hashes: t.blob_versioned_hashes.clone().unwrap_or_default(),
        max_fee_per_blob_gas: t.max_fee_per_blob_gas.unwrap_or_default(),
        authorizations,
    })
}

/// The secure-trie root of the whole state.
pub fn state_root(state: &State) -> B256 {
    trie::state_root(state.accounts.iter().map(|(a, acc)| {
        (
            *a,
            AccountView {
                nonce: acc.nonce,
                balance: acc.balance,
                code_hash: acc.code_hash,
                storage: acc.storage.iter().map(|(k, v)| (*k, *v)),
            },
        )
    }))
}

/// Runs one case with a tracer.
pub fn run_case_traced<T: Tracer>(
    name: &str,
    unit: &TestUnit,
    case: &Case<'_>,
    tracer: &mut T,
    mode: Mode,
) -> CaseResult {
    run_case_with(name, unit, case, tracer, &mode)
}

/// Runs one case with a tracer, frames tiered by `source` (a [`Mode`] or an [`Engine`]).
pub fn run_case_with<T: Tracer>(
    name: &str,
    unit: &TestUnit,
    case: &Case<'_>,
    tracer: &mut T,
    source: &dyn ProgramSource,
) -> CaseResult {
    let mut result = CaseResult::new(name, case.fork, case.post_index);
    let Some(spec) = SpecId::from_name(case.fork) else {
        result.skipped = Some(format!("unsupported fork {}", case.fork));
        return result;
    };
    let mut state = pre_state(unit, spec);
    let (max_blobs, fraction) = blob_params(unit, case.fork, spec);
    let blob_basefee = if spec.is_enabled_in(SpecId::Cancun) {
        fake_exponential(1, unit.env.current_excess_blob_gas.unwrap_or(0), fraction)
    } else {
        U256::ZERO
    };
    state.env.blob_basefee = blob_basefee;
    let block = Block {
        gas_limit: unit.env.current_gas_limit,
        basefee: state.env.basefee,
        blob_basefee,
        max_blobs,
        chain_id: state.env.chain_id,
    };
    let outcome = build_tx(case).and_then(|tx| {
        transaction::execute_traced(&mut state, &block, &tx, tracer, source)
            .map_err(|e| e.to_string())
    });
    if outcome.is_err() && zero_reward_on_invalid(unit) {
        let coinbase = state.env.coinbase;
        state.credit(coinbase, U256::ZERO);
        state.finalize_tx();
    }
    let root = state_root(&state);
    let logs_hash = match &outcome {
        Ok(r) => trie::logs_hash(r.logs.iter().map(|l| LogView {
            address: l.address,
            topics: &l.topics,
            data: &l.data,
        })),
        Err(_) => trie::EMPTY_LOGS_HASH,
    };
    judge(result, case, outcome.err().as_deref(), root, logs_hash)
}

/// Whether an invalid transaction still pays the block's (zero) mining reward to the coinbase.
///
/// Fixtures filled by retesteth (ethereum/tests, legacytests: no `config` section) expect the
/// block's mining reward (zero in state tests) to reach the coinbase whatever the transaction
/// did, as geth's state-test runner pays it: before EIP-161 that creates the coinbase as an empty
/// account; after it, the touched empty account is removed again. (A valid transaction pays the
/// coinbase its fee, which touches it the same way.) EEST fixtures (execution-specs, with
/// `config`) expect an invalid transaction to leave the pre-state. Neither is consensus: an
/// invalid transaction is never in a block.
pub fn zero_reward_on_invalid(unit: &TestUnit) -> bool {
    unit.config.is_none()
}

/// The verdict on a case that ran: `error` is why the transaction was invalid (`None`: it was
/// executed), `root` and `logs_hash` what it left. Passes when validity matches
/// `expectException` (its presence; the exception's name is not compared) and the root and logs
/// hash match the fixture.
pub fn judge(
    mut result: CaseResult,
    case: &Case<'_>,
    error: Option<&str>,
    root: B256,
    logs_hash: B256,
) -> CaseResult {
    result.state_root = root;
    let mut problems = Vec::new();
    match (error, case.expect_exception) {
        (Some(e), None) => problems.push(format!("unexpected invalid transaction: {e}")),
        (None, Some(x)) => problems.push(format!("expected exception {x}, transaction was valid")),
        _ => {}
    }
    if root != case.hash {
        problems.push(format!("state root {root} != expected {}", case.hash));
    }
    if logs_hash != case.logs {
        problems.push(format!("logs hash {logs_hash} != expected {}", case.logs));
    }
    result.pass = problems.is_empty();
    if !result.pass {
        result.error = Some(problems.join("; "));
    }
    result
}

/// Runs every selected case of one fixture file.
pub fn run_file(path: &Path, filter: &Filter) -> Vec<CaseResult> {
    run_file_cases(path, filter, |name, unit, case| {
        run_case_with(name, unit, case, &mut NoTracer, filter.source())
    })
}

/// Runs every case of one fixture file that `filter` selects (by name and fork) through
/// `run_case` (name, unit, case). A file that does not load, or a case that does not resolve,
/// is one failed result.
pub fn run_file_cases(
    path: &Path,
    filter: &Filter,
    mut run_case: impl FnMut(&str, &TestUnit, &Case<'_>) -> CaseResult,
) -> Vec<CaseResult> {
    let stem = path.display().to_string();
    let units = match fixture::load_file(path) {
        Ok(u) => u,
        Err(e) => return vec![CaseResult::failed(stem, "", e)],
    };
    let mut out = Vec::new();
    for (name, unit) in &units {
        if let Some(re) = &filter.name {
            if !re.is_match(name) {
                continue;
            }
        }
        for case in unit.cases() {
            match case {
                Ok(case) => {
                    if let Some(f) = filter.fork {
                        if SpecId::from_name(case.fork) != Some(f) {
                            continue;
                        }
                    }
                    out.push(run_case(name, unit, &case));
                }
                Err(e) => out.push(CaseResult::failed(name.clone(), "", e)),
            }
        }
    }
    out
}

/// All `.json` files under `path` (a file or a folder, recursively), sorted.
pub fn collect_files(path: &Path) -> Result<Vec<std::path::PathBuf>, String> {
    let mut out = Vec::new();
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(out);
    }
    let mut dirs = vec![path.to_path_buf()];
    while let Some(d) = dirs.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}
