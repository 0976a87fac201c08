//! Transactions on the in-memory state: validation, intrinsic gas, fees, EIP-7702 authorizations,
//! execution through the frame driver, refunds and coinbase payment.
//!
//! The rules follow the Yellow Paper and the EIPs that changed them, gated by fork: EIP-2/EIP-2028
//! (intrinsic costs), EIP-2930 (access lists), EIP-1559 (fees), EIP-3529 (refund cap), EIP-3607
//! (sender must be an EOA), EIP-3860 (initcode), EIP-4844 (blobs), EIP-7702 (set code),
//! EIP-7623 (calldata floor), EIP-7825 (Osaka gas cap). An invalid transaction is returned as
//! [`TxError`] and changes nothing.

use crate::state::{Backing, State};
use crate::Mode;
use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use ferrite::frame::{self, ProgramSource};
use ferrite::interpreter::{delegation_target, Message, MessageKind, NoTracer, Tracer};
use ferrite_runtime::gas;
use ferrite_runtime::{ExitCode, Host, Log, SpecId};

/// An EIP-7702 authorization tuple with its recovered signer.
#[derive(Clone, Debug)]
pub struct Authorization {
    /// Chain id (0 = any chain).
    pub chain_id: U256,
    /// Delegate address (zero clears the delegation).
    pub address: Address,
    /// Authority nonce the tuple is valid for.
    pub nonce: u64,
    /// Recovered signer, `None` when the signature is invalid.
    pub authority: Option<Address>,
}

/// A transaction, already decoded.
#[derive(Clone, Debug, Default)]
pub struct Tx {
    /// EIP-2718 type: 0 legacy, 1 access list, 2 dynamic fee, 3 blob, 4 set code.
    pub tx_type: u8,
    /// Sender.
    pub caller: Address,
    /// Recipient; `None` creates a contract.
    pub to: Option<Address>,
    /// Wei transferred.
    pub value: U256,
    /// Calldata or initcode.
    pub data: Bytes,
    /// Gas limit.
    pub gas_limit: u64,
    /// Sender nonce.
    pub nonce: u64,
    /// Legacy / EIP-2930 gas price.
    pub gas_price: U256,
    /// EIP-1559 fee cap (types 2–4).
    pub max_fee_per_gas: U256,
    /// EIP-1559 tip cap (types 2–4).
    pub max_priority_fee_per_gas: U256,
    /// EIP-2930 access list.
    pub access_list: Vec<(Address, Vec<B256>)>,
    /// EIP-4844 blob versioned hashes.
    pub blob_hashes: Vec<B256>,
    /// EIP-4844 blob fee cap.
    pub max_fee_per_blob_gas: U256,
    /// EIP-7702 authorizations.
    pub authorizations: Vec<Authorization>,
}

/// Block parameters a transaction is validated against.
#[derive(Clone, Debug)]
pub struct Block {
    /// Block gas limit.
    pub gas_limit: u64,
    /// Base fee (London+).
    pub basefee: U256,
    /// Blob base fee (Cancun+).
    pub blob_basefee: U256,
    /// Maximum blobs per block.
    pub max_blobs: u64,
    /// Chain id.
    pub chain_id: u64,
}

/// Why a transaction is invalid: the execution specs' transaction exceptions (EEST names them
/// `TransactionException.<NAME>`; [`TxError::name`] gives `<NAME>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TxError {
    /// The gas limit exceeds the block's gas limit.
    GasAllowanceExceeded,
    /// EIP-7825: the gas limit exceeds the per-transaction cap.
    GasLimitExceedsMaximum,
    /// EIP-3860: initcode larger than the limit.
    InitcodeSizeExceeded,
    /// The sender cannot pay gas limit × price + value (+ blob fees).
    InsufficientAccountFunds,
    /// EIP-4844: the blob fee cap is below the blob base fee.
    InsufficientMaxFeePerBlobGas,
    /// The fee cap (or gas price) is below the block's base fee.
    InsufficientMaxFeePerGas,
    /// EIP-7623: the gas limit is below the calldata floor.
    IntrinsicGasBelowFloorGasCost,
    /// The gas limit does not cover the intrinsic gas.
    IntrinsicGasTooLow,
    /// EIP-2681: the sender's nonce is 2^64 − 1.
    NonceIsMax,
    /// The nonce is above the sender's.
    NonceTooHigh,
    /// The nonce is below the sender's.
    NonceTooLow,
    /// EIP-1559: the priority fee exceeds the fee cap.
    PriorityGreaterThanMaxFeePerGas,
    /// EIP-3607: the sender has code (other than an EIP-7702 delegation).
    SenderNotEoa,
    /// EIP-4844/7594: more blobs than the block (or the transaction cap) allows.
    Type3TxBlobCountExceeded,
    /// EIP-4844: a blob transaction cannot create a contract.
    Type3TxContractCreation,
    /// EIP-4844: a versioned hash whose version is not KZG.
    Type3TxInvalidBlobVersionedHash,
    /// EIP-4844: a blob transaction without blobs.
    Type3TxZeroBlobs,
    /// EIP-7702: a set-code transaction without authorizations.
    Type4EmptyAuthorizationList,
    /// EIP-7702: a set-code transaction cannot create a contract.
    Type4TxContractCreation,
    /// The transaction type is unknown or not enabled in the fork.
    TypeNotSupported,
}

impl TxError {
    /// The exception's name in the execution specs, e.g. `NONCE_TOO_LOW`.
    pub fn name(self) -> &'static str {
        match self {
            TxError::GasAllowanceExceeded => "GAS_ALLOWANCE_EXCEEDED",
            TxError::GasLimitExceedsMaximum => "GAS_LIMIT_EXCEEDS_MAXIMUM",
            TxError::InitcodeSizeExceeded => "INITCODE_SIZE_EXCEEDED",
            TxError::InsufficientAccountFunds => "INSUFFICIENT_ACCOUNT_FUNDS",
            TxError::InsufficientMaxFeePerBlobGas => "INSUFFICIENT_MAX_FEE_PER_BLOB_GAS",
            TxError::InsufficientMaxFeePerGas => "INSUFFICIENT_MAX_FEE_PER_GAS",
            TxError::IntrinsicGasBelowFloorGasCost => "INTRINSIC_GAS_BELOW_FLOOR_GAS_COST",
            TxError::IntrinsicGasTooLow => "INTRINSIC_GAS_TOO_LOW",
            TxError::NonceIsMax => "NONCE_IS_MAX",
            TxError::NonceTooHigh => "NONCE_TOO_HIGH",
            TxError::NonceTooLow => "NONCE_TOO_LOW",
            TxError::PriorityGreaterThanMaxFeePerGas => "PRIORITY_GREATER_THAN_MAX_FEE_PER_GAS",
            TxError::SenderNotEoa => "SENDER_NOT_EOA",
            TxError::Type3TxBlobCountExceeded => "TYPE_3_TX_BLOB_COUNT_EXCEEDED",
            TxError::Type3TxContractCreation => "TYPE_3_TX_CONTRACT_CREATION",
            TxError::Type3TxInvalidBlobVersionedHash => "TYPE_3_TX_INVALID_BLOB_VERSIONED_HASH",
            TxError::Type3TxZeroBlobs => "TYPE_3_TX_ZERO_BLOBS",
            TxError::Type4EmptyAuthorizationList => "TYPE_4_EMPTY_AUTHORIZATION_LIST",
            TxError::Type4TxContractCreation => "TYPE_4_TX_CONTRACT_CREATION",
            TxError::TypeNotSupported => "TYPE_NOT_SUPPORTED",
        }
    }
}

impl std::fmt::Display for TxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for TxError {}

/// Outcome of a valid transaction.
#[derive(Clone, Debug)]
pub struct TxResult {
    /// How the top frame ended.
    pub exit: ExitCode,
    /// Gas charged to the sender (after refund and floor).
    pub gas_used: u64,
    /// Gas spent before the refund (intrinsic gas included).
    pub gas_spent: u64,
    /// The refund granted (EIP-3529-capped; EIP-7702 authority refunds included).
    pub gas_refunded: u64,
    /// The EIP-7623 calldata floor (0 before Prague).
    pub gas_floor: u64,
    /// Output of the top frame.
    pub output: Bytes,
    /// The created contract of a successful creating transaction.
    pub created: Option<Address>,
    /// Logs (empty unless successful).
    pub logs: Vec<Log>,
}

/// EIP-4844 blob gas per blob.
pub const GAS_PER_BLOB: u64 = 1 << 17;
/// EIP-4844 blob hash version byte.
pub const VERSIONED_HASH_VERSION_KZG: u8 = 1;
/// EIP-7825 transaction gas limit cap (Osaka).
pub const TX_GAS_LIMIT_CAP: u64 = 1 << 24;
/// EIP-7702 cost per authorization (charged as intrinsic gas).
pub const PER_EMPTY_ACCOUNT_COST: u64 = 25_000;
/// EIP-7702 refund when the authority already exists.
pub const PER_AUTH_BASE_COST: u64 = 12_500;
/// EIP-7623 cost per calldata token in the floor.
pub const TOTAL_COST_FLOOR_PER_TOKEN: u64 = 10;

/// EIP-4844 `fake_exponential(factor, numerator, denominator)`.
pub fn fake_exponential(factor: u64, numerator: u64, denominator: u64) -> U256 {
    if denominator == 0 {
        return U256::ZERO;
    }
    let (factor, numerator, denominator) = (
        U256::from(factor),
        U256::from(numerator),
        U256::from(denominator),
    );
    let mut i = U256::from(1);
    let mut output = U256::ZERO;
    let mut acc = factor * denominator;
    while !acc.is_zero() {
        output += acc;
        acc = acc * numerator / (denominator * i);
        i += U256::from(1);
    }
    output / denominator
}

/// Calldata tokens (EIP-7623): zero bytes count 1, others 4.
fn calldata_tokens(data: &[u8]) -> u64 {
    let zeros = data.iter().filter(|b| **b == 0).count() as u64;
    zeros + (data.len() as u64 - zeros) * 4
}

/// Intrinsic gas and the EIP-7623 floor of `tx` in `spec`.
pub fn intrinsic_gas(spec: SpecId, tx: &Tx) -> (u64, u64) {
    let zeros = tx.data.iter().filter(|b| **b == 0).count() as u64;
    let nonzero = tx.data.len() as u64 - zeros;
    let nonzero_cost = if spec.is_enabled_in(SpecId::Istanbul) {
        16
    } else {
        68
    };
    let mut g = 21_000 + zeros * 4 + nonzero * nonzero_cost;
    if tx.to.is_none() {
        if spec.is_enabled_in(SpecId::Homestead) {
            g += 32_000;
        }
        if spec.is_enabled_in(SpecId::Shanghai) {
            g += gas::per_word(gas::INITCODE_WORD, tx.data.len() as u64);
        }
    }
    for (_, keys) in &tx.access_list {
        g += gas::ACCESS_LIST_ADDRESS + gas::ACCESS_LIST_STORAGE_KEY * keys.len() as u64;
    }
    g += PER_EMPTY_ACCOUNT_COST * tx.authorizations.len() as u64;
    let floor = if spec.is_enabled_in(SpecId::Prague) {
        21_000 + TOTAL_COST_FLOOR_PER_TOKEN * calldata_tokens(&tx.data)
    } else {
        0
    };
    (g, floor)
}

/// EIP-7594: from Osaka a transaction carries at most six blobs, whatever the block allows.
pub const MAX_BLOBS_PER_TX_OSAKA: u64 = 6;

/// The most blobs one transaction may carry in `block` under `spec`.
pub fn max_blobs_per_tx(spec: SpecId, block: &Block) -> u64 {
    if spec.is_enabled_in(SpecId::Osaka) {
        block.max_blobs.min(MAX_BLOBS_PER_TX_OSAKA)
    } else {
        block.max_blobs
    }
}

/// Validates `tx` against the block and the sender's account; returns (intrinsic, floor).
fn validate<B: Backing>(
    state: &mut State<B>,
    block: &Block,
    tx: &Tx,
) -> Result<(u64, u64), TxError> {
    let spec = state.spec;
    let needed = match tx.tx_type {
        0 => SpecId::Frontier,
        1 => SpecId::Berlin,
        2 => SpecId::London,
        3 => SpecId::Cancun,
        4 => SpecId::Prague,
        _ => return Err(TxError::TypeNotSupported),
    };
    if !spec.is_enabled_in(needed) {
        return Err(TxError::TypeNotSupported);
    }
    if tx.tx_type >= 2 {
        if tx.max_priority_fee_per_gas > tx.max_fee_per_gas {
            return Err(TxError::PriorityGreaterThanMaxFeePerGas);
        }
        if tx.max_fee_per_gas < block.basefee {
            return Err(TxError::InsufficientMaxFeePerGas);
        }
    } else if spec.is_enabled_in(SpecId::London) && tx.gas_price < block.basefee {
        return Err(TxError::InsufficientMaxFeePerGas);
    }
    if tx.tx_type == 3 {
        if tx.to.is_none() {
            return Err(TxError::Type3TxContractCreation);
        }
        if tx.blob_hashes.is_empty() {
            return Err(TxError::Type3TxZeroBlobs);
        }
        if tx
            .blob_hashes
            .iter()
            .any(|h| h[0] != VERSIONED_HASH_VERSION_KZG)
        {
            return Err(TxError::Type3TxInvalidBlobVersionedHash);
        }
        let max = max_blobs_per_tx(spec, block);
        if tx.blob_hashes.len() as u64 > max {
            return Err(TxError::Type3TxBlobCountExceeded);
        }
        if tx.max_fee_per_blob_gas < block.blob_basefee {
            return Err(TxError::InsufficientMaxFeePerBlobGas);
        }
    }
    if tx.tx_type == 4 {
        if tx.to.is_none() {
            return Err(TxError::Type4TxContractCreation);
        }
        if tx.authorizations.is_empty() {
            return Err(TxError::Type4EmptyAuthorizationList);
        }
    }
    if tx.gas_limit > block.gas_limit {
        return Err(TxError::GasAllowanceExceeded);
    }
    if spec.is_enabled_in(SpecId::Osaka) && tx.gas_limit > TX_GAS_LIMIT_CAP {
        return Err(TxError::GasLimitExceedsMaximum);
    }
    if tx.to.is_none()
        && spec.is_enabled_in(SpecId::Shanghai)
        && tx.data.len() > gas::MAX_INITCODE_SIZE
    {
        return Err(TxError::InitcodeSizeExceeded);
    }
    let (intrinsic, floor) = intrinsic_gas(spec, tx);
    if tx.gas_limit < intrinsic {
        return Err(TxError::IntrinsicGasTooLow);
    }
    if tx.gas_limit < floor {
        return Err(TxError::IntrinsicGasBelowFloorGasCost);
    }
    let sender = state.account(tx.caller);
    let (nonce, balance, code) = sender
        .map(|a| (a.nonce, a.balance, a.code.clone()))
        .unwrap_or_default();
    if nonce == u64::MAX {
        return Err(TxError::NonceIsMax);
    }
    if tx.nonce != nonce {
        return Err(if tx.nonce > nonce {
            TxError::NonceTooHigh
        } else {
            TxError::NonceTooLow
        });
    }
    // EIP-3607 on every fork: clients apply it retroactively (no sender on mainnet ever had code,
    // and a collision would need a 2^80 search), and the multi-fork tests expect it from
    // Frontier. An EIP-7702 delegation is not code for this purpose, from Prague on.
    let delegated = spec.is_enabled_in(SpecId::Prague) && delegation_target(&code).is_some();
    if !code.is_empty() && !delegated {
        return Err(TxError::SenderNotEoa);
    }
    let price = if tx.tx_type >= 2 {
        tx.max_fee_per_gas
    } else {
        tx.gas_price
    };
    let blob_gas = GAS_PER_BLOB * tx.blob_hashes.len() as u64;
    let max_cost = U256::from(tx.gas_limit)
        .checked_mul(price)
        .and_then(|c| c.checked_add(tx.value))
        .and_then(|c| c.checked_add(U256::from(blob_gas).checked_mul(tx.max_fee_per_blob_gas)?));
    match max_cost {
        Some(c) if c <= balance => {}
        _ => return Err(TxError::InsufficientAccountFunds),
    }
    Ok((intrinsic, floor))
}

/// Applies the EIP-7702 authorizations; returns the refund for already-existing authorities.
fn apply_authorizations<B: Backing>(state: &mut State<B>, block: &Block, tx: &Tx) -> u64 {
    let mut refund = 0;
    for auth in &tx.authorizations {
        if !auth.chain_id.is_zero() && auth.chain_id != U256::from(block.chain_id) {
            continue;
        }
        if auth.nonce == u64::MAX {
            continue;
        }
        let Some(authority) = auth.authority else {
            continue;
        };
        state.warm_account(authority);
        let (exists, code, nonce) = match state.account(authority) {
            Some(a) => (true, a.code.clone(), a.nonce),
            None => (false, Bytes::new(), 0),
        };
        if !code.is_empty() && delegation_target(&code).is_none() {
            continue;
        }
        if nonce != auth.nonce {
            continue;
        }
        if exists {
            refund += PER_EMPTY_ACCOUNT_COST - PER_AUTH_BASE_COST;
        }
        let designator = if auth.address.is_zero() {
            Bytes::new()
        } else {
            let mut c = ferrite::interpreter::DELEGATION_PREFIX.to_vec();
            c.extend_from_slice(auth.address.as_slice());
            Bytes::from(c)
        };
        state.set_code(authority, designator);
        state.bump_nonce(authority);
        state.touch(authority);
    }
    refund
}

/// Validates and executes `tx`, committing its effects to `state`.
pub fn execute<B: Backing>(
    state: &mut State<B>,
    block: &Block,
    tx: &Tx,
) -> Result<TxResult, TxError> {
    execute_traced(state, block, tx, &mut NoTracer, &Mode::Interp)
}

/// [`execute`] with a tracer.
pub fn execute_traced<B: Backing, T: Tracer>(
    state: &mut State<B>,
    block: &Block,
    tx: &Tx,
    tracer: &mut T,
    source: &dyn ProgramSource,
) -> Result<TxResult, TxError> {
    let r = execute_pending(state, block, tx, tracer, source)?;
    state.finalize_tx();
    Ok(r)
}

/// [`execute_traced`] short of [`State::finalize_tx`]: the state still holds the transaction's
/// marks (touched, created and destroyed accounts, slot records), for a caller that reads the
/// change set before finalizing it (or instead, as the revm adapter does). An invalid
/// transaction changes nothing.
pub fn execute_pending<B: Backing, T: Tracer>(
    state: &mut State<B>,
    block: &Block,
    tx: &Tx,
    tracer: &mut T,
    source: &dyn ProgramSource,
) -> Result<TxResult, TxError> {
    let spec = state.spec;
    let (intrinsic, floor) = validate(state, block, tx)?;
    state.begin_tx();

    let effective_price = if tx.tx_type >= 2 {
        tx.max_fee_per_gas
            .min(block.basefee + tx.max_priority_fee_per_gas)
    } else {
        tx.gas_price
    };
    state.env.gas_price = effective_price;
    state.env.origin = tx.caller;
    state.env.blob_hashes = tx.blob_hashes.clone();
    let blob_fee = U256::from(GAS_PER_BLOB * tx.blob_hashes.len() as u64) * block.blob_basefee;
    let upfront = U256::from(tx.gas_limit) * effective_price + blob_fee;
    // The sender exists: it paid for the validation above. Touched (harmless: its nonce moves,
    // so it is not empty after the transaction) so that change sets list it.
    if let Some(acc) = state.accounts.get_mut(&tx.caller) {
        acc.balance -= upfront;
    }
    state.touch(tx.caller);

    // EIP-2929 / EIP-2930 / EIP-3651 warm sets.
    state.warm_account(tx.caller);
    if let Some(to) = tx.to {
        state.warm_account(to);
    }
    if spec.is_enabled_in(SpecId::Shanghai) {
        state.warm_account(block_coinbase(state));
    }
    if spec.is_enabled_in(SpecId::Berlin) {
        for a in frame::precompiles(spec).addresses() {
            state.warm_account(a);
        }
    }
    for (a, keys) in &tx.access_list {
        state.warm_account(*a);
        for k in keys {
            state.warm_slot(*a, U256::from_be_bytes(k.0));
        }
    }
    if tx.to.is_some() {
        // The sender's nonce moves before authorizations are applied (EIP-7702 self-sponsoring).
        state.bump_nonce(tx.caller);
    }
    let auth_refund = apply_authorizations(state, block, tx);
    if let Some(to) = tx.to {
        // EIP-7702: a delegated target's delegate is warm too.
        if let Some(d) = state.account(to).and_then(|a| delegation_target(&a.code)) {
            state.warm_account(d);
        }
    }

    let gas_limit = tx.gas_limit - intrinsic;
    let msg = match tx.to {
        Some(to) => Message::call(tx.caller, to, tx.value, tx.data.clone(), gas_limit),
        None => Message {
            kind: MessageKind::Create { salt: None },
            caller: tx.caller,
            target: Address::ZERO,
            code_address: Address::ZERO,
            value: tx.value,
            input: tx.data.clone(),
            gas_limit,
            is_static: false,
            depth: 0,
        },
    };
    let r = frame::execute_with(state, msg, tracer, source);

    let gas_spent = tx.gas_limit - r.gas.remaining;
    let refund = if r.exit.is_success() {
        r.gas.refund.max(0) as u64
    } else {
        0
    } + auth_refund;
    let gas_refunded = refund.min(gas::max_refund(spec, gas_spent));
    let gas_used = (gas_spent - gas_refunded).max(floor);

    let sender_back = U256::from(tx.gas_limit - gas_used) * effective_price;
    if let Some(acc) = state.accounts.get_mut(&tx.caller) {
        acc.balance += sender_back;
    }
    let tip = if spec.is_enabled_in(SpecId::London) {
        effective_price - block.basefee
    } else {
        effective_price
    };
    let coinbase = block_coinbase(state);
    state.credit(coinbase, U256::from(gas_used) * tip);

    let logs = if r.exit.is_success() {
        std::mem::take(&mut state.logs)
    } else {
        Vec::new()
    };
    Ok(TxResult {
        exit: r.exit,
        gas_used,
        gas_spent,
        gas_refunded,
        gas_floor: floor,
        output: r.output,
        created: r.created,
        logs,
    })
}

/// The gas of a system call (EIP-2935, EIP-4788, EIP-7002, EIP-7251).
pub const SYSTEM_CALL_GAS_LIMIT: u64 = 30_000_000;

/// A system call the way the block-level EIPs (2935, 4788, 7002, 7251) make it: `caller` calls
/// `target` with `data` and [`SYSTEM_CALL_GAS_LIMIT`] gas, outside any transaction: no
/// validation, fee, nonce, warm set or value. Like [`execute_pending`] it leaves the state
/// unfinalized.
pub fn system_call_pending<B: Backing, T: Tracer>(
    state: &mut State<B>,
    caller: Address,
    target: Address,
    data: Bytes,
    tracer: &mut T,
    source: &dyn ProgramSource,
) -> TxResult {
    state.begin_tx();
    state.env.origin = caller;
    state.env.gas_price = U256::ZERO;
    state.env.blob_hashes.clear();
    let msg = Message::call(caller, target, U256::ZERO, data, SYSTEM_CALL_GAS_LIMIT);
    let r = frame::execute_with(state, msg, tracer, source);
    let gas_spent = SYSTEM_CALL_GAS_LIMIT - r.gas.remaining;
    let logs = if r.exit.is_success() {
        std::mem::take(&mut state.logs)
    } else {
        Vec::new()
    };
    TxResult {
        exit: r.exit,
        gas_used: gas_spent,
        gas_spent,
        gas_refunded: 0,
        gas_floor: 0,
        output: r.output,
        created: None,
        logs,
    }
}

fn block_coinbase<B: Backing>(state: &State<B>) -> Address {
    state.env.coinbase
}

/// Recovers the EIP-7702 authority: `ecrecover(keccak(0x05 ‖ rlp([chain_id, address, nonce])))`.
/// `None` for an invalid signature (bad parity, high s, or not on the curve).
pub fn recover_authority(
    chain_id: U256,
    address: Address,
    nonce: u64,
    y_parity: U256,
    r: U256,
    s: U256,
) -> Option<Address> {
    use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
    let secp256k1n_half = U256::from_str_radix(
        "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0",
        16,
    )
    .ok()?;
    if y_parity > U256::from(1) || s > secp256k1n_half {
        return None;
    }
    let mut payload = Vec::new();
    rlp_uint(&mut payload, &chain_id.to_be_bytes::<32>());
    rlp_bytes(&mut payload, address.as_slice());
    rlp_uint(&mut payload, &nonce.to_be_bytes());
    let mut msg = vec![0x05];
    rlp_header(&mut msg, 0xc0, payload.len());
    msg.extend_from_slice(&payload);
    let hash = keccak256(&msg);
    let sig = Signature::from_scalars(r.to_be_bytes::<32>(), s.to_be_bytes::<32>()).ok()?;
    let rid = RecoveryId::new(y_parity == U256::from(1), false);
    let key = VerifyingKey::recover_from_prehash(hash.as_slice(), &sig, rid).ok()?;
    let point = key.to_encoded_point(false);
    Some(Address::from_slice(
        &keccak256(&point.as_bytes()[1..])[12..],
    ))
}

fn rlp_header(out: &mut Vec<u8>, base: u8, len: usize) {
    if len <= 55 {
        out.push(base + len as u8);
    } else {
        let be = (len as u64).to_be_bytes();
        let skip = be.iter().take_while(|b| **b == 0).count();
        out.push(base + 55 + (8 - skip) as u8);
        out.extend_from_slice(&be[skip..]);
    }
}

fn rlp_bytes(out: &mut Vec<u8>, b: &[u8]) {
    if b.len() == 1 && b[0] < 0x80 {
        out.push(b[0]);
    } else {
        rlp_header(out, 0x80, b.len());
        out.extend_from_slice(b);
    }
}

fn rlp_uint(out: &mut Vec<u8>, be: &[u8]) {
    let skip = be.iter().take_while(|b| **b == 0).count();
    rlp_bytes(out, &be[skip..]);
}

/// Transactions and calls through a [`ferrite::Engine`], so its code cache and background
/// compiles serve them: `engine.transact(&mut state, spec, &block, &tx)`.
pub trait Transact {
    /// Validates and executes a transaction on `state` under `spec`, committing its effects
    /// (fees, refunds, coinbase payment included); an invalid transaction changes nothing.
    ///
    /// # Panics
    /// When `spec` is not the state's fork (`state.spec`).
    fn transact<B: Backing>(
        &self,
        state: &mut State<B>,
        spec: SpecId,
        block: &Block,
        tx: &Tx,
    ) -> Result<TxResult, TxError> {
        self.transact_traced(state, spec, block, tx, &mut NoTracer)
    }

    /// [`transact`](Self::transact) with a tracer.
    ///
    /// # Panics
    /// When `spec` is not the state's fork.
    fn transact_traced<B: Backing, T: Tracer>(
        &self,
        state: &mut State<B>,
        spec: SpecId,
        block: &Block,
        tx: &Tx,
        tracer: &mut T,
    ) -> Result<TxResult, TxError>;

    /// One call the way `ferrite run` makes it ([`crate::call::run`]) on fresh state, through
    /// this engine (`cfg.mode` is ignored).
    fn call(&self, cfg: &crate::call::CallConfig) -> crate::call::CallOutcome;
}

impl Transact for ferrite::Engine {
    fn transact_traced<B: Backing, T: Tracer>(
        &self,
        state: &mut State<B>,
        spec: SpecId,
        block: &Block,
        tx: &Tx,
        tracer: &mut T,
    ) -> Result<TxResult, TxError> {
        assert_eq!(state.spec, spec, "the state runs another fork");
        execute_traced(state, block, tx, tracer, self)
    }

    fn call(&self, cfg: &crate::call::CallConfig) -> crate::call::CallOutcome {
        crate::call::run_with(cfg, &mut NoTracer, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_base_fee() {
        assert_eq!(fake_exponential(1, 0, 3338477), U256::from(1));
        assert_eq!(
            fake_exponential(1, 3338477 * 10, 3338477),
            U256::from(22026)
        );
    }

    #[test]
    fn intrinsic() {
        let tx = Tx {
            to: Some(Address::ZERO),
            data: Bytes::from(vec![0, 1]),
            ..Tx::default()
        };
        assert_eq!(intrinsic_gas(SpecId::Cancun, &tx), (21_000 + 4 + 16, 0));
        assert_eq!(intrinsic_gas(SpecId::Byzantium, &tx).0, 21_000 + 4 + 68);
        assert_eq!(intrinsic_gas(SpecId::Prague, &tx).1, 21_000 + 10 * 5);
    }

    /// Each invalid transaction is rejected with its own exception and changes nothing.
    #[test]
    fn invalid_transactions_name_their_exception_and_change_nothing() {
        use crate::state::Account;
        use ferrite::Env;
        let sender = Address::repeat_byte(0x11);
        let block = Block {
            gas_limit: 30_000_000,
            basefee: U256::from(7),
            blob_basefee: U256::from(1),
            max_blobs: 6,
            chain_id: 1,
        };
        let valid = Tx {
            caller: sender,
            to: Some(Address::repeat_byte(0xcc)),
            gas_limit: 21_000,
            gas_price: U256::from(10),
            nonce: 3,
            ..Tx::default()
        };
        let cases: [(SpecId, Tx, TxError); 5] = [
            (
                SpecId::Cancun,
                Tx {
                    nonce: 2,
                    ..valid.clone()
                },
                TxError::NonceTooLow,
            ),
            (
                SpecId::Cancun,
                Tx {
                    nonce: 4,
                    ..valid.clone()
                },
                TxError::NonceTooHigh,
            ),
            (
                SpecId::Berlin,
                Tx {
                    tx_type: 2,
                    max_fee_per_gas: U256::from(10),
                    ..valid.clone()
                },
                TxError::TypeNotSupported,
            ),
            (
                SpecId::Cancun,
                Tx {
                    gas_limit: 20_999,
                    ..valid.clone()
                },
                TxError::IntrinsicGasTooLow,
            ),
            (
                SpecId::Cancun,
                Tx {
                    value: U256::from(1_000_000),
                    ..valid.clone()
                },
                TxError::InsufficientAccountFunds,
            ),
        ];
        for (spec, tx, expected) in cases {
            let mut state = State::new(spec, Env::default());
            state.insert_account(
                sender,
                Account {
                    nonce: 3,
                    balance: U256::from(21_000 * 10 + 999_999),
                    ..Account::default()
                },
            );
            let before = format!("{:?}", state.accounts);
            assert_eq!(execute(&mut state, &block, &tx).err(), Some(expected));
            assert_eq!(format!("{:?}", state.accounts), before, "{expected}");
            assert_eq!(expected.to_string(), expected.name());
        }
        // The valid one goes through.
        let mut state = State::new(SpecId::Cancun, Env::default());
        state.insert_account(
            sender,
            Account {
                nonce: 3,
                balance: U256::from(21_000 * 10),
                ..Account::default()
            },
        );
        assert!(execute(&mut state, &block, &valid).is_ok());
    }
}
