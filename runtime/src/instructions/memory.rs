//! MLOAD, MSTORE, MSTORE8, MSIZE, MCOPY, KECCAK256.

use super::{done, Running};
use crate::frame::Frame;
use crate::word::keccak256_memo;
use crate::{gas, ExitCode};
use alloy_primitives::U256;

const WORD: U256 = U256::from_limbs([32, 0, 0, 0]);
const ONE: U256 = U256::from_limbs([1, 0, 0, 0]);

impl Running<'_> {
    #[inline(always)]
    pub(super) fn mload(&mut self) -> ExitCode {
        let offset = *self.stack.peek(0);
        match self.with_gas(|f| f.mload_word(&offset)) {
            Ok(v) => {
                *self.stack.top_mut() = v;
                ExitCode::Continue
            }
            Err(e) => e,
        }
    }

    #[inline(always)]
    pub(super) fn mstore(&mut self) -> ExitCode {
        let [offset, value] = self.popn();
        self.with_gas(|f| f.mstore_word(&offset, &value))
    }

    #[inline(always)]
    pub(super) fn mstore8(&mut self) -> ExitCode {
        let [offset, value] = self.popn();
        self.with_gas(|f| match f.memory.expand(&mut f.gas, &offset, &ONE) {
            Ok(off) => {
                f.memory.store_byte(off, value.byte(0));
                ExitCode::Continue
            }
            Err(e) => e,
        })
    }

    #[inline(always)]
    pub(super) fn msize(&mut self) -> ExitCode {
        self.stack.push(U256::from(self.frame.memory.len()));
        ExitCode::Continue
    }
}

impl Frame {
    /// Expands memory (charged) to hold the word at `offset`; its byte offset. Compiled code's
    /// path when the word lies outside current memory; it then accesses the word itself.
    #[inline(always)]
    pub fn expand_for_word(&mut self, offset: &U256) -> Result<usize, ExitCode> {
        self.memory.expand(&mut self.gas, offset, &WORD)
    }

    /// MLOAD once its operand is read: the word at `offset`, expanding memory (charged).
    #[inline(always)]
    pub fn mload_word(&mut self, offset: &U256) -> Result<U256, ExitCode> {
        let off = self.expand_for_word(offset)?;
        Ok(self.memory.load_word(off))
    }

    /// MSTORE once its operands are popped, expanding memory (charged).
    #[inline(always)]
    pub fn mstore_word(&mut self, offset: &U256, value: &U256) -> ExitCode {
        match self.expand_for_word(offset) {
            Ok(off) => {
                self.memory.store_word(off, value);
                ExitCode::Continue
            }
            Err(e) => e,
        }
    }

    pub(super) fn mcopy(&mut self) -> ExitCode {
        let [dst, src, len] = self.popn();
        done(self.mcopy_inner(dst, src, len))
    }

    fn mcopy_inner(&mut self, dst: U256, src: U256, len: U256) -> Result<(), ExitCode> {
        if len.is_zero() {
            return Ok(());
        }
        let l = crate::word::to_u64(&len).ok_or(ExitCode::OutOfGas)?;
        self.charge(gas::per_word(gas::COPY, l))?;
        let d = self.memory.expand(&mut self.gas, &dst, &len)?;
        let s = self.memory.expand(&mut self.gas, &src, &len)?;
        self.memory.copy_within(d, s, l as usize);
        Ok(())
    }

    pub(super) fn keccak256(&mut self) -> ExitCode {
        let offset = self.stack.pop();
        let len = *self.stack.peek(0);
        let r = (|| {
            let off = self.memory.expand(&mut self.gas, &offset, &len)?;
            let l = len.as_limbs()[0];
            self.charge(gas::per_word(gas::KECCAK256_WORD, l))?;
            Ok(keccak256_memo(self.memory.slice(off, l as usize)))
        })();
        match r {
            Ok(h) => {
                *self.stack.top_mut() = U256::from_be_bytes(h.0);
                ExitCode::Continue
            }
            Err(e) => e,
        }
    }
}
