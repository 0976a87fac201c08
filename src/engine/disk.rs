//! The code cache on disk ([`EngineConfig::cache_dir`](super::EngineConfig)): compiled programs
//! kept across restarts and shared between processes.
//!
//! **Layout.** One directory per (code hash, fork), `DIR/<hash hex>-<fork number>/`, holding one
//! file per program compiled for it: `whole-o.fcc` / `whole-b.fcc` (the whole code, optimized or
//! baseline tier) and `r<mask hash>-o.fcc` / `r<mask hash>-b.fcc` (a region, named by the first
//! 8 bytes of keccak256 of its block mask). A code hash never seen costs one failed
//! `opendir` on the engine's in-memory miss.
//!
//! **Format** (little-endian): magic `FRTCODE\0`, format version (u32); the ferrite version, the
//! build's source fingerprint (`build.rs`) and the host target (triple, Cranelift version and
//! flags, CPU features: [`crate::jit::host_target`]) as length-prefixed strings; fork, tier and
//! kind (whole/region) bytes; the code hash; the block mask (u32 length, a byte per block; empty
//! for a whole program); the machine code (u32 length, relocation sites zeroed); the relocations
//! (u32 count, each offset u32, kind u8, helper index u16, addend i64); keccak256 of all of it.
//! The analysis is recomputed from the EVM code on load (cheap); only the machine code and its
//! relocations come from the file, and the relocations are resolved against this process's
//! helpers by [`crate::jit`]'s one mapping path.
//!
//! **Trust.** A file is used only if its checksum, every header field and every length check
//! out; anything else — truncated, corrupted, another version, build, target, fork or code — is
//! a *reject*: the file is removed, counted, and the code compiled again, so the result is always
//! that of a run without the cache. Lengths are checked against the file size (itself capped at
//! [`MAX_FILE`]) before anything is allocated. The checksum guards against accidents, not
//! attackers: whoever can write the directory can make this process run their machine code, so
//! it must be as trusted as the binary.
//!
//! **Concurrency.** A file is written under a unique temporary name in its directory and renamed
//! into place, so no reader — in this process or another sharing the directory — ever sees a
//! half-written entry; two writers of one key both rename complete files and the last one wins.
//! (No fsync: after a power loss an entry may be empty or stale, which the checksum rejects.)
//! Processes of different builds sharing one directory reject — and so remove — each other's
//! files: give each build its own directory.
//!
//! **Budget.** [`EngineConfig::cache_bytes`](super::EngineConfig): when the bytes stored since the
//! last scan would exceed it (and on every 64th store, to see other processes' files), a store
//! scans the directory and removes the least recently used files (by modification time, which a
//! load renews) down to 7/8 of the budget, with leftover temporary files over an hour old. The
//! scan is two levels of `readdir` + `stat`, off the call path (compiler threads store).

use super::cache::Key;
use crate::analysis::{self, Analysis};
use crate::bytecode::Bytecode;
use crate::jit::code::{check_patches, Patch, KIND_ABS8};
use crate::jit::{self, Program, Tier};
use alloy_primitives::keccak256;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

/// The file format's version: bump on any change of the layout above.
pub(crate) const FORMAT_VERSION: u32 = 1;
const MAGIC: &[u8; 8] = b"FRTCODE\0";
/// Largest file read (machine code of the largest program compiled is well under 8 MiB).
pub(crate) const MAX_FILE: u64 = 64 << 20;
const SUFFIX: &str = ".fcc";
const TMP: &str = ".tmp-";

/// What a file holds, besides the key: the whole code, or the region of a block mask.
#[derive(Clone, Copy, Debug)]
pub(crate) enum What<'a> {
    Whole,
    Region(&'a [bool]),
}

fn tier_byte(t: Tier) -> u8 {
    match t {
        Tier::Optimized => 0,
        Tier::Baseline => 1,
    }
}

fn mask_hash(mask: &[bool]) -> String {
    let bytes: Vec<u8> = mask.iter().map(|b| u8::from(*b)).collect();
    let h = keccak256(&bytes);
    h[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The file name of a program (in its key's directory).
pub(crate) fn file_name(what: What<'_>, tier: Tier) -> String {
    let t = match tier {
        Tier::Optimized => 'o',
        Tier::Baseline => 'b',
    };
    match what {
        What::Whole => format!("whole-{t}{SUFFIX}"),
        What::Region(m) => format!("r{}-{t}{SUFFIX}", mask_hash(m)),
    }
}

/// The on-disk cache of one engine (see the module documentation).
pub(crate) struct Disk {
    dir: PathBuf,
    budget: u64,
    /// Bytes in the directory at the last scan plus those stored since.
    estimate: AtomicU64,
    stores_since_scan: AtomicU64,
    scanning: Mutex<()>,
    /// [`jit::host_target`] for: optimized, baseline single-pass, baseline backtracking.
    targets: [OnceLock<Option<String>>; 2],
    pub(crate) loads: AtomicU64,
    /// Nanoseconds spent in successful loads (read, check, map).
    pub(crate) load_ns: AtomicU64,
    pub(crate) stores: AtomicU64,
    pub(crate) rejects: AtomicU64,
}

/// A checked file's contents.
struct Image {
    mask: Option<Vec<bool>>,
    code: Vec<u8>,
    patches: Vec<Patch>,
}

/// A bounds-checked reader over a file's bytes.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
    }
    fn i64(&mut self) -> Option<i64> {
        self.take(8)
            .and_then(|b| b.try_into().ok())
            .map(i64::from_le_bytes)
    }
    fn str(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    let b = &s.as_bytes()[..s.len().min(usize::from(u16::MAX))];
    out.extend_from_slice(&(b.len() as u16).to_le_bytes());
    out.extend_from_slice(b);
}

/// A unique temporary-file suffix in this process.
fn tmp_counter() -> u64 {
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

impl Disk {
    /// The cache in `dir` (created if missing; an unusable directory just stores nothing) holding
    /// at most `budget` bytes. Scans it once, enforcing the budget.
    pub(crate) fn open(dir: PathBuf, budget: u64) -> Disk {
        let _ = std::fs::create_dir_all(&dir);
        let d = Disk {
            dir,
            budget,
            estimate: AtomicU64::new(0),
            stores_since_scan: AtomicU64::new(0),
            scanning: Mutex::new(()),
            targets: Default::default(),
            loads: AtomicU64::new(0),
            load_ns: AtomicU64::new(0),
            stores: AtomicU64::new(0),
            rejects: AtomicU64::new(0),
        };
        d.scan();
        d
    }

    fn key_dir(&self, key: &Key) -> PathBuf {
        self.dir.join(format!("{:x}-{}", key.hash, key.spec as u8))
    }

    /// The path of the file for `key`, `what`, `tier`.
    pub(crate) fn path(&self, key: &Key, what: What<'_>, tier: Tier) -> PathBuf {
        self.key_dir(key).join(file_name(what, tier))
    }

    fn target(&self, tier: Tier) -> Option<&str> {
        let i = match tier {
            Tier::Optimized => 0,
            Tier::Baseline => 1,
        };
        self.targets[i]
            .get_or_init(|| jit::host_target(tier).ok())
            .as_deref()
    }

    fn header(&self, key: &Key, what: What<'_>, tier: Tier) -> Option<Vec<u8>> {
        let target = self.target(tier)?;
        let mut h = Vec::with_capacity(1024);
        h.extend_from_slice(MAGIC);
        h.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        put_str(&mut h, env!("CARGO_PKG_VERSION"));
        put_str(&mut h, env!("FERRITE_SOURCE_HASH"));
        put_str(&mut h, target);
        h.push(key.spec as u8);
        h.push(tier_byte(tier));
        h.push(u8::from(matches!(what, What::Region(_))));
        h.extend_from_slice(key.hash.as_slice());
        Some(h)
    }

    /// Stores `p`, compiled for `key`; false if it could not be written.
    pub(crate) fn store(&self, key: &Key, p: &Program) -> bool {
        let what = match p.hot_blocks() {
            Some(m) => What::Region(m),
            None => What::Whole,
        };
        let Some(mut out) = self.header(key, what, p.tier()) else {
            return false;
        };
        let mask = p.hot_blocks().unwrap_or(&[]);
        out.extend_from_slice(&(mask.len() as u32).to_le_bytes());
        out.extend(mask.iter().map(|b| u8::from(*b)));
        let code = p.image();
        out.extend_from_slice(&(code.len() as u32).to_le_bytes());
        out.extend_from_slice(&code);
        out.extend_from_slice(&(p.patches().len() as u32).to_le_bytes());
        for r in p.patches() {
            out.extend_from_slice(&r.offset.to_le_bytes());
            out.push(KIND_ABS8);
            out.extend_from_slice(&r.builtin.to_le_bytes());
            out.extend_from_slice(&r.addend.to_le_bytes());
        }
        let sum = keccak256(&out);
        out.extend_from_slice(sum.as_slice());
        let dir = self.key_dir(key);
        let name = file_name(what, p.tier());
        let tmp = dir.join(format!(
            "{TMP}{}-{}-{name}",
            std::process::id(),
            tmp_counter()
        ));
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(&dir)?;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&out)?;
            drop(f);
            std::fs::rename(&tmp, dir.join(&name))
        };
        if write().is_err() {
            let _ = std::fs::remove_file(&tmp);
            return false;
        }
        self.stores.fetch_add(1, Ordering::Relaxed);
        let est = self.estimate.fetch_add(out.len() as u64, Ordering::Relaxed) + out.len() as u64;
        if est > self.budget || self.stores_since_scan.fetch_add(1, Ordering::Relaxed) >= 63 {
            self.scan();
        }
        true
    }

    /// Loads the program for `key`, the analysis of its code, `what` and `tier`, if a valid file
    /// holds it (an invalid one is rejected: removed and counted).
    pub(crate) fn load(
        &self,
        key: &Key,
        analysis: &Arc<Analysis>,
        what: What<'_>,
        tier: Tier,
    ) -> Option<Program> {
        let start = Instant::now();
        let path = self.path(key, what, tier);
        let mut f = std::fs::File::open(&path).ok()?;
        let p = self.read(&mut f, key, analysis, what, tier, start);
        match p {
            Some(p) => {
                // Renew its recency for the budget's LRU (best effort).
                let _ = f.set_modified(SystemTime::now());
                self.loads.fetch_add(1, Ordering::Relaxed);
                let ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
                self.load_ns.fetch_add(ns, Ordering::Relaxed);
                Some(p)
            }
            None => {
                self.reject(&path);
                None
            }
        }
    }

    fn reject(&self, path: &Path) {
        let _ = std::fs::remove_file(path);
        self.rejects.fetch_add(1, Ordering::Relaxed);
    }

    /// Reads and checks an open file (see the module documentation); `None` if anything is off.
    fn read(
        &self,
        f: &mut std::fs::File,
        key: &Key,
        analysis: &Arc<Analysis>,
        what: What<'_>,
        tier: Tier,
        start: Instant,
    ) -> Option<Program> {
        let len = f.metadata().ok()?.len();
        if !(32..=MAX_FILE).contains(&len) {
            return None;
        }
        let mut bytes = Vec::with_capacity(len as usize);
        f.take(MAX_FILE + 1).read_to_end(&mut bytes).ok()?;
        let (body, sum) = bytes.split_at_checked(bytes.len().checked_sub(32)?)?;
        if keccak256(body).as_slice() != sum {
            return None;
        }
        let header = self.header(key, what, tier)?;
        let mut c = Cursor(body);
        if c.take(header.len())? != header.as_slice() {
            return None;
        }
        let img = parse(&mut c, what)?;
        if !c.0.is_empty() {
            return None;
        }
        jit::from_image(
            analysis.clone(),
            img.mask,
            tier,
            &img.code,
            img.patches,
            start,
        )
        .ok()
    }

    /// On the engine's in-memory miss: the best program stored for `key` (whole optimized, else
    /// an optimized region, else a baseline region, else whole baseline; the newest first
    /// within a rank), analysing `code` only if there is a candidate.
    pub(crate) fn load_best(&self, key: &Key, code: &Arc<Bytecode>) -> Option<Program> {
        let rd = std::fs::read_dir(self.key_dir(key)).ok()?;
        let mut found: Vec<(u8, SystemTime, String)> = Vec::new();
        for e in rd.filter_map(Result::ok) {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(SUFFIX) else {
                continue;
            };
            let rank = match (stem.starts_with("whole-"), stem.ends_with("-o")) {
                (true, true) => 3,
                (false, true) => 2,
                (false, false) => 1,
                (true, false) => 0,
            };
            let time = e
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            found.push((rank, time, name));
        }
        if found.is_empty() {
            return None;
        }
        found.sort_by_key(|f| std::cmp::Reverse((f.0, f.1)));
        let analysis = Arc::new(analysis::analyze(code.clone(), key.spec));
        for (_, _, name) in found {
            if let Some(p) = self.load_named(key, &analysis, &name) {
                return Some(p);
            }
        }
        None
    }

    /// Loads the file `name` of `key`'s directory, whose kind the name gives (a region's mask is
    /// read from the file and must hash to the name).
    fn load_named(&self, key: &Key, analysis: &Arc<Analysis>, name: &str) -> Option<Program> {
        let path = self.key_dir(key).join(name);
        let tier = if name.ends_with(&format!("-o{SUFFIX}")) {
            Tier::Optimized
        } else {
            Tier::Baseline
        };
        if name.starts_with("whole-") {
            return self.load(key, analysis, What::Whole, tier);
        }
        // A region: its mask comes from the file (checked by the full load below).
        let mask = (|| {
            let mut f = std::fs::File::open(&path).ok()?;
            let len = f.metadata().ok()?.len();
            if len > MAX_FILE {
                return None;
            }
            let mut bytes = Vec::with_capacity(len as usize);
            (&mut f).take(MAX_FILE).read_to_end(&mut bytes).ok()?;
            let mut c = Cursor(&bytes);
            c.take(MAGIC.len() + 4)?;
            for _ in 0..3 {
                c.str()?;
            }
            c.take(3 + 32)?;
            let n = c.u32()? as usize;
            if n != analysis.blocks.len() {
                return None;
            }
            Some(c.take(n)?.iter().map(|b| *b != 0).collect::<Vec<bool>>())
        })();
        match mask {
            Some(m) if file_name(What::Region(&m), tier) == name => {
                self.load(key, analysis, What::Region(&m), tier)
            }
            _ => {
                self.reject(&path);
                None
            }
        }
    }

    /// Sums the directory and removes the least recently used files while over budget (see the
    /// module documentation). Skipped when another thread is scanning.
    fn scan(&self) {
        let Ok(_g) = self.scanning.try_lock() else {
            return;
        };
        self.stores_since_scan.store(0, Ordering::Relaxed);
        let mut files: Vec<(SystemTime, u64, PathBuf)> = Vec::new();
        let mut dirs = Vec::new();
        let now = SystemTime::now();
        let Ok(top) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for d in top.filter_map(Result::ok) {
            let Ok(rd) = std::fs::read_dir(d.path()) else {
                continue;
            };
            dirs.push(d.path());
            for e in rd.filter_map(Result::ok) {
                let Ok(m) = e.metadata() else { continue };
                let time = m.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                let tmp = e.file_name().to_string_lossy().starts_with(TMP);
                let old = now.duration_since(time).unwrap_or_default() > Duration::from_secs(3600);
                if tmp && old {
                    let _ = std::fs::remove_file(e.path());
                } else if !tmp {
                    files.push((time, m.len(), e.path()));
                }
            }
        }
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        if total > self.budget {
            files.sort_by_key(|f| f.0);
            let goal = self.budget - self.budget / 8;
            for (_, len, path) in files {
                if total <= goal {
                    break;
                }
                if std::fs::remove_file(&path).is_ok() {
                    total -= len;
                }
            }
            for d in dirs {
                // Fails (harmlessly) unless empty.
                let _ = std::fs::remove_dir(d);
            }
        }
        self.estimate.store(total, Ordering::Relaxed);
    }
}

/// The body after the header: mask, code, relocations, each length checked against what is left.
fn parse(c: &mut Cursor<'_>, what: What<'_>) -> Option<Image> {
    let n = c.u32()? as usize;
    let mask = c.take(n)?;
    let mask = match what {
        What::Whole if n == 0 => None,
        What::Region(m) if m.len() == n && m.iter().zip(mask).all(|(a, b)| u8::from(*a) == *b) => {
            Some(m.to_vec())
        }
        _ => return None,
    };
    let n = c.u32()? as usize;
    let code = c.take(n)?.to_vec();
    let n = c.u32()? as usize;
    if n.checked_mul(15)? > c.0.len() {
        return None;
    }
    let mut patches = Vec::with_capacity(n);
    for _ in 0..n {
        let offset = c.u32()?;
        if c.u8()? != KIND_ABS8 {
            return None;
        }
        let builtin = c.u16()?;
        let addend = c.i64()?;
        patches.push(Patch {
            offset,
            builtin,
            addend,
        });
    }
    check_patches(code.len(), &patches).ok()?;
    Some(Image {
        mask,
        code,
        patches,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_kind_and_tier() {
        assert_eq!(file_name(What::Whole, Tier::Optimized), "whole-o.fcc");
        let n = file_name(What::Region(&[true, false]), Tier::Baseline);
        assert!(
            n.starts_with('r') && n.ends_with("-b.fcc") && n.len() == 1 + 16 + 6,
            "{n}"
        );
        assert_ne!(n, file_name(What::Region(&[false, true]), Tier::Baseline));
    }

    #[test]
    fn hostile_lengths_are_refused_without_allocating() {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse(&mut Cursor(&bytes), What::Whole).is_none());
        let mut bytes = vec![0, 0, 0, 0, 1, 0, 0, 0, 0xc3];
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse(&mut Cursor(&bytes), What::Whole).is_none());
    }
}
