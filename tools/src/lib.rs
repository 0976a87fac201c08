//! `ferrite-tools`: everything around the core that is not linked by embedders — the `ferrite`
//! command line, the state-test and VM-test runners ([`statetest`]), the differential fuzzer
//! ([`fuzz`]) and the benchmark suite ([`bench`](mod@bench)). They run on `ferrite-state`'s in-memory state.
//! With the `revm-oracle` feature, the blockchain-test runner (`blocktest`) imports blocks
//! through alloy-evm's block executor with ferrite as the EVM.

pub mod bench;
#[cfg(feature = "revm-oracle")]
pub mod blocktest;
pub mod fuzz;
pub mod statetest;
