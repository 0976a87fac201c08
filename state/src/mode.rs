//! [`Mode`]: a fixed choice of tier for tools and tests that do not tier (`--engine interp|jit`).

use alloy_primitives::{Bytes, B256};
use ferrite::bytecode::Bytecode;
use ferrite::frame::{Loaded, ProgramSource};
use ferrite::{Engine, EngineConfig, EngineMode, Program, SpecId};
use std::sync::{Arc, OnceLock};

/// Which tier runs frames.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// The interpreter only.
    #[default]
    Interp,
    /// Native code, compiled synchronously before the first run by the process-wide
    /// [`jit_engine`] (falling back to the interpreter for code the JIT refuses, e.g. over its
    /// size limits).
    Jit,
}

/// The process-wide engine behind [`Mode::Jit`]: [`EngineMode::Jit`], default limits (its cache
/// evicts the least recently used programs beyond its code budget).
pub fn jit_engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(EngineConfig::with_mode(EngineMode::Jit)))
}

impl Mode {
    /// The source that runs frames in this mode.
    fn source(self) -> &'static dyn ProgramSource {
        match self {
            Mode::Interp => &ferrite::sources::Interpret,
            Mode::Jit => jit_engine(),
        }
    }
}

impl ProgramSource for Mode {
    fn program(&self, code: &Arc<Bytecode>, spec: SpecId) -> Option<Arc<Program>> {
        self.source().program(code, spec)
    }

    fn load(&self, raw: &Bytes, hash: B256, spec: SpecId) -> Loaded {
        self.source().load(raw, hash, spec)
    }

    fn load_initcode(&self, code: &Arc<Bytecode>, spec: SpecId) -> Loaded {
        self.source().load_initcode(code, spec)
    }
}
