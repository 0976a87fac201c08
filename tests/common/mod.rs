//! Differential-testing harness shared by the integration tests: glue over
//! [`ferrite_tools::fuzz`] (outcomes, engines, comparison, generator) and its revm oracle (the
//! tests enable `ferrite-tools`' `revm-oracle` feature through the dev-dependency).
//!
//! Each test crate uses a different subset of this module.
#![allow(
    dead_code,
    unused_imports,
    reason = "each test crate uses a different subset of the harness"
)]

pub use ferrite_tools::fuzz::revm_oracle;
pub use ferrite_tools::fuzz::*;
pub use revm_oracle::{revm_run, revm_trace};

use ferrite_state::call::CallConfig;

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
