//! Execution profiles: how often each pc of a code ran in the interpreter, the input to region
//! compilation ([`crate::analysis::region`], [`crate::jit::compile_region`]).
//!
//! Counters are relaxed atomics bumped with a plain load and store (no locked read-modify-write):
//! threads interpreting the same contract may lose a count to a race, which only blurs a
//! statistic, and a locked add per instruction would cost more than the instruction. Counts
//! saturate at `u32::MAX`. Only frames the owner chose to profile pay for it (the engine's
//! interpreted calls before a contract is compiled); the plain interpreter loop does not.

use std::sync::atomic::{AtomicU32, Ordering};

/// Execution counts by pc for one code.
#[derive(Debug)]
pub struct Profile {
    counts: Box<[AtomicU32]>,
}

impl Profile {
    /// An empty profile for code of `len` bytes.
    pub fn new(len: usize) -> Profile {
        Profile {
            counts: (0..=len).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    /// Counts one execution of the instruction at `pc`.
    #[inline]
    pub fn record(&self, pc: usize) {
        if let Some(c) = self.counts.get(pc) {
            let v = c.load(Ordering::Relaxed);
            c.store(v.saturating_add(1), Ordering::Relaxed);
        }
    }

    /// The counts so far, by pc.
    pub fn counts(&self) -> Vec<u32> {
        self.counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect()
    }

    /// Instructions counted in all.
    pub fn total(&self) -> u64 {
        self.counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed) as u64)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_pc_and_ignores_pcs_past_the_code() {
        let p = Profile::new(3);
        p.record(0);
        p.record(2);
        p.record(2);
        p.record(3); // the implicit STOP past the last byte
        p.record(99);
        assert_eq!(p.counts(), vec![1, 0, 2, 1]);
        assert_eq!(p.total(), 4);
    }
}
