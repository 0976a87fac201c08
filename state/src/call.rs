//! Running one contract call the way `ferrite run` (and geth's `evm run`) does.
//!
//! The code is installed at [`TARGET`] (nonce 1) and called by [`CALLER`] as the target of a
//! transaction: caller, target, coinbase (Shanghai+) and precompiles (Berlin+) are warm, storage is
//! fresh unless pre-set. Gas reported is execution gas only — limit minus gas left, before refunds,
//! without intrinsic cost — the figure geth's `evm run` and revm's bare interpreter report.

use crate::state::{Account, State};
use crate::Mode;
use alloy_primitives::{address, Address, Bytes, U256};
use ferrite::frame::{self, ProgramSource};
use ferrite::interpreter::{Message, NoTracer, Tracer};
use ferrite_runtime::{Env, ExitCode, Log, SpecId};

/// The transaction sender: `0x1111…1111`.
pub const CALLER: Address = address!("1111111111111111111111111111111111111111");
/// The called contract: `0xcccc…cccc`.
pub const TARGET: Address = address!("cccccccccccccccccccccccccccccccccccccccc");

/// One call to run.
#[derive(Clone, Debug)]
pub struct CallConfig {
    /// Code installed at [`TARGET`].
    pub code: Bytes,
    /// Calldata.
    pub input: Bytes,
    /// Gas limit of the frame.
    pub gas_limit: u64,
    /// Wei sent with the call.
    pub value: U256,
    /// Fork.
    pub spec: SpecId,
    /// Pre-set storage of [`TARGET`].
    pub storage: Vec<(U256, U256)>,
    /// Extra accounts (for calls into other contracts).
    pub accounts: Vec<(Address, Account)>,
    /// Execution tier.
    pub mode: Mode,
    /// The block and transaction environment ([`default_env`] unless set).
    pub env: Env,
}

impl CallConfig {
    /// The top-level message of the call: [`CALLER`] calls [`TARGET`] with the input, value and
    /// gas limit.
    pub fn message(&self) -> Message {
        Message::call(
            CALLER,
            TARGET,
            self.value,
            self.input.clone(),
            self.gas_limit,
        )
    }

    /// A call of `code` with `input`, gas 10^9, no value, Prague.
    pub fn new(code: impl Into<Bytes>, input: impl Into<Bytes>) -> CallConfig {
        CallConfig {
            code: code.into(),
            input: input.into(),
            gas_limit: 1_000_000_000,
            value: U256::ZERO,
            spec: SpecId::Prague,
            storage: Vec::new(),
            accounts: Vec::new(),
            mode: Mode::Interp,
            env: default_env(),
        }
    }
}

/// What a call did.
#[derive(Debug)]
pub struct CallOutcome {
    /// How the top frame ended.
    pub exit: ExitCode,
    /// Execution gas used (limit − left), before refunds.
    pub gas_used: u64,
    /// Refund counter at the end (0 unless successful).
    pub gas_refund: i64,
    /// Returned or reverted data.
    pub output: Bytes,
    /// Logs emitted (empty unless successful).
    pub logs: Vec<Log>,
    /// The state after the call (transaction finalized).
    pub state: State,
}

/// The block environment of a bare call: chain id 1, timestamp 1, block gas limit 2^64−1, all
/// else zero (revm's defaults, so results compare directly).
pub fn default_env() -> Env {
    Env {
        chain_id: 1,
        timestamp: U256::from(1),
        gas_limit: U256::from(u64::MAX),
        blob_basefee: U256::from(1),
        origin: CALLER,
        ..Env::default()
    }
}

/// Builds the state for `cfg`, ready for a transaction.
pub fn prepare_state(cfg: &CallConfig) -> State {
    let mut state = State::new(cfg.spec, cfg.env.clone());
    state.insert_account(
        CALLER,
        Account {
            balance: U256::MAX,
            ..Account::default()
        },
    );
    let mut target = Account::with_code(cfg.code.clone());
    target.nonce = 1;
    target.storage = cfg
        .storage
        .iter()
        .copied()
        .filter(|(_, v)| !v.is_zero())
        .collect();
    state.insert_account(TARGET, target);
    for (a, acc) in &cfg.accounts {
        state.insert_account(*a, acc.clone());
    }
    state.begin_tx();
    state.warm_account(CALLER);
    state.warm_account(TARGET);
    if cfg.spec.is_enabled_in(SpecId::Shanghai) {
        state.warm_account(state.env.coinbase);
    }
    if cfg.spec.is_enabled_in(SpecId::Berlin) {
        for a in frame::precompiles(cfg.spec).addresses() {
            state.warm_account(a);
        }
    }
    state
}

/// Runs the call on a prepared state, which the outcome hands back.
pub fn run_on<T: Tracer>(state: State, cfg: &CallConfig, tracer: &mut T) -> CallOutcome {
    run_on_with(state, cfg, tracer, &cfg.mode)
}

/// Runs `cfg` on fresh state with frames tiered by `source` (e.g. an
/// [`Engine`](ferrite::Engine)) instead of `cfg.mode`.
pub fn run_with<T: Tracer>(
    cfg: &CallConfig,
    tracer: &mut T,
    source: &dyn ProgramSource,
) -> CallOutcome {
    run_on_with(prepare_state(cfg), cfg, tracer, source)
}

/// [`run_on`] with frames tiered by `source` instead of `cfg.mode`. The state moves through
/// to the outcome: swapping it out of a borrow built a new empty state (its hash sets and
/// environment) on every call.
pub fn run_on_with<T: Tracer>(
    mut state: State,
    cfg: &CallConfig,
    tracer: &mut T,
    source: &dyn ProgramSource,
) -> CallOutcome {
    let r = frame::execute_with(&mut state, cfg.message(), tracer, source);
    let logs = if r.exit.is_success() {
        std::mem::take(&mut state.logs)
    } else {
        Vec::new()
    };
    state.finalize_tx();
    CallOutcome {
        exit: r.exit,
        gas_used: r.gas.used(),
        gas_refund: r.gas.refund,
        output: r.output,
        logs,
        state,
    }
}

/// Runs `cfg` on fresh state.
pub fn run(cfg: &CallConfig) -> CallOutcome {
    run_traced(cfg, &mut NoTracer)
}

/// Runs `cfg` on fresh state with a tracer.
pub fn run_traced<T: Tracer>(cfg: &CallConfig, tracer: &mut T) -> CallOutcome {
    run_on(prepare_state(cfg), cfg, tracer)
}
