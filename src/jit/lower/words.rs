//! Words: 256-bit arithmetic inline, on two i128 halves.
//!
//! A word is a pair of i128 values, low half first. 256-bit add/sub use the two halves with an
//! `icmp ult` carry, which compiles in linear time (four i64 limbs with compare carries did not).
//! Comparisons leave an i8 flag on the virtual stack, widened to a word only if it is stored or
//! used as one: most feed ISZERO or JUMPI. Constants fold or shrink the code: ADD/SUB with a
//! constant below 2^128, AND/OR with a constant limb by limb, SHL/SHR/SAR and SIGNEXTEND by a
//! constant, and MUL/DIV/MOD by a constant power of two become a few shifts and masks on the
//! halves. Commutative operations overwrite the operand that dies; small words add and compare
//! in `small.rs`.

use super::memory::MEMORY_BITS;
use super::stack::{Cursor, Elem};
use super::Lower;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, Value};
use ferrite_runtime::{Opcode, U256};

impl Lower<'_, '_> {
    /// A 256-bit constant as i128 halves.
    pub(super) fn const_word(&mut self, v: &U256) -> (Value, Value) {
        let l = v.as_limbs();
        (self.const_half(l[0], l[1]), self.const_half(l[2], l[3]))
    }

    /// An i128 constant from its 64-bit halves (one instruction fewer when the high one is 0).
    pub(super) fn const_half(&mut self, low: u64, high: u64) -> Value {
        let lo = self.iconst(low as i64);
        if high == 0 {
            return self.b.ins().uextend(types::I128, lo);
        }
        let hi = self.iconst(high as i64);
        self.b.ins().iconcat(lo, hi)
    }

    /// A word from a small value (i64).
    pub(super) fn small_word(&mut self, v: Value) -> (Value, Value) {
        let lo = self.b.ins().uextend(types::I128, v);
        (lo, self.const_half(0, 0))
    }

    /// A word from a 0/1 flag (i8).
    pub(super) fn bool_word(&mut self, flag: Value) -> (Value, Value) {
        let lo = self.b.ins().uextend(types::I128, flag);
        let zero = self.iconst(0);
        (lo, self.b.ins().uextend(types::I128, zero))
    }

    /// The OR of a word's four 64-bit limbs: x64 compares an i128 with zero by materializing
    /// a zero and XORing each half (nine instructions); three ORs do, and a branch on the
    /// comparison then fuses with it.
    fn or_limbs(&mut self, (lo, hi): (Value, Value)) -> Value {
        let (l0, l1) = self.b.ins().isplit(lo);
        let (h0, h1) = self.b.ins().isplit(hi);
        let a = self.b.ins().bor(l0, l1);
        let b = self.b.ins().bor(h0, h1);
        self.b.ins().bor(a, b)
    }

    /// Pops two words, `a` on top, as i128 halves: the operands of a binary operation.
    fn pop_two(&mut self, c: &mut Cursor) -> ((Value, Value), (Value, Value)) {
        let a = self.value(c, 0);
        let bw = self.value(c, 1);
        c.pop(2);
        (a, bw)
    }

    /// Pops two words (`a` on top) and pushes `f(a, b)`.
    pub(super) fn binary(
        &mut self,
        c: &mut Cursor,
        f: impl FnOnce(&mut Self, (Value, Value), (Value, Value)) -> (Value, Value),
    ) {
        let (a, bw) = self.pop_two(c);
        let r = f(self, a, bw);
        self.push_value(c, r);
    }

    /// [`Lower::binary`] for a commutative `f`: the operand the virtual stack no longer holds
    /// goes first. x64's two-operand instructions overwrite their first operand, so a first
    /// operand that lives on (the `DUPn` in `DUPn ADD`) is copied first, or, when the allocator
    /// has spilled it, reloaded and then copied; an operand that dies here is overwritten in
    /// place.
    pub(super) fn commutative(
        &mut self,
        c: &mut Cursor,
        f: impl FnOnce(&mut Self, (Value, Value), (Value, Value)) -> (Value, Value),
    ) {
        let (a, bw) = self.pop_two(c);
        let held = |w: (Value, Value)| {
            c.vs.iter()
                .any(|e| matches!(*e, Elem::Val { lo, hi, .. } if (lo, hi) == w))
        };
        let r = if held(a) && !held(bw) {
            f(self, bw, a)
        } else {
            f(self, a, bw)
        };
        self.push_value(c, r);
    }

    /// Pops two words (`a` on top) and pushes the flag `f(a, b)`.
    pub(super) fn compare(
        &mut self,
        c: &mut Cursor,
        f: impl FnOnce(&mut Self, (Value, Value), (Value, Value)) -> Value,
    ) {
        let (a, bw) = self.pop_two(c);
        let flag = f(self, a, bw);
        c.vs.push(Elem::Flag(flag));
    }

    /// Whether the word `depth` below the top is zero (`zero`: ISZERO) or non-zero (a JUMPI's
    /// condition), as an i8 flag: a flag as it is or inverted, a small word by its i64, any
    /// other word by the OR of its limbs.
    pub(super) fn zero_flag(&mut self, c: &mut Cursor, depth: usize, zero: bool) -> Value {
        let idx = c.index(depth);
        if let Elem::Flag(f) = c.vs[idx] {
            return if zero {
                self.b.ins().bxor_imm_u(f, 1)
            } else {
                f
            };
        }
        let cc = if zero { IntCC::Equal } else { IntCC::NotEqual };
        let x = match self.small(c, depth) {
            Some((v, _)) => v,
            None => {
                let w = self.value(c, depth);
                self.or_limbs(w)
            }
        };
        self.b.ins().icmp_imm_u(cc, x, 0)
    }

    /// `x < y` on words, unsigned or two's-complement signed (the sign bit is the high half's
    /// top bit, so only the high halves compare signed).
    pub(super) fn less_than(
        &mut self,
        x: (Value, Value),
        y: (Value, Value),
        signed: bool,
    ) -> Value {
        let cc = if signed {
            IntCC::SignedLessThan
        } else {
            IntCC::UnsignedLessThan
        };
        let hi_lt = self.b.ins().icmp(cc, x.1, y.1);
        let hi_eq = self.b.ins().icmp(IntCC::Equal, x.1, y.1);
        let lo_lt = self.b.ins().icmp(IntCC::UnsignedLessThan, x.0, y.0);
        let t = self.b.ins().band(hi_eq, lo_lt);
        self.b.ins().bor(hi_lt, t)
    }

    /// CLZ: two bit counts and a select, or one for a word known to fit 64 bits, or none for a
    /// constant. The count is a small word. (A helper call cost 6× revm's interpreter on EEST's
    /// chains of CLZ: the operand and the result round-trip through memory.)
    pub(super) fn clz(&mut self, c: &mut Cursor) {
        if let Some(v) = self.constant(c, 0) {
            c.pop(1);
            let v = ferrite_runtime::instructions::pure::unary(Opcode::CLZ as u8, v);
            c.vs.push(Elem::Const { v, clean: false });
            return;
        }
        let n = match self.small(c, 0) {
            Some((v, _)) => {
                let z = self.b.ins().clz(v);
                self.b.ins().iadd_imm_s(z, 192)
            }
            None => {
                let (lo, hi) = self.value(c, 0);
                let zh = self.b.ins().clz(hi);
                let zl = self.b.ins().clz(lo);
                let zh = self.b.ins().ireduce(types::I64, zh);
                let zl = self.b.ins().ireduce(types::I64, zl);
                // The high half is zero exactly when its count is 128.
                let high_zero = self.b.ins().icmp_imm_u(IntCC::Equal, zh, 128);
                let low = self.b.ins().iadd_imm_s(zl, 128);
                self.b.ins().select(high_zero, low, zh)
            }
        };
        c.pop(1);
        c.push_small(n, 9);
    }

    /// A state-free operation whose operands are all constants, computed now by the runtime's
    /// body of it (`instructions::pure`, what the interpreter runs): its result is a constant
    /// too. False (nothing emitted) for other operations or operands. (Huff code such as
    /// weierstrudel multiplies constants: `PUSH32 k PUSH1 2 ... MULMOD` in its tables.)
    pub(super) fn fold_constants(&mut self, c: &mut Cursor, op: Opcode) -> bool {
        use ferrite_runtime::instructions::pure;
        let code = op as u8;
        if !pure::is_pure(code) {
            return false;
        }
        let inputs = ferrite_runtime::OPCODE_INFO[code as usize].inputs as usize;
        let Some(k) = (0..inputs)
            .map(|d| self.constant(c, d))
            .collect::<Option<Vec<U256>>>()
        else {
            return false;
        };
        let Some(v) = pure::apply(code, &k) else {
            return false;
        };
        c.pop(inputs);
        c.vs.push(Elem::Const { v, clean: false });
        true
    }

    /// ADD, or SUB (`add` false), with a constant operand below 2^128 (Solidity's offsets and
    /// counters: `add(p, 0x20)`, `sub(n, 1)`): the high half only takes the carry, three
    /// instructions fewer; adding or subtracting 0 emits nothing, and two constants fold. False
    /// (nothing emitted) for other operands.
    pub(super) fn add_sub_constant(&mut self, c: &mut Cursor, add: bool) -> bool {
        let (a, b) = (self.constant(c, 0), self.constant(c, 1));
        if let (Some(a), Some(b)) = (a, b) {
            c.pop(2);
            let v = if add {
                a.wrapping_add(b)
            } else {
                a.wrapping_sub(b)
            };
            c.vs.push(Elem::Const { v, clean: false });
            return true;
        }
        // The constant and the depth of the other operand; SUB only by a constant (`a - k`).
        let (k, other) = match (a, b) {
            (Some(k), None) if add => (k, 1),
            (None, Some(k)) => (k, 0),
            _ => return false,
        };
        let [k0, k1, k2, k3] = *k.as_limbs();
        if k2 != 0 || k3 != 0 {
            return false;
        }
        if add && k < U256::from(1u64 << MEMORY_BITS) {
            if let Some((x, bits)) = self.small(c, other) {
                let bits = bits.max(MEMORY_BITS) + 1;
                if bits < 64 {
                    c.pop(2);
                    let v = self.b.ins().iadd_imm_u(x, k0 as i64);
                    // `bits` < 64: `x + k0` did not wrap, and the sum of constants is below it.
                    let (root, k) = c.root(x);
                    c.derived.push((v, root, k + k0));
                    c.push_small(v, bits);
                    return true;
                }
            }
        }
        let (xl, xh) = self.value(c, other);
        c.pop(2);
        if k0 == 0 && k1 == 0 {
            self.push_value(c, (xl, xh));
            return true;
        }
        let offset = add && k1 == 0 && k0 < 1 << MEMORY_BITS;
        if offset {
            if let Some(v) = self.sibling_offset(c, (xl, xh), k0) {
                c.push_small(v, MEMORY_BITS + 1);
                return true;
            }
        }
        let kv = self.const_half(k0, k1);
        let w = if add {
            self.wide_add((xl, xh), kv, None)
        } else {
            self.wide_sub((xl, xh), kv, None)
        };
        if offset {
            c.sums.push(((xl, xh), k0, w));
        }
        self.push_value(c, w);
        true
    }

    /// `x + k` as a small word when the block accessed memory at `x + j` for some `j <= k`
    /// ([`Cursor::sums`]): that sum is below 2^`MEMORY_BITS`, and `x + k` is it plus `k - j`,
    /// with no wrap (ABI encoding's `mstore(add(p, 4), a)`, `mstore(add(p, 36), b)`, … on a
    /// pointer read from memory: one 64-bit add and no upper-limb check from the second on).
    fn sibling_offset(&mut self, c: &mut Cursor, x: (Value, Value), k: u64) -> Option<Value> {
        let (s, j) = c.sums.iter().find_map(|(w, j, sum)| {
            let small = c.offsets.iter().find(|(o, _)| o == sum)?.1;
            (*w == x && *j <= k).then_some((small, *j))
        })?;
        if k == j {
            return Some(s);
        }
        let v = self.b.ins().iadd_imm_u(s, (k - j) as i64);
        let (root, r) = c.root(s);
        c.derived.push((v, root, r + k - j));
        Some(v)
    }

    /// AND (`and` true) or OR with a constant operand, limb by limb (Solidity's masks:
    /// `and(a, 2^160 - 1)` for addresses, `and(x, 0xff)` for narrow types): a limb of the
    /// constant that is all ones or zero passes the other operand's limb on or replaces it with
    /// no instruction, where an i128 AND with a constant moved two 64-bit constants into
    /// registers and ANDed both halves. An AND with a mask below 2^63 leaves a small word.
    /// False (nothing emitted) unless exactly one operand is a constant.
    pub(super) fn bitwise_constant(&mut self, c: &mut Cursor, and: bool) -> bool {
        let (k, other) = match (self.constant(c, 0), self.constant(c, 1)) {
            (Some(k), None) => (k, 1),
            (None, Some(k)) => (k, 0),
            _ => return false,
        };
        let k = *k.as_limbs();
        if and && k[1..] == [0, 0, 0] && k[0] < 1 << 63 {
            let x = match self.small(c, other) {
                Some((v, _)) => v,
                None => {
                    let (lo, _) = self.value(c, other);
                    self.b.ins().ireduce(types::I64, lo)
                }
            };
            c.pop(2);
            let v = self.b.ins().band_imm_u(x, k[0] as i64);
            let bits = (64 - k[0].leading_zeros()) as u8;
            c.push_small(v, bits);
            return true;
        }
        let x = self.limbs(c, other);
        c.pop(2);
        let mut r = [x[0]; 4];
        for (i, (&xi, &ki)) in x.iter().zip(&k).enumerate() {
            r[i] = match (and, ki) {
                (true, u64::MAX) | (false, 0) => xi,
                (true, 0) => self.iconst(0),
                (false, u64::MAX) => self.iconst(-1),
                (true, m) => self.b.ins().band_imm_u(xi, m as i64),
                (false, m) => self.b.ins().bor_imm_u(xi, m as i64),
            };
        }
        let w = self.join_limbs(r);
        self.push_value(c, w);
        true
    }

    /// `a + b` on i128 halves, the low halves' carry into the high one (two i128 adds and an
    /// `icmp ult` carry compile in linear time; see the module docs). `bh` `None`: b's high
    /// half is zero.
    pub(super) fn wide_add(
        &mut self,
        (al, ah): (Value, Value),
        bl: Value,
        bh: Option<Value>,
    ) -> (Value, Value) {
        // The carry from the flags (add, adc, setb) rather than a comparison of the sum (cmp,
        // sbb, setb after it): two instructions and two cycles fewer on the carry's path.
        let (lo, carry) = self.b.ins().uadd_overflow(al, bl);
        let carry = self.widen_carry(carry);
        let hi = match bh {
            Some(bh) => self.b.ins().iadd(ah, bh),
            None => ah,
        };
        (lo, self.b.ins().iadd(hi, carry))
    }

    /// A carry or borrow flag as an i128, widened through i64: x64 adds a zero-extended i64 to
    /// an i128 as `add`, `adc $0`, without a zeroed register for the high half.
    pub(super) fn widen_carry(&mut self, flag: Value) -> Value {
        let x = self.b.ins().uextend(types::I64, flag);
        self.b.ins().uextend(types::I128, x)
    }

    /// `a - b` on i128 halves, as [`Lower::wide_add`].
    pub(super) fn wide_sub(
        &mut self,
        (al, ah): (Value, Value),
        bl: Value,
        bh: Option<Value>,
    ) -> (Value, Value) {
        let (lo, borrow) = self.b.ins().usub_overflow(al, bl);
        let borrow = self.widen_carry(borrow);
        let hi = match bh {
            Some(bh) => self.b.ins().isub(ah, bh),
            None => ah,
        };
        (lo, self.b.ins().isub(hi, borrow))
    }

    /// Inlines SHL/SHR by a constant amount, and MUL/DIV/MOD by a constant power of two (how
    /// code before the shift opcodes shifts and masks) as shifts and masks on the i128 halves;
    /// false (nothing emitted) when the operands are not of that shape.
    pub(super) fn by_constant_power(&mut self, c: &mut Cursor, op: Opcode) -> bool {
        use Opcode::*;
        let pow2 = |v: U256| (v.count_ones() == 1).then(|| v.trailing_zeros() as u32);
        // (depth of the constant, depth of the other operand, left?, shift)
        let shape = match op {
            SHL | SHR => self.constant(c, 0).map(|s| {
                let k = if s < U256::from(256) {
                    s.as_limbs()[0] as u32
                } else {
                    256
                };
                (1, op == SHL, k)
            }),
            DIV => self.constant(c, 1).and_then(pow2).map(|k| (0, false, k)),
            MUL => match self.constant(c, 1).and_then(pow2) {
                Some(k) => Some((0, true, k)),
                None => self.constant(c, 0).and_then(pow2).map(|k| (1, true, k)),
            },
            MOD => match self.constant(c, 1).and_then(pow2) {
                Some(k) => {
                    let x = self.value(c, 0);
                    let mask = (U256::from(1) << k as usize) - U256::from(1);
                    let m = self.const_word(&mask);
                    c.pop(2);
                    let r = (self.b.ins().band(x.0, m.0), self.b.ins().band(x.1, m.1));
                    self.push_value(c, r);
                    return true;
                }
                None => None,
            },
            _ => None,
        };
        let Some((other, left, k)) = shape else {
            return false;
        };
        let x = self.value(c, other);
        c.pop(2);
        if !left && (193..256).contains(&k) {
            // Fewer than 64 bits are left, all from the top limb: a small word (Solidity's
            // selector, `shr(224, calldataload(0))`, then compares as one).
            let (_, top) = self.b.ins().isplit(x.1);
            let v = self.b.ins().ushr_imm_u(top, i64::from(k - 192));
            c.push_small(v, (256 - k) as u8);
            return true;
        }
        let r = self.shift_const(x, left, k);
        self.push_value(c, r);
        true
    }

    /// Inlines SIGNEXTEND by a constant byte index and SAR by a constant amount (compilers emit
    /// both with constant operands: sign extension of narrower integer types, signed division
    /// by powers of two) as shifts on the i128 halves; false (nothing emitted) otherwise.
    pub(super) fn signed_by_constant(&mut self, c: &mut Cursor, op: Opcode) -> bool {
        let Some(k) = self.constant(c, 0) else {
            return false;
        };
        let small = |k: U256, bound: u64| (k < U256::from(bound)).then(|| k.as_limbs()[0] as u32);
        let x = self.value(c, 1);
        c.pop(2);
        let r = if op == Opcode::SAR {
            self.sar_const(x, small(k, 256).unwrap_or(256))
        } else {
            match small(k, 31) {
                // Byte 31 or beyond: the word is its own sign extension.
                None => x,
                Some(b) => self.signextend_const(x, b),
            }
        };
        self.push_value(c, r);
        true
    }

    /// The word's four 64-bit limbs, least significant first.
    pub(super) fn word_limbs(&mut self, (lo, hi): (Value, Value)) -> [Value; 4] {
        let (l0, l1) = self.b.ins().isplit(lo);
        let (l2, l3) = self.b.ins().isplit(hi);
        [l0, l1, l2, l3]
    }

    /// The word of four 64-bit limbs, least significant first.
    fn join_limbs(&mut self, l: [Value; 4]) -> (Value, Value) {
        (
            self.b.ins().iconcat(l[0], l[1]),
            self.b.ins().iconcat(l[2], l[3]),
        )
    }

    /// A 256-bit shift of `x` by the constant `k` (256 or more: all zero, or all sign for an
    /// arithmetic right shift), done on 64-bit limbs: x64 lowers an i128 shift, even by a
    /// constant, to a dozen instructions with conditional moves, where a limb here costs at most
    /// two shifts and an OR.
    fn shift_limbs(&mut self, x: (Value, Value), shift: Shift, k: u32) -> (Value, Value) {
        let mut l = self.word_limbs(x);
        let (q, r) = ((k / 64) as usize, (k % 64) as i64);
        let fill = match shift {
            Shift::Sar => self.b.ins().sshr_imm_u(l[3], 63),
            Shift::Left | Shift::Right => self.iconst(0),
        };
        if shift == Shift::Left {
            l.reverse(); // index 0 is then the limb bits move away from, as for right shifts
        }
        let mut out = [fill; 4];
        for i in 0..4usize.saturating_sub(q) {
            let from = l[i + q];
            out[i] = match (shift, r) {
                (_, 0) => from,
                (Shift::Left, _) => self.b.ins().ishl_imm_u(from, r),
                (Shift::Sar, _) if i + q == 3 => self.b.ins().sshr_imm_u(from, r),
                (Shift::Right | Shift::Sar, _) => self.b.ins().ushr_imm_u(from, r),
            };
            // The bits the next limb out spills in (none from beyond the word: the top limb's
            // arithmetic shift brought the sign in already).
            if let (true, Some(&next)) = (r != 0, l.get(i + q + 1)) {
                let spill = match shift {
                    Shift::Left => self.b.ins().ushr_imm_u(next, 64 - r),
                    Shift::Right | Shift::Sar => self.b.ins().ishl_imm_u(next, 64 - r),
                };
                out[i] = self.b.ins().bor(out[i], spill);
            }
        }
        if shift == Shift::Left {
            out.reverse();
        }
        self.join_limbs(out)
    }

    /// SIGNEXTEND of `x` by the constant byte index `b` (< 31): the limb holding the sign bit
    /// extended within itself, every limb above it the sign.
    fn signextend_const(&mut self, x: (Value, Value), b: u32) -> (Value, Value) {
        let mut l = self.word_limbs(x);
        let j = (b / 8) as usize;
        let s = 63 - (8 * (b % 8) + 7) as i64;
        if s != 0 {
            let v = self.b.ins().ishl_imm_u(l[j], s);
            l[j] = self.b.ins().sshr_imm_u(v, s);
        }
        let sign = self.b.ins().sshr_imm_u(l[j], 63);
        for limb in &mut l[j + 1..] {
            *limb = sign;
        }
        self.join_limbs(l)
    }

    /// A 256-bit arithmetic right shift of `x` by the constant `k` (256 or more: all sign).
    pub(super) fn sar_const(&mut self, x: (Value, Value), k: u32) -> (Value, Value) {
        match k {
            0 => x,
            _ => self.shift_limbs(x, Shift::Sar, k.min(256)),
        }
    }

    /// A 256-bit shift of `x` by the constant `k` (256 or more: zero).
    pub(super) fn shift_const(&mut self, x: (Value, Value), left: bool, k: u32) -> (Value, Value) {
        match k {
            0 => x,
            _ => self.shift_limbs(x, if left { Shift::Left } else { Shift::Right }, k.min(256)),
        }
    }
}

/// The direction of a constant shift ([`Lower::shift_limbs`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shift {
    Left,
    Right,
    Sar,
}
