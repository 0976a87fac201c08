//! Conformance: the legacy Ethereum VM tests (ethereum/legacytests `Constantinople/VMTests`, the
//! classic one-frame format), through `ferrite_tools::statetest::vmtest`.
//!
//! `vendored_*` run the sample under `tests/fixtures/vmtests` (always available) on both tiers.
//! `full_suite_*` run every file under `$FERRITE_ETHTESTS/VMTests`; they are ignored by default
//! (`.ci/run` sets the variable and runs `--include-ignored`) and fail if run without it. Every case must pass except those listed in [`KNOWN_FAILURES`]
//! (with the reason), and none may be skipped except those in [`KNOWN_SKIPS`], so a regression or
//! a newly passing case both fail the test until the lists are updated.

use ferrite::interpreter::NoTracer;
use ferrite::runtime::SpecId;
use ferrite_state::Mode;
use ferrite_tools::statetest::ethtests_root;
use ferrite_tools::statetest::runner::{self, CaseResult, Filter};
use ferrite_tools::statetest::vmtest;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Cases of the full set that fail, with the diagnosis. Empty: all 609 pass on both tiers.
const KNOWN_FAILURES: &[(&str, &str)] = &[];

/// Cases of the full set that are skipped, with the reason. Empty: no test of the set records a
/// sub-call (`callcreates`) or contains a CALL/CREATE opcode, the one thing skipped.
const KNOWN_SKIPS: &[(&str, &str)] = &[];

/// Files in the full set (ethereum/legacytests `Constantinople/VMTests`, one test per file).
const FULL_SET_FILES: usize = 609;

fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vmtests")
}

fn run_dir(dir: &Path, mode: Mode) -> (usize, Vec<CaseResult>) {
    let files = runner::collect_files(dir).expect("fixture folder readable");
    let filter = Filter {
        mode,
        ..Filter::default()
    };
    let mut out = Vec::new();
    for f in &files {
        assert!(
            vmtest::is_vm_test_file(f),
            "{} not recognised as VM tests",
            f.display()
        );
        out.extend(vmtest::run_file(f, &filter));
    }
    (files.len(), out)
}

fn describe(r: &CaseResult) -> String {
    format!(
        "{}: {}",
        r.name,
        r.error.as_deref().or(r.skipped.as_deref()).unwrap_or("")
    )
}

/// Asserts that exactly the known cases fail or are skipped and that `expected_passes` pass.
fn check(
    results: &[CaseResult],
    expected_passes: usize,
    known: &[(&str, &str)],
    skips: &[(&str, &str)],
) {
    let passed = results.iter().filter(|r| r.pass).count();
    let failed: BTreeSet<&str> = results
        .iter()
        .filter(|r| !r.pass && r.skipped.is_none())
        .map(|r| r.name.as_str())
        .collect();
    let skipped: BTreeSet<&str> = results
        .iter()
        .filter(|r| r.skipped.is_some())
        .map(|r| r.name.as_str())
        .collect();
    println!(
        "{} cases: {passed} passed, {} failed, {} skipped",
        results.len(),
        failed.len(),
        skipped.len()
    );
    for r in results.iter().filter(|r| !r.pass) {
        println!("  {}", describe(r));
    }
    let known_failed: BTreeSet<&str> = known.iter().map(|(n, _)| *n).collect();
    let known_skipped: BTreeSet<&str> = skips.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        failed, known_failed,
        "failing cases differ from KNOWN_FAILURES"
    );
    assert_eq!(
        skipped, known_skipped,
        "skipped cases differ from KNOWN_SKIPS"
    );
    assert_eq!(passed, expected_passes, "pass count changed");
}

/// The vendored sample: 13 files, 4 of them expecting an exceptional halt.
fn vendored(mode: Mode) {
    let (files, results) = run_dir(&sample_dir(), mode);
    assert_eq!(files, 13);
    assert_eq!(results.len(), 13);
    assert!(results.iter().all(|r| r.fork == vmtest::FORK_LABEL));
    check(&results, 13, &[], &[]);
}

fn full(mode: Mode) {
    let (files, results) = run_dir(&ethtests_root().join("VMTests"), mode);
    assert_eq!(files, FULL_SET_FILES);
    assert_eq!(results.len(), FULL_SET_FILES);
    let expected = FULL_SET_FILES - KNOWN_FAILURES.len() - KNOWN_SKIPS.len();
    check(&results, expected, KNOWN_FAILURES, KNOWN_SKIPS);
}

#[test]
fn vendored_interpreter() {
    vendored(Mode::Interp);
}

#[test]
fn vendored_jit() {
    vendored(Mode::Jit);
}

#[test]
#[ignore = "needs FERRITE_ETHTESTS (.ci/run sets it and runs --include-ignored)"]
fn full_suite_interpreter() {
    full(Mode::Interp);
}

#[test]
#[ignore = "needs FERRITE_ETHTESTS (.ci/run sets it and runs --include-ignored)"]
fn full_suite_jit() {
    full(Mode::Jit);
}

/// The sample pins the fork: Homestead (and Frontier, identical for code without calls or
/// creates) passes everything, while EIP-150's repricing (SLOAD 50 → 200, SELFDESTRUCT 0 → 5000)
/// and EIP-160's (EXP 10 → 50 per exponent byte) break exactly the tests that use those opcodes.
#[test]
fn sample_pins_homestead_gas_rules() {
    let files = runner::collect_files(&sample_dir()).expect("fixture folder readable");
    let tests: Vec<(String, vmtest::VmTest)> = files
        .iter()
        .flat_map(|f| vmtest::load_file(f).expect("sample parses"))
        .collect();
    let failing = |spec: SpecId| -> BTreeSet<String> {
        tests
            .iter()
            .map(|(name, t)| vmtest::run_test(name, t, spec, &mut NoTracer, &Mode::Interp))
            .filter(|r| !r.pass)
            .map(|r| r.name)
            .collect()
    };
    assert_eq!(vmtest::SPEC, SpecId::Homestead);
    assert!(failing(SpecId::Frontier).is_empty());
    assert!(failing(SpecId::Homestead).is_empty());
    let tangerine: BTreeSet<String> = ["sstore_load_0", "suicideSendEtherToMe"]
        .map(String::from)
        .into();
    assert_eq!(failing(SpecId::Tangerine), tangerine);
    let mut spurious = tangerine;
    spurious.insert("expPowerOf2_2".into());
    assert_eq!(failing(SpecId::SpuriousDragon), spurious);
}

/// State-test fixtures are never taken for VM tests, not even ethereum/tests'
/// `GeneralStateTests/VMTests` (state tests despite the folder name).
#[test]
fn state_tests_are_not_vm_tests() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ethtests");
    let files = runner::collect_files(&dir).expect("fixture folder readable");
    assert!(files
        .iter()
        .any(|f| f.components().any(|c| c.as_os_str() == "VMTests")));
    for f in &files {
        assert!(!vmtest::is_vm_test_file(f), "{}", f.display());
    }
}
