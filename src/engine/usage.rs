//! Tiering evidence for region programs: how much of a region's frames the interpreter ran.
//!
//! The frame driver reports each region frame's run through [`RegionObserver`]; the engine judges
//! from it when a region no longer covers the work ([`RegionUsage::stale`]) and compiles the whole
//! program instead. The policy lives here, with the engine, not with the compiler.

use crate::frame::RegionObserver;
use std::sync::atomic::AtomicU64;

/// How a region program fares: instructions the interpreter ran for its frames (cold code) and
/// gas its finished frames used, over a decaying window of recent calls. Relaxed counters,
/// added once per frame run.
#[derive(Debug, Default)]
pub struct RegionUsage {
    interpreted: AtomicU64,
    gas: AtomicU64,
}

impl RegionObserver for RegionUsage {
    /// Counts one run of a frame: instructions interpreted, and gas used when it finished.
    fn record(&self, interpreted: u64, gas: u64) {
        self.add(interpreted, gas)
    }
}

impl RegionUsage {
    /// Gas of evidence before [`RegionUsage::stale`] can say yes.
    pub const MIN_GAS: u64 = 5_000_000;
    /// Interpreted instructions per gas unit beyond which the region is stale: one instruction
    /// per 32 gas is about a tenth of a call's instructions at typical costs (3-8 gas each).
    pub const GAS_PER_COLD_INSTR: u64 = 32;

    /// Gas after which both counters are halved: the judgement follows the recent calls (a
    /// window of roughly this much gas) rather than the program's whole life.
    pub const WINDOW_GAS: u64 = 1 << 28;

    /// Counts one run of a frame: instructions interpreted, and gas used when it finished.
    pub fn add(&self, interpreted: u64, gas: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        if interpreted > 0 {
            self.interpreted.fetch_add(interpreted, Relaxed);
        }
        if gas > 0 && self.gas.fetch_add(gas, Relaxed).saturating_add(gas) > Self::WINDOW_GAS {
            // Racy halving (another thread's count may be lost or halved twice): it only
            // ages the evidence.
            self.gas.store(self.gas.load(Relaxed) / 2, Relaxed);
            self.interpreted
                .store(self.interpreted.load(Relaxed) / 2, Relaxed);
        }
    }

    /// Whether the code the profile left cold does a large share of the work (the calls since
    /// took other paths): at least [`MIN_GAS`](Self::MIN_GAS) of evidence, and more than one
    /// interpreted instruction per [`GAS_PER_COLD_INSTR`](Self::GAS_PER_COLD_INSTR) gas.
    pub fn stale(&self) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let gas = self.gas.load(Relaxed);
        gas >= Self::MIN_GAS
            && self
                .interpreted
                .load(Relaxed)
                .saturating_mul(Self::GAS_PER_COLD_INSTR)
                > gas
    }
}

#[cfg(test)]
mod tests {
    use super::RegionUsage;

    #[test]
    fn a_region_is_stale_when_its_cold_code_does_the_work_of_recent_calls() {
        let u = RegionUsage::default();
        // Not enough evidence yet, however cold.
        u.add(1_000_000, RegionUsage::MIN_GAS - 1);
        assert!(!u.stale());
        u.add(0, 1);
        assert!(u.stale());
        // Healthy calls dilute it, then the window ages the cold ones out.
        let healthy = RegionUsage::default();
        healthy.add(1_000, 10_000_000);
        assert!(!healthy.stale());
        let aging = RegionUsage::default();
        aging.add(1_000_000, 10_000_000); // stale: one cold instruction per 10 gas
        assert!(aging.stale());
        for _ in 0..100 {
            aging.add(10_000, 10_000_000); // one per 1,000 gas
        }
        assert!(
            !aging.stale(),
            "recent healthy calls outweigh old cold ones"
        );
        // And the other way: a region healthy for long turns stale within a window.
        for _ in 0..100 {
            aging.add(1_000_000, 10_000_000);
        }
        assert!(aging.stale());
    }
}
