//! What `statetest` and `blocktest` share: fixture files run on worker threads with a progress
//! bar, and JSON string quoting for their `--json` reports.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Runs `run` on every file on `jobs` threads (each takes the next file), with a progress bar
/// on a terminal unless `quiet`; the results in no particular order.
pub fn run_files<R: Send>(
    files: &[PathBuf],
    jobs: usize,
    quiet: bool,
    run: impl Fn(&PathBuf) -> Vec<R> + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let all = Mutex::new(Vec::new());
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new(files.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} files {elapsed_precise} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(f) = files.get(i) else { break };
                let r = run(f);
                if let Some(b) = &bar {
                    b.inc(1);
                }
                all.lock().unwrap_or_else(|e| e.into_inner()).extend(r);
            });
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    all.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// `s` as a JSON string literal.
pub fn json_escape(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}
