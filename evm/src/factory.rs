//! [`FerriteEvmFactory`]: alloy-evm's [`EvmFactory`] whose EVMs all share one ferrite [`Engine`].

use crate::evm::{CounterSnapshot, Counters, FerriteEvm};
use alloy_evm::eth::{EthEvmBuilder, EthEvmContext};
use alloy_evm::precompiles::PrecompilesMap;
use alloy_evm::{Database, EvmEnv, EvmFactory};
use ferrite::{Engine, EngineConfig, EngineMode};
use revm::context::{BlockEnv, TxEnv};
use revm::context_interface::result::{EVMError, HaltReason};
use revm::inspector::NoOpInspector;
use revm::primitives::hardfork::SpecId;
use revm::Inspector;
use std::sync::Arc;

/// Creates [`FerriteEvm`]s. Every EVM it creates (and every clone of it) runs on the same
/// [`Engine`], so code is analysed once, and in `auto` mode compiled in the background, across
/// transactions, blocks and EVMs — as a node wants.
#[derive(Clone, Debug)]
pub struct FerriteEvmFactory {
    engine: Arc<Engine>,
    counters: Arc<Counters>,
}

impl Default for FerriteEvmFactory {
    /// A factory over a new tiered (`auto`) engine with default limits.
    fn default() -> Self {
        FerriteEvmFactory::new(Arc::new(Engine::new(EngineConfig::default())))
    }
}

impl FerriteEvmFactory {
    /// A factory whose EVMs run on `engine`.
    pub fn new(engine: Arc<Engine>) -> Self {
        FerriteEvmFactory {
            engine,
            counters: Arc::default(),
        }
    }

    /// A factory over a new engine in `mode` (default limits).
    pub fn with_mode(mode: EngineMode) -> Self {
        FerriteEvmFactory::new(Arc::new(Engine::new(EngineConfig::with_mode(mode))))
    }

    /// The shared engine (its [`Engine::stats`] count calls, compiles and the code cache).
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// What this factory's EVMs did: transactions on ferrite, and those revm ran and why.
    pub fn counters(&self) -> CounterSnapshot {
        self.counters.snapshot()
    }
}

impl EvmFactory for FerriteEvmFactory {
    type Evm<DB: Database, I: Inspector<EthEvmContext<DB>>> = FerriteEvm<DB, I>;
    type Context<DB: Database> = EthEvmContext<DB>;
    type Tx = TxEnv;
    type Error<DBError: revm::context::DBErrorMarker> = EVMError<DBError>;
    type HaltReason = HaltReason;
    type Spec = SpecId;
    type BlockEnv = BlockEnv;
    type Precompiles = PrecompilesMap;

    fn create_evm<DB: Database>(&self, db: DB, env: EvmEnv) -> FerriteEvm<DB, NoOpInspector> {
        let inner = EthEvmBuilder::new(db, env).build();
        FerriteEvm::new(inner, false, self.engine.clone(), self.counters.clone())
    }

    fn create_evm_with_inspector<DB: Database, I: Inspector<EthEvmContext<DB>>>(
        &self,
        db: DB,
        env: EvmEnv,
        inspector: I,
    ) -> FerriteEvm<DB, I> {
        let inner = EthEvmBuilder::new(db, env)
            .activate_inspector(inspector)
            .build();
        FerriteEvm::new(inner, true, self.engine.clone(), self.counters.clone())
    }
}
