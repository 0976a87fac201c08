//! Hard forks ("specs") from Frontier to Osaka.
//!
//! Forks are totally ordered, so "is this rule active" is one comparison: `spec >= SpecId::Berlin`.
//! Names accepted by [`SpecId::from_name`] are those of the Ethereum state tests (`EIP150`,
//! `ConstantinopleFix`, `Paris`, …) plus the common aliases.

use core::fmt;

/// An Ethereum hard fork whose EVM rules ferrite implements.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SpecId {
    /// Launch rules (2015).
    Frontier = 0,
    /// EIP-2 (create failure), EIP-7 (DELEGATECALL).
    Homestead,
    /// EIP-150: IO repricing and the 63/64 call rule.
    Tangerine,
    /// EIP-155/158/160/161: empty-account clean-up, EXP repricing, code size limit.
    SpuriousDragon,
    /// REVERT, RETURNDATA*, STATICCALL, new precompiles.
    Byzantium,
    /// Shifts, CREATE2, EXTCODEHASH, net gas metering (EIP-1283).
    Constantinople,
    /// Constantinople without EIP-1283.
    Petersburg,
    /// EIP-1884, EIP-2200, CHAINID, SELFBALANCE.
    Istanbul,
    /// EIP-2929/2930 access lists and warm/cold accounting.
    Berlin,
    /// EIP-1559 BASEFEE, EIP-3529 reduced refunds, EIP-3541.
    London,
    /// The Merge (Paris): PREVRANDAO.
    Merge,
    /// PUSH0, warm coinbase, initcode limits.
    Shanghai,
    /// TLOAD/TSTORE, MCOPY, BLOBHASH, BLOBBASEFEE, EIP-6780 SELFDESTRUCT.
    Cancun,
    /// EIP-7702, EIP-2537, EIP-7623.
    Prague,
    /// CLZ (EIP-7939), P256VERIFY, MODEXP changes, tx gas cap.
    Osaka,
}

impl SpecId {
    /// Every fork, oldest first.
    pub const ALL: [SpecId; 15] = [
        SpecId::Frontier,
        SpecId::Homestead,
        SpecId::Tangerine,
        SpecId::SpuriousDragon,
        SpecId::Byzantium,
        SpecId::Constantinople,
        SpecId::Petersburg,
        SpecId::Istanbul,
        SpecId::Berlin,
        SpecId::London,
        SpecId::Merge,
        SpecId::Shanghai,
        SpecId::Cancun,
        SpecId::Prague,
        SpecId::Osaka,
    ];

    /// The newest fork ferrite implements.
    pub const LATEST: SpecId = SpecId::Osaka;

    /// True when the rules of `fork` are active in `self`.
    #[inline]
    pub const fn is_enabled_in(self, fork: SpecId) -> bool {
        self as u8 >= fork as u8
    }

    /// The fork's canonical name, as the state tests spell it.
    pub const fn name(self) -> &'static str {
        match self {
            SpecId::Frontier => "Frontier",
            SpecId::Homestead => "Homestead",
            SpecId::Tangerine => "EIP150",
            SpecId::SpuriousDragon => "EIP158",
            SpecId::Byzantium => "Byzantium",
            SpecId::Constantinople => "Constantinople",
            SpecId::Petersburg => "ConstantinopleFix",
            SpecId::Istanbul => "Istanbul",
            SpecId::Berlin => "Berlin",
            SpecId::London => "London",
            SpecId::Merge => "Paris",
            SpecId::Shanghai => "Shanghai",
            SpecId::Cancun => "Cancun",
            SpecId::Prague => "Prague",
            SpecId::Osaka => "Osaka",
        }
    }

    /// Parses a fork name (case-insensitive; state-test names and common aliases).
    pub fn from_name(name: &str) -> Option<SpecId> {
        let n = name.to_ascii_lowercase();
        Some(match n.as_str() {
            "frontier" => SpecId::Frontier,
            "homestead" => SpecId::Homestead,
            "eip150" | "tangerine" | "tangerinewhistle" => SpecId::Tangerine,
            "eip158" | "spuriousdragon" | "spurious" => SpecId::SpuriousDragon,
            "byzantium" => SpecId::Byzantium,
            "constantinople" => SpecId::Constantinople,
            "constantinoplefix" | "petersburg" => SpecId::Petersburg,
            "istanbul" => SpecId::Istanbul,
            "berlin" => SpecId::Berlin,
            "london" => SpecId::London,
            "paris" | "merge" => SpecId::Merge,
            "shanghai" => SpecId::Shanghai,
            "cancun" => SpecId::Cancun,
            "prague" => SpecId::Prague,
            "osaka" => SpecId::Osaka,
            _ => return None,
        })
    }
}

impl fmt::Display for SpecId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_order() {
        for s in SpecId::ALL {
            assert_eq!(SpecId::from_name(s.name()), Some(s));
        }
        assert!(SpecId::Cancun.is_enabled_in(SpecId::Berlin));
        assert!(!SpecId::Berlin.is_enabled_in(SpecId::Cancun));
        assert_eq!(SpecId::from_name("Merge"), Some(SpecId::Merge));
        assert_eq!(SpecId::from_name("nope"), None);
    }
}
