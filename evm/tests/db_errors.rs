//! A failing database read surfaces as `EVMError::Database`, whatever the read: the sender's
//! account during validation, a contract's code, a storage slot in the middle of execution, a
//! block hash. Nothing is returned but the error (the partial result is discarded).

use alloy_evm::{Evm, EvmEnv, EvmFactory};
use alloy_primitives::{address, keccak256, Address, Bytes, B256, U256};
use ferrite::EngineMode;
use ferrite_evm::FerriteEvmFactory;
use revm::bytecode::Bytecode;
use revm::context::{BlockEnv, CfgEnv, TxEnv};
use revm::context_interface::result::EVMError;
use revm::database::{CacheDB, EmptyDB};
use revm::primitives::hardfork::SpecId;
use revm::primitives::TxKind;
use revm::state::AccountInfo;
use revm::Database;

const SENDER: Address = address!("1000000000000000000000000000000000000001");
const CONTRACT: Address = address!("2000000000000000000000000000000000000002");

/// Which read fails.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fail {
    Account(Address),
    Code,
    Storage,
    BlockHash,
}

#[derive(Debug, PartialEq, Eq)]
struct Broken(&'static str);

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Broken {}
impl revm::database::DBErrorMarker for Broken {}

#[derive(Debug)]
struct Flaky {
    inner: CacheDB<EmptyDB>,
    fail: Fail,
}

impl Database for Flaky {
    type Error = Broken;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Broken> {
        if self.fail == Fail::Account(address) {
            return Err(Broken("account"));
        }
        let mut info = self.inner.basic(address).map_err(|_| Broken("inner"))?;
        if self.fail == Fail::Code {
            // Make the reader fetch the code by hash.
            if let Some(i) = info.as_mut() {
                i.code = None;
            }
        }
        Ok(info)
    }

    fn code_by_hash(&mut self, hash: B256) -> Result<Bytecode, Broken> {
        if self.fail == Fail::Code {
            return Err(Broken("code"));
        }
        self.inner.code_by_hash(hash).map_err(|_| Broken("inner"))
    }

    fn storage(&mut self, address: Address, key: U256) -> Result<U256, Broken> {
        if self.fail == Fail::Storage {
            return Err(Broken("storage"));
        }
        self.inner
            .storage(address, key)
            .map_err(|_| Broken("inner"))
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, Broken> {
        if self.fail == Fail::BlockHash {
            return Err(Broken("block hash"));
        }
        self.inner.block_hash(number).map_err(|_| Broken("inner"))
    }
}

/// SSTORE(0, SLOAD(0) + 1); SSTORE(1, BLOCKHASH(NUMBER - 1)).
const CODE: &[u8] = &[
    0x60, 0x00, 0x54, 0x60, 0x01, 0x01, 0x60, 0x00, 0x55, 0x60, 0x01, 0x43, 0x03, 0x40, 0x60, 0x01,
    0x55, 0x00,
];

fn run(fail: Fail, mode: EngineMode) -> Result<(), EVMError<Broken>> {
    let mut inner = CacheDB::new(EmptyDB::default());
    inner.insert_account_info(
        SENDER,
        AccountInfo {
            balance: U256::from(10u64.pow(18)),
            ..AccountInfo::default()
        },
    );
    let code = Bytes::from_static(CODE);
    inner.insert_account_info(
        CONTRACT,
        AccountInfo {
            nonce: 1,
            code_hash: keccak256(&code),
            code: Some(Bytecode::new_raw(code)),
            ..AccountInfo::default()
        },
    );
    let mut block = BlockEnv::default();
    block.number = U256::from(100);
    block.prevrandao = Some(B256::ZERO);
    block.blob_excess_gas_and_price = Some(
        revm::context_interface::block::BlobExcessGasAndPrice::new(0, 5_007_716),
    );
    let env = EvmEnv {
        cfg_env: CfgEnv::new_with_spec(SpecId::PRAGUE),
        block_env: block,
    };
    let factory = FerriteEvmFactory::with_mode(mode);
    let mut evm = factory.create_evm(Flaky { inner, fail }, env);
    let tx = TxEnv::builder()
        .caller(SENDER)
        .kind(TxKind::Call(CONTRACT))
        .gas_limit(100_000)
        .chain_id(Some(1))
        .build()
        .expect("a valid transaction");
    evm.transact_raw(tx).map(|_| ())
}

#[test]
fn every_failing_read_is_a_database_error() {
    for mode in [EngineMode::Interp, EngineMode::Jit] {
        for (fail, what) in [
            (Fail::Account(SENDER), "account"),
            (Fail::Account(CONTRACT), "account"),
            (Fail::Code, "code"),
            (Fail::Storage, "storage"),
            (Fail::BlockHash, "block hash"),
        ] {
            match run(fail, mode) {
                Err(EVMError::Database(Broken(w))) => assert_eq!(w, what, "{fail:?}"),
                other => panic!("{fail:?} ({}): {other:?}", mode.name()),
            }
        }
    }
}

#[test]
fn a_working_database_runs() {
    // The control: the same transaction over a database that never fails.
    let r = run(
        Fail::Account(Address::repeat_byte(0xde)),
        EngineMode::Interp,
    );
    assert!(r.is_ok(), "{r:?}");
}
