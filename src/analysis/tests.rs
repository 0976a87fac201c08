use super::*;
use alloy_primitives::Bytes;

fn an(code: &[u8]) -> Analysis {
    analyze(
        Arc::new(Bytecode::new(Bytes::copy_from_slice(code))),
        SpecId::Cancun,
    )
}

#[test]
fn splits_at_jumpdest_and_after_jumps() {
    // PUSH1 4 JUMP INVALID JUMPDEST PUSH1 1 PUSH1 0 SSTORE STOP
    let a = an(&[
        0x60, 0x04, 0x56, 0xfe, 0x5b, 0x60, 0x01, 0x60, 0x00, 0x55, 0x00,
    ]);
    assert_eq!(a.blocks.len(), 2, "{a}");
    assert_eq!(a.blocks[0].exit, Exit::StaticJump(Some(1)));
    // INVALID after the JUMP is dead code: no block, no instruction.
    assert!(a.instrs.iter().all(|i| i.pc != 3));
    assert_eq!(a.blocks[1].start, 4);
    // SSTORE (static gas 0) stays in the block: compiled code charges what is pending before
    // it, so it sees the exact gas left.
    assert_eq!(a.blocks[1].static_gas, 1 + 3 + 3);
    assert_eq!(a.blocks[1].exit, Exit::Terminate, "{a}");
    assert!(!a.blocks[1].is_resume_point);
    assert_eq!(a.static_jumps, 1);
}

#[test]
fn stack_bounds() {
    // POP POP PUSH1 1 PUSH1 2 PUSH1 3 STOP: needs 2, grows to +1 relative to entry.
    let a = an(&[0x50, 0x50, 0x60, 1, 0x60, 2, 0x60, 3, 0x00]);
    assert_eq!(a.blocks[0].min_stack, 2);
    assert_eq!(a.blocks[0].max_growth, 1);
    assert_eq!(a.fused_pushes, 3);
    assert!(stack_ok(&a.blocks[0], 2));
    assert!(!stack_ok(&a.blocks[0], 1));
    assert!(!stack_ok(&a.blocks[0], STACK_LIMIT));
}

#[test]
fn static_jump_into_push_data_is_invalid() {
    // PUSH1 3 JUMP PUSH1 0x5b (the 0x5b at pc 4 is data) STOP
    let a = an(&[0x60, 0x04, 0x56, 0x60, 0x5b, 0x00]);
    assert_eq!(a.blocks[0].exit, Exit::StaticJump(None));
}

#[test]
fn jumpi_with_constant_condition_and_fallthrough() {
    // PUSH1 1 PUSH1 6 JUMPI STOP JUMPDEST STOP
    let a = an(&[0x60, 0x01, 0x60, 0x06, 0x57, 0x00, 0x5b, 0x00]);
    assert_eq!(a.blocks[0].exit, Exit::StaticJumpI(Some(2), 5));
    assert_eq!(a.blocks.len(), 3);
}

#[test]
fn suspending_ops_end_blocks_and_mark_resume_points() {
    // 7 x PUSH0, CALL, POP, STOP (Cancun has PUSH0)
    let mut code = vec![0x5f; 7];
    code.extend_from_slice(&[0xf1, 0x50, 0x00]);
    let a = an(&code);
    assert_eq!(a.blocks.len(), 2);
    assert!(a.blocks[1].is_resume_point);
    assert_eq!(a.blocks[0].static_gas, 7 * 2 + 100);
}

#[test]
fn unreachable_code_and_undefined_opcodes() {
    // STOP ADD ADD JUMPDEST 0x0c(undefined) ADD
    let a = an(&[0x00, 0x01, 0x01, 0x5b, 0x0c, 0x01]);
    assert_eq!(a.blocks.len(), 2);
    assert_eq!(a.blocks[1].exit, Exit::Terminate);
    assert_eq!(a.instrs.len(), 3);
}

#[test]
fn every_jumpdest_is_a_dynamic_target() {
    // A computed jump: PUSH1 3 PUSH1 3 ADD JUMP JUMPDEST(6) STOP JUMPDEST(8) STOP. Neither
    // JUMPDEST's pc is pushed, yet dynamic jumps must reach both without leaving compiled code.
    let a = an(&[0x60, 0x03, 0x60, 0x03, 0x01, 0x56, 0x5b, 0x00, 0x5b, 0x00]);
    let starts: Vec<usize> = a
        .dynamic_targets
        .iter()
        .map(|b| a.blocks[*b].start)
        .collect();
    assert_eq!(starts, vec![6, 8], "{a}");
}

#[test]
fn long_runs_of_memory_accesses_are_cut_into_pieces() {
    // PUSH0 CALLDATALOAD, then `DUP1 DUP1 MSTORE` (three instructions, one access) repeated past
    // the long-run length, then PUSH2 <end> JUMP to a JUMPDEST STOP: pieces of PIECE_INSTRS
    // falling into each other, and the PUSH2 stays with its JUMP.
    let reps = LONG_BLOCK_INSTRS / 3 + 700;
    let mut code = vec![0x5f, 0x35];
    for _ in 0..reps {
        code.extend([0x80, 0x80, 0x52]);
    }
    let end = code.len() + 4; // past PUSH2 and JUMP
    code.extend([0x61, (end >> 8) as u8, end as u8, 0x56, 0x5b, 0x00]);
    let a = an(&code);
    let run = 2 + 3 * reps + 2; // the straight instructions up to and with the JUMP
    assert_eq!(
        a.blocks.len(),
        run.div_ceil(PIECE_INSTRS) + 1,
        "{}",
        a.blocks.len()
    );
    for (k, bl) in a.blocks[..a.blocks.len() - 2].iter().enumerate() {
        assert_eq!(bl.instrs.len(), PIECE_INSTRS, "piece {k}");
        assert_eq!(bl.exit, Exit::Fallthrough(a.blocks[k + 1].start));
    }
    let last_piece = &a.blocks[a.blocks.len() - 2];
    assert_eq!(last_piece.exit, Exit::StaticJump(Some(a.blocks.len() - 1)));
    // The same length of arithmetic alone stays one block.
    let mut code = vec![0x5f];
    for _ in 0..reps {
        code.extend([0x80, 0x01, 0x80]); // DUP1 ADD DUP1
    }
    code.push(0x00);
    assert_eq!(an(&code).blocks.len(), 1);
}
