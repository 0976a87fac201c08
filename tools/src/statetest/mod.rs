//! Support for the Ethereum `GeneralStateTest` fixtures (ethereum/tests
//! `GeneralStateTests` and execution-spec-tests `state_tests`).
//!
//! [`fixture`] is a pure data model: it parses a fixture file and resolves
//! its test vectors, but executes nothing. Running a vector (building the
//! pre-state, applying the transaction with ferrite's interpreter, comparing
//! the state root from [`ferrite_state::trie`] and the logs hash) belongs to the
//! runner, so the model stays independent of the interpreter and can be
//! tested on its own. [`vmtest`] models and runs the legacy VM tests (one frame, no
//! transaction).

pub mod fixture;
pub mod runner;
pub mod vmtest;
