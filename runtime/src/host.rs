//! The `Host` trait: everything a frame asks of the world.
//!
//! Grouped as evmone/EVMC do: block and transaction environment, account and storage reads and
//! writes (each reporting EIP-2929 cold/warm), logs, and the journal operations the frame driver
//! uses to run nested calls (checkpoint / commit / revert, value transfer, account creation).
//! The host owns warm/cold tracking because access lists are journaled with the rest of the state.

use crate::fork::SpecId;
use crate::gas::SStoreValues;
use crate::word::{Address, B256, U256};
pub use alloy_primitives::Bytes;

/// keccak256 of the empty string: the code hash of an account without code.
pub const KECCAK_EMPTY: B256 =
    alloy_primitives::b256!("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");

/// Block and transaction environment (read-only during execution).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Env {
    /// CHAINID.
    pub chain_id: u64,
    /// COINBASE.
    pub coinbase: Address,
    /// NUMBER.
    pub number: U256,
    /// TIMESTAMP.
    pub timestamp: U256,
    /// GASLIMIT (block).
    pub gas_limit: U256,
    /// BASEFEE (London+).
    pub basefee: U256,
    /// DIFFICULTY before the Merge, PREVRANDAO after.
    pub prevrandao: U256,
    /// BLOBBASEFEE (Cancun+).
    pub blob_basefee: U256,
    /// ORIGIN.
    pub origin: Address,
    /// GASPRICE (effective).
    pub gas_price: U256,
    /// BLOBHASH values of the transaction.
    pub blob_hashes: Vec<B256>,
}

/// The environment's words as compiled code reads them in place: one load per half instead of a
/// helper call for ORIGIN, GASPRICE, COINBASE, TIMESTAMP, NUMBER, PREVRANDAO, GASLIMIT, CHAINID,
/// BASEFEE, BLOBBASEFEE and BLOBHASH. The frame driver builds it once per transaction (the
/// environment does not change during one) and compiled code finds it through
/// [`HostRef::env`](crate::builtins::HostRef). Each field is the word the interpreter pushes
/// for the same opcode ([`EnvWords::new`] converts with the same functions), and the JIT's
/// tests compare the two tiers on a non-default environment.
#[repr(C)]
#[derive(Debug)]
pub struct EnvWords {
    /// ORIGIN.
    pub origin: U256,
    /// GASPRICE.
    pub gas_price: U256,
    /// COINBASE.
    pub coinbase: U256,
    /// TIMESTAMP.
    pub timestamp: U256,
    /// NUMBER.
    pub number: U256,
    /// PREVRANDAO (DIFFICULTY before the Merge).
    pub prevrandao: U256,
    /// GASLIMIT.
    pub gas_limit: U256,
    /// CHAINID.
    pub chain_id: U256,
    /// BASEFEE.
    pub basefee: U256,
    /// BLOBBASEFEE.
    pub blob_basefee: U256,
    /// Zero: what BLOBHASH reads for an index past the transaction's blobs.
    pub zero: U256,
    /// The transaction's blob hashes as words (`blob_len` of them; `blobs` owns them).
    pub blob_ptr: *const U256,
    /// Number of blob hashes.
    pub blob_len: u64,
    blobs: Vec<U256>,
}

impl EnvWords {
    /// The words of `env`.
    pub fn new(env: &Env) -> EnvWords {
        let blobs: Vec<U256> = env
            .blob_hashes
            .iter()
            .map(|h| U256::from_be_bytes(h.0))
            .collect();
        EnvWords {
            origin: crate::word::from_address(env.origin),
            gas_price: env.gas_price,
            coinbase: crate::word::from_address(env.coinbase),
            timestamp: env.timestamp,
            number: env.number,
            prevrandao: env.prevrandao,
            gas_limit: env.gas_limit,
            chain_id: U256::from(env.chain_id),
            basefee: env.basefee,
            blob_basefee: env.blob_basefee,
            zero: U256::ZERO,
            blob_ptr: blobs.as_ptr(),
            blob_len: blobs.len() as u64,
            blobs,
        }
    }
}

/// A value read from state and whether that access was cold (EIP-2929).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct StateLoad<T> {
    /// The value.
    pub data: T,
    /// True when the account or slot was not yet accessed in this transaction.
    pub is_cold: bool,
}

impl<T> StateLoad<T> {
    /// Wraps a value.
    pub const fn new(data: T, is_cold: bool) -> StateLoad<T> {
        StateLoad { data, is_cold }
    }
}

/// Facts about an account needed to price a CALL or SELFDESTRUCT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct AccountStatus {
    /// The account is in the state trie (even if empty).
    pub exists: bool,
    /// EIP-161 empty: no code, zero nonce, zero balance.
    pub is_empty: bool,
}

/// What SELFDESTRUCT did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SelfDestructResult {
    /// The destroyed account held a non-zero balance.
    pub had_value: bool,
    /// The beneficiary existed before (for the new-account surcharge).
    pub target_exists: bool,
    /// The beneficiary is EIP-161 empty.
    pub target_is_empty: bool,
    /// The account was already scheduled for destruction in this transaction.
    pub previously_destroyed: bool,
}

/// A LOG record.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Log {
    /// Emitting contract.
    pub address: Address,
    /// Up to four topics.
    pub topics: Vec<B256>,
    /// Data.
    pub data: Bytes,
}

/// Opaque journal position returned by [`Host::checkpoint`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Journal length.
    pub journal: usize,
    /// Log count.
    pub logs: usize,
}

/// The world as seen by an executing frame.
pub trait Host {
    /// Block and transaction environment.
    fn env(&self) -> &Env;
    /// The active fork.
    fn spec(&self) -> SpecId;
    /// Hash of block `number` (the caller enforced the 256-block window).
    fn block_hash(&mut self, number: u64) -> B256;

    /// Marks an address warm; returns whether it was cold.
    fn access_account(&mut self, address: Address) -> bool;
    /// Existence / emptiness of an account (warms it).
    fn account_status(&mut self, address: Address) -> StateLoad<AccountStatus>;
    /// BALANCE (warms the account).
    fn balance(&mut self, address: Address) -> StateLoad<U256>;
    /// Raw code (EIP-7702 designators are returned as stored), warming the account.
    fn code(&mut self, address: Address) -> StateLoad<Bytes>;
    /// Code to execute and its keccak256 hash (hosts that store the hash should return it rather
    /// than let every call re-hash up to 24 KiB of code).
    fn code_with_hash(&mut self, address: Address) -> (Bytes, B256) {
        let code = self.code(address).data;
        let hash = crate::word::keccak256(&code);
        (code, hash)
    }
    /// EXTCODEHASH value: zero for a non-existent or EIP-161-empty account.
    fn code_hash(&mut self, address: Address) -> StateLoad<B256>;
    /// SLOAD.
    fn sload(&mut self, address: Address, key: U256) -> StateLoad<U256>;
    /// SSTORE: writes and returns (original, present, new) for pricing.
    fn sstore(&mut self, address: Address, key: U256, value: U256) -> StateLoad<SStoreValues>;
    /// TLOAD (EIP-1153).
    fn tload(&mut self, address: Address, key: U256) -> U256;
    /// TSTORE (EIP-1153).
    fn tstore(&mut self, address: Address, key: U256, value: U256);
    /// Appends a log.
    fn log(&mut self, log: Log);
    /// SELFDESTRUCT of `address` in favour of `target` (fork rules, EIP-6780 included).
    fn selfdestruct(&mut self, address: Address, target: Address) -> StateLoad<SelfDestructResult>;

    /// Opens a journal scope.
    fn checkpoint(&mut self) -> Checkpoint;
    /// Closes a scope keeping its changes.
    fn checkpoint_commit(&mut self);
    /// Closes a scope undoing its changes (state, warm sets, transient storage, logs).
    fn checkpoint_revert(&mut self, checkpoint: Checkpoint);
    /// Moves `value` wei; false (nothing changed) when `from` cannot afford it. Touches both.
    fn transfer(&mut self, from: Address, to: Address, value: U256) -> bool;
    /// The account's nonce.
    fn nonce(&mut self, address: Address) -> u64;
    /// Increments the nonce; `None` (unchanged) on overflow.
    fn bump_nonce(&mut self, address: Address) -> Option<u64>;
    /// Creates a contract account at `address` for CREATE/CREATE2: false on collision (code or
    /// nonce present). Marks it created in this transaction and sets its nonce to 1 (EIP-161).
    fn create_account(&mut self, address: Address) -> bool;
    /// Sets an account's code.
    fn set_code(&mut self, address: Address, code: Bytes);
    /// Marks an account touched (EIP-161 clean-up).
    fn touch(&mut self, address: Address);
}
