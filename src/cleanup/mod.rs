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
//! * **Cheap in the common case.** An empty directory is removed with one
//!   `unlinkat(AT_REMOVEDIR)` of the name in the pinned parent, which
//!   follows no symlink and removes nothing but an empty directory; anything
//!   else (`ENOTEMPTY`, `ENOTDIR`, ...) goes through the rules here.
//! * **Bounded resources.** The walk (`walk`) uses an explicit stack, not
//!   recursion, and holds at most [`MAX_OPEN_DIRS`] directory descriptors,
//!   whatever the depth of the tree, and fewer when `RLIMIT_NOFILE` is low;
//!   running out of descriptors anyway (`EMFILE`) makes it hold fewer and
//!   retry.
//!
//! The Linux calls it relies on (`O_PATH`, `openat2`, `/proc/self/fd`) are in
//! [`crate::sys::fs`].

mod walk;

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::sys::stat::{self, FileStat, SFlag};
use nix::unistd::{self, UnlinkatFlags};

use crate::sys::fs::open_anchor;
pub use walk::MAX_OPEN_DIRS;
use walk::{Frame, MAX_TYPE_CHANGES, Walker, open_dir};

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
        let parent = open_anchor(parent)?;
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
            Err(e) => return Err(e.into()),
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
    walker.remove_contents();
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    fn gone(path: &Path) -> bool {
        matches!(fs::symlink_metadata(path), Err(e) if e.kind() == io::ErrorKind::NotFound)
    }

    fn scratch() -> tempfile::TempDir {
        tempfile::tempdir().expect("create scratch dir")
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
}
