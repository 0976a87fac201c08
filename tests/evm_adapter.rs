//! The adapter differential ([`ferrite_tools::fuzz::adapter`]): generated transactions through
//! `ferrite-evm` and through revm's `MainnetEvm` (alloy-evm's `EthEvm`) on the same database,
//! the whole `ResultAndState` compared, per fork.

use ferrite::runtime::SpecId;
use ferrite::EngineMode;
use ferrite_evm::FerriteEvmFactory;
use ferrite_tools::fuzz::adapter;
use ferrite_tools::fuzz::gen::case_seed;

/// `FERRITE_ADAPTER_CASES` overrides the number of scenarios per test (longer runs).
fn differential(spec: SpecId, mode: EngineMode, cases: u64) {
    let cases = std::env::var("FERRITE_ADAPTER_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    let factory = FerriteEvmFactory::with_mode(mode);
    let mut failures = Vec::new();
    let mut tally = adapter::Tally::default();
    for i in 0..cases {
        let seed = case_seed(0xad_a97e ^ mode as u64, spec, i);
        let Some(s) = adapter::scenario(seed, spec) else {
            continue;
        };
        if let Err(e) = adapter::run(&s, &factory, &mut tally) {
            failures.push(format!("seed {seed:#x}: {e}"));
        }
    }
    eprintln!(
        "{spec:?} {}: {cases} scenarios, {} steps agreed, {} differ; halts named differently \
         (ferrite, revm): {:?}; steps by kind: {:?}",
        mode.name(),
        tally.steps,
        failures.len(),
        tally.halts_named_differently,
        tally.kinds
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} scenarios differ; first:\n{}",
        failures.len(),
        failures[..failures.len().min(3)].join("\n")
    );
}

#[test]
fn adapter_matches_revm_cancun() {
    differential(SpecId::Cancun, EngineMode::Interp, 300);
}

#[test]
fn adapter_matches_revm_prague() {
    differential(SpecId::Prague, EngineMode::Interp, 300);
}

#[test]
fn adapter_matches_revm_osaka() {
    differential(SpecId::Osaka, EngineMode::Interp, 300);
}

#[test]
fn adapter_matches_revm_osaka_jit() {
    differential(SpecId::Osaka, EngineMode::Jit, 100);
}

#[test]
fn adapter_matches_revm_prague_auto() {
    differential(SpecId::Prague, EngineMode::Auto, 100);
}

/// Before Spurious Dragon (EIP-161) an empty account that a transaction touches stays in the
/// state: a zero-value transfer creates the (empty) recipient, and a self-destruct's beneficiary
/// exists afterwards even when nothing was left to send. revm hands such accounts to the database
/// marked so that its commit keeps them (`Created` for a new one, untouched for an existing one):
/// the database layer applies EIP-161's removal to every touched empty account. Found by
/// `ferrite blocktest` (EEST `test_double_kill`, `test_create_suicide_store`, Frontier/Homestead).
#[test]
fn adapter_matches_revm_before_eip161() {
    use adapter::{Scenario, Step, FRESH, SENDER};
    use revm::bytecode::Bytecode;
    use revm::context::TxEnv;
    use revm::database::EmptyDB;
    use revm::primitives::{keccak256, Address, Bytes, TxKind, U256};
    use revm::state::AccountInfo;

    const EMPTY: Address = Address::new([0xe0; 20]);
    const KILLER: Address = Address::new([0xdd; 20]);
    const HEIR: Address = Address::new([0xaa; 20]);
    // PUSH20 HEIR SELFDESTRUCT
    let mut code = vec![0x73];
    code.extend_from_slice(HEIR.as_slice());
    code.push(0xff);
    let factory = FerriteEvmFactory::with_mode(EngineMode::Interp);
    for spec in [SpecId::Frontier, SpecId::Homestead, SpecId::Tangerine] {
        let mut db = adapter::Db::new(EmptyDB::default());
        db.insert_account_info(
            SENDER,
            AccountInfo {
                balance: U256::from(10u64).pow(U256::from(20)),
                ..AccountInfo::default()
            },
        );
        db.insert_account_info(EMPTY, AccountInfo::default());
        db.insert_account_info(
            KILLER,
            AccountInfo {
                code_hash: keccak256(&code),
                code: Some(Bytecode::new_raw(Bytes::from(code.clone()))),
                ..AccountInfo::default()
            },
        );
        let tx = |nonce: u64, to: Address| {
            Step::Tx(Box::new(TxEnv {
                caller: SENDER,
                kind: TxKind::Call(to),
                gas_limit: 100_000,
                gas_price: 8,
                nonce,
                chain_id: None,
                ..TxEnv::default()
            }))
        };
        let scenario = Scenario {
            db,
            env: adapter::env(spec).expect("revm models the fork"),
            steps: vec![tx(0, FRESH), tx(1, EMPTY), tx(2, KILLER), tx(3, KILLER)],
        };
        let mut tally = adapter::Tally::default();
        if let Err(e) = adapter::run(&scenario, &factory, &mut tally) {
            panic!("{spec:?}: {e}");
        }
    }
}
