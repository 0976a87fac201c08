//! Loops whose changed words stay in registers across the back edge (`jit::lower::carry`), and
//! jumps that leave the words their target pops unread unstored (`jit::lower::items`): each
//! shape returns the words it computed, checked against the value computed here, and runs on
//! both tiers at every gas limit up to what it needs and beyond, so that a word carried wrongly,
//! a block that went on from a stale cursor, a back edge that handed over to the interpreter
//! without storing what it carried, or a word left unstored that was read shows as a difference.

mod support;

use ferrite::runtime::opcode::op::*;
use ferrite::runtime::{ExitCode, SpecId, U256};
use ferrite_state::call::CallConfig;
use support::run_both;

/// One item of a program: an opcode, a push of a constant, a label, or a PUSH1 of a label.
enum A {
    Op(u8),
    Push(U256),
    Label(&'static str),
    To(&'static str),
}

/// Assembles `items` (labels resolve to their JUMPDEST's offset, each below 256).
fn asm(items: &[A]) -> Vec<u8> {
    let mut labels = Vec::new();
    let mut code = Vec::new();
    for pass in 0..2 {
        code.clear();
        for item in items {
            match item {
                A::Op(op) => code.push(*op),
                A::Push(v) => match u8::try_from(*v) {
                    Ok(byte) => code.extend([PUSH1, byte]),
                    Err(_) => {
                        code.push(PUSH32);
                        code.extend(v.to_be_bytes::<32>());
                    }
                },
                A::Label(name) => {
                    if pass == 0 {
                        labels.push((*name, code.len()));
                    }
                    code.push(JUMPDEST);
                }
                A::To(name) => {
                    let at = labels
                        .iter()
                        .find(|(n, _)| n == name)
                        .map_or(0, |(_, at)| *at);
                    code.extend([PUSH1, u8::try_from(at).expect("labels below 256")]);
                }
            }
        }
    }
    code
}

/// Static gas without effect (`PUSH0 POP`, 4 gas a pair), so that a loop's run needs more gas
/// than the way out of it: an iteration's gas check can then fail where the interpreter still
/// returns the words, which must be in the buffer when it takes over.
fn pad() -> Vec<A> {
    (0..16).flat_map(|_| [A::Op(PUSH0), A::Op(POP)]).collect()
}

fn ops(bytes: &[u8]) -> Vec<A> {
    bytes.iter().map(|b| A::Op(*b)).collect()
}

fn push(v: u64) -> A {
    A::Push(U256::from(v))
}

/// Stores the top `n` words at 0, 32, … (the top first) and returns them.
fn return_words(n: usize) -> Vec<A> {
    let mut items = Vec::new();
    for k in 0..n {
        items.push(push(32 * k as u64));
        items.push(A::Op(MSTORE));
    }
    items.extend([push(32 * n as u64), A::Op(PUSH0), A::Op(RETURN)]);
    items
}

/// Runs `code` on both tiers with ample gas (it must return `want`), then at every gas limit
/// below what it used (each out of gas) and up to [`ABOVE`] above (each returning `want`: the
/// last iterations' checks fail there, and the interpreter finishes from the head), both tiers
/// agreeing throughout.
fn check(name: &str, code: Vec<u8>, want: &[U256]) {
    let cfg = |gas: u64| {
        let mut c = CallConfig::new(code.clone(), Vec::new());
        c.gas_limit = gas;
        c.spec = SpecId::Cancun;
        c
    };
    let words = |o: &ferrite_state::call::CallOutcome| -> Vec<U256> {
        o.output.chunks(32).map(U256::from_be_slice).collect()
    };
    let full = run_both(&cfg(1_000_000));
    assert_eq!(full.exit, ExitCode::Return, "{name}");
    assert_eq!(words(&full), want, "{name}");
    for gas in 0..full.gas_used + ABOVE {
        let o = run_both(&cfg(gas));
        if gas < full.gas_used {
            assert_eq!(o.exit, ExitCode::OutOfGas, "{name} at {gas}");
        } else {
            assert_eq!(
                (o.exit, words(&o)),
                (ExitCode::Return, want.to_vec()),
                "{name} at {gas}"
            );
        }
    }
}

/// Gas limits checked above what a program needs: more than a padded loop's run.
const ABOVE: u64 = 200;

/// `items`, then a jump to `label` right after: the block there is entered by a jump (a head
/// not fallen into).
fn jumped_into(mut items: Vec<A>, label: &'static str) -> Vec<A> {
    items.extend([A::To(label), A::Op(JUMP), A::Label(label)]);
    items
}

/// A loop's condition: on to `exit` when the word `DUPn` copies is zero.
fn exit_if_zero(dup: u8) -> Vec<A> {
    vec![A::Op(dup), A::Op(ISZERO), A::To("exit"), A::Op(JUMPI)]
}

/// A loop body's end: the padding, the jump back to `head`, and the `exit` label after it.
fn back_to_head() -> Vec<A> {
    let mut items = pad();
    items.extend([A::To("head"), A::Op(JUMP), A::Label("exit")]);
    items
}

/// fibonacci's loop on `[n, a, b]` from its head: exit when `n` is zero, else
/// `[n - 1, b, a + b]` and back.
fn fibonacci_loop() -> Vec<A> {
    let mut items = exit_if_zero(DUP3);
    items.extend(ops(&[DUP2, DUP2, ADD, SWAP2, POP, SWAP1, SWAP2]));
    items.extend([push(1), A::Op(SWAP1), A::Op(SUB), A::Op(SWAP2)]);
    items.extend(back_to_head());
    items
}

/// The three words fibonacci's loop returns after `n` rounds, the top first.
fn fibonacci_words(n: u64) -> [U256; 3] {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        (a, b) = (b, a + b);
    }
    [b, a, 0].map(U256::from)
}

/// fibonacci's loop (revmc's shape): the condition's JUMPI leaves the loop, the body falls
/// from it and jumps back; three words change per iteration.
#[test]
fn fibonacci_carries_three_words() {
    let n = 12;
    let mut items = jumped_into(vec![push(n), A::Op(PUSH0), push(1)], "head");
    items.extend(fibonacci_loop());
    items.extend(return_words(3));
    check("fibonacci", asm(&items), &fibonacci_words(n));
}

/// A do-while loop: the back edge is a JUMPI, its fall-through leaves the loop.
#[test]
fn a_jumpi_back_edge_carries_its_words() {
    let n = 9;
    let mut items = jumped_into(vec![push(n), A::Op(PUSH0)], "head");
    items.extend(ops(&[DUP2, ADD, SWAP1]));
    items.extend(pad());
    items.extend([push(1), A::Op(SWAP1), A::Op(SUB), A::Op(SWAP1), A::Op(DUP2)]);
    items.extend([A::To("head"), A::Op(JUMPI)]);
    items.extend(return_words(2));
    let want = [U256::from(n * (n + 1) / 2), U256::ZERO];
    check("do-while", asm(&items), &want);
}

/// A comparison's flag (never a word in the block) is what the back edge carries in one slot.
#[test]
fn a_flag_crosses_the_back_edge() {
    let n = 7;
    let mut items = jumped_into(vec![push(n), A::Op(PUSH0)], "head");
    items.push(A::Op(POP));
    items.extend([
        push(1),
        A::Op(SWAP1),
        A::Op(SUB),
        A::Op(DUP1),
        push(3),
        A::Op(GT),
    ]);
    items.extend(pad());
    items.extend([A::Op(DUP2), A::To("head"), A::Op(JUMPI)]);
    items.extend(return_words(2));
    check("flag", asm(&items), &[U256::from(1), U256::ZERO]);
}

/// factorial's loop with a product that wraps: MUL's helper call keeps its words in the buffer
/// (a loop that calls a helper carries none), and the run's blocks still agree.
#[test]
fn a_loop_calling_a_helper_keeps_the_buffer() {
    let n = 60u64;
    let mut items = jumped_into(vec![push(n), push(u64::MAX)], "head");
    items.extend(exit_if_zero(DUP2));
    items.extend(ops(&[DUP2, MUL, SWAP1]));
    items.extend([push(1), A::Op(SWAP1), A::Op(SUB), A::Op(SWAP1)]);
    items.extend(back_to_head());
    items.extend(return_words(2));
    let mut acc = U256::from(u64::MAX);
    for k in 1..=n {
        acc = acc.wrapping_mul(U256::from(k));
    }
    check("factorial", asm(&items), &[acc, U256::ZERO]);
}

/// A word the loop does not change, read below the carried ones every iteration (it stays in
/// the buffer), and a carried slot that becomes a copy of it (`POP DUP2`).
#[test]
fn words_below_stay_in_the_buffer() {
    let (k, n) = (5u64, 6u64);
    // [k, n, a, b]: a' = b, b' = a + b + k, n' = n - 1.
    let mut items = jumped_into(vec![push(k), push(n), push(1), push(2)], "head");
    items.extend(exit_if_zero(DUP3));
    items.extend(ops(&[DUP1, SWAP2, ADD, DUP4, ADD]));
    items.extend(ops(&[SWAP2, PUSH1, 1, SWAP1, SUB, SWAP2]));
    items.extend(back_to_head());
    // [k, 0, a, b] -> then a copy loop: [k, m, x] with x = k each round.
    items.extend([push(3), push(0)]);
    let mut items = jumped_into(items, "copy");
    items.extend(ops(&[DUP2, ISZERO]));
    items.extend([A::To("done"), A::Op(JUMPI)]);
    items.extend(ops(&[POP, DUP5, SWAP1, PUSH1, 1, SWAP1, SUB, SWAP1]));
    items.extend([A::To("copy"), A::Op(JUMP), A::Label("done")]);
    items.extend(return_words(6));
    let (mut a, mut b) = (1u64, 2u64);
    for _ in 0..n {
        (a, b) = (b, a + b + k);
    }
    let want = [k, 0, b, a, 0, k].map(U256::from);
    check("below", asm(&items), &want);
}

/// More changed words than a loop carries: the run keeps the buffer, and still agrees.
#[test]
fn too_many_changed_words_stay_in_the_buffer() {
    let n = 5u64;
    // [n, a, b, c, d]: rotate a..d and add one to the new top each round.
    let init = vec![push(n), push(1), push(2), push(3), push(4)];
    let mut items = jumped_into(init, "head");
    items.extend(exit_if_zero(DUP5));
    items.extend(ops(&[SWAP1, SWAP2, SWAP3, PUSH1, 1, ADD]));
    items.extend(ops(&[SWAP4, PUSH1, 1, SWAP1, SUB, SWAP4]));
    items.extend(back_to_head());
    items.extend(return_words(5));
    let mut w = [1u64, 2, 3, 4];
    for _ in 0..n {
        // SWAP1 SWAP2 SWAP3 then the add and the SWAP4s: [a, b, c, d] -> [b, c, d, a + 1].
        w = [w[1], w[2], w[3], w[0] + 1];
    }
    let want = [w[3], w[2], w[1], w[0], 0].map(U256::from);
    check("rotate", asm(&items), &want);
}

/// fibonacci's loop whose head is fallen into (chained: the block before it is static-only)
/// and also jumped to, by a JUMPI whose condition is a constant either way or read at run time:
/// the fall-through, the head's checked entry and the back edge each pass the carried words.
#[test]
fn a_chained_head_carries_its_words() {
    let n = 10;
    for condition in [
        vec![A::Op(PUSH1), A::Op(1)],
        vec![A::Op(PUSH0)],
        vec![A::Op(CALLDATASIZE)],
    ] {
        let mut items = vec![push(n), A::Op(PUSH0), push(1)];
        items.extend(condition);
        items.extend([A::To("head"), A::Op(JUMPI), A::Label("head")]);
        items.extend(fibonacci_loop());
        items.extend(return_words(3));
        check("chained", asm(&items), &fibonacci_words(n));
    }
}

/// A jump to a block that pops words unread (`POP SWAP1 POP`, x and z) leaves them unstored:
/// when the block's entry check fails and the interpreter runs it, it drops older words in
/// their slots, and returns the one it keeps, which the jump stored.
#[test]
fn words_popped_unread_are_not_stored() {
    // [x, y, z] computed (not in the buffer yet): x = 2, y = 4, z = 6.
    let mut items = vec![push(1), A::Op(DUP1), A::Op(ADD), A::Op(DUP1), A::Op(DUP1)];
    items.extend(ops(&[ADD, DUP2, DUP2, ADD]));
    // The block's static gas is larger than the jump's, so its check can fail on its own.
    let mut items = jumped_into(items, "drop");
    items.extend(pad());
    items.extend(ops(&[POP, SWAP1, POP, DUP1]));
    items.extend(return_words(2));
    check("unread", asm(&items), &[U256::from(4), U256::from(4)]);
}

/// A block that only one jump enters is checked at that jump (or by the jumping block's own
/// check, when that block has only static gas) and goes on from its cursor: its stack bounds
/// (a block popping more than the stack holds, one pushing past the limit) and its static gas
/// (a block of static gas only, ending in STOP, at every gas limit) still hold.
#[test]
fn a_block_entered_by_one_jump_checks_its_entry() {
    let run = |code: &[u8], gas: u64| {
        let mut c = CallConfig::new(code.to_vec(), Vec::new());
        c.gas_limit = gas;
        c.spec = SpecId::Cancun;
        run_both(&c)
    };
    // Underflow: PUSH1 1 PUSH1 t JUMP; t: JUMPDEST POP POP STOP.
    let mut under = jumped_into(vec![push(1)], "t");
    under.extend(ops(&[POP, POP, STOP]));
    let under = asm(&under);
    assert_eq!(run(&under, 100_000).exit, ExitCode::StackUnderflow);
    // Overflow: 1,020 words, then a block pushing five.
    let mut items: Vec<A> = (0..1020).map(|_| A::Op(PUSH0)).collect();
    items.extend([A::Op(PUSH1), A::Op(0)]);
    let over_start = items.len();
    items.extend([A::Op(JUMP), A::Op(JUMPDEST)]);
    items.extend((0..5).map(|_| A::Op(PUSH0)));
    items.push(A::Op(STOP));
    let mut over = asm(&items);
    // The JUMPDEST's offset does not fit `asm`'s one-byte labels: a PUSH2 instead.
    let dest = over_start + 2;
    over.splice(
        over_start - 2..over_start,
        [PUSH2, (dest >> 8) as u8, dest as u8],
    );
    assert_eq!(over[dest], JUMPDEST);
    assert_eq!(run(&over, 100_000).exit, ExitCode::StackOverflow);
    // Static gas only: PUSH1 t JUMP; t: JUMPDEST (PUSH0 POP) x 16 STOP, the jumping block
    // with only static gas (its check covers `t`) or with a memory access first (`t` is
    // checked at the jump).
    for first in [vec![], vec![A::Op(PUSH0), A::Op(PUSH0), A::Op(MSTORE)]] {
        let mut items = jumped_into(first, "t");
        items.extend(pad());
        items.push(A::Op(STOP));
        let code = asm(&items);
        let need = run(&code, 100_000).gas_used;
        for gas in 0..need + 3 {
            let o = run(&code, gas);
            let want = if gas >= need {
                ExitCode::Stop
            } else {
                ExitCode::OutOfGas
            };
            assert_eq!(o.exit, want, "static gas at {gas}");
        }
    }
}
