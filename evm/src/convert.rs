//! Between revm's types and ferrite's: the fork, the environment and transaction going in,
//! the result, errors and change set coming out.

use crate::db::DbBacking;
use alloy_primitives::{Address, Bytes, U256};
use ferrite_runtime::host::KECCAK_EMPTY;
use ferrite_runtime::{Env, ExitCode};
use ferrite_state::transaction::{Authorization, Block, Tx, TxError, TxResult};
use ferrite_state::State;
use revm::bytecode::Bytecode;
use revm::context::{BlockEnv, CfgEnv, TxEnv};
use revm::context_interface::result::{
    ExecutionResult, HaltReason, InvalidHeader, InvalidTransaction, OutOfGasError, Output,
    ResultGas, SuccessReason,
};
use revm::context_interface::transaction::{AuthorizationTr, Transaction};
use revm::context_interface::{Block as _, Cfg};
use revm::primitives::hardfork::SpecId as RevmSpec;
use revm::primitives::{Log as RevmLog, LogData, TxKind};
use revm::state::{Account, AccountInfo, AccountStatus, EvmState, EvmStorageSlot, TransactionId};
use revm::Database;

/// ferrite's fork for revm's, `None` for one ferrite does not implement (Amsterdam).
pub fn spec(spec: RevmSpec) -> Option<ferrite::SpecId> {
    use ferrite::SpecId as F;
    Some(match spec {
        RevmSpec::FRONTIER => F::Frontier,
        RevmSpec::HOMESTEAD => F::Homestead,
        RevmSpec::TANGERINE => F::Tangerine,
        RevmSpec::SPURIOUS_DRAGON => F::SpuriousDragon,
        RevmSpec::BYZANTIUM => F::Byzantium,
        RevmSpec::PETERSBURG => F::Petersburg,
        RevmSpec::ISTANBUL => F::Istanbul,
        RevmSpec::BERLIN => F::Berlin,
        RevmSpec::LONDON => F::London,
        RevmSpec::MERGE => F::Merge,
        RevmSpec::SHANGHAI => F::Shanghai,
        RevmSpec::CANCUN => F::Cancun,
        RevmSpec::PRAGUE => F::Prague,
        RevmSpec::OSAKA => F::Osaka,
        RevmSpec::AMSTERDAM => return None,
    })
}

/// Why ferrite cannot run under `cfg` itself (the adapter then runs revm's EVM), or `None`.
///
/// Every switch that changes consensus behaviour must be at its default: ferrite implements
/// Ethereum's rules, not revm's knobs (disabled checks, other code-size limits, other gas
/// parameters).
pub fn unsupported(cfg: &CfgEnv) -> Option<&'static str> {
    if spec(cfg.spec).is_none() {
        return Some("fork not implemented by ferrite");
    }
    if cfg.gas_params != revm::context_interface::cfg::GasParams::new_spec(cfg.spec) {
        return Some("custom gas parameters");
    }
    if cfg.limit_contract_code_size.is_some() || cfg.limit_contract_initcode_size.is_some() {
        return Some("custom contract size limits");
    }
    if cfg.tx_gas_limit_cap.is_some_and(|c| {
        c != if cfg.spec.is_enabled_in(RevmSpec::OSAKA) {
            ferrite_state::transaction::TX_GAS_LIMIT_CAP
        } else {
            u64::MAX
        }
    }) {
        return Some("custom transaction gas cap");
    }
    if cfg.is_balance_check_disabled()
        || cfg.is_nonce_check_disabled()
        || cfg.is_base_fee_check_disabled()
        || cfg.is_block_gas_limit_disabled()
        || cfg.is_eip3607_disabled()
        || cfg.is_eip3541_disabled()
        || cfg.is_eip7623_disabled()
        || cfg.is_fee_charge_disabled()
        || cfg.is_priority_fee_check_disabled()
    {
        return Some("a validation or fee check disabled");
    }
    if cfg.is_amsterdam_eip8037_enabled() {
        return Some("EIP-8037 state gas");
    }
    None
}

/// The header checks revm makes before any transaction check.
pub fn check_block(spec: RevmSpec, block: &BlockEnv) -> Result<(), InvalidHeader> {
    if spec.is_enabled_in(RevmSpec::MERGE) && block.prevrandao.is_none() {
        return Err(InvalidHeader::PrevrandaoNotSet);
    }
    if spec.is_enabled_in(RevmSpec::CANCUN) && block.blob_excess_gas_and_price.is_none() {
        return Err(InvalidHeader::ExcessBlobGasNotSet);
    }
    Ok(())
}

/// The execution environment of `block` under `cfg` (the transaction fields are set by the
/// transaction itself).
pub fn env(cfg: &CfgEnv, block: &BlockEnv) -> Env {
    let merged = cfg.spec.is_enabled_in(RevmSpec::MERGE);
    Env {
        chain_id: cfg.chain_id,
        coinbase: block.beneficiary,
        number: block.number,
        timestamp: block.timestamp,
        gas_limit: U256::from(block.gas_limit),
        basefee: U256::from(block.basefee),
        prevrandao: match block.prevrandao {
            Some(r) if merged => r.into(),
            _ => block.difficulty,
        },
        blob_basefee: U256::from(block.blob_gasprice().unwrap_or_default()),
        origin: Address::ZERO,
        gas_price: U256::ZERO,
        blob_hashes: Vec::new(),
    }
}

/// The block limits a transaction is validated against.
pub fn block(cfg: &CfgEnv, block: &BlockEnv) -> Block {
    Block {
        gas_limit: block.gas_limit,
        basefee: U256::from(block.basefee),
        blob_basefee: U256::from(block.blob_gasprice().unwrap_or_default()),
        // revm checks only the configured per-transaction count (none when unset); ferrite
        // adds Osaka's fixed cap of six (EIP-7594) in any case.
        max_blobs: cfg.max_blobs_per_tx.unwrap_or(u64::MAX),
        chain_id: cfg.chain_id,
    }
}

/// The checks revm makes on a transaction that ferrite's [`Tx`] has no field for.
pub fn check_tx(cfg: &CfgEnv, tx: &TxEnv) -> Result<(), InvalidTransaction> {
    if cfg.tx_chain_id_check {
        match tx.chain_id {
            Some(id) if id != cfg.chain_id => return Err(InvalidTransaction::InvalidChainId),
            None if tx.tx_type != 0 => return Err(InvalidTransaction::MissingChainId),
            _ => {}
        }
    }
    if tx.tx_type > 4 {
        return Err(InvalidTransaction::Str(
            "transaction type not supported".into(),
        ));
    }
    Ok(())
}

/// ferrite's transaction for revm's (EIP-7702 authorities recovered here).
pub fn tx(tx: &TxEnv) -> Tx {
    let dynamic = tx.tx_type >= 2;
    Tx {
        tx_type: tx.tx_type,
        caller: tx.caller,
        to: match tx.kind {
            TxKind::Call(to) => Some(to),
            TxKind::Create => None,
        },
        value: tx.value,
        data: tx.data.clone(),
        gas_limit: tx.gas_limit,
        nonce: tx.nonce,
        gas_price: U256::from(tx.gas_price),
        max_fee_per_gas: if dynamic {
            U256::from(tx.gas_price)
        } else {
            U256::ZERO
        },
        max_priority_fee_per_gas: U256::from(tx.gas_priority_fee.unwrap_or_default()),
        access_list: tx
            .access_list
            .0
            .iter()
            .map(|item| (item.address, item.storage_keys.clone()))
            .collect(),
        blob_hashes: tx.blob_hashes.clone(),
        max_fee_per_blob_gas: U256::from(tx.max_fee_per_blob_gas),
        authorizations: tx
            .authorization_list()
            .map(|a| Authorization {
                chain_id: a.chain_id(),
                address: a.address(),
                nonce: a.nonce(),
                authority: a.authority(),
            })
            .collect(),
    }
}

/// The numbers revm's transaction errors carry.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Intrinsic gas and the EIP-7623 floor of the transaction.
    pub intrinsic: (u64, u64),
    /// The transaction gas cap (EIP-7825).
    pub cap: u64,
    /// The blob count allowed per transaction.
    pub max_blobs: usize,
}

/// revm's transaction error for ferrite's, with the fields revm fills in.
pub fn tx_error<DB: Database>(
    e: TxError,
    tx: &Tx,
    limits: &Limits,
    state: &mut State<DbBacking<'_, DB>>,
) -> InvalidTransaction {
    use InvalidTransaction as I;
    let (nonce, balance, has_code) = state
        .account(tx.caller)
        .map(|a| {
            let delegated = a.code.len() == 23 && a.code.starts_with(&[0xef, 0x01, 0x00]);
            (a.nonce, a.balance, !a.code.is_empty() && !delegated)
        })
        .unwrap_or_default();
    let sender = (nonce, balance);
    // revm checks the sender's code (EIP-3607) before its nonce; ferrite the other way round.
    // Either way the transaction is invalid; the error is revm's.
    if has_code
        && matches!(
            e,
            TxError::NonceTooHigh | TxError::NonceTooLow | TxError::NonceIsMax
        )
    {
        return I::RejectCallerWithCode;
    }
    match e {
        TxError::GasAllowanceExceeded => I::CallerGasLimitMoreThanBlock,
        TxError::GasLimitExceedsMaximum => I::TxGasLimitGreaterThanCap {
            gas_limit: tx.gas_limit,
            cap: limits.cap,
        },
        TxError::InitcodeSizeExceeded => I::CreateInitCodeSizeLimit,
        TxError::InsufficientAccountFunds => {
            let price = if tx.tx_type >= 2 {
                tx.max_fee_per_gas
            } else {
                tx.gas_price
            };
            let blob =
                U256::from(ferrite_state::transaction::GAS_PER_BLOB * tx.blob_hashes.len() as u64);
            let fee = U256::from(tx.gas_limit)
                .checked_mul(price)
                .and_then(|c| c.checked_add(tx.value))
                .and_then(|c| c.checked_add(blob.checked_mul(tx.max_fee_per_blob_gas)?));
            match fee {
                Some(fee) => I::LackOfFundForMaxFee {
                    fee: Box::new(fee),
                    balance: Box::new(sender.1),
                },
                None => I::OverflowPaymentInTransaction,
            }
        }
        TxError::InsufficientMaxFeePerBlobGas => I::BlobGasPriceGreaterThanMax {
            block_blob_gas_price: state.env.blob_basefee.saturating_to(),
            tx_max_fee_per_blob_gas: tx.max_fee_per_blob_gas.saturating_to(),
        },
        TxError::InsufficientMaxFeePerGas => I::GasPriceLessThanBasefee,
        TxError::IntrinsicGasBelowFloorGasCost => I::GasFloorMoreThanGasLimit {
            gas_floor: limits.intrinsic.1,
            gas_limit: tx.gas_limit,
        },
        TxError::IntrinsicGasTooLow => I::CallGasCostMoreThanGasLimit {
            initial_gas: limits.intrinsic.0,
            gas_limit: tx.gas_limit,
        },
        TxError::NonceIsMax => I::NonceOverflowInTransaction,
        TxError::NonceTooHigh => I::NonceTooHigh {
            tx: tx.nonce,
            state: sender.0,
        },
        TxError::NonceTooLow => I::NonceTooLow {
            tx: tx.nonce,
            state: sender.0,
        },
        TxError::PriorityGreaterThanMaxFeePerGas => I::PriorityFeeGreaterThanMaxFee,
        TxError::SenderNotEoa => I::RejectCallerWithCode,
        TxError::Type3TxBlobCountExceeded => I::TooManyBlobs {
            max: limits.max_blobs,
            have: tx.blob_hashes.len(),
        },
        TxError::Type3TxContractCreation => I::BlobCreateTransaction,
        TxError::Type3TxInvalidBlobVersionedHash => I::BlobVersionNotSupported,
        TxError::Type3TxZeroBlobs => I::EmptyBlobs,
        TxError::Type4EmptyAuthorizationList => I::EmptyAuthorizationList,
        TxError::Type4TxContractCreation => I::Str("EIP-7702 transaction cannot create".into()),
        TxError::TypeNotSupported => match tx.tx_type {
            1 => I::Eip2930NotSupported,
            2 => I::Eip1559NotSupported,
            3 => I::Eip4844NotSupported,
            4 => I::Eip7702NotSupported,
            _ => I::Str("transaction type not supported".into()),
        },
        _ => I::Str(e.name().into()),
    }
}

/// revm's halt reason for a frame that ended exceptionally.
pub fn halt(exit: ExitCode) -> HaltReason {
    match exit {
        ExitCode::OutOfGas => HaltReason::OutOfGas(OutOfGasError::Basic),
        ExitCode::InvalidOperand => HaltReason::OutOfGas(OutOfGasError::InvalidOperand),
        ExitCode::InvalidOpcode => HaltReason::OpcodeNotFound,
        ExitCode::InvalidJump => HaltReason::InvalidJump,
        ExitCode::StackUnderflow => HaltReason::StackUnderflow,
        ExitCode::StackOverflow => HaltReason::StackOverflow,
        ExitCode::StaticCallViolation => HaltReason::StateChangeDuringStaticCall,
        ExitCode::OutOfOffset => HaltReason::OutOfOffset,
        ExitCode::CreateCollision => HaltReason::CreateCollision,
        ExitCode::CreateContractSizeLimit => HaltReason::CreateContractSizeLimit,
        ExitCode::CreateContractStartingWithEF => HaltReason::CreateContractStartingWithEF,
        ExitCode::CreateInitCodeSizeLimit => HaltReason::CreateInitCodeSizeLimit,
        ExitCode::PrecompileError => HaltReason::PrecompileError,
        ExitCode::NonceOverflow => HaltReason::NonceOverflow,
        // Not an end of a transaction's top frame (the driver resolves them); say so rather
        // than invent a reason.
        ExitCode::Continue
        | ExitCode::Stop
        | ExitCode::Return
        | ExitCode::SelfDestruct
        | ExitCode::Revert
        | ExitCode::Suspend
        | ExitCode::Interpret => HaltReason::PrecompileErrorWithContext(format!(
            "ferrite: unexpected top-level exit {exit:?}"
        )),
    }
}

/// revm's execution result for ferrite's. A successful creation reports `Return` whatever ended
/// the initcode, and its output is the deployed code (`deployed`), as revm's do.
pub fn result(
    r: TxResult,
    is_create: bool,
    deployed: Option<Bytes>,
) -> ExecutionResult<HaltReason> {
    let gas = ResultGas::default()
        .with_total_gas_spent(r.gas_spent)
        .with_refunded(r.gas_refunded)
        .with_floor_gas(r.gas_floor);
    let logs = r
        .logs
        .into_iter()
        .map(|l| RevmLog {
            address: l.address,
            data: LogData::new_unchecked(l.topics, l.data),
        })
        .collect();
    match r.exit {
        ExitCode::Stop | ExitCode::Return | ExitCode::SelfDestruct => ExecutionResult::Success {
            reason: match r.exit {
                _ if is_create => SuccessReason::Return,
                ExitCode::Stop => SuccessReason::Stop,
                ExitCode::Return => SuccessReason::Return,
                _ => SuccessReason::SelfDestruct,
            },
            gas,
            logs,
            output: if is_create {
                Output::Create(deployed.unwrap_or_default(), r.created)
            } else {
                Output::Call(r.output)
            },
        },
        ExitCode::Revert => ExecutionResult::Revert {
            gas,
            logs: Vec::new(),
            output: r.output,
        },
        exit => ExecutionResult::Halt {
            reason: halt(exit),
            gas,
            logs: Vec::new(),
        },
    }
}

/// The change set of the transaction `state` has just run (not finalized): every account the
/// transaction touched (EIP-161 sense, which every write implies), with its info now, the
/// storage slots it read or wrote (value at the start and now), and revm's status marks (with
/// revm's pre-EIP-161 normalisation of touched empty accounts). Accounts only read are left out:
/// a commit ignores them.
pub fn change_set<DB: Database>(state: &State<DbBacking<'_, DB>>) -> EvmState {
    let tid = TransactionId::ZERO;
    let mut out = EvmState::with_capacity_and_hasher(state.touched().count(), Default::default());
    for address in state.touched() {
        let mut account = Account::default();
        account.transaction_id = tid;
        account.status = AccountStatus::Touched;
        if let Some(a) = state.accounts.get(address) {
            let code = (a.code_hash != KECCAK_EMPTY).then(|| {
                state
                    .backing
                    .bytecode(&a.code_hash)
                    .cloned()
                    .unwrap_or_else(|| Bytecode::new_raw(a.code.clone()))
            });
            account.info = AccountInfo {
                balance: a.balance,
                nonce: a.nonce,
                code_hash: a.code_hash,
                code,
                ..AccountInfo::default()
            };
        }
        if state.existed_in_backing(address) == Some(false) {
            account.status |= AccountStatus::LoadedAsNotExisting;
        }
        if state.created_in_tx(address) {
            account.status |= AccountStatus::Created | AccountStatus::CreatedLocal;
        }
        if state.destroyed_in_tx(address) {
            account.status |= AccountStatus::SelfDestructed | AccountStatus::SelfDestructedLocal;
        }
        out.insert(*address, account);
    }
    if !state.spec.is_enabled_in(ferrite::SpecId::SpuriousDragon) {
        // Before EIP-161 a touched empty account stays in the state, but a revm database's
        // commit removes every touched empty account; revm's journal therefore hands such
        // accounts over marked to survive it (its `finalize`): a new one as created, an
        // existing one as untouched. The same here.
        for account in out.values_mut() {
            if account.is_touched()
                && account.is_empty()
                && !account.is_selfdestructed()
                && !account.is_created()
            {
                if account.is_loaded_as_not_existing() {
                    account.mark_created();
                } else {
                    account.unmark_touch();
                }
            }
        }
    }
    for (address, key, original, present) in state.tx_slots() {
        if let Some(account) = out.get_mut(&address) {
            let slot = if original == present {
                EvmStorageSlot::new(original, tid)
            } else {
                EvmStorageSlot::new_changed(original, present, tid)
            };
            account.storage.insert(key, slot);
        }
    }
    out
}
