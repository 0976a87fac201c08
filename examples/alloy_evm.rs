//! ferrite behind alloy-evm: the way reth-style engines would embed it.
//!
//! A `FerriteEvmFactory` (one tiered engine shared by every EVM it creates) builds alloy-evm
//! `Evm`s over revm's `CacheDB`; 4,000 token transfers between eight holders go through
//! `transact_commit`, each EVM serving a "block" of 500; the token's total supply is checked
//! at the end. Then one transaction with an inspector enabled (revm's interpreter runs it, so
//! the inspector sees every step), and the factory's and the engine's counters.
//!
//! ```sh
//! cargo run --release --example alloy_evm
//! ```

use alloy_evm::{Evm, EvmEnv, EvmFactory};
use alloy_primitives::{address, hex, keccak256, Address, Bytes, U256};
use ferrite_evm::FerriteEvmFactory;
use revm::bytecode::Bytecode;
use revm::context::{BlockEnv, CfgEnv, TxEnv};
use revm::database::{CacheDB, EmptyDB};
use revm::inspector::NoOpInspector;
use revm::primitives::hardfork::SpecId;
use revm::primitives::TxKind;
use revm::state::AccountInfo;
use revm::Database;

const TOKEN: Address = address!("7070707070707070707070707070707070707070");
const HOLDERS: u8 = 8;
const BLOCKS: u64 = 8;
const TXS_PER_BLOCK: u64 = 500;
const START_BALANCE: u64 = 1_000_000;

/// transfer(to, amount): balance[caller] -= amount (revert if short); balance[to] += amount.
/// Balances live at storage[holder address].
const TOKEN_CODE: &str = "602035335481811060 1a57819003335560003580548201905500 5b600080fd";

fn holder(i: u8) -> Address {
    Address::with_last_byte(0xa0 + i)
}

fn main() {
    let code = Bytes::from(hex::decode(TOKEN_CODE.replace(' ', "")).expect("valid hex"));
    let mut db = CacheDB::new(EmptyDB::default());
    db.insert_account_info(
        TOKEN,
        AccountInfo {
            nonce: 1,
            code_hash: keccak256(&code),
            code: Some(Bytecode::new_raw(code)),
            ..AccountInfo::default()
        },
    );
    for i in 0..HOLDERS {
        let h = holder(i);
        db.insert_account_info(
            h,
            AccountInfo {
                balance: U256::from(10u64).pow(U256::from(20)),
                ..AccountInfo::default()
            },
        );
        db.insert_account_storage(TOKEN, h.into_word().into(), U256::from(START_BALANCE))
            .expect("in-memory database");
    }

    let factory = FerriteEvmFactory::default(); // a tiered (`auto`) engine
    let mut nonces = [0u64; HOLDERS as usize];
    let mut reverted = 0;
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    for number in 1..=BLOCKS {
        let mut block = BlockEnv::default();
        block.number = U256::from(number);
        block.timestamp = U256::from(1_700_000_000 + 12 * number);
        block.gas_limit = 30_000_000;
        block.basefee = 7;
        block.prevrandao = Some(Default::default());
        block.blob_excess_gas_and_price = Some(
            revm::context_interface::block::BlobExcessGasAndPrice::new(0, 5_007_716),
        );
        let env = EvmEnv {
            cfg_env: CfgEnv::new_with_spec(SpecId::PRAGUE),
            block_env: block,
        };
        let mut evm = factory.create_evm(db, env);
        for _ in 0..TXS_PER_BLOCK {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let (from, to) = ((rng % 8) as u8, ((rng >> 8) % 8) as u8);
            let amount = (rng >> 16) % 20_000;
            let mut data = holder(to).into_word().to_vec();
            data.extend_from_slice(&U256::from(amount).to_be_bytes::<32>());
            let tx = TxEnv::builder()
                .caller(holder(from))
                .kind(TxKind::Call(TOKEN))
                .data(data.into())
                .gas_limit(100_000)
                .gas_price(10)
                .nonce(nonces[from as usize])
                .chain_id(Some(1))
                .build()
                .expect("a valid transaction");
            nonces[from as usize] += 1;
            let result = evm.transact_commit(tx).expect("a valid transaction");
            reverted += u64::from(!result.is_success());
        }
        db = evm.into_db();
    }

    let mut supply = U256::ZERO;
    for i in 0..HOLDERS {
        supply += db
            .storage(TOKEN, holder(i).into_word().into())
            .expect("in-memory database");
    }
    println!(
        "{} transfers in {BLOCKS} blocks ({reverted} reverted: amount over balance); total supply \
         {supply} (expected {})",
        BLOCKS * TXS_PER_BLOCK,
        START_BALANCE * u64::from(HOLDERS)
    );
    assert_eq!(supply, U256::from(START_BALANCE * u64::from(HOLDERS)));

    // An inspector needs revm's interpreter: the EVM hands such transactions to it.
    let mut evm = factory.create_evm_with_inspector(db, EvmEnv::default(), NoOpInspector);
    let tx = TxEnv::builder()
        .caller(holder(0))
        .kind(TxKind::Call(TOKEN))
        .nonce(nonces[0])
        .gas_limit(100_000)
        .chain_id(Some(1))
        .build()
        .expect("a valid transaction");
    let inspected = evm.transact(tx).expect("a valid transaction");
    println!("inspected transaction: {:?}", inspected.result);

    println!("factory: {:?}", factory.counters());
    println!("engine:  {}", factory.engine().stats().to_json());
}
