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
