//! Transactions per second through `ferrite-evm` (alloy-evm's `Evm` over a revm `Database`)
//! against revm's `MainnetEvm` (alloy-evm's `EthEvm`) on the same database, measured in one run.
//!
//! `cargo bench --bench adapter`. Each case is a whole transaction — validation, fees, the
//! change set — from `0x1111…` to the case's contract at `0xcccc…` (Prague, gas price 0) on a
//! `CacheDB`, run with `transact_raw` (nothing is committed, so every iteration sees the same
//! state; the database's cache is warm after the first). Variants: revm; ferrite's adapter on
//! an engine in `interp`, `jit` (compiled on the first call, before timing) and `auto` mode
//! (criterion's warm-up covers the background compile). Before timing, every variant's result
//! and change set are checked against revm's: a fast wrong answer aborts the benchmark.

use alloy_evm::eth::EthEvmBuilder;
use alloy_evm::{Evm, EvmEnv, EvmFactory};
use criterion::Criterion;
use ferrite::EngineMode;
use ferrite_evm::FerriteEvmFactory;
use ferrite_state::call::{CALLER, TARGET};
use ferrite_tools::bench;
use revm::bytecode::Bytecode;
use revm::context::{BlockEnv, CfgEnv, TxEnv};
use revm::database::{CacheDB, EmptyDB};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{keccak256, TxKind, U256};
use revm::state::AccountInfo;
use std::time::Duration;

/// (criterion name, suite case): an ERC-20 transfer loop, the UniswapV2 router's swap pricing
/// (`getAmountOut`), and snailtracer.
const CASES: &[(&str, &str)] = &[
    ("erc20_transfer", "revmc/erc20_transfer"),
    ("univ2_router", "revmc/univ2_router"),
    ("snailtracer", "revmc/snailtracer"),
];

fn setup(case: &bench::Case) -> (CacheDB<EmptyDB>, EvmEnv, TxEnv) {
    let mut db = CacheDB::new(EmptyDB::default());
    db.insert_account_info(
        CALLER,
        AccountInfo {
            balance: U256::from(10u64).pow(U256::from(30)),
            ..AccountInfo::default()
        },
    );
    let code = case.cfg.code.clone();
    db.insert_account_info(
        TARGET,
        AccountInfo {
            nonce: 1,
            code_hash: keccak256(&code),
            code: Some(Bytecode::new_raw(code)),
            ..AccountInfo::default()
        },
    );
    for (k, v) in &case.cfg.storage {
        db.insert_account_storage(TARGET, *k, *v)
            .expect("in-memory database");
    }
    let mut block = BlockEnv::default();
    block.gas_limit = u64::MAX;
    block.prevrandao = Some(Default::default());
    block.blob_excess_gas_and_price = Some(
        revm::context_interface::block::BlobExcessGasAndPrice::new(0, 5_007_716),
    );
    let env = EvmEnv {
        cfg_env: CfgEnv::new_with_spec(SpecId::PRAGUE),
        block_env: block,
    };
    let tx = TxEnv::builder()
        .caller(CALLER)
        .kind(TxKind::Call(TARGET))
        .data(case.cfg.input.clone())
        .gas_limit(1_000_000_000)
        .chain_id(Some(1))
        .build()
        .expect("a valid transaction");
    (db, env, tx)
}

fn adapter(c: &mut Criterion) {
    for (label, name) in CASES {
        let Some(case) = bench::case(name) else {
            panic!("no benchmark case {name}");
        };
        let (db, env, tx) = setup(&case);
        let mut revm = EthEvmBuilder::new(db.clone(), env.clone()).build();
        let expected = revm.transact_raw(tx.clone()).expect("revm runs the case");
        let mut g = c.benchmark_group(format!("adapter/{label}"));
        g.sample_size(20)
            .warm_up_time(Duration::from_secs(2))
            .measurement_time(Duration::from_secs(4));
        g.bench_function("revm", |b| {
            b.iter(|| revm.transact_raw(tx.clone()).expect("revm runs the case"))
        });
        for mode in [EngineMode::Interp, EngineMode::Jit, EngineMode::Auto] {
            let factory = FerriteEvmFactory::with_mode(mode);
            let mut evm = factory.create_evm(db.clone(), env.clone());
            let got = evm.transact_raw(tx.clone()).expect("ferrite runs the case");
            assert_eq!(
                got.result,
                expected.result,
                "{name} {}: result",
                mode.name()
            );
            let changed = |s: &revm::state::EvmState| {
                let mut v: Vec<_> = s
                    .iter()
                    .filter(|(_, a)| a.is_touched())
                    .map(|(k, a)| {
                        let mut slots: Vec<_> = a
                            .changed_storage_slots()
                            .map(|(k, s)| (*k, s.present_value()))
                            .collect();
                        slots.sort();
                        (*k, a.info.balance, a.info.nonce, slots)
                    })
                    .collect();
                v.sort();
                v
            };
            assert_eq!(
                changed(&got.state),
                changed(&expected.state),
                "{name}: state"
            );
            g.bench_function(format!("ferrite-{}", mode.name()), |b| {
                b.iter(|| evm.transact_raw(tx.clone()).expect("ferrite runs the case"))
            });
            let s = factory.counters();
            assert_eq!(
                s.inspected + s.unsupported,
                0,
                "every transaction ran on ferrite"
            );
        }
        g.finish();
    }
}

fn main() {
    // criterion_group!/criterion_main! without their undocumented generated function.
    let mut c = Criterion::default().configure_from_args();
    adapter(&mut c);
    c.final_summary();
}
