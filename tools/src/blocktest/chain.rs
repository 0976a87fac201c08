//! A test network as the chain specification alloy-evm's block executor reads.
//!
//! A blockchain test names its `network`: one fork active from genesis (`Cancun`), or a transition
//! (`CancunToPragueAtTime15k`: Cancun rules, Prague from timestamp 15,000;
//! `BerlinToLondonAt5`: London from block 5). [`Chain::new`] turns that name into alloy-hardforks'
//! schedule ([`EthereumChainHardforks`]: every fork up to the first at genesis, the later ones at
//! the transition), which is what [`EthExecutorSpec`] wants and what picks the revm
//! [`SpecId`] of each block (alloy-evm's own `spec_by_timestamp_and_block_number`, as reth does).
//!
//! Blob parameters come from the fixture's `config.blobSchedule` (target, max, base-fee update
//! fraction per fork), falling back to the EIP values; from Osaka on, the per-transaction limit is
//! EIP-7594's six blobs and EIP-7918's reserve price applies (`blob_base_cost`). BPO forks are
//! Osaka's rules with other blob parameters.
//!
//! Names this runner cannot represent (Constantinople before Petersburg — revm has no such
//! spec —, total-difficulty transitions, forks after Osaka) are [`ChainError::Unsupported`], which
//! the runner reports as skipped tests with the reason; an unusable blob schedule is
//! [`ChainError::Malformed`], a failure.

use crate::statetest::fixture::Config;
use alloy_eips::eip4844::BLOB_TX_MIN_BLOB_GASPRICE;
use alloy_eips::eip6110::MAINNET_DEPOSIT_CONTRACT_ADDRESS;
use alloy_eips::eip7594::MAX_BLOBS_PER_TX_FUSAKA;
use alloy_eips::eip7840::{BlobParams, BLOB_BASE_COST};
use alloy_evm::eth::spec::EthExecutorSpec;
use alloy_hardforks::{EthereumChainHardforks, EthereumHardfork, EthereumHardforks, ForkCondition};
use alloy_primitives::{Address, U256};
use revm::primitives::hardfork::SpecId;

/// The forks in activation order, with the names fixtures use for them.
const FORKS: &[(EthereumHardfork, &[&str])] = &[
    (EthereumHardfork::Frontier, &["Frontier"]),
    (EthereumHardfork::Homestead, &["Homestead"]),
    (EthereumHardfork::Tangerine, &["EIP150", "TangerineWhistle"]),
    (
        EthereumHardfork::SpuriousDragon,
        &["EIP158", "SpuriousDragon"],
    ),
    (EthereumHardfork::Byzantium, &["Byzantium"]),
    (EthereumHardfork::Constantinople, &["Constantinople"]),
    (
        EthereumHardfork::Petersburg,
        &["ConstantinopleFix", "Petersburg"],
    ),
    (EthereumHardfork::Istanbul, &["Istanbul"]),
    (EthereumHardfork::MuirGlacier, &["MuirGlacier"]),
    (EthereumHardfork::Berlin, &["Berlin"]),
    (EthereumHardfork::London, &["London"]),
    (EthereumHardfork::ArrowGlacier, &["ArrowGlacier"]),
    (EthereumHardfork::GrayGlacier, &["GrayGlacier"]),
    (EthereumHardfork::Paris, &["Paris", "Merge"]),
    (EthereumHardfork::Shanghai, &["Shanghai"]),
    (EthereumHardfork::Cancun, &["Cancun"]),
    (EthereumHardfork::Prague, &["Prague"]),
    (EthereumHardfork::Osaka, &["Osaka"]),
    (EthereumHardfork::Bpo1, &["BPO1"]),
    (EthereumHardfork::Bpo2, &["BPO2"]),
    (EthereumHardfork::Bpo3, &["BPO3"]),
    (EthereumHardfork::Bpo4, &["BPO4"]),
    (EthereumHardfork::Bpo5, &["BPO5"]),
];

/// The forks whose blob parameters a schedule may name, latest first, with the key used in
/// `config.blobSchedule` and the EIP default.
const BLOB_FORKS: &[(EthereumHardfork, &str, BlobParams)] = &[
    (EthereumHardfork::Bpo5, "BPO5", BlobParams::bpo2()),
    (EthereumHardfork::Bpo4, "BPO4", BlobParams::bpo2()),
    (EthereumHardfork::Bpo3, "BPO3", BlobParams::bpo2()),
    (EthereumHardfork::Bpo2, "BPO2", BlobParams::bpo2()),
    (EthereumHardfork::Bpo1, "BPO1", BlobParams::bpo1()),
    (EthereumHardfork::Osaka, "Osaka", BlobParams::osaka()),
    (EthereumHardfork::Prague, "Prague", BlobParams::prague()),
    (EthereumHardfork::Cancun, "Cancun", BlobParams::cancun()),
];

/// Why a test's chain cannot be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainError {
    /// The network is one this runner cannot represent (the test is skipped).
    Unsupported(String),
    /// The fixture's configuration is unusable (the test fails).
    Malformed(String),
}

impl std::fmt::Display for ChainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainError::Unsupported(s) | ChainError::Malformed(s) => f.write_str(s),
        }
    }
}

/// A test network: its fork schedule, chain id and blob schedule.
#[derive(Clone, Debug)]
pub struct Chain {
    hardforks: EthereumChainHardforks,
    /// The chain id (`config.chainid`, 1 when absent).
    pub chain_id: u64,
    /// Blob parameters of the scheduled blob forks, latest first.
    blobs: Vec<(EthereumHardfork, BlobParams)>,
    /// The network's last fork, for ordering summaries.
    pub last_fork: EthereumHardfork,
}

fn fork_index(name: &str) -> Option<usize> {
    FORKS.iter().position(|(_, names)| names.contains(&name))
}

/// The activation condition of `fork` at block `number` / `timestamp`: by block number up to
/// London's glaciers, by (zero) total difficulty for Paris, by timestamp after.
fn condition(fork: EthereumHardfork, at: Transition) -> Result<ForkCondition, String> {
    let by_time = fork >= EthereumHardfork::Shanghai;
    match (at, by_time) {
        (Transition::Genesis, true) => Ok(ForkCondition::Timestamp(0)),
        (Transition::Genesis, false) if fork == EthereumHardfork::Paris => Ok(ForkCondition::TTD {
            activation_block_number: 0,
            fork_block: None,
            total_difficulty: U256::ZERO,
        }),
        (Transition::Genesis, false) => Ok(ForkCondition::Block(0)),
        (Transition::Timestamp(t), true) => Ok(ForkCondition::Timestamp(t)),
        (Transition::Block(n), false) if fork != EthereumHardfork::Paris => {
            Ok(ForkCondition::Block(n))
        }
        _ => Err(format!("{fork} cannot activate at {at:?}")),
    }
}

/// When the second fork of a transition network activates.
#[derive(Clone, Copy, Debug)]
enum Transition {
    Genesis,
    Block(u64),
    Timestamp(u64),
}

/// Splits `AToBAtTime15k` / `AToBAt5` into `(A, B, when)`.
fn parse_transition(network: &str) -> Result<Option<(&str, &str, Transition)>, String> {
    let Some((from, rest)) = network.split_once("To") else {
        return Ok(None);
    };
    let (to, when) = rest
        .split_once("At")
        .ok_or_else(|| format!("network {network}: a transition without \"At\""))?;
    let bad = || format!("network {network}: unsupported transition point \"At{when}\"");
    let at = if let Some(t) = when.strip_prefix("Time") {
        let (digits, scale) = match t.strip_suffix('k') {
            Some(d) => (d, 1000),
            None => (t, 1),
        };
        let v: u64 = digits.parse().map_err(|_| bad())?;
        Transition::Timestamp(v.checked_mul(scale).ok_or_else(bad)?)
    } else {
        Transition::Block(when.parse().map_err(|_| bad())?)
    };
    Ok(Some((from, to, at)))
}

impl Chain {
    /// The chain of `network` under `config`, or why it cannot be run.
    pub fn new(network: &str, config: Option<&Config>) -> Result<Chain, ChainError> {
        let forks = Chain::schedule(network).map_err(ChainError::Unsupported)?;
        let last_fork = forks.last().map_or(EthereumHardfork::Frontier, |f| f.0);
        let blobs = Chain::blobs(&forks, config).map_err(ChainError::Malformed)?;
        Ok(Chain {
            hardforks: EthereumChainHardforks::new(forks),
            chain_id: config.and_then(|c| c.chainid).unwrap_or(1),
            blobs,
            last_fork,
        })
    }

    /// The fork schedule of `network`, or why it cannot be represented.
    fn schedule(network: &str) -> Result<Vec<(EthereumHardfork, ForkCondition)>, String> {
        let (from, to, at) = match parse_transition(network)? {
            Some(t) => t,
            None => (network, network, Transition::Genesis),
        };
        let unknown = |n: &str| format!("unknown or unsupported fork {n} in network {network}");
        let first = fork_index(from).ok_or_else(|| unknown(from))?;
        let last = fork_index(to).ok_or_else(|| unknown(to))?;
        if last < first {
            return Err(format!("network {network}: the transition goes backwards"));
        }
        let mut forks = Vec::new();
        for (i, (fork, _)) in FORKS.iter().enumerate().take(last + 1) {
            // Constantinople alone (EIP-1283 without Petersburg's revert) is not a revm spec.
            if *fork == EthereumHardfork::Constantinople && last == i {
                return Err(format!(
                    "network {network}: Constantinople without Petersburg has no revm spec"
                ));
            }
            let when = if i <= first { Transition::Genesis } else { at };
            forks.push((*fork, condition(*fork, when)?));
        }
        Ok(forks)
    }

    /// The blob parameters of the blob forks in `forks`, from `config`'s schedule or the EIPs.
    fn blobs(
        forks: &[(EthereumHardfork, ForkCondition)],
        config: Option<&Config>,
    ) -> Result<Vec<(EthereumHardfork, BlobParams)>, String> {
        let schedule = config.and_then(|c| c.blob_schedule.as_ref());
        BLOB_FORKS
            .iter()
            .filter(|(fork, _, _)| forks.iter().any(|(f, _)| f == fork))
            .map(|&(fork, key, default)| -> Result<_, String> {
                let params = match schedule.and_then(|s| s.get(key)) {
                    Some(p)
                        if p.base_fee_update_fraction == 0
                            || p.target > p.max
                            || p.max == 0
                            || p.max > 1 << 16 =>
                    {
                        return Err(format!("blob schedule of {key}: unusable parameters {p:?}"))
                    }
                    Some(p) => BlobParams {
                        target_blob_count: p.target,
                        max_blob_count: p.max,
                        update_fraction: u128::from(p.base_fee_update_fraction),
                        min_blob_fee: BLOB_TX_MIN_BLOB_GASPRICE,
                        max_blobs_per_tx: p.max,
                        blob_base_cost: 0,
                    },
                    None => default,
                };
                let params = if fork >= EthereumHardfork::Osaka {
                    // EIP-7594's per-transaction cap and EIP-7918's reserve price.
                    params
                        .with_max_blobs_per_tx(MAX_BLOBS_PER_TX_FUSAKA.min(params.max_blob_count))
                        .with_blob_base_cost(BLOB_BASE_COST)
                } else {
                    params
                };
                Ok((fork, params))
            })
            .collect()
    }

    /// The revm spec of a block (alloy-evm's mapping, as reth does).
    pub fn spec(&self, number: u64, timestamp: u64) -> SpecId {
        alloy_evm::spec_by_timestamp_and_block_number(self, timestamp, number)
    }

    /// The blob parameters in force at `timestamp` (`None` before Cancun).
    pub fn blob_params(&self, timestamp: u64) -> Option<BlobParams> {
        self.blobs
            .iter()
            .find(|(fork, _)| self.is_ethereum_fork_active_at_timestamp(*fork, timestamp))
            .map(|(_, p)| *p)
    }
}

impl EthereumHardforks for Chain {
    fn ethereum_fork_activation(&self, fork: EthereumHardfork) -> ForkCondition {
        self.hardforks.ethereum_fork_activation(fork)
    }
}

impl EthExecutorSpec for Chain {
    fn deposit_contract_address(&self) -> Option<Address> {
        // The execution-spec tests deploy their deposit contract at mainnet's address.
        Some(MAINNET_DEPOSIT_CONTRACT_ADDRESS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_forks_activate_at_genesis() {
        let c = Chain::new("Cancun", None).unwrap();
        assert_eq!(c.spec(1, 1), SpecId::CANCUN);
        assert!(c.is_paris_active_at_block(0));
        assert!(!c.is_prague_active_at_timestamp(u64::MAX));
        assert_eq!(c.blob_params(0), Some(BlobParams::cancun()));
        let f = Chain::new("Frontier", None).unwrap();
        assert_eq!(f.spec(5, 5), SpecId::FRONTIER);
        assert_eq!(f.blob_params(0), None);
        let p = Chain::new("ConstantinopleFix", None).unwrap();
        assert_eq!(p.spec(1, 1), SpecId::PETERSBURG);
    }

    #[test]
    fn transitions_activate_the_second_fork_later() {
        let c = Chain::new("CancunToPragueAtTime15k", None).unwrap();
        assert_eq!(c.spec(1, 14_999), SpecId::CANCUN);
        assert_eq!(c.spec(2, 15_000), SpecId::PRAGUE);
        let l = Chain::new("BerlinToLondonAt5", None).unwrap();
        assert_eq!(l.spec(4, 100), SpecId::BERLIN);
        assert_eq!(l.spec(5, 100), SpecId::LONDON);
        let b = Chain::new("OsakaToBPO1AtTime15k", None).unwrap();
        assert_eq!(b.spec(2, 15_000), SpecId::OSAKA);
        assert_eq!(b.blob_params(15_000), Some(BlobParams::bpo1()));
        assert_eq!(b.blob_params(0), Some(BlobParams::osaka()));
    }

    #[test]
    fn unsupported_networks_are_errors() {
        for n in [
            "Amsterdam",
            "Constantinople",
            "PragueToCancunAtTime15k",
            "LondonToParisAtDiffC0000",
            "ShanghaiToCancunAt5",
            "CancunToPragueAtTime99999999999999999999k",
            "",
        ] {
            assert!(
                matches!(Chain::new(n, None), Err(ChainError::Unsupported(_))),
                "{n}"
            );
        }
    }
}
