//! Comparisons of a word with a constant, on 64-bit limbs.
//!
//! Solidity compares with constants everywhere: overflow checks (`gt(x, 0xffffffffffffffff)`),
//! bounds (`lt(i, n)` with a literal `n`), enum and flag tests (`eq(x, 2)`). The general form
//! compares i128 halves three times (high less, high equal, low less), and x64 materializes a
//! constant's halves in registers for each; a constant below 2^64 needs only the word's low
//! limb against an immediate and whether its other limbs are zero (their OR), and equality with
//! any constant is one test of the OR of the limbs XORed with the constant's.

use super::stack::{Cursor, Elem};
use super::Lower;
use cranelift_codegen::ir::condcodes::{CondCode, IntCC};
use cranelift_codegen::ir::{types, InstBuilder, Value};

impl Lower<'_, '_> {
    /// LT, GT or EQ (`cc` as `a cc b`, `a` on top; unsigned or `Equal`) with exactly one
    /// constant operand, as a flag; LT and GT only for a constant below 2^64. False (nothing
    /// emitted) for other operands.
    pub(super) fn compare_constant(&mut self, c: &mut Cursor, cc: IntCC) -> bool {
        // As `x cc k`, `x` the other operand.
        let (k, other, cc) = match (self.constant(c, 0), self.constant(c, 1)) {
            (Some(k), None) => (k, 1, cc.swap_args()),
            (None, Some(k)) => (k, 0, cc),
            _ => return false,
        };
        let k = *k.as_limbs();
        let flag = match cc {
            IntCC::Equal => {
                let x = self.limbs(c, other);
                self.equal_limbs(x, k)
            }
            IntCC::UnsignedLessThan | IntCC::UnsignedGreaterThan if k[1..] == [0, 0, 0] => {
                let (l0, upper) = match self.small(c, other) {
                    Some((v, _)) => (v, None),
                    None => {
                        let [l0, l1, h0, h1] = self.limbs(c, other);
                        let u = self.b.ins().bor(l1, h0);
                        (l0, Some(self.b.ins().bor(u, h1)))
                    }
                };
                self.below_2_64(cc, l0, upper, k[0])
            }
            _ => return false,
        };
        c.pop(2);
        c.vs.push(Elem::Flag(flag));
        true
    }

    /// Whether limbs `x` equal `k`: the OR of each limb XORed with the constant's (a zero
    /// limb as it is) is zero.
    fn equal_limbs(&mut self, x: [Value; 4], k: [u64; 4]) -> Value {
        let mut acc: Option<Value> = None;
        for (xi, ki) in x.into_iter().zip(k) {
            let d = match ki {
                0 => xi,
                _ => self.b.ins().bxor_imm_u(xi, ki as i64),
            };
            acc = Some(match acc {
                Some(a) => self.b.ins().bor(a, d),
                None => d,
            });
        }
        let Some(acc) = acc else {
            unreachable!("four limbs")
        };
        self.b.ins().icmp_imm_u(IntCC::Equal, acc, 0)
    }

    /// `x < k` or `x > k` (`cc`) for `k` below 2^64, from `x`'s low limb and the OR of its
    /// upper limbs (`None`: known zero).
    fn below_2_64(&mut self, cc: IntCC, l0: Value, upper: Option<Value>, k: u64) -> Value {
        if cc == IntCC::UnsignedLessThan {
            if k == 0 {
                return self.b.ins().iconst(types::I8, 0);
            }
            let lt = self.b.ins().icmp_imm_u(cc, l0, k as i64);
            return match upper {
                Some(u) => {
                    let z = self.b.ins().icmp_imm_u(IntCC::Equal, u, 0);
                    self.b.ins().band(z, lt)
                }
                None => lt,
            };
        }
        // Greater: any upper limb set, or the low limb above `k` (never, for k = 2^64 - 1).
        let gt = (k != u64::MAX).then(|| self.b.ins().icmp_imm_u(cc, l0, k as i64));
        let nz = upper.map(|u| self.b.ins().icmp_imm_u(IntCC::NotEqual, u, 0));
        match (gt, nz) {
            (Some(a), Some(b)) => self.b.ins().bor(a, b),
            (Some(f), None) | (None, Some(f)) => f,
            (None, None) => self.b.ins().iconst(types::I8, 0),
        }
    }
}
