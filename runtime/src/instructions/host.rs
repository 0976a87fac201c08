//! Instructions that read or write the world: BALANCE, EXTCODE*, SELFBALANCE, SLOAD/SSTORE,
//! TLOAD/TSTORE, LOG0–LOG4, SELFDESTRUCT.

use super::{done, Running};
use crate::frame::Frame;
use crate::{gas, word, Address, ExitCode, Host, Log, SpecId, StateLoad};
use alloy_primitives::{Bytes, B256, U256};

impl Running<'_> {
    /// BALANCE, EXTCODESIZE, EXTCODEHASH: replace the address on top with `query(address)`,
    /// charging the EIP-2929 cold surcharge.
    #[inline(always)]
    fn account_query<H: Host + ?Sized>(
        &mut self,
        host: &mut H,
        query: impl FnOnce(&mut H, Address) -> StateLoad<U256>,
    ) -> ExitCode {
        let addr = word::to_address(*self.stack.peek(0));
        let r = query(host, addr);
        if !self.charge(gas::cold_account_surcharge(self.frame.spec, r.is_cold)) {
            return ExitCode::OutOfGas;
        }
        *self.stack.top_mut() = r.data;
        ExitCode::Continue
    }

    #[inline(always)]
    pub(super) fn balance<H: Host + ?Sized>(&mut self, host: &mut H) -> ExitCode {
        self.account_query(host, |h, a| h.balance(a))
    }

    #[inline(always)]
    pub(super) fn selfbalance<H: Host + ?Sized>(&mut self, host: &mut H) -> ExitCode {
        let b = self.frame.self_balance(host);
        self.stack.push(b);
        ExitCode::Continue
    }

    #[inline(always)]
    pub(super) fn extcodesize<H: Host + ?Sized>(&mut self, host: &mut H) -> ExitCode {
        self.account_query(host, |h, a| {
            let r = h.code(a);
            StateLoad::new(U256::from(r.data.len()), r.is_cold)
        })
    }

    #[inline(always)]
    pub(super) fn extcodehash<H: Host + ?Sized>(&mut self, host: &mut H) -> ExitCode {
        self.account_query(host, |h, a| {
            let r = h.code_hash(a);
            StateLoad::new(U256::from_be_bytes(r.data.0), r.is_cold)
        })
    }

    #[inline(always)]
    pub(super) fn sload<H: Host + ?Sized>(&mut self, host: &mut H) -> ExitCode {
        let key = *self.stack.peek(0);
        let r = host.sload(self.frame.msg.target, key);
        if !self.charge(gas::cold_sload_surcharge(self.frame.spec, r.is_cold)) {
            return ExitCode::OutOfGas;
        }
        *self.stack.top_mut() = r.data;
        ExitCode::Continue
    }

    #[inline(always)]
    pub(super) fn tload<H: Host + ?Sized>(&mut self, host: &mut H) -> ExitCode {
        let key = *self.stack.peek(0);
        *self.stack.top_mut() = host.tload(self.frame.msg.target, key);
        ExitCode::Continue
    }

    #[inline(always)]
    pub(super) fn tstore<H: Host + ?Sized>(&mut self, host: &mut H) -> ExitCode {
        if self.frame.msg.is_static {
            return ExitCode::StaticCallViolation;
        }
        let [key, value] = self.popn();
        host.tstore(self.frame.msg.target, key, value);
        ExitCode::Continue
    }
}

impl Frame {
    /// SELFBALANCE's value, read from the host once per stretch of the frame between calls
    /// (compiled code reads the same cache inline: `offsets::SELF_BALANCE`). Only a value
    /// transfer changes a balance, and a running frame's own balance moves only through a CALL
    /// or CREATE it makes (it suspends, and [`Frame::resume`] forgets the value) or its
    /// SELFDESTRUCT (which ends it). EEST's SELFBALANCE benchmark ran at half revm's speed with
    /// a state look-up per opcode.
    pub fn self_balance<H: Host + ?Sized>(&mut self, host: &mut H) -> U256 {
        if self.self_balance_known == 0 {
            self.self_balance = host.balance(self.msg.target).data;
            self.self_balance_known = 1;
        }
        self.self_balance
    }

    pub(super) fn extcodecopy<H: Host + ?Sized>(&mut self, host: &mut H) -> ExitCode {
        let [a, dst, src, len] = self.popn();
        let r = host.code(word::to_address(a));
        if !self
            .gas
            .charge(gas::cold_account_surcharge(self.spec, r.is_cold))
        {
            return ExitCode::OutOfGas;
        }
        done(self.copy_to_memory(dst, src, len, &r.data))
    }

    pub(super) fn sstore<H: Host + ?Sized>(&mut self, host: &mut H) -> ExitCode {
        if self.msg.is_static {
            return ExitCode::StaticCallViolation;
        }
        let [key, value] = self.popn();
        // EIP-2200: SSTORE needs more than the call stipend left.
        if self.spec.is_enabled_in(SpecId::Istanbul) && self.gas.remaining <= gas::SSTORE_SENTRY {
            return ExitCode::OutOfGas;
        }
        let r = host.sstore(self.msg.target, key, value);
        let (cost, refund) = gas::sstore_cost(self.spec, &r.data, r.is_cold);
        if !self.gas.charge(cost) {
            return ExitCode::OutOfGas;
        }
        self.gas.refund += refund;
        ExitCode::Continue
    }

    pub(super) fn log<H: Host + ?Sized>(&mut self, host: &mut H, topics: usize) -> ExitCode {
        if self.msg.is_static {
            return ExitCode::StaticCallViolation;
        }
        let [offset, len] = self.popn();
        let off = match self.memory.expand(&mut self.gas, &offset, &len) {
            Ok(o) => o,
            Err(e) => return e,
        };
        let l = len.as_limbs()[0];
        if !self.gas.charge(gas::log_data_cost(l)) {
            return ExitCode::OutOfGas;
        }
        let topics = (0..topics).map(|_| B256::from(self.stack.pop())).collect();
        let data = Bytes::copy_from_slice(self.memory.slice(off, l as usize));
        host.log(Log {
            address: self.msg.target,
            topics,
            data,
        });
        ExitCode::Continue
    }

    pub(super) fn selfdestruct<H: Host + ?Sized>(&mut self, host: &mut H) -> ExitCode {
        if self.msg.is_static {
            return ExitCode::StaticCallViolation;
        }
        let target = word::to_address(self.stack.pop());
        let r = host.selfdestruct(self.msg.target, target);
        let spec = self.spec;
        let mut cost = 0;
        if spec.is_enabled_in(SpecId::Berlin) && r.is_cold {
            cost += gas::COLD_ACCOUNT_ACCESS;
        }
        let new_account = if spec.is_enabled_in(SpecId::SpuriousDragon) {
            r.data.had_value && r.data.target_is_empty
        } else {
            spec.is_enabled_in(SpecId::Tangerine) && !r.data.target_exists
        };
        if new_account {
            cost += gas::NEW_ACCOUNT;
        }
        if !self.gas.charge(cost) {
            return ExitCode::OutOfGas;
        }
        if !spec.is_enabled_in(SpecId::London) && !r.data.previously_destroyed {
            self.gas.refund += gas::SELFDESTRUCT_REFUND;
        }
        ExitCode::SelfDestruct
    }
}
