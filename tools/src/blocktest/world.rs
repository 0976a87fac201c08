//! The chain's state between blocks: a revm [`CacheDB`] over [`EmptyDB`] holding every account,
//! and the block's changes as revm's [`BundleState`].
//!
//! A block executes on revm's [`State`](revm::database::State) (with bundle updates, as
//! alloy-evm's block executor expects) reading this database through a shared reference, so
//! a rejected block is dropped with its bundle and leaves the chain at its parent without any
//! undo. The post-state root is computed from the database overlaid with the bundle
//! ([`post_state_root`]); only a block that passed every check is written back ([`apply`]).
//!
//! Roots come from [`ferrite_state::trie`]. Accounts the bundle removed (destroyed, or empty and
//! touched after EIP-161 — revm's state already applies that rule) are left out; empty accounts
//! that still exist (before EIP-161, or never touched since) are part of the trie.

use crate::statetest::fixture;
use alloy_primitives::{keccak256, Address, B256, U256};
use ferrite_state::trie::{self, AccountView};
use revm::bytecode::Bytecode;
use revm::database::{BundleState, CacheDB, EmptyDB};
use revm::primitives::KECCAK_EMPTY;
use revm::state::AccountInfo;

/// The chain's full state.
pub type World = CacheDB<EmptyDB>;

/// The code of an account: analysed by revm when well-formed, raw otherwise (never a panic).
fn bytecode(code: &[u8]) -> Bytecode {
    let bytes = alloy_primitives::Bytes::copy_from_slice(code);
    Bytecode::new_raw_checked(bytes.clone()).unwrap_or_else(|_| Bytecode::new_legacy(bytes))
}

/// The state of a fixture's `pre` (zero storage values dropped).
pub fn pre_state(pre: &fixture::State) -> World {
    let mut db = CacheDB::new(EmptyDB::default());
    for (address, a) in pre {
        let code_hash = if a.code.is_empty() {
            KECCAK_EMPTY
        } else {
            keccak256(&a.code)
        };
        let info = AccountInfo {
            balance: a.balance,
            nonce: a.nonce,
            code_hash,
            code: Some(bytecode(&a.code)),
            ..AccountInfo::default()
        };
        db.insert_account_info(*address, info);
        let account = db.cache.accounts.entry(*address).or_default();
        account.storage.extend(
            a.storage
                .iter()
                .filter(|(_, v)| !v.is_zero())
                .map(|(k, v)| (*k, *v)),
        );
    }
    db
}

type Slots<'a> = Box<dyn Iterator<Item = (U256, U256)> + 'a>;

/// The accounts of `db` overlaid with `bundle` (`None`: no changes), for the trie.
fn accounts<'a>(
    db: &'a World,
    bundle: Option<&'a BundleState>,
) -> impl Iterator<Item = (Address, AccountView<Slots<'a>>)> + 'a {
    let changed = move |a: &Address| bundle.is_some_and(|b| b.state.contains_key(a));
    let unchanged = db
        .cache
        .accounts
        .iter()
        .filter(move |(a, _)| !changed(a))
        .filter_map(|(a, acc)| {
            let info = acc.info()?;
            let slots: Slots<'a> = Box::new(acc.storage.iter().map(|(k, v)| (*k, *v)));
            Some((*a, view(&info, slots)))
        });
    let bundled = bundle
        .into_iter()
        .flat_map(|b| b.state.iter())
        .filter_map(move |(a, acc)| {
            let info = acc.info.as_ref()?;
            // A destroyed (and maybe re-created) account starts from empty storage; otherwise
            // the bundle's slots override the database's (the trie keeps the last value given).
            let base: Slots<'a> = match db.cache.accounts.get(a) {
                Some(old) if !acc.status.was_destroyed() => {
                    Box::new(old.storage.iter().map(|(k, v)| (*k, *v)))
                }
                _ => Box::new(std::iter::empty()),
            };
            let slots: Slots<'a> =
                Box::new(base.chain(acc.storage.iter().map(|(k, s)| (*k, s.present_value))));
            Some((*a, view(info, slots)))
        });
    unchanged.chain(bundled)
}

fn view<'a>(info: &AccountInfo, storage: Slots<'a>) -> AccountView<Slots<'a>> {
    AccountView {
        nonce: info.nonce,
        balance: info.balance,
        code_hash: info.code_hash,
        storage,
    }
}

/// The state root of `db` with `bundle` applied.
pub fn post_state_root(db: &World, bundle: &BundleState) -> B256 {
    trie::state_root(accounts(db, Some(bundle)))
}

/// The state root of `db`.
pub fn state_root(db: &World) -> B256 {
    trie::state_root(accounts(db, None))
}

/// Whether `address` has code in `db` with `bundle` applied.
pub fn has_code(db: &World, bundle: &BundleState, address: &Address) -> bool {
    let info = match bundle.state.get(address) {
        Some(acc) => acc.info.clone(),
        None => db.cache.accounts.get(address).and_then(|a| a.info()),
    };
    info.is_some_and(|i| i.code_hash != KECCAK_EMPTY && !i.code_hash.is_zero())
}

/// Writes a valid block's changes into the chain's state.
pub fn apply(db: &mut World, bundle: BundleState) {
    db.cache.contracts.extend(bundle.contracts);
    for (address, acc) in bundle.state {
        let Some(mut info) = acc.info else {
            // Destroyed: the database behind holds nothing, so forgetting it is removing it.
            db.cache.accounts.remove(&address);
            continue;
        };
        if info.code.is_none() && info.code_hash != KECCAK_EMPTY {
            info.code = db.cache.contracts.get(&info.code_hash).cloned();
        }
        let entry = db.cache.accounts.entry(address).or_default();
        if acc.status.was_destroyed() {
            entry.storage.clear();
        }
        entry.update_info(info);
        entry.account_state = revm::database::AccountState::Touched;
        for (key, slot) in acc.storage {
            if slot.present_value.is_zero() {
                entry.storage.remove(&key);
            } else {
                entry.storage.insert(key, slot.present_value);
            }
        }
    }
}

/// The accounts where `db` differs from `expected` (at most `limit` of them, one line each).
pub fn diff(db: &World, expected: &fixture::State, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut note = |s: String| {
        if out.len() < limit {
            out.push(s);
        }
    };
    for (address, want) in expected {
        let Some(got) = db
            .cache
            .accounts
            .get(address)
            .and_then(|a| a.info().map(|i| (a, i)))
        else {
            note(format!("{address}: missing"));
            continue;
        };
        let (acc, info) = got;
        if info.balance != want.balance {
            note(format!(
                "{address}: balance {} != {}",
                info.balance, want.balance
            ));
        }
        if info.nonce != want.nonce {
            note(format!("{address}: nonce {} != {}", info.nonce, want.nonce));
        }
        let want_hash = if want.code.is_empty() {
            KECCAK_EMPTY
        } else {
            keccak256(&want.code)
        };
        if info.code_hash != want_hash {
            note(format!("{address}: code differs"));
        }
        let mut keys: Vec<U256> = acc.storage.keys().copied().collect();
        keys.extend(want.storage.keys());
        keys.sort_unstable();
        keys.dedup();
        for k in keys {
            let g = acc.storage.get(&k).copied().unwrap_or_default();
            let w = want.storage.get(&k).copied().unwrap_or_default();
            if g != w {
                note(format!("{address}: slot {k:#x} = {g:#x}, expected {w:#x}"));
            }
        }
    }
    for (address, acc) in &db.cache.accounts {
        if acc.info().is_some() && !expected.contains_key(address) {
            note(format!("{address}: unexpected account"));
        }
    }
    out
}

/// The state root of a fixture state (`postState`).
pub fn expected_root(state: &fixture::State) -> B256 {
    trie::state_root(state.iter().map(|(a, acc)| {
        let code_hash = if acc.code.is_empty() {
            KECCAK_EMPTY
        } else {
            keccak256(&acc.code)
        };
        (
            *a,
            AccountView {
                nonce: acc.nonce,
                balance: acc.balance,
                code_hash,
                storage: acc.storage.iter().map(|(k, v)| (*k, *v)),
            },
        )
    }))
}
