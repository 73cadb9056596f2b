//! The descriptor-budgeted walker that empties a directory tree, and the
//! directory opens it shares with the top-level removal.
//!
//! Invariants (the module doc of [`crate::cleanup`] gives the why): entered
//! only by descriptor relative to an open parent, never following a symlink;
//! a re-opened directory must have the `(st_dev, st_ino)` recorded at its
//! first open; mount points are not entered; owner `rwx` is added only to
//! directories inside the tree, once each; the descriptors held by all the
//! walkers of one removal together stay within one
//! [`Budget`](super::parallel::Budget) of at most
//! [`MAX_OPEN_DIRS`] (fewer under a low `RLIMIT_NOFILE`); every retry loop is
//! bounded ([`MAX_PASSES`], [`MAX_TYPE_CHANGES`]).
//!
//! A directory is listed once; when everything listed is handled it is
//! removed with `unlinkat(AT_REMOVEDIR)` from its parent, and listed again
//! only if that fails with `ENOTEMPTY` (entries created meanwhile, or missed
//! by the listing), at most [`MAX_PASSES`] times in all.
//!
//! With a parallel context (`super::parallel`), a walker may hand a
//! subdirectory to another thread instead of descending into it itself (the
//! biggest piece at hand: one waiting in its shallowest open frame): it opens
//! it exactly as it would to descend (same checks), queues the open
//! descriptor as a task, and before it removes the parent it takes back the
//! tasks no thread started and waits for the others (running queued tasks
//! meanwhile).
//!
//! The first error a walker meets is kept with the path of its entry
//! relative to the removed path: the walker's `prefix` (the path of its frame
//! 0: empty for the top, the handed-out subdirectory's for a task) joined
//! with the names of the frames down to the entry. It is built only then, so
//! a walk that meets no error builds no path.

use std::collections::BTreeSet;
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::libc::{dev_t, ino_t};
use nix::sys::stat::{self, FileStat};
use nix::unistd::{self, UnlinkatFlags, Whence};

use super::parallel::{Claim, Shared, Task, TaskId};
use super::{RemoveError, changed_error, component, is_dir};
use crate::sys::fs::{
    DT_DIR, DT_UNKNOWN, DirAccess, chmod_by_descriptor, dir_entries, open_dir_nofollow,
    read_dir_chunk,
};

/// Upper bound on directory descriptors held open at once by one removal.
///
/// Well under the common soft `RLIMIT_NOFILE` of 1024 (and under 256), so the
/// removal works however deep the tree is and leaves room for the caller.
/// With a lower limit the walk holds at most a quarter of it (see
/// `descriptor_budget`).
pub const MAX_OPEN_DIRS: usize = 64;

/// The fewest directory descriptors a walker works with: the top, the one
/// being emptied, and one to descend. Also what a task handed to another
/// thread reserves from the [`Budget`](super::parallel::Budget) (its own descriptor included).
pub(super) const MIN_OPEN_DIRS: usize = 3;

/// Bytes read per `getdents64` (as glibc's `readdir`).
const LISTING_BUFFER: usize = 32 * 1024;

/// How often a directory is re-listed before giving up on it. Two passes are
/// enough unless something keeps creating entries while we delete; the cap
/// makes sure such a writer cannot keep us looping forever.
const MAX_PASSES: u32 = 8;

/// How often an entry may change type under us (file <-> directory) before
/// we give up on it; bounds the retry loops against a racing writer.
pub(super) const MAX_TYPE_CHANGES: usize = 4;

/// Opens directory `name` in `parent` for listing, never following a symlink
/// and never crossing a mount point.
///
/// If that fails for lack of permission, it works out whose permission is
/// missing and adds owner rwx to that directory once: the child's via an
/// `O_PATH` descriptor (which needs no permission on the child itself), or the
/// parent's if `may_fix_parent` (then cleared) allows it.
pub(super) fn open_dir(
    parent: BorrowedFd<'_>,
    name: &CStr,
    may_fix_parent: &mut bool,
) -> nix::Result<OwnedFd> {
    let mut may_fix_child = true;
    loop {
        let err = match open_dir_nofollow(parent, name, DirAccess::List) {
            Ok(fd) => return Ok(fd),
            Err(e @ (Errno::EACCES | Errno::EPERM)) => e,
            Err(e) => return Err(e),
        };
        // An O_PATH open needs search permission on the parent only, so its
        // outcome tells us which of the two directories is locked.
        let fixed = match open_dir_nofollow(parent, name, DirAccess::Anchor) {
            Ok(child) if may_fix_child => {
                may_fix_child = false;
                add_owner_rwx(child.as_fd())
            }
            Err(Errno::EACCES | Errno::EPERM) if *may_fix_parent => {
                *may_fix_parent = false;
                add_owner_rwx(parent)
            }
            Ok(_) | Err(Errno::EACCES | Errno::EPERM) => return Err(err),
            Err(e) => return Err(e),
        };
        if fixed != Ok(true) {
            return Err(err);
        }
    }
}

/// ORs owner rwx into the mode of the directory open as `fd` (which may be an
/// `O_PATH` descriptor). `Ok(false)`: nothing to change, so retrying is pointless.
fn add_owner_rwx(fd: BorrowedFd<'_>) -> nix::Result<bool> {
    let st = stat::fstat(fd)?;
    let mode = st.st_mode & 0o7777;
    if !is_dir(&st) || mode & 0o700 == 0o700 {
        return Ok(false);
    }
    chmod_by_descriptor(fd, mode | 0o700)?;
    Ok(true)
}

/// What a directory entry is believed to be, from `d_type` or `fstatat`.
#[derive(Clone, Copy, Debug)]
enum EntryType {
    Dir,
    /// A directory that a task of another thread already had: handled here,
    /// never handed out again, so a directory that cannot be removed is not
    /// passed back and forth.
    DirHere,
    NotDir,
    Unknown,
}

/// One directory on the walk's stack (or, as frame 0, the root of a task).
pub(super) struct Frame {
    /// Name in the parent frame's directory.
    name: CString,
    /// Identity recorded when first opened; a re-open must find the same.
    id: (dev_t, ino_t),
    /// Open handle, or `None` while dropped to respect the budget.
    dir: Option<OwnedFd>,
    /// Whether `dir` was read to its end (a new listing must seek back).
    read: bool,
    /// Entries from the latest listing not handled yet, but for the
    /// directories reported by `d_type` (in `subdirs`).
    pending: Vec<(CString, EntryType)>,
    /// Subdirectories from the latest listing not handled yet: handled after
    /// `pending`, and the ones that may be handed to another thread.
    subdirs: Vec<CString>,
    /// Entries that could not be removed; not retried (their error is
    /// already recorded), so the walk terminates. A `BTreeSet`: no hasher to
    /// seed from the OS on every removal.
    skip: BTreeSet<CString>,
    /// Listings started so far.
    passes: u32,
    /// Whether the current pass listed the directory already.
    listed: bool,
    /// Whether adding owner rwx to this directory may still be tried. Only
    /// once: if that did not help, a second time will not either.
    may_fix: bool,
    /// Subdirectories handed to other threads and not yet accounted for.
    handed_out: Vec<(TaskId, CString)>,
}

impl Frame {
    pub(super) fn new(name: CString, st: &FileStat, dir: OwnedFd) -> Self {
        Frame {
            name,
            id: (st.st_dev, st.st_ino),
            dir: Some(dir),
            read: false,
            pending: Vec::new(),
            subdirs: Vec::new(),
            skip: BTreeSet::new(),
            passes: 0,
            listed: false,
            may_fix: true,
            handed_out: Vec::new(),
        }
    }
}

/// How many directory descriptors one removal may hold: [`MAX_OPEN_DIRS`], or a
/// quarter of the soft `RLIMIT_NOFILE` when that is lower (the caller and the
/// child's inherited descriptors need the rest), but at least
/// [`MIN_OPEN_DIRS`].
pub(super) fn descriptor_budget() -> usize {
    use nix::sys::resource::{Resource, getrlimit};
    let soft = getrlimit(Resource::RLIMIT_NOFILE).map_or(u64::MAX, |(soft, _)| soft);
    let quarter = usize::try_from(soft / 4).unwrap_or(usize::MAX);
    quarter.clamp(MIN_OPEN_DIRS, MAX_OPEN_DIRS)
}

/// Depth-first removal of the contents of one directory tree.
///
/// Frame 0 (the top) is always open. Beyond that, the deepest `window`
/// frames and "anchor" frames at depths that are multiples of `stride` are
/// kept open; all others are closed. Re-opening a closed frame walks down at
/// most about `stride + window` levels from the nearest open ancestor, and
/// `stride` doubles whenever the anchors would exceed `cap`, so deep trees
/// cost O(depth²/cap) opens instead of O(depth²).
///
/// `cap` is the number of descriptors this walker holds from the removal's
/// shared [`Budget`](super::parallel::Budget). Alone, a walker takes the whole
/// budget at the start and keeps it. Once other threads work on the tree
/// (`pooled`), it takes one more unit when it needs it and there is one, thins
/// out its anchors when there is none, and gives back what it does not use
/// whenever it removes a directory, so the walkers of all threads together
/// never hold more than the budget.
pub(super) struct Walker<'a> {
    frames: Vec<Frame>,
    /// Number of frames whose `dir` is `Some`.
    open: usize,
    stride: usize,
    /// Descriptors this walker may hold (units taken from the budget).
    cap: usize,
    /// The deepest directories kept open, so that ascending is cheap; a
    /// quarter of `cap`.
    window: usize,
    /// Path of frame 0 relative to the removed path (empty for the top).
    prefix: PathBuf,
    first_err: Option<RemoveError>,
    shared: &'a Shared,
    /// Starts the other threads (the walker of the calling thread only, and
    /// only until it was called once); `None` for a sequential walk.
    start_threads: Option<&'a dyn Fn() -> bool>,
    /// Whether other threads may work on the tree (the budget is shared).
    pooled: bool,
    /// Entries listed so far: the tree "proves large" past the threshold.
    seen: usize,
    /// No frame below this one has subdirectories to hand out (see `donor`).
    donor_hint: usize,
    buf: Vec<u8>,
}

impl<'a> Walker<'a> {
    /// A walker that starts with the whole budget of `shared` (the calling
    /// thread's); `start_threads` lets it go parallel once the tree proves
    /// large.
    pub(super) fn new(
        top: Frame,
        shared: &'a Shared,
        start_threads: Option<&'a dyn Fn() -> bool>,
    ) -> Self {
        let cap = shared.budget.take_all().max(1);
        Self::with_cap(top, PathBuf::new(), shared, cap, start_threads, false)
    }

    /// The walker of a task run by another thread: it holds the units the
    /// task reserved and draws more from the shared budget.
    pub(super) fn for_task(task: Task, shared: &'a Shared) -> Self {
        Self::with_cap(task.frame, task.prefix, shared, task.units, None, true)
    }

    fn with_cap(
        top: Frame,
        prefix: PathBuf,
        shared: &'a Shared,
        cap: usize,
        start_threads: Option<&'a dyn Fn() -> bool>,
        pooled: bool,
    ) -> Self {
        Walker {
            frames: vec![top],
            open: 1,
            stride: 1,
            cap,
            window: (cap / 4).max(1),
            prefix,
            first_err: None,
            shared,
            start_threads,
            pooled,
            seen: 0,
            donor_hint: 0,
            buf: Vec::new(),
        }
    }

    /// After `EMFILE`/`ENFILE`: hold half as many descriptors (the units are
    /// not given back: the process limit is lower than the budget assumed).
    /// False when the walk already holds the minimum, so retrying cannot help.
    fn shrink(&mut self) -> bool {
        if self.cap <= MIN_OPEN_DIRS {
            return false;
        }
        let cap = (self.open / 2).max(MIN_OPEN_DIRS).min(self.cap - 1);
        self.shared.budget.lose(self.cap - cap);
        self.cap = cap;
        self.window = (self.cap / 4).max(1);
        self.enforce_cap();
        true
    }

    /// Shared budget: gives back the units beyond what is open (and the
    /// minimum), so that other threads' walkers can use them.
    fn give_back_spare(&mut self) {
        if !self.pooled {
            return;
        }
        let keep = self.open.max(MIN_OPEN_DIRS);
        if self.cap > keep {
            self.shared.budget.give(self.cap - keep);
            self.cap = keep;
            self.window = (self.cap / 4).max(1);
        }
    }

    /// Records `err` about entry `name` of frame `idx`, or about the
    /// directory of frame `idx` itself (`None`), if it is the walk's first.
    pub(super) fn record(&mut self, idx: usize, name: Option<&CStr>, err: io::Error) {
        if self.first_err.is_none() {
            let entry = self.entry_path(idx, name);
            self.first_err = Some(RemoveError { entry, error: err });
        }
    }

    /// The path, relative to the removed path, of entry `name` of frame `idx`
    /// (of the frame's directory for `None`). Frame 0's own name is not in
    /// it: `prefix` stands for it.
    pub(super) fn entry_path(&self, idx: usize, name: Option<&CStr>) -> PathBuf {
        let mut path = self.prefix.clone();
        for frame in &self.frames[1..=idx] {
            path.push(component(&frame.name));
        }
        if let Some(name) = name {
            path.push(component(name));
        }
        path
    }

    /// The walk's outcome; gives its budget units back.
    pub(super) fn finish(mut self) -> Result<(), RemoveError> {
        // Closed before the units go back, so that the budget holds.
        self.frames.clear();
        self.shared.budget.give(self.cap);
        self.cap = 0;
        self.first_err.take().map_or(Ok(()), Err)
    }

    /// Records `err` for entry `name` of frame `idx` and stops retrying it.
    fn fail(&mut self, idx: usize, name: CString, err: io::Error) {
        self.record(idx, Some(&name), err);
        if let Some(frame) = self.frames.get_mut(idx) {
            frame.skip.insert(name);
        }
    }

    /// Empties the tree below frame 0, removing every directory except the
    /// top itself, which the caller removes from its parent (and then calls
    /// [`Walker::relist_top`] if that finds it not empty).
    pub(super) fn remove_contents(&mut self) {
        while let Some(idx) = self.frames.len().checked_sub(1) {
            if !self.ensure_open(idx) {
                continue;
            }
            if let Some((name, kind)) = self.frames[idx].pending.pop() {
                self.handle_entry(idx, name, kind);
                continue;
            }
            if let Some(name) = self.frames[idx].subdirs.pop() {
                self.handle_entry(idx, name, EntryType::Dir);
                continue;
            }
            if !self.frames[idx].listed {
                self.frames[idx].listed = true;
                self.frames[idx].passes += 1;
                if let Err(e) = self.list(idx) {
                    // About the directory that could not be listed.
                    self.record(idx, None, e.into());
                }
                continue;
            }
            if !self.frames[idx].handed_out.is_empty() {
                self.collect_handed_out(idx);
                continue;
            }
            if idx == 0 {
                return;
            }
            self.remove_frame(idx);
        }
    }

    /// The caller found the top not empty (`ENOTEMPTY`) after
    /// [`Walker::remove_contents`]: lists it again if passes are left, after
    /// which `remove_contents` must run again. False when the passes are
    /// used up.
    pub(super) fn relist_top(&mut self) -> bool {
        if self.frames.len() != 1 || self.frames[0].passes >= MAX_PASSES {
            return false;
        }
        self.frames[0].listed = false;
        true
    }

    /// Frame `idx` (the last one, not the top) is done: pops it and removes
    /// its directory from its parent, or pushes it back to be listed again
    /// if it is not empty yet.
    fn remove_frame(&mut self, idx: usize) {
        let Some(mut frame) = self.frames.pop() else {
            return;
        };
        // Closed first, so that the parent is the last frame, inside the
        // window, while it is re-opened if need be.
        if frame.dir.take().is_some() {
            self.open -= 1;
        }
        let pidx = idx - 1;
        if !self.ensure_open(pidx) {
            // The parent could not be re-opened: the frames from it on are
            // gone and the error is recorded.
            return;
        }
        let removed = self.at(pidx, |fd| {
            unistd::unlinkat(fd, frame.name.as_c_str(), UnlinkatFlags::RemoveDir)
        });
        match removed {
            Err(Errno::ENOTEMPTY | Errno::EEXIST) if frame.passes < MAX_PASSES => {
                // Entries appeared meanwhile, or a listing missed some. Its
                // descriptor is re-opened (identity checked) to list it again.
                frame.listed = false;
                self.frames.push(frame);
            }
            Ok(()) | Err(Errno::ENOENT) => self.give_back_spare(),
            Err(e) => {
                self.give_back_spare();
                self.fail(pidx, frame.name, e.into());
            }
        }
    }

    /// Reads all entries of frame `idx` into its `pending` list (from the
    /// start, seeking back if the descriptor was read before).
    fn list(&mut self, idx: usize) -> nix::Result<()> {
        if self.buf.is_empty() {
            self.buf = vec![0; LISTING_BUFFER];
        }
        let Frame {
            dir,
            read,
            pending,
            subdirs,
            skip,
            ..
        } = &mut self.frames[idx];
        // Frames below `idx` may now have subdirectories to hand out.
        self.donor_hint = self.donor_hint.min(idx);
        let dir = dir.as_ref().ok_or(Errno::EBADF)?;
        if *read {
            unistd::lseek(dir.as_fd(), 0, Whence::SeekSet)?;
        }
        *read = true;
        loop {
            let n = read_dir_chunk(dir.as_fd(), &mut self.buf)?;
            if n == 0 {
                return Ok(());
            }
            for (name, d_type) in dir_entries(&self.buf[..n]) {
                if name == c"." || name == c".." || skip.contains(name) {
                    continue;
                }
                self.seen += 1;
                let kind = match d_type {
                    DT_DIR => {
                        subdirs.push(name.to_owned());
                        continue;
                    }
                    DT_UNKNOWN => EntryType::Unknown,
                    _ => EntryType::NotDir,
                };
                pending.push((name.to_owned(), kind));
            }
        }
    }

    /// Runs `op` on frame `idx`'s descriptor; on `EACCES`/`EPERM` adds owner
    /// rwx to that directory (once per frame) and retries.
    fn at<T>(
        &mut self,
        idx: usize,
        op: impl Fn(BorrowedFd<'_>) -> nix::Result<T>,
    ) -> nix::Result<T> {
        let frame = &mut self.frames[idx];
        let dir = frame.dir.as_ref().ok_or(Errno::EBADF)?;
        match op(dir.as_fd()) {
            Err(e @ (Errno::EACCES | Errno::EPERM)) if frame.may_fix => {
                frame.may_fix = false;
                match add_owner_rwx(dir.as_fd()) {
                    Ok(true) => op(dir.as_fd()),
                    _ => Err(e),
                }
            }
            other => other,
        }
    }

    /// Removes a non-directory entry of frame `idx` or descends into a
    /// directory one (pushing a frame, or handing it to another thread).
    fn handle_entry(&mut self, idx: usize, name: CString, mut kind: EntryType) {
        for _ in 0..MAX_TYPE_CHANGES {
            match kind {
                EntryType::Unknown => {
                    match self.at(idx, |fd| {
                        stat::fstatat(fd, name.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW)
                    }) {
                        Ok(st) if is_dir(&st) => kind = EntryType::Dir,
                        Ok(_) => kind = EntryType::NotDir,
                        Err(Errno::ENOENT) => return,
                        Err(e) => return self.fail(idx, name, e.into()),
                    }
                }
                EntryType::NotDir => {
                    match self.at(idx, |fd| {
                        unistd::unlinkat(fd, name.as_c_str(), UnlinkatFlags::NoRemoveDir)
                    }) {
                        Ok(()) | Err(Errno::ENOENT) => return,
                        Err(Errno::EISDIR) => kind = EntryType::Dir,
                        Err(e) => return self.fail(idx, name, e.into()),
                    }
                }
                EntryType::Dir | EntryType::DirHere => {
                    if matches!(kind, EntryType::Dir) && self.hand_out(idx, &name) {
                        return;
                    }
                    match self.descend(idx, &name) {
                        Ok(()) | Err(Errno::ENOENT) => return,
                        Err(e @ (Errno::EMFILE | Errno::ENFILE)) => {
                            if !self.shrink() {
                                return self.fail(idx, name, e.into());
                            }
                        }
                        // A symlink or file now: O_NOFOLLOW|O_DIRECTORY refused it.
                        Err(Errno::ENOTDIR | Errno::ELOOP) => kind = EntryType::NotDir,
                        Err(e) => return self.fail(idx, name, e.into()),
                    }
                }
            }
        }
        self.fail(idx, name, changed_error("kept changing type"));
    }

    /// Opens subdirectory `name` of frame `idx` as a new frame (not pushed).
    fn open_child(&mut self, idx: usize, name: &CStr) -> nix::Result<Frame> {
        let Frame {
            dir, may_fix, id, ..
        } = &mut self.frames[idx];
        let parent = dir.as_ref().ok_or(Errno::EBADF)?;
        let fd = open_dir(parent.as_fd(), name, may_fix)?;
        let st = stat::fstat(&fd)?;
        // Second line of defence where openat2 (RESOLVE_NO_XDEV) is missing:
        // a different device is a mount point, whose contents are not ours.
        if st.st_dev != id.0 {
            return Err(Errno::EXDEV);
        }
        Ok(Frame::new(name.to_owned(), &st, fd))
    }

    /// Opens subdirectory `name` of frame `idx` and pushes it as a new frame.
    fn descend(&mut self, idx: usize, name: &CStr) -> nix::Result<()> {
        let frame = self.open_child(idx, name)?;
        self.push(frame);
        Ok(())
    }

    /// Hands a subdirectory to another thread, if the walk is parallel (or
    /// may now become so), a thread is waiting for work, and the budget has a
    /// task's worth of descriptors. The piece handed out is the biggest one
    /// at hand: a subdirectory waiting in the shallowest open frame above
    /// `idx`, else `name` itself (entry of frame `idx`, about to be
    /// descended into) if this walker keeps another subdirectory of that
    /// frame for itself. True if `name` was handed out; false to descend into
    /// it here. An open that fails while handing out is not an error: the
    /// entry is handled here, meeting the same error a sequential walk would.
    fn hand_out(&mut self, idx: usize, name: &CStr) -> bool {
        if !self.shared.parallel_allowed() {
            return false;
        }
        if !self.pooled {
            let Some(start) = self.start_threads else {
                return false;
            };
            if self.seen < self.shared.threshold() || !self.has_work_to_share(idx) {
                return false;
            }
            // Once only, whatever the outcome.
            self.start_threads = None;
            if !start() {
                return false;
            }
            // From now on the budget is shared: keep only what is in use.
            self.pooled = true;
            self.give_back_spare();
        }
        if !self.shared.wants_work() || !self.has_work_to_share(idx) {
            return false;
        }
        if !self.shared.budget.take(MIN_OPEN_DIRS) {
            return false;
        }
        let (k, sub) = match self.donor(idx) {
            Some(k) => match self.frames[k].subdirs.pop() {
                Some(sub) => (k, sub),
                None => (idx, name.to_owned()),
            },
            None => (idx, name.to_owned()),
        };
        match self.open_child(k, &sub) {
            Ok(frame) => {
                // Built only here, per task handed out, so that its walker
                // can name an entry it fails on as the top's walker would.
                let prefix = self.entry_path(k, Some(&sub));
                let id = self.shared.submit(frame, MIN_OPEN_DIRS, prefix);
                self.frames[k].handed_out.push((id, sub));
                k == idx
            }
            Err(_) => {
                self.shared.budget.give(MIN_OPEN_DIRS);
                if k != idx {
                    self.frames[k].pending.push((sub, EntryType::DirHere));
                }
                false
            }
        }
    }

    /// Whether a subdirectory can be handed out while this walker keeps work
    /// of its own: one waits in an open frame above `idx`, or frame `idx`
    /// has another besides the one being handled.
    fn has_work_to_share(&mut self, idx: usize) -> bool {
        self.donor(idx).is_some() || !self.frames[idx].subdirs.is_empty()
    }

    /// The shallowest open frame above `idx` with a subdirectory waiting.
    /// Frames below `donor_hint` have none (a frame gains subdirectories only
    /// when listed, which lowers the hint), so the search is amortised O(1).
    fn donor(&mut self, idx: usize) -> Option<usize> {
        while self.donor_hint < idx {
            let frame = &self.frames[self.donor_hint];
            if !frame.subdirs.is_empty() && frame.dir.is_some() {
                return Some(self.donor_hint);
            }
            self.donor_hint += 1;
        }
        None
    }

    /// Accounts for the subdirectories of frame `idx` handed to other
    /// threads: takes back one no thread has started (as a frame of this
    /// walk), or removes the directory of one that finished (if that fails,
    /// the name goes back to `pending`, to be handled here), or waits for
    /// one, running queued tasks of the removal meanwhile.
    fn collect_handed_out(&mut self, idx: usize) {
        let ids: Vec<TaskId> = self.frames[idx].handed_out.iter().map(|t| t.0).collect();
        match self.shared.claim(&ids) {
            Claim::Adopted(i, task) => {
                self.frames[idx].handed_out.swap_remove(i);
                // Its reserved units come with it.
                self.cap += task.units;
                self.push(task.frame);
            }
            Claim::Finished(i) => {
                let (_, name) = self.frames[idx].handed_out.swap_remove(i);
                let removed = self.at(idx, |fd| {
                    unistd::unlinkat(fd, name.as_c_str(), UnlinkatFlags::RemoveDir)
                });
                match removed {
                    Ok(()) | Err(Errno::ENOENT) => {}
                    Err(_) => self.frames[idx].pending.push((name, EntryType::DirHere)),
                }
            }
            Claim::Help(task) => super::parallel::run_task(self.shared, task),
        }
    }

    fn push(&mut self, frame: Frame) {
        self.frames.push(frame);
        self.open += 1;
        if self.pooled && self.open > self.cap && self.shared.budget.take(1) {
            self.cap += 1;
            self.window = (self.cap / 4).max(1);
        }
        // The frame that just left the window stays open only as an anchor.
        if let Some(k) = self.frames.len().checked_sub(self.window + 1) {
            if k > 0 && k % self.stride != 0 {
                self.close(k);
            }
        }
        self.enforce_cap();
        // The top and the window alone fit: window <= cap - 1.
        debug_assert!(
            self.open <= self.cap,
            "{} open, cap {}",
            self.open,
            self.cap
        );
    }

    fn close(&mut self, idx: usize) {
        if self.frames[idx].dir.take().is_some() {
            self.open -= 1;
        }
    }

    /// Thins out the anchors (doubling `stride`) until at most `cap`
    /// descriptors are open (or only the top and the window are left).
    fn enforce_cap(&mut self) {
        while self.open > self.cap && self.stride < self.frames.len() {
            self.stride *= 2;
            let window_start = self.frames.len().saturating_sub(self.window);
            for k in 1..window_start {
                if k % self.stride != 0 {
                    self.close(k);
                }
            }
        }
    }

    /// Drops frames `len..`, keeping the open count right. Tasks they handed
    /// out run to their end on their own: each holds a descriptor of a
    /// directory that was inside the tree when it was opened, the same
    /// guarantee an open frame of a sequential walk has (the workers finish
    /// the queue before the removal returns).
    fn truncate(&mut self, len: usize) {
        for frame in self.frames.drain(len..) {
            if frame.dir.is_some() {
                self.open -= 1;
            }
        }
    }

    /// Makes sure frame `idx` has an open descriptor, re-opening it (and the
    /// closed frames above it) by walking down by name from the nearest open
    /// ancestor, each step verified against the recorded identity.
    ///
    /// On failure the error is recorded, the unreachable frames are dropped
    /// and the entry where the walk broke is skipped in its parent, so that
    /// nothing is deleted in a directory that is not the one we recorded.
    /// Returns whether frame `idx` is now open.
    fn ensure_open(&mut self, idx: usize) -> bool {
        if self.frames[idx].dir.is_some() {
            return true;
        }
        // Frame 0 is never closed, so an open ancestor exists.
        let Some(start) = (0..idx).rev().find(|&k| self.frames[k].dir.is_some()) else {
            self.record(idx, None, io::Error::other("no open ancestor directory"));
            self.truncate(0);
            return false;
        };
        for k in start + 1..=idx {
            match self.reopen(k) {
                Ok(dir) => {
                    self.frames[k].dir = Some(dir);
                    // A fresh descriptor: a new listing starts at the beginning.
                    self.frames[k].read = false;
                    self.open += 1;
                }
                Err(e) => {
                    let name = self.frames[k].name.clone();
                    self.truncate(k);
                    self.fail(k - 1, name, e);
                    return false;
                }
            }
            // The parent was opened only to get here unless it is an anchor
            // or will be inside the window once we are at `idx`.
            let p = k - 1;
            if p > start && p % self.stride != 0 && p + self.window <= idx {
                self.close(p);
            }
        }
        self.enforce_cap();
        true
    }

    /// Opens frame `k` relative to open frame `k - 1` and checks its identity.
    fn reopen(&mut self, k: usize) -> io::Result<OwnedFd> {
        let (above, below) = self.frames.split_at_mut(k);
        let (parent, child) = (&mut above[k - 1], &below[0]);
        let pdir = parent.dir.as_ref().ok_or(Errno::EBADF)?;
        let fd = open_dir(pdir.as_fd(), &child.name, &mut parent.may_fix)?;
        let st = stat::fstat(&fd)?;
        if (st.st_dev, st.st_ino) != child.id {
            return Err(changed_error("the directory was replaced"));
        }
        Ok(fd)
    }
}

#[cfg(test)]
mod tests {
    use super::super::parallel::Settings;
    use super::*;
    use nix::fcntl::{self, OFlag};
    use nix::sys::stat::Mode;
    use std::ffi::OsStr;
    use std::fs;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    fn open_top(path: &std::path::Path) -> (Frame, Shared) {
        let fd = fcntl::open(path, OFlag::O_RDONLY | OFlag::O_DIRECTORY, Mode::empty())
            .expect("open top");
        let st = stat::fstat(&fd).expect("fstat");
        let shared = Shared::new(descriptor_budget(), Settings::sequential());
        (Frame::new(c"top".to_owned(), &st, fd), shared)
    }

    fn scratch() -> tempfile::TempDir {
        tempfile::tempdir().expect("create scratch dir")
    }

    /// The walk-down re-open must notice a directory swapped while its
    /// descriptor was closed, and not delete inside the impostor.
    #[test]
    fn reopen_detects_replaced_directory() {
        let tmp = scratch();
        let top = tmp.path().join("top");
        fs::create_dir_all(top.join("a/b")).expect("mkdir");
        let (frame, shared) = open_top(&top);
        let mut walker = Walker::new(frame, &shared, None);
        walker.descend(0, c"a").expect("descend a");
        walker.descend(1, c"b").expect("descend b");

        // Closed and re-opened unchanged: fine.
        walker.close(2);
        walker.close(1);
        assert!(walker.ensure_open(2));
        assert_eq!(walker.open, 3);

        walker.close(2);
        walker.close(1);
        fs::rename(top.join("a"), tmp.path().join("a_moved")).expect("rename");
        fs::create_dir_all(top.join("a/b")).expect("mkdir impostor");
        fs::write(top.join("a/b/victim"), b"v").expect("write");
        assert!(!walker.ensure_open(2));
        assert_eq!(walker.frames.len(), 1);
        assert!(walker.frames[0].skip.contains(c"a"));
        let err = walker.finish().expect_err("replacement reported");
        assert_eq!(err.error().kind(), io::ErrorKind::Other);
        // Named by the entry where the walk broke, relative to the top.
        assert_eq!(err.entry(), Path::new("a"));
        assert!(top.join("a/b/victim").exists());
    }

    /// The entry of an error is the path below the top, through every frame
    /// (open or not), as bytes; a task's walker puts its prefix first.
    #[test]
    fn error_names_the_entry_below_the_top() {
        let tmp = scratch();
        let top = tmp.path().join("top");
        let odd = OsStr::from_bytes(b"\xff'x");
        fs::create_dir_all(top.join("a").join(odd).join("c")).expect("mkdir");
        let (frame, shared) = open_top(&top);
        let mut walker = Walker::new(frame, &shared, None);
        walker.descend(0, c"a").expect("descend a");
        let odd_c = CString::new(odd.as_bytes()).expect("no NUL");
        walker.descend(1, &odd_c).expect("descend odd");
        walker.descend(2, c"c").expect("descend c");
        walker.close(3);
        walker.close(2);
        let moved = tmp.path().join("moved");
        fs::rename(top.join("a").join(odd).join("c"), &moved).expect("rename");
        fs::create_dir(top.join("a").join(odd).join("c")).expect("mkdir impostor");
        assert!(!walker.ensure_open(3));
        let err = walker.finish().expect_err("replacement reported");
        assert_eq!(err.entry(), Path::new("a").join(odd).join("c"));
        assert_eq!(
            err.path_in(Path::new("./tmp.X")),
            Path::new("./tmp.X/a").join(odd).join("c")
        );

        // The same through a task handed out at `sub/task`.
        let task_top = tmp.path().join("task");
        fs::create_dir_all(task_top.join("d")).expect("mkdir");
        let (frame, shared) = open_top(&task_top);
        assert!(shared.budget.take(MIN_OPEN_DIRS));
        let task = Task {
            id: 0,
            frame,
            units: MIN_OPEN_DIRS,
            prefix: PathBuf::from("sub/task"),
        };
        let mut walker = Walker::for_task(task, &shared);
        walker.descend(0, c"d").expect("descend d");
        walker.close(1);
        fs::rename(task_top.join("d"), tmp.path().join("d_moved")).expect("rename");
        fs::create_dir(task_top.join("d")).expect("mkdir impostor");
        assert!(!walker.ensure_open(1));
        let err = walker.finish().expect_err("replacement reported");
        assert_eq!(err.entry(), Path::new("sub/task/d"));
    }

    #[test]
    fn fd_cap_respected_while_descending() {
        let tmp = scratch();
        let top = tmp.path().join("top");
        let mut p = top.clone();
        for _ in 0..300 {
            p.push("d");
        }
        fs::create_dir_all(&p).expect("mkdir");
        let (frame, shared) = open_top(&top);
        let mut walker = Walker::new(frame, &shared, None);
        for i in 0..300 {
            walker.descend(i, c"d").expect("descend");
            assert!(walker.open <= MAX_OPEN_DIRS);
        }
        let open = walker.frames.iter().filter(|f| f.dir.is_some()).count();
        assert_eq!(open, walker.open);
        walker.remove_contents();
        walker.finish().expect("emptied");
        assert_eq!(fs::read_dir(&top).expect("top stays").count(), 0);
    }
}
