//! Ethereum precompiled contracts, as seen by ferrite's interpreter.
//!
//! # Design
//!
//! The cryptography behind the precompiles (secp256k1 recovery, bn254,
//! BLS12-381, KZG, modexp, blake2, P-256) is delegated to the `revm-precompile`
//! crate: it is audited, widely deployed code that ferrite must not hand-write.
//! This module is a thin, stable facade over it so that the rest of ferrite
//! never names a `revm` type:
//!
//! * [`PrecompileFork`] lists only the forks at which the precompile *set* or
//!   its *prices* change. [`PrecompileFork::from_fork_name`] maps every fork
//!   name used by the Ethereum test fixtures onto it (for example `London` and
//!   `Shanghai` use the Berlin set).
//! * [`Precompiles::for_fork`] returns a `&'static` table built once per fork
//!   (one `OnceLock` per fork), so an interpreter can keep a plain reference.
//!   Lookups go through `revm-precompile`'s own table, which is an array
//!   indexed by the low address bytes for the short addresses that every
//!   Ethereum precompile uses: no hashing on the hot path.
//! * [`Precompiles::run`] folds `revm-precompile`'s three-level result (fatal
//!   error / halt / success) into the two outcomes an EVM needs: success with
//!   the gas used, or failure. A failure always consumes all the gas handed
//!   to the precompile; [`PrecompileFailure::OutOfGas`] is kept apart from
//!   [`PrecompileFailure::Error`] only for tracing and tests.
//!
//! The addresses are additionally kept in a sorted `Vec` so that
//! [`Precompiles::addresses`] is deterministic (the underlying table is a hash
//! map), which matters for reproducible traces and for pre-warming the
//! EIP-2929 access list.
//!
//! Trade-off: `revm-precompile` is built with its default features, so
//! secp256k1 recovery uses libsecp256k1 (C) and KZG / BLS use c-kzg / blst.
//! They are faster than the pure-Rust alternatives but add C build steps.

use std::sync::OnceLock;

use alloy_primitives::{Address, Bytes};
use revm_precompile::{PrecompileHalt, PrecompileSpecId, PrecompileStatus};

/// The forks at which the set of precompiles, or the price of one, changes.
///
/// Every other fork uses the set of the latest entry at or before it; see
/// [`PrecompileFork::from_fork_name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PrecompileFork {
    /// Frontier and Homestead (up to Spurious Dragon): `0x01`–`0x04`
    /// (ecrecover, sha256, ripemd160, identity).
    Homestead,
    /// Byzantium (and Constantinople/Petersburg): adds `0x05` modexp
    /// (EIP-198) and `0x06`–`0x08` bn254 add/mul/pairing (EIP-196/197).
    Byzantium,
    /// Istanbul: adds `0x09` blake2f (EIP-152) and reprices bn254 (EIP-1108).
    Istanbul,
    /// Berlin (and London, Paris, Shanghai): reprices modexp (EIP-2565).
    Berlin,
    /// Cancun: adds `0x0a` KZG point evaluation (EIP-4844).
    Cancun,
    /// Prague: adds `0x0b`–`0x11`, the BLS12-381 operations (EIP-2537).
    Prague,
    /// Osaka: adds `0x100` P256VERIFY (EIP-7951), bounds modexp inputs
    /// (EIP-7823) and reprices it (EIP-7883).
    Osaka,
}

impl PrecompileFork {
    /// All variants, oldest first.
    pub const ALL: [PrecompileFork; 7] = [
        PrecompileFork::Homestead,
        PrecompileFork::Byzantium,
        PrecompileFork::Istanbul,
        PrecompileFork::Berlin,
        PrecompileFork::Cancun,
        PrecompileFork::Prague,
        PrecompileFork::Osaka,
    ];

    /// Maps a fork name as written in the Ethereum test fixtures (the keys of
    /// a state test's `post` map, e.g. `"ConstantinopleFix"`, `"Paris"`) to the
    /// precompile set in force at that fork. Matching ignores ASCII case.
    /// Returns `None` for unknown names and for transition forks such as
    /// `"ShanghaiToCancunAtTime15k"`, whose set depends on the block.
    pub fn from_fork_name(name: &str) -> Option<Self> {
        const TABLE: &[(&str, PrecompileFork)] = &[
            ("Frontier", PrecompileFork::Homestead),
            ("Homestead", PrecompileFork::Homestead),
            ("EIP150", PrecompileFork::Homestead),
            ("TangerineWhistle", PrecompileFork::Homestead),
            ("EIP158", PrecompileFork::Homestead),
            ("SpuriousDragon", PrecompileFork::Homestead),
            ("Byzantium", PrecompileFork::Byzantium),
            ("Constantinople", PrecompileFork::Byzantium),
            ("ConstantinopleFix", PrecompileFork::Byzantium),
            ("Petersburg", PrecompileFork::Byzantium),
            ("Istanbul", PrecompileFork::Istanbul),
            ("MuirGlacier", PrecompileFork::Istanbul),
            ("Berlin", PrecompileFork::Berlin),
            ("London", PrecompileFork::Berlin),
            ("ArrowGlacier", PrecompileFork::Berlin),
            ("GrayGlacier", PrecompileFork::Berlin),
            ("Merge", PrecompileFork::Berlin),
            ("Paris", PrecompileFork::Berlin),
            ("Shanghai", PrecompileFork::Berlin),
            ("Cancun", PrecompileFork::Cancun),
            ("Prague", PrecompileFork::Prague),
            ("Osaka", PrecompileFork::Osaka),
        ];
        TABLE
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, f)| f)
    }

    fn spec(self) -> PrecompileSpecId {
        match self {
            PrecompileFork::Homestead => PrecompileSpecId::HOMESTEAD,
            PrecompileFork::Byzantium => PrecompileSpecId::BYZANTIUM,
            PrecompileFork::Istanbul => PrecompileSpecId::ISTANBUL,
            PrecompileFork::Berlin => PrecompileSpecId::BERLIN,
            PrecompileFork::Cancun => PrecompileSpecId::CANCUN,
            PrecompileFork::Prague => PrecompileSpecId::PRAGUE,
            PrecompileFork::Osaka => PrecompileSpecId::OSAKA,
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// Result of a successful precompile call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrecompileOutput {
    /// Gas charged; never more than the `gas_limit` passed to
    /// [`Precompiles::run`].
    pub gas_used: u64,
    /// Returned data (may be empty, e.g. ecrecover of an invalid signature): the precompile's
    /// own buffer, not a copy (identity's output is as large as its input).
    pub output: Bytes,
}

/// Why a precompile call failed. Either way the caller loses all the gas it
/// passed in and the call returns no data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrecompileFailure {
    /// The gas limit was below the precompile's price.
    OutOfGas,
    /// Any other failure: malformed input (bad curve point, wrong length,
    /// bad blake2 flag, modexp sizes over the EIP-7823 bound, ...).
    Error,
}

/// The precompile table of one fork. Obtain it with
/// [`Precompiles::for_fork`]; it is immutable and shared.
#[derive(Debug)]
pub struct Precompiles {
    fork: PrecompileFork,
    inner: &'static revm_precompile::Precompiles,
    sorted: Vec<Address>,
}

impl Precompiles {
    /// The table for `fork`, built on first use and cached for the life of
    /// the process.
    pub fn for_fork(fork: PrecompileFork) -> &'static Precompiles {
        static TABLES: [OnceLock<Precompiles>; PrecompileFork::ALL.len()] =
            [const { OnceLock::new() }; PrecompileFork::ALL.len()];
        TABLES[fork.index()].get_or_init(|| {
            let inner = revm_precompile::Precompiles::new(fork.spec());
            let mut sorted: Vec<Address> = inner.addresses().copied().collect();
            sorted.sort_unstable();
            Precompiles {
                fork,
                inner,
                sorted,
            }
        })
    }

    /// The fork this table was built for.
    pub fn fork(&self) -> PrecompileFork {
        self.fork
    }

    /// Whether `addr` is a precompile in this fork.
    #[inline]
    pub fn contains(&self, addr: &Address) -> bool {
        self.get(addr).is_some()
    }

    /// The precompile at `addr`, if any. Every frame asks whether its address is a precompile,
    /// and nearly all are contract addresses above the fork's highest, which one comparison
    /// answers without the table's hashed look-up.
    #[inline]
    fn get(&self, addr: &Address) -> Option<&revm_precompile::Precompile> {
        if self.sorted.last().is_none_or(|last| addr > last) {
            return None;
        }
        self.inner.get(addr)
    }

    /// All precompile addresses of this fork, in ascending order.
    pub fn addresses(&self) -> impl Iterator<Item = Address> + '_ {
        self.sorted.iter().copied()
    }

    /// Number of precompiles in this fork.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Whether the table is empty (never true for a real fork).
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// Runs the precompile at `addr` on `input` with at most `gas_limit` gas.
    ///
    /// Returns `None` if `addr` is not a precompile in this fork, so the
    /// caller can fall through to ordinary account code. The input is not
    /// trusted: malformed input yields [`PrecompileFailure::Error`].
    pub fn run(
        &self,
        addr: &Address,
        input: &[u8],
        gas_limit: u64,
    ) -> Option<Result<PrecompileOutput, PrecompileFailure>> {
        let precompile = self.get(addr)?;
        // The third argument is the EIP-8037 state-gas reservoir, which no
        // Ethereum precompile uses.
        let result = match precompile.execute(input, gas_limit, 0) {
            Err(_fatal) => Err(PrecompileFailure::Error),
            Ok(out) => match out.status {
                PrecompileStatus::Success if out.gas_used <= gas_limit => Ok(PrecompileOutput {
                    gas_used: out.gas_used,
                    output: out.bytes,
                }),
                // Defensive: a success that overspent is treated as out of gas.
                PrecompileStatus::Success => Err(PrecompileFailure::OutOfGas),
                PrecompileStatus::Halt(PrecompileHalt::OutOfGas) => {
                    Err(PrecompileFailure::OutOfGas)
                }
                // No Ethereum precompile reverts; treat it like any failure.
                PrecompileStatus::Halt(_) | PrecompileStatus::Revert => {
                    Err(PrecompileFailure::Error)
                }
            },
        };
        Some(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(n: u16) -> Address {
        let mut a = [0u8; 20];
        a[18..].copy_from_slice(&n.to_be_bytes());
        Address::from(a)
    }

    fn hex(s: &str) -> Vec<u8> {
        alloy_primitives::hex::decode(s).unwrap()
    }

    /// The quick answer for addresses above the table's highest agrees with the table itself,
    /// around every precompile of every fork and on addresses with high bytes set.
    #[test]
    fn contains_agrees_with_the_table() {
        for fork in PrecompileFork::ALL {
            let p = Precompiles::for_fork(fork);
            let mut probes: Vec<Address> = (0..0x120).map(addr).collect();
            probes.extend([
                Address::repeat_byte(0xff),
                Address::with_last_byte(1),
                Address::from_word([0x01u8; 32].into()),
                {
                    let mut a = addr(1);
                    a.0[0] = 1;
                    a
                },
            ]);
            for a in probes {
                assert_eq!(p.contains(&a), p.inner.get(&a).is_some(), "{fork:?} {a}");
            }
            let last = p.sorted.last().expect("every fork has precompiles");
            assert!(p.contains(last), "{fork:?}");
        }
    }

    #[test]
    fn identity_gas_is_15_plus_3_per_word() {
        let p = Precompiles::for_fork(PrecompileFork::Cancun);
        for (len, gas) in [
            (0usize, 15u64),
            (1, 18),
            (32, 18),
            (33, 21),
            (64, 21),
            (65, 24),
        ] {
            let input = vec![0xabu8; len];
            let out = p.run(&addr(4), &input, 1_000).unwrap().unwrap();
            assert_eq!(out.gas_used, gas, "len {len}");
            assert_eq!(out.output, input);
        }
    }

    #[test]
    fn sha256_of_empty_input() {
        let p = Precompiles::for_fork(PrecompileFork::Homestead);
        let out = p.run(&addr(2), &[], 60).unwrap().unwrap();
        assert_eq!(out.gas_used, 60);
        assert_eq!(
            out.output,
            hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
    }

    #[test]
    fn ecrecover_garbage_is_success_with_empty_output() {
        let p = Precompiles::for_fork(PrecompileFork::Osaka);
        for input in [vec![], vec![0xffu8; 128], vec![1u8; 7], vec![0u8; 300]] {
            let out = p.run(&addr(1), &input, 3_000).unwrap().unwrap();
            assert_eq!(out.gas_used, 3_000);
            assert!(out.output.is_empty());
        }
    }

    #[test]
    fn ecrecover_valid_signature() {
        // Vector from go-ethereum's precompile tests (ValidKey).
        let input = hex(
            "18c547e4f7b0f325ad1e56f57e26c745b09a3e503d86e00e5255ff7f715d3d1c\
             000000000000000000000000000000000000000000000000000000000000001c\
             73b1693892219d736caba55bdb67216e485557ea6b6af75f37096c9aa6a5a75f\
             eeb940b1d03b21e36b0e47e79769f095fe2ab855bd91e3a38756b7d75a9c4549",
        );
        let p = Precompiles::for_fork(PrecompileFork::Homestead);
        let out = p.run(&addr(1), &input, 3_000).unwrap().unwrap();
        assert_eq!(
            out.output,
            hex("000000000000000000000000a94f5374fce5edbc8e2a8697c15331677e6ebf0b")
        );
    }

    #[test]
    fn out_of_gas_is_reported() {
        let p = Precompiles::for_fork(PrecompileFork::Prague);
        assert_eq!(
            p.run(&addr(4), &[1, 2, 3], 17),
            Some(Err(PrecompileFailure::OutOfGas))
        );
        assert_eq!(
            p.run(&addr(1), &[], 2_999),
            Some(Err(PrecompileFailure::OutOfGas))
        );
        assert_eq!(
            p.run(&addr(2), &[], 0),
            Some(Err(PrecompileFailure::OutOfGas))
        );
    }

    #[test]
    fn malformed_input_is_error() {
        let p = Precompiles::for_fork(PrecompileFork::Cancun);
        // blake2f requires exactly 213 bytes.
        assert_eq!(
            p.run(&addr(9), &[0u8; 10], 1_000_000),
            Some(Err(PrecompileFailure::Error))
        );
        // bn254 add with a point not on the curve.
        let mut bad = vec![0u8; 128];
        bad[31] = 1;
        bad[63] = 1;
        assert_eq!(
            p.run(&addr(6), &bad, 1_000_000),
            Some(Err(PrecompileFailure::Error))
        );
        // Point evaluation with a wrong input length.
        assert_eq!(
            p.run(&addr(10), &[0u8; 191], 1_000_000),
            Some(Err(PrecompileFailure::Error))
        );
    }

    #[test]
    fn non_precompile_is_none() {
        let p = Precompiles::for_fork(PrecompileFork::Osaka);
        assert_eq!(p.run(&addr(0), &[], 100), None);
        assert_eq!(p.run(&addr(0x12), &[], 100), None);
        assert!(!p.contains(&Address::repeat_byte(0xff)));
        assert!(!p.contains(&addr(0)));
    }

    #[test]
    fn sets_per_fork() {
        let expected: [(PrecompileFork, &[u16]); 7] = [
            (PrecompileFork::Homestead, &[1, 2, 3, 4]),
            (PrecompileFork::Byzantium, &[1, 2, 3, 4, 5, 6, 7, 8]),
            (PrecompileFork::Istanbul, &[1, 2, 3, 4, 5, 6, 7, 8, 9]),
            (PrecompileFork::Berlin, &[1, 2, 3, 4, 5, 6, 7, 8, 9]),
            (PrecompileFork::Cancun, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
            (
                PrecompileFork::Prague,
                &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17],
            ),
            (
                PrecompileFork::Osaka,
                &[
                    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 0x100,
                ],
            ),
        ];
        for (fork, addrs) in expected {
            let p = Precompiles::for_fork(fork);
            assert_eq!(p.fork(), fork);
            let want: Vec<Address> = addrs.iter().map(|&n| addr(n)).collect();
            assert_eq!(p.addresses().collect::<Vec<_>>(), want, "{fork:?}");
            assert_eq!(p.len(), want.len());
            for a in &want {
                assert!(p.contains(a));
            }
        }
        // 0x0a absent before Cancun, 0x100 only in Osaka.
        for fork in PrecompileFork::ALL {
            let p = Precompiles::for_fork(fork);
            assert_eq!(p.contains(&addr(10)), fork >= PrecompileFork::Cancun);
            assert_eq!(p.contains(&addr(0x100)), fork == PrecompileFork::Osaka);
        }
    }

    #[test]
    fn for_fork_is_cached() {
        let a = Precompiles::for_fork(PrecompileFork::Berlin);
        let b = Precompiles::for_fork(PrecompileFork::Berlin);
        assert!(std::ptr::eq(a, b));
    }

    #[test]
    fn repricings() {
        // bn254 add: 500 before Istanbul, 150 from Istanbul (EIP-1108).
        let zero = [0u8; 128];
        let gas = |fork| {
            Precompiles::for_fork(fork)
                .run(&addr(6), &zero, 100_000)
                .unwrap()
                .unwrap()
                .gas_used
        };
        assert_eq!(gas(PrecompileFork::Byzantium), 500);
        assert_eq!(gas(PrecompileFork::Istanbul), 150);

        // modexp 0^0 mod 0 with all lengths zero: Byzantium 0, Berlin min 200,
        // Osaka min 500 (EIP-7883).
        let modexp = |fork| {
            Precompiles::for_fork(fork)
                .run(&addr(5), &[0u8; 96], 100_000)
                .unwrap()
                .unwrap()
                .gas_used
        };
        assert_eq!(modexp(PrecompileFork::Byzantium), 0);
        assert_eq!(modexp(PrecompileFork::Berlin), 200);
        assert_eq!(modexp(PrecompileFork::Osaka), 500);
    }

    #[test]
    fn modexp_osaka_input_bound() {
        // base_len = 1025 > 1024 is rejected in Osaka (EIP-7823) but fine before.
        let mut input = vec![0u8; 96];
        input[30] = 0x04;
        input[31] = 0x01;
        input.extend(std::iter::repeat_n(0u8, 1025));
        let osaka = Precompiles::for_fork(PrecompileFork::Osaka);
        assert_eq!(
            osaka.run(&addr(5), &input, 10_000_000),
            Some(Err(PrecompileFailure::Error))
        );
        let prague = Precompiles::for_fork(PrecompileFork::Prague);
        assert!(matches!(
            prague.run(&addr(5), &input, 10_000_000),
            Some(Ok(_))
        ));
    }

    #[test]
    fn fork_names() {
        assert_eq!(
            PrecompileFork::from_fork_name("Frontier"),
            Some(PrecompileFork::Homestead)
        );
        assert_eq!(
            PrecompileFork::from_fork_name("ConstantinopleFix"),
            Some(PrecompileFork::Byzantium)
        );
        assert_eq!(
            PrecompileFork::from_fork_name("shanghai"),
            Some(PrecompileFork::Berlin)
        );
        assert_eq!(
            PrecompileFork::from_fork_name("Osaka"),
            Some(PrecompileFork::Osaka)
        );
        assert_eq!(PrecompileFork::from_fork_name("Amsterdam"), None);
        assert_eq!(PrecompileFork::from_fork_name(""), None);
    }
}
