//! Embedding ferrite: one `Engine` shared by every executing thread.
//!
//! Four threads send 5,000 transactions each to a counter contract, each on its own in-memory
//! state, through one engine in `auto` mode: the first calls are interpreted, the contract is
//! compiled in the background once hot, and later calls run native code. Then one EVMC-style
//! frame ("execute this code with this message") and the engine's counters.
//!
//! ```sh
//! cargo run --release --example embed
//! ```

use alloy_primitives::{address, hex, Address, Bytes, U256};
use ferrite::engine::{EngineConfig, EngineMode};
use ferrite::interpreter::{CallKind, Message, MessageKind};
use ferrite::runtime::{Env, SpecId};
use ferrite::Engine;
use ferrite_state::state::{Account, State};
use ferrite_state::transaction::{Block, Tx};
use ferrite_state::Transact;
use std::sync::Arc;

const SENDER: Address = address!("1111111111111111111111111111111111111111");
const COUNTER: Address = address!("cccccccccccccccccccccccccccccccccccccccc");
/// Transactions per thread.
const TXS: u64 = 5_000;

fn main() {
    // One engine for the process: code cache, analysis cache and compiler threads.
    let engine = Arc::new(Engine::new(EngineConfig {
        mode: EngineMode::Auto, // the default: interpret, compile hot code in the background
        hot_threshold: Some(8), // compile a contract after 8 interpreted calls
        workers: 1,
        ..EngineConfig::default()
    }));

    // counter: storage[0] += 1; return storage[0]
    let counter =
        hex::decode("60005460010180600055600052602060 00f3".replace(' ', "")).expect("valid hex");
    let spec = SpecId::Prague;
    let block = Block {
        gas_limit: 30_000_000,
        basefee: U256::from(7),
        blob_basefee: U256::from(1),
        max_blobs: 9,
        chain_id: 1,
    };

    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (engine, counter, block) = (engine.clone(), counter.clone(), block.clone());
            std::thread::spawn(move || {
                let mut state = State::new(spec, Env::default());
                state.insert_account(
                    SENDER,
                    Account {
                        balance: U256::from(10u64).pow(U256::from(18)),
                        ..Account::default()
                    },
                );
                state.insert_account(COUNTER, Account::with_code(Bytes::from(counter)));
                for nonce in 0..TXS {
                    let tx = Tx {
                        tx_type: 2,
                        caller: SENDER,
                        to: Some(COUNTER),
                        gas_limit: 100_000,
                        nonce,
                        max_fee_per_gas: U256::from(10),
                        max_priority_fee_per_gas: U256::from(1),
                        ..Tx::default()
                    };
                    let r = engine
                        .transact(&mut state, spec, &block, &tx)
                        .expect("valid transaction");
                    assert_eq!(U256::from_be_slice(&r.output), U256::from(nonce + 1));
                }
                println!("thread {t}: {TXS} transactions, counter = {TXS}");
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread finished");
    }

    // A single message frame with the code given by the caller (EVMC style). The host is any
    // `ferrite::runtime::Host`; here the in-memory state again.
    let mut host = State::new(spec, Env::default());
    host.begin_tx();
    let msg = Message {
        kind: MessageKind::Call(CallKind::Call),
        caller: SENDER,
        target: COUNTER,
        code_address: COUNTER,
        value: U256::ZERO,
        input: Bytes::new(),
        gas_limit: 100_000,
        is_static: false,
        depth: 0,
    };
    let r = engine.execute_code(&mut host, spec, msg, Bytes::from(counter));
    println!(
        "frame: {:?}, gas used {}, output {}",
        r.exit,
        r.gas.used(),
        U256::from_be_slice(&r.output)
    );

    println!("{}", engine.stats());
    println!("{}", engine.stats().to_json());
}
