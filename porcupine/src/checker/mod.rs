//! Entry points of the checker and the scheduling of partitions over worker threads.
//!
//! Partitions are searched in slices of a few thousand steps, round-robin over a small
//! pool of threads, so every partition makes progress (an expensive partition cannot
//! starve a cheap illegal one). A shared [`CancelToken`] stops every search on timeout
//! and, in non-verbose mode, as soon as one partition is illegal.

mod cache;
mod linearized;
mod memo;
mod partials;
mod search;

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::info::{LinearizationInfo, PartitionInfo, PartitionVerdict};
use crate::model::{CancelToken, Model};
use crate::operation::{
    Event, EventError, Operation, events_to_operations, events_to_operations_with_metadata,
};
use cache::Memory;
use search::{Search, Status};

/// The verdict of a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum CheckResult {
    /// The history is linearizable.
    Ok,
    /// The history is not linearizable (takes precedence over a timeout).
    Illegal,
    /// The check timed out (or ran out of its memory budget) before deciding.
    Unknown,
}

/// The default [`CheckOptions::memory_limit`]: 1.5 GiB.
pub const DEFAULT_MEMORY_LIMIT: usize = 3 << 29;

/// Loop iterations a partition runs before yielding its worker to the next partition.
const SLICE: u64 = 4096;

/// States plus cache entries above which a finished check frees its memory on a helper
/// thread.
const BACKGROUND_FREE_WEIGHT: usize = 100_000;

/// Tuning for [`check`]; `CheckOptions::default()` is what the plain entry points use.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Give up (result [`CheckResult::Unknown`]) after this long; `None` = no limit.
    pub timeout: Option<Duration>,
    /// Compute partial linearizations and run every partition to the end (or timeout)
    /// instead of stopping at the first illegal one.
    pub verbose: bool,
    /// Bytes the searches of all partitions may reserve together (default
    /// [`DEFAULT_MEMORY_LIMIT`]). Vectors are charged for their whole capacity when they
    /// grow, so the resident memory usually stays well below it. A partition whose search
    /// needs more gives up undecided, so the result is then [`CheckResult::Unknown`]
    /// unless another partition is illegal.
    pub memory_limit: usize,
    /// Worker threads (default: the machine's parallelism, at most one per partition).
    pub workers: Option<usize>,
}

impl Default for CheckOptions {
    fn default() -> CheckOptions {
        CheckOptions {
            timeout: None,
            verbose: false,
            memory_limit: DEFAULT_MEMORY_LIMIT,
            workers: None,
        }
    }
}

/// Everything [`check`] found.
#[derive(Debug)]
pub struct CheckOutcome<I, O> {
    /// The verdict.
    pub result: CheckResult,
    /// Model step calls made over all partitions. Results are remembered per (state,
    /// operation), so this counts distinct pairs, not the search's work.
    pub steps: u64,
    /// Candidate operations the search tried over all partitions (each try either calls
    /// the model or reuses a remembered result): the search's work, comparable with the
    /// Go original's step count, which calls the model on every try.
    pub attempts: u64,
    /// Per-partition verdicts and partial linearizations (verbose mode only).
    pub info: Option<LinearizationInfo<I, O>>,
}

/// Checks a history of operations; `timeout: None` means no limit.
pub fn check_operations<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    timeout: Option<Duration>,
) -> CheckResult {
    let options = CheckOptions {
        timeout,
        ..CheckOptions::default()
    };
    run(model, history, &options).0
}

/// Like [`check_operations`] but also computes, per partition, the longest partial
/// linearizations (for [`crate::visualize`]). Runs every partition to its end or the
/// timeout, so give it a timeout on histories that may be hard.
pub fn check_operations_verbose<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    timeout: Option<Duration>,
) -> (CheckResult, LinearizationInfo<M::Input, M::Output>)
where
    M::Input: Clone,
    M::Output: Clone,
{
    let options = CheckOptions {
        timeout,
        verbose: true,
        ..CheckOptions::default()
    };
    let outcome = check(model, history, &options);
    (
        outcome.result,
        outcome.info.expect("verbose checks produce info"),
    )
}

/// Checks an event history (list order = time order). A call with no return is an
/// operation that never returned, stepped with [`Model::unknown_output`].
pub fn check_events<M: Model>(
    model: &M,
    events: Vec<Event<M::Input, M::Output>>,
    timeout: Option<Duration>,
) -> Result<CheckResult, EventError> {
    let history = events_to_operations(events, |input| model.unknown_output(input))?;
    Ok(check_operations(model, &history, timeout))
}

/// A verdict with its linearization info.
type Verbose<M> = (
    CheckResult,
    LinearizationInfo<<M as Model>::Input, <M as Model>::Output>,
);

/// Verbose variant of [`check_events`].
pub fn check_events_verbose<M: Model>(
    model: &M,
    events: Vec<Event<M::Input, M::Output>>,
    timeout: Option<Duration>,
) -> Result<Verbose<M>, EventError>
where
    M::Input: Clone,
    M::Output: Clone,
{
    let (history, metadata) =
        events_to_operations_with_metadata(events, |input| model.unknown_output(input))?;
    let (result, mut info) = check_operations_verbose(model, &history, timeout);
    info.set_metadata(metadata);
    Ok((result, info))
}

/// The general entry point: any options, with the step count and (verbose) the info.
pub fn check<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    options: &CheckOptions,
) -> CheckOutcome<M::Input, M::Output>
where
    M::Input: Clone,
    M::Output: Clone,
{
    let (result, Counts { steps, attempts }, partitions) = run(model, history, options);
    let info = options.verbose.then(|| LinearizationInfo {
        history: history.to_vec(),
        partitions,
        metadata: Vec::new(),
    });
    CheckOutcome {
        result,
        steps,
        attempts,
        info,
    }
}

/// Splits, searches and combines; partition infos are only filled in verbose mode.
fn run<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    options: &CheckOptions,
) -> (CheckResult, Counts, Vec<PartitionInfo>) {
    if history.is_empty() {
        return (CheckResult::Ok, Counts::default(), Vec::new());
    }
    let parts = model.partition(history);
    validate_partition(&parts, history.len());
    let searches: Vec<Mutex<Search<'_, M>>> = parts
        .iter()
        .map(|indices| Mutex::new(Search::new(model, history, indices, options.verbose)))
        .collect();
    let cancel = CancelToken::new();
    let memory = Memory::new(options.memory_limit.max(8));
    let parallelism = options.workers.unwrap_or_else(machine_parallelism).max(1);
    let workers = parallelism.min(parts.len()).max(1);
    let pool = Pool {
        searches: &searches,
        queue: Mutex::new((0..parts.len()).collect()),
        cancel: &cancel,
        memory: &memory,
        verbose: options.verbose,
        slice: if workers == 1 && parts.len() == 1 {
            u64::MAX
        } else {
            SLICE
        },
    };
    match options.timeout {
        None if workers == 1 => pool.work(),
        None => std::thread::scope(|scope| {
            for _ in 1..workers {
                scope.spawn(|| pool.work());
            }
            pool.work();
        }),
        Some(timeout) => {
            let deadline = Instant::now() + timeout;
            std::thread::scope(|scope| {
                let (alive_tx, alive_rx) = mpsc::channel::<()>();
                for _ in 0..workers {
                    let alive = alive_tx.clone();
                    let pool = &pool;
                    scope.spawn(move || {
                        pool.work();
                        drop(alive);
                    });
                }
                drop(alive_tx);
                // Workers never send; the channel disconnects when the last one exits.
                let left = deadline.saturating_duration_since(Instant::now());
                if let Err(mpsc::RecvTimeoutError::Timeout) = alive_rx.recv_timeout(left) {
                    cancel.cancel();
                }
            });
        }
    }
    combine(searches, &parts, options.verbose)
}

/// The machine's parallelism, asked once: the query reads cgroup files, which costs more
/// than checking a small history.
fn machine_parallelism() -> usize {
    static PARALLELISM: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *PARALLELISM.get_or_init(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
}

/// Panics with a clear message if the model's partition does not cover every operation
/// exactly once: that is a bug in the model, not in the history.
fn validate_partition(parts: &[Vec<usize>], len: usize) {
    let mut seen = vec![false; len];
    for index in parts.iter().flatten().copied() {
        assert!(
            index < len,
            "Model::partition returned index {index} for a history of {len} operations"
        );
        assert!(
            !seen[index],
            "Model::partition put operation {index} in two partitions"
        );
        seen[index] = true;
    }
    if let Some(missing) = seen.iter().position(|&present| !present) {
        panic!("Model::partition left operation {missing} out of every partition");
    }
}

struct Pool<'p, 'a, M: Model> {
    searches: &'p [Mutex<Search<'a, M>>],
    queue: Mutex<VecDeque<usize>>,
    cancel: &'p CancelToken,
    memory: &'p Memory,
    verbose: bool,
    slice: u64,
}

impl<M: Model> Pool<'_, '_, M> {
    /// Runs slices of queued partitions until the queue is empty or the check is cancelled.
    fn work(&self) {
        loop {
            let Some(index) = lock(&self.queue).pop_front() else {
                return;
            };
            let status = lock(&self.searches[index]).run(self.slice, self.cancel, self.memory);
            match status {
                Status::Running => lock(&self.queue).push_back(index),
                Status::Illegal if !self.verbose => self.cancel.cancel(),
                _ => {}
            }
            if self.cancel.is_cancelled() {
                return;
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Work done by a check.
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    steps: u64,
    attempts: u64,
}

fn combine<M: Model>(
    searches: Vec<Mutex<Search<'_, M>>>,
    parts: &[Vec<usize>],
    verbose: bool,
) -> (CheckResult, Counts, Vec<PartitionInfo>) {
    let mut illegal = false;
    let mut all_done = true;
    let mut counts = Counts::default();
    let mut infos = Vec::new();
    let mut leftovers = Vec::new();
    for (search, indices) in searches.into_iter().zip(parts) {
        let search = search
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        counts.steps += search.steps;
        counts.attempts += search.attempts;
        let verdict = match search.status {
            Status::Illegal => {
                illegal = true;
                PartitionVerdict::Illegal
            }
            Status::Linearizable => PartitionVerdict::Linearizable,
            Status::Running | Status::Cancelled | Status::OutOfMemory => {
                all_done = false;
                PartitionVerdict::Unknown
            }
        };
        let (found, leftover) = search.finish();
        leftovers.push(leftover);
        if verbose {
            let found = found.expect("verbose search");
            let largest = found.largest;
            infos.push(PartitionInfo {
                operations: indices.clone(),
                partial_linearizations: found
                    .sequences
                    .into_iter()
                    .map(|sequence| {
                        sequence
                            .into_iter()
                            .map(|op| indices[op as usize])
                            .collect()
                    })
                    .collect(),
                largest,
                verdict,
            });
        }
    }
    if leftovers
        .iter()
        .map(|leftover| leftover.weight)
        .sum::<usize>()
        > BACKGROUND_FREE_WEIGHT
    {
        // Freeing millions of states can take longer than the search: let the caller have
        // its verdict meanwhile. If no thread can be made, the closure and with it the
        // memory is dropped right here.
        let _ = std::thread::Builder::new()
            .name("porcupine-free".into())
            .spawn(move || drop(leftovers));
    }
    let result = if illegal {
        CheckResult::Illegal
    } else if all_done {
        CheckResult::Ok
    } else {
        CheckResult::Unknown
    };
    (result, counts, infos)
}
