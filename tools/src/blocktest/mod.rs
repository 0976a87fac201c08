//! Support for the Ethereum `BlockchainTest` fixtures (ethereum/tests `BlockchainTests`,
//! execution-spec-tests `blockchain_tests`): chains of blocks imported through alloy-evm's
//! Ethereum block executor with ferrite as the EVM — the path reth takes.
//!
//! - [`fixture`]: the JSON model (a pure data model: it parses, it does not execute).
//! - [`chain`]: a test's network as the chain specification alloy-evm reads (fork schedule,
//!   chain id, blob schedule), and the revm spec and blob parameters of each block.
//! - [`header`]: the consensus checks that are not execution (header against parent, body
//!   against header, header against the execution's outcome).
//! - [`world`]: the chain's state between blocks (revm `CacheDB`), a block's changes (revm
//!   `BundleState`), state roots from [`ferrite_state::trie`].
//! - [`runner`]: decodes the blocks, imports them one by one, checks the chain's end.
//!
//! There is deliberately no block executor here: system calls, transactions, receipts,
//! withdrawals, requests and rewards are alloy-evm's, so a blockchain test exercises ferrite
//! exactly as an alloy-evm node would.

pub mod chain;
pub mod fixture;
pub mod header;
pub mod runner;
pub mod world;
