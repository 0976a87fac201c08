//! `ferrite-evm`: ferrite as a drop-in EVM for Rust execution engines built on alloy-evm and
//! revm (reth and the block builders, simulators and L2s around it).
//!
//! - [`FerriteEvmFactory`] implements alloy-evm's `EvmFactory`; the [`FerriteEvm`]s it creates
//!   implement `Evm` over any revm `Database` and share one ferrite `Engine` (code cache,
//!   background compiler).
//! - A transaction runs through ferrite's own journal ([`ferrite_state::State`] over a
//!   [`DbBacking`]), with exactly the semantics of ferrite's state tests, and comes back as
//!   revm's `ResultAndState`: the execution result (success, revert or halt with revm's
//!   reasons, gas spent and refunded, logs, output, created address) and the change set
//!   (`EvmState`) revm's `MainnetEvm` would produce for a commit.
//! - With an inspector enabled, or a configuration ferrite does not implement, the wrapped revm
//!   EVM runs the transaction instead, and the factory counts it ([`CounterSnapshot`]).
//!
//! ```no_run
//! use alloy_evm::{Evm, EvmEnv, EvmFactory};
//! use ferrite_evm::FerriteEvmFactory;
//! use revm::context::TxEnv;
//! use revm::database::{CacheDB, EmptyDB};
//!
//! let factory = FerriteEvmFactory::default(); // one tiered engine for every EVM
//! let mut evm = factory.create_evm(CacheDB::new(EmptyDB::default()), EvmEnv::default());
//! let outcome = evm.transact_commit(TxEnv::default());
//! println!("{outcome:?} {:?}", factory.engine().stats());
//! ```
//!
//! The change set lists the accounts the transaction touched (every write touches) with the
//! storage slots it read or wrote; accounts it only read are left out, since a commit ignores
//! them.

mod convert;
mod db;
mod evm;
mod factory;

pub use db::{DbBacking, StorageProbe};
pub use evm::{CounterSnapshot, Counters, FerriteEvm};
pub use factory::FerriteEvmFactory;
