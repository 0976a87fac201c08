//! `ferrite-tools`: everything around the core that is not linked by embedders — the `ferrite`
//! command line, the state-test and VM-test runners ([`statetest`]), the differential fuzzer
//! ([`fuzz`]) and the benchmark suite ([`bench`](mod@bench)). They run on `ferrite-state`'s in-memory state.

pub mod bench;
pub mod fuzz;
pub mod statetest;
