//! [`DbBacking`]: a revm [`Database`] as the [`Backing`] of a ferrite [`State`](ferrite_state::State).
//!
//! `Host` calls cannot fail, so the first database error is kept here and every later read
//! answers empty; the adapter checks [`DbBacking::take_error`] after the transaction and returns
//! `EVMError::Database` instead of its result. Nothing read after an error can reach the caller.
//!
//! Bytecode read from the database is kept (by code hash) so that the change set hands back the
//! database's own `Bytecode` (already analysed by revm, shared by `Arc`) instead of a copy.

use alloy_primitives::{Address, B256, U256};
use ferrite_runtime::host::KECCAK_EMPTY;
use ferrite_state::{Account, Backing};
use revm::bytecode::Bytecode;
use revm::Database;

/// Answers "has this account any storage?" for a database that can (EIP-7610's collision
/// rule); see [`FerriteEvm::set_storage_probe`](crate::FerriteEvm::set_storage_probe).
pub type StorageProbe<DB> = fn(&mut DB, Address) -> Result<bool, <DB as Database>::Error>;

/// A revm database read through ferrite's journal, one transaction at a time.
#[derive(Debug)]
pub struct DbBacking<'a, DB: Database> {
    db: &'a mut DB,
    error: Option<DB::Error>,
    /// Code read from the database, by hash (a transaction reads a few: a list beats hashing).
    codes: Vec<(B256, Bytecode)>,
    probe: Option<StorageProbe<DB>>,
}

impl<'a, DB: Database> DbBacking<'a, DB> {
    /// Reads `db`.
    pub fn new(db: &'a mut DB) -> Self {
        DbBacking {
            db,
            error: None,
            codes: Vec::new(),
            probe: None,
        }
    }

    /// Reads `db`, asking `probe` whether an account has storage (EIP-7610).
    pub fn with_probe(db: &'a mut DB, probe: Option<StorageProbe<DB>>) -> Self {
        DbBacking {
            probe,
            ..DbBacking::new(db)
        }
    }

    /// The first database error, if any (the transaction's result must then be discarded).
    pub fn take_error(&mut self) -> Option<DB::Error> {
        self.error.take()
    }

    /// The database's bytecode for `hash`, if this transaction read it.
    pub fn bytecode(&self, hash: &B256) -> Option<&Bytecode> {
        self.codes.iter().find(|(h, _)| h == hash).map(|(_, c)| c)
    }

    /// `r`'s value, or the default after remembering the first error.
    fn ok<T: Default>(&mut self, r: Result<T, DB::Error>) -> T {
        match r {
            Ok(v) => v,
            Err(e) => {
                self.error.get_or_insert(e);
                T::default()
            }
        }
    }
}

impl<DB: Database> Backing for DbBacking<'_, DB> {
    const LAZY: bool = true;

    fn account(&mut self, address: Address) -> Option<Account> {
        if self.error.is_some() {
            return None;
        }
        let r = self.db.basic(address);
        let info = self.ok(r)?;
        let mut code_hash = info.code_hash;
        if code_hash.is_zero() {
            code_hash = KECCAK_EMPTY;
        }
        let code = if code_hash == KECCAK_EMPTY {
            None
        } else if let Some(c) = &info.code {
            Some(c.clone())
        } else if let Some(c) = self.bytecode(&code_hash) {
            Some(c.clone())
        } else {
            let r = self.db.code_by_hash(code_hash);
            let c = self.ok(r);
            Some(c)
        };
        let code_bytes = match code {
            Some(c) => {
                let bytes = c.original_bytes();
                if self.bytecode(&code_hash).is_none() {
                    self.codes.push((code_hash, c));
                }
                bytes
            }
            None => Default::default(),
        };
        Some(Account {
            balance: info.balance,
            nonce: info.nonce,
            code: code_bytes,
            code_hash,
            storage: Default::default(),
        })
    }

    fn storage(&mut self, address: Address, key: U256) -> U256 {
        if self.error.is_some() {
            return U256::ZERO;
        }
        let r = self.db.storage(address, key);
        self.ok(r)
    }

    fn has_storage(&mut self, address: Address) -> bool {
        match (self.probe, self.error.is_some()) {
            (Some(probe), false) => {
                let r = probe(self.db, address);
                self.ok(r)
            }
            _ => false,
        }
    }

    fn block_hash(&mut self, number: u64) -> Option<B256> {
        if self.error.is_some() {
            return Some(B256::ZERO);
        }
        let r = self.db.block_hash(number);
        Some(self.ok(r))
    }
}
