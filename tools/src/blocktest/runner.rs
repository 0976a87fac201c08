//! Runs blockchain tests: imports each block the way a node does and compares the chain's end
//! with the fixture.
//!
//! Per test: the network becomes a [`Chain`]; the pre-state a [`World`]; every block is decoded
//! from its RLP (alloy's consensus types, senders recovered) before any run, so runs time
//! execution only. Then each block is imported on top of the chain's head:
//! 1. [`header::validate_header`] against the head, [`header::validate_body`];
//! 2. executed by alloy-evm's [`EthBlockExecutor`](alloy_evm::eth::EthBlockExecutor) (made by an
//!    [`EthBlockExecutorFactory`] over the runner's [`FerriteEvmFactory`]) on revm's `State` with
//!    bundle updates: EIP-2935/EIP-4788 system calls, the transactions on ferrite, receipts,
//!    withdrawals, EIP-6110/7002/7251 requests and pre-merge rewards all come from alloy-evm;
//! 3. [`header::validate_outcome`] (gas, receipts root, bloom, requests hash), the EIP-7002/7251
//!    request contracts' code (a rule alloy-evm 0.39 leaves out), the state root and the block
//!    hash.
//!
//! A block that passes becomes the head; a block that fails must be one the fixture expects to
//! be rejected (`expectException`), and the chain stays at its parent. At the end the head must be
//! `lastblockhash` and the state `postState` (or its root `postStateHash`).
//!
//! The chain is linear: every block must extend the current head (the execution-spec tests have
//! no side chains or reorganisations; a block that does not extend the head is rejected).
//!
//! Every run of a test repeats all the checks, so with `runs > 1` (benchmarks) a tier switch
//! between runs (`auto` compiles in the background) is checked too, not just timed.

use super::chain::{Chain, ChainError};
use super::fixture::{self, TestUnit};
use super::header;
use super::world::{self, World};
use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::{Block, Header, ReceiptEnvelope, TxEnvelope};
use alloy_eips::eip7002::WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS;
use alloy_eips::eip7251::CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS;
use alloy_evm::block::{BlockExecutionResult, BlockExecutor, BlockExecutorFactory};
use alloy_evm::eth::receipt_builder::AlloyReceiptBuilder;
use alloy_evm::eth::{EthBlockExecutionCtx, EthBlockExecutorFactory};
use alloy_evm::{EvmEnv, EvmFactory};
use alloy_hardforks::EthereumHardforks;
use alloy_primitives::{Address, B256, U256};
use alloy_rlp::Decodable;
use ferrite_evm::FerriteEvmFactory;
use revm::database::states::bundle_state::BundleRetention;
use revm::database::{BundleState, State};
use std::borrow::Cow;
use std::path::Path;
use std::time::{Duration, Instant};

/// The outcome of one blockchain test.
#[derive(Clone, Debug, Default)]
pub struct TestResult {
    /// Test name (the key in its file).
    pub name: String,
    /// The fixture file.
    pub file: String,
    /// The network, as written in the fixture.
    pub network: String,
    /// Orders networks in summaries (by their last fork; unknown last).
    pub order: u8,
    /// True when every block and the end state matched.
    pub pass: bool,
    /// Why the test failed.
    pub error: Option<String>,
    /// Set when the test was not run, with the reason.
    pub skipped: Option<String>,
    /// Blocks imported (valid).
    pub blocks: usize,
    /// Blocks rejected, as the fixture expected: the expected exception and why this runner
    /// rejected the block (first run).
    pub rejected: Vec<(String, String)>,
    /// Gas used by the imported blocks.
    pub gas: u64,
    /// Execution time of the test's blocks, per run.
    pub runs: Vec<Duration>,
}

impl TestResult {
    fn new(file: &str, name: &str, network: &str) -> TestResult {
        TestResult {
            name: name.into(),
            file: file.into(),
            network: network.into(),
            order: u8::MAX,
            ..TestResult::default()
        }
    }
}

/// Which tests a run takes.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only tests whose name contains a match of this pattern.
    pub name: Option<regex_lite::Regex>,
    /// Only tests of this network (case-insensitive).
    pub network: Option<String>,
}

impl Filter {
    fn takes(&self, name: &str, network: &str) -> bool {
        self.name.as_ref().is_none_or(|re| re.is_match(name))
            && self
                .network
                .as_ref()
                .is_none_or(|n| n.eq_ignore_ascii_case(network))
    }
}

/// A block decoded from its RLP, senders recovered.
struct Decoded {
    block: Block<TxEnvelope>,
    senders: Vec<Address>,
    hash: B256,
    rlp_len: usize,
}

fn decode(chain: &Chain, entry: &fixture::BlockEntry) -> Result<Decoded, String> {
    let bytes = entry.rlp_bytes()?;
    let mut buf = bytes.as_slice();
    let block = Block::<TxEnvelope>::decode(&mut buf).map_err(|e| format!("block RLP: {e}"))?;
    if !buf.is_empty() {
        return Err(format!("{} bytes after the block's RLP", buf.len()));
    }
    // EIP-2 (Homestead): signatures with a high s are invalid.
    let eip2 = chain.is_homestead_active_at_block(block.header.number);
    let senders = block
        .body
        .transactions
        .iter()
        .enumerate()
        .map(|(i, tx)| {
            let r = if eip2 {
                tx.recover_signer()
            } else {
                tx.recover_signer_unchecked()
            };
            r.map_err(|e| format!("transaction {i}: {e}"))
        })
        .collect::<Result<_, _>>()?;
    Ok(Decoded {
        hash: block.header.hash_slow(),
        block,
        senders,
        rlp_len: bytes.len(),
    })
}

type Factory = EthBlockExecutorFactory<AlloyReceiptBuilder, Chain, FerriteEvmFactory>;

/// A block that passed every check, ready to become the head.
struct Imported {
    bundle: BundleState,
    gas: u64,
    time: Duration,
}

/// Executes `block` on top of `db` with alloy-evm's Ethereum block executor.
fn execute(
    factory: &Factory,
    db: &World,
    block: &Decoded,
) -> Result<(BlockExecutionResult<ReceiptEnvelope>, BundleState), String> {
    let chain = factory.spec();
    let header = &block.block.header;
    let blob_params = chain.blob_params(header.timestamp);
    let mut env = EvmEnv::for_eth_block(header, chain, chain.chain_id, blob_params);
    env.cfg_env.blob_base_fee_update_fraction =
        blob_params.and_then(|p| u64::try_from(p.update_fraction).ok());
    let mut state = State::builder()
        .with_database_ref(db)
        .with_bundle_update()
        .build();
    let evm = factory.evm_factory().create_evm(&mut state, env);
    let body = &block.block.body;
    let ctx = EthBlockExecutionCtx {
        parent_hash: header.parent_hash,
        parent_beacon_block_root: header.parent_beacon_block_root,
        ommers: &body.ommers,
        withdrawals: body
            .withdrawals
            .as_ref()
            .map(|w| Cow::Borrowed(w.as_slice())),
        extra_data: header.extra_data.clone(),
        tx_count_hint: Some(body.transactions.len()),
        slot_number: None,
    };
    let mut executor = factory.create_executor(evm, ctx);
    executor
        .apply_pre_execution_changes()
        .map_err(|e| format!("pre-execution: {e}"))?;
    for (i, (tx, sender)) in body.transactions.iter().zip(&block.senders).enumerate() {
        executor
            .execute_transaction(alloy_consensus::transaction::Recovered::new_unchecked(
                tx, *sender,
            ))
            .map_err(|e| format!("transaction {i}: {e}"))?;
    }
    let (_, outcome) = executor
        .finish()
        .map_err(|e| format!("post-execution: {e}"))?;
    state.merge_transitions(BundleRetention::PlainState);
    Ok((outcome, state.take_bundle()))
}

/// Validates and executes `block` on the chain whose head is `parent`.
fn import(
    factory: &Factory,
    db: &World,
    parent: (&Header, B256),
    block: &Decoded,
) -> Result<Imported, String> {
    let chain = factory.spec();
    let header = &block.block.header;
    header::validate_header(chain, header, parent.0, parent.1)?;
    header::validate_body(chain, &block.block, block.rlp_len)?;
    let start = Instant::now();
    let (outcome, bundle) = execute(factory, db, block)?;
    let time = start.elapsed();
    header::validate_outcome(chain, header, &outcome)?;
    if chain.is_prague_active_at_timestamp(header.timestamp) {
        // EIP-7002 / EIP-7251: the end-of-block calls need code at the request contracts, or
        // the block is invalid. alloy-evm 0.39 checks only that the calls succeed (a call to an
        // account without code does), so the rule is checked here, on the state after the block
        // (the system calls run last and cannot remove code).
        for address in [
            WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS,
            CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS,
        ] {
            if !world::has_code(db, &bundle, &address) {
                return Err(format!("system contract {address} has no code"));
            }
        }
    }
    let root = world::post_state_root(db, &bundle);
    if root != header.state_root {
        return Err(format!("state root {root}, expected {}", header.state_root));
    }
    Ok(Imported {
        bundle,
        gas: outcome.gas_used,
        time,
    })
}

/// Runs blockchain tests, all on one [`FerriteEvmFactory`] (one engine for the whole run).
#[derive(Clone, Debug)]
pub struct Runner {
    evm: FerriteEvmFactory,
    /// Runs per test (1 unless benchmarking).
    pub runs: usize,
}

impl Runner {
    /// A runner executing on `evm`'s engine, `runs` times per test.
    pub fn new(evm: FerriteEvmFactory, runs: usize) -> Runner {
        Runner {
            evm,
            runs: runs.max(1),
        }
    }

    /// The EVM factory (its engine's statistics, its counters).
    pub fn evm(&self) -> &FerriteEvmFactory {
        &self.evm
    }

    /// Runs every selected test of one file; an unreadable file is one failed result.
    pub fn run_file(&self, path: &Path, filter: &Filter) -> Vec<TestResult> {
        let file = path.display().to_string();
        let units = match fixture::load_file(path) {
            Ok(u) => u,
            Err(e) => {
                let mut r = TestResult::new(&file, &file, "");
                r.error = Some(e);
                return vec![r];
            }
        };
        units
            .iter()
            .filter(|(name, unit)| filter.takes(name, &unit.network))
            .map(|(name, unit)| self.run_test(&file, name, unit))
            .collect()
    }

    /// Runs one test `self.runs` times.
    pub fn run_test(&self, file: &str, name: &str, unit: &TestUnit) -> TestResult {
        let mut result = TestResult::new(file, name, &unit.network);
        let chain = match Chain::new(&unit.network, unit.config.as_ref()) {
            Ok(c) => c,
            Err(ChainError::Unsupported(e)) => {
                result.skipped = Some(e);
                return result;
            }
            Err(ChainError::Malformed(e)) => {
                result.error = Some(e);
                return result;
            }
        };
        result.order = chain.last_fork as u8;
        let factory =
            EthBlockExecutorFactory::new(AlloyReceiptBuilder::default(), chain, self.evm.clone());
        match self.run_prepared(&factory, unit, &mut result) {
            Ok(()) => result.pass = true,
            Err(e) => result.error = Some(e),
        }
        result
    }

    fn run_prepared(
        &self,
        factory: &Factory,
        unit: &TestUnit,
        result: &mut TestResult,
    ) -> Result<(), String> {
        let chain = factory.spec();
        let genesis = Block::<TxEnvelope>::decode(&mut unit.genesis_rlp.as_slice())
            .map_err(|e| format!("genesis RLP: {e}"))?
            .header;
        let genesis_hash = genesis.hash_slow();
        let pre_root = world::state_root(&world::pre_state(&unit.pre));
        if pre_root != genesis.state_root {
            return Err(format!(
                "pre-state root {pre_root} is not the genesis state root {}",
                genesis.state_root
            ));
        }
        let blocks: Vec<_> = unit.blocks.iter().map(|b| decode(chain, b)).collect();
        let want_root = match (&unit.post_state, unit.post_state_hash) {
            (Some(s), _) => world::expected_root(s),
            (None, Some(h)) => h,
            (None, None) => return Err("no expected post-state".into()),
        };
        for run in 0..self.runs {
            let tag = if run == 0 {
                String::new()
            } else {
                format!("run {}: ", run + 1)
            };
            let mut db = world::pre_state(&unit.pre);
            db.cache
                .block_hashes
                .insert(U256::from(genesis.number), genesis_hash);
            let (mut head, mut head_hash) = (genesis.clone(), genesis_hash);
            let (mut gas, mut imported, mut time) = (0, 0, Duration::ZERO);
            let mut rejected = Vec::new();
            for (i, (entry, block)) in unit.blocks.iter().zip(&blocks).enumerate() {
                let outcome = block
                    .as_ref()
                    .map_err(Clone::clone)
                    .and_then(|b| import(factory, &db, (&head, head_hash), b).map(|o| (b, o)));
                match (outcome, &entry.expect_exception) {
                    (Ok((b, o)), None) => {
                        if let Some(h) = entry.block_header.map(|h| h.hash) {
                            if h != b.hash {
                                return Err(format!(
                                    "{tag}block {i}: hash {}, expected {h}",
                                    b.hash
                                ));
                            }
                        }
                        world::apply(&mut db, o.bundle);
                        db.cache
                            .block_hashes
                            .insert(U256::from(b.block.header.number), b.hash);
                        (head, head_hash) = (b.block.header.clone(), b.hash);
                        gas += o.gas;
                        time += o.time;
                        imported += 1;
                    }
                    (Ok(_), Some(x)) => {
                        return Err(format!("{tag}block {i}: accepted, expected {x}"));
                    }
                    (Err(e), None) => return Err(format!("{tag}block {i}: {e}")),
                    (Err(e), Some(x)) => rejected.push((x.clone(), format!("block {i}: {e}"))),
                }
            }
            (result.gas, result.blocks, result.rejected) = (gas, imported, rejected);
            result.runs.push(time);
            if head_hash != unit.lastblockhash {
                return Err(format!(
                    "{tag}last block {head_hash}, expected {}",
                    unit.lastblockhash
                ));
            }
            let root = world::state_root(&db);
            if root != want_root {
                let diff = unit
                    .post_state
                    .as_ref()
                    .map(|s| world::diff(&db, s, 4).join("; "))
                    .unwrap_or_default();
                return Err(format!(
                    "{tag}post-state root {root}, expected {want_root} {diff}"
                ));
            }
        }
        Ok(())
    }
}
