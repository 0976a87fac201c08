//! THE opcode table: one row per opcode, and everything derived from it.
//!
//! Every tier (analysis, interpreter, JIT) reads opcode facts from here and nowhere else. A row gives
//! the byte, mnemonic, immediate size, stack inputs/outputs, the Frontier base gas, the fork that
//! introduced it and flags. Later repricings are *deltas* in [`repriced`], so the per-fork static gas
//! table ([`static_gas_table`]) is derived at compile time, evmone-style, instead of being written out
//! fifteen times.
//!
//! The macro also generates the [`Opcode`] enum. Tiers `match` on it exhaustively, so adding a row
//! breaks the build until every tier handles the new instruction.

use crate::fork::SpecId;

/// Flags describing control-flow and state effects of an opcode.
pub mod flags {
    /// Ends the frame (STOP, RETURN, REVERT, INVALID, SELFDESTRUCT).
    pub const TERMINATOR: u8 = 1 << 0;
    /// JUMP or JUMPI.
    pub const JUMP: u8 = 1 << 1;
    /// A valid jump destination.
    pub const JUMPDEST: u8 = 1 << 2;
    /// Observes the exact gas left (GAS, CALL*, CREATE*, SSTORE): compiled code charges the static
    /// gas pending before it (the analysis no longer ends blocks there; CALL* and CREATE* end them
    /// by suspending).
    pub const NEEDS_GAS: u8 = 1 << 3;
    /// Suspends the frame for a nested call or create.
    pub const SUSPENDS: u8 = 1 << 4;
    /// Writes state; forbidden in a static call (CALL only when it transfers value).
    pub const WRITES_STATE: u8 = 1 << 5;
    /// Touches another account (warm/cold accounting since Berlin).
    pub const ACCOUNT_ACCESS: u8 = 1 << 6;
}

/// Static facts about one opcode byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpInfo {
    /// Mnemonic (`"UNDEFINED"` for unassigned bytes).
    pub name: &'static str,
    /// Number of immediate bytes following the opcode (PUSHn: n).
    pub immediate: u8,
    /// Stack items consumed.
    pub inputs: u8,
    /// Stack items produced.
    pub outputs: u8,
    /// Frontier static gas; see [`static_gas_table`] for later forks.
    pub base_gas: u16,
    /// First fork in which the opcode exists.
    pub since: SpecId,
    /// Bit set of [`flags`].
    pub flags: u8,
    /// False for unassigned bytes.
    pub defined: bool,
}

impl OpInfo {
    const UNDEFINED: OpInfo = OpInfo {
        name: "UNDEFINED",
        immediate: 0,
        inputs: 0,
        outputs: 0,
        base_gas: 0,
        since: SpecId::Frontier,
        flags: flags::TERMINATOR,
        defined: false,
    };

    /// True when the opcode exists in `spec`.
    #[inline]
    pub const fn enabled_in(&self, spec: SpecId) -> bool {
        self.defined && spec.is_enabled_in(self.since)
    }

    /// True when the flag bit is set.
    #[inline]
    pub const fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// Net stack growth.
    #[inline]
    pub const fn stack_delta(&self) -> i32 {
        self.outputs as i32 - self.inputs as i32
    }
}

macro_rules! opcode_table {
    ($( $name:ident = $byte:literal, imm $imm:literal, stack $in:literal => $out:literal,
        gas $gas:literal, since $since:ident, flags $flags:expr; )*) => {
        /// Every defined opcode. Matches on it are exhaustive by design.
        #[allow(missing_docs, reason = "the variants are the mnemonics of the Yellow Paper")]
        #[repr(u8)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Opcode { $( $name = $byte, )* }

        /// Byte constants, for code that works on raw bytes.
        #[allow(missing_docs, reason = "the constants are the mnemonics of the Yellow Paper")]
        pub mod op {
            $( pub const $name: u8 = $byte; )*
        }

        /// Facts for every byte value (unassigned bytes are marked undefined).
        pub static OPCODE_INFO: [OpInfo; 256] = {
            #[allow(unused_imports, reason = "rows without flags do not name them")]
            use flags::*;
            let mut t = [OpInfo::UNDEFINED; 256];
            $(
                t[$byte] = OpInfo {
                    name: stringify!($name),
                    immediate: $imm,
                    inputs: $in,
                    outputs: $out,
                    base_gas: $gas,
                    since: SpecId::$since,
                    flags: $flags,
                    defined: true,
                };
            )*
            t
        };

        impl Opcode {
            /// The opcode for a byte, if the byte is assigned in any fork.
            ///
            /// Always inlined: the interpreter's dispatch matches on the result, and inlined
            /// the two matches fold into the one jump table on the byte that a match on raw
            /// bytes compiles to. With plain `#[inline]` the optimizer kept it a call in the
            /// interpreter loop, about 10% more instructions executed.
            #[inline(always)]
            pub const fn from_u8(b: u8) -> Option<Opcode> {
                match b {
                    $( $byte => Some(Opcode::$name), )*
                    _ => None,
                }
            }
        }
    };
}

opcode_table! {
    STOP           = 0x00, imm  0, stack  0 =>  0, gas     0, since Frontier, flags TERMINATOR;
    ADD            = 0x01, imm  0, stack  2 =>  1, gas     3, since Frontier, flags 0;
    MUL            = 0x02, imm  0, stack  2 =>  1, gas     5, since Frontier, flags 0;
    SUB            = 0x03, imm  0, stack  2 =>  1, gas     3, since Frontier, flags 0;
    DIV            = 0x04, imm  0, stack  2 =>  1, gas     5, since Frontier, flags 0;
    SDIV           = 0x05, imm  0, stack  2 =>  1, gas     5, since Frontier, flags 0;
    MOD            = 0x06, imm  0, stack  2 =>  1, gas     5, since Frontier, flags 0;
    SMOD           = 0x07, imm  0, stack  2 =>  1, gas     5, since Frontier, flags 0;
    ADDMOD         = 0x08, imm  0, stack  3 =>  1, gas     8, since Frontier, flags 0;
    MULMOD         = 0x09, imm  0, stack  3 =>  1, gas     8, since Frontier, flags 0;
    EXP            = 0x0a, imm  0, stack  2 =>  1, gas    10, since Frontier, flags 0;
    SIGNEXTEND     = 0x0b, imm  0, stack  2 =>  1, gas     5, since Frontier, flags 0;
    LT             = 0x10, imm  0, stack  2 =>  1, gas     3, since Frontier, flags 0;
    GT             = 0x11, imm  0, stack  2 =>  1, gas     3, since Frontier, flags 0;
    SLT            = 0x12, imm  0, stack  2 =>  1, gas     3, since Frontier, flags 0;
    SGT            = 0x13, imm  0, stack  2 =>  1, gas     3, since Frontier, flags 0;
    EQ             = 0x14, imm  0, stack  2 =>  1, gas     3, since Frontier, flags 0;
    ISZERO         = 0x15, imm  0, stack  1 =>  1, gas     3, since Frontier, flags 0;
    AND            = 0x16, imm  0, stack  2 =>  1, gas     3, since Frontier, flags 0;
    OR             = 0x17, imm  0, stack  2 =>  1, gas     3, since Frontier, flags 0;
    XOR            = 0x18, imm  0, stack  2 =>  1, gas     3, since Frontier, flags 0;
    NOT            = 0x19, imm  0, stack  1 =>  1, gas     3, since Frontier, flags 0;
    BYTE           = 0x1a, imm  0, stack  2 =>  1, gas     3, since Frontier, flags 0;
    SHL            = 0x1b, imm  0, stack  2 =>  1, gas     3, since Constantinople, flags 0;
    SHR            = 0x1c, imm  0, stack  2 =>  1, gas     3, since Constantinople, flags 0;
    SAR            = 0x1d, imm  0, stack  2 =>  1, gas     3, since Constantinople, flags 0;
    CLZ            = 0x1e, imm  0, stack  1 =>  1, gas     5, since Osaka, flags 0;
    KECCAK256      = 0x20, imm  0, stack  2 =>  1, gas    30, since Frontier, flags 0;
    ADDRESS        = 0x30, imm  0, stack  0 =>  1, gas     2, since Frontier, flags 0;
    BALANCE        = 0x31, imm  0, stack  1 =>  1, gas    20, since Frontier, flags ACCOUNT_ACCESS;
    ORIGIN         = 0x32, imm  0, stack  0 =>  1, gas     2, since Frontier, flags 0;
    CALLER         = 0x33, imm  0, stack  0 =>  1, gas     2, since Frontier, flags 0;
    CALLVALUE      = 0x34, imm  0, stack  0 =>  1, gas     2, since Frontier, flags 0;
    CALLDATALOAD   = 0x35, imm  0, stack  1 =>  1, gas     3, since Frontier, flags 0;
    CALLDATASIZE   = 0x36, imm  0, stack  0 =>  1, gas     2, since Frontier, flags 0;
    CALLDATACOPY   = 0x37, imm  0, stack  3 =>  0, gas     3, since Frontier, flags 0;
    CODESIZE       = 0x38, imm  0, stack  0 =>  1, gas     2, since Frontier, flags 0;
    CODECOPY       = 0x39, imm  0, stack  3 =>  0, gas     3, since Frontier, flags 0;
    GASPRICE       = 0x3a, imm  0, stack  0 =>  1, gas     2, since Frontier, flags 0;
    EXTCODESIZE    = 0x3b, imm  0, stack  1 =>  1, gas    20, since Frontier, flags ACCOUNT_ACCESS;
    EXTCODECOPY    = 0x3c, imm  0, stack  4 =>  0, gas    20, since Frontier, flags ACCOUNT_ACCESS;
    RETURNDATASIZE = 0x3d, imm  0, stack  0 =>  1, gas     2, since Byzantium, flags 0;
    RETURNDATACOPY = 0x3e, imm  0, stack  3 =>  0, gas     3, since Byzantium, flags 0;
    EXTCODEHASH    = 0x3f, imm  0, stack  1 =>  1, gas   400, since Constantinople, flags ACCOUNT_ACCESS;
    BLOCKHASH      = 0x40, imm  0, stack  1 =>  1, gas    20, since Frontier, flags 0;
    COINBASE       = 0x41, imm  0, stack  0 =>  1, gas     2, since Frontier, flags 0;
    TIMESTAMP      = 0x42, imm  0, stack  0 =>  1, gas     2, since Frontier, flags 0;
    NUMBER         = 0x43, imm  0, stack  0 =>  1, gas     2, since Frontier, flags 0;
    PREVRANDAO     = 0x44, imm  0, stack  0 =>  1, gas     2, since Frontier, flags 0;
    GASLIMIT       = 0x45, imm  0, stack  0 =>  1, gas     2, since Frontier, flags 0;
    CHAINID        = 0x46, imm  0, stack  0 =>  1, gas     2, since Istanbul, flags 0;
    SELFBALANCE    = 0x47, imm  0, stack  0 =>  1, gas     5, since Istanbul, flags 0;
    BASEFEE        = 0x48, imm  0, stack  0 =>  1, gas     2, since London, flags 0;
    BLOBHASH       = 0x49, imm  0, stack  1 =>  1, gas     3, since Cancun, flags 0;
    BLOBBASEFEE    = 0x4a, imm  0, stack  0 =>  1, gas     2, since Cancun, flags 0;
    POP            = 0x50, imm  0, stack  1 =>  0, gas     2, since Frontier, flags 0;
    MLOAD          = 0x51, imm  0, stack  1 =>  1, gas     3, since Frontier, flags 0;
    MSTORE         = 0x52, imm  0, stack  2 =>  0, gas     3, since Frontier, flags 0;
    MSTORE8        = 0x53, imm  0, stack  2 =>  0, gas     3, since Frontier, flags 0;
    SLOAD          = 0x54, imm  0, stack  1 =>  1, gas    50, since Frontier, flags 0;
    SSTORE         = 0x55, imm  0, stack  2 =>  0, gas     0, since Frontier, flags NEEDS_GAS | WRITES_STATE;
    JUMP           = 0x56, imm  0, stack  1 =>  0, gas     8, since Frontier, flags JUMP;
    JUMPI          = 0x57, imm  0, stack  2 =>  0, gas    10, since Frontier, flags JUMP;
    PC             = 0x58, imm  0, stack  0 =>  1, gas     2, since Frontier, flags 0;
    MSIZE          = 0x59, imm  0, stack  0 =>  1, gas     2, since Frontier, flags 0;
    GAS            = 0x5a, imm  0, stack  0 =>  1, gas     2, since Frontier, flags NEEDS_GAS;
    JUMPDEST       = 0x5b, imm  0, stack  0 =>  0, gas     1, since Frontier, flags JUMPDEST;
    TLOAD          = 0x5c, imm  0, stack  1 =>  1, gas   100, since Cancun, flags 0;
    TSTORE         = 0x5d, imm  0, stack  2 =>  0, gas   100, since Cancun, flags WRITES_STATE;
    MCOPY          = 0x5e, imm  0, stack  3 =>  0, gas     3, since Cancun, flags 0;
    PUSH0          = 0x5f, imm  0, stack  0 =>  1, gas     2, since Shanghai, flags 0;
    PUSH1          = 0x60, imm  1, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH2          = 0x61, imm  2, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH3          = 0x62, imm  3, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH4          = 0x63, imm  4, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH5          = 0x64, imm  5, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH6          = 0x65, imm  6, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH7          = 0x66, imm  7, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH8          = 0x67, imm  8, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH9          = 0x68, imm  9, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH10         = 0x69, imm 10, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH11         = 0x6a, imm 11, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH12         = 0x6b, imm 12, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH13         = 0x6c, imm 13, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH14         = 0x6d, imm 14, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH15         = 0x6e, imm 15, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH16         = 0x6f, imm 16, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH17         = 0x70, imm 17, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH18         = 0x71, imm 18, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH19         = 0x72, imm 19, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH20         = 0x73, imm 20, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH21         = 0x74, imm 21, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH22         = 0x75, imm 22, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH23         = 0x76, imm 23, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH24         = 0x77, imm 24, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH25         = 0x78, imm 25, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH26         = 0x79, imm 26, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH27         = 0x7a, imm 27, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH28         = 0x7b, imm 28, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH29         = 0x7c, imm 29, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH30         = 0x7d, imm 30, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH31         = 0x7e, imm 31, stack  0 =>  1, gas     3, since Frontier, flags 0;
    PUSH32         = 0x7f, imm 32, stack  0 =>  1, gas     3, since Frontier, flags 0;
    DUP1           = 0x80, imm  0, stack  1 =>  2, gas     3, since Frontier, flags 0;
    DUP2           = 0x81, imm  0, stack  2 =>  3, gas     3, since Frontier, flags 0;
    DUP3           = 0x82, imm  0, stack  3 =>  4, gas     3, since Frontier, flags 0;
    DUP4           = 0x83, imm  0, stack  4 =>  5, gas     3, since Frontier, flags 0;
    DUP5           = 0x84, imm  0, stack  5 =>  6, gas     3, since Frontier, flags 0;
    DUP6           = 0x85, imm  0, stack  6 =>  7, gas     3, since Frontier, flags 0;
    DUP7           = 0x86, imm  0, stack  7 =>  8, gas     3, since Frontier, flags 0;
    DUP8           = 0x87, imm  0, stack  8 =>  9, gas     3, since Frontier, flags 0;
    DUP9           = 0x88, imm  0, stack  9 => 10, gas     3, since Frontier, flags 0;
    DUP10          = 0x89, imm  0, stack 10 => 11, gas     3, since Frontier, flags 0;
    DUP11          = 0x8a, imm  0, stack 11 => 12, gas     3, since Frontier, flags 0;
    DUP12          = 0x8b, imm  0, stack 12 => 13, gas     3, since Frontier, flags 0;
    DUP13          = 0x8c, imm  0, stack 13 => 14, gas     3, since Frontier, flags 0;
    DUP14          = 0x8d, imm  0, stack 14 => 15, gas     3, since Frontier, flags 0;
    DUP15          = 0x8e, imm  0, stack 15 => 16, gas     3, since Frontier, flags 0;
    DUP16          = 0x8f, imm  0, stack 16 => 17, gas     3, since Frontier, flags 0;
    SWAP1          = 0x90, imm  0, stack  2 =>  2, gas     3, since Frontier, flags 0;
    SWAP2          = 0x91, imm  0, stack  3 =>  3, gas     3, since Frontier, flags 0;
    SWAP3          = 0x92, imm  0, stack  4 =>  4, gas     3, since Frontier, flags 0;
    SWAP4          = 0x93, imm  0, stack  5 =>  5, gas     3, since Frontier, flags 0;
    SWAP5          = 0x94, imm  0, stack  6 =>  6, gas     3, since Frontier, flags 0;
    SWAP6          = 0x95, imm  0, stack  7 =>  7, gas     3, since Frontier, flags 0;
    SWAP7          = 0x96, imm  0, stack  8 =>  8, gas     3, since Frontier, flags 0;
    SWAP8          = 0x97, imm  0, stack  9 =>  9, gas     3, since Frontier, flags 0;
    SWAP9          = 0x98, imm  0, stack 10 => 10, gas     3, since Frontier, flags 0;
    SWAP10         = 0x99, imm  0, stack 11 => 11, gas     3, since Frontier, flags 0;
    SWAP11         = 0x9a, imm  0, stack 12 => 12, gas     3, since Frontier, flags 0;
    SWAP12         = 0x9b, imm  0, stack 13 => 13, gas     3, since Frontier, flags 0;
    SWAP13         = 0x9c, imm  0, stack 14 => 14, gas     3, since Frontier, flags 0;
    SWAP14         = 0x9d, imm  0, stack 15 => 15, gas     3, since Frontier, flags 0;
    SWAP15         = 0x9e, imm  0, stack 16 => 16, gas     3, since Frontier, flags 0;
    SWAP16         = 0x9f, imm  0, stack 17 => 17, gas     3, since Frontier, flags 0;
    LOG0           = 0xa0, imm  0, stack  2 =>  0, gas   375, since Frontier, flags WRITES_STATE;
    LOG1           = 0xa1, imm  0, stack  3 =>  0, gas   750, since Frontier, flags WRITES_STATE;
    LOG2           = 0xa2, imm  0, stack  4 =>  0, gas  1125, since Frontier, flags WRITES_STATE;
    LOG3           = 0xa3, imm  0, stack  5 =>  0, gas  1500, since Frontier, flags WRITES_STATE;
    LOG4           = 0xa4, imm  0, stack  6 =>  0, gas  1875, since Frontier, flags WRITES_STATE;
    CREATE         = 0xf0, imm  0, stack  3 =>  1, gas 32000, since Frontier, flags NEEDS_GAS | SUSPENDS | WRITES_STATE;
    CALL           = 0xf1, imm  0, stack  7 =>  1, gas    40, since Frontier, flags NEEDS_GAS | SUSPENDS | ACCOUNT_ACCESS;
    CALLCODE       = 0xf2, imm  0, stack  7 =>  1, gas    40, since Frontier, flags NEEDS_GAS | SUSPENDS | ACCOUNT_ACCESS;
    RETURN         = 0xf3, imm  0, stack  2 =>  0, gas     0, since Frontier, flags TERMINATOR;
    DELEGATECALL   = 0xf4, imm  0, stack  6 =>  1, gas    40, since Homestead, flags NEEDS_GAS | SUSPENDS | ACCOUNT_ACCESS;
    CREATE2        = 0xf5, imm  0, stack  4 =>  1, gas 32000, since Constantinople, flags NEEDS_GAS | SUSPENDS | WRITES_STATE;
    STATICCALL     = 0xfa, imm  0, stack  6 =>  1, gas    40, since Byzantium, flags NEEDS_GAS | SUSPENDS | ACCOUNT_ACCESS;
    REVERT         = 0xfd, imm  0, stack  2 =>  0, gas     0, since Byzantium, flags TERMINATOR;
    INVALID        = 0xfe, imm  0, stack  0 =>  0, gas     0, since Frontier, flags TERMINATOR;
    SELFDESTRUCT   = 0xff, imm  0, stack  1 =>  0, gas     0, since Frontier, flags TERMINATOR | WRITES_STATE | ACCOUNT_ACCESS;
}

impl Opcode {
    /// The table row of this opcode.
    #[inline]
    pub fn info(self) -> &'static OpInfo {
        &OPCODE_INFO[self as usize]
    }

    /// The mnemonic.
    #[inline]
    pub fn name(self) -> &'static str {
        self.info().name
    }
}

/// Static gas of `op` in `spec` when it differs from the Frontier row.
///
/// * EIP-150 (Tangerine Whistle): IO-heavy opcodes repriced.
/// * EIP-1884 (Istanbul): BALANCE, SLOAD, EXTCODEHASH repriced.
/// * EIP-2929 (Berlin): account and storage access become 100 warm (static) plus a dynamic cold
///   surcharge; CALL* static 100.
pub const fn repriced(op: u8, spec: SpecId) -> Option<u16> {
    use SpecId::*;
    let berlin = spec.is_enabled_in(Berlin);
    let istanbul = spec.is_enabled_in(Istanbul);
    let tangerine = spec.is_enabled_in(Tangerine);
    match op {
        op::BALANCE => Some(if berlin {
            100
        } else if istanbul {
            700
        } else if tangerine {
            400
        } else {
            20
        }),
        op::EXTCODESIZE | op::EXTCODECOPY => Some(if berlin {
            100
        } else if tangerine {
            700
        } else {
            20
        }),
        op::EXTCODEHASH => Some(if berlin {
            100
        } else if istanbul {
            700
        } else {
            400
        }),
        op::SLOAD => Some(if berlin {
            100
        } else if istanbul {
            800
        } else if tangerine {
            200
        } else {
            50
        }),
        op::CALL | op::CALLCODE | op::DELEGATECALL | op::STATICCALL => Some(if berlin {
            100
        } else if tangerine {
            700
        } else {
            40
        }),
        op::SELFDESTRUCT => Some(if tangerine { 5000 } else { 0 }),
        _ => None,
    }
}

const fn build_gas_table(spec: SpecId) -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let info = &OPCODE_INFO[i];
        t[i] = match repriced(i as u8, spec) {
            Some(g) => g,
            None => info.base_gas,
        };
        i += 1;
    }
    t
}

static GAS_TABLES: [[u16; 256]; 15] = {
    let mut all = [[0u16; 256]; 15];
    let mut i = 0;
    while i < 15 {
        all[i] = build_gas_table(SpecId::ALL[i]);
        i += 1;
    }
    all
};

/// What the interpreter checks before one instruction under one fork, folded into one 8-byte
/// entry so the hot path is a single look-up and a single unsigned compare (evmone's
/// `instructions_traits` kept per revision): `len - min_len <= span` (wrapping), i.e.
/// `min_len <= len <= min_len + span`, then `gas`. A disabled or undefined opcode has
/// `min_len = u16::MAX`, so the wrapped difference is huge for every real length (at most
/// [`STACK_LIMIT`](crate::STACK_LIMIT)) and the test fails; the caller's cold path then tells the
/// errors apart in the specification's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(8))]
pub struct Check {
    /// Static gas.
    pub gas: u32,
    /// Least stack length (the inputs); `u16::MAX` when the opcode is not enabled.
    pub min_len: u16,
    /// Greatest stack length that does not overflow, minus `min_len`
    /// (`STACK_LIMIT - outputs`).
    pub span: u16,
}

impl Check {
    /// True when an instruction with this entry may run on a stack of `len` items.
    #[inline(always)]
    pub const fn admits(&self, len: usize) -> bool {
        len.wrapping_sub(self.min_len as usize) <= self.span as usize
    }
}

const fn build_check_table(spec: SpecId) -> [Check; 256] {
    let gas = build_gas_table(spec);
    let mut t = [Check {
        gas: 0,
        min_len: u16::MAX,
        span: 0,
    }; 256];
    let mut i = 0;
    while i < 256 {
        let info = &OPCODE_INFO[i];
        if info.enabled_in(spec) {
            t[i] = Check {
                gas: gas[i] as u32,
                min_len: info.inputs as u16,
                span: (crate::STACK_LIMIT - info.outputs as usize) as u16,
            };
        }
        i += 1;
    }
    t
}

static CHECK_TABLES: [[Check; 256]; 15] = {
    let mut all = [[Check {
        gas: 0,
        min_len: 0,
        span: 0,
    }; 256]; 15];
    let mut i = 0;
    while i < 15 {
        all[i] = build_check_table(SpecId::ALL[i]);
        i += 1;
    }
    all
};

/// The interpreter's per-instruction checks for every opcode in `spec`.
#[inline]
pub fn check_table(spec: SpecId) -> &'static [Check; 256] {
    &CHECK_TABLES[spec as usize]
}

/// Static gas of every opcode in `spec` (0 for undefined bytes).
#[inline]
pub fn static_gas_table(spec: SpecId) -> &'static [u16; 256] {
    &GAS_TABLES[spec as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_table_agrees_with_the_opcode_table() {
        for spec in SpecId::ALL {
            let checks = check_table(spec);
            let gas = static_gas_table(spec);
            for b in 0..=255u8 {
                let info = &OPCODE_INFO[b as usize];
                let c = checks[b as usize];
                for len in 0..=crate::STACK_LIMIT {
                    let passes = c.admits(len);
                    let expected = info.enabled_in(spec)
                        && len >= info.inputs as usize
                        && len - info.inputs as usize + info.outputs as usize <= crate::STACK_LIMIT;
                    assert_eq!(passes, expected, "{spec:?} {b:#x} len {len}");
                }
                if info.enabled_in(spec) {
                    assert_eq!(c.gas, gas[b as usize] as u32);
                }
            }
        }
    }

    #[test]
    fn table_is_consistent() {
        let defined = OPCODE_INFO.iter().filter(|i| i.defined).count();
        assert_eq!(defined, 150);
        for b in 0..=255u8 {
            assert_eq!(
                Opcode::from_u8(b).is_some(),
                OPCODE_INFO[b as usize].defined
            );
        }
        assert_eq!(Opcode::PUSH32.info().immediate, 32);
        assert_eq!(Opcode::DUP16.info().inputs, 16);
        assert_eq!(Opcode::SWAP16.info().inputs, 17);
        assert!(!OPCODE_INFO[op::PUSH0 as usize].enabled_in(SpecId::Merge));
        assert!(OPCODE_INFO[op::PUSH0 as usize].enabled_in(SpecId::Shanghai));
    }

    #[test]
    fn repricings() {
        assert_eq!(static_gas_table(SpecId::Frontier)[op::SLOAD as usize], 50);
        assert_eq!(static_gas_table(SpecId::Tangerine)[op::SLOAD as usize], 200);
        assert_eq!(static_gas_table(SpecId::Istanbul)[op::SLOAD as usize], 800);
        assert_eq!(static_gas_table(SpecId::Berlin)[op::SLOAD as usize], 100);
        assert_eq!(
            static_gas_table(SpecId::Istanbul)[op::BALANCE as usize],
            700
        );
        assert_eq!(static_gas_table(SpecId::Prague)[op::CALL as usize], 100);
        assert_eq!(static_gas_table(SpecId::Homestead)[op::CALL as usize], 40);
        assert_eq!(
            static_gas_table(SpecId::Cancun)[op::SELFDESTRUCT as usize],
            5000
        );
        assert_eq!(static_gas_table(SpecId::Cancun)[op::ADD as usize], 3);
    }
}
