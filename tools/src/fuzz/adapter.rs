//! The adapter differential: generated transactions run through `ferrite-evm`'s
//! [`FerriteEvm`](ferrite_evm::FerriteEvm) and through alloy-evm's `EthEvm` (revm's
//! `MainnetEvm`) on two copies of the same database, their whole `ResultAndState` compared,
//! then each committed to its own copy so the next transaction sees the effects.
//!
//! A scenario is built from a fuzz case ([`gen::case`]): the generated program at `TARGET`
//! with its storage, the callee, an EOA and (Prague+) delegated accounts, plus funded senders.
//! Its transactions: the call of the case (legacy, EIP-2930 with an access list, EIP-1559,
//! EIP-4844 with blobs, or EIP-7702 with authorizations, as the fork allows), a contract
//! creation whose initcode is a second program, value transfers (to a fresh account, an EOA, a
//! precompile), a second call, sometimes a system call, and sometimes an invalid transaction
//! (bad nonce, gas, fees, funds, blob or authorization fields).
//!
//! Compared: the result (`ExecutionResult`, exactly, except that a halt's reason is compared by
//! class, see [`halt_name`]), or the error; and for every account either side reports as
//! touched: balance, nonce, code hash and code, the status marks a commit acts on (touched,
//! created, self-destructed, loaded as not existing) and every changed storage slot with its
//! original and present value. A slot only read may be listed by one side and not the other:
//! which slots a failing instruction reads before it fails is an implementation detail (revm
//! checks SSTORE's stipend before reading the slot, ferrite after), and a commit ignores it; a
//! read slot listed by both must agree.
//!
//! Halt reasons by class: ferrite names the cause the specification's order of checks finds,
//! revm sometimes a later one (it charges a newer fork's gas before rejecting an opcode, its
//! DUPn reports stack overflow on underflow, …: see `revm_oracle`'s notes); the effects —
//! all gas consumed, state reverted — are identical.

use crate::fuzz::gen::{self, Rng, CALLEE, EOA};
use crate::fuzz::revm_oracle::{halt_name, revm_spec};
use alloy_evm::eth::EthEvmBuilder;
use alloy_evm::{Evm, EvmEnv, EvmFactory};
use ferrite::runtime::SpecId;
use ferrite_evm::FerriteEvmFactory;
use ferrite_state::call::TARGET;
use revm::bytecode::Bytecode;
use revm::context::{BlockEnv, CfgEnv, TxEnv};
use revm::context_interface::block::BlobExcessGasAndPrice;
use revm::context_interface::result::{EVMError, ExecutionResult, HaltReason, ResultAndState};
use revm::context_interface::transaction::{
    AccessList, AccessListItem, Authorization, RecoveredAuthority, RecoveredAuthorization,
    SignedAuthorization,
};
use revm::database::{CacheDB, EmptyDB};
use revm::primitives::{keccak256, Address, Bytes, TxKind, B256, U256};
use revm::state::{AccountInfo, AccountStatus, EvmState};
use revm::DatabaseCommit;
use std::collections::BTreeMap;
use std::convert::Infallible;

/// The database both sides start from.
pub type Db = CacheDB<EmptyDB>;

/// A funded sender that never has code.
pub const SENDER: Address = Address::new([0x5e; 20]);
/// A second funded sender (creations, transfers).
pub const SENDER2: Address = Address::new([0x5f; 20]);
/// An account that exists nowhere before the scenario.
pub const FRESH: Address = Address::new([0xf4; 20]);

/// One step of a scenario.
#[derive(Clone, Debug)]
pub enum Step {
    /// A transaction.
    Tx(Box<TxEnv>),
    /// A system call: caller, contract, data.
    System(Address, Address, Bytes),
}

/// A database, an environment and the steps to run on it.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The starting state.
    pub db: Db,
    /// Block and configuration.
    pub env: EvmEnv,
    /// What to run, in order.
    pub steps: Vec<Step>,
}

fn code_info(code: &[u8], nonce: u64, balance: U256) -> AccountInfo {
    let raw = Bytes::copy_from_slice(code);
    let bytecode =
        Bytecode::new_raw_checked(raw.clone()).unwrap_or_else(|_| Bytecode::new_legacy(raw));
    AccountInfo {
        balance,
        nonce,
        code_hash: keccak256(code),
        code: Some(bytecode),
        ..AccountInfo::default()
    }
}

fn eoa(balance: U256, nonce: u64) -> AccountInfo {
    AccountInfo {
        balance,
        nonce,
        ..AccountInfo::default()
    }
}

/// The environment of a scenario at `spec`: chain 1, base fee 7 (London+), blob price 1.
pub fn env(spec: SpecId) -> Option<EvmEnv> {
    let rspec = revm_spec(spec)?;
    let mut cfg = CfgEnv::new_with_spec(rspec);
    cfg.chain_id = 1;
    let block = BlockEnv {
        number: U256::from(1000),
        beneficiary: Address::new([0xcb; 20]),
        timestamp: U256::from(1_700_000_000u64),
        gas_limit: 1 << 40,
        basefee: if spec.is_enabled_in(SpecId::London) {
            7
        } else {
            0
        },
        difficulty: U256::from(131_072),
        prevrandao: Some(B256::repeat_byte(0x42)),
        blob_excess_gas_and_price: spec
            .is_enabled_in(SpecId::Cancun)
            .then(|| BlobExcessGasAndPrice::new(0, cfg.blob_base_fee_update_fraction())),
        ..BlockEnv::default()
    };
    Some(EvmEnv {
        cfg_env: cfg,
        block_env: block,
    })
}

/// The scenario of fuzz case `seed` at `spec` (`None` for a fork revm does not model).
pub fn scenario(seed: u64, spec: SpecId) -> Option<Scenario> {
    let env = env(spec)?;
    let case = gen::case(seed, spec);
    let rng = &mut Rng::new(seed ^ 0x5ce7_a210);
    let mut db = Db::new(EmptyDB::default());
    db.insert_account_info(TARGET, code_info(&case.code, 1, U256::from(10u64.pow(18))));
    for (k, v) in &case.storage {
        db.insert_account_storage(TARGET, *k, *v).ok()?;
    }
    for (address, account) in &case.accounts {
        db.insert_account_info(
            *address,
            code_info(&account.code, account.nonce, account.balance),
        );
        for (k, v) in &account.storage {
            db.insert_account_storage(*address, *k, *v).ok()?;
        }
    }
    let rich = U256::from(10u64).pow(U256::from(24));
    db.insert_account_info(SENDER, eoa(rich, 0));
    db.insert_account_info(SENDER2, eoa(rich, 5));

    let cap = if spec.is_enabled_in(SpecId::Osaka) {
        ferrite_state::transaction::TX_GAS_LIMIT_CAP
    } else {
        u64::MAX
    };
    let gas = (case.gas_limit + 100_000).min(cap);
    let mut nonces = BTreeMap::from([(SENDER, 0u64), (SENDER2, 5u64)]);
    let mut steps = Vec::new();
    let mut next = |from: Address| {
        let n = nonces.entry(from).or_default();
        *n += 1;
        *n - 1
    };
    // The case's call.
    let main = typed_tx(
        rng,
        spec,
        TxEnv {
            caller: SENDER,
            kind: TxKind::Call(TARGET),
            data: case.input.clone(),
            value: case.value,
            gas_limit: gas,
            nonce: next(SENDER),
            ..TxEnv::default()
        },
    );
    steps.push(Step::Tx(Box::new(main)));
    // A creation whose initcode is another program.
    let (initcode, _) = gen::program(rng, spec);
    steps.push(Step::Tx(Box::new(plain(TxEnv {
        caller: SENDER2,
        kind: TxKind::Create,
        data: initcode.into(),
        value: if rng.chance(1, 3) {
            U256::from(5)
        } else {
            U256::ZERO
        },
        gas_limit: 3_000_000,
        nonce: next(SENDER2),
        ..TxEnv::default()
    }))));
    // Value transfers.
    for to in [
        rng.pick(&[FRESH, EOA, CALLEE]),
        rng.pick(&[Address::with_last_byte(4), FRESH, TARGET]),
    ] {
        steps.push(Step::Tx(Box::new(plain(TxEnv {
            caller: SENDER2,
            kind: TxKind::Call(to),
            value: U256::from(rng.below(3)),
            gas_limit: 100_000,
            nonce: next(SENDER2),
            ..TxEnv::default()
        }))));
    }
    // The call again, on the state the others left.
    let len = rng.below(40) as usize;
    let data = Bytes::from(rng.bytes(len));
    let again = typed_tx(
        rng,
        spec,
        TxEnv {
            caller: SENDER,
            kind: TxKind::Call(TARGET),
            data,
            gas_limit: gas,
            nonce: next(SENDER),
            ..TxEnv::default()
        },
    );
    steps.push(Step::Tx(Box::new(again)));
    // The block-level system calls, to the real system contracts (random code as a system
    // contract would test states no chain can reach).
    if spec.is_enabled_in(SpecId::Cancun) && rng.chance(1, 3) {
        use alloy_eips::{eip2935, eip4788};
        let (to, code) = if spec.is_enabled_in(SpecId::Prague) && rng.chance(1, 2) {
            (
                eip2935::HISTORY_STORAGE_ADDRESS,
                &eip2935::HISTORY_STORAGE_CODE,
            )
        } else {
            (eip4788::BEACON_ROOTS_ADDRESS, &eip4788::BEACON_ROOTS_CODE)
        };
        db.insert_account_info(to, code_info(code, 1, U256::ZERO));
        steps.push(Step::System(
            eip4788::SYSTEM_ADDRESS,
            to,
            Bytes::from(rng.bytes(32)),
        ));
    }
    if rng.chance(1, 2) {
        let bad = invalid_tx(rng, spec, next(SENDER));
        steps.push(Step::Tx(Box::new(bad)));
    }
    Some(Scenario { db, env, steps })
}

/// A legacy transaction priced at the base fee (plus a tip of 1).
fn plain(mut tx: TxEnv) -> TxEnv {
    tx.tx_type = 0;
    tx.gas_price = 8;
    tx.chain_id = Some(1);
    tx
}

/// `tx` as one of the transaction types `spec` has.
fn typed_tx(rng: &mut Rng, spec: SpecId, tx: TxEnv) -> TxEnv {
    let mut tx = plain(tx);
    let mut types = vec![0u8];
    if spec.is_enabled_in(SpecId::Berlin) {
        types.push(1);
    }
    if spec.is_enabled_in(SpecId::London) {
        types.push(2);
    }
    if spec.is_enabled_in(SpecId::Cancun) {
        types.push(3);
    }
    if spec.is_enabled_in(SpecId::Prague) {
        types.push(4);
    }
    tx.tx_type = rng.pick(&types);
    if tx.tx_type >= 1 && rng.chance(2, 3) {
        let mut items = vec![AccessListItem {
            address: TARGET,
            storage_keys: (0..rng.below(4))
                .map(|k| B256::from(U256::from(k)))
                .collect(),
        }];
        if rng.chance(1, 2) {
            items.push(AccessListItem {
                address: CALLEE,
                storage_keys: vec![B256::ZERO],
            });
        }
        tx.access_list = AccessList(items);
    }
    if tx.tx_type >= 2 {
        tx.gas_price = rng.pick(&[7u128, 8, 20]);
        tx.gas_priority_fee = Some(rng.pick(&[0u128, 1, 5]));
    }
    if tx.tx_type == 3 {
        let n = rng.range(1, 4) as usize;
        tx.blob_hashes = (0..n)
            .map(|i| {
                let mut h = B256::repeat_byte(i as u8 + 1);
                h.0[0] = 1;
                h
            })
            .collect();
        tx.max_fee_per_blob_gas = 3;
    }
    if tx.tx_type == 4 {
        let n = rng.range(1, 4);
        tx.authorization_list = (0..n)
            .map(|i| {
                let authority = rng.pick(&[EOA, SENDER2, FRESH, CALLEE, SENDER]);
                let auth = Authorization {
                    chain_id: U256::from(rng.pick(&[0u64, 1, 1, 2])),
                    address: rng.pick(&[CALLEE, TARGET, Address::ZERO, Address::with_last_byte(1)]),
                    nonce: if authority == SENDER {
                        tx.nonce + 1
                    } else {
                        rng.pick(&[0u64, 3, 5, 6])
                    },
                };
                let recovered = if i == 2 {
                    RecoveredAuthority::Invalid
                } else {
                    RecoveredAuthority::Valid(authority)
                };
                alloy_evm::revm::context::either::Either::Right(
                    RecoveredAuthorization::new_unchecked(auth, recovered),
                )
            })
            .collect::<Vec<
                alloy_evm::revm::context::either::Either<
                    SignedAuthorization,
                    RecoveredAuthorization,
                >,
            >>();
    }
    tx
}

/// A transaction that must be rejected, from `SENDER` whose next nonce is `nonce`.
fn invalid_tx(rng: &mut Rng, spec: SpecId, nonce: u64) -> TxEnv {
    let mut tx = plain(TxEnv {
        caller: SENDER,
        kind: TxKind::Call(TARGET),
        gas_limit: 100_000,
        nonce,
        ..TxEnv::default()
    });
    match rng.below(8) {
        0 => tx.nonce += 2,
        1 => tx.nonce = nonce.saturating_sub(1).min(nonce.wrapping_sub(1)),
        2 => tx.gas_limit = 20_000,
        3 => tx.value = U256::MAX,
        4 if spec.is_enabled_in(SpecId::London) => {
            tx.tx_type = 2;
            tx.gas_price = 5;
            tx.gas_priority_fee = Some(6);
        }
        5 => tx.gas_price = 1,
        6 => tx.chain_id = Some(5),
        _ => tx.caller = TARGET,
    }
    tx
}

/// One side's answer to a step.
pub type Answer = Result<ResultAndState<HaltReason>, EVMError<Infallible>>;

/// What a comparison looks at in one account.
type AccountView = (
    U256,
    u64,
    B256,
    Bytes,
    [bool; 4],
    BTreeMap<U256, (U256, U256)>,
);

fn view(state: &EvmState) -> BTreeMap<Address, AccountView> {
    state
        .iter()
        .filter(|(_, a)| a.is_touched())
        .map(|(address, a)| {
            let code = a
                .info
                .code
                .as_ref()
                .map(|c| c.original_bytes())
                .unwrap_or_default();
            let marks = [
                a.status.contains(AccountStatus::Touched),
                a.status.contains(AccountStatus::Created),
                a.status.contains(AccountStatus::SelfDestructed),
                a.status.contains(AccountStatus::LoadedAsNotExisting),
            ];
            let slots = a
                .storage
                .iter()
                .filter(|(_, s)| s.is_changed())
                .map(|(k, s)| (*k, (s.original_value(), s.present_value())))
                .collect();
            let hash = if a.info.code_hash.is_zero() {
                revm::primitives::KECCAK_EMPTY
            } else {
                a.info.code_hash
            };
            (
                *address,
                (a.info.balance, a.info.nonce, hash, code, marks, slots),
            )
        })
        .collect()
}

/// The result without a halt's reason (compared apart, see [`Tally`]).
fn normalised(r: &ExecutionResult<HaltReason>) -> String {
    match r {
        ExecutionResult::Halt { gas, logs, .. } => format!("Halt({gas:?}, {logs:?})"),
        other => format!("{other:?}"),
    }
}

/// What a run of scenarios agreed on.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// Steps whose answers agree.
    pub steps: usize,
    /// Halts with identical effects whose reason the two sides name differently, by
    /// (ferrite's class, revm's class): revm's order of checks differs from the
    /// specification's in places (module docs).
    pub halts_named_differently: BTreeMap<(String, String), usize>,
    /// Agreeing steps by kind: transaction type or creation, system call, rejected.
    pub kinds: BTreeMap<&'static str, usize>,
}

/// The kind of a step for [`Tally::kinds`].
fn kind(step: &Step, answer: &Answer) -> &'static str {
    match (step, answer) {
        (Step::System(..), _) => "system call",
        (Step::Tx(_), Err(_)) => "rejected",
        (Step::Tx(tx), Ok(_)) if tx.kind.is_create() => "creation",
        (Step::Tx(tx), Ok(r)) => match (tx.tx_type, r.result.is_success()) {
            (0, true) => "legacy, success",
            (0, false) => "legacy, revert/halt",
            (1, _) => "EIP-2930",
            (2, _) => "EIP-1559",
            (3, _) => "EIP-4844",
            _ => "EIP-7702",
        },
    }
}

/// The first difference between two answers, described.
pub fn difference(ferrite: &Answer, revm: &Answer) -> Option<String> {
    match (ferrite, revm) {
        (Err(a), Err(b)) => {
            let (a, b) = (format!("{a:?}"), format!("{b:?}"));
            (a != b).then(|| format!("error: ferrite {a} / revm {b}"))
        }
        (Ok(a), Err(b)) => Some(format!(
            "ferrite ran ({:?}), revm rejected: {b:?}",
            a.result
        )),
        (Err(a), Ok(b)) => Some(format!(
            "ferrite rejected ({a:?}), revm ran: {:?}",
            b.result
        )),
        (Ok(a), Ok(b)) => {
            let (ra, rb) = (normalised(&a.result), normalised(&b.result));
            if ra != rb {
                return Some(format!(
                    "result: ferrite {:?}\n        revm    {:?}",
                    a.result, b.result
                ));
            }
            for (address, x) in &a.state {
                let Some(y) = b.state.get(address) else {
                    continue;
                };
                for (k, sx) in &x.storage {
                    if let Some(sy) = y.storage.get(k) {
                        if sx.original_value() != sy.original_value() {
                            return Some(format!(
                                "slot {address}[{k}] original: ferrite {} revm {}",
                                sx.original_value(),
                                sy.original_value()
                            ));
                        }
                    }
                }
            }
            let (va, vb) = (view(&a.state), view(&b.state));
            for address in va.keys().chain(vb.keys()) {
                let (x, y) = (va.get(address), vb.get(address));
                if x == y {
                    continue;
                }
                let what = match (x, y) {
                    (Some(x), Some(y)) => {
                        let names = ["balance", "nonce", "code hash", "code", "marks", "storage"];
                        let parts = |v: &AccountView| {
                            [
                                format!("{}", v.0),
                                format!("{}", v.1),
                                format!("{}", v.2),
                                format!("{}", v.3),
                                format!("{:?}", v.4),
                                format!("{:?}", v.5),
                            ]
                        };
                        let (px, py) = (parts(x), parts(y));
                        let i = (0..6).find(|&i| px[i] != py[i]).unwrap_or(0);
                        format!("{}: ferrite {}\n        revm    {}", names[i], px[i], py[i])
                    }
                    _ => format!("ferrite {x:?}\n        revm    {y:?}"),
                };
                return Some(format!("account {address} {what}"));
            }
            None
        }
    }
}

fn step<E: Evm<Error = EVMError<Infallible>, HaltReason = HaltReason, Tx = TxEnv>>(
    evm: &mut E,
    s: &Step,
) -> Answer {
    match s {
        Step::Tx(tx) => evm.transact_raw((**tx).clone()),
        Step::System(caller, to, data) => evm.transact_system_call(*caller, *to, data.clone()),
    }
}

/// Runs `scenario` on both sides, adding to `tally`; the first difference, if any.
pub fn run(
    scenario: &Scenario,
    factory: &FerriteEvmFactory,
    tally: &mut Tally,
) -> Result<(), String> {
    let mut ours = factory.create_evm(scenario.db.clone(), scenario.env.clone());
    let mut theirs = EthEvmBuilder::new(scenario.db.clone(), scenario.env.clone()).build();
    for (i, s) in scenario.steps.iter().enumerate() {
        let a = step(&mut ours, s);
        let b = step(&mut theirs, s);
        if let Some(d) = difference(&a, &b) {
            return Err(format!("step {i} ({s:?}):\n        {d}"));
        }
        tally.steps += 1;
        *tally.kinds.entry(kind(s, &a)).or_default() += 1;
        if let (Ok(a), Ok(b)) = (&a, &b) {
            if let (
                ExecutionResult::Halt { reason: x, .. },
                ExecutionResult::Halt { reason: y, .. },
            ) = (&a.result, &b.result)
            {
                let (x, y) = (halt_name(x), halt_name(y));
                if x != y {
                    *tally.halts_named_differently.entry((x, y)).or_default() += 1;
                }
            }
        }
        if let (Ok(a), Ok(b)) = (a, b) {
            ours.db_mut().commit(a.state);
            theirs.db_mut().commit(b.state);
        }
    }
    Ok(())
}
