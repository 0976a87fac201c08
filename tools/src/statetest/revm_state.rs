//! `ferrite statetest --state revm`: state-test vectors run through `ferrite-evm`, the
//! alloy-evm adapter, over revm's in-memory database instead of ferrite's own
//! [`State`](ferrite_state::State).
//!
//! Each vector's `pre` becomes a [`CacheDB`]`<`[`EmptyDB`]`>` (code stored as revm stores it:
//! EIP-7702 designators recognised, anything else legacy), its `env` and `config` an
//! [`EvmEnv`] (the fork's mainnet gas parameters, the fixture's chain id and blob schedule,
//! nothing else changed), and its transaction a [`TxEnv`] (from the native runner's
//! [`build_tx`], EIP-7702 authorities as the native path recovers them). One
//! [`FerriteEvmFactory`] per run, on the engine `--engine` selects, runs it with
//! `transact_raw`; an `Ok` change set is committed to the database, an invalid transaction
//! commits nothing. The post-state root comes from the database's accounts through
//! [`ferrite_state::trie`], the logs hash from the result's logs, and the verdict is the native
//! runner's ([`runner::judge`]), so both back-ends share one notion of passing.
//!
//! The database keeps what the state would drop, so the root skips it:
//! - accounts revm marks not existing (read but absent, or self-destructed);
//! - from EIP-161 (Spurious Dragon) on, empty accounts the transaction touched (the commit
//!   writes them with empty info; the protocol deletes them). Untouched empty accounts of the
//!   pre-state stay, as they do in the native state.
//!
//! The native runner's quirk for retesteth fixtures ([`runner::zero_reward_on_invalid`]) is
//! mirrored: after an invalid transaction the coinbase is touched (created empty before
//! EIP-161, deleted if empty after it).
//!
//! `expectException` is checked as the native runner checks it: a vector expecting an exception
//! must get an invalid-transaction error, one expecting none an execution; revm's error is not
//! mapped back to the exception's name.
//!
//! What revm's types cannot hold: fees are `u128` (the base fee `u64`) there and `U256` in the
//! fixtures, so larger values saturate, as revm's own state-test runner (`revme`) does; such a
//! fee is unpayable either way. Forks revm does not model (plain `Constantinople`: revm has only
//! Petersburg, fixtures' `ConstantinopleFix`) are skipped with the reason. VM tests (no
//! transaction) are skipped too.

use super::fixture::{Case, TestUnit};
use super::runner::{self, build_tx, CaseResult, Filter};
use super::vmtest;
use crate::fuzz::revm_oracle::revm_spec;
use alloy_evm::{Evm, EvmEnv, EvmFactory};
use alloy_primitives::map::HashSet;
use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use ferrite::EngineMode;
use ferrite_evm::FerriteEvmFactory;
use ferrite_runtime::SpecId;
use ferrite_state::transaction::Tx;
use ferrite_state::trie::{self, AccountView, LogView};
use ferrite_state::Mode;
use revm::bytecode::Bytecode;
use revm::context::either::Either;
use revm::context::{BlockEnv, CfgEnv, TxEnv};
use revm::context_interface::block::BlobExcessGasAndPrice;
use revm::context_interface::result::EVMError;
use revm::context_interface::transaction::{
    AccessList, AccessListItem, Authorization, RecoveredAuthority, RecoveredAuthorization,
};
use revm::database::{CacheDB, EmptyDB};
use revm::primitives::{TxKind, KECCAK_EMPTY};
use revm::state::AccountInfo;
use revm::DatabaseCommit;
use std::path::Path;

/// revm's in-memory database, as the adapter sees it.
pub type Db = CacheDB<EmptyDB>;

/// The factory for a run: its EVMs run on the engine `filter` selects (`--engine auto`'s shared
/// engine, or a new engine in the interpreter or JIT mode).
pub fn factory(filter: &Filter) -> FerriteEvmFactory {
    match &filter.engine {
        Some(engine) => FerriteEvmFactory::new(engine.clone()),
        None => FerriteEvmFactory::with_mode(match filter.mode {
            Mode::Interp => EngineMode::Interp,
            Mode::Jit => EngineMode::Jit,
        }),
    }
}

/// The database holding `unit`'s pre-state (zero storage values left out).
pub fn pre_db(unit: &TestUnit) -> Db {
    let mut db = Db::new(EmptyDB::default());
    for (address, a) in &unit.pre {
        let raw = Bytes::from(a.code.clone());
        let code =
            Bytecode::new_raw_checked(raw.clone()).unwrap_or_else(|_| Bytecode::new_legacy(raw));
        db.insert_account_info(
            *address,
            AccountInfo {
                balance: a.balance,
                nonce: a.nonce,
                code_hash: keccak256(&a.code),
                code: Some(code),
                ..AccountInfo::default()
            },
        );
        for (k, v) in a.storage.iter().filter(|(_, v)| !v.is_zero()) {
            // The account was just inserted, so its storage is in the cache: no read can fail.
            let Ok(()) = db.insert_account_storage(*address, *k, *v);
        }
    }
    db
}

/// The configuration and block of `unit` under `fork` (`spec` in ferrite's terms).
pub fn evm_env(
    unit: &TestUnit,
    fork: &str,
    spec: SpecId,
    rspec: revm::primitives::hardfork::SpecId,
) -> EvmEnv {
    let e = &unit.env;
    let mut cfg = CfgEnv::new_with_spec(rspec);
    cfg.chain_id = unit.config.as_ref().and_then(|c| c.chainid).unwrap_or(1);
    let (max_blobs, fraction) = runner::blob_params(unit, fork, spec);
    let cancun = spec.is_enabled_in(SpecId::Cancun);
    if cancun {
        cfg.max_blobs_per_tx = Some(max_blobs);
    }
    let block = BlockEnv {
        number: U256::from(e.current_number),
        beneficiary: e.current_coinbase,
        timestamp: U256::from(e.current_timestamp),
        gas_limit: e.current_gas_limit,
        basefee: e.current_base_fee.unwrap_or_default().saturating_to(),
        difficulty: e.current_difficulty,
        // The native runner's rule: `currentRandom` from the Merge on, else the difficulty.
        prevrandao: spec
            .is_enabled_in(SpecId::Merge)
            .then(|| e.current_random.unwrap_or(e.current_difficulty.into())),
        blob_excess_gas_and_price: cancun
            .then(|| BlobExcessGasAndPrice::new(e.current_excess_blob_gas.unwrap_or(0), fraction)),
        ..BlockEnv::default()
    };
    EvmEnv {
        cfg_env: cfg,
        block_env: block,
    }
}

/// revm's transaction for the native runner's, on chain `chain_id`.
pub fn tx_env(tx: &Tx, chain_id: u64) -> TxEnv {
    let dynamic = tx.tx_type >= 2;
    let fee = |v: U256| v.saturating_to::<u128>();
    TxEnv {
        tx_type: tx.tx_type,
        caller: tx.caller,
        gas_limit: tx.gas_limit,
        gas_price: fee(if dynamic {
            tx.max_fee_per_gas
        } else {
            tx.gas_price
        }),
        kind: tx.to.map_or(TxKind::Create, TxKind::Call),
        value: tx.value,
        data: tx.data.clone(),
        nonce: tx.nonce,
        chain_id: Some(chain_id),
        access_list: AccessList(
            tx.access_list
                .iter()
                .map(|(address, keys)| AccessListItem {
                    address: *address,
                    storage_keys: keys.clone(),
                })
                .collect(),
        ),
        gas_priority_fee: dynamic.then(|| fee(tx.max_priority_fee_per_gas)),
        blob_hashes: tx.blob_hashes.clone(),
        max_fee_per_blob_gas: fee(tx.max_fee_per_blob_gas),
        authorization_list: tx
            .authorizations
            .iter()
            .map(|a| {
                let auth = Authorization {
                    chain_id: a.chain_id,
                    address: a.address,
                    nonce: a.nonce,
                };
                let authority = match a.authority {
                    Some(signer) => RecoveredAuthority::Valid(signer),
                    None => RecoveredAuthority::Invalid,
                };
                Either::Right(RecoveredAuthorization::new_unchecked(auth, authority))
            })
            .collect(),
    }
}

/// The secure-trie root of `db`'s existing accounts; from EIP-161 on, the empty ones in
/// `touched` are deleted (module docs).
pub fn state_root(db: &Db, touched: &HashSet<Address>, spec: SpecId) -> B256 {
    let clear_empty = spec.is_enabled_in(SpecId::SpuriousDragon);
    trie::state_root(db.cache.accounts.iter().filter_map(|(address, account)| {
        let info = account.info()?;
        if clear_empty && info.is_empty() && touched.contains(address) {
            return None;
        }
        Some((
            *address,
            AccountView {
                nonce: info.nonce,
                balance: info.balance,
                code_hash: if info.code_hash.is_zero() {
                    KECCAK_EMPTY
                } else {
                    info.code_hash
                },
                storage: account.storage.iter().map(|(k, v)| (*k, *v)),
            },
        ))
    }))
}

/// Runs one case through `factory`'s adapter over revm's database.
pub fn run_case(
    name: &str,
    unit: &TestUnit,
    case: &Case<'_>,
    factory: &FerriteEvmFactory,
) -> CaseResult {
    let mut result = CaseResult::new(name, case.fork, case.post_index);
    let Some(spec) = SpecId::from_name(case.fork) else {
        result.skipped = Some(format!("unsupported fork {}", case.fork));
        return result;
    };
    let Some(rspec) = revm_spec(spec) else {
        result.skipped = Some(format!(
            "fork {} has no revm spec (revm models Constantinople only as Petersburg)",
            case.fork
        ));
        return result;
    };
    let env = evm_env(unit, case.fork, spec, rspec);
    let chain_id = env.cfg_env.chain_id;
    let coinbase = env.block_env.beneficiary;
    let mut evm = factory.create_evm(pre_db(unit), env);
    // revm's in-memory database can say whether an account has storage: EIP-7610 exactly.
    evm.set_storage_probe(|db, address| {
        Ok(db
            .cache
            .accounts
            .get(&address)
            .is_some_and(|a| a.storage.values().any(|v| !v.is_zero())))
    });
    if let Some(why) = evm.fallback_reason() {
        result.error = Some(format!("the adapter would run revm, not ferrite: {why}"));
        return result;
    }
    let mut touched = HashSet::default();
    let mut logs = Vec::new();
    let mut error = None;
    match build_tx(case) {
        Err(e) => error = Some(e),
        Ok(tx) => match evm.transact_raw(tx_env(&tx, chain_id)) {
            Ok(r) => {
                touched.extend(
                    r.state
                        .iter()
                        .filter(|(_, a)| a.is_touched())
                        .map(|(address, _)| *address),
                );
                logs = r.result.into_logs();
                evm.db_mut().commit(r.state);
            }
            Err(EVMError::Transaction(e)) => error = Some(e.to_string()),
            Err(e) => {
                result.error = Some(format!("adapter error: {e}"));
                return result;
            }
        },
    }
    let (mut db, _) = evm.finish();
    if error.is_some() && runner::zero_reward_on_invalid(unit) {
        if db
            .cache
            .accounts
            .get(&coinbase)
            .and_then(|a| a.info())
            .is_none()
        {
            db.insert_account_info(coinbase, AccountInfo::default());
        }
        touched.insert(coinbase);
    }
    let root = state_root(&db, &touched, spec);
    let logs_hash = trie::logs_hash(logs.iter().map(|l| LogView {
        address: l.address,
        topics: l.data.topics(),
        data: &l.data.data,
    }));
    runner::judge(result, case, error.as_deref(), root, logs_hash)
}

/// Runs every case of one fixture file that `filter` selects through `factory`.
pub fn run_file(path: &Path, filter: &Filter, factory: &FerriteEvmFactory) -> Vec<CaseResult> {
    runner::run_file_cases(path, filter, |name, unit, case| {
        run_case(name, unit, case, factory)
    })
}

/// The tests of a VM-test file, each skipped: a VM test runs one frame, not a transaction, so
/// there is nothing to hand the adapter.
pub fn skip_vm_tests(path: &Path, filter: &Filter) -> Vec<CaseResult> {
    if filter.fork.is_some_and(|f| f != vmtest::SPEC) {
        return Vec::new();
    }
    let tests = match vmtest::load_file(path) {
        Ok(t) => t,
        Err(e) => {
            return vec![CaseResult::failed(
                path.display().to_string(),
                vmtest::FORK_LABEL,
                e,
            )]
        }
    };
    tests
        .keys()
        .filter(|name| filter.name.as_ref().is_none_or(|re| re.is_match(name)))
        .map(|name| CaseResult {
            skipped: Some("VM test: no transaction for the adapter (--state revm)".into()),
            ..CaseResult::new(name.clone(), vmtest::FORK_LABEL, 0)
        })
        .collect()
}
