//! The code cache on disk (`EngineConfig::cache_dir`): a second engine on the same directory
//! loads what the first compiled; every file that does not check out — corrupted, truncated,
//! from another version or target, for another fork — is rejected, removed and compiled again;
//! two engines (threads) or two processes storing the same key at once leave one valid file. Every result is compared with
//! the interpreter's, and no mapping of the process is ever writable and executable at once.

use alloy_primitives::keccak256;
use ferrite::engine::{Engine, EngineConfig, EngineMode, Stats};
use ferrite::runtime::SpecId;
use ferrite_state::call::{self, CallConfig, CallOutcome};
use ferrite_state::Transact;
use std::path::{Path, PathBuf};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "ferrite-disk-cache-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn case(name: &str) -> CallConfig {
    ferrite_tools::bench::case(name)
        .unwrap_or_else(|| panic!("case {name} not in cases_all.tsv"))
        .cfg
}

/// Status, gas and output: what must not depend on the cache.
fn seen(o: &CallOutcome) -> (ferrite::runtime::ExitCode, u64, Vec<u8>) {
    (o.exit, o.gas_used, o.output.to_vec())
}

fn engine(mode: EngineMode, dir: &Path) -> Engine {
    Engine::new(EngineConfig {
        cache_dir: Some(dir.to_path_buf()),
        ..EngineConfig::with_mode(mode)
    })
}

/// Runs `cfg` once on a fresh jit-mode engine over `dir`, checks the result against the
/// interpreter, and returns the engine's counters.
fn jit_run(cfg: &CallConfig, dir: &Path) -> Stats {
    let e = engine(EngineMode::Jit, dir);
    let got = e.call(cfg);
    assert_eq!(seen(&got), seen(&call::run(cfg)), "same as the interpreter");
    e.wait_idle();
    e.stats()
}

/// The cache files under `dir` (not temporary ones).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for d in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        for f in std::fs::read_dir(d.path()).into_iter().flatten().flatten() {
            v.push(f.path());
        }
    }
    v.sort();
    v
}

/// The one file a jit-mode run of `cfg` stores in a fresh directory.
fn stored(cfg: &CallConfig, dir: &Path) -> PathBuf {
    let s = jit_run(cfg, dir);
    assert_eq!(
        (s.compiles, s.disk_stores, s.disk_loads),
        (1, 1, 0),
        "{s:?}"
    );
    let f = files(dir);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].ends_with("whole-o.fcc"), "{f:?}");
    f[0].clone()
}

/// A cold engine over `dir` rejects one file, compiles and stores again; a third loads it.
fn assert_rejected_then_healed(cfg: &CallConfig, dir: &Path) {
    let s = jit_run(cfg, dir);
    assert_eq!(
        (s.disk_rejects, s.disk_loads, s.compiles, s.disk_stores),
        (1, 0, 1, 1),
        "rejected, compiled, stored again: {s:?}"
    );
    let s = jit_run(cfg, dir);
    assert_eq!(
        (s.disk_rejects, s.disk_loads, s.compiles),
        (0, 1, 0),
        "{s:?}"
    );
}

/// Rewrites the checksum after editing a file's body, so only the header check can refuse it.
fn reseal(bytes: &mut [u8]) {
    let n = bytes.len() - 32;
    let sum = keccak256(&bytes[..n]);
    bytes[n..].copy_from_slice(sum.as_slice());
}

/// Offset of the length-prefixed string number `i` (0: ferrite version, 1: build, 2: target).
fn string_at(bytes: &[u8], i: usize) -> (usize, usize) {
    let mut at = 12;
    for _ in 0..i {
        at += 2 + usize::from(u16::from_le_bytes([bytes[at], bytes[at + 1]]));
    }
    (
        at + 2,
        usize::from(u16::from_le_bytes([bytes[at], bytes[at + 1]])),
    )
}

/// No mapping of this process is writable and executable at once.
fn assert_w_xor_x() {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps");
    for line in maps.lines() {
        let perms = line.split_whitespace().nth(1).unwrap_or("");
        assert!(
            !(perms.contains('w') && perms.contains('x')),
            "writable and executable: {line}"
        );
    }
}

#[test]
fn a_second_engine_runs_native_code_from_its_first_call_with_no_compile() {
    let dir = TempDir::new("warm");
    let cfg = case("revmc/fibonacci-calldata");
    let want = seen(&call::run(&cfg));
    // Auto mode: a profiled region, baseline then optimized, both stored.
    let first = Engine::new(EngineConfig {
        cache_dir: Some(dir.0.clone()),
        ..EngineConfig::default()
    });
    for _ in 0..3 {
        assert_eq!(seen(&first.call(&cfg)), want);
    }
    first.wait_idle();
    let s = first.stats();
    assert_eq!(
        (s.compiles, s.disk_stores, s.disk_loads),
        (2, 2, 0),
        "{s:?}"
    );
    drop(first);
    let second = Engine::new(EngineConfig {
        cache_dir: Some(dir.0.clone()),
        ..EngineConfig::default()
    });
    assert_eq!(seen(&second.call(&cfg)), want);
    let s = second.stats();
    assert_eq!(
        (
            s.native_calls,
            s.interpreter_calls,
            s.compiles,
            s.disk_loads
        ),
        (1, 0, 0, 1),
        "native from the first call, loaded: {s:?}"
    );
    let p = second
        .installed_program(keccak256(&cfg.code), SpecId::Prague)
        .expect("installed");
    assert_eq!(
        p.tier(),
        ferrite::Tier::Optimized,
        "the best stored program"
    );
    assert!(p.hot_blocks().is_some(), "the region");
    assert_w_xor_x();
}

#[test]
fn a_corrupted_file_is_rejected_and_recompiled() {
    let dir = TempDir::new("corrupt");
    let cfg = case("revmc/factorial");
    let f = stored(&cfg, &dir.0);
    let mut bytes = std::fs::read(&f).expect("read");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&f, &bytes).expect("write");
    assert_rejected_then_healed(&cfg, &dir.0);
    assert_w_xor_x();
}

#[test]
fn a_truncated_file_is_rejected_and_recompiled() {
    let dir = TempDir::new("truncated");
    let cfg = case("revmc/factorial");
    for keep in [0, 7, 40] {
        let f = stored(&cfg, &dir.0);
        let bytes = std::fs::read(&f).expect("read");
        let n = if keep == 40 { bytes.len() - 40 } else { keep };
        std::fs::write(&f, &bytes[..n]).expect("write");
        assert_rejected_then_healed(&cfg, &dir.0);
        for f in files(&dir.0) {
            std::fs::remove_file(f).expect("clean");
        }
    }
}

#[test]
fn a_file_of_another_version_build_or_target_is_rejected() {
    let dir = TempDir::new("version");
    let cfg = case("revmc/factorial");
    // The ferrite version, the source fingerprint, the target (with a valid checksum: only the
    // header check can refuse them), then the format version.
    for field in 0..4 {
        let f = stored(&cfg, &dir.0);
        let mut bytes = std::fs::read(&f).expect("read");
        if field < 3 {
            let (at, len) = string_at(&bytes, field);
            assert!(len > 0);
            bytes[at] ^= 0x01;
        } else {
            bytes[8] = bytes[8].wrapping_add(1);
        }
        reseal(&mut bytes);
        std::fs::write(&f, &bytes).expect("write");
        assert_rejected_then_healed(&cfg, &dir.0);
        for f in files(&dir.0) {
            std::fs::remove_file(f).expect("clean");
        }
    }
}

#[test]
fn a_file_for_another_fork_is_rejected() {
    let dir = TempDir::new("fork");
    let mut cancun = case("revmc/factorial");
    cancun.spec = SpecId::Cancun;
    let from = stored(&cancun, &dir.0);
    let prague = case("revmc/factorial");
    assert_eq!(prague.spec, SpecId::Prague);
    // Put the Cancun program where the Prague one would be.
    let hash = keccak256(&prague.code);
    let to = dir.0.join(format!("{hash:x}-{}", SpecId::Prague as u8));
    std::fs::create_dir_all(&to).expect("mkdir");
    std::fs::copy(&from, to.join("whole-o.fcc")).expect("copy");
    assert_rejected_then_healed(&prague, &dir.0);
    // The Cancun file is untouched and still loads for Cancun.
    let s = jit_run(&cancun, &dir.0);
    assert_eq!(
        (s.disk_loads, s.disk_rejects, s.compiles),
        (1, 0, 0),
        "{s:?}"
    );
}

#[test]
fn two_engines_storing_one_key_at_once_leave_one_valid_file() {
    let dir = TempDir::new("race");
    let cfg = case("ipsilon/main/swap_math/spent");
    let want = seen(&call::run(&cfg));
    for round in 0..4 {
        let barrier = std::sync::Barrier::new(2);
        let stats: Vec<Stats> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        // Both engines miss the disk, compile, and store the same file.
                        let e = engine(EngineMode::Jit, &dir.0);
                        barrier.wait();
                        assert_eq!(seen(&e.call(&cfg)), want);
                        e.stats()
                    })
                })
                .collect();
            hs.into_iter()
                .map(|h| h.join().expect("no panic"))
                .collect()
        });
        let stores: u64 = stats.iter().map(|s| s.disk_stores).sum();
        let loads: u64 = stats.iter().map(|s| s.disk_loads).sum();
        assert!(stats.iter().all(|s| s.disk_rejects == 0), "{stats:?}");
        assert_eq!(
            stores + loads,
            2,
            "each engine compiled and stored, or loaded: {stats:?}"
        );
        let f = files(&dir.0);
        assert_eq!(f.len(), 1, "one file, no temporary left: {f:?}");
        let s = jit_run(&cfg, &dir.0);
        assert_eq!((s.disk_loads, s.disk_rejects), (1, 0), "{s:?}");
        std::fs::remove_file(&f[0]).unwrap_or_else(|e| panic!("round {round}: {e}"));
    }
    assert_w_xor_x();
}

#[test]
fn the_byte_budget_evicts_the_least_recently_used_files() {
    let dir = TempDir::new("budget");
    let names = ["revmc/factorial", "revmc/counter", "revmc/erc20_transfer"];
    let mut cfgs: Vec<(u64, CallConfig)> = names
        .iter()
        .map(|n| {
            let c = case(n);
            let f = stored(&c, &dir.0);
            let size = std::fs::metadata(&f).expect("stat").len();
            std::fs::remove_dir_all(&dir.0).expect("clean");
            (size, c)
        })
        .collect();
    // Largest first: evicting the oldest alone brings the directory back within budget.
    cfgs.sort_by_key(|(size, _)| std::cmp::Reverse(*size));
    // One byte short of all three: the third store goes over and evicts from the oldest.
    let budget = cfgs.iter().map(|(size, _)| size).sum::<u64>() - 1;
    let cfgs: Vec<CallConfig> = cfgs.into_iter().map(|(_, c)| c).collect();
    for c in &cfgs {
        let e = Engine::new(EngineConfig {
            cache_dir: Some(dir.0.clone()),
            cache_bytes: budget,
            ..EngineConfig::with_mode(EngineMode::Jit)
        });
        assert_eq!(seen(&e.call(c)), seen(&call::run(c)));
        // Distinct modification times for the LRU order.
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let left = files(&dir.0);
    let total: u64 = left
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    assert!(total <= budget, "{total} bytes over a budget of {budget}");
    let has = |c: &CallConfig| {
        let h = format!("{:x}", keccak256(&c.code));
        left.iter().any(|f| f.to_string_lossy().contains(&h))
    };
    assert!(!has(&cfgs[0]), "the oldest goes first: {left:?}");
    assert!(has(&cfgs[2]), "the newest is kept: {left:?}");
}

/// The environment variable that makes [`child_stores_one_program`] run: the cache directory.
const CHILD_DIR: &str = "FERRITE_DISK_CACHE_TEST_CHILD_DIR";

/// A child process of [`two_processes_storing_one_key_at_once_leave_one_valid_file`] (does
/// nothing when run on its own): one jit-mode call of swap_math on the directory named by
/// [`CHILD_DIR`], its counters printed as `child: stores loads rejects`.
#[test]
#[ignore = "a child process of two_processes_storing_one_key_at_once_leave_one_valid_file"]
fn child_stores_one_program() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let cfg = case("ipsilon/main/swap_math/spent");
    let s = jit_run(&cfg, Path::new(&dir));
    println!(
        "child: {} {} {}",
        s.disk_stores, s.disk_loads, s.disk_rejects
    );
}

#[test]
fn two_processes_storing_one_key_at_once_leave_one_valid_file() {
    let dir = TempDir::new("processes");
    let cfg = case("ipsilon/main/swap_math/spent");
    let exe = std::env::current_exe().expect("the test binary");
    for round in 0..2 {
        let children: Vec<_> = (0..2)
            .map(|_| {
                std::process::Command::new(&exe)
                    .args([
                        "--exact",
                        "child_stores_one_program",
                        "--ignored",
                        "--nocapture",
                    ])
                    .env(CHILD_DIR, &dir.0)
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .expect("spawn a child")
            })
            .collect();
        // Both started before either is waited for: they run at the same time.
        let mut stores = 0;
        let mut loads = 0;
        for c in children {
            let out = c.wait_with_output().expect("the child runs");
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "child failed: {text}");
            let line = text
                .lines()
                .find_map(|l| l.strip_prefix("child: "))
                .unwrap_or_else(|| panic!("no counters in {text}"));
            let n: Vec<u64> = line.split(' ').filter_map(|x| x.parse().ok()).collect();
            assert_eq!(n.len(), 3, "{line}");
            assert_eq!(n[2], 0, "no rejects: {line}");
            stores += n[0];
            loads += n[1];
        }
        println!("round {round}: {stores} stores, {loads} loads");
        assert_eq!(stores + loads, 2, "each stored or loaded");
        let f = files(&dir.0);
        assert_eq!(f.len(), 1, "one file, no temporary left: {f:?}");
        let s = jit_run(&cfg, &dir.0);
        assert_eq!((s.disk_loads, s.disk_rejects), (1, 0), "{s:?}");
        std::fs::remove_file(&f[0]).unwrap_or_else(|e| panic!("round {round}: {e}"));
    }
}
