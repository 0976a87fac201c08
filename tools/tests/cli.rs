//! The `ferrite` command line as a user runs it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// A reader that stops early (`ferrite analyze … | head -1`) ends the command quietly with the
/// status of a writer its reader left (128 + SIGPIPE), not a panic and its backtrace.
#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    // 20,000 JUMPDESTs: a line per block, far more than a pipe buffers.
    let code = "5b".repeat(20_000);
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrite"))
        .args(["analyze", "--code", &code])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ferrite starts");
    let mut first = String::new();
    let mut out = BufReader::new(child.stdout.take().expect("piped"));
    out.read_line(&mut first).expect("a first line");
    assert!(first.starts_with("code 20000 bytes"), "{first}");
    drop(out);
    let done = child.wait_with_output().expect("ferrite ends");
    assert_eq!(done.status.code(), Some(141));
    assert_eq!(String::from_utf8_lossy(&done.stderr), "");
}

/// `ferrite bench --compile` ends with a summary against the compile-speed goals: what was
/// compiled and refused, the highest figures, and the contracts over each goal.
#[test]
fn the_compile_report_sums_up_against_the_goals() {
    let run = |filter: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_ferrite"))
            .args(["bench", "--compile", "--filter", filter])
            .args(["--iters", "1", "--coverage", "0"])
            .output()
            .expect("ferrite runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let refused = run("loop_with_many_jumpdests");
    assert!(
        refused.contains(
            "optimized, whole: 0 compiled, refused: ipsilon/micro/loop_with_many_jumpdests/empty"
        ),
        "{refused}"
    );
    let compiled = run("revmc/counter");
    let summary: Vec<&str> = compiled.lines().rev().take(4).collect();
    assert!(
        summary[3].starts_with("optimized, whole: 1 compiled, refused: none"),
        "{compiled}"
    );
    assert!(summary[2].starts_with("highest: "), "{compiled}");
    assert!(summary[2].ends_with("B/B (revmc/counter)"), "{compiled}");
    assert!(summary[1].starts_with("over 5 ms/KB: "), "{compiled}");
    assert!(summary[0].starts_with("over 30 B/B: "), "{compiled}");
}
