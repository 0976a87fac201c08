//! Serde model of the `BlockchainTest` JSON fixture format (ethereum/tests `BlockchainTests`,
//! execution-spec-tests `blockchain_tests`).
//!
//! A file is a JSON object `testName -> TestUnit`. A unit holds the chain's `network` (a fork, or
//! a transition such as `CancunToPragueAtTime15k`), its `config` (chain id, blob schedule), the
//! genesis block (`genesisRLP`), the pre-state, the blocks to import and the expected end:
//! `postState` (or only its root, `postStateHash`) and `lastblockhash`.
//!
//! # Design
//!
//! * Only what a client receives is modelled: each block is its `rlp` (decoded by the runner with
//!   alloy's consensus types, never from the fixture's decoded JSON copy), plus the expectation
//!   (`expectException`) and the filler's block hash when the block is valid. The decoded
//!   `blockHeader`, `transactions`, `receipts`, … are ignored.
//! * A block's `rlp` stays a string here: a deliberately malformed block (bad hex is as invalid as
//!   bad RLP) is then one rejected block, not an unreadable file.
//! * Numbers, addresses, hashes and accounts reuse the state-test parsers
//!   ([`crate::statetest::fixture`]): the same tolerance, the same errors, no panics.

use crate::statetest::fixture::{de_hex, de_opt, de_opt_state, de_state, Config, State};
use alloy_primitives::B256;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One named test of a fixture file.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestUnit {
    /// The network: a fork name (`Cancun`) or a transition (`PragueToOsakaAtTime15k`).
    pub network: String,
    /// Chain configuration (chain id, blob schedule per fork), when given.
    #[serde(default)]
    pub config: Option<Config>,
    /// The genesis block, RLP.
    #[serde(rename = "genesisRLP", deserialize_with = "de_hex")]
    pub genesis_rlp: Vec<u8>,
    /// State before the first block.
    #[serde(deserialize_with = "de_state")]
    pub pre: State,
    /// The blocks, in import order.
    pub blocks: Vec<BlockEntry>,
    /// Expected state after the last valid block.
    #[serde(default, deserialize_with = "de_opt_state")]
    pub post_state: Option<State>,
    /// Expected state root after the last valid block (instead of `postState`).
    #[serde(default, deserialize_with = "de_opt")]
    pub post_state_hash: Option<B256>,
    /// Hash of the last valid block (the chain's head at the end).
    #[serde(deserialize_with = "de_hex")]
    pub lastblockhash: B256,
}

/// One block to import.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockEntry {
    /// The block, RLP as hex (kept as text: see the module docs).
    pub rlp: String,
    /// Why the block must be rejected, when it must.
    #[serde(default)]
    pub expect_exception: Option<String>,
    /// The filler's view of the header (only its hash is read).
    #[serde(default)]
    pub block_header: Option<HeaderHash>,
}

/// The `hash` of a fixture's decoded header.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct HeaderHash {
    /// keccak256 of the header's RLP.
    #[serde(deserialize_with = "de_hex")]
    pub hash: B256,
}

impl BlockEntry {
    /// The block's bytes, or why its hex is malformed.
    pub fn rlp_bytes(&self) -> Result<Vec<u8>, String> {
        let h = self.rlp.strip_prefix("0x").unwrap_or(&self.rlp);
        alloy_primitives::hex::decode(h).map_err(|e| format!("block rlp is not hex: {e}"))
    }
}

/// Parses a fixture file into `testName -> TestUnit`. Errors name the file.
pub fn load_file(path: &Path) -> Result<BTreeMap<String, TestUnit>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Like [`load_file`], from the JSON text itself.
pub fn parse_str(text: &str) -> Result<BTreeMap<String, TestUnit>, String> {
    let units: BTreeMap<String, TestUnit> =
        serde_json::from_str(text).map_err(|e| e.to_string())?;
    for (name, unit) in &units {
        if unit.post_state.is_none() && unit.post_state_hash.is_none() {
            return Err(format!("{name}: neither postState nor postStateHash"));
        }
    }
    Ok(units)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{
        "t": {
            "network": "Cancun",
            "genesisRLP": "0xc0",
            "pre": {"0x1000000000000000000000000000000000000000": {
                "balance": "0x01", "nonce": "0x00", "code": "0x", "storage": {}}},
            "blocks": [{"rlp": "0xzz", "expectException": "X"}],
            "postStateHash": "0x0000000000000000000000000000000000000000000000000000000000000001",
            "lastblockhash": "0x0000000000000000000000000000000000000000000000000000000000000002",
            "config": {"chainid": "0x01"}
        }
    }"#;

    #[test]
    fn parses_a_minimal_unit() {
        let units = parse_str(MINIMAL).unwrap();
        let u = &units["t"];
        assert_eq!(u.network, "Cancun");
        assert_eq!(u.genesis_rlp, vec![0xc0]);
        assert_eq!(u.pre.len(), 1);
        assert_eq!(u.blocks.len(), 1);
        assert!(
            u.blocks[0].rlp_bytes().is_err(),
            "bad hex is the block's problem"
        );
        assert_eq!(u.config.as_ref().unwrap().chainid, Some(1));
    }

    #[test]
    fn malformed_files_are_errors_not_panics() {
        for text in [
            "",
            "[]",
            "{\"t\": 1}",
            "{\"t\": {\"network\": \"Cancun\"}}",
            &MINIMAL.replace("postStateHash", "other"),
            &MINIMAL.replace("\"0x01\", \"nonce\"", "\"0xg\", \"nonce\""),
        ] {
            assert!(parse_str(text).is_err(), "{text}");
        }
    }
}
