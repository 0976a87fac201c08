//! Background compilation: a bounded job queue (mutex + condition variables) drained by worker
//! threads.
//!
//! A call that makes a contract hot only pushes a job and goes on interpreting; it never waits
//! for the compiler, and it does not wake one either: idle workers poll the queue (every
//! [`POLL_MIN`], backing off to [`POLL_MAX`] while nothing arrives). Waking a sleeping thread
//! costs the waker a futex syscall and, on a VM whose other vCPU is halted, an inter-processor
//! interrupt through the hypervisor: measured here at ~17 µs on the triggering call, three times
//! the cost of a whole small call (`examples`-style probe of swap_math: 26.6 µs vs 7.6 µs; with
//! polling 8.6 µs). The price is a compile starting up to [`POLL_MAX`] later and an idle worker
//! waking 20 times a second. Threads that block anyway (`wait_idle`, shutdown) do wake workers. The workers run below executing threads by default
//! ([`CompilerPriority::Low`]): a waking compiler never preempts a call, and where compiles and
//! calls share a core, calls get most of it. Each entry is queued at most
//! once at a time (the entry's `claimed` flag), so duplicate requests for one hash coalesce. A
//! full queue refuses the job and the entry becomes eligible again on its next call. Dropping the
//! engine sets `shutdown`; workers finish the compile in hand, drop the rest of the queue and
//! exit, and the engine joins them.

use super::cache::{Entry, Key};
use super::{CompilerPriority, Shared};
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, TryLockError};
use std::thread::JoinHandle;
use std::time::Duration;

/// Poll interval of a worker that has just finished a job.
pub(crate) const POLL_MIN: Duration = Duration::from_millis(1);
/// Longest poll interval of an idle worker.
pub(crate) const POLL_MAX: Duration = Duration::from_millis(50);

/// A compile request.
pub(crate) struct Job {
    pub(crate) key: Key,
    pub(crate) entry: Arc<Entry>,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    running: usize,
    shutdown: bool,
}

/// The job queue shared by the callers and the workers.
pub(crate) struct Queue {
    state: Mutex<State>,
    /// Signalled by threads that block on the queue's progress and on shutdown (not by
    /// [`push`](Queue::push): workers poll).
    work: Condvar,
    /// Signalled when a compile result is installed or a job finishes.
    done: Condvar,
    capacity: usize,
}

impl Queue {
    pub(crate) fn new(capacity: usize) -> Queue {
        Queue {
            state: Mutex::default(),
            work: Condvar::new(),
            done: Condvar::new(),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The queue's state is updated in single steps; a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `job`; false when the queue is full, shutting down, or its lock is held (the job
    /// is dropped and the caller asks again on a later call). Never blocks: a worker holding the
    /// lock may be descheduled — it runs at a lower priority — and a call must not wait for it.
    pub(crate) fn push(&self, job: Job) -> bool {
        // A running holder releases the lock within nanoseconds: spin briefly (about a
        // microsecond at most) before giving up on a holder that is not running.
        let mut s = None;
        for _ in 0..128 {
            match self.state.try_lock() {
                Ok(g) => s = Some(g),
                Err(TryLockError::Poisoned(e)) => s = Some(e.into_inner()),
                Err(TryLockError::WouldBlock) => std::hint::spin_loop(),
            }
            if s.is_some() {
                break;
            }
        }
        let Some(mut s) = s else {
            return false;
        };
        if s.shutdown || s.jobs.len() >= self.capacity {
            return false;
        }
        s.jobs.push_back(job);
        true
    }

    /// The next job, polling for one; `None` on shutdown. The job counts as running until
    /// [`finished`](Self::finished).
    fn pop(&self) -> Option<Job> {
        let mut s = self.lock();
        let mut interval = POLL_MIN;
        loop {
            if s.shutdown {
                return None;
            }
            if let Some(j) = s.jobs.pop_front() {
                s.running += 1;
                return Some(j);
            }
            s = self
                .work
                .wait_timeout(s, interval)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            interval = (interval * 2).min(POLL_MAX);
        }
    }

    fn finished(&self) {
        let mut s = self.lock();
        s.running -= 1;
        drop(s);
        self.done.notify_all();
    }

    /// Wakes threads waiting for a compile result (called after a result is installed).
    pub(crate) fn notify_installed(&self) {
        // Taking the lock orders this after a waiter's check, so no wake-up is lost.
        drop(self.lock());
        self.done.notify_all();
    }

    /// Blocks until `ready()` holds; `ready` must become true only before a
    /// [`notify_installed`](Self::notify_installed).
    pub(crate) fn wait_until(&self, ready: impl Fn() -> bool) {
        let mut s = self.lock();
        self.work.notify_all();
        while !ready() {
            s = self.done.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Blocks until no job is queued or running.
    pub(crate) fn wait_idle(&self) {
        let mut s = self.lock();
        // Blocking anyway: wake polling workers rather than wait for their next poll.
        self.work.notify_all();
        while !s.shutdown && (!s.jobs.is_empty() || s.running > 0) {
            s = self.done.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Jobs queued or running.
    pub(crate) fn pending(&self) -> usize {
        let s = self.lock();
        s.jobs.len() + s.running
    }

    /// Stops the workers: they exit after the compile in hand; queued jobs are dropped.
    pub(crate) fn shutdown(&self) {
        let mut s = self.lock();
        s.shutdown = true;
        s.jobs.clear();
        drop(s);
        self.work.notify_all();
        self.done.notify_all();
    }
}

/// Starts `n` worker threads compiling jobs from `shared.queue` at `priority`.
pub(crate) fn spawn(
    shared: &Arc<Shared>,
    n: usize,
    priority: CompilerPriority,
) -> std::io::Result<Vec<JoinHandle<()>>> {
    (0..n)
        .map(|i| {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name(format!("ferrite-jit-{i}"))
                .spawn(move || {
                    set_priority(priority);
                    while let Some(job) = shared.queue.pop() {
                        shared.compile_and_install(&job.key, &job.entry);
                        drop(job);
                        shared.queue.finished();
                    }
                })
        })
        .collect()
}

/// Sets the calling thread's scheduling priority (see [`CompilerPriority`]). Best effort: where
/// the OS refuses, the thread keeps its priority.
fn set_priority(priority: CompilerPriority) {
    use thread_priority::ThreadPriority;
    if priority == CompilerPriority::Normal {
        return;
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use thread_priority::{
            NormalThreadSchedulePolicy, ThreadPriorityValue, ThreadSchedulePolicy,
        };
        let (policy, value) = match priority {
            // 22 on the crate's 0..=99 scale is nice 10.
            CompilerPriority::Low => (
                NormalThreadSchedulePolicy::Batch,
                ThreadPriorityValue::try_from(22u8),
            ),
            _ => (
                NormalThreadSchedulePolicy::Idle,
                ThreadPriorityValue::try_from(0u8),
            ),
        };
        if let Ok(v) = value {
            let id = thread_priority::thread_native_id();
            let policy = ThreadSchedulePolicy::Normal(policy);
            let p = ThreadPriority::Crossplatform(v);
            if thread_priority::set_thread_priority_and_policy(id, p, policy).is_ok() {
                return;
            }
        }
    }
    let _ = thread_priority::set_current_thread_priority(ThreadPriority::Min);
}
