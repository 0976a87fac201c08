//! `ferrite-state`: an in-memory journaled state that implements ferrite's
//! [`Host`](ferrite::Host), transactions on it, Merkle-Patricia state roots, and the single-call
//! runner behind `ferrite run`.
//!
//! The tooling (state tests, fuzzing, benchmarks) and the tests run on this state; embedders bring
//! their own host and link only the `ferrite` core. Dependencies run one way: `ferrite-runtime` ←
//! `ferrite` ← this crate ← `ferrite-tools`.

pub mod call;
mod mode;
pub mod state;
pub mod transaction;
pub mod trie;

pub use call::{CallConfig, CallOutcome};
pub use mode::{jit_engine, Mode};
pub use state::{Account, Backing, InMemory, State};
pub use transaction::{Block, Transact, Tx, TxError, TxResult};
