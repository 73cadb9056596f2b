//! Removal of the temporary path that rtmp created, after the `--exec` child ran.
//!
//! This module owns one operation, [`remove_created`] (and [`Pinned::remove`],
//! [`remove_entry`], the same removal through an already open parent). The
//! child had full control over the path while it ran (and may still be
//! running in the background), so the path is treated as hostile
//! (SECURITY.md, "Guarantees"). Invariants:
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
//! * **Bounded resources.** The walk (`walk`) uses an explicit stack, not
//!   recursion, and holds at most [`MAX_OPEN_DIRS`] directory descriptors,
//!   whatever the depth of the tree, and fewer when `RLIMIT_NOFILE` is low;
//!   running out of descriptors anyway (`EMFILE`) makes it hold fewer and
//!   retry. With threads, that budget is shared by all of them, not
//!   multiplied.
//! * **Threads only for large trees** (`parallel`): once a walk has listed a
//!   few thousand entries, subdirectories are handed to
//!   `available_parallelism() - 1` scoped worker threads, each emptying its
//!   subdirectories with the same walk; a subdirectory handed out was opened
//!   exactly as a descent would open it. No thread on one CPU or for a small
//!   tree, and all are joined before the removal returns. Removal runs only
//!   after the command ended (in rtmp, or in the forked guardian, which is
//!   single-threaded and may start threads like any process).
//! * **Cheap in the common case.** An empty directory is removed with one
//!   `unlinkat(AT_REMOVEDIR)` of the name in the pinned parent, which
//!   follows no symlink and removes nothing but an empty directory; anything
//!   else (`ENOTEMPTY`, `ENOTDIR`, ...) goes through the rules above.
//!
//! * **A failure names its entry.** A removal that fails returns a
//!   [`RemoveError`]: the first error and the path, relative to the removed
//!   path and as bytes, of the entry it stopped at (empty: the path itself),
//!   so that the message can name what the user must look at. The path is
//!   built only when the first error is recorded (nothing on success), from
//!   the names of the walk's frames; a subdirectory handed to another thread
//!   carries its relative path with it.
//!
//! The Linux calls it relies on (`O_PATH`, `openat2`, `/proc/self/fd`) are in
//! [`crate::sys::fs`].

mod parallel;
mod walk;

use std::ffi::{CStr, CString, OsStr};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::sys::stat::{self, FileStat, SFlag};
use nix::unistd::{self, UnlinkatFlags};

use crate::errors::os_error_text;
use crate::quote::quote;
use crate::sys::fs::open_anchor;
#[doc(hidden)]
pub use parallel::force_parallel;
use parallel::{Settings, Shared, ShutDownOnDrop, start_workers};
pub use walk::MAX_OPEN_DIRS;
use walk::{Frame, MAX_TYPE_CHANGES, Walker, descriptor_budget, open_dir};

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
/// A [`RemoveError`]: the error below, and the entry it is about (empty for
/// the first two, and when `path` itself could not be removed).
///
/// * `InvalidInput` if `path` has no final component (`/`, `..`) or contains
///   a NUL byte.
/// * The OS error for the parent directory of `path` if it cannot be opened
///   (including `ENOENT` if the parent is gone).
/// * Otherwise the first error that stopped some part of the removal, with
///   its raw errno where there is one (e.g. `EACCES`, `EBUSY`, `EXDEV` for a
///   mount point inside the tree). Removal carries on past an error and
///   removes everything else it can before returning it. On a tree large
///   enough for threads, "first" is the calling thread's first error if it
///   met one, else the first one a worker thread reported. An error without an
///   errno (`ErrorKind::Other`) means the tree changed under us in a way that
///   made it unsafe to continue in that part of it, e.g. a directory was
///   replaced while its descriptor was closed.
pub fn remove_created(path: &Path) -> Result<(), RemoveError> {
    Pinned::new(path).map_err(RemoveError::top)?.remove()
}

/// Why a removal failed: the error, and the entry it is about.
///
/// Invariant: [`RemoveError::entry`] is relative to the removed path, made
/// only of the names of entries below it (no `.`, `..` or leading `/`), as
/// bytes; empty when the error is about the path itself.
#[derive(Debug)]
pub struct RemoveError {
    entry: PathBuf,
    error: io::Error,
}

impl RemoveError {
    /// An error about the removed path itself.
    fn top(error: io::Error) -> Self {
        RemoveError {
            entry: PathBuf::new(),
            error,
        }
    }

    /// The entry that could not be removed (or whose error stopped the
    /// removal there), relative to the removed path; empty: the path itself.
    pub fn entry(&self) -> &Path {
        &self.entry
    }

    /// The entry as the user knows it: `path` (the removed path, as the
    /// caller names it) joined with [`RemoveError::entry`]; `path` itself
    /// when the entry is empty (`Path::join` would add a trailing `/`).
    pub fn path_in(&self, path: &Path) -> PathBuf {
        if self.entry.as_os_str().is_empty() {
            path.to_owned()
        } else {
            path.join(&self.entry)
        }
    }

    /// The error (with its errno where there is one).
    pub fn error(&self) -> &io::Error {
        &self.error
    }

    /// The error, without the entry.
    pub fn into_error(self) -> io::Error {
        self.error
    }
}

impl fmt::Display for RemoveError {
    /// `'sub/entry': <OS text>`, or the OS text alone for the path itself:
    /// the caller knows the path and says which one it was.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.entry.as_os_str().is_empty() {
            write!(f, "{}: ", quote(self.entry.as_os_str()))?;
        }
        f.write_str(&os_error_text(&self.error))
    }
}

impl std::error::Error for RemoveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// `name` (one directory entry's name) as a path component.
fn component(name: &CStr) -> &Path {
    Path::new(OsStr::from_bytes(name.to_bytes()))
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
        let parent = open_anchor(parent)?;
        Ok(Pinned { parent, name })
    }

    /// The entry `name` of the directory already open as `parent`: for a path created
    /// relative to a directory descriptor (the `--exec` guardian creates it in the directory
    /// rtmp opened), which is pinned from before the entry existed.
    pub fn in_dir(parent: OwnedFd, name: CString) -> Pinned {
        Pinned { parent, name }
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
    pub fn remove(&self) -> Result<(), RemoveError> {
        remove_entry(self.parent.as_fd(), &self.name)
    }
}

/// Removes entry `name` of directory `base` as [`remove_created`] describes;
/// `base` itself is trusted and never modified.
///
/// # Errors
/// As [`remove_created`].
pub fn remove_entry(base: BorrowedFd<'_>, name: &CStr) -> Result<(), RemoveError> {
    remove_entry_with(base, name, Settings::current())
}

fn remove_entry_with(
    base: BorrowedFd<'_>,
    name: &CStr,
    settings: Settings,
) -> Result<(), RemoveError> {
    // The common case first, in one system call: rtmp's directory, empty.
    // `unlinkat(AT_REMOVEDIR)` of a name in the pinned parent never follows a
    // symlink (a symlink or file there fails with ENOTDIR) and removes only an
    // empty directory, which is what the walk below would end with anyway.
    match unistd::unlinkat(base, name, UnlinkatFlags::RemoveDir) {
        Ok(()) | Err(Errno::ENOENT) => return Ok(()),
        // Not a directory: unlink it as the loop below would after its
        // lstat, and fall back to it if it became a directory meanwhile.
        Err(Errno::ENOTDIR) => match unistd::unlinkat(base, name, UnlinkatFlags::NoRemoveDir) {
            Ok(()) | Err(Errno::ENOENT) => return Ok(()),
            Err(Errno::EISDIR) => {}
            Err(e) => return Err(RemoveError::top(e.into())),
        },
        // ENOTEMPTY, and anything else (EACCES, EBUSY, ...): the general path
        // decides, exactly as without this shortcut.
        Err(_) => {}
    }
    // The loop re-classifies if the entry changes type between the lstat
    // and the removal (the child may still be running).
    for _ in 0..MAX_TYPE_CHANGES {
        match stat::fstatat(base, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Err(Errno::ENOENT) => return Ok(()),
            Err(e) => return Err(RemoveError::top(e.into())),
            Ok(st) if is_dir(&st) => {
                if let Some(result) = remove_top_dir(base, name, settings) {
                    return result;
                }
            }
            Ok(_) => match unistd::unlinkat(base, name, UnlinkatFlags::NoRemoveDir) {
                Ok(()) | Err(Errno::ENOENT) => return Ok(()),
                Err(Errno::EISDIR) => {}
                Err(e) => return Err(RemoveError::top(e.into())),
            },
        }
    }
    Err(RemoveError::top(changed_error("kept changing type")))
}

/// Empties and removes the directory `name` in `base`. `None` means it turned
/// out not to be a directory (anymore) and the caller should classify again.
fn remove_top_dir(
    base: BorrowedFd<'_>,
    name: &CStr,
    settings: Settings,
) -> Option<Result<(), RemoveError>> {
    // `base` is not ours: never widen its permissions.
    let fd = match open_dir(base, name, &mut false) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => return Some(Ok(())),
        Err(Errno::ENOTDIR | Errno::ELOOP) => return None,
        Err(e) => return Some(Err(RemoveError::top(e.into()))),
    };
    let top = match stat::fstat(&fd) {
        Ok(st) => Frame::new(name.to_owned(), &st, fd),
        Err(e) => return Some(Err(RemoveError::top(e.into()))),
    };
    let shared = Shared::new(descriptor_budget(), settings);
    // Threads, if the tree proves large, are started by the walker through
    // `start` and joined when the scope ends (`parallel`'s module doc says
    // why that is sound here and in the forked guardian).
    let own = std::thread::scope(|scope| {
        let _stop = ShutDownOnDrop(&shared);
        let start = || start_workers(&shared, scope);
        let mut walker = Walker::new(top, &shared, Some(&start));
        loop {
            walker.remove_contents();
            match unistd::unlinkat(base, name, UnlinkatFlags::RemoveDir) {
                Ok(()) | Err(Errno::ENOENT) => break,
                // Entries appeared meanwhile, or a listing missed some.
                Err(Errno::ENOTEMPTY | Errno::EEXIST) if walker.relist_top() => {}
                Err(e) => {
                    // About the top itself: an empty entry path.
                    walker.record(0, None, e.into());
                    break;
                }
            }
        }
        walker.finish()
    });
    // Every thread is joined and every walker finished.
    shared.budget.check_conserved();
    Some(shared.outcome(own))
}

fn is_dir(st: &FileStat) -> bool {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR
}

/// An error without an errno: the entry changed under us in a way that makes
/// going on there unsafe. The text does not name the entry: the
/// [`RemoveError`] carrying it does, as bytes, and the message quotes it.
fn changed_error(what: &str) -> io::Error {
    io::Error::other(format!(
        "refusing to continue removal: {what} during removal"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    /// The removal a case runs: [`remove_created`] as rtmp calls it, or the
    /// same with the parallel path forced on.
    type Remove<'a> = &'a dyn Fn(&Path) -> Result<(), RemoveError>;

    fn remove_in(path: &Path, settings: Settings) -> Result<(), RemoveError> {
        let pinned = Pinned::new(path).map_err(RemoveError::top)?;
        remove_entry_with(pinned.parent(), pinned.name(), settings)
    }

    fn parallel(path: &Path) -> Result<(), RemoveError> {
        remove_in(path, Settings::forced(4))
    }

    /// Every case runs twice: as rtmp removes (these trees are too small for
    /// threads), and with four threads forced on from the first
    /// subdirectory.
    macro_rules! both_ways {
        ($($case:ident: $name:ident, $parallel:ident;)*) => {$(
            #[test]
            fn $name() {
                $case(&|p| remove_created(p));
            }
            #[test]
            fn $parallel() {
                $case(&parallel);
            }
        )*};
    }

    fn gone(path: &Path) -> bool {
        matches!(fs::symlink_metadata(path), Err(e) if e.kind() == io::ErrorKind::NotFound)
    }

    fn scratch() -> tempfile::TempDir {
        tempfile::tempdir().expect("create scratch dir")
    }

    fn plain_file_case(remove_created: Remove<'_>) {
        let tmp = scratch();
        let f = tmp.path().join("f");
        fs::write(&f, b"x").expect("write");
        remove_created(&f).expect("remove");
        assert!(gone(&f));
    }

    fn empty_dir_case(remove_created: Remove<'_>) {
        let tmp = scratch();
        let d = tmp.path().join("d");
        fs::create_dir(&d).expect("mkdir");
        remove_created(&d).expect("remove");
        assert!(gone(&d));
    }

    fn nested_tree_with_files_case(remove_created: Remove<'_>) {
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

    fn already_gone_is_ok_case(remove_created: Remove<'_>) {
        let tmp = scratch();
        remove_created(&tmp.path().join("never-created")).expect("ENOENT is success");
    }

    fn relative_path_and_invalid_input_case(remove_created: Remove<'_>) {
        let err = remove_created(Path::new("/")).expect_err("no final component");
        assert_eq!(err.error().kind(), io::ErrorKind::InvalidInput);
        assert_eq!(err.entry(), Path::new(""));
        // A bare name is resolved against the current directory.
        remove_created(Path::new("rtmp-cleanup-test-does-not-exist")).expect("absent");
    }

    fn top_symlink_to_outside_dir_only_link_removed_case(remove_created: Remove<'_>) {
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

    fn dangling_symlink_removed_case(remove_created: Remove<'_>) {
        let tmp = scratch();
        let link = tmp.path().join("dangling");
        symlink(tmp.path().join("nowhere"), &link).expect("symlink");
        remove_created(&link).expect("remove");
        assert!(gone(&link));
    }

    fn symlinks_inside_tree_not_followed_case(remove_created: Remove<'_>) {
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

    fn fifo_and_socket_removed_case(remove_created: Remove<'_>) {
        let tmp = scratch();
        let top = tmp.path().join("top");
        fs::create_dir(&top).expect("mkdir");
        unistd::mkfifo(
            &top.join("fifo"),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .expect("mkfifo");
        let _listener =
            std::os::unix::net::UnixListener::bind(top.join("sock")).expect("bind socket");
        remove_created(&top).expect("remove");
        assert!(gone(&top));
    }

    fn non_utf8_names_removed_case(remove_created: Remove<'_>) {
        let tmp = scratch();
        let top = tmp.path().join("top");
        let odd = std::ffi::OsStr::from_bytes(b"\xff\xfe");
        fs::create_dir_all(top.join(odd)).expect("mkdir");
        fs::write(top.join(odd).join(odd), b"x").expect("write");
        fs::write(top.join(odd).with_extension("f"), b"x").expect("write");
        remove_created(&top).expect("remove");
        assert!(gone(&top));
    }

    /// A tree big enough for threads as rtmp removes it (on more than one
    /// CPU), and with threads forced: everything inside goes, including
    /// read-only directories and symlinks to the outside, and nothing outside
    /// is touched.
    #[test]
    fn large_tree_goes_parallel_and_touches_nothing_outside() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = scratch();
        let outside = tmp.path().join("outside");
        fs::create_dir_all(outside.join("sub")).expect("mkdir");
        fs::write(outside.join("keep"), b"k").expect("write");
        fs::write(outside.join("sub/keep2"), b"k2").expect("write");
        fs::set_permissions(&outside, fs::Permissions::from_mode(0o555)).expect("chmod");
        let snapshot = |dir: &Path| {
            let mut names: Vec<_> = fs::read_dir(dir)
                .expect("list outside")
                .map(|e| e.expect("entry").file_name())
                .collect();
            names.sort();
            let mode = fs::metadata(dir).expect("stat").permissions().mode();
            (names, mode)
        };
        let before = snapshot(&outside);
        let build = |top: &Path| {
            for i in 0..40 {
                for j in 0..4 {
                    let dir = top.join(format!("d{i}/e{j}"));
                    fs::create_dir_all(&dir).expect("mkdir");
                    for k in 0..30 {
                        fs::write(dir.join(format!("f{k}")), b"").expect("write");
                    }
                    symlink(&outside, dir.join("to_outside")).expect("symlink");
                    symlink(outside.join("keep"), dir.join("to_keep")).expect("symlink");
                }
                let locked = top.join(format!("d{i}/e0"));
                fs::set_permissions(&locked, fs::Permissions::from_mode(0o500)).expect("chmod");
            }
        };
        for forced in [false, true] {
            let top = tmp.path().join("top");
            build(&top);
            let handed_out = parallel::HANDED_OUT.with(std::cell::Cell::get);
            if forced {
                parallel(&top).expect("remove");
                let now = parallel::HANDED_OUT.with(std::cell::Cell::get);
                assert!(now > handed_out, "forced removal handed nothing out");
            } else {
                remove_created(&top).expect("remove");
            }
            assert!(gone(&top), "forced: {forced}");
            assert_eq!(snapshot(&outside), before);
            assert_eq!(fs::read(outside.join("keep")).expect("kept"), b"k");
            assert_eq!(fs::read(outside.join("sub/keep2")).expect("kept"), b"k2");
        }
    }

    /// The entry joins the path as the caller names it (no trailing `/` for
    /// the path itself), and `Display` quotes it as GNU does.
    #[test]
    fn remove_error_names_the_entry_in_the_path() {
        let top = RemoveError::top(io::Error::from_raw_os_error(1));
        assert_eq!(top.path_in(Path::new("./tmp.X")), Path::new("./tmp.X"));
        assert_eq!(top.to_string(), "Operation not permitted");
        let inner = RemoveError {
            entry: PathBuf::from("sub/it's"),
            error: io::Error::from_raw_os_error(18),
        };
        assert_eq!(
            inner.path_in(Path::new("./tmp.X")),
            Path::new("./tmp.X/sub/it's")
        );
        assert_eq!(inner.to_string(), r"'sub/it\'s': Invalid cross-device link");
    }

    both_ways! {
        plain_file_case: plain_file, plain_file_parallel;
        empty_dir_case: empty_dir, empty_dir_parallel;
        nested_tree_with_files_case: nested_tree_with_files, nested_tree_with_files_parallel;
        already_gone_is_ok_case: already_gone_is_ok, already_gone_is_ok_parallel;
        relative_path_and_invalid_input_case: relative_path_and_invalid_input, relative_path_and_invalid_input_parallel;
        top_symlink_to_outside_dir_only_link_removed_case: top_symlink_to_outside_dir_only_link_removed, top_symlink_to_outside_dir_only_link_removed_parallel;
        dangling_symlink_removed_case: dangling_symlink_removed, dangling_symlink_removed_parallel;
        symlinks_inside_tree_not_followed_case: symlinks_inside_tree_not_followed, symlinks_inside_tree_not_followed_parallel;
        fifo_and_socket_removed_case: fifo_and_socket_removed, fifo_and_socket_removed_parallel;
        non_utf8_names_removed_case: non_utf8_names_removed, non_utf8_names_removed_parallel;
    }
}
