//! State root and logs hash, as checked by the Ethereum state tests.
//!
//! # Design
//!
//! ferrite's in-memory state is a plain map, not a Merkle-Patricia trie: the
//! root is only needed once per test vector (to compare with the fixture's
//! `hash`), so it is computed from scratch here, which is simpler and cannot
//! drift out of sync with the state. The trie itself is built by
//! `alloy-trie`'s [`HashBuilder`], which wants its leaves in ascending key
//! order; this module hashes the keys, sorts them and feeds the builder.
//!
//! * [`storage_root`]: secure trie of one account's storage, key
//!   `keccak256(slot as 32 big-endian bytes)`, value `rlp(value)`. Zero values
//!   are skipped (a zero slot does not exist in Ethereum's state).
//! * [`state_root`]: secure trie of accounts, key `keccak256(address)`, value
//!   `rlp([nonce, balance, storage_root, code_hash])`. Every account given is
//!   included, empty or not: removing empty accounts (EIP-161) is the state
//!   transition's job, not the hasher's.
//! * [`logs_hash`]: `keccak256(rlp([[address, [topics...], data], ...]))`, the
//!   `logs` field of the state test fixtures.
//!
//! The inputs are borrow-friendly views (iterators and slices) so callers
//! need not copy their state into an intermediate representation. If a key
//! appears more than once, the last occurrence wins, like inserting into a
//! map. The RLP encoding is written out here with `alloy-rlp` primitives on
//! byte slices, so this module does not depend on `alloy-primitives`' `rlp`
//! feature being enabled.
//!
//! Cost: `O(n log n)` in the number of accounts and slots, with one
//! allocation per account for its encoded leaf; fine for test-sized states.

use alloy_primitives::{keccak256, Address, B256, U256};
use alloy_rlp::{Encodable, Header};
use alloy_trie::{HashBuilder, Nibbles};

/// Root of the empty trie, `keccak256(rlp(""))`.
pub const EMPTY_ROOT: B256 = alloy_trie::EMPTY_ROOT_HASH;

/// `keccak256` of empty code, the code hash of an account without code.
pub const KECCAK_EMPTY: B256 = alloy_trie::KECCAK_EMPTY;

/// Hash of an empty log list, `keccak256(rlp([]))`.
pub const EMPTY_LOGS_HASH: B256 = B256::new([
    0x1d, 0xcc, 0x4d, 0xe8, 0xde, 0xc7, 0x5d, 0x7a, 0xab, 0x85, 0xb5, 0x67, 0xb6, 0xcc, 0xd4, 0x1a,
    0xd3, 0x12, 0x45, 0x1b, 0x94, 0x8a, 0x74, 0x13, 0xf0, 0xa1, 0x42, 0xfd, 0x40, 0xd4, 0x93, 0x47,
]);

/// One account as the state trie sees it.
///
/// `storage` is anything that yields `(slot, value)` pairs, for example
/// `map.iter().map(|(k, v)| (*k, *v))`; zero values are skipped.
#[derive(Clone, Debug)]
pub struct AccountView<S> {
    /// Account nonce.
    pub nonce: u64,
    /// Account balance in wei.
    pub balance: U256,
    /// `keccak256` of the account's code ([`KECCAK_EMPTY`] for none).
    pub code_hash: B256,
    /// The account's storage slots.
    pub storage: S,
}

/// One log entry as the logs hash sees it.
#[derive(Clone, Copy, Debug)]
pub struct LogView<'a> {
    /// The emitting contract.
    pub address: Address,
    /// The log topics (0 to 4 of them).
    pub topics: &'a [B256],
    /// The log data.
    pub data: &'a [u8],
}

/// Builds a trie from `(hashed key, value)` leaves in any order; later
/// duplicates replace earlier ones.
fn root_from_leaves(mut leaves: Vec<(B256, Vec<u8>)>) -> B256 {
    // Stable sort keeps insertion order among equal keys, so keeping the
    // last of each run implements "last wins".
    leaves.sort_by_key(|leaf| leaf.0);
    let mut hb = HashBuilder::default();
    let mut i = 0;
    while i < leaves.len() {
        let mut j = i;
        while j + 1 < leaves.len() && leaves[j + 1].0 == leaves[i].0 {
            j += 1;
        }
        let (key, value) = &leaves[j];
        if !value.is_empty() {
            hb.add_leaf(Nibbles::unpack(key), value);
        }
        i = j + 1;
    }
    hb.root()
}

/// Encodes an unsigned integer given as big-endian bytes as an RLP scalar
/// (leading zeros stripped; zero is the empty string).
fn encode_scalar(be: &[u8], out: &mut Vec<u8>) {
    let first = be.iter().position(|&b| b != 0).unwrap_or(be.len());
    be[first..].encode(out);
}

fn u256_rlp(value: &U256) -> Vec<u8> {
    let mut out = Vec::with_capacity(33);
    encode_scalar(&value.to_be_bytes::<32>(), &mut out);
    out
}

/// RLP of an account leaf: `rlp([nonce, balance, storage_root, code_hash])`.
pub fn account_rlp(nonce: u64, balance: &U256, storage_root: &B256, code_hash: &B256) -> Vec<u8> {
    let mut payload = Vec::with_capacity(110);
    encode_scalar(&nonce.to_be_bytes(), &mut payload);
    encode_scalar(&balance.to_be_bytes::<32>(), &mut payload);
    storage_root.as_slice().encode(&mut payload);
    code_hash.as_slice().encode(&mut payload);
    let mut out = Vec::with_capacity(payload.len() + 3);
    Header {
        list: true,
        payload_length: payload.len(),
    }
    .encode(&mut out);
    out.extend_from_slice(&payload);
    out
}

/// Storage root of one account: secure MPT with keys
/// `keccak256(slot.to_be_bytes())` and values `rlp(value)`. Zero values are
/// skipped; no slots (or only zero ones) gives [`EMPTY_ROOT`]. For a slot
/// given twice the last value wins.
pub fn storage_root(slots: impl IntoIterator<Item = (U256, U256)>) -> B256 {
    let leaves = slots
        .into_iter()
        .map(|(slot, value)| {
            let key = keccak256(slot.to_be_bytes::<32>());
            // An empty value marks a deleted slot (a zero write).
            let v = if value.is_zero() {
                Vec::new()
            } else {
                u256_rlp(&value)
            };
            (key, v)
        })
        .collect();
    root_from_leaves(leaves)
}

/// State root: secure MPT with keys `keccak256(address)` and values
/// `rlp([nonce, balance, storage_root(storage), code_hash])`. No accounts
/// gives [`EMPTY_ROOT`]. For an address given twice the last account wins.
pub fn state_root<S, I>(accounts: I) -> B256
where
    I: IntoIterator<Item = (Address, AccountView<S>)>,
    S: IntoIterator<Item = (U256, U256)>,
{
    let leaves = accounts
        .into_iter()
        .map(|(address, acct)| {
            let sroot = storage_root(acct.storage);
            (
                keccak256(address),
                account_rlp(acct.nonce, &acct.balance, &sroot, &acct.code_hash),
            )
        })
        .collect();
    root_from_leaves(leaves)
}

/// Logs hash of a transaction: `keccak256(rlp(list of [address, [topics],
/// data]))`, in emission order. No logs gives [`EMPTY_LOGS_HASH`].
pub fn logs_hash<'a>(logs: impl IntoIterator<Item = LogView<'a>>) -> B256 {
    let mut body = Vec::new();
    let mut log_payload = Vec::new();
    let mut topics_payload = Vec::new();
    for log in logs {
        topics_payload.clear();
        for t in log.topics {
            t.as_slice().encode(&mut topics_payload);
        }
        log_payload.clear();
        log.address.as_slice().encode(&mut log_payload);
        Header {
            list: true,
            payload_length: topics_payload.len(),
        }
        .encode(&mut log_payload);
        log_payload.extend_from_slice(&topics_payload);
        log.data.encode(&mut log_payload);

        Header {
            list: true,
            payload_length: log_payload.len(),
        }
        .encode(&mut body);
        body.extend_from_slice(&log_payload);
    }
    let mut out = Vec::with_capacity(body.len() + 9);
    Header {
        list: true,
        payload_length: body.len(),
    }
    .encode(&mut out);
    out.extend_from_slice(&body);
    keccak256(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::b256;
    use std::collections::BTreeMap;

    fn no_storage() -> std::iter::Empty<(U256, U256)> {
        std::iter::empty()
    }

    #[test]
    fn empty_roots() {
        assert_eq!(
            EMPTY_ROOT,
            b256!("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")
        );
        assert_eq!(storage_root([]), EMPTY_ROOT);
        assert_eq!(
            state_root(Vec::<(Address, AccountView<Vec<(U256, U256)>>)>::new()),
            EMPTY_ROOT
        );
        // Only zero slots: still empty.
        assert_eq!(
            storage_root([(U256::from(1), U256::ZERO), (U256::ZERO, U256::ZERO)]),
            EMPTY_ROOT
        );
        assert_eq!(keccak256([0x80u8]), EMPTY_ROOT);
        assert_eq!(keccak256([]), KECCAK_EMPTY);
    }

    #[test]
    fn empty_logs_hash() {
        assert_eq!(
            logs_hash([]),
            b256!("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347")
        );
        assert_eq!(EMPTY_LOGS_HASH, keccak256([0xc0u8]));
    }

    #[test]
    fn logs_hash_matches_alloy_log_encoding() {
        // alloy-primitives' `Log` has an RLP encoding (the `rlp` feature is
        // enabled by alloy-trie); cross-check the hand-written encoder.
        let topics = [B256::repeat_byte(0x11), B256::repeat_byte(0x22)];
        let long = vec![0x5au8; 300];
        let views = [
            LogView {
                address: Address::repeat_byte(0xaa),
                topics: &topics,
                data: &[1, 2, 3],
            },
            LogView {
                address: Address::repeat_byte(0xbb),
                topics: &[],
                data: &[],
            },
            LogView {
                address: Address::ZERO,
                topics: &topics[..1],
                data: &long,
            },
        ];
        let logs: Vec<alloy_primitives::Log> = views
            .iter()
            .map(|v| {
                alloy_primitives::Log::new_unchecked(
                    v.address,
                    v.topics.to_vec(),
                    v.data.to_vec().into(),
                )
            })
            .collect();
        let mut buf = Vec::new();
        alloy_rlp::encode_list(&logs, &mut buf);
        assert_eq!(logs_hash(views), keccak256(&buf));
    }

    #[test]
    fn single_slot_storage_root() {
        // Storage {0: 1}: one leaf; the root is keccak of the leaf node
        // rlp([hex-prefix(keccak(slot)), rlp(1)]).
        let key = keccak256([0u8; 32]);
        let mut path = vec![0x20u8];
        path.extend_from_slice(key.as_slice());
        let mut payload = Vec::new();
        path.as_slice().encode(&mut payload);
        [0x01u8].as_slice().encode(&mut payload);
        let mut node = Vec::new();
        Header {
            list: true,
            payload_length: payload.len(),
        }
        .encode(&mut node);
        node.extend_from_slice(&payload);
        assert_eq!(
            storage_root([(U256::ZERO, U256::from(1))]),
            keccak256(&node)
        );
    }

    #[test]
    fn order_duplicates_and_zeros() {
        let slots: Vec<(U256, U256)> = (1u64..50)
            .map(|i| (U256::from(i * 7919), U256::from(i)))
            .collect();
        let a = storage_root(slots.iter().copied());
        let b = storage_root(slots.iter().rev().copied());
        assert_eq!(a, b);
        let mut with_zero = slots.clone();
        with_zero.push((U256::from(123_456), U256::ZERO));
        assert_eq!(storage_root(with_zero), a);
        // Last write wins, including a zero write deleting a slot.
        let mut dup = slots.clone();
        dup.push((U256::from(7919), U256::from(999)));
        dup.push((U256::from(7919), U256::from(1)));
        assert_eq!(storage_root(dup), a);
        let mut del = slots.clone();
        del.push((U256::from(7919), U256::ZERO));
        assert_eq!(storage_root(del), storage_root(slots[1..].iter().copied()));
    }

    #[test]
    fn account_rlp_shape() {
        // Empty account: [0x80, 0x80, 0xa0 ++ EMPTY_ROOT, 0xa0 ++ KECCAK_EMPTY].
        let rlp = account_rlp(0, &U256::ZERO, &EMPTY_ROOT, &KECCAK_EMPTY);
        assert_eq!(rlp.len(), 70);
        assert_eq!(&rlp[..4], &[0xf8, 68, 0x80, 0x80]);
        let rlp = account_rlp(0x0102, &U256::from(0x7f), &EMPTY_ROOT, &KECCAK_EMPTY);
        assert_eq!(&rlp[..6], &[0xf8, 70, 0x82, 0x01, 0x02, 0x7f]);
    }

    #[test]
    fn state_root_accepts_borrowed_storage() {
        let mut storage = BTreeMap::new();
        storage.insert(U256::from(1), U256::from(2));
        let accounts = [(Address::repeat_byte(1), storage)];
        let root = state_root(accounts.iter().map(|(a, s)| {
            (
                *a,
                AccountView {
                    nonce: 1,
                    balance: U256::from(10),
                    code_hash: KECCAK_EMPTY,
                    storage: s.iter().map(|(k, v)| (*k, *v)),
                },
            )
        }));
        let expected = {
            let sroot = storage_root([(U256::from(1), U256::from(2))]);
            let leaf = account_rlp(1, &U256::from(10), &sroot, &KECCAK_EMPTY);
            let mut hb = HashBuilder::default();
            hb.add_leaf(Nibbles::unpack(keccak256(Address::repeat_byte(1))), &leaf);
            hb.root()
        };
        assert_eq!(root, expected);
        // Order of accounts does not matter.
        let a = (
            Address::repeat_byte(2),
            AccountView {
                nonce: 0,
                balance: U256::from(5),
                code_hash: KECCAK_EMPTY,
                storage: no_storage(),
            },
        );
        let b = (
            Address::repeat_byte(3),
            AccountView {
                nonce: 7,
                balance: U256::ZERO,
                code_hash: keccak256([0x60, 0x00]),
                storage: no_storage(),
            },
        );
        assert_eq!(state_root([a.clone(), b.clone()]), state_root([b, a]));
    }
}
