//! Runs a call on every engine and checks they agree, so each test exercises both tiers.

#![allow(dead_code, reason = "each test crate uses a subset")]

use ferrite::call::{self, CallConfig, CallOutcome};
use ferrite::frame::Mode;

/// Runs `cfg` in the interpreter and in the JIT; panics unless status, gas, refund, output, logs
/// and the post state agree. Returns the interpreter's outcome.
pub fn run_both(cfg: &CallConfig) -> CallOutcome {
    let mut c = cfg.clone();
    c.mode = Mode::Interp;
    let interp = call::run(&c);
    c.mode = Mode::Jit;
    let jit = call::run(&c);
    assert_eq!(
        (
            interp.exit,
            interp.gas_used,
            interp.gas_refund,
            &interp.output,
            &interp.logs
        ),
        (
            jit.exit,
            jit.gas_used,
            jit.gas_refund,
            &jit.output,
            &jit.logs
        ),
        "interpreter and JIT disagree on code {}",
        alloy_primitives::hex::encode(&cfg.code)
    );
    assert!(
        interp.state.accounts == jit.state.accounts,
        "interpreter and JIT post states differ on code {}",
        alloy_primitives::hex::encode(&cfg.code)
    );
    interp
}
