//! Differential fuzz target: the raw input runs as code directly (`ferrite_tools::fuzz::raw_case`) and
//! seeds the structured generator (`ferrite_tools::fuzz::seeded_case`); each case runs on ferrite's
//! interpreter and JIT tier, and any difference panics with a minimised reproducer.

#![no_main]

use ferrite_tools::fuzz::{self, MinimizeBudget, INTERP_VS_JIT};
use libfuzzer_sys::fuzz_target;

fn check(cfg: &ferrite_state::call::CallConfig) {
    let outcomes = fuzz::run_all(&INTERP_VS_JIT, cfg);
    if fuzz::divergence_report(&INTERP_VS_JIT, &outcomes, cfg).is_some() {
        let min = fuzz::minimize(&INTERP_VS_JIT, cfg, MinimizeBudget::default());
        panic!(
            "interpreter and JIT diverge:\n{}",
            fuzz::reproducer(&INTERP_VS_JIT, &min)
        );
    }
}

fuzz_target!(|data: &[u8]| {
    check(&fuzz::raw_case(data));
    check(&fuzz::seeded_case(data));
});
