//! In-memory world state with a journal: the [`Host`] used by the CLI, the tests and the
//! state-test runner.
//!
//! Every mutation pushes an undo record; [`Host::checkpoint`] remembers the journal length and
//! [`Host::checkpoint_revert`] pops back to it, so a reverted frame leaves no trace — balances,
//! nonces, code, storage, transient storage, warm sets (EIP-2929 says access lists revert too),
//! "touched" marks and logs alike. Per-transaction bookkeeping (original storage values for
//! EIP-2200, accounts created in the transaction for EIP-6780, destructions, touched accounts for
//! EIP-161 clean-up) lives beside the accounts and is reset by [`State::begin_tx`].
//!
//! The world either sits wholly in [`State::accounts`] (the default [`InMemory`] backing) or is
//! read on first access from a [`Backing`] (a database, e.g. revm's `Database` through
//! `ferrite-evm`): then `accounts` is the transaction's cache and the per-transaction slot
//! records ([`State::tx_slots`]) hold every slot read or written, with the value it had at the
//! start. One journal serves both, so a database-backed transaction has the same semantics as an
//! in-memory one by construction. [`InMemory`] sets [`Backing::LAZY`] to false, which removes
//! every load check at compile time.

use alloy_primitives::map::{AddressMap, AddressSet, HashMap, HashSet};
use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use ferrite_runtime::gas::SStoreValues;
use ferrite_runtime::host::{AccountStatus, Checkpoint, SelfDestructResult, KECCAK_EMPTY};
use ferrite_runtime::{Env, Host, Log, SpecId, StateLoad};
use std::collections::BTreeMap;

mod backing;
mod slots;

pub use backing::{Backing, InMemory};

/// A plain account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Wei.
    pub balance: U256,
    /// Nonce.
    pub nonce: u64,
    /// Code.
    pub code: Bytes,
    /// keccak256(code).
    pub code_hash: B256,
    /// Non-zero storage slots.
    pub storage: HashMap<U256, U256>,
}

impl Default for Account {
    fn default() -> Self {
        Account {
            balance: U256::ZERO,
            nonce: 0,
            code: Bytes::new(),
            code_hash: KECCAK_EMPTY,
            storage: HashMap::default(),
        }
    }
}

impl Account {
    /// An account with code.
    pub fn with_code(code: Bytes) -> Account {
        Account {
            code_hash: keccak256(&code),
            code,
            ..Account::default()
        }
    }

    /// EIP-161 empty: no code, zero nonce, zero balance.
    pub fn is_empty(&self) -> bool {
        self.balance.is_zero() && self.nonce == 0 && self.code.is_empty()
    }
}

/// A storage slot's address in the world: account and key.
///
/// Hashes as seven `u64` words (the derived hash of `(Address, U256)` fed the hasher two
/// length-prefixed byte slices, the slow path of the per-map-seeded hash: a fifth of a warm
/// SLOAD). Every word still goes through the seeded hasher, so colliding keys cannot be chosen
/// by a contract.
///
/// Equality compares the same words with scalar loads: the derived comparison read the key as
/// 128-bit vectors, which stalled on the 64-bit stores that had just built it (a fifth of the
/// look-up).
#[derive(Clone, Copy, Debug, Eq)]
struct SlotKey(Address, U256);

impl SlotKey {
    #[inline]
    fn words(&self) -> ([u64; 2], u32, &[u64; 4]) {
        let a = self.0.as_slice();
        let word = |i: usize| u64::from_le_bytes(a[i..i + 8].try_into().unwrap_or_default());
        let tail = u32::from_le_bytes(a[16..20].try_into().unwrap_or_default());
        ([word(0), word(8)], tail, self.1.as_limbs())
    }
}

impl PartialEq for SlotKey {
    #[inline]
    fn eq(&self, other: &SlotKey) -> bool {
        let (a, at, k) = self.words();
        let (b, bt, l) = other.words();
        ((k[0] ^ l[0])
            | (k[1] ^ l[1])
            | (k[2] ^ l[2])
            | (k[3] ^ l[3])
            | (a[0] ^ b[0])
            | (a[1] ^ b[1]))
            == 0
            && at == bt
    }
}

impl std::hash::Hash for SlotKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let (a, tail, k) = self.words();
        state.write_u64(a[0]);
        state.write_u64(a[1]);
        state.write_u32(tail);
        for limb in k {
            state.write_u64(*limb);
        }
    }
}

/// The RIPEMD-160 precompile's address, whose touch survives a revert.
const RIPEMD160: Address = Address::with_last_byte(3);

/// What a transaction remembers about a storage slot it touched.
///
/// `present` caches the slot's current value so a warm SLOAD or SSTORE costs one hash look-up
/// instead of three (this map, the account, its storage). Every write to account storage goes
/// through [`Host::sstore`] or the journal's undo, and both keep it in step; the map is emptied
/// at transaction boundaries, the only times accounts are changed from outside.
#[derive(Clone, Copy, Debug)]
struct TxSlot {
    original: U256,
    present: U256,
    warm: bool,
    /// Read or written (not only warmed by an access list); never undone, like a database read.
    accessed: bool,
}

fn slot_value(accounts: &AddressMap<Account>, address: &Address, key: &U256) -> U256 {
    accounts
        .get(address)
        .and_then(|a| a.storage.get(key).copied())
        .unwrap_or_default()
}

/// A slot's first record in the transaction, with the value the slot has at the transaction's
/// start: from `accounts` in memory, from the backing otherwise (zero, without a read, for an
/// account created in this transaction: its storage starts empty).
fn new_slot<B: Backing>(
    accounts: &AddressMap<Account>,
    backing: &mut B,
    created: &AddressSet,
    address: Address,
    key: U256,
) -> TxSlot {
    let v = if !B::LAZY {
        slot_value(accounts, &address, &key)
    } else if created.contains(&address) {
        U256::ZERO
    } else {
        read_slot(backing, address, key)
    };
    TxSlot {
        original: v,
        present: v,
        warm: false,
        accessed: false,
    }
}

/// `n` when `address` is `0x00…00nn` with `nn` < 64 (the precompiles but P-256's `0x…0100`).
#[inline]
fn low_address(address: &Address) -> Option<u32> {
    let b = address.as_slice();
    let high = u64::from_le_bytes(b[..8].try_into().unwrap_or([1; 8]))
        | u64::from_le_bytes(b[8..16].try_into().unwrap_or([1; 8]))
        | u64::from(u32::from_le_bytes(b[16..20].try_into().unwrap_or([1; 4])) & 0x00ff_ffff);
    (high == 0 && b[19] < 64).then_some(u32::from(b[19]))
}

/// A slot's first read from the backing (out of line, as [`State::load_cold`]).
#[cold]
#[inline(never)]
fn read_slot<B: Backing>(backing: &mut B, address: Address, key: U256) -> U256 {
    backing.storage(address, key)
}

#[derive(Debug)]
enum Entry {
    Created(Address),
    Replaced(Address, Box<Account>),
    Balance(Address, U256),
    Nonce(Address, u64),
    Code(Address, Bytes, B256),
    /// A slot's previous value (with a lazy backing the account's map does not hold it).
    Storage(Address, U256, U256),
    Transient(Address, U256, U256),
    WarmAccount(Address),
    WarmSlot(Address, U256),
    Touched(Address),
    CreatedInTx(Address),
    Destroyed(Address),
}

/// World state plus the current block/transaction environment.
#[derive(Debug)]
pub struct State<B: Backing = InMemory> {
    /// Accounts that exist.
    pub accounts: AddressMap<Account>,
    /// Block and transaction environment.
    pub env: Env,
    /// Active fork.
    pub spec: SpecId,
    /// Known block hashes; missing ones default to keccak256 of the decimal block number (the
    /// convention of the Ethereum state tests).
    pub block_hashes: BTreeMap<u64, B256>,
    /// Logs of the current transaction.
    pub logs: Vec<Log>,
    journal: Vec<Entry>,
    warm_accounts: AddressSet,
    /// Addresses `0x…00nn` (nn < 64) warm for the whole transaction, as bits: the precompiles,
    /// warmed at every transaction's start, cost a bit each instead of a hashed insert.
    warm_low: u64,
    /// Per-transaction slot record: EIP-2200 original value, present value and EIP-2929
    /// warmth, one look-up (see [`TxSlot`]).
    tx_slots: slots::TxSlots,
    transient: HashMap<(Address, U256), U256>,
    touched: AddressSet,
    created: AddressSet,
    destroyed: AddressSet,
    /// Where accounts and slots not yet in `accounts` come from.
    pub backing: B,
    /// With a lazy backing: the addresses read from it, and whether each existed there.
    loaded: AddressMap<bool>,
}

impl State {
    /// Empty state.
    pub fn new(spec: SpecId, env: Env) -> State {
        State::with_backing(spec, env, InMemory)
    }
}

impl<B: Backing> State<B> {
    /// State read from `backing` on first access. Reads are cached for the state's life, so a
    /// state over a backing serves one transaction: make a new one when the backing changes
    /// (after the caller commits).
    pub fn with_backing(spec: SpecId, env: Env, backing: B) -> State<B> {
        // A lazy state lives for one transaction, which touches a handful of accounts: room
        // for them up front saves growing each set from nothing (a tenth of a small call).
        let room = if B::LAZY { 8 } else { 0 };
        let set = || HashSet::with_capacity_and_hasher(room, Default::default());
        State {
            backing,
            loaded: HashMap::with_capacity_and_hasher(room, Default::default()),
            accounts: HashMap::with_capacity_and_hasher(room, Default::default()),
            env,
            spec,
            block_hashes: BTreeMap::new(),
            logs: Vec::new(),
            journal: Vec::new(),
            warm_accounts: set(),
            warm_low: 0,
            tx_slots: slots::TxSlots::default(),
            transient: HashMap::default(),
            touched: set(),
            created: HashSet::default(),
            destroyed: HashSet::default(),
        }
    }

    /// Inserts or replaces an account (outside any transaction).
    pub fn insert_account(&mut self, address: Address, account: Account) {
        self.accounts.insert(address, account);
    }

    /// Starts a transaction: clears warm sets, transient storage and per-transaction marks.
    pub fn begin_tx(&mut self) {
        self.journal.clear();
        self.logs.clear();
        self.warm_accounts.clear();
        self.warm_low = 0;
        self.tx_slots.clear();
        self.transient.clear();
        self.touched.clear();
        self.created.clear();
        self.destroyed.clear();
    }

    /// Pre-warms an account (EIP-2929 tx-level warm set, access lists).
    pub fn warm_account(&mut self, address: Address) {
        match low_address(&address) {
            Some(n) => self.warm_low |= 1 << n,
            None => {
                self.warm_accounts.insert(address);
            }
        }
    }

    /// Pre-warms a storage slot (EIP-2930 access lists).
    pub fn warm_slot(&mut self, address: Address, key: U256) {
        self.slot(address, key).warm = true;
    }

    /// The index of a slot's record past the slot cache, made on first touch ([`new_slot`]).
    #[inline(never)]
    fn slot_index(&mut self, k: &SlotKey) -> usize {
        let (accounts, backing, created) = (&self.accounts, &mut self.backing, &self.created);
        self.tx_slots
            .find_or_insert(k, || new_slot(accounts, backing, created, k.0, k.1))
    }

    /// The index of the transaction's record of a slot, made on first touch. The slot cache's
    /// hit in line, everything else out of line ([`State::slot_index`]): the miss path's set-up
    /// (its closure's captures) was paid by every warm SLOAD.
    #[inline(always)]
    fn slot_at(&mut self, address: Address, key: U256) -> usize {
        let k = SlotKey(address, key);
        match self.tx_slots.cached(&k) {
            Some(i) => i,
            None => self.slot_index(&k),
        }
    }

    /// The transaction's record of a slot ([`State::slot_at`]).
    fn slot(&mut self, address: Address, key: U256) -> &mut TxSlot {
        let i = self.slot_at(address, key);
        self.tx_slots.record_mut(i)
    }

    /// Reads `address` from the backing the first time it is asked for (a no-op in memory).
    #[inline]
    fn load(&mut self, address: Address) {
        if B::LAZY && !self.loaded.contains_key(&address) {
            self.load_cold(address);
        }
    }

    /// The first read of `address` (out of line: the interpreter inlines host calls, and this
    /// path must not weigh on its code).
    #[cold]
    #[inline(never)]
    fn load_cold(&mut self, address: Address) {
        let account = self.backing.account(address);
        self.loaded.insert(address, account.is_some());
        if let Some(account) = account {
            self.accounts.insert(address, account);
        }
    }

    /// The account at `address`, if it exists (read from the backing on first access).
    pub fn account(&mut self, address: Address) -> Option<&Account> {
        self.load(address);
        self.accounts.get(&address)
    }

    /// Whether `address` existed in the backing when first read (`None`: not read; always
    /// `None` in memory).
    pub fn existed_in_backing(&self, address: &Address) -> Option<bool> {
        self.loaded.get(address).copied()
    }

    /// The addresses touched in this transaction (EIP-161 sense: calls, transfers, creations,
    /// fee payments).
    pub fn touched(&self) -> impl Iterator<Item = &Address> {
        self.touched.iter()
    }

    /// Whether `address` was created (CREATE/CREATE2 or the creating transaction) in this
    /// transaction.
    pub fn created_in_tx(&self, address: &Address) -> bool {
        self.created.contains(address)
    }

    /// Whether `address` self-destructed in this transaction (removed at its end).
    pub fn destroyed_in_tx(&self, address: &Address) -> bool {
        self.destroyed.contains(address)
    }

    /// The slots this transaction read or wrote (not those an access list only warmed):
    /// (address, key, value at its start, value now).
    pub fn tx_slots(&self) -> impl Iterator<Item = (Address, U256, U256, U256)> + '_ {
        self.tx_slots
            .iter()
            .filter(|(_, s)| s.accessed)
            .map(|(k, s)| (k.0, k.1, s.original, s.present))
    }

    /// Pays `amount` to `address` outside any frame (the coinbase's fee after a transaction, a
    /// block reward), creating the account when absent and touching it, so that since EIP-161 an
    /// account left empty is removed by [`finalize_tx`](Self::finalize_tx).
    pub fn credit(&mut self, address: Address, amount: U256) {
        self.load(address);
        self.accounts.entry(address).or_default().balance += amount;
        self.touch(address);
    }

    /// Ends a transaction: removes self-destructed accounts and, since EIP-161, touched empty
    /// accounts. The journal is discarded (the transaction is final).
    pub fn finalize_tx(&mut self) {
        for a in self.destroyed.drain() {
            self.accounts.remove(&a);
        }
        if self.spec.is_enabled_in(SpecId::SpuriousDragon) {
            for a in self.touched.drain() {
                if self.accounts.get(&a).is_some_and(Account::is_empty) {
                    self.accounts.remove(&a);
                }
            }
        }
        self.journal.clear();
        self.tx_slots.clear();
    }

    /// Storage value (0 when absent) as held in `accounts` (in memory: the world's; with a
    /// lazy backing only the slots written by the transaction).
    pub fn storage(&self, address: &Address, key: &U256) -> U256 {
        slot_value(&self.accounts, address, key)
    }

    /// Account that must exist for a write: created (journaled) when absent. One look-up (a
    /// test for the key and then `entry` hashed and probed twice on every balance and storage
    /// write).
    fn account_mut(&mut self, address: Address) -> &mut Account {
        self.load(address);
        match self.accounts.entry(address) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                self.journal.push(Entry::Created(address));
                e.insert(Account::default())
            }
        }
    }

    fn warm(&mut self, address: Address) -> bool {
        if let Some(n) = low_address(&address) {
            if self.warm_low & (1 << n) != 0 {
                return false;
            }
        }
        let cold = self.warm_accounts.insert(address);
        if cold {
            self.journal.push(Entry::WarmAccount(address));
        }
        cold
    }

    /// Marks a slot warm; returns whether it was cold and its record (original and present
    /// value), created on first touch.
    fn touch_slot(&mut self, address: Address, key: U256) -> (bool, &mut TxSlot) {
        let i = self.slot_at(address, key);
        let slot = self.tx_slots.record_mut(i);
        let cold = !slot.warm;
        slot.warm = true;
        slot.accessed = true;
        if cold {
            self.journal.push(Entry::WarmSlot(address, key));
        }
        (cold, slot)
    }

    fn set_balance(&mut self, address: Address, balance: U256) {
        let acc = self.account_mut(address);
        let old = std::mem::replace(&mut acc.balance, balance);
        self.journal.push(Entry::Balance(address, old));
    }

    fn mark_destroyed(&mut self, address: Address) -> bool {
        let fresh = self.destroyed.insert(address);
        if fresh {
            self.journal.push(Entry::Destroyed(address));
        }
        !fresh
    }

    fn undo(&mut self, e: Entry) {
        match e {
            Entry::Created(a) => {
                self.accounts.remove(&a);
            }
            Entry::Replaced(a, acc) => {
                self.accounts.insert(a, *acc);
            }
            Entry::Balance(a, v) => {
                if let Some(acc) = self.accounts.get_mut(&a) {
                    acc.balance = v;
                }
            }
            Entry::Nonce(a, v) => {
                if let Some(acc) = self.accounts.get_mut(&a) {
                    acc.nonce = v;
                }
            }
            Entry::Code(a, c, h) => {
                if let Some(acc) = self.accounts.get_mut(&a) {
                    acc.code = c;
                    acc.code_hash = h;
                }
            }
            Entry::Storage(a, k, old) => {
                // The slot's value after the undo: the old one, or zero without the account.
                let restored = match self.accounts.get_mut(&a) {
                    Some(acc) => {
                        if old.is_zero() {
                            acc.storage.remove(&k);
                        } else {
                            acc.storage.insert(k, old);
                        }
                        old
                    }
                    None => U256::ZERO,
                };
                if let Some(s) = self.tx_slots.get_mut(&SlotKey(a, k)) {
                    s.present = restored;
                }
            }
            Entry::Transient(a, k, v) => {
                if v.is_zero() {
                    self.transient.remove(&(a, k));
                } else {
                    self.transient.insert((a, k), v);
                }
            }
            Entry::WarmAccount(a) => {
                self.warm_accounts.remove(&a);
            }
            Entry::WarmSlot(a, k) => {
                if let Some(s) = self.tx_slots.get_mut(&SlotKey(a, k)) {
                    s.warm = false;
                }
            }
            // The RIPEMD-160 precompile stays touched when the frame that touched it reverts:
            // the consensus exception of mainnet block 2,675,119 (a reverted call touched the
            // empty 0x03, which Parity then deleted; every client keeps that behaviour since
            // EIP-161, geth by marking it dirty outside the journal).
            Entry::Touched(a) if a == RIPEMD160 => {}
            Entry::Touched(a) => {
                self.touched.remove(&a);
            }
            Entry::CreatedInTx(a) => {
                self.created.remove(&a);
            }
            Entry::Destroyed(a) => {
                self.destroyed.remove(&a);
            }
        }
    }
}

impl<B: Backing> Host for State<B> {
    fn env(&self) -> &Env {
        &self.env
    }

    fn spec(&self) -> SpecId {
        self.spec
    }

    fn block_hash(&mut self, number: u64) -> B256 {
        if B::LAZY {
            if let Some(h) = self.backing.block_hash(number) {
                return h;
            }
        }
        self.block_hashes
            .get(&number)
            .copied()
            .unwrap_or_else(|| keccak256(number.to_string().as_bytes()))
    }

    fn access_account(&mut self, address: Address) -> bool {
        self.warm(address)
    }

    fn account_status(&mut self, address: Address) -> StateLoad<AccountStatus> {
        self.load(address);
        let cold = self.warm(address);
        let status = match self.accounts.get(&address) {
            Some(a) => AccountStatus {
                exists: true,
                is_empty: a.is_empty(),
            },
            None => AccountStatus {
                exists: false,
                is_empty: true,
            },
        };
        StateLoad::new(status, cold)
    }

    fn balance(&mut self, address: Address) -> StateLoad<U256> {
        self.load(address);
        let cold = self.warm(address);
        let b = self
            .accounts
            .get(&address)
            .map(|a| a.balance)
            .unwrap_or_default();
        StateLoad::new(b, cold)
    }

    fn code(&mut self, address: Address) -> StateLoad<Bytes> {
        self.load(address);
        let cold = self.warm(address);
        let c = self
            .accounts
            .get(&address)
            .map(|a| a.code.clone())
            .unwrap_or_default();
        StateLoad::new(c, cold)
    }

    fn code_with_hash(&mut self, address: Address) -> (Bytes, B256) {
        self.load(address);
        self.warm(address);
        match self.accounts.get(&address) {
            Some(a) => (a.code.clone(), a.code_hash),
            None => (Bytes::new(), KECCAK_EMPTY),
        }
    }

    fn code_hash(&mut self, address: Address) -> StateLoad<B256> {
        self.load(address);
        let cold = self.warm(address);
        let h = match self.accounts.get(&address) {
            Some(a) if !a.is_empty() => a.code_hash,
            _ => B256::ZERO,
        };
        StateLoad::new(h, cold)
    }

    fn sload(&mut self, address: Address, key: U256) -> StateLoad<U256> {
        let (cold, slot) = self.touch_slot(address, key);
        StateLoad::new(slot.present, cold)
    }

    fn sstore(&mut self, address: Address, key: U256, value: U256) -> StateLoad<SStoreValues> {
        let (cold, slot) = self.touch_slot(address, key);
        let (original, present) = (slot.original, slot.present);
        slot.present = value;
        if present != value {
            let acc = self.account_mut(address);
            if value.is_zero() {
                acc.storage.remove(&key);
            } else {
                acc.storage.insert(key, value);
            }
            self.journal.push(Entry::Storage(address, key, present));
        }
        StateLoad::new(
            SStoreValues {
                original,
                present,
                new: value,
            },
            cold,
        )
    }

    fn tload(&mut self, address: Address, key: U256) -> U256 {
        self.transient
            .get(&(address, key))
            .copied()
            .unwrap_or_default()
    }

    fn tstore(&mut self, address: Address, key: U256, value: U256) {
        let old = if value.is_zero() {
            self.transient.remove(&(address, key))
        } else {
            self.transient.insert((address, key), value)
        };
        self.journal
            .push(Entry::Transient(address, key, old.unwrap_or_default()));
    }

    fn log(&mut self, log: Log) {
        self.logs.push(log);
    }

    fn selfdestruct(&mut self, address: Address, target: Address) -> StateLoad<SelfDestructResult> {
        self.load(address);
        self.load(target);
        let target_cold = self.warm(target);
        let (target_exists, target_is_empty) = match self.accounts.get(&target) {
            Some(a) => (true, a.is_empty()),
            None => (false, true),
        };
        let balance = self
            .accounts
            .get(&address)
            .map(|a| a.balance)
            .unwrap_or_default();
        let eip6780 = self.spec.is_enabled_in(SpecId::Cancun) && !self.created.contains(&address);
        if target != address {
            let tb = self
                .accounts
                .get(&target)
                .map(|a| a.balance)
                .unwrap_or_default();
            self.set_balance(target, tb.saturating_add(balance));
            self.set_balance(address, U256::ZERO);
        } else if !eip6780 {
            // Destroying into itself burns the balance.
            self.set_balance(address, U256::ZERO);
        }
        self.touch(target);
        let previously_destroyed = if eip6780 {
            false
        } else {
            self.mark_destroyed(address)
        };
        StateLoad::new(
            SelfDestructResult {
                had_value: !balance.is_zero(),
                target_exists,
                target_is_empty,
                previously_destroyed,
            },
            target_cold,
        )
    }

    fn checkpoint(&mut self) -> Checkpoint {
        Checkpoint {
            journal: self.journal.len(),
            logs: self.logs.len(),
        }
    }

    fn checkpoint_commit(&mut self) {}

    fn checkpoint_revert(&mut self, checkpoint: Checkpoint) {
        while self.journal.len() > checkpoint.journal {
            if let Some(e) = self.journal.pop() {
                self.undo(e);
            }
        }
        self.logs.truncate(checkpoint.logs);
    }

    fn transfer(&mut self, from: Address, to: Address, value: U256) -> bool {
        self.load(from);
        self.load(to);
        let fb = self
            .accounts
            .get(&from)
            .map(|a| a.balance)
            .unwrap_or_default();
        if fb < value {
            return false;
        }
        self.touch(from);
        self.touch(to);
        if from == to || value.is_zero() {
            // Still materialise the recipient (pre-EIP-161 calls create empty accounts).
            self.account_mut(to);
            return true;
        }
        self.set_balance(from, fb - value);
        let tb = self
            .accounts
            .get(&to)
            .map(|a| a.balance)
            .unwrap_or_default();
        self.set_balance(to, tb.saturating_add(value));
        true
    }

    fn nonce(&mut self, address: Address) -> u64 {
        self.load(address);
        self.accounts.get(&address).map(|a| a.nonce).unwrap_or(0)
    }

    fn bump_nonce(&mut self, address: Address) -> Option<u64> {
        let acc = self.account_mut(address);
        let old = acc.nonce;
        acc.nonce = old.checked_add(1)?;
        self.journal.push(Entry::Nonce(address, old));
        Some(old)
    }

    fn create_account(&mut self, address: Address) -> bool {
        self.load(address);
        if let Some(a) = self.accounts.get(&address) {
            if !a.code.is_empty() || a.nonce != 0 || !a.storage.is_empty() {
                return false;
            }
            // With a lazy backing the map holds only this transaction's writes.
            if B::LAZY && self.backing.has_storage(address) {
                return false;
            }
        }
        let nonce = u64::from(self.spec.is_enabled_in(SpecId::SpuriousDragon));
        let balance = self
            .accounts
            .get(&address)
            .map(|a| a.balance)
            .unwrap_or_default();
        let fresh = Account {
            balance,
            nonce,
            ..Account::default()
        };
        match self.accounts.insert(address, fresh) {
            Some(old) => self.journal.push(Entry::Replaced(address, Box::new(old))),
            None => self.journal.push(Entry::Created(address)),
        }
        if self.created.insert(address) {
            self.journal.push(Entry::CreatedInTx(address));
        }
        self.touch(address);
        true
    }

    fn set_code(&mut self, address: Address, code: Bytes) {
        let hash = keccak256(&code);
        let acc = self.account_mut(address);
        let old_code = std::mem::replace(&mut acc.code, code);
        let old_hash = std::mem::replace(&mut acc.code_hash, hash);
        self.journal.push(Entry::Code(address, old_code, old_hash));
    }

    fn touch(&mut self, address: Address) {
        if self.touched.insert(address) {
            self.journal.push(Entry::Touched(address));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(v: u64) -> U256 {
        U256::from(v)
    }

    /// The transaction's slot record caches the present value: every path that changes account
    /// storage (SSTORE, nested reverts, the next transaction) must be seen by the next SLOAD,
    /// while the original value stays the one at the transaction's start.
    #[test]
    fn slot_cache_follows_writes_and_reverts() {
        let a = Address::repeat_byte(0xaa);
        let mut acc = Account::default();
        acc.storage.insert(word(1), word(10));
        let mut s = State::new(SpecId::Cancun, Env::default());
        s.insert_account(a, acc);
        s.begin_tx();
        let first = s.sload(a, word(1));
        assert_eq!((first.data, first.is_cold), (word(10), true));
        let outer = s.checkpoint();
        let w = s.sstore(a, word(1), word(11)).data;
        assert_eq!(
            (w.original, w.present, w.new),
            (word(10), word(10), word(11))
        );
        let inner = s.checkpoint();
        s.sstore(a, word(1), U256::ZERO);
        s.sstore(a, word(2), word(5));
        assert_eq!(s.sload(a, word(1)).data, U256::ZERO);
        s.checkpoint_revert(inner);
        assert_eq!(s.sload(a, word(1)).data, word(11));
        assert_eq!(s.sload(a, word(2)).data, U256::ZERO);
        assert_eq!(s.storage(&a, &word(2)), U256::ZERO);
        let w = s.sstore(a, word(1), word(12)).data;
        assert_eq!((w.original, w.present), (word(10), word(11)));
        s.checkpoint_revert(outer);
        let after = s.sload(a, word(1));
        // Back to the value of the start; still warm (warmed before the outer checkpoint).
        assert_eq!((after.data, after.is_cold), (word(10), false));
        s.sstore(a, word(1), word(13));
        s.finalize_tx();
        // Between transactions the accounts may be edited directly; the next one must see it.
        if let Some(acc) = s.accounts.get_mut(&a) {
            acc.storage.insert(word(1), word(14));
        }
        s.begin_tx();
        let w = s.sstore(a, word(1), word(15)).data;
        assert_eq!((w.original, w.present), (word(14), word(14)));
    }
}

#[cfg(test)]
mod backing_tests {
    use super::*;

    /// A world of one account with one slot, counting reads.
    #[derive(Debug, Default)]
    struct OneSlot {
        reads: usize,
    }

    const AT: Address = Address::repeat_byte(0xaa);

    impl Backing for OneSlot {
        const LAZY: bool = true;

        fn account(&mut self, address: Address) -> Option<Account> {
            self.reads += 1;
            (address == AT).then(|| Account {
                nonce: 1,
                ..Account::default()
            })
        }

        fn storage(&mut self, address: Address, key: U256) -> U256 {
            self.reads += 1;
            if address == AT && key == U256::from(3) {
                U256::from(8)
            } else {
                U256::ZERO
            }
        }

        fn block_hash(&mut self, _: u64) -> Option<B256> {
            None
        }
    }

    /// Regression (adapter differential, Prague seed 0x943b2f7a1567c39b): with a lazy backing
    /// the account's storage map does not hold the database's values, so undoing an SSTORE
    /// must restore the slot's previous value, not what the map held (nothing: it read 0).
    #[test]
    fn reverted_sstore_restores_the_backing_value() {
        let mut s = State::with_backing(SpecId::Prague, Env::default(), OneSlot::default());
        s.begin_tx();
        let cp = s.checkpoint();
        let w = s.sstore(AT, U256::from(3), U256::ZERO).data;
        assert_eq!((w.original, w.present), (U256::from(8), U256::from(8)));
        s.checkpoint_revert(cp);
        assert_eq!(s.sload(AT, U256::from(3)).data, U256::from(8));
        let slots: Vec<_> = s.tx_slots().collect();
        assert_eq!(
            slots,
            vec![(AT, U256::from(3), U256::from(8), U256::from(8))]
        );
        // Each account and slot is read once.
        s.balance(AT);
        s.sload(AT, U256::from(3));
        assert_eq!(s.backing.reads, 2);
    }
}
