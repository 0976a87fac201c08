//! Where a [`State`](super::State) finds the accounts and slots it does not hold.

use super::Account;
use alloy_primitives::{Address, B256, U256};

/// The world behind a [`State`](super::State): read once per account and slot per transaction,
/// on first access; never written (the caller commits a transaction's changes its own way).
///
/// Methods are infallible because the [`Host`](ferrite_runtime::Host) calls they serve are: a
/// backing over a fallible store remembers its first error and answers with empty values, and
/// whoever runs the transaction must check it afterwards and discard the result (execution is
/// bounded by gas, so carrying on to the end is safe).
pub trait Backing {
    /// False when the state holds the whole world in `accounts` (then no load happens and the
    /// checks compile away).
    const LAZY: bool;
    /// The account at `address` without its storage, `None` when it does not exist.
    fn account(&mut self, address: Address) -> Option<Account>;
    /// The value of a storage slot (zero when unset).
    fn storage(&mut self, address: Address, key: U256) -> U256;
    /// The hash of block `number`, `None` when unknown.
    fn block_hash(&mut self, number: u64) -> Option<B256>;
    /// Whether the account at `address` has any non-zero storage slot: a CREATE onto such an
    /// account collides (EIP-7610). Asked only on that path; a backing that cannot tell says
    /// false (revm's `Database` has no such query, and revm does not check it).
    fn has_storage(&mut self, address: Address) -> bool {
        let _ = address;
        false
    }
}

/// No backing: the state's `accounts` are the whole world.
#[derive(Clone, Copy, Debug, Default)]
pub struct InMemory;

impl Backing for InMemory {
    const LAZY: bool = false;

    fn account(&mut self, _: Address) -> Option<Account> {
        None
    }

    fn storage(&mut self, _: Address, _: U256) -> U256 {
        U256::ZERO
    }

    fn block_hash(&mut self, _: u64) -> Option<B256> {
        None
    }
}
