//! Build script: a fingerprint of the sources that shape compiled code, for the disk code cache.
//!
//! The cache refuses files written by another build: a crate version alone would let a
//! development build load machine code an earlier commit's lowering produced. The fingerprint is
//! a 64-bit FNV-1a hash over the paths and contents of the Rust sources of this crate and of the
//! runtime (frame layout, helpers); any edit there makes a new fingerprint (a clean rebuild of the
//! same sources gives the same one).

use std::path::Path;

fn main() {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for dir in ["src", "runtime/src"] {
        println!("cargo:rerun-if-changed={dir}");
        hash_dir(Path::new(dir), &mut h);
    }
    println!("cargo:rustc-env=FERRITE_SOURCE_HASH={h:016x}");
}

fn hash_dir(dir: &Path, h: &mut u64) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<_> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            hash_dir(&p, h);
        } else if p.extension().is_some_and(|e| e == "rs") {
            if let Ok(bytes) = std::fs::read(&p) {
                for b in p.to_string_lossy().bytes().chain(bytes) {
                    *h = (*h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
                }
            }
        }
    }
}
