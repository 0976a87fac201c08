//! Golden IR: the Cranelift IR text of a few small contracts as the lowering emits it
//! (`jit::dump_ir`, before Cranelift's own passes), compared with the files in `tests/golden/`.
//!
//! A change to the lowering that changes its IR on purpose re-blesses them:
//! `FERRITE_BLESS=1 cargo test -p ferrite --test golden_ir`, then review the files' diff. The text
//! names helpers by their index in `Builtin::ALL` and frame fields by their offsets, so changes
//! there show here too. The call convention in the text is the host's: the files are for 64-bit
//! Linux.

use ferrite::bytecode::Bytecode;
use ferrite::runtime::opcode::op::*;
use ferrite::runtime::SpecId;
use std::path::PathBuf;
use std::sync::Arc;

/// Compares the IR of `code` with `tests/golden/{name}.clif` (or writes it when blessing).
fn golden(name: &str, asm: &str, code: &[u8]) {
    let ir = ferrite::jit::dump_ir(
        Arc::new(Bytecode::new(code.to_vec().into())),
        SpecId::Prague,
        None,
    )
    .expect("the contract compiles");
    let text = format!(
        "; {name}: {asm}\n; code: {}\n; regenerate: FERRITE_BLESS=1 cargo test -p ferrite --test golden_ir\n\n{ir}",
        alloy_primitives::hex::encode(code)
    );
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "golden",
        &format!("{name}.clif"),
    ]
    .iter()
    .collect();
    if std::env::var_os("FERRITE_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("create tests/golden");
        std::fs::write(&path, &text).expect("write the golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; FERRITE_BLESS=1 writes it", path.display()));
    if expected != text {
        let line = |s: &str, i: usize| s.lines().nth(i).unwrap_or("<end>").to_string();
        let last = expected.lines().count().max(text.lines().count());
        let n = (0..last)
            .find(|i| line(&expected, *i) != line(&text, *i))
            .unwrap_or(last);
        let (want, got) = (line(&expected, n), line(&text, n));
        panic!(
            "the IR of {name} differs from {} from line {}:\n  expected: {want}\n  actual:   {got}\n\
             If the change is intended, re-bless with FERRITE_BLESS=1 and review the diff.\n\
             Actual IR:\n{text}",
            path.display(),
            n + 1
        );
    }
}

/// Golden tests: `name`, the contract as assembly (its file's header), and its bytes.
macro_rules! golden_tests {
    ($($(#[doc = $doc:literal])* $name:ident: $asm:literal => $code:expr;)*) => {$(
        $(#[doc = $doc])*
        #[test]
        #[cfg_attr(
            not(all(target_os = "linux", target_pointer_width = "64")),
            ignore = "the golden files carry 64-bit Linux's call convention"
        )]
        fn $name() {
            golden(stringify!($name), $asm, $code);
        }
    )*};
}

golden_tests! {
    /// Two constants added at compile time, stored at a constant offset (memory grows through
    /// `ferrite_mexpand` first), returned through `ferrite_exec`.
    add_constants: "PUSH1 1 PUSH1 2 ADD PUSH0 MSTORE PUSH1 32 PUSH0 RETURN"
        => &[PUSH1, 1, PUSH1, 2, ADD, PUSH0, MSTORE, PUSH1, 32, PUSH0, RETURN];
    /// A countdown loop: a static JUMPI back to its JUMPDEST, the stack length passed between
    /// blocks, a constant subtraction.
    countdown_loop: "PUSH1 10 JUMPDEST PUSH1 1 SWAP1 SUB DUP1 PUSH1 2 JUMPI STOP"
        => &[PUSH1, 10, JUMPDEST, PUSH1, 1, SWAP1, SUB, DUP1, PUSH1, 2, JUMPI, STOP];
    /// revmc's fibonacci: the loop's three changed words cross the back edge as block
    /// parameters, the body goes on from the condition's values, and only the ways out (the
    /// exit's JUMPI, a failed gas check at the back edge) store them; the exit's block, which
    /// only that JUMPI enters, is checked there and goes on from its values.
    fibonacci_loop: "PUSH0 CALLDATALOAD PUSH0 PUSH1 1 JUMPDEST DUP3 ISZERO PUSH1 0x1a JUMPI DUP2 DUP2 ADD SWAP2 POP SWAP1 SWAP2 PUSH1 1 SWAP1 SUB SWAP2 PUSH1 5 JUMP JUMPDEST SWAP2 POP POP PUSH0 MSTORE PUSH1 0x20 PUSH0 RETURN"
        => &[
            PUSH0, CALLDATALOAD, PUSH0, PUSH1, 1, JUMPDEST, DUP3, ISZERO, PUSH1, 0x1a, JUMPI, DUP2,
            DUP2, ADD, SWAP2, POP, SWAP1, SWAP2, PUSH1, 1, SWAP1, SUB, SWAP2, PUSH1, 5, JUMP,
            JUMPDEST, SWAP2, POP, POP, PUSH0, MSTORE, PUSH1, 0x20, PUSH0, RETURN,
        ];
    /// MSTORE at a dynamic offset `p`, then MLOAD at `p + 32`, a small word after the access:
    /// the MSTORE's check grows memory for both words, and the MLOAD needs none.
    memory_pair: "PUSH0 CALLDATALOAD PUSH1 0x2a DUP2 MSTORE PUSH1 0x20 ADD MLOAD PUSH0 MSTORE STOP"
        => &[
            PUSH0, CALLDATALOAD, PUSH1, 0x2a, DUP2, MSTORE, PUSH1, 0x20, ADD, MLOAD, PUSH0, MSTORE,
            STOP,
        ];
    /// Helper calls: CALLDATALOAD and SSTORE through `ferrite_exec` (with their `need` operands),
    /// MUL through its pure helper.
    helper_calls: "PUSH0 CALLDATALOAD PUSH1 7 MUL PUSH0 SSTORE STOP"
        => &[PUSH0, CALLDATALOAD, PUSH1, 7, MUL, PUSH0, SSTORE, STOP];
    /// `DUP2 ADD`: the word the stack keeps (the `DUP2`'s, loaded first) is the addition's
    /// second operand, the one that dies there (loaded second) its first, which x64 overwrites.
    dup_add: "PUSH0 CALLDATALOAD PUSH1 0x20 CALLDATALOAD DUP2 ADD PUSH0 MSTORE PUSH1 0x20 MSTORE STOP"
        => &[
            PUSH0, CALLDATALOAD, PUSH1, 0x20, CALLDATALOAD, DUP2, ADD, PUSH0, MSTORE, PUSH1, 0x20,
            MSTORE, STOP,
        ];
    /// AND with constants, limb by limb: an address mask keeps two limbs, masks one and zeroes
    /// one; a mask below 2^63 leaves a small word (one 64-bit `and`).
    and_masks: "PUSH0 CALLDATALOAD PUSH20 0xff..ff AND PUSH1 0x20 CALLDATALOAD PUSH1 0xff AND SSTORE STOP"
        => &[
            PUSH0, CALLDATALOAD, PUSH20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, AND, PUSH1, 0x20,
            CALLDATALOAD, PUSH1, 0xff, AND, SSTORE, STOP,
        ];
    /// A dynamic jump: the shared dispatch switch over the JUMPDEST blocks, and
    /// `ferrite_jump_fallback` for other destinations.
    dynamic_jump: "PUSH0 CALLDATALOAD JUMP JUMPDEST STOP JUMPDEST PUSH1 1 STOP"
        => &[PUSH0, CALLDATALOAD, JUMP, JUMPDEST, STOP, JUMPDEST, PUSH1, 1, STOP];
}
