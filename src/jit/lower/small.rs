//! Small words: words known below 2^63, held as i64s ([`Elem::Small`]) until a whole word is
//! needed — memory offsets once accessed (and plus constants), ANDs with masks below 2^63, right
//! shifts by more than 192 bits (Solidity's selector), and buffer lengths. Two of them compare
//! as one 64-bit `icmp` (signed and unsigned order agree below 2^63), and add as one 64-bit add
//! while the sum stays small; a small word plus a whole one adds only the carry to the whole
//! word's high half. Where a whole word is needed, a small one is widened with a zero high half.

use super::stack::{Cursor, Elem};
use super::Lower;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, Value};
use ferrite_runtime::U256;

impl Lower<'_, '_> {
    /// The item `depth` below the top as an i64 when it is known to be below 2^63: a small
    /// word, or such a constant. Compares of two such items need only their 64-bit values, and
    /// signed and unsigned order agree on them.
    fn narrow(&mut self, c: &mut Cursor, depth: usize) -> Option<Value> {
        if let Some((v, _)) = self.small(c, depth) {
            return Some(v);
        }
        let k = self.constant(c, depth)?;
        (k < U256::from(1u64 << 63)).then(|| self.iconst(k.as_limbs()[0] as i64))
    }

    /// LT, GT, SLT, SGT or EQ (`cc` as `a cc b`, `a` on top) of two items below 2^63 (memory
    /// offsets, masked fields, selectors against their constants) as one 64-bit compare. False
    /// (nothing emitted) for other operands.
    pub(super) fn narrow_compare(&mut self, c: &mut Cursor, cc: IntCC) -> bool {
        let Some(a) = self.narrow(c, 0) else {
            return false;
        };
        let Some(b) = self.narrow(c, 1) else {
            return false;
        };
        c.pop(2);
        let flag = self.b.ins().icmp(cc, a, b);
        c.vs.push(Elem::Flag(flag));
        true
    }

    /// ADD of two small words whose sum stays below 2^63 (memory offsets and lengths:
    /// `add(p, n)`): one 64-bit add, and the sum is a small word. False (nothing emitted)
    /// otherwise.
    pub(super) fn small_add(&mut self, c: &mut Cursor) -> bool {
        let Some((a, a_bits)) = self.small(c, 0) else {
            return false;
        };
        let Some((b, b_bits)) = self.small(c, 1) else {
            return false;
        };
        let bits = a_bits.max(b_bits) + 1;
        if bits >= 64 {
            return false;
        }
        c.pop(2);
        let v = self.b.ins().iadd(a, b);
        c.push_small(v, bits);
        true
    }

    /// ADD of a small word and a full one (a memory offset plus a length read from the
    /// stack): the small word's high half is zero, so the high half is the full word's plus
    /// the carry, added to the carry (which dies there) rather than to a zeroed pair. False
    /// (nothing emitted) unless exactly one operand is small.
    pub(super) fn add_small_to_word(&mut self, c: &mut Cursor) -> bool {
        let (v, other) = match (self.small(c, 0), self.small(c, 1)) {
            (Some((v, _)), None) => (v, 1),
            (None, Some((v, _))) => (v, 0),
            _ => return false,
        };
        let (lo, hi) = self.value(c, other);
        c.pop(2);
        let small = self.b.ins().uextend(types::I128, v);
        let (lo, carry) = self.b.ins().uadd_overflow(small, lo);
        let carry = self.widen_carry(carry);
        let hi = self.b.ins().iadd(carry, hi);
        self.push_value(c, (lo, hi));
        true
    }
}
