//! `--replace DEST`: the path is made next to DEST and moved over it only when the command
//! succeeded (issue 14, section 2; docs/behaviour.md C10).
//!
//! Invariants:
//! * DEST is checked before anything is created ([`refuse_dest`]): a symbolic link is refused
//!   (never followed into another directory), and so is a DEST of the wrong kind (a directory
//!   for a file, a non-directory for `-d`, a FIFO or device for a file);
//! * DEST changes only through one atomic `rename` (a file) or `renameat2(RENAME_EXCHANGE)`
//!   (an existing directory; a plain no-replace rename for a missing one), and only after the
//!   command exited 0 and the result was given DEST's mode and owner and synced to disk; the
//!   directory is opened for its own sync before the rename, so the last step that can fail
//!   after the rename is that sync;
//! * every name is used relative to the pinned parent (the directory the path was created in,
//!   which is DEST's), never through a symlink: the result is reopened with `O_NOFOLLOW`, and
//!   renames never follow a symlink at either name;
//! * any failure is one message, status 125, and the caller then removes the path (or keeps it
//!   with `--keep-on-failure`), so DEST is as it was; after an exchange the old tree is at the
//!   path's name and the caller's usual safe cleanup removes it.

use std::ffi::{CStr, CString};
use std::fmt;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::sys::stat::{FileStat, SFlag, fstatat};

use super::target::Target;
use crate::errors::os_error_text;
use crate::exit::Outcome;
use crate::output::warn;
use crate::quote::quote;
use crate::request::{Exec, Kind, Replace};
use crate::sys::fs::{
    DirAccess, Rename, chmod_by_descriptor, current_umask, open_dir_nofollow, open_regular_at,
    rename_at,
};

/// How deep [`sync_tree`] walks with one descriptor per level before it settles for one
/// `syncfs` of the whole filesystem for what lies deeper.
const SYNC_DEPTH: usize = 128;

/// A failed step: `cannot replace 'DEST': <why>`.
#[derive(Debug)]
struct ReplaceError {
    dest: String,
    why: String,
}

impl ReplaceError {
    fn os(replace: &Replace, source: &io::Error) -> Self {
        Self::new(replace, os_error_text(source))
    }

    fn new(replace: &Replace, why: impl Into<String>) -> Self {
        ReplaceError {
            dest: quote(replace.dest()),
            why: why.into(),
        }
    }
}

impl fmt::Display for ReplaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot replace {}: {}", self.dest, self.why)
    }
}

/// Before creation: with `--replace`, refuses a DEST that is a symbolic link or of the wrong
/// kind for `exec`'s path; a missing DEST is fine (its directory is checked by the creation).
///
/// Output: `None` to go on; `Some(`[`Outcome::ExecFailed`]`)` after the one message
/// (`cannot replace 'DEST': it is a symbolic link; name its target instead`, `...: Is a
/// directory`, `...: Not a directory`, `...: not a regular file`, or the OS error of `lstat`).
pub(super) fn refuse_dest(exec: &Exec) -> Option<Outcome> {
    let replace = exec.modes.replace()?;
    let why = match std::fs::symlink_metadata(replace.entry()) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => os_error_text(&e),
        Ok(meta) => {
            let kind = meta.file_type();
            match exec.kind() {
                _ if kind.is_symlink() => {
                    "it is a symbolic link; name its target instead".to_owned()
                }
                Kind::File if kind.is_dir() => os_error_text(&Errno::EISDIR.into()),
                Kind::File if !kind.is_file() => "not a regular file".to_owned(),
                Kind::Directory if !kind.is_dir() => os_error_text(&Errno::ENOTDIR.into()),
                _ => return None,
            }
        }
    };
    warn(&ReplaceError::new(replace, why).to_string());
    Some(Outcome::ExecFailed)
}

/// After the command: with `--replace` and a command that succeeded, moves the path over
/// DEST (module doc); otherwise passes `outcome` and `child_failed` through.
///
/// Output: `(outcome, child_failed)` for the final cleanup. After a failed step (reported in
/// one message) `(`[`Outcome::ExecFailed`]`, true)`, so that the path is removed, or kept with
/// `--keep-on-failure`, as after a failed command.
pub(super) fn commit(
    exec: &Exec,
    target: &Target,
    outcome: Outcome,
    child_failed: bool,
) -> (Outcome, bool) {
    let (Some(replace), Target::Named(_, pinned), false) =
        (exec.modes.replace(), target, child_failed)
    else {
        return (outcome, child_failed);
    };
    match move_into_place(replace, exec.kind(), pinned.parent(), pinned.name()) {
        Ok(()) => (outcome, false),
        Err(e) => {
            warn(&e.to_string());
            (Outcome::ExecFailed, true)
        }
    }
}

/// Mode and owner, sync, rename (or exchange), directory sync: entry `name` of `dir` becomes
/// DEST, entry `replace.name()` of the same directory.
fn move_into_place(
    replace: &Replace,
    kind: Kind,
    dir: BorrowedFd<'_>,
    name: &CStr,
) -> Result<(), ReplaceError> {
    let os = |e: io::Error| ReplaceError::os(replace, &e);
    let dest = CString::new(replace.name()).map_err(|_| os(Errno::EINVAL.into()))?;
    let old = match fstatat(dir, dest.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => Some(st),
        Err(Errno::ENOENT) => None,
        Err(e) => return Err(os(e.into())),
    };
    let result: OwnedFd = match kind {
        Kind::File => open_regular_at(dir, name, false)
            .map_err(|e| result_error(replace, &e))?
            .into(),
        Kind::Directory => open_dir_nofollow(dir, name, DirAccess::List)
            .map_err(|e| result_error(replace, &e.into()))?,
    };
    let like = old.filter(|st| same_kind(st, kind));
    set_owner_and_mode(result.as_fd(), like.as_ref(), kind).map_err(os)?;
    match kind {
        Kind::File => File::from(result).sync_all().map_err(os)?,
        Kind::Directory => sync_tree(result).map_err(os)?,
    }
    // Opened before the rename, so that nothing but the sync itself can fail after it.
    let parent =
        File::from(open_dir_nofollow(dir, c".", DirAccess::List).map_err(|e| os(e.into()))?);
    rename_over(dir, name, &dest, kind, old.is_some()).map_err(os)?;
    parent.sync_all().map_err(os)
}

/// The result is not what rtmp made: `result 'NAME' is not a regular file` and the like.
fn result_error(replace: &Replace, e: &io::Error) -> ReplaceError {
    let why = if e.raw_os_error() == Some(Errno::ELOOP as i32) {
        "the result is a symbolic link".to_owned()
    } else {
        format!("the result: {}", os_error_text(e))
    };
    ReplaceError::new(replace, why)
}

/// Whether `st` is of the kind rtmp made (a regular file, a directory).
fn same_kind(st: &FileStat, kind: Kind) -> bool {
    let format = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
    match kind {
        Kind::File => format == SFlag::S_IFREG,
        Kind::Directory => format == SFlag::S_IFDIR,
    }
}

/// Gives the result DEST's owner, group and permission bits (`like`), or a new file's mode
/// (0666 or 0777 minus the umask) when there is no DEST of that kind.
///
/// An owner or group rtmp may not set (`EPERM`, or `EINVAL` for an id the user namespace does
/// not map) is left as it is, as `sed -i` does; the setuid and setgid bits are then not copied,
/// so that they never apply to an owner or group DEST did not have.
fn set_owner_and_mode(fd: BorrowedFd<'_>, like: Option<&FileStat>, kind: Kind) -> io::Result<()> {
    let Some(like) = like else {
        let base = match kind {
            Kind::File => 0o666,
            Kind::Directory => 0o777,
        };
        return Ok(chmod_by_descriptor(fd, base & !current_umask())?);
    };
    let ours = File::from(fd.try_clone_to_owned()?).metadata()?;
    let (uid, gid) = (like.st_uid, like.st_gid);
    if (ours.uid(), ours.gid()) != (uid, gid) {
        let tolerated = |e: &io::Error| matches!(e.raw_os_error(), Some(c) if c == Errno::EPERM as i32 || c == Errno::EINVAL as i32);
        if let Err(e) = std::os::unix::fs::fchown(fd, Some(uid), Some(gid)) {
            if !tolerated(&e) {
                return Err(e);
            }
            // The owner may not change, the group may (to one of the caller's groups).
            if let Err(e) = std::os::unix::fs::fchown(fd, None, Some(gid)) {
                if !tolerated(&e) {
                    return Err(e);
                }
            }
        }
    }
    let now = File::from(fd.try_clone_to_owned()?).metadata()?;
    let mut mode = like.st_mode & 0o7777;
    if (now.uid(), now.gid()) != (uid, gid) {
        mode &= !0o6000;
    }
    Ok(chmod_by_descriptor(fd, mode)?)
}

/// Renames entry `from` of `dir` over `to`: a file with `rename`; a directory by exchange when
/// DEST `existed` (then the old tree is at `from`), else with no-replace, each retried once
/// the other way if DEST appeared or vanished meanwhile.
fn rename_over(
    dir: BorrowedFd<'_>,
    from: &CStr,
    to: &CStr,
    kind: Kind,
    existed: bool,
) -> io::Result<()> {
    if kind == Kind::File {
        return rename_at(dir, from, to, Rename::Replace);
    }
    let (first, second, retry_on) = if existed {
        (Rename::Exchange, Rename::NoReplace, Errno::ENOENT)
    } else {
        (Rename::NoReplace, Rename::Exchange, Errno::EEXIST)
    };
    match rename_at(dir, from, to, first) {
        Err(e) if e.raw_os_error() == Some(retry_on as i32) => rename_at(dir, from, to, second),
        other => other,
    }
}

/// Syncs every regular file and directory of the tree at `top` to disk, `top` last, never
/// following a symlink or entering a mount point; FIFOs, sockets and devices are not opened.
/// One descriptor per level, down to [`SYNC_DEPTH`]. What cannot be reached that way (deeper
/// levels, or entries the caller may not open: a file of mode 0200, a directory of mode 0300)
/// is covered by one `syncfs` of the filesystem instead, so that such a tree is still moved
/// into place, durably.
fn sync_tree(top: OwnedFd) -> io::Result<()> {
    let mut whole_fs = None;
    let mut stack = vec![sync_level(top, &mut whole_fs)?];
    loop {
        let depth = stack.len();
        let Some(current) = stack.last_mut() else {
            break;
        };
        let Some(name) = current.subdirs.pop() else {
            if let Some(done) = stack.pop() {
                File::from(done.dir).sync_all()?;
            }
            continue;
        };
        if depth >= SYNC_DEPTH {
            settle_for_syncfs(&mut whole_fs, current.dir.as_fd())?;
            continue;
        }
        match open_dir_nofollow(current.dir.as_fd(), &name, DirAccess::List) {
            Ok(dir) => {
                let next = sync_level(dir, &mut whole_fs)?;
                stack.push(next);
            }
            // A mount point inside the tree is not the tree's (and not entered).
            Err(Errno::EXDEV) => {}
            Err(Errno::EACCES | Errno::EPERM) => {
                settle_for_syncfs(&mut whole_fs, current.dir.as_fd())?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(dir) = whole_fs {
        nix::unistd::syncfs(dir)?;
    }
    Ok(())
}

/// One directory of [`sync_tree`]: its regular files synced, its subdirectories' names.
struct Level {
    dir: OwnedFd,
    subdirs: Vec<CString>,
}

/// Syncs the regular files of `dir` and lists its subdirectories; a file rtmp may not open
/// makes `whole_fs` a descriptor for the final `syncfs`.
fn sync_level(dir: OwnedFd, whole_fs: &mut Option<OwnedFd>) -> io::Result<Level> {
    let mut subdirs = Vec::new();
    let mut listing = Dir::from_fd(dir.try_clone()?)?;
    for entry in listing.iter() {
        let entry = entry?;
        let name = entry.file_name();
        if name == c"." || name == c".." {
            continue;
        }
        let st = fstatat(dir.as_fd(), name, AtFlags::AT_SYMLINK_NOFOLLOW)?;
        if same_kind(&st, Kind::Directory) {
            subdirs.push(name.to_owned());
        } else if same_kind(&st, Kind::File) {
            match open_regular_at(dir.as_fd(), name, false) {
                Ok(file) => file.sync_all()?,
                Err(e) if matches!(e.raw_os_error(), Some(c) if c == Errno::EACCES as i32 || c == Errno::EPERM as i32) =>
                {
                    settle_for_syncfs(whole_fs, dir.as_fd())?;
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(Level { dir, subdirs })
}

/// Records that [`sync_tree`] ends with a `syncfs` on the filesystem of `dir`.
fn settle_for_syncfs(whole_fs: &mut Option<OwnedFd>, dir: BorrowedFd<'_>) -> io::Result<()> {
    if whole_fs.is_none() {
        *whole_fs = Some(dir.try_clone_to_owned()?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn sync_tree_walks_deep_trees_and_skips_fifos() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut deep = tmp.path().join("t");
        for i in 0..(SYNC_DEPTH + 5) {
            deep.push(format!("d{i}"));
        }
        std::fs::create_dir_all(&deep).expect("mkdir");
        std::fs::write(deep.join("f"), b"x").expect("write");
        nix::unistd::mkfifo(
            &tmp.path().join("t/fifo"),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .expect("fifo");
        std::os::unix::fs::symlink("/", tmp.path().join("t/root")).expect("symlink");
        let top = nix::fcntl::open(
            &tmp.path().join("t"),
            nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_DIRECTORY,
            nix::sys::stat::Mode::empty(),
        )
        .expect("open");
        sync_tree(top).expect("sync");
    }

    #[test]
    fn a_new_destination_gets_the_umasks_mode() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let f = tmp.path().join("f");
        std::fs::write(&f, b"x").expect("write");
        let file = File::open(&f).expect("open");
        set_owner_and_mode(file.as_fd(), None, Kind::File).expect("mode");
        let mode = std::fs::metadata(&f).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o666 & !current_umask());
    }

    #[test]
    fn sync_tree_settles_for_syncfs_on_entries_it_may_not_open() {
        // As root every open succeeds; tests/it/modes_replace.rs runs the refused case as an
        // unprivileged user.
        let tmp = tempfile::tempdir().expect("tempdir");
        let t = tmp.path().join("t");
        std::fs::create_dir_all(t.join("locked")).expect("mkdir");
        std::fs::write(t.join("secret"), b"x").expect("write");
        std::fs::set_permissions(t.join("secret"), std::fs::Permissions::from_mode(0o200))
            .expect("chmod");
        std::fs::set_permissions(t.join("locked"), std::fs::Permissions::from_mode(0o300))
            .expect("chmod");
        let top = nix::fcntl::open(
            &t,
            nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_DIRECTORY,
            nix::sys::stat::Mode::empty(),
        )
        .expect("open");
        sync_tree(top).expect("sync");
        std::fs::set_permissions(t.join("locked"), std::fs::Permissions::from_mode(0o700))
            .expect("chmod back");
    }
}
