//! MUL inline on a loop (the blocks from a loop's head to its back edge, [`super::loops`]):
//! the low 256 bits of the product from 64-bit limb products.
//!
//! With the operands as i128 halves, `a = al + ah·2^128` and `b = bl + bh·2^128`, the product
//! modulo 2^256 is `al·bl + (al·bh + ah·bl)·2^128`. The full 256-bit `al·bl` takes four
//! widening 64×64 products (x64 lowers `imul.i128` of two zero-extended i64 as one `mul`), the
//! two cross terms only their low 128 bits (`imul.i128`, three multiplies each): ten in all, as
//! schoolbook multiplication needs, and a dozen additions, against a helper call with eight
//! limbs by value whose result is stored to the stack and loaded back. A constant operand
//! below 2^64 (Solidity's fixed-point scales, `1e18`) takes four.
//!
//! Only on a loop: each product's fixed registers (`mul` writes rax and rdx, `mulx` reads rdx)
//! cost register allocation about 0.8M instructions per MUL in a large function, where the
//! helper's call is cheap to allocate — inline everywhere, snailtracer's compile work grew 10%
//! and seaport's 2.7% for 1.5% less run time. A loop's MUL runs once per iteration: factorial's
//! loop took a third less time.
//!
//! The runtime's MUL (`ruint`'s wrapping multiplication) is the reference: the fuzzer and
//! `tests/jit.rs`'s products compare the two.

use super::stack::Cursor;
use super::Lower;
use cranelift_codegen::ir::{types, InstBuilder, Value};
use ferrite_runtime::U256;

impl Lower<'_, '_> {
    /// Lowers MUL on a loop (after the constant powers of two, [`Lower::by_constant_power`]).
    pub(super) fn mul(&mut self, c: &mut Cursor) {
        let narrow = |v: U256| v.as_limbs()[1..].iter().all(|l| *l == 0);
        let small = match (self.constant(c, 1), self.constant(c, 0)) {
            (Some(v), _) if narrow(v) => Some((0, v)),
            (_, Some(v)) if narrow(v) => Some((1, v)),
            _ => None,
        };
        if let Some((other, v)) = small {
            let a = self.value(c, other);
            c.pop(2);
            let b0 = self.iconst(v.as_limbs()[0] as i64);
            let r = self.mul_u64(a, b0);
            self.push_value(c, r);
            return;
        }
        self.commutative(c, |l, a, b| l.mul_words(a, b));
    }

    /// The 128-bit product of two i64.
    fn wide_mul(&mut self, x: Value, y: Value) -> Value {
        let x = self.b.ins().uextend(types::I128, x);
        let y = self.b.ins().uextend(types::I128, y);
        self.b.ins().imul(x, y)
    }

    /// `x + y·2^64` for i128 `x` and i64 `y`, with the carry out of 128 bits.
    fn add_shifted(&mut self, x: Value, y: Value) -> (Value, Value) {
        let zero = self.iconst(0);
        let y = self.b.ins().iconcat(zero, y);
        self.b.ins().uadd_overflow(x, y)
    }

    /// `a·b` modulo 2^256 on i128 halves.
    fn mul_words(&mut self, (al, ah): (Value, Value), (bl, bh): (Value, Value)) -> (Value, Value) {
        let (a0, a1) = self.b.ins().isplit(al);
        let (b0, b1) = self.b.ins().isplit(bl);
        let p00 = self.wide_mul(a0, b0);
        let p01 = self.wide_mul(a0, b1);
        let p10 = self.wide_mul(a1, b0);
        let p11 = self.wide_mul(a1, b1);
        // al·bl = p00 + (p01 + p10)·2^64 + p11·2^128; the middle sum has 129 bits.
        let (mid, c1) = self.b.ins().uadd_overflow(p01, p10);
        let (m0, m1) = self.b.ins().isplit(mid);
        let (lo, c2) = self.add_shifted(p00, m0);
        let c1 = self.b.ins().uextend(types::I64, c1);
        let upper = self.b.ins().iconcat(m1, c1);
        let hi = self.b.ins().iadd(p11, upper);
        let c2 = self.widen_carry(c2);
        let hi = self.b.ins().iadd(hi, c2);
        let x1 = self.b.ins().imul(al, bh);
        let x2 = self.b.ins().imul(ah, bl);
        let hi = self.b.ins().iadd(hi, x1);
        (lo, self.b.ins().iadd(hi, x2))
    }

    /// `a·b0` modulo 2^256 for an i64 `b0`.
    fn mul_u64(&mut self, (al, ah): (Value, Value), b0: Value) -> (Value, Value) {
        let (a0, a1) = self.b.ins().isplit(al);
        let (h0, h1) = self.b.ins().isplit(ah);
        // al·b0 = p0 + p1·2^64, 192 bits.
        let p0 = self.wide_mul(a0, b0);
        let p1 = self.wide_mul(a1, b0);
        let (q0, q1) = self.b.ins().isplit(p1);
        let (lo, carry) = self.add_shifted(p0, q0);
        // ah·b0 modulo 2^128.
        let p2 = self.wide_mul(h0, b0);
        let t = self.b.ins().imul(h1, b0);
        let (p2, _) = self.add_shifted(p2, t);
        let q1 = self.b.ins().uextend(types::I128, q1);
        let hi = self.b.ins().iadd(p2, q1);
        let carry = self.widen_carry(carry);
        (lo, self.b.ins().iadd(hi, carry))
    }
}
