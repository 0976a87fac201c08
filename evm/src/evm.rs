//! [`FerriteEvm`]: alloy-evm's [`Evm`] with ferrite executing the transactions.
//!
//! It wraps alloy-evm's own [`EthEvm`] (revm's mainnet EVM), which holds the database, the
//! block and configuration, the inspector and the precompiles, so every accessor the trait
//! asks for is the standard one. A transaction runs on ferrite — its journal over the database,
//! its interpreter or native code from the shared [`Engine`] — unless ferrite cannot honour
//! the request exactly, in which case it runs on the wrapped revm EVM and the factory's
//! [`Counters`] say so:
//! - **an inspector is enabled**: revm's inspectors observe revm's interpreter (its `step`
//!   hooks see revm's stack and memory), which ferrite's tiers do not run, so the transaction
//!   runs in revm's interpreter with the inspector attached. Never is an inspector skipped;
//! - **the configuration leaves Ethereum's rules** (a disabled check, custom gas parameters or
//!   size limits, a fork ferrite lacks), or **the precompiles were customised** through
//!   [`Evm::precompiles_mut`]: ferrite implements the standard set only.

use crate::convert;
use crate::db::{DbBacking, StorageProbe};
use alloy_evm::eth::{EthEvm, EthEvmContext};
use alloy_evm::precompiles::PrecompilesMap;
use alloy_evm::{Database, Evm, EvmEnv};
use alloy_primitives::{Address, Bytes};
use ferrite::{Engine, NoTracer};
use ferrite_state::transaction::{self, intrinsic_gas};
use ferrite_state::State;
use revm::context::{BlockEnv, CfgEnv, TxEnv};
use revm::context_interface::result::{EVMError, HaltReason, ResultAndState};
use revm::context_interface::Cfg;
use revm::primitives::hardfork::SpecId;
use revm::Inspector;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What the EVMs of one factory did, counted across all of them.
#[derive(Debug, Default)]
pub struct Counters {
    ferrite: AtomicU64,
    system_calls: AtomicU64,
    inspected: AtomicU64,
    unsupported: AtomicU64,
}

/// A snapshot of [`Counters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// Transactions ferrite executed (valid or not).
    pub ferrite: u64,
    /// System calls ferrite executed.
    pub system_calls: u64,
    /// Transactions and system calls run by revm because an inspector was enabled.
    pub inspected: u64,
    /// Transactions and system calls run by revm because of the configuration or precompiles.
    pub unsupported: u64,
}

impl Counters {
    /// The counts now.
    pub fn snapshot(&self) -> CounterSnapshot {
        CounterSnapshot {
            ferrite: self.ferrite.load(Ordering::Relaxed),
            system_calls: self.system_calls.load(Ordering::Relaxed),
            inspected: self.inspected.load(Ordering::Relaxed),
            unsupported: self.unsupported.load(Ordering::Relaxed),
        }
    }

    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// alloy-evm's [`Evm`] executing on ferrite (see the module docs for when revm runs instead).
pub struct FerriteEvm<DB: Database, I> {
    inner: EthEvm<DB, I, PrecompilesMap>,
    engine: Arc<Engine>,
    counters: Arc<Counters>,
    inspect: bool,
    /// Why revm must run every transaction of this EVM, if it must.
    fallback: Option<&'static str>,
    probe: Option<StorageProbe<DB>>,
}

impl<DB: Database, I> std::fmt::Debug for FerriteEvm<DB, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FerriteEvm")
            .field("spec", &self.inner.cfg.spec)
            .field("inspect", &self.inspect)
            .field("fallback", &self.fallback)
            .finish_non_exhaustive()
    }
}

impl<DB: Database, I: Inspector<EthEvmContext<DB>>> FerriteEvm<DB, I> {
    /// Wraps `inner` (built with the standard precompiles of its fork, as
    /// [`alloy_evm::eth::EthEvmBuilder`] does by default); transactions run on `engine`.
    pub fn new(
        inner: EthEvm<DB, I, PrecompilesMap>,
        inspect: bool,
        engine: Arc<Engine>,
        counters: Arc<Counters>,
    ) -> Self {
        let fallback = convert::unsupported(&inner.cfg);
        FerriteEvm {
            inner,
            engine,
            counters,
            inspect,
            fallback,
            probe: None,
        }
    }

    /// Lets ferrite apply EIP-7610 exactly: a CREATE onto an account without code or nonce but
    /// with storage collides. revm's `Database` cannot say whether an account has storage (and
    /// revm does not check), so by default such a CREATE proceeds, as in revm; a database that
    /// can answer supplies `probe` (for example from its account's storage root).
    pub fn set_storage_probe(&mut self, probe: StorageProbe<DB>) {
        self.probe = Some(probe);
    }

    /// Why transactions of this EVM run on revm instead of ferrite (`None`: they run on
    /// ferrite unless an inspector is enabled).
    pub fn fallback_reason(&self) -> Option<&'static str> {
        self.fallback
    }

    /// Whether revm must run the next transaction, counting it if so.
    fn on_revm(&self) -> bool {
        if self.inspect {
            Counters::bump(&self.counters.inspected);
            true
        } else if self.fallback.is_some() {
            Counters::bump(&self.counters.unsupported);
            true
        } else {
            false
        }
    }

    fn run_tx(&mut self, tx: TxEnv) -> Result<ResultAndState<HaltReason>, EVMError<DB::Error>> {
        Counters::bump(&self.counters.ferrite);
        let ctx = self.inner.ctx_mut();
        let (cfg, block, db) = (&ctx.cfg, &ctx.block, &mut ctx.journaled_state.database);
        convert::check_block(cfg.spec, block).map_err(EVMError::Header)?;
        convert::check_tx(cfg, &tx).map_err(EVMError::Transaction)?;
        let Some(spec) = convert::spec(cfg.spec) else {
            return Err(EVMError::Custom("ferrite: fork not implemented".into()));
        };
        let ftx = convert::tx(&tx);
        let fblock = convert::block(cfg, block);
        let backing = DbBacking::with_probe(db, self.probe);
        let mut state = State::with_backing(spec, convert::env(cfg, block), backing);
        let r = transaction::execute_pending(
            &mut state,
            &fblock,
            &ftx,
            &mut NoTracer,
            self.engine.as_ref(),
        );
        if let Some(e) = state.backing.take_error() {
            return Err(EVMError::Database(e));
        }
        match r {
            Ok(r) => {
                let changes = convert::change_set(&state);
                let deployed = r
                    .created
                    .and_then(|a| state.accounts.get(&a))
                    .map(|a| a.code.clone());
                Ok(ResultAndState::new(
                    convert::result(r, ftx.to.is_none(), deployed),
                    changes,
                ))
            }
            Err(e) => {
                let limits = convert::Limits {
                    intrinsic: intrinsic_gas(spec, &ftx),
                    cap: cfg.tx_gas_limit_cap(),
                    max_blobs: transaction::max_blobs_per_tx(spec, &fblock) as usize,
                };
                let err = convert::tx_error(e, &ftx, &limits, &mut state);
                match state.backing.take_error() {
                    Some(e) => Err(EVMError::Database(e)),
                    None => Err(EVMError::Transaction(err)),
                }
            }
        }
    }

    fn run_system_call(
        &mut self,
        caller: Address,
        contract: Address,
        data: Bytes,
    ) -> Result<ResultAndState<HaltReason>, EVMError<DB::Error>> {
        Counters::bump(&self.counters.system_calls);
        let ctx = self.inner.ctx_mut();
        let (cfg, block, db) = (&ctx.cfg, &ctx.block, &mut ctx.journaled_state.database);
        let Some(spec) = convert::spec(cfg.spec) else {
            return Err(EVMError::Custom("ferrite: fork not implemented".into()));
        };
        let backing = DbBacking::with_probe(db, self.probe);
        let mut state = State::with_backing(spec, convert::env(cfg, block), backing);
        let r = transaction::system_call_pending(
            &mut state,
            caller,
            contract,
            data,
            &mut NoTracer,
            self.engine.as_ref(),
        );
        if let Some(e) = state.backing.take_error() {
            return Err(EVMError::Database(e));
        }
        let mut changes = convert::change_set(&state);
        // The caller only "sends" zero value: revm leaves it out unless the call changed it
        // (alloy-evm's block executor removes it in any case).
        if changes.get(&caller).is_some_and(|a| {
            a.is_loaded_as_not_existing() && a.info.is_empty() && a.storage.is_empty()
        }) {
            changes.remove(&caller);
        }
        Ok(ResultAndState::new(
            convert::result(r, false, None),
            changes,
        ))
    }
}

impl<DB: Database, I: Inspector<EthEvmContext<DB>>> Evm for FerriteEvm<DB, I> {
    type DB = DB;
    type Tx = TxEnv;
    type Error = EVMError<DB::Error>;
    type HaltReason = HaltReason;
    type Spec = SpecId;
    type BlockEnv = BlockEnv;
    type Precompiles = PrecompilesMap;
    type Inspector = I;

    fn block(&self) -> &BlockEnv {
        self.inner.block()
    }

    fn cfg_env(&self) -> &CfgEnv<SpecId> {
        self.inner.cfg_env()
    }

    fn chain_id(&self) -> u64 {
        self.inner.chain_id()
    }

    fn transact_raw(&mut self, tx: TxEnv) -> Result<ResultAndState<HaltReason>, Self::Error> {
        if self.on_revm() {
            return self.inner.transact_raw(tx);
        }
        self.run_tx(tx)
    }

    fn transact_system_call(
        &mut self,
        caller: Address,
        contract: Address,
        data: Bytes,
    ) -> Result<ResultAndState<HaltReason>, Self::Error> {
        if self.on_revm() {
            return self.inner.transact_system_call(caller, contract, data);
        }
        self.run_system_call(caller, contract, data)
    }

    fn db_mut(&mut self) -> &mut DB {
        self.inner.db_mut()
    }

    fn finish(self) -> (DB, EvmEnv<SpecId, BlockEnv>) {
        self.inner.finish()
    }

    fn set_inspector_enabled(&mut self, enabled: bool) {
        self.inspect = enabled;
        self.inner.set_inspector_enabled(enabled);
    }

    fn precompiles_mut(&mut self) -> &mut PrecompilesMap {
        // Whatever the caller does with them, ferrite would not run it: revm takes over.
        self.fallback = Some("precompiles customised");
        self.inner.precompiles_mut()
    }

    fn inspector_mut(&mut self) -> &mut I {
        self.inner.inspector_mut()
    }

    fn components(&self) -> (&DB, &I, &PrecompilesMap) {
        self.inner.components()
    }

    fn components_mut(&mut self) -> (&mut DB, &mut I, &mut PrecompilesMap) {
        // The precompiles may change through this too (`db_mut` and `inspector_mut` do not
        // come here).
        self.fallback = Some("precompiles customised");
        self.inner.components_mut()
    }
}
