//! A peephole pass over the finished function: chains of constant adds become one add.
//!
//! The lowering emits, block by block, `x + k` on values that are themselves `base + k0`: the
//! gas a block charges after the block it fell into charged (with Cranelift's SSA variables,
//! the second block reads the first one's result only once the function is sealed, so it
//! cannot be seen while lowering), stack lengths moved twice. x64 lowers an add of an add as
//! one address computation with the second constant in a register (`mov $k`, `lea`: 12
//! bytes, against 4 for `lea` with the summed constant), and the opt_level "none" pipeline
//! folds nothing. Rewriting `x + k` as `base + (k0 + k)` (wrapping, as the adds were) is
//! exact; `x` stays where other instructions use it.

use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::ir::{types, Function, InstBuilder, InstructionData, Opcode, Value};

/// `v` with its aliases resolved, and the instruction that defines it (none for a block
/// parameter).
fn definition(func: &Function, v: Value) -> Option<(Value, &InstructionData)> {
    let v = func.dfg.resolve_aliases(v);
    let inst = func.dfg.value_def(v).inst()?;
    Some((v, &func.dfg.insts[inst]))
}

/// The value of `v` if an `iconst` of 64 bits defines it.
fn const_of(func: &Function, v: Value) -> Option<i64> {
    match definition(func, v)? {
        (
            v,
            &InstructionData::UnaryImm {
                opcode: Opcode::Iconst,
                imm,
            },
        ) if func.dfg.value_type(v) == types::I64 => Some(imm.bits()),
        _ => None,
    }
}

/// `(x, k)` if `v` is `x + k` (or `k + x`, or `x - k`) for a 64-bit constant `k`.
fn const_add(func: &Function, v: Value) -> Option<(Value, i64)> {
    let resolve = |x: Value| func.dfg.resolve_aliases(x);
    match *definition(func, v)?.1 {
        InstructionData::Binary {
            opcode: Opcode::Iadd,
            args: [a, b],
        } => match (const_of(func, a), const_of(func, b)) {
            (_, Some(k)) => Some((resolve(a), k)),
            (Some(k), None) => Some((resolve(b), k)),
            (None, None) => None,
        },
        InstructionData::Binary {
            opcode: Opcode::Isub,
            args: [a, b],
        } => const_of(func, b).map(|k| (resolve(a), k.wrapping_neg())),
        _ => None,
    }
}

/// Folds every `(base + k0) + k` (of 64 bits) into `base + (k0 + k)`, and an add of 0 into its
/// operand: one pass in layout order, so a chain folds all the way back (each add's operand was
/// folded before it).
///
/// Measured and not kept (figures in `benches/PERFORMANCE.md`): an add of a negative constant
/// as a subtraction of its negation. x64 emits an add whose register is its operand's as `add`
/// with a 32-bit immediate (7 bytes; `sub` of a small constant takes 4), but a `sub` whose
/// operand lives on needs a copy first where the add is one `lea` (4): done where the add is
/// its operand's last use in layout order, it grew snailtracer's code.
pub(super) fn constant_adds(func: &mut Function) {
    let mut pos = FuncCursor::new(func);
    while pos.next_block().is_some() {
        while let Some(inst) = pos.next_inst() {
            let Some(v) = pos.func.dfg.inst_results(inst).first().copied() else {
                continue;
            };
            if pos.func.dfg.value_type(v) != types::I64 {
                continue;
            }
            let Some((x, k)) = const_add(pos.func, v) else {
                continue;
            };
            let Some((base, k0)) = const_add(pos.func, x) else {
                continue;
            };
            // `base` defines `x`, which is used here: it dominates this instruction.
            let sum = k0.wrapping_add(k);
            if sum == 0 {
                pos.func.dfg.clear_results(inst);
                pos.func.dfg.change_to_alias(v, base);
                pos.remove_inst_and_step_back();
            } else {
                let k = pos.ins().iconst(types::I64, sum);
                pos.func.replace(inst).iadd(base, k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranelift_codegen::ir::{AbiParam, Signature, UserFuncName};
    use cranelift_codegen::isa::CallConv;
    use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

    /// `((x + 3) - 5) + 2` returned, and `(x + 3) - 5` stored: the second add folds to
    /// `x + -2`, the third to `x` itself; the first stays (nothing to fold into).
    #[test]
    fn folds_chains_of_constant_adds() {
        let mut sig = Signature::new(CallConv::SystemV);
        sig.params.push(AbiParam::new(types::I64));
        sig.returns.push(AbiParam::new(types::I64));
        let mut func = Function::with_name_signature(UserFuncName::default(), sig);
        let mut fctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut func, &mut fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let x = b.block_params(entry)[0];
        let a = b.ins().iadd_imm_s(x, 3);
        let five = b.ins().iconst(types::I64, 5);
        let s = b.ins().isub(a, five);
        let r = b.ins().iadd_imm_s(s, 2);
        b.ins()
            .store(cranelift_codegen::ir::MemFlagsData::trusted(), s, x, 0);
        b.ins().return_(&[r]);
        b.seal_all_blocks();
        b.finalize(
            crate::jit::host_isa()
                .expect("the host ISA")
                .frontend_config(),
        );
        constant_adds(&mut func);
        let dfg = &func.dfg;
        assert_eq!(const_add(&func, a), Some((x, 3)));
        assert_eq!(const_add(&func, s), Some((x, -2)));
        assert_eq!(dfg.resolve_aliases(r), x);
        let ret = func.layout.last_inst(entry).expect("the return");
        assert_eq!(
            dfg.inst_args(ret)
                .iter()
                .map(|v| dfg.resolve_aliases(*v))
                .collect::<Vec<_>>(),
            [x]
        );
        cranelift_codegen::verify_function(
            &func,
            &cranelift_codegen::settings::Flags::new(cranelift_codegen::settings::builder()),
        )
        .expect("the folded function verifies");
    }
}
