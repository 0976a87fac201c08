//! Fixed [`ProgramSource`]s, for tools and tests that pick the tier themselves rather than let an
//! [`Engine`](crate::Engine) decide: interpret everything ([`Interpret`]), run one given program
//! ([`WithProgram`]), or interpret while profiling one code ([`ProfileCode`]).

pub use crate::frame::Interpret;
use crate::frame::ProgramSource;
use crate::jit::Program;
use crate::profile::Profile;
use alloy_primitives::B256;
use ferrite_runtime::bytecode::Bytecode;
use ferrite_runtime::SpecId;
use std::sync::Arc;

/// A [`ProgramSource`] that interprets every frame and counts the frames running one code (by
/// hash) into a profile: how `ferrite bench` and `ferrite run --region` profile a contract.
#[derive(Debug)]
pub struct ProfileCode {
    /// The code to profile.
    pub hash: B256,
    /// Where its counts go.
    pub profile: Arc<Profile>,
}

impl ProgramSource for ProfileCode {
    fn program(&self, _: &Arc<Bytecode>, _: SpecId) -> Option<Arc<Program>> {
        None
    }

    fn profile(&self, code: &Arc<Bytecode>, _: SpecId) -> Option<Arc<Profile>> {
        (code.hash() == self.hash).then(|| self.profile.clone())
    }
}

/// A [`ProgramSource`] that runs the frames of one program's code and fork with it and
/// interprets all others.
#[derive(Debug)]
pub struct WithProgram(pub Arc<Program>);

impl ProgramSource for WithProgram {
    fn program(&self, code: &Arc<Bytecode>, spec: SpecId) -> Option<Arc<Program>> {
        let a = &self.0.analysis();
        (a.code.hash() == code.hash() && a.spec == spec).then(|| self.0.clone())
    }
}
