//! Executable memory for compiled programs, and the one place relocations are resolved.
//!
//! A program's machine code comes either from Cranelift (this process compiled it) or from the
//! code cache on disk (another process, or an earlier run, did); both go through [`map`]:
//!
//! 1. an anonymous private mapping of the code's length (rounded up to pages by the kernel) is
//!    made with `memmap2`, readable and writable, never executable;
//! 2. the code is copied in and every relocation is written: each is an absolute 64-bit address
//!    ([`Reloc::Abs8`]) of a runtime helper, named by its index in
//!    [`Builtin::ALL`](ferrite_runtime::builtins::Builtin::ALL), the one helper list;
//! 3. the mapping is switched to read+execute (`mprotect`), after which it is never written
//!    again. No mapping is writable and executable at once (W^X).
//!
//! The [`CodeMemory`] owns the mapping: dropping it unmaps exactly those pages, so evicting a
//! program frees its code and nothing else (cranelift-jit, used before, freed per module and kept
//! its own allocator; one mapping per program is simpler and as cheap at our compile rates).
//!
//! Only the relocations the lowering produces are accepted: calls to the helpers are declared
//! colocated, so x86-64 code calls them directly (`call rel32`, `X86CallPCRel4` against a user
//! external name `(0, index + 1)`), and [`link_calls`] points each call at a stub the image
//! carries, which jumps through the helper's absolute address (an `Abs8` patch). Anything else —
//! another kind, a library call, a data symbol, a reference into the function itself — is an
//! error (the code is then interpreted), never a silent wrong patch.
//!
//! Executing the code is implemented for x86-64, whose instruction fetch is coherent with stores;
//! on other hosts [`map`] refuses (aarch64 would need an instruction-cache flush after writing).

use super::CompileError;
use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::ir::{ExternalName, Function};
use cranelift_codegen::{CompiledCode, FinalizedRelocTarget};
use ferrite_runtime::builtins::Builtin;

/// One resolved relocation: at `offset` in the code, the 8-byte little-endian absolute address
/// of helper [`Builtin::ALL`]`[builtin]` plus `addend`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Patch {
    /// Byte offset in the code.
    pub(crate) offset: u32,
    /// Index into [`Builtin::ALL`].
    pub(crate) builtin: u16,
    /// Added to the helper's address.
    pub(crate) addend: i64,
}

/// The relocation kinds [`map`] writes, by the number the disk format stores.
pub(crate) const KIND_ABS8: u8 = 1;

/// A direct call of a helper in a compiled function (x86-64 `call rel32`): at `offset`, the
/// 4-byte displacement to helper [`Builtin::ALL`]`[builtin]`, plus `addend`. [`link_calls`]
/// points it at a stub in the same image, so it needs no patch when the code is mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Call {
    /// Byte offset in the code of the displacement.
    pub(crate) offset: u32,
    /// Index into [`Builtin::ALL`].
    pub(crate) builtin: u16,
    /// Added to the target's address (the displacement is relative to its own position).
    pub(crate) addend: i64,
}

/// The patches and direct calls of a compiled function, from Cranelift's relocation list; an
/// error for any relocation [`map`] and [`link_calls`] would not resolve exactly.
pub(crate) fn patches(
    compiled: &CompiledCode,
    func: &Function,
) -> Result<(Vec<Patch>, Vec<Call>), CompileError> {
    let names = func.params.user_named_funcs();
    let mut out = Vec::new();
    let mut calls = Vec::with_capacity(compiled.buffer.relocs().len());
    for r in compiled.buffer.relocs() {
        let bad = || CompileError::Codegen(format!("unsupported relocation {r:?}"));
        let FinalizedRelocTarget::ExternalName(ExternalName::User(name)) = &r.target else {
            return Err(bad());
        };
        let name = names.get(*name).ok_or_else(bad)?;
        // `standalone_function` names helper i as (0, i + 1).
        let index = name.index.checked_sub(1).ok_or_else(bad)? as usize;
        if name.namespace != 0 || index >= Builtin::ALL.len() {
            return Err(bad());
        }
        let builtin = u16::try_from(index).map_err(|_| bad())?;
        match r.kind {
            Reloc::Abs8 => out.push(Patch {
                offset: r.offset,
                builtin,
                addend: r.addend,
            }),
            Reloc::X86CallPCRel4 => calls.push(Call {
                offset: r.offset,
                builtin,
                addend: r.addend,
            }),
            _ => return Err(bad()),
        }
    }
    Ok((out, calls))
}

/// Resolves the direct `calls` of the functions in `image`: appends one stub per helper they
/// call (`jmp [rip + 0]` and the 8-byte address it jumps through, a [`Patch`] in `patches`,
/// 16-byte aligned) and writes
/// each call's displacement to its helper's stub. A direct call is 5 bytes where loading the
/// helper's absolute address into a register and calling it was 13 (`movabs`, `call reg`): a
/// fifteenth of snailtracer's machine code. Position-independent: the stubs travel with the
/// image, and only their addresses are patched when it is mapped.
pub(crate) fn link_calls(
    image: &mut Vec<u8>,
    calls: &[Call],
    patches: &mut Vec<Patch>,
) -> Result<(), CompileError> {
    let mut stubs: Vec<Option<usize>> = vec![None; Builtin::ALL.len()];
    for call in calls {
        let bad = || CompileError::Codegen(format!("invalid direct call {call:?}"));
        let slot = stubs.get_mut(usize::from(call.builtin)).ok_or_else(bad)?;
        let stub = match *slot {
            Some(at) => at,
            None => {
                image.resize(image.len().next_multiple_of(16), 0xcc);
                let at = image.len();
                image.extend_from_slice(&[0xff, 0x25, 0, 0, 0, 0]);
                image.extend_from_slice(&[0; 8]);
                patches.push(Patch {
                    offset: u32::try_from(at + 6).map_err(|_| bad())?,
                    builtin: call.builtin,
                    addend: 0,
                });
                *slot = Some(at);
                at
            }
        };
        let site = call.offset as usize;
        let disp = (stub as i64)
            .checked_add(call.addend)
            .and_then(|t| t.checked_sub(site as i64))
            .and_then(|d| i32::try_from(d).ok())
            .ok_or_else(bad)?;
        image
            .get_mut(site..site + 4)
            .ok_or_else(bad)?
            .copy_from_slice(&disp.to_le_bytes());
    }
    Ok(())
}

/// Checks that `patches` fit in `len` bytes of code and name existing helpers (the disk cache
/// calls it on what it reads; [`map`] calls it again).
pub(crate) fn check_patches(len: usize, patches: &[Patch]) -> Result<(), CompileError> {
    for p in patches {
        let end = (p.offset as usize).checked_add(8);
        if end.is_none_or(|e| e > len) || usize::from(p.builtin) >= Builtin::ALL.len() {
            return Err(CompileError::Codegen(format!("invalid relocation {p:?}")));
        }
    }
    Ok(())
}

/// Machine code in read+execute memory this process mapped.
pub(crate) struct CodeMemory {
    map: memmap2::Mmap,
    len: usize,
}

impl CodeMemory {
    /// The first byte of the code (the function's entry).
    pub(crate) fn as_ptr(&self) -> *const u8 {
        self.map.as_ptr()
    }

    /// The code as mapped (relocations written).
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map[..self.len]
    }
}

impl std::fmt::Debug for CodeMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeMemory")
            .field("at", &self.map.as_ptr())
            .field("len", &self.len)
            .finish()
    }
}

/// Maps `code` read+execute with `patches` written (see the module documentation).
pub(crate) fn map(code: &[u8], patches: &[Patch]) -> Result<CodeMemory, CompileError> {
    if !cfg!(target_arch = "x86_64") {
        return Err(CompileError::Isa(
            "executable code memory is implemented for x86-64 hosts only".into(),
        ));
    }
    if code.is_empty() {
        return Err(CompileError::Codegen("empty function".into()));
    }
    check_patches(code.len(), patches)?;
    let io = |what: &str, e: std::io::Error| CompileError::Codegen(format!("{what}: {e}"));
    let mut m = memmap2::MmapMut::map_anon(code.len()).map_err(|e| io("map code memory", e))?;
    m[..code.len()].copy_from_slice(code);
    for p in patches {
        let target = Builtin::ALL[usize::from(p.builtin)].address() as u64;
        let value = target.wrapping_add_signed(p.addend);
        let at = p.offset as usize;
        m[at..at + 8].copy_from_slice(&value.to_le_bytes());
    }
    // Writable → read+execute in one mprotect; the mapping is never writable again.
    let map = m.make_exec().map_err(|e| io("make code executable", e))?;
    Ok(CodeMemory {
        map,
        len: code.len(),
    })
}

/// `code` with the bytes of every patch zeroed: the form stored on disk (no addresses of this
/// process, so identical code gives identical files).
pub(crate) fn unpatched(code: &[u8], patches: &[Patch]) -> Vec<u8> {
    let mut v = code.to_vec();
    for p in patches {
        let at = p.offset as usize;
        if let Some(s) = v.get_mut(at..at + 8) {
            s.fill(0);
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_out_of_bounds_or_unknown_helpers_are_refused() {
        let p = |offset, builtin| Patch {
            offset,
            builtin,
            addend: 0,
        };
        assert!(check_patches(16, &[p(8, 0)]).is_ok());
        assert!(check_patches(16, &[p(9, 0)]).is_err());
        assert!(check_patches(16, &[p(u32::MAX, 0)]).is_err());
        let n = Builtin::ALL.len() as u16;
        assert!(check_patches(16, &[p(0, n)]).is_err());
        assert!(map(&[0xc3; 16], &[p(12, 0)]).is_err());
    }

    #[test]
    fn direct_calls_go_through_one_stub_per_helper() {
        // Three call sites (opcode E8, then the displacement at +1), two to helper 1.
        let mut image = vec![0x90u8; 32];
        let calls = [1u32, 9, 17].map(|at| Call {
            offset: at,
            builtin: if at == 9 { 2 } else { 1 },
            addend: -4,
        });
        let mut patches = Vec::new();
        link_calls(&mut image, &calls, &mut patches).expect("links");
        assert_eq!(image.len(), 32 + 16 + 14, "two stubs, 16-byte aligned");
        let target = |at: usize| {
            let d = i32::from_le_bytes(image[at..at + 4].try_into().expect("4 bytes"));
            (at as i64 + 4 + i64::from(d)) as usize
        };
        assert_eq!((target(1), target(9), target(17)), (32, 48, 32));
        for stub in [32, 48] {
            assert_eq!(image[stub..stub + 6], [0xff, 0x25, 0, 0, 0, 0]);
        }
        assert_eq!(
            patches,
            [(38, 1), (54, 2)].map(|(offset, builtin)| Patch {
                offset,
                builtin,
                addend: 0
            })
        );
        let n = Builtin::ALL.len() as u16;
        for bad in [
            Call {
                offset: 60,
                builtin: 1,
                addend: -4,
            },
            Call {
                offset: 0,
                builtin: n,
                addend: -4,
            },
        ] {
            let mut image = vec![0x90u8; 32];
            assert!(
                link_calls(&mut image, &[bad], &mut Vec::new()).is_err(),
                "{bad:?}"
            );
        }
    }

    /// Held by the tests that map code: the only ones in this test binary, so while one holds
    /// it no other thread maps code at an address it just freed.
    static MAPPING: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn mapped_code_holds_the_helper_address_and_is_read_execute() {
        let _g = MAPPING.lock().unwrap_or_else(|e| e.into_inner());
        let code = [0xccu8; 24];
        let m = map(
            &code,
            &[Patch {
                offset: 8,
                builtin: 0,
                addend: 4,
            }],
        )
        .expect("maps");
        let want = (Builtin::ALL[0].address() as u64).wrapping_add(4);
        assert_eq!(m.bytes()[8..16], want.to_le_bytes());
        assert_eq!(m.bytes()[..8], [0xcc; 8]);
        assert_eq!(
            unpatched(
                m.bytes(),
                &[Patch {
                    offset: 8,
                    builtin: 0,
                    addend: 4
                }]
            )[8..16],
            [0; 8]
        );
        let at = m.as_ptr() as usize;
        let maps = std::fs::read_to_string("/proc/self/maps").expect("linux");
        let line = maps
            .lines()
            .find(|l| {
                let (range, _) = l.split_once(' ').unwrap_or(("", ""));
                let (a, b) = range.split_once('-').unwrap_or(("0", "0"));
                let a = usize::from_str_radix(a, 16).unwrap_or(0);
                let b = usize::from_str_radix(b, 16).unwrap_or(0);
                (a..b).contains(&at)
            })
            .expect("the code is mapped");
        assert!(line.contains(" r-xp "), "{line}");
    }

    /// The mapping of `at`, as (start, end, perms), from `/proc/self/maps`.
    #[cfg(target_arch = "x86_64")]
    fn mapping_of(at: usize) -> Option<(usize, usize, String)> {
        let maps = std::fs::read_to_string("/proc/self/maps").expect("linux");
        maps.lines().find_map(|l| {
            let mut f = l.split_whitespace();
            let (a, b) = f.next()?.split_once('-')?;
            let (a, b) = (
                usize::from_str_radix(a, 16).ok()?,
                usize::from_str_radix(b, 16).ok()?,
            );
            (a..b)
                .contains(&at)
                .then(|| (a, b, f.next().unwrap_or("").to_string()))
        })
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn dropping_the_code_unmaps_its_pages() {
        let _g = MAPPING.lock().unwrap_or_else(|e| e.into_inner());
        let page = region::page::size();
        // An odd size: three pages and a byte, so four pages mapped.
        let code = vec![0xccu8; 3 * page + 1];
        let m = map(&code, &[]).expect("maps");
        let at = m.as_ptr() as usize;
        let (start, end, perms) = mapping_of(at).expect("mapped");
        assert!(start <= at);
        assert_eq!(perms, "r-xp");
        // The kernel may merge it with an adjacent mapping of the same protection; its own
        // pages are the four from `at`.
        assert!(end >= at + 4 * page);
        drop(m);
        for i in 0..4 {
            if let Some((s, e, p)) = mapping_of(at + i * page) {
                assert_ne!(p, "r-xp", "page {i} still mapped: {s:x}-{e:x} {p}");
            }
        }
    }
}
