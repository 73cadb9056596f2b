//! The descriptor-budgeted walker that empties a directory tree, and the
//! directory opens it shares with the top-level removal.
//!
//! Invariants (the module doc of [`crate::cleanup`] gives the why): entered
//! only by descriptor relative to an open parent, never following a symlink;
//! a re-opened directory must have the `(st_dev, st_ino)` recorded at its
//! first open; mount points are not entered; owner `rwx` is added only to
//! directories inside the tree, once each; at most [`MAX_OPEN_DIRS`]
//! descriptors (fewer under a low `RLIMIT_NOFILE`); every retry loop is
//! bounded ([`MAX_PASSES`], [`MAX_TYPE_CHANGES`]).

use std::collections::HashSet;
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::dir::{Dir, Type};
use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::libc::{dev_t, ino_t};
use nix::sys::stat::{self, FileStat};
use nix::unistd::{self, UnlinkatFlags};

use super::{changed_error, is_dir};
use crate::sys::fs::{DirAccess, chmod_by_descriptor, open_dir_nofollow};

/// Upper bound on directory descriptors held open at once by one removal.
///
/// Well under the common soft `RLIMIT_NOFILE` of 1024 (and under 256), so the
/// removal works however deep the tree is and leaves room for the caller.
/// With a lower limit the walk holds at most a quarter of it (see
/// `descriptor_budget`).
pub const MAX_OPEN_DIRS: usize = 64;

/// The fewest directory descriptors the walk works with: the top, the one
/// being emptied, and one to descend.
const MIN_OPEN_DIRS: usize = 3;

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
    NotDir,
    Unknown,
}

/// One directory on the walk's stack.
pub(super) struct Frame {
    /// Name in the parent frame's directory.
    name: CString,
    /// Identity recorded when first opened; a re-open must find the same.
    id: (dev_t, ino_t),
    /// Open handle, or `None` while dropped to respect [`MAX_OPEN_DIRS`].
    dir: Option<Dir>,
    /// Entries from the latest listing not handled yet.
    pending: Vec<(CString, EntryType)>,
    /// Entries that could not be removed; not retried (their error is
    /// already recorded), so the walk terminates.
    skip: HashSet<CString>,
    /// Listings done so far.
    passes: u32,
    /// Whether adding owner rwx to this directory may still be tried. Only
    /// once: if that did not help, a second time will not either.
    may_fix: bool,
}

impl Frame {
    pub(super) fn new(name: CString, st: &FileStat, dir: Dir) -> Self {
        Frame {
            name,
            id: (st.st_dev, st.st_ino),
            dir: Some(dir),
            pending: Vec::new(),
            skip: HashSet::new(),
            passes: 0,
            may_fix: true,
        }
    }
}

/// How many directory descriptors one removal may hold: [`MAX_OPEN_DIRS`], or a
/// quarter of the soft `RLIMIT_NOFILE` when that is lower (the caller and the
/// child's inherited descriptors need the rest), but at least
/// [`MIN_OPEN_DIRS`].
fn descriptor_budget() -> usize {
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
pub(super) struct Walker {
    frames: Vec<Frame>,
    /// Number of frames whose `dir` is `Some`.
    open: usize,
    stride: usize,
    /// Most descriptors to hold open ([`descriptor_budget`], lowered on `EMFILE`).
    cap: usize,
    /// The deepest directories kept open, so that ascending is cheap; a
    /// quarter of `cap`.
    window: usize,
    first_err: Option<io::Error>,
}

impl Walker {
    pub(super) fn new(top: Frame) -> Self {
        let cap = descriptor_budget();
        Walker {
            frames: vec![top],
            open: 1,
            stride: 1,
            cap,
            window: (cap / 4).max(1),
            first_err: None,
        }
    }

    /// After `EMFILE`/`ENFILE`: hold half as many descriptors. False when the
    /// walk already holds the minimum, so retrying cannot help.
    fn shrink(&mut self) -> bool {
        if self.cap <= MIN_OPEN_DIRS {
            return false;
        }
        self.cap = (self.open / 2).max(MIN_OPEN_DIRS).min(self.cap - 1);
        self.window = (self.cap / 4).max(1);
        self.enforce_cap();
        true
    }

    pub(super) fn record(&mut self, err: io::Error) {
        self.first_err.get_or_insert(err);
    }

    pub(super) fn finish(self) -> io::Result<()> {
        self.first_err.map_or(Ok(()), Err)
    }

    /// Records `err` for entry `name` of frame `idx` and stops retrying it.
    fn fail(&mut self, idx: usize, name: CString, err: io::Error) {
        self.record(err);
        if let Some(frame) = self.frames.get_mut(idx) {
            frame.skip.insert(name);
        }
    }

    /// Empties the tree below frame 0, removing every directory except the
    /// top itself, which the caller removes from its parent.
    pub(super) fn remove_contents(&mut self) {
        while let Some(idx) = self.frames.len().checked_sub(1) {
            if !self.ensure_open(idx) {
                continue;
            }
            if let Some((name, kind)) = self.frames[idx].pending.pop() {
                self.handle_entry(idx, name, kind);
                continue;
            }
            // Listing again after the pending entries are done catches entries
            // created meanwhile and ones a single readdir pass missed.
            if self.frames[idx].passes < MAX_PASSES {
                self.frames[idx].passes += 1;
                match self.list(idx) {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => self.record(e.into()),
                }
            }
            self.pop_and_remove();
        }
    }

    /// Reads the entries of frame `idx` into its `pending` list; `Ok(true)`
    /// if there is anything left to handle.
    fn list(&mut self, idx: usize) -> nix::Result<bool> {
        let Frame {
            dir, pending, skip, ..
        } = &mut self.frames[idx];
        let dir = dir.as_mut().ok_or(Errno::EBADF)?;
        for entry in dir.iter() {
            let entry = entry?;
            let name = entry.file_name();
            if name == c"." || name == c".." || skip.contains(name) {
                continue;
            }
            let kind = match entry.file_type() {
                Some(Type::Directory) => EntryType::Dir,
                Some(_) => EntryType::NotDir,
                None => EntryType::Unknown,
            };
            pending.push((name.to_owned(), kind));
        }
        Ok(!pending.is_empty())
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
    /// directory one (pushing a frame).
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
                EntryType::Dir => match self.descend(idx, &name) {
                    Ok(()) | Err(Errno::ENOENT) => return,
                    Err(e @ (Errno::EMFILE | Errno::ENFILE)) => {
                        if !self.shrink() {
                            return self.fail(idx, name, e.into());
                        }
                    }
                    // A symlink or file now: O_NOFOLLOW|O_DIRECTORY refused it.
                    Err(Errno::ENOTDIR | Errno::ELOOP) => kind = EntryType::NotDir,
                    Err(e) => return self.fail(idx, name, e.into()),
                },
            }
        }
        self.fail(
            idx,
            name.clone(),
            changed_error(&name, "kept changing type"),
        );
    }

    /// Opens subdirectory `name` of frame `idx` and pushes it as a new frame.
    fn descend(&mut self, idx: usize, name: &CStr) -> nix::Result<()> {
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
        let frame = Frame::new(name.to_owned(), &st, Dir::from_fd(fd)?);
        self.push(frame);
        Ok(())
    }

    fn push(&mut self, frame: Frame) {
        self.frames.push(frame);
        self.open += 1;
        // The frame that just left the window stays open only as an anchor.
        if let Some(k) = self.frames.len().checked_sub(self.window + 1) {
            if k > 0 && k % self.stride != 0 {
                self.close(k);
            }
        }
        self.enforce_cap();
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

    /// Drops frames `len..`, keeping the open count right.
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
            self.record(io::Error::other("no open ancestor directory"));
            self.truncate(0);
            return false;
        };
        for k in start + 1..=idx {
            match self.reopen(k) {
                Ok(dir) => {
                    self.frames[k].dir = Some(dir);
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
    fn reopen(&mut self, k: usize) -> io::Result<Dir> {
        let (above, below) = self.frames.split_at_mut(k);
        let (parent, child) = (&mut above[k - 1], &below[0]);
        let pdir = parent.dir.as_ref().ok_or(Errno::EBADF)?;
        let fd = open_dir(pdir.as_fd(), &child.name, &mut parent.may_fix)?;
        let st = stat::fstat(&fd)?;
        if (st.st_dev, st.st_ino) != child.id {
            return Err(changed_error(&child.name, "was replaced"));
        }
        Ok(Dir::from_fd(fd)?)
    }

    /// Pops the finished top frame and removes its (now empty) directory from
    /// its parent. Frame 0 is left to the caller.
    fn pop_and_remove(&mut self) {
        let Some(frame) = self.frames.pop() else {
            return;
        };
        if frame.dir.is_some() {
            self.open -= 1;
        }
        drop(frame.dir);
        let Some(pidx) = self.frames.len().checked_sub(1) else {
            return;
        };
        if !self.ensure_open(pidx) {
            return;
        }
        match self.at(pidx, |fd| {
            unistd::unlinkat(fd, frame.name.as_c_str(), UnlinkatFlags::RemoveDir)
        }) {
            Ok(()) | Err(Errno::ENOENT) => {}
            Err(e) => self.fail(pidx, frame.name, e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::fcntl::OFlag;
    use nix::sys::stat::Mode;
    use std::fs;

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
        let dir =
            Dir::open(&top, OFlag::O_RDONLY | OFlag::O_DIRECTORY, Mode::empty()).expect("open top");
        let st = stat::fstat(&dir).expect("fstat");
        let mut walker = Walker::new(Frame::new(c"top".to_owned(), &st, dir));
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
        assert_eq!(err.kind(), io::ErrorKind::Other);
        assert!(top.join("a/b/victim").exists());
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
        let dir =
            Dir::open(&top, OFlag::O_RDONLY | OFlag::O_DIRECTORY, Mode::empty()).expect("open top");
        let st = stat::fstat(&dir).expect("fstat");
        let mut walker = Walker::new(Frame::new(c"top".to_owned(), &st, dir));
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
