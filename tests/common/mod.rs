//! Differential-testing harness shared by the integration tests: glue over the library's
//! [`ferrite::fuzz`] (outcomes, engines, comparison, generator) plus the revm oracle, whose one
//! source file (`src/fuzz/revm_oracle.rs`, in the library only with the `revm-oracle` feature)
//! is included here so the tests run against revm without any feature.
//!
//! Each test crate uses a different subset of this module.
#![allow(
    dead_code,
    unused_imports,
    reason = "each test crate uses a different subset of the harness"
)]

#[path = "../../src/fuzz/revm_oracle.rs"]
pub mod revm_oracle;

pub use ferrite::fuzz::*;
pub use revm_oracle::{revm_run, revm_trace};

use ferrite::call::CallConfig;

/// Runs ferrite's interpreter and revm with per-instruction traces and prints them around the
/// first line where they differ.
pub fn print_trace_divergence(cfg: &CallConfig) {
    let f = ferrite_trace(cfg);
    let (_, r) = revm_trace(cfg);
    print!("{}", trace_divergence("ferrite", &f, "revm", &r));
}

/// The engines compared by default: ferrite's interpreter (reference) and revm.
pub const INTERP_VS_REVM: [(&str, Engine); 2] = [("ferrite", ferrite_interp), ("revm", revm_run)];

/// The four-way comparison: ferrite's interpreter (reference), ferrite's JIT (whole programs
/// and profiled regions), revm.
pub const INTERP_JIT_REVM: [(&str, Engine); 4] = [
    ("ferrite", ferrite_interp),
    ("jit", ferrite_jit),
    ("region", ferrite_region),
    ("revm", revm_run),
];
