//! Message, code and block environment: ADDRESS … BLOBBASEFEE, CALLDATA*, CODE*, RETURNDATA*.

use super::{done, Running};
use crate::frame::Frame;
use crate::{gas, word, ExitCode, Host};
use alloy_primitives::{Bytes, U256};

impl Running<'_> {
    #[inline(always)]
    fn push_word(&mut self, v: U256) -> ExitCode {
        self.stack.push(v);
        ExitCode::Continue
    }

    #[inline(always)]
    pub(super) fn address(&mut self) -> ExitCode {
        self.push_word(word::from_address(self.frame.msg.target))
    }

    #[inline(always)]
    pub(super) fn caller(&mut self) -> ExitCode {
        self.push_word(word::from_address(self.frame.msg.caller))
    }

    #[inline(always)]
    pub(super) fn callvalue(&mut self) -> ExitCode {
        self.push_word(self.frame.msg.value)
    }

    #[inline(always)]
    pub(super) fn origin<H: Host + ?Sized>(&mut self, host: &mut H) -> ExitCode {
        self.push_word(word::from_address(host.env().origin))
    }

    #[inline(always)]
    pub(super) fn gasprice<H: Host + ?Sized>(&mut self, host: &mut H) -> ExitCode {
        self.push_word(host.env().gas_price)
    }

    #[inline(always)]
    pub(super) fn calldataload(&mut self) -> ExitCode {
        let offset = word::saturating_u64(self.stack.peek(0));
        let input = &self.frame.msg.input;
        let mut buf = [0u8; 32];
        if offset < input.len() as u64 {
            let start = offset as usize;
            let n = (input.len() - start).min(32);
            buf[..n].copy_from_slice(&input[start..start + n]);
        }
        *self.stack.top_mut() = U256::from_be_bytes(buf);
        ExitCode::Continue
    }

    #[inline(always)]
    pub(super) fn calldatasize(&mut self) -> ExitCode {
        self.push_word(U256::from(self.frame.msg.input.len()))
    }

    #[inline(always)]
    pub(super) fn codesize(&mut self) -> ExitCode {
        self.push_word(U256::from(self.frame.code.raw().len()))
    }

    #[inline(always)]
    pub(super) fn returndatasize(&mut self) -> ExitCode {
        self.push_word(U256::from(self.frame.return_data.len()))
    }

    #[inline(always)]
    pub(super) fn blockhash<H: Host + ?Sized>(&mut self, host: &mut H) -> ExitCode {
        let requested = *self.stack.peek(0);
        let current = host.env().number;
        let hash = match (word::to_u64(&requested), word::to_u64(&current)) {
            (Some(n), Some(cur)) if n < cur && cur - n <= 256 => {
                U256::from_be_bytes(host.block_hash(n).0)
            }
            _ => U256::ZERO,
        };
        *self.stack.top_mut() = hash;
        ExitCode::Continue
    }

    #[inline(always)]
    pub(super) fn coinbase<H: Host + ?Sized>(&mut self, host: &mut H) -> ExitCode {
        self.push_word(word::from_address(host.env().coinbase))
    }

    #[inline(always)]
    pub(super) fn timestamp<H: Host + ?Sized>(&mut self, host: &mut H) -> ExitCode {
        self.push_word(host.env().timestamp)
    }

    #[inline(always)]
    pub(super) fn number<H: Host + ?Sized>(&mut self, host: &mut H) -> ExitCode {
        self.push_word(host.env().number)
    }

    #[inline(always)]
    pub(super) fn prevrandao<H: Host + ?Sized>(&mut self, host: &mut H) -> ExitCode {
        self.push_word(host.env().prevrandao)
    }

    #[inline(always)]
    pub(super) fn gaslimit<H: Host + ?Sized>(&mut self, host: &mut H) -> ExitCode {
        self.push_word(host.env().gas_limit)
    }

    #[inline(always)]
    pub(super) fn chainid<H: Host + ?Sized>(&mut self, host: &mut H) -> ExitCode {
        self.push_word(U256::from(host.env().chain_id))
    }

    #[inline(always)]
    pub(super) fn basefee<H: Host + ?Sized>(&mut self, host: &mut H) -> ExitCode {
        self.push_word(host.env().basefee)
    }

    #[inline(always)]
    pub(super) fn blobbasefee<H: Host + ?Sized>(&mut self, host: &mut H) -> ExitCode {
        self.push_word(host.env().blob_basefee)
    }

    #[inline(always)]
    pub(super) fn blobhash<H: Host + ?Sized>(&mut self, host: &mut H) -> ExitCode {
        let i = *self.stack.peek(0);
        let hashes = &host.env().blob_hashes;
        let v = match word::to_u64(&i) {
            Some(i) if (i as usize) < hashes.len() => U256::from_be_bytes(hashes[i as usize].0),
            _ => U256::ZERO,
        };
        *self.stack.top_mut() = v;
        ExitCode::Continue
    }
}

impl Frame {
    /// Shared body of the copy instructions: charges copy and memory gas, then copies `source`
    /// (zero-padded) to memory.
    pub(super) fn copy_to_memory(
        &mut self,
        dst: U256,
        src_offset: U256,
        len: U256,
        source: &[u8],
    ) -> Result<(), ExitCode> {
        if len.is_zero() {
            return Ok(());
        }
        let l = word::to_u64(&len).ok_or(ExitCode::OutOfGas)?;
        self.charge(gas::per_word(gas::COPY, l))?;
        let d = self.memory.expand(&mut self.gas, &dst, &len)?;
        self.memory
            .copy_padded(d, source, word::saturating_u64(&src_offset), l as usize);
        Ok(())
    }

    pub(super) fn calldatacopy(&mut self) -> ExitCode {
        let [dst, src, len] = self.popn();
        let input = self.msg.input.clone();
        done(self.copy_to_memory(dst, src, len, &input))
    }

    pub(super) fn codecopy(&mut self) -> ExitCode {
        let [dst, src, len] = self.popn();
        let code = self.code.clone();
        done(self.copy_to_memory(dst, src, len, code.raw()))
    }

    pub(super) fn returndatacopy(&mut self) -> ExitCode {
        let [dst, src, len] = self.popn();
        done(self.returndatacopy_inner(dst, src, len))
    }

    /// Gas (copy and memory) is charged before the bounds check, as in the execution specs.
    fn returndatacopy_inner(&mut self, dst: U256, src: U256, len: U256) -> Result<(), ExitCode> {
        let mut d = 0;
        if !len.is_zero() {
            let l = word::to_u64(&len).ok_or(ExitCode::OutOfGas)?;
            self.charge(gas::per_word(gas::COPY, l))?;
            d = self.memory.expand(&mut self.gas, &dst, &len)?;
        }
        let end = word::to_u64(&src)
            .zip(word::to_u64(&len))
            .and_then(|(s, l)| s.checked_add(l));
        match end {
            Some(e) if e <= self.return_data.len() as u64 => {}
            _ => return Err(ExitCode::OutOfOffset),
        }
        let data: Bytes = self.return_data.clone();
        self.memory.copy_padded(
            d,
            &data,
            word::saturating_u64(&src),
            len.as_limbs()[0] as usize,
        );
        Ok(())
    }
}
