//! Removal of the temporary path that rtmp created, after the `--exec` child ran.
//!
//! This module owns one operation, [`remove_created`]. The child had full
//! control over the path while it ran (and may still be running in the
//! background), so the path is treated as hostile. Invariants:
//!
//! * **Never follows a symlink.** The final component of the path and every
//!   entry below it are reached with `O_NOFOLLOW`/`AT_SYMLINK_NOFOLLOW` (and,
//!   where the kernel has `openat2`, `RESOLVE_NO_SYMLINKS`). A symlink is
//!   removed as an entry; its target is never touched.
//! * **Never removes anything outside the path.** Directories are entered
//!   only through descriptors opened relative to their already-open parent,
//!   never through a path string; a descriptor that had to be closed is
//!   re-opened by walking down by name from a still-open ancestor and checked
//!   against the `(st_dev, st_ino)` recorded when it was first opened. Mount
//!   points inside the tree are not entered.
//! * **Permissions are only ever widened on directories inside the tree**, by
//!   descriptor (`fchmod`, or `/proc/self/fd/N` for an `O_PATH` descriptor),
//!   so a swapped-in symlink cannot redirect a `chmod` outside.
//! * **Bounded resources.** The walk uses an explicit stack, not recursion,
//!   and holds at most [`MAX_OPEN_DIRS`] directory descriptors, whatever the
//!   depth of the tree, and fewer when `RLIMIT_NOFILE` is low; running out of
//!   descriptors anyway (`EMFILE`) makes it hold fewer and retry.
//!
//! Linux only: it relies on `O_PATH`, `openat2` (optional) and `/proc/self/fd`.

use std::collections::HashSet;
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::dir::{Dir, Type};
use nix::errno::Errno;
use nix::fcntl::{self, AtFlags, OFlag, OpenHow, ResolveFlag};
use nix::libc::{dev_t, ino_t};
use nix::sys::stat::{self, FileStat, Mode, SFlag};
use nix::unistd::{self, UnlinkatFlags};

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
const MAX_TYPE_CHANGES: usize = 4;

/// Set once `openat2` turned out to be missing, to avoid a wasted syscall on
/// every open.
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

/// Removes `path`, which rtmp itself created, without ever following a symlink.
/// Ok(()) also when `path` no longer exists (ENOENT on the path itself).
///
/// * A symlink (even a dangling one), regular file, FIFO, socket or device
///   node at `path` is unlinked; a symlink's target is never touched.
/// * A directory at `path` is removed with everything in it. Directories in
///   it (including `path` itself) that were made unreadable or read-only are
///   given owner `rwx` (other mode bits kept) so that they can be emptied.
///   Symlinks inside are unlinked as entries; mount points inside are not
///   entered.
///
/// The directories leading to `path` are trusted (they are resolved
/// normally); only the final component and what lies below it are treated as
/// hostile.
///
/// # Errors
///
/// * `InvalidInput` if `path` has no final component (`/`, `..`) or contains
///   a NUL byte.
/// * The OS error for the parent directory of `path` if it cannot be opened
///   (including `ENOENT` if the parent is gone).
/// * Otherwise the first error that stopped some part of the removal, with
///   its raw errno where there is one (e.g. `EACCES`, `EBUSY`, `EXDEV` for a
///   mount point inside the tree). Removal carries on past an error and
///   removes everything else it can before returning it. An error without an
///   errno (`ErrorKind::Other`) means the tree changed under us in a way that
///   made it unsafe to continue in that part of it, e.g. a directory was
///   replaced while its descriptor was closed.
pub fn remove_created(path: &Path) -> io::Result<()> {
    Pinned::new(path)?.remove()
}

/// The path rtmp created, pinned to the directory it was created in.
///
/// The parent is held open (`O_PATH`) from creation on, so renaming a parent
/// directory, or swapping one for a symlink, while the child runs cannot
/// redirect the removal: it happens in the same directory inode, by name.
#[derive(Debug)]
pub struct Pinned {
    parent: OwnedFd,
    name: CString,
}

impl Pinned {
    /// Pins `path`: opens its parent directory (following the path as it is
    /// now, which is trusted: rtmp just created the entry there).
    ///
    /// # Errors
    /// `InvalidInput` if `path` has no final component (`/`, `..`) or holds a
    /// NUL byte; the OS error if the parent cannot be opened.
    pub fn new(path: &Path) -> io::Result<Pinned> {
        let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidInput, what.to_owned());
        let name = path
            .file_name()
            .ok_or_else(|| invalid("path to remove has no final component"))?;
        let name =
            CString::new(name.as_bytes()).map_err(|_| invalid("path contains a NUL byte"))?;
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        // O_PATH: we only need the parent as an anchor for *at() calls, and
        // must not require read permission on a directory that is not ours.
        let parent = fcntl::open(
            parent,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Pinned { parent, name })
    }

    /// The pinned parent directory (an `O_PATH`, close-on-exec descriptor).
    pub fn parent(&self) -> BorrowedFd<'_> {
        self.parent.as_fd()
    }

    /// The final component.
    pub fn name(&self) -> &CStr {
        &self.name
    }

    /// Removes the entry as [`remove_created`] describes.
    ///
    /// # Errors
    /// As [`remove_created`].
    pub fn remove(&self) -> io::Result<()> {
        remove_entry(self.parent.as_fd(), &self.name)
    }
}

/// Removes entry `name` of directory `base` as [`remove_created`] describes;
/// `base` itself is trusted and never modified.
///
/// # Errors
/// As [`remove_created`].
pub fn remove_entry(base: BorrowedFd<'_>, name: &CStr) -> io::Result<()> {
    // The loop re-classifies if the entry changes type between the lstat
    // and the removal (the child may still be running).
    for _ in 0..MAX_TYPE_CHANGES {
        match stat::fstatat(base, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Err(Errno::ENOENT) => return Ok(()),
            Err(e) => return Err(e.into()),
            Ok(st) if is_dir(&st) => {
                if let Some(result) = remove_top_dir(base, name) {
                    return result;
                }
            }
            Ok(_) => match unistd::unlinkat(base, name, UnlinkatFlags::NoRemoveDir) {
                Ok(()) | Err(Errno::ENOENT) => return Ok(()),
                Err(Errno::EISDIR) => {}
                Err(e) => return Err(e.into()),
            },
        }
    }
    Err(changed_error(name, "kept changing type"))
}

/// Empties and removes the directory `name` in `base`. `None` means it turned
/// out not to be a directory (anymore) and the caller should classify again.
fn remove_top_dir(base: BorrowedFd<'_>, name: &CStr) -> Option<io::Result<()>> {
    // `base` is not ours: never widen its permissions.
    let fd = match open_dir(base, name, &mut false) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => return Some(Ok(())),
        Err(Errno::ENOTDIR | Errno::ELOOP) => return None,
        Err(e) => return Some(Err(e.into())),
    };
    let top = match stat::fstat(&fd).and_then(|st| Ok((st, Dir::from_fd(fd)?))) {
        Ok((st, dir)) => Frame::new(name.to_owned(), &st, dir),
        Err(e) => return Some(Err(e.into())),
    };
    let mut walker = Walker::new(top);
    walker.run();
    match unistd::unlinkat(base, name, UnlinkatFlags::RemoveDir) {
        Ok(()) | Err(Errno::ENOENT) => {}
        Err(e) => walker.record(e.into()),
    }
    Some(walker.finish())
}

fn is_dir(st: &FileStat) -> bool {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR
}

fn changed_error(name: &CStr, what: &str) -> io::Error {
    io::Error::other(format!(
        "refusing to continue removal: {name:?} {what} during removal"
    ))
}

/// Opens directory `name` in `parent` for listing, never following a symlink
/// and never crossing a mount point.
///
/// If that fails for lack of permission, it works out whose permission is
/// missing and adds owner rwx to that directory once: the child's via an
/// `O_PATH` descriptor (which needs no permission on the child itself), or the
/// parent's if `may_fix_parent` (then cleared) allows it.
fn open_dir(
    parent: BorrowedFd<'_>,
    name: &CStr,
    may_fix_parent: &mut bool,
) -> nix::Result<OwnedFd> {
    let mut may_fix_child = true;
    loop {
        let err = match open_nofollow_dir(parent, name, OFlag::O_RDONLY) {
            Ok(fd) => return Ok(fd),
            Err(e @ (Errno::EACCES | Errno::EPERM)) => e,
            Err(e) => return Err(e),
        };
        // An O_PATH open needs search permission on the parent only, so its
        // outcome tells us which of the two directories is locked.
        let fixed = match open_nofollow_dir(parent, name, OFlag::O_PATH) {
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

/// `openat(parent, name, access|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC)`, through
/// `openat2` when available so that a mount point (even a bind mount of the
/// same filesystem) is refused with `EXDEV` instead of entered.
fn open_nofollow_dir(parent: BorrowedFd<'_>, name: &CStr, access: OFlag) -> nix::Result<OwnedFd> {
    let flags = access | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    if !NO_OPENAT2.load(Ordering::Relaxed) {
        let how = OpenHow::new().flags(flags).resolve(
            ResolveFlag::RESOLVE_NO_SYMLINKS
                | ResolveFlag::RESOLVE_NO_XDEV
                | ResolveFlag::RESOLVE_BENEATH,
        );
        match fcntl::openat2(parent, name, how) {
            Err(Errno::ENOSYS) => NO_OPENAT2.store(true, Ordering::Relaxed),
            // Seccomp filters often answer unknown syscalls with EPERM; a
            // genuine EPERM will simply come back from openat below.
            Err(Errno::EPERM) => {}
            other => return other,
        }
    }
    fcntl::openat(parent, name, flags, Mode::empty())
}

/// ORs owner rwx into the mode of the directory open as `fd` (which may be an
/// `O_PATH` descriptor). `Ok(false)`: nothing to change, so retrying is pointless.
fn add_owner_rwx(fd: BorrowedFd<'_>) -> nix::Result<bool> {
    let st = stat::fstat(fd)?;
    let mode = st.st_mode & 0o7777;
    if !is_dir(&st) || mode & 0o700 == 0o700 {
        return Ok(false);
    }
    match stat::fchmod(fd, Mode::from_bits_truncate(mode | 0o700)) {
        Ok(()) => Ok(true),
        // fchmod() refuses O_PATH descriptors. The /proc magic link resolves
        // to exactly the inode the descriptor holds, so unlike chmod(path)
        // this cannot be redirected by a symlink swapped in meanwhile.
        Err(Errno::EBADF) => {
            let link = format!("/proc/self/fd/{}", fd.as_raw_fd());
            std::fs::set_permissions(link, std::fs::Permissions::from_mode(mode | 0o700))
                .map_err(|e| e.raw_os_error().map_or(Errno::EIO, Errno::from_raw))?;
            Ok(true)
        }
        Err(e) => Err(e),
    }
}

/// What a directory entry is believed to be, from `d_type` or `fstatat`.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Dir,
    NotDir,
    Unknown,
}

/// One directory on the walk's stack.
struct Frame {
    /// Name in the parent frame's directory.
    name: CString,
    /// Identity recorded when first opened; a re-open must find the same.
    id: (dev_t, ino_t),
    /// Open handle, or `None` while dropped to respect [`MAX_OPEN_DIRS`].
    dir: Option<Dir>,
    /// Entries from the latest listing not handled yet.
    pending: Vec<(CString, Kind)>,
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
    fn new(name: CString, st: &FileStat, dir: Dir) -> Self {
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
struct Walker {
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
    fn new(top: Frame) -> Self {
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

    fn record(&mut self, err: io::Error) {
        self.first_err.get_or_insert(err);
    }

    fn finish(self) -> io::Result<()> {
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
    fn run(&mut self) {
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
                Some(Type::Directory) => Kind::Dir,
                Some(_) => Kind::NotDir,
                None => Kind::Unknown,
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
    fn handle_entry(&mut self, idx: usize, name: CString, mut kind: Kind) {
        for _ in 0..MAX_TYPE_CHANGES {
            match kind {
                Kind::Unknown => {
                    match self.at(idx, |fd| {
                        stat::fstatat(fd, name.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW)
                    }) {
                        Ok(st) if is_dir(&st) => kind = Kind::Dir,
                        Ok(_) => kind = Kind::NotDir,
                        Err(Errno::ENOENT) => return,
                        Err(e) => return self.fail(idx, name, e.into()),
                    }
                }
                Kind::NotDir => {
                    match self.at(idx, |fd| {
                        unistd::unlinkat(fd, name.as_c_str(), UnlinkatFlags::NoRemoveDir)
                    }) {
                        Ok(()) | Err(Errno::ENOENT) => return,
                        Err(Errno::EISDIR) => kind = Kind::Dir,
                        Err(e) => return self.fail(idx, name, e.into()),
                    }
                }
                Kind::Dir => match self.descend(idx, &name) {
                    Ok(()) | Err(Errno::ENOENT) => return,
                    Err(e @ (Errno::EMFILE | Errno::ENFILE)) => {
                        if !self.shrink() {
                            return self.fail(idx, name, e.into());
                        }
                    }
                    // A symlink or file now: O_NOFOLLOW|O_DIRECTORY refused it.
                    Err(Errno::ENOTDIR | Errno::ELOOP) => kind = Kind::NotDir,
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
    use std::fs;
    use std::os::unix::fs::symlink;
    use std::os::unix::process::CommandExt;
    use std::path::PathBuf;
    use std::process::Command;

    /// Set in a re-executed test binary to the name of the test whose body
    /// it must run; the scratch directory to use is in `SCRATCH_ENV`.
    const CHILD_ENV: &str = "RTMP_CLEANUP_TEST_CHILD";
    const SCRATCH_ENV: &str = "RTMP_CLEANUP_TEST_SCRATCH";
    /// `nobody`: an unprivileged identity for tests that need permission
    /// checks to apply (root bypasses them).
    const NOBODY: u32 = 65534;

    fn gone(path: &Path) -> bool {
        matches!(fs::symlink_metadata(path), Err(e) if e.kind() == io::ErrorKind::NotFound)
    }

    fn scratch() -> tempfile::TempDir {
        tempfile::tempdir().expect("create scratch dir")
    }

    fn chmod(path: &Path, mode: u32) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
    }

    /// Runs `body` in a fresh process: this test binary re-executed with only
    /// `test` selected, as `nobody` if `unprivileged` and we are root. The
    /// body gets a world-writable scratch directory. In the parent this
    /// asserts that the child ran exactly that one test and it passed, so a
    /// mistyped test name cannot pass silently.
    fn in_child(test: &str, unprivileged: bool, body: impl FnOnce(&Path)) {
        let test = test.split_once("::").map_or(test, |(_, rest)| rest);
        if std::env::var(CHILD_ENV).as_deref() == Ok(test) {
            let dir = PathBuf::from(std::env::var_os(SCRATCH_ENV).expect("scratch env"));
            body(&dir);
            return;
        }
        let tmp = scratch();
        chmod(tmp.path(), 0o777);
        let mut cmd = Command::new(std::env::current_exe().expect("current_exe"));
        cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, test)
            .env(SCRATCH_ENV, tmp.path());
        if unprivileged && unistd::geteuid().is_root() {
            // std also clears supplementary groups when it sets the uid.
            cmd.uid(NOBODY).gid(NOBODY);
        }
        let out = cmd.output().expect("re-run test binary");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("test result: ok. 1 passed"),
            "child run of {test} failed: {}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn plain_file() {
        let tmp = scratch();
        let f = tmp.path().join("f");
        fs::write(&f, b"x").expect("write");
        remove_created(&f).expect("remove");
        assert!(gone(&f));
    }

    #[test]
    fn empty_dir() {
        let tmp = scratch();
        let d = tmp.path().join("d");
        fs::create_dir(&d).expect("mkdir");
        remove_created(&d).expect("remove");
        assert!(gone(&d));
    }

    #[test]
    fn nested_tree_with_files() {
        let tmp = scratch();
        let top = tmp.path().join("top");
        fs::create_dir_all(top.join("a/b/c")).expect("mkdir");
        fs::create_dir_all(top.join("x/y")).expect("mkdir");
        for f in ["f", "a/f", "a/b/f", "a/b/c/f", "x/f", "x/y/f"] {
            fs::write(top.join(f), f).expect("write");
        }
        remove_created(&top).expect("remove");
        assert!(gone(&top));
        assert!(tmp.path().exists(), "parent must stay");
    }

    #[test]
    fn already_gone_is_ok() {
        let tmp = scratch();
        remove_created(&tmp.path().join("never-created")).expect("ENOENT is success");
    }

    #[test]
    fn relative_path_and_invalid_input() {
        let err = remove_created(Path::new("/")).expect_err("no final component");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        // A bare name is resolved against the current directory.
        remove_created(Path::new("rtmp-cleanup-test-does-not-exist")).expect("absent");
    }

    #[test]
    fn top_symlink_to_outside_dir_only_link_removed() {
        let tmp = scratch();
        let outside = tmp.path().join("outside");
        fs::create_dir(&outside).expect("mkdir");
        fs::write(outside.join("keep"), b"k").expect("write");
        let link = tmp.path().join("link");
        symlink(&outside, &link).expect("symlink");
        remove_created(&link).expect("remove");
        assert!(gone(&link));
        assert_eq!(fs::read(outside.join("keep")).expect("kept"), b"k");
    }

    #[test]
    fn dangling_symlink_removed() {
        let tmp = scratch();
        let link = tmp.path().join("dangling");
        symlink(tmp.path().join("nowhere"), &link).expect("symlink");
        remove_created(&link).expect("remove");
        assert!(gone(&link));
    }

    #[test]
    fn symlinks_inside_tree_not_followed() {
        let tmp = scratch();
        let outside = tmp.path().join("outside");
        fs::create_dir_all(outside.join("sub")).expect("mkdir");
        fs::write(outside.join("keep"), b"k").expect("write");
        fs::write(outside.join("sub/keep2"), b"k2").expect("write");
        let top = tmp.path().join("top");
        fs::create_dir_all(top.join("d")).expect("mkdir");
        symlink(&outside, top.join("to_dir")).expect("symlink");
        symlink(&outside, top.join("d/to_dir_again")).expect("symlink");
        symlink(outside.join("keep"), top.join("to_file")).expect("symlink");
        remove_created(&top).expect("remove");
        assert!(gone(&top));
        assert_eq!(fs::read(outside.join("keep")).expect("kept"), b"k");
        assert_eq!(fs::read(outside.join("sub/keep2")).expect("kept"), b"k2");
    }

    #[test]
    fn fifo_and_socket_removed() {
        let tmp = scratch();
        let top = tmp.path().join("top");
        fs::create_dir(&top).expect("mkdir");
        unistd::mkfifo(&top.join("fifo"), Mode::from_bits_truncate(0o600)).expect("mkfifo");
        let _listener =
            std::os::unix::net::UnixListener::bind(top.join("sock")).expect("bind socket");
        remove_created(&top).expect("remove");
        assert!(gone(&top));
    }

    #[test]
    fn non_utf8_names_removed() {
        let tmp = scratch();
        let top = tmp.path().join("top");
        let odd = std::ffi::OsStr::from_bytes(b"\xff\xfe");
        fs::create_dir_all(top.join(odd)).expect("mkdir");
        fs::write(top.join(odd).join(odd), b"x").expect("write");
        fs::write(top.join(odd).with_extension("f"), b"x").expect("write");
        remove_created(&top).expect("remove");
        assert!(gone(&top));
    }

    #[test]
    fn read_only_and_unreadable_dirs_removed() {
        in_child(
            &format!("{}::read_only_and_unreadable_dirs_removed", module_path!()),
            true,
            |scratch| {
                let top = scratch.join("top");
                for d in ["r500/inner", "z000", "nox600/sub", "n/a500/b000/c300/d"] {
                    fs::create_dir_all(top.join(d)).expect("mkdir");
                }
                for f in [
                    "r500/f",
                    "r500/inner/f",
                    "z000/f",
                    "nox600/f",
                    "n/a500/b000/c300/d/f",
                ] {
                    fs::write(top.join(f), b"x").expect("write");
                }
                // Deepest first, so that the chmods themselves succeed.
                for (d, mode) in [
                    ("n/a500/b000/c300", 0o300),
                    ("n/a500/b000", 0o000),
                    ("n/a500", 0o500),
                    ("r500/inner", 0o500),
                    ("r500", 0o500),
                    ("z000", 0o000),
                    ("nox600", 0o600),
                    ("", 0o500),
                ] {
                    chmod(&top.join(d), mode);
                }
                // Without this the test would prove nothing (e.g. run as root).
                let denied = fs::write(top.join("probe"), b"x").expect_err("top is read-only");
                assert_eq!(denied.kind(), io::ErrorKind::PermissionDenied);
                remove_created(&top).expect("remove");
                assert!(gone(&top));
            },
        );
    }

    #[test]
    fn deep_chain_with_low_fd_limit() {
        const DEPTH: usize = 5000;
        in_child(
            &format!("{}::deep_chain_with_low_fd_limit", module_path!()),
            false,
            |scratch| {
                use nix::sys::resource::{Resource, getrlimit, setrlimit};
                let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
                setrlimit(Resource::RLIMIT_NOFILE, 256, hard).expect("setrlimit");
                let top = scratch.join("top");
                fs::create_dir(&top).expect("mkdir");
                // Built fd-relative: the full path is far beyond PATH_MAX.
                let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
                let mut fd = fcntl::open(&top, flags, Mode::empty()).expect("open top");
                for i in 0..DEPTH {
                    stat::mkdirat(&fd, c"d", Mode::from_bits_truncate(0o700)).expect("mkdirat");
                    if i % 100 == 0 {
                        let f = fcntl::openat(
                            &fd,
                            c"f",
                            OFlag::O_CREAT | OFlag::O_WRONLY | OFlag::O_CLOEXEC,
                            Mode::from_bits_truncate(0o600),
                        );
                        drop(f.expect("create file"));
                        symlink(&top, format!("/proc/self/fd/{}/l", fd.as_raw_fd()))
                            .expect("symlink");
                    }
                    fd = fcntl::openat(&fd, c"d", flags, Mode::empty()).expect("open d");
                }
                drop(fd);
                remove_created(&top).expect("remove");
                assert!(gone(&top));
            },
        );
    }

    /// Regression: with `ulimit -n 64` a 60-deep tree failed with EMFILE, because
    /// the walk held up to 64 descriptors whatever the limit. Now it holds a
    /// quarter of the limit and fewer again on EMFILE.
    #[test]
    fn deep_chain_with_a_tiny_fd_limit() {
        in_child(
            &format!("{}::deep_chain_with_a_tiny_fd_limit", module_path!()),
            false,
            |scratch| {
                use nix::sys::resource::{Resource, getrlimit, setrlimit};
                let top = scratch.join("top");
                let mut deep = top.clone();
                for _ in 0..300 {
                    deep.push("d");
                }
                fs::create_dir_all(&deep).expect("mkdir -p");
                let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
                // A few above what the test process itself holds.
                let in_use = fs::read_dir("/proc/self/fd").expect("fds").count() as u64;
                setrlimit(Resource::RLIMIT_NOFILE, in_use + 4, hard).expect("setrlimit");
                remove_created(&top).expect("remove");
                assert!(gone(&top));
            },
        );
    }

    /// Kernels without `openat2` get plain `openat(O_NOFOLLOW)`: symlinks must
    /// still not be followed and locked directories still be removed.
    #[test]
    fn openat_fallback_is_equally_safe() {
        in_child(
            &format!("{}::openat_fallback_is_equally_safe", module_path!()),
            true,
            |scratch| {
                NO_OPENAT2.store(true, Ordering::Relaxed);
                let outside = scratch.join("outside");
                fs::create_dir(&outside).expect("mkdir");
                fs::write(outside.join("keep"), b"k").expect("write");
                chmod(&outside, 0o500);
                let before = fs::metadata(&outside).expect("stat").permissions().mode();
                let top = scratch.join("top");
                fs::create_dir_all(top.join("z/y")).expect("mkdir");
                symlink(&outside, top.join("z/y/link")).expect("symlink");
                chmod(&top.join("z/y"), 0o000);
                chmod(&top.join("z"), 0o500);
                remove_created(&top).expect("remove");
                assert!(gone(&top));
                assert_eq!(fs::read(outside.join("keep")).expect("kept"), b"k");
                // Nothing outside had its mode widened either.
                let mode = |p: &Path| fs::metadata(p).expect("stat").permissions().mode();
                assert_eq!(mode(&outside), before);
            },
        );
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
        walker.run();
        walker.finish().expect("emptied");
        assert_eq!(fs::read_dir(&top).expect("top stays").count(), 0);
    }
}
