//! The threads of a removal: a shared descriptor budget, a queue of
//! subdirectories handed out by walkers, and the workers that empty them.
//!
//! Invariants:
//!
//! * **Threads only for large trees, only where there are CPUs.** Nothing
//!   here starts a thread until a walker has listed [`PARALLEL_THRESHOLD`]
//!   entries and meets a subdirectory to hand out while it keeps another;
//!   then `available_parallelism() - 1` workers (at most [`MAX_THREADS`] in
//!   all), none on a single CPU. An empty directory or a small tree costs no
//!   thread, no lock and no system call more than a sequential walk.
//! * **Safe after `fork` and before nothing.** Removal runs after the command
//!   ended, in rtmp or in the forked guardian. The guardian is a `fork` of a
//!   single-threaded rtmp, so it is an ordinary single-threaded process (no
//!   lock of a vanished thread can be held) and may start threads like any
//!   other. Every thread is a scoped one, joined before the removal returns,
//!   so rtmp (and the guardian, which then `_exit`s) is single-threaded again
//!   afterwards, and nothing forks while they run.
//! * **One descriptor budget for all threads** ([`Budget`]): the units a
//!   walker holds, plus those reserved by queued tasks, never exceed the
//!   budget of a sequential walk (`walk::descriptor_budget`). A task is handed
//!   out only if its reservation (`walk::MIN_OPEN_DIRS`) can be taken; otherwise
//!   the walker descends itself.
//! * **Every entry is attempted; an error never stops another thread.** Each
//!   walker records its first error (with its entry's path: a task carries
//!   the path of its subdirectory) and goes on; the removal returns the first
//!   error of the calling thread's walker, else the first one a task reported.
//! * **No deadlock.** A walker waits only for tasks it handed out itself,
//!   which are deeper in the tree; while it waits it runs queued tasks, and it
//!   takes back those no thread has started. A task is only created after the
//!   task that waits for it started, so waits cannot form a cycle.

use std::num::NonZero;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;

use super::RemoveError;
use super::walk::{Frame, Walker};

/// Entries a walker lists before the tree counts as large enough for
/// threads. Removing an entry costs about 3 µs on tmpfs and starting and
/// joining a thread about 0.1 ms, so past 1024 entries (about 3 ms of work)
/// a thread that finds nothing to do costs at most a few per cent, while on
/// the 20 000-file tree of `benches/compare.sh` only 5 % of the work is done
/// before the threads start (at 2048, 10 %).
pub(super) const PARALLEL_THRESHOLD: usize = 1024;

/// Most threads one removal uses, the calling one included.
pub(super) const MAX_THREADS: usize = 8;

#[cfg(test)]
thread_local! {
    /// Tasks handed out by walkers on this thread: the first one of a
    /// removal always comes from the calling thread, so a test sees whether
    /// its removal went parallel.
    pub(super) static HANDED_OUT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Set by [`force_parallel`]: 0, or the number of threads to use always.
static FORCED_THREADS: AtomicUsize = AtomicUsize::new(0);

/// Makes every later removal of this process go parallel at the first
/// subdirectory it can hand out, with `threads` threads whatever the CPUs,
/// and hand out work even when no thread is waiting for it (0: back to
/// normal). For tests only, so that the parallel path runs on small trees
/// and on one CPU: rtmp never calls it.
#[doc(hidden)]
pub fn force_parallel(threads: usize) {
    FORCED_THREADS.store(threads, Ordering::Relaxed);
}

/// How a removal may use threads.
#[derive(Clone, Copy, Debug)]
pub(super) struct Settings {
    /// Entries listed before threads start.
    pub(super) threshold: usize,
    /// Threads in all; `None`: `available_parallelism`.
    pub(super) threads: Option<usize>,
    /// Hand out subdirectories even when no thread waits for work.
    pub(super) eager: bool,
}

impl Settings {
    /// The settings rtmp uses (unless a test forced the parallel path).
    pub(super) fn current() -> Self {
        // Debug builds only: lets the integration tests, which run the rtmp
        // binary, repeat the `--exec` cleanup tests on the parallel path.
        #[cfg(debug_assertions)]
        if let Some(n) = std::env::var_os("RTMP_TEST_FORCE_PARALLEL_REMOVAL")
            .and_then(|v| v.to_str().and_then(|v| v.parse::<usize>().ok()))
        {
            return Self::forced(n);
        }
        match FORCED_THREADS.load(Ordering::Relaxed) {
            0 => Settings {
                threshold: PARALLEL_THRESHOLD,
                threads: None,
                eager: false,
            },
            n => Self::forced(n),
        }
    }

    /// Parallel from the first subdirectory on, with `threads` threads.
    pub(super) fn forced(threads: usize) -> Self {
        Settings {
            threshold: 0,
            threads: Some(threads),
            eager: true,
        }
    }

    /// Never parallel.
    #[cfg(test)]
    pub(super) fn sequential() -> Self {
        Settings {
            threshold: usize::MAX,
            threads: Some(1),
            eager: false,
        }
    }
}

/// Directory descriptors one removal may still open, shared by its threads.
pub(super) struct Budget {
    free: AtomicUsize,
    /// Units dropped after `EMFILE` (the process limit was lower than
    /// assumed): never given back.
    lost: AtomicUsize,
    /// The budget at the start, for the conservation check.
    initial: usize,
}

impl Budget {
    /// Takes `n` units if that many are free.
    pub(super) fn take(&self, n: usize) -> bool {
        self.free
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |free| {
                free.checked_sub(n)
            })
            .is_ok()
    }

    /// Takes every free unit; returns how many.
    pub(super) fn take_all(&self) -> usize {
        self.free.swap(0, Ordering::AcqRel)
    }

    pub(super) fn give(&self, n: usize) {
        self.free.fetch_add(n, Ordering::AcqRel);
    }

    /// Drops `n` units for good (see `lost`).
    pub(super) fn lose(&self, n: usize) {
        self.lost.fetch_add(n, Ordering::AcqRel);
    }

    /// Once every walker has finished: every unit is free again or lost, so
    /// no walker held more than it took. Checked in debug builds (all tests).
    pub(super) fn check_conserved(&self) {
        debug_assert_eq!(
            self.free.load(Ordering::Acquire) + self.lost.load(Ordering::Acquire),
            self.initial,
            "descriptor budget not conserved"
        );
    }
}

/// Index of a task in [`State::status`].
pub(super) type TaskId = usize;

/// A subdirectory handed out: open (its frame), with the budget units it
/// holds and its path relative to the removed path (for the error of its
/// walker). Its walker empties it; the walker that handed it out removes it.
pub(super) struct Task {
    pub(super) id: TaskId,
    pub(super) frame: Frame,
    pub(super) units: usize,
    pub(super) prefix: PathBuf,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Queued,
    Running,
    Finished,
}

/// What a walker waiting for its handed-out tasks does next.
pub(super) enum Claim {
    /// Task `ids[i]` was not started: it is the walker's own again.
    Adopted(usize, Task),
    /// Task `ids[i]` has finished: its directory should be empty.
    Finished(usize),
    /// None of them can be collected yet: run this queued task meanwhile.
    Help(Task),
}

struct State {
    /// Handed-out tasks not started, newest last (taken newest first: the
    /// deepest work, as a depth-first walk, keeps the open set small).
    queue: Vec<Task>,
    status: Vec<Status>,
    /// Threads waiting for work or for a task.
    hungry: usize,
    shutdown: bool,
}

/// What the threads of one removal share.
pub(super) struct Shared {
    pub(super) budget: Budget,
    settings: Settings,
    state: Mutex<State>,
    changed: Condvar,
    /// Copies of `State::hungry` and the queue length, read without the lock
    /// by walkers deciding whether to hand out work.
    hungry: AtomicUsize,
    queued: AtomicUsize,
    first_err: Mutex<Option<RemoveError>>,
}

impl Shared {
    pub(super) fn new(budget: usize, settings: Settings) -> Self {
        Shared {
            budget: Budget {
                free: AtomicUsize::new(budget),
                lost: AtomicUsize::new(0),
                initial: budget,
            },
            settings,
            state: Mutex::new(State {
                queue: Vec::new(),
                status: Vec::new(),
                hungry: 0,
                shutdown: false,
            }),
            changed: Condvar::new(),
            hungry: AtomicUsize::new(0),
            queued: AtomicUsize::new(0),
            first_err: Mutex::new(None),
        }
    }

    // A panic elsewhere cannot leave `State` inconsistent (every update is
    // complete before the lock is released), so a poisoned lock is used as is.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'g>(&self, mut st: MutexGuard<'g, State>) -> MutexGuard<'g, State> {
        st.hungry += 1;
        self.hungry.store(st.hungry, Ordering::Relaxed);
        let mut st = self
            .changed
            .wait(st)
            .unwrap_or_else(PoisonError::into_inner);
        st.hungry -= 1;
        self.hungry.store(st.hungry, Ordering::Relaxed);
        st
    }

    fn pop(&self, st: &mut State) -> Option<Task> {
        let task = st.queue.pop()?;
        st.status[task.id] = Status::Running;
        self.queued.store(st.queue.len(), Ordering::Relaxed);
        Some(task)
    }

    pub(super) fn threshold(&self) -> usize {
        self.settings.threshold
    }

    /// Whether this removal may use more than one thread at all.
    pub(super) fn parallel_allowed(&self) -> bool {
        self.settings.threads.is_none_or(|n| n > 1)
    }

    /// Whether a thread is (or will soon be) waiting for a task.
    pub(super) fn wants_work(&self) -> bool {
        self.settings.eager
            || self.hungry.load(Ordering::Relaxed) > self.queued.load(Ordering::Relaxed)
    }

    /// Queues `frame`, at `prefix` below the removed path, as a task holding
    /// `units` of the budget.
    pub(super) fn submit(&self, frame: Frame, units: usize, prefix: PathBuf) -> TaskId {
        let mut st = self.lock();
        let id = st.status.len();
        st.status.push(Status::Queued);
        st.queue.push(Task {
            id,
            frame,
            units,
            prefix,
        });
        self.queued.store(st.queue.len(), Ordering::Relaxed);
        drop(st);
        #[cfg(test)]
        HANDED_OUT.with(|n| n.set(n.get() + 1));
        self.changed.notify_all();
        id
    }

    /// For a walker waiting for its tasks `ids` (not empty): see [`Claim`].
    /// Blocks until one of the three is possible.
    pub(super) fn claim(&self, ids: &[TaskId]) -> Claim {
        let mut st = self.lock();
        loop {
            for (i, &id) in ids.iter().enumerate() {
                match st.status[id] {
                    Status::Finished => return Claim::Finished(i),
                    Status::Queued => {
                        if let Some(pos) = st.queue.iter().position(|t| t.id == id) {
                            let task = st.queue.remove(pos);
                            st.status[id] = Status::Running;
                            self.queued.store(st.queue.len(), Ordering::Relaxed);
                            return Claim::Adopted(i, task);
                        }
                    }
                    Status::Running => {}
                }
            }
            if let Some(task) = self.pop(&mut st) {
                return Claim::Help(task);
            }
            st = self.wait(st);
        }
    }

    fn finished(&self, id: TaskId) {
        self.lock().status[id] = Status::Finished;
        self.changed.notify_all();
    }

    /// Records an error of a task; the first one is kept.
    fn record(&self, err: RemoveError) {
        self.first_err
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert(err);
    }

    /// The removal's outcome: `own` (the calling thread's walk) if it failed,
    /// else the first error of a task.
    pub(super) fn outcome(&self, own: Result<(), RemoveError>) -> Result<(), RemoveError> {
        own?;
        let first = self
            .first_err
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        first.map_or(Ok(()), Err)
    }

    /// Lets the workers end once the queue is empty. Called when the calling
    /// thread's walk is over (also when it unwinds, so that the scope that
    /// joins the workers cannot hang).
    fn shut_down(&self) {
        self.lock().shutdown = true;
        self.changed.notify_all();
    }
}

/// Calls [`Shared::shut_down`] when dropped.
pub(super) struct ShutDownOnDrop<'a>(pub(super) &'a Shared);

impl Drop for ShutDownOnDrop<'_> {
    fn drop(&mut self) {
        self.0.shut_down();
    }
}

/// Starts the worker threads of a removal in `scope`: the CPUs available
/// (or the forced number), minus the calling thread. False if none started
/// (one CPU, or the threads could not be created: the walk stays sequential).
pub(super) fn start_workers<'scope, 'env>(
    shared: &'env Shared,
    scope: &'scope thread::Scope<'scope, 'env>,
) -> bool {
    let threads = shared
        .settings
        .threads
        .unwrap_or_else(|| thread::available_parallelism().map_or(1, NonZero::get))
        .min(MAX_THREADS);
    let mut started = false;
    for _ in 1..threads {
        // Builder::spawn_scoped reports a failure; Scope::spawn would panic.
        match thread::Builder::new().spawn_scoped(scope, move || worker(shared)) {
            Ok(_) => started = true,
            Err(_) => break,
        }
    }
    started
}

/// A worker: runs queued tasks until the removal is over.
fn worker(shared: &Shared) {
    loop {
        let mut st = shared.lock();
        let task = loop {
            if let Some(task) = shared.pop(&mut st) {
                break task;
            }
            if st.shutdown {
                return;
            }
            st = shared.wait(st);
        };
        drop(st);
        run_task(shared, task);
    }
}

/// Empties the directory of `task` with a walker of its own, then marks it
/// finished (also if the walk panics, so that nobody waits forever).
pub(super) fn run_task(shared: &Shared, task: Task) {
    struct Finish<'a>(&'a Shared, TaskId);
    impl Drop for Finish<'_> {
        fn drop(&mut self) {
            self.0.finished(self.1);
        }
    }
    let _finish = Finish(shared, task.id);
    let mut walker = Walker::for_task(task, shared);
    walker.remove_contents();
    if let Err(e) = walker.finish() {
        shared.record(e);
    }
}
