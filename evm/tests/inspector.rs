//! An enabled inspector is never skipped: the transaction runs in revm's interpreter, which
//! calls the inspector at every step; disabled, ferrite runs it. The factory counts both.

use alloy_evm::{Evm, EvmEnv, EvmFactory};
use alloy_primitives::{address, keccak256, Address, Bytes, U256};
use ferrite_evm::FerriteEvmFactory;
use revm::bytecode::Bytecode;
use revm::context::TxEnv;
use revm::database::{CacheDB, EmptyDB};
use revm::interpreter::interpreter::EthInterpreter;
use revm::interpreter::Interpreter;
use revm::primitives::TxKind;
use revm::state::AccountInfo;
use revm::Inspector;

const SENDER: Address = address!("1000000000000000000000000000000000000001");
const CONTRACT: Address = address!("2000000000000000000000000000000000000002");

#[derive(Debug, Default)]
struct Steps(u64);

impl<CTX> Inspector<CTX, EthInterpreter> for Steps {
    fn step(&mut self, _: &mut Interpreter<EthInterpreter>, _: &mut CTX) {
        self.0 += 1;
    }
}

#[test]
fn inspected_transactions_run_in_revm_with_the_inspector() {
    let mut db = CacheDB::new(EmptyDB::default());
    db.insert_account_info(
        SENDER,
        AccountInfo {
            balance: U256::from(10u64.pow(18)),
            ..AccountInfo::default()
        },
    );
    // PUSH1 1 PUSH1 0 SSTORE STOP: four steps.
    let code = Bytes::from_static(&[0x60, 0x01, 0x60, 0x00, 0x55, 0x00]);
    db.insert_account_info(
        CONTRACT,
        AccountInfo {
            nonce: 1,
            code_hash: keccak256(&code),
            code: Some(Bytecode::new_raw(code)),
            ..AccountInfo::default()
        },
    );
    let tx = |nonce| {
        TxEnv::builder()
            .caller(SENDER)
            .kind(TxKind::Call(CONTRACT))
            .gas_limit(100_000)
            .nonce(nonce)
            .chain_id(Some(1))
            .build()
            .expect("a valid transaction")
    };
    let factory = FerriteEvmFactory::default();
    let mut evm = factory.create_evm_with_inspector(db, EvmEnv::default(), Steps::default());
    assert!(evm.transact_commit(tx(0)).expect("valid").is_success());
    assert_eq!(evm.inspector().0, 4);
    evm.disable_inspector();
    assert!(evm.transact_commit(tx(1)).expect("valid").is_success());
    assert_eq!(evm.inspector().0, 4, "ferrite ran the second one");
    let c = factory.counters();
    assert_eq!((c.inspected, c.ferrite), (1, 1));
}
