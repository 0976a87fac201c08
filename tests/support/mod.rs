//! Runs a call on every engine and checks they agree, so each test exercises both tiers.

#![allow(dead_code, reason = "each test crate uses a subset")]

use ferrite_state::call::{self, CallConfig, CallOutcome};
use ferrite_state::Mode;

/// Runs `cfg` in the interpreter and in the JIT; panics unless status, gas, refund, output, logs
/// and the post state agree. Returns the interpreter's outcome.
pub fn run_both(cfg: &CallConfig) -> CallOutcome {
    let mut c = cfg.clone();
    c.mode = Mode::Interp;
    let interp = call::run(&c);
    c.mode = Mode::Jit;
    let jit = call::run(&c);
    assert_agree(cfg, &interp, &jit);
    interp
}

/// Profiles `profile_run` in the interpreter, compiles the region of the top contract's code
/// covering `coverage` of what it executed (at both tiers), and runs `cfg` (the same code) with
/// each program and in the interpreter; panics unless they agree. Returns the interpreter's outcome and the
/// program's (blocks compiled, blocks in all).
pub fn run_region(
    profile_run: &CallConfig,
    cfg: &CallConfig,
    coverage: f64,
) -> (CallOutcome, (usize, usize)) {
    use ferrite::bytecode::Bytecode;
    use ferrite::interpreter::NoTracer;
    use ferrite::sources::WithProgram;
    use std::sync::Arc;
    let code = Arc::new(Bytecode::new(cfg.code.clone()));
    let counts = ferrite_tools::bench::profile(profile_run);
    let mut c = cfg.clone();
    c.mode = Mode::Interp;
    let interp = call::run(&c);
    let mut shape = (0, 0);
    for tier in [ferrite::jit::Tier::Optimized, ferrite::jit::Tier::Baseline] {
        let program =
            ferrite::jit::compile_region_at(code.clone(), cfg.spec, &counts, coverage, tier)
                .expect("the region compiles");
        shape = (program.blocks(), program.analysis().blocks.len());
        let region = call::run_with(cfg, &mut NoTracer, &WithProgram(Arc::new(program)));
        assert_agree(cfg, &interp, &region);
    }
    (interp, shape)
}

fn assert_agree(cfg: &CallConfig, interp: &CallOutcome, jit: &CallOutcome) {
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
}
