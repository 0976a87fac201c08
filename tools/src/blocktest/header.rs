//! The consensus checks of a block that are not execution: its header against its parent's, its
//! body against its header, and (after execution) the header's commitments against the
//! execution's outcome.
//!
//! The rules are those of each fork's execution specification, written here as comparisons; the
//! arithmetic (EIP-1559 base fee, EIP-4844/7691/7918 excess blob gas, trie roots, bloom, requests
//! hash) is alloy's. Each check returns a one-line reason naming the field, the value and what was
//! expected.
//!
//! Not checked (the blockchain tests here do not exercise them): proof of work and the ethash
//! difficulty formula before the merge, the uncles' own validity (their number and depth), and
//! the receipts root before Byzantium, whose receipts commit to an intermediate state root per
//! transaction that alloy-evm's receipt builder does not produce (reth skips that check too; the
//! state root and the logs bloom are still checked).

use super::chain::Chain;
use alloy_consensus::constants::{EMPTY_OMMER_ROOT_HASH, MAXIMUM_EXTRA_DATA_SIZE};
use alloy_consensus::proofs::{
    calculate_ommers_root, calculate_receipt_root, calculate_transaction_root,
    calculate_withdrawals_root,
};
use alloy_consensus::{Block, Header, ReceiptEnvelope, TxEnvelope, TxReceipt};
use alloy_eips::eip1559::{calc_next_block_base_fee, BaseFeeParams, INITIAL_BASE_FEE};
use alloy_eips::eip4844::DATA_GAS_PER_BLOB;
#[cfg(test)]
use alloy_eips::eip7840::BlobParams;
use alloy_evm::block::BlockExecutionResult;
use alloy_hardforks::EthereumHardforks;
use alloy_primitives::{Bloom, B256};

/// The lowest gas limit a block may have.
pub const MIN_GAS_LIMIT: u64 = 5000;
/// The highest gas limit a block may have (2^63 − 1).
pub const MAX_GAS_LIMIT: u64 = i64::MAX as u64;
/// A block's gas limit moves by less than its parent's over this (per block).
pub const GAS_LIMIT_BOUND_DIVISOR: u64 = 1024;
/// EIP-7934 (Osaka): the largest RLP-encoded block (10 MiB less a 2 MiB margin for the beacon
/// block around it).
pub const MAX_RLP_BLOCK_SIZE: usize = 10 * 1024 * 1024 - 2 * 1024 * 1024;

fn mismatch<T: std::fmt::Debug>(what: &str, got: T, want: T) -> String {
    format!("{what} {got:?}, expected {want:?}")
}

fn check<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(mismatch(what, got, want))
    }
}

/// A field present exactly from the fork that introduced it.
fn presence<T>(what: &str, field: &Option<T>, active: bool) -> Result<(), String> {
    match (field.is_some(), active) {
        (true, false) => Err(format!("{what} present before its fork")),
        (false, true) => Err(format!("{what} missing")),
        _ => Ok(()),
    }
}

/// Checks `header` against its parent (`parent`, whose hash is `parent_hash`).
pub fn validate_header(
    chain: &Chain,
    header: &Header,
    parent: &Header,
    parent_hash: B256,
) -> Result<(), String> {
    let (number, time) = (header.number, header.timestamp);
    check("number", header.number, parent.number.saturating_add(1))?;
    check("parent hash", header.parent_hash, parent_hash)?;
    if header.timestamp <= parent.timestamp {
        return Err(format!(
            "timestamp {} not after the parent's {}",
            header.timestamp, parent.timestamp
        ));
    }
    if header.extra_data.len() > MAXIMUM_EXTRA_DATA_SIZE {
        return Err(format!("extra data of {} bytes", header.extra_data.len()));
    }
    if header.gas_used > header.gas_limit {
        return Err(format!(
            "gas used {} above the gas limit {}",
            header.gas_used, header.gas_limit
        ));
    }
    validate_gas_limit(chain, header, parent)?;

    // EIP-1559 (London).
    let london = chain.is_london_active_at_block(number);
    presence("base fee", &header.base_fee_per_gas, london)?;
    if let Some(base_fee) = header.base_fee_per_gas {
        let want = if chain.is_london_active_at_block(parent.number) {
            if parent.gas_used > parent.gas_limit {
                return Err("parent gas used above its gas limit".into());
            }
            let parent_fee = parent
                .base_fee_per_gas
                .ok_or("parent has no base fee after London")?;
            if parent_fee > u64::MAX / 9 * 8 {
                return Err(format!("parent base fee {parent_fee} out of range"));
            }
            calc_next_block_base_fee(
                parent.gas_used,
                parent.gas_limit,
                parent_fee,
                BaseFeeParams::ethereum(),
            )
        } else {
            INITIAL_BASE_FEE
        };
        check("base fee", base_fee, want)?;
    }

    // The merge (Paris): no proof of work, no uncles.
    if chain.is_paris_active_at_block(number) {
        check("difficulty", header.difficulty, Default::default())?;
        check("nonce", header.nonce, Default::default())?;
        check("ommers hash", header.ommers_hash, EMPTY_OMMER_ROOT_HASH)?;
    }

    presence(
        "withdrawals root",
        &header.withdrawals_root,
        chain.is_shanghai_active_at_timestamp(time),
    )?;
    let cancun = chain.is_cancun_active_at_timestamp(time);
    presence("blob gas used", &header.blob_gas_used, cancun)?;
    presence("excess blob gas", &header.excess_blob_gas, cancun)?;
    presence(
        "parent beacon block root",
        &header.parent_beacon_block_root,
        cancun,
    )?;
    presence(
        "requests hash",
        &header.requests_hash,
        chain.is_prague_active_at_timestamp(time),
    )?;
    if cancun {
        validate_blob_gas(chain, header, parent)?;
    }
    Ok(())
}

/// The gas limit: within the bounds, and within 1/1024 of the parent's (whose limit counts
/// twice at London's first block, EIP-1559's elasticity).
fn validate_gas_limit(chain: &Chain, header: &Header, parent: &Header) -> Result<(), String> {
    let limit = header.gas_limit;
    if !(MIN_GAS_LIMIT..=MAX_GAS_LIMIT).contains(&limit) {
        return Err(format!("gas limit {limit} out of range"));
    }
    let mut parent_limit = parent.gas_limit;
    if chain.is_london_active_at_block(header.number)
        && !chain.is_london_active_at_block(parent.number)
    {
        parent_limit = parent_limit.saturating_mul(2);
    }
    if limit.abs_diff(parent_limit) >= parent_limit / GAS_LIMIT_BOUND_DIVISOR {
        return Err(format!(
            "gas limit {limit} moves too far from the parent's {parent_limit}"
        ));
    }
    Ok(())
}

/// EIP-4844 / EIP-7691 / EIP-7918: blob gas used a whole number of blobs within the block's
/// maximum, and the excess blob gas derived from the parent's under this block's parameters.
fn validate_blob_gas(chain: &Chain, header: &Header, parent: &Header) -> Result<(), String> {
    let params = chain
        .blob_params(header.timestamp)
        .ok_or("no blob parameters after Cancun")?;
    let used = header.blob_gas_used.unwrap_or_default();
    if used % DATA_GAS_PER_BLOB != 0 {
        return Err(format!("blob gas used {used} not a multiple of a blob's"));
    }
    if used > params.max_blob_gas_per_block() {
        return Err(format!(
            "blob gas used {used} above the maximum {}",
            params.max_blob_gas_per_block()
        ));
    }
    // The parent's blob fields are zero at Cancun's first block.
    let parent_excess = parent.excess_blob_gas.unwrap_or_default();
    let parent_used = parent.blob_gas_used.unwrap_or_default();
    if parent_excess.checked_add(parent_used).is_none()
        || parent_used.checked_mul(params.max_blob_count).is_none()
    {
        return Err("parent blob gas out of range".into());
    }
    let want = params.next_block_excess_blob_gas_osaka(
        parent_excess,
        parent_used,
        parent.base_fee_per_gas.unwrap_or_default(),
    );
    check(
        "excess blob gas",
        header.excess_blob_gas.unwrap_or_default(),
        want,
    )
}

/// Checks the body of `block` (whose RLP is `rlp_len` bytes) against its header.
pub fn validate_body(
    chain: &Chain,
    block: &Block<TxEnvelope>,
    rlp_len: usize,
) -> Result<(), String> {
    let (header, body) = (&block.header, &block.body);
    check(
        "transactions root",
        calculate_transaction_root(&body.transactions),
        header.transactions_root,
    )?;
    check(
        "ommers hash",
        calculate_ommers_root(&body.ommers),
        header.ommers_hash,
    )?;
    let shanghai = chain.is_shanghai_active_at_timestamp(header.timestamp);
    presence("withdrawals", &body.withdrawals, shanghai)?;
    if let (Some(w), Some(root)) = (&body.withdrawals, header.withdrawals_root) {
        check("withdrawals root", calculate_withdrawals_root(w), root)?;
    }
    if chain.is_osaka_active_at_timestamp(header.timestamp) && rlp_len > MAX_RLP_BLOCK_SIZE {
        return Err(format!(
            "block of {rlp_len} bytes above EIP-7934's {MAX_RLP_BLOCK_SIZE}"
        ));
    }
    Ok(())
}

/// Checks the header's commitments to its execution (all but the state root, which the runner
/// computes from the state).
pub fn validate_outcome(
    chain: &Chain,
    header: &Header,
    outcome: &BlockExecutionResult<ReceiptEnvelope>,
) -> Result<(), String> {
    check("gas used", outcome.gas_used, header.gas_used)?;
    if let Some(used) = header.blob_gas_used {
        check("blob gas used", outcome.blob_gas_used, used)?;
    }
    if chain.is_byzantium_active_at_block(header.number) {
        check(
            "receipts root",
            calculate_receipt_root(&outcome.receipts),
            header.receipts_root,
        )?;
    }
    let bloom = outcome
        .receipts
        .iter()
        .fold(Bloom::ZERO, |acc, r| acc | r.bloom());
    check("logs bloom", bloom, header.logs_bloom)?;
    if let Some(hash) = header.requests_hash {
        check("requests hash", outcome.requests.requests_hash(), hash)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_eips::eip4844::DATA_GAS_PER_BLOB as BLOB;

    fn parent(chain: &Chain) -> Header {
        let cancun = chain.is_cancun_active_at_timestamp(0);
        Header {
            number: 7,
            timestamp: 100,
            gas_limit: 30_000_000,
            gas_used: 15_000_000,
            base_fee_per_gas: chain.is_london_active_at_block(7).then_some(1_000),
            withdrawals_root: chain
                .is_shanghai_active_at_timestamp(0)
                .then_some(B256::ZERO),
            blob_gas_used: cancun.then_some(3 * BLOB),
            excess_blob_gas: cancun.then_some(10 * BLOB),
            parent_beacon_block_root: cancun.then_some(B256::ZERO),
            requests_hash: chain.is_prague_active_at_timestamp(0).then_some(B256::ZERO),
            ..Header::default()
        }
    }

    /// A valid child of `parent` (gas at target: the base fee stays).
    fn child(chain: &Chain, parent: &Header) -> Header {
        let params = chain.blob_params(parent.timestamp + 12);
        Header {
            number: parent.number + 1,
            parent_hash: B256::repeat_byte(1),
            timestamp: parent.timestamp + 12,
            excess_blob_gas: params.map(|p| {
                p.next_block_excess_blob_gas_osaka(
                    parent.excess_blob_gas.unwrap_or_default(),
                    parent.blob_gas_used.unwrap_or_default(),
                    parent.base_fee_per_gas.unwrap_or_default(),
                )
            }),
            blob_gas_used: params.map(|_| 0),
            ..parent.clone()
        }
    }

    fn validate(chain: &Chain, edit: impl FnOnce(&mut Header)) -> Result<(), String> {
        let p = parent(chain);
        let mut h = child(chain, &p);
        edit(&mut h);
        validate_header(chain, &h, &p, B256::repeat_byte(1))
    }

    #[test]
    fn a_valid_child_passes_on_every_fork() {
        for network in ["Frontier", "London", "Paris", "Cancun", "Prague", "Osaka"] {
            let chain = Chain::new(network, None).unwrap();
            assert_eq!(validate(&chain, |_| {}), Ok(()), "{network}");
        }
    }

    #[test]
    fn parent_links_and_limits() {
        let chain = Chain::new("Cancun", None).unwrap();
        assert!(validate(&chain, |h| h.number += 1).is_err());
        assert!(validate(&chain, |h| h.parent_hash = B256::ZERO).is_err());
        assert!(validate(&chain, |h| h.timestamp = 100).is_err());
        assert!(validate(&chain, |h| h.gas_used = h.gas_limit + 1).is_err());
        // Strictly less than parent / 1024.
        assert!(validate(&chain, |h| h.gas_limit += 30_000_000 / 1024).is_err());
        assert!(validate(&chain, |h| h.gas_limit += 30_000_000 / 1024 - 1).is_ok());
        assert!(validate(&chain, |h| h.extra_data = vec![0; 33].into()).is_err());
    }

    #[test]
    fn base_fee_follows_eip1559() {
        let chain = Chain::new("Cancun", None).unwrap();
        assert!(validate(&chain, |h| h.base_fee_per_gas = Some(1_001)).is_err());
        assert!(validate(&chain, |h| h.base_fee_per_gas = None).is_err());
        // London's first block: the initial base fee, twice the parent's gas limit as reference.
        let london = Chain::new("BerlinToLondonAt8", None).unwrap();
        let p = parent(&london);
        let mut h = child(&london, &p);
        h.base_fee_per_gas = Some(INITIAL_BASE_FEE);
        h.gas_limit = 60_000_000;
        assert_eq!(validate_header(&london, &h, &p, h.parent_hash), Ok(()));
        h.base_fee_per_gas = Some(1_000);
        assert!(validate_header(&london, &h, &p, h.parent_hash).is_err());
    }

    #[test]
    fn blob_fields_follow_the_schedule() {
        let chain = Chain::new("Cancun", None).unwrap();
        assert!(validate(&chain, |h| h.excess_blob_gas = Some(0)).is_err());
        assert!(validate(&chain, |h| h.blob_gas_used = Some(7 * BLOB)).is_err());
        assert!(validate(&chain, |h| h.blob_gas_used = Some(BLOB + 1)).is_err());
        assert!(validate(&chain, |h| h.blob_gas_used = Some(6 * BLOB)).is_ok());
        assert!(validate(&chain, |h| h.parent_beacon_block_root = None).is_err());
        let shanghai = Chain::new("Shanghai", None).unwrap();
        assert!(validate(&shanghai, |h| h.blob_gas_used = Some(0)).is_err());
        // Osaka: EIP-7918's reserve price raises the excess when blobs are cheap next to gas.
        let osaka = Chain::new("Osaka", None).unwrap();
        let mut p = parent(&osaka);
        p.base_fee_per_gas = Some(1_000_000_000);
        let h = child(&osaka, &p);
        let plain = BlobParams::prague().next_block_excess_blob_gas_osaka(10 * BLOB, 3 * BLOB, 0);
        assert!(h.excess_blob_gas.unwrap() > plain);
        assert_eq!(validate_header(&osaka, &h, &p, h.parent_hash), Ok(()));
    }
}
