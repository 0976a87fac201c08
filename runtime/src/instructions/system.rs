//! CALL, CALLCODE, DELEGATECALL, STATICCALL, CREATE, CREATE2: charge, then suspend.
//!
//! These bodies price the call (memory, EIP-2929 access, value, new account, EIP-7702 delegate
//! access, EIP-150 63/64 forwarding) and build the callee's [`Message`]; the frame driver runs it
//! and [`Frame::resume`] writes the result back. Nothing here recurses.

use crate::frame::{
    delegation_target, CallKind, Frame, FrameResult, Message, MessageKind, Pending,
};
use crate::{gas, word, ExitCode, Host, SpecId};
use alloy_primitives::{Address, Bytes, U256};

impl Frame {
    pub(crate) fn take_request(&mut self) -> Message {
        self.request.take().unwrap_or_else(|| self.msg.clone())
    }

    pub(super) fn call<H: Host + ?Sized>(&mut self, host: &mut H, kind: CallKind) -> ExitCode {
        match self.call_inner(host, kind) {
            Ok(()) => ExitCode::Suspend,
            Err(e) => e,
        }
    }

    fn call_inner<H: Host + ?Sized>(
        &mut self,
        host: &mut H,
        kind: CallKind,
    ) -> Result<(), ExitCode> {
        let spec = self.spec;
        let gas_req = self.stack.pop();
        let to = word::to_address(self.stack.pop());
        let value = match kind {
            CallKind::Call | CallKind::CallCode => self.stack.pop(),
            _ => U256::ZERO,
        };
        let [in_off, in_len, out_off, out_len] = self.popn();
        let transfers = !value.is_zero();
        if kind == CallKind::Call && self.msg.is_static && transfers {
            return Err(ExitCode::StaticCallViolation);
        }
        let in_off = self.memory.expand(&mut self.gas, &in_off, &in_len)?;
        let out_off = self.memory.expand(&mut self.gas, &out_off, &out_len)?;

        let account = host.account_status(to);
        let mut cost = gas::cold_account_surcharge(spec, account.is_cold);
        if spec.is_enabled_in(SpecId::Prague) {
            if let Some(delegate) = delegation_target(&host.code(to).data) {
                cost += if host.access_account(delegate) {
                    gas::COLD_ACCOUNT_ACCESS
                } else {
                    gas::WARM_STORAGE_READ
                };
            }
        }
        if transfers {
            cost += gas::CALL_VALUE;
        }
        if kind == CallKind::Call {
            let new_account = if spec.is_enabled_in(SpecId::SpuriousDragon) {
                transfers && account.data.is_empty
            } else {
                !account.data.exists
            };
            if new_account {
                cost += gas::NEW_ACCOUNT;
            }
        }
        self.charge(cost)?;
        let mut gas_limit =
            gas::call_gas(spec, self.gas.remaining, &gas_req).ok_or(ExitCode::OutOfGas)?;
        self.charge(gas_limit)?;
        if transfers {
            gas_limit += gas::CALL_STIPEND;
        }

        // The input stays in this frame's memory: the driver hands it to a precompile in place
        // and copies it only for a callee with code (copying every call's input was a tenth of
        // the legacy state tests).
        let in_len = in_len.as_limbs()[0] as usize;
        let me = self.msg.target;
        let (caller, target, value) = match kind {
            CallKind::Call => (me, to, value),
            CallKind::CallCode => (me, me, value),
            CallKind::DelegateCall => (self.msg.caller, me, self.msg.value),
            CallKind::StaticCall => (me, to, U256::ZERO),
        };
        self.pending = Pending::Call {
            out_offset: out_off,
            out_len: out_len.as_limbs()[0] as usize,
            in_offset: in_off,
            in_len,
        };
        self.request = Some(Message {
            kind: MessageKind::Call(kind),
            caller,
            target,
            code_address: to,
            value,
            input: Bytes::new(),
            gas_limit,
            is_static: self.msg.is_static || kind == CallKind::StaticCall,
            depth: self.msg.depth + 1,
        });
        Ok(())
    }

    pub(super) fn create(&mut self, create2: bool) -> ExitCode {
        match self.create_inner(create2) {
            Ok(()) => ExitCode::Suspend,
            Err(e) => e,
        }
    }

    fn create_inner(&mut self, create2: bool) -> Result<(), ExitCode> {
        if self.msg.is_static {
            return Err(ExitCode::StaticCallViolation);
        }
        let spec = self.spec;
        let [value, offset, len] = self.popn();
        let salt = if create2 {
            Some(self.stack.pop())
        } else {
            None
        };
        let mut input = Bytes::new();
        if !len.is_zero() {
            let l = word::to_u64(&len).ok_or(ExitCode::OutOfGas)?;
            if spec.is_enabled_in(SpecId::Shanghai) {
                if l > gas::MAX_INITCODE_SIZE as u64 {
                    return Err(ExitCode::CreateInitCodeSizeLimit);
                }
                self.charge(gas::per_word(gas::INITCODE_WORD, l))?;
            }
            let off = self.memory.expand(&mut self.gas, &offset, &len)?;
            input = Bytes::copy_from_slice(self.memory.slice(off, l as usize));
        }
        if create2 {
            self.charge(gas::per_word(gas::KECCAK256_WORD, input.len() as u64))?;
        }
        let mut gas_limit = self.gas.remaining;
        if spec.is_enabled_in(SpecId::Tangerine) {
            gas_limit -= gas_limit / 64;
        }
        self.charge(gas_limit)?;
        self.pending = Pending::Create;
        self.request = Some(Message {
            kind: MessageKind::Create { salt },
            caller: self.msg.target,
            target: Address::ZERO,
            code_address: Address::ZERO,
            value,
            input,
            gas_limit,
            is_static: false,
            depth: self.msg.depth + 1,
        });
        Ok(())
    }

    /// Resumes after a suspended CALL*/CREATE* with the callee's result.
    pub fn resume(&mut self, result: FrameResult) {
        // The call may have moved value in or out of this account.
        self.self_balance_known = 0;
        let ok = result.exit.is_success();
        if ok || result.exit.is_revert() {
            self.gas.give_back(result.gas.remaining);
        }
        if ok {
            self.gas.refund += result.gas.refund;
        }
        match std::mem::replace(&mut self.pending, Pending::None) {
            Pending::Call {
                out_offset,
                out_len,
                ..
            } => {
                let n = out_len.min(result.output.len());
                self.memory
                    .copy_padded(out_offset, &result.output[..n], 0, n);
                self.stack.push(word::from_bool(ok));
                self.set_return_data(result.output);
            }
            Pending::Create => {
                let pushed = match (ok, result.created) {
                    (true, Some(a)) => word::from_address(a),
                    _ => U256::ZERO,
                };
                self.stack.push(pushed);
                self.set_return_data(if result.exit.is_revert() {
                    result.output
                } else {
                    Bytes::new()
                });
            }
            Pending::None => {}
        }
    }
}
