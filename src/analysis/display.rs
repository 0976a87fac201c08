//! The `ferrite analyze` dump.

use super::{Analysis, Exit};
use ferrite_runtime::OPCODE_INFO;
use std::fmt;

impl fmt::Display for Analysis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "code {} bytes, hash {}, fork {}: {} blocks, {} instructions, {} fused pushes, {} static jumps",
            self.code.raw().len(),
            self.code.hash(),
            self.spec,
            self.blocks.len(),
            self.instrs.len(),
            self.fused_pushes,
            self.static_jumps
        )?;
        for (i, b) in self.blocks.iter().enumerate() {
            let exit = match &b.exit {
                Exit::Fallthrough(pc) => format!("fallthrough -> pc {pc}"),
                Exit::StaticJump(Some(t)) => format!("static jump -> block {t}"),
                Exit::StaticJump(None) => "static jump -> INVALID".into(),
                Exit::DynamicJump => "dynamic jump".into(),
                Exit::StaticJumpI(Some(t), f) => format!("static jumpi -> block {t} / pc {f}"),
                Exit::StaticJumpI(None, f) => format!("static jumpi -> INVALID / pc {f}"),
                Exit::DynamicJumpI(f) => format!("dynamic jumpi / pc {f}"),
                Exit::Terminate => "terminate".into(),
            };
            writeln!(
                f,
                "block {i} @pc {}: gas {}, stack needs {} grows {}{}, {exit}",
                b.start,
                b.static_gas,
                b.min_stack,
                b.max_growth,
                if b.is_resume_point {
                    ", resume point"
                } else {
                    ""
                }
            )?;
            for ins in &self.instrs[b.instrs.clone()] {
                let info = &OPCODE_INFO[ins.opcode as usize];
                if info.immediate > 0 {
                    writeln!(f, "    {:5}  {} {:#x}", ins.pc, info.name, ins.imm)?;
                } else {
                    writeln!(f, "    {:5}  {}", ins.pc, info.name)?;
                }
            }
        }
        Ok(())
    }
}
