//! Descriptors and the file system: the Linux calls cleanup, creation and the guardian need.
//!
//! Invariants: every descriptor opened here (the duplicate of standard input included) is
//! close-on-exec unless the caller asks for a
//! descriptor at a fixed number (`dup_onto`, used only by the forked guardian, which never
//! calls `exec`); no open here follows a symlink in its final component except `open_anchor`,
//! whose path rtmp has just created and so trusts (SECURITY.md, "Guarantees").

use std::ffi::CStr;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::errno::Errno;
use nix::fcntl::{self, AtFlags, FcntlArg, OFlag, OpenHow, ResolveFlag};
use nix::libc;
use nix::sys::stat::{self, Mode};

/// Set once `openat2` turned out to be missing, to avoid a wasted syscall on every open.
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

/// Makes every later [`open_dir_nofollow`] of this process use the plain `openat` fallback, as
/// on a kernel without `openat2`.
///
/// For tests only (`tests/cleanup.rs` runs it in a process of its own): rtmp never calls it.
#[doc(hidden)]
pub fn use_openat_fallback_only() {
    NO_OPENAT2.store(true, Ordering::Relaxed);
}

/// Why a directory is opened by [`open_dir_nofollow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DirAccess {
    /// `O_RDONLY`: to list and change it; needs read permission on it.
    List,
    /// `O_PATH`: only as an anchor for `*at()` calls and `fstat`; needs search permission on
    /// the parent alone, so its outcome tells which of the two directories is locked.
    Anchor,
}

/// `openat(parent, name, access|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC)`, through `openat2` where
/// the kernel has it so that a symlink anywhere and a mount point (even a bind mount of the
/// same filesystem) are refused (`ELOOP`, `EXDEV`) instead of followed or entered.
///
/// # Errors
/// The OS error of the open.
pub(crate) fn open_dir_nofollow(
    parent: BorrowedFd<'_>,
    name: &CStr,
    access: DirAccess,
) -> nix::Result<OwnedFd> {
    let access = match access {
        DirAccess::List => OFlag::O_RDONLY,
        DirAccess::Anchor => OFlag::O_PATH,
    };
    let flags = access | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    if !NO_OPENAT2.load(Ordering::Relaxed) {
        let how = OpenHow::new().flags(flags).resolve(
            ResolveFlag::RESOLVE_NO_SYMLINKS
                | ResolveFlag::RESOLVE_NO_XDEV
                | ResolveFlag::RESOLVE_BENEATH,
        );
        match fcntl::openat2(parent, name, how) {
            Err(Errno::ENOSYS) => NO_OPENAT2.store(true, Ordering::Relaxed),
            // Seccomp filters often answer unknown syscalls with EPERM; a genuine EPERM will
            // simply come back from openat below.
            Err(Errno::EPERM) => {}
            other => return other,
        }
    }
    fcntl::openat(parent, name, flags, Mode::empty())
}

/// Opens directory `path` with `O_PATH`, following it as it is now: an anchor for `*at()`
/// calls that needs no read permission on a directory that may not be rtmp's.
///
/// # Errors
/// The OS error of the open.
pub(crate) fn open_anchor(path: &Path) -> io::Result<OwnedFd> {
    Ok(fcntl::open(
        path,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?)
}

/// Sets the permission bits of the directory open as `fd`, which may be an `O_PATH`
/// descriptor.
///
/// `fchmod` refuses `O_PATH` descriptors (`EBADF`); then the mode is set through
/// `/proc/self/fd/N`, a magic link that resolves to exactly the inode the descriptor holds, so
/// unlike `chmod(path)` a symlink swapped in meanwhile cannot redirect it.
///
/// # Errors
/// The OS error (`EIO` for an error without an errno).
pub(crate) fn chmod_by_descriptor(fd: BorrowedFd<'_>, mode: u32) -> nix::Result<()> {
    match stat::fchmod(fd, Mode::from_bits_truncate(mode)) {
        Err(Errno::EBADF) => {
            let link = format!("/proc/self/fd/{}", fd.as_raw_fd());
            std::fs::set_permissions(link, std::fs::Permissions::from_mode(mode))
                .map_err(|e| e.raw_os_error().map_or(Errno::EIO, Errno::from_raw))
        }
        other => other,
    }
}

/// A file without a name in directory `dir`, open read-write and close-on-exec, mode 0600
/// (`O_TMPFILE`). `Ok(None)` where the kernel or the filesystem does not support that
/// (`EOPNOTSUPP`, `EISDIR`, `EINVAL`), so the caller can fall back.
///
/// # Errors
/// Any other OS error of the open.
pub(crate) fn open_unnamed_file(dir: &Path) -> io::Result<Option<File>> {
    let opened = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_TMPFILE)
        .mode(0o600)
        .open(dir);
    match opened {
        Ok(file) => Ok(Some(file)),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EOPNOTSUPP | libc::EISDIR | libc::EINVAL)
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Clears `FD_CLOEXEC` on descriptor number `fd`, so that it survives `exec`.
/// Async-signal-safe (one `fcntl`): made for the command's process between `fork` and `exec`.
///
/// # Errors
/// The OS error of `fcntl`.
pub(crate) fn clear_close_on_exec(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl(F_SETFD) only changes a flag of a descriptor number; it touches no memory
    // and cannot invalidate a descriptor that other code holds.
    let rc = unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Writes all of `bytes` to the socket `fd` with `MSG_NOSIGNAL` (a peer that is gone gives
/// `EPIPE`, never SIGPIPE), retrying on `EINTR` and giving up on any other error.
/// Async-signal-safe: no allocation.
///
/// # Errors
/// The first OS error other than `EINTR`.
pub(crate) fn send_all(fd: RawFd, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is a valid, initialised buffer of `bytes.len()` bytes for the call.
        let n = unsafe { libc::send(fd, bytes.as_ptr().cast(), bytes.len(), libc::MSG_NOSIGNAL) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(e);
        }
        bytes = &bytes[usize::try_from(n).unwrap_or(bytes.len()).min(bytes.len())..];
    }
    Ok(())
}

/// A copy of `fd` at the lowest free number at or above `min` (`F_DUPFD`, not close-on-exec).
///
/// # Errors
/// The OS error of `fcntl` (`EMFILE` when no number is free).
pub(crate) fn dup_at_or_above(fd: BorrowedFd<'_>, min: RawFd) -> io::Result<OwnedFd> {
    let raw = fcntl::fcntl(fd, FcntlArg::F_DUPFD(min))?;
    // SAFETY: F_DUPFD succeeded, so `raw` is a new open descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// `fd` itself when its number is at least `min`, else a close-on-exec copy at the lowest free
/// number at or above `min` (`F_DUPFD_CLOEXEC`), the low number being closed.
///
/// For descriptors rtmp hands to a command: with descriptors 0-2 closed by the caller, an open
/// gets one of those numbers, and the command would then read or write its data file as stdin,
/// stdout or stderr (issue 13, item 6). `min` 3 keeps them free.
///
/// # Errors
/// The OS error of `fcntl` (`EMFILE` when no number is free); `fd` is closed then too.
pub(crate) fn fd_at_or_above(fd: OwnedFd, min: RawFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() >= min {
        return Ok(fd);
    }
    let raw = fcntl::fcntl(fd.as_fd(), FcntlArg::F_DUPFD_CLOEXEC(min))?;
    // SAFETY: F_DUPFD_CLOEXEC succeeded, so `raw` is a new open descriptor nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// Whether directory `parent` has an entry `name`, not following a symlink there
/// (`fstatat(AT_SYMLINK_NOFOLLOW)`): a dangling symlink is an entry.
///
/// # Errors
/// The OS error of `fstatat` other than `ENOENT` (`EACCES`, `ENOTDIR`, ...).
pub(crate) fn entry_exists(parent: BorrowedFd<'_>, name: &CStr) -> io::Result<bool> {
    match stat::fstatat(parent, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(_) => Ok(true),
        Err(Errno::ENOENT) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Makes descriptor number `target` a copy of `fd` (`dup2`, not close-on-exec) and returns it
/// as owned; whatever `target` was is closed.
///
/// Only for the forked guardian, which lays out its descriptors by number and never returns
/// into rtmp's code: an owner of `target` elsewhere in the process (rtmp's `Pinned`, say) is
/// then never used or dropped again, so the returned descriptor is the only live owner.
///
/// # Errors
/// The OS error of `dup2`.
pub(crate) fn dup_onto(fd: BorrowedFd<'_>, target: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: dup2 takes two descriptor numbers and touches no memory.
    let raw = unsafe { libc::dup2(fd.as_fd().as_raw_fd(), target) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: dup2 succeeded, so `raw` (== target) is open; by the caller's contract nothing
    // else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// `d_type` of a directory entry that is a directory (`DT_DIR`).
pub(crate) const DT_DIR: u8 = libc::DT_DIR;
/// `d_type` when the filesystem does not say (`DT_UNKNOWN`): the caller must `fstatat`.
pub(crate) const DT_UNKNOWN: u8 = libc::DT_UNKNOWN;

/// Reads the next directory entries of the directory open as `fd` into `buf` with one
/// `getdents64`, retrying on `EINTR`; returns how many bytes of `buf` hold entries (0 at the
/// end of the directory). Walk them with [`dir_entries`].
///
/// Why not `opendir`/`readdir`: glibc's `fdopendir` costs an `fstat` and two `fcntl`s per
/// directory, and nix's iterator a `lseek` when dropped; cleanup already knows the descriptor
/// is a directory (it opened it with `O_DIRECTORY`) and has `fstat`ed it itself.
///
/// # Errors
/// The OS error of `getdents64`.
pub(crate) fn read_dir_chunk(fd: BorrowedFd<'_>, buf: &mut [u8]) -> nix::Result<usize> {
    loop {
        // SAFETY: getdents64 writes at most `buf.len()` bytes into `buf`, which is valid and
        // exclusively borrowed for the call; the descriptor is borrowed, so it stays open.
        let n = unsafe {
            libc::syscall(
                libc::SYS_getdents64,
                fd.as_raw_fd(),
                buf.as_mut_ptr(),
                buf.len(),
            )
        };
        if n >= 0 {
            return Ok(usize::try_from(n).unwrap_or(0).min(buf.len()));
        }
        match Errno::last() {
            Errno::EINTR => {}
            e => return Err(e),
        }
    }
}

/// The entries (name, `d_type`) in bytes filled by [`read_dir_chunk`], `.` and `..` included.
/// Parsed without `unsafe`: a `linux_dirent64` is `d_ino` (8 bytes), `d_off` (8), `d_reclen`
/// (2), `d_type` (1), then the NUL-terminated name; a malformed record ends the iteration.
pub(crate) fn dir_entries(chunk: &[u8]) -> impl Iterator<Item = (&CStr, u8)> {
    const NAME: usize = 19;
    let mut rest = chunk;
    std::iter::from_fn(move || {
        let reclen = usize::from(u16::from_ne_bytes([*rest.get(16)?, *rest.get(17)?]));
        if reclen <= NAME || reclen > rest.len() {
            return None;
        }
        let (record, next) = rest.split_at(reclen);
        rest = next;
        let name = CStr::from_bytes_until_nul(&record[NAME..]).ok()?;
        Some((name, record[18]))
    })
}

/// Fills `buf` with random bytes from the kernel CSPRNG with the `getrandom(2)` system call
/// (flags 0: blocks only until the pool is first initialised, early at boot).
///
/// Why not the getrandom crate: in rtmp's static glibc build it cannot find glibc's
/// `getrandom` (it looks it up with `dlsym`), so it opens `/dev/random`, polls it, then reads
/// `/dev/urandom`: four system calls instead of one on every run. `Ok(false)` when the kernel
/// has no `getrandom` (`ENOSYS`, Linux < 3.17), so the caller can fall back to the crate.
///
/// # Errors
/// Any other OS error.
pub(crate) fn os_random(buf: &mut [u8]) -> io::Result<bool> {
    let mut filled = 0;
    while filled < buf.len() {
        let rest = &mut buf[filled..];
        // SAFETY: getrandom writes at most `rest.len()` bytes into `rest`, which is valid and
        // exclusively borrowed for the call.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n < 0 {
            match Errno::last() {
                Errno::EINTR => continue,
                Errno::ENOSYS => return Ok(false),
                e => return Err(e.into()),
            }
        }
        filled += usize::try_from(n).unwrap_or(0);
    }
    Ok(true)
}

// ---------------------------------------------------------------------------------------------
// Issue 14 (`--stdin`, `--replace`): reopening what rtmp created, renames, the umask.

/// Opens entry `name` of directory `parent` (which may be an `O_PATH` descriptor) as a
/// regular file, for writing when `write` is set, else for reading: never through a symlink
/// (`O_NOFOLLOW`), never blocking on a FIFO (`O_NONBLOCK`, which regular files ignore), never
/// becoming a controlling terminal, close-on-exec.
///
/// # Errors
/// The OS error of the open or of `fstat`; `InvalidInput` ("not a regular file") when the entry
/// is something else (a directory, a FIFO, a device).
pub(crate) fn open_regular_at(
    parent: BorrowedFd<'_>,
    name: &CStr,
    write: bool,
) -> io::Result<File> {
    let access = if write {
        OFlag::O_WRONLY
    } else {
        OFlag::O_RDONLY
    };
    let flags = access | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
    let file = File::from(fcntl::openat(parent, name, flags, Mode::empty())?);
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(file)
}

/// A close-on-exec duplicate of standard input (descriptor 0) as rtmp's caller gave it, for
/// reading; it shares the file offset with descriptor 0.
///
/// A caller that started rtmp with descriptor 0 closed gave no input, and then the first
/// descriptor rtmp itself opened (a signal pipe, a directory) took the number 0. Those are all
/// close-on-exec, while a descriptor inherited through `exec` never is (close-on-exec ones are
/// closed by `exec`), so a close-on-exec descriptor 0 means "closed": `EBADF`, as `cat` says.
///
/// # Errors
/// `EBADF` for a closed standard input; the OS error of `fcntl`.
pub(crate) fn inherited_stdin() -> io::Result<File> {
    let stdin = io::stdin();
    let fd = stdin.as_fd();
    let flags = fcntl::fcntl(fd, FcntlArg::F_GETFD)?;
    if flags & libc::FD_CLOEXEC != 0 {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    Ok(File::from(fd.try_clone_to_owned()?))
}

/// How many bytes can be read from `fd` without blocking (`ioctl(FIONREAD)`: pipes, sockets,
/// terminals). `Ok(None)` where the descriptor's kind does not say (`ENOTTY`, `EINVAL`).
///
/// # Errors
/// Any other OS error of the `ioctl`.
pub(crate) fn bytes_ready(fd: BorrowedFd<'_>) -> io::Result<Option<u64>> {
    let mut count: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int to the pointer it is given, which points to `count`, a
    // live, writable c_int for the whole call.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::FIONREAD, &mut count) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::ENOTTY | libc::EINVAL) => Ok(None),
            _ => Err(e),
        };
    }
    Ok(Some(u64::try_from(count).unwrap_or(0)))
}

/// How [`rename_at`] treats an existing destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rename {
    /// `renameat`: replace it atomically (a directory only if it is empty).
    Replace,
    /// `renameat2(RENAME_EXCHANGE)`: swap the two entries atomically; both must exist.
    Exchange,
    /// `renameat2(RENAME_NOREPLACE)`: fail with `EEXIST` if it exists.
    NoReplace,
}

/// `renameat2`'s flags (kernel ABI, `include/uapi/linux/fs.h`); spelled out because libc has
/// them only for some targets.
const RENAME_NOREPLACE: libc::c_uint = 1;
const RENAME_EXCHANGE: libc::c_uint = 2;

/// Renames entry `from` of directory `dir` to entry `to` of the same directory, as `how`
/// says. `dir` may be an `O_PATH` descriptor. A symlink at either name is renamed itself,
/// never followed.
///
/// # Errors
/// The OS error: `ENOENT`, `EEXIST` (`NoReplace`), `EINVAL` where the filesystem has no
/// `renameat2` flags, `ENOSYS` on a kernel before 3.15, ...
pub(crate) fn rename_at(
    dir: BorrowedFd<'_>,
    from: &CStr,
    to: &CStr,
    how: Rename,
) -> io::Result<()> {
    let flags = match how {
        Rename::Replace => {
            return Ok(fcntl::renameat(dir, from, dir, to)?);
        }
        Rename::Exchange => RENAME_EXCHANGE,
        Rename::NoReplace => RENAME_NOREPLACE,
    };
    let fd = dir.as_raw_fd();
    // SAFETY: renameat2 reads two NUL-terminated strings, which `from` and `to` are and which
    // outlive the call; it writes no memory of ours. nix offers it for glibc only, hence the
    // raw syscall, which exists on every Linux architecture.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            fd,
            from.as_ptr(),
            fd,
            to.as_ptr(),
            flags,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The process's umask, read without changing it for longer than two calls (rtmp is
/// single-threaded when it asks, so nothing creates a file in between).
pub(crate) fn current_umask() -> u32 {
    let old = stat::umask(Mode::from_bits_truncate(0o077));
    stat::umask(old);
    old.bits()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::symlink;
    use std::os::unix::net::UnixStream;

    fn dir_fd(path: &Path) -> OwnedFd {
        open_anchor(path).expect("open anchor")
    }

    #[test]
    fn directory_opens_refuse_symlinks_and_files() {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(tmp.path().join("d")).expect("mkdir");
        std::fs::write(tmp.path().join("f"), b"x").expect("write");
        symlink(tmp.path().join("d"), tmp.path().join("l")).expect("symlink");
        let base = dir_fd(tmp.path());
        for access in [DirAccess::List, DirAccess::Anchor] {
            assert!(open_dir_nofollow(base.as_fd(), c"d", access).is_ok());
            assert!(matches!(
                open_dir_nofollow(base.as_fd(), c"l", access),
                Err(Errno::ELOOP | Errno::ENOTDIR)
            ));
            assert_eq!(
                open_dir_nofollow(base.as_fd(), c"f", access).err(),
                Some(Errno::ENOTDIR)
            );
            assert_eq!(
                open_dir_nofollow(base.as_fd(), c"gone", access).err(),
                Some(Errno::ENOENT)
            );
        }
    }

    #[test]
    fn chmod_works_through_an_o_path_descriptor() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let d = tmp.path().join("d");
        std::fs::create_dir(&d).expect("mkdir");
        let base = dir_fd(tmp.path());
        let anchor = open_dir_nofollow(base.as_fd(), c"d", DirAccess::Anchor).expect("open");
        chmod_by_descriptor(anchor.as_fd(), 0o500).expect("chmod");
        let mode = std::fs::metadata(&d).expect("stat").permissions().mode();
        assert_eq!(mode & 0o7777, 0o500);
    }

    #[test]
    fn unnamed_file_has_no_name_and_is_private() {
        let tmp = tempfile::tempdir().expect("tempdir");
        if let Some(file) = open_unnamed_file(tmp.path()).expect("open") {
            let meta = file.metadata().expect("fstat");
            assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        }
        assert_eq!(std::fs::read_dir(tmp.path()).expect("list").count(), 0);
    }

    #[test]
    fn send_all_delivers_everything_and_reports_a_gone_peer() {
        let (a, mut b) = UnixStream::pair().expect("socketpair");
        send_all(a.as_raw_fd(), b"P123\n").expect("send");
        let mut buf = [0u8; 5];
        b.read_exact(&mut buf).expect("read");
        assert_eq!(&buf, b"P123\n");
        drop(b);
        // EPIPE, not SIGPIPE: the test process is still here to see it.
        let err = send_all(a.as_raw_fd(), b"D").expect_err("peer gone");
        assert_eq!(err.raw_os_error(), Some(libc::EPIPE));
    }

    #[test]
    fn fd_at_or_above_moves_only_low_descriptors() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let fd = dir_fd(tmp.path());
        let raw = fd.as_raw_fd();
        // Already high enough: the same descriptor comes back.
        assert_eq!(fd_at_or_above(fd, 0).expect("keep").as_raw_fd(), raw);
        let fd = dir_fd(tmp.path());
        let moved = fd_at_or_above(fd, 200).expect("move");
        assert!(moved.as_raw_fd() >= 200);
        let flags = fcntl::fcntl(moved.as_fd(), FcntlArg::F_GETFD).expect("getfd");
        assert_ne!(flags & libc::FD_CLOEXEC, 0, "the copy is close-on-exec");
    }

    #[test]
    fn entry_exists_does_not_follow_symlinks() {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::write(tmp.path().join("f"), b"x").expect("write");
        symlink("/nonexistent", tmp.path().join("dangling")).expect("symlink");
        let base = dir_fd(tmp.path());
        assert!(entry_exists(base.as_fd(), c"f").expect("f"));
        assert!(entry_exists(base.as_fd(), c"dangling").expect("dangling"));
        assert!(!entry_exists(base.as_fd(), c"gone").expect("gone"));
        assert_eq!(
            entry_exists(base.as_fd(), c"f/x")
                .expect_err("not a dir")
                .raw_os_error(),
            Some(libc::ENOTDIR)
        );
    }

    #[test]
    fn directory_chunks_list_every_entry() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut want = vec![".".to_owned(), "..".to_owned(), "sub".to_owned()];
        std::fs::create_dir(tmp.path().join("sub")).expect("mkdir");
        for i in 0..3000 {
            let name = format!("file-with-a-longish-name-{i}");
            std::fs::write(tmp.path().join(&name), b"").expect("write");
            want.push(name);
        }
        let fd = fcntl::open(
            tmp.path(),
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .expect("open");
        // Small enough that the listing takes several calls.
        let mut buf = vec![0u8; 4096];
        let mut got = Vec::new();
        loop {
            let n = read_dir_chunk(fd.as_fd(), &mut buf).expect("getdents64");
            if n == 0 {
                break;
            }
            for (name, kind) in dir_entries(&buf[..n]) {
                let name = name.to_str().expect("utf-8").to_owned();
                if name == "sub" {
                    assert!(kind == DT_DIR || kind == DT_UNKNOWN);
                }
                got.push(name);
            }
        }
        got.sort();
        want.sort();
        assert_eq!(got, want);
        assert_eq!(dir_entries(&[0u8; 10]).count(), 0, "truncated record");
    }

    #[test]
    fn os_random_fills_the_buffer() {
        let mut a = [0u8; 64];
        let mut b = [0u8; 64];
        assert!(os_random(&mut a).expect("getrandom"));
        assert!(os_random(&mut b).expect("getrandom"));
        assert_ne!(a, b);
    }

    #[test]
    fn dup_at_or_above_respects_the_floor() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let fd = dir_fd(tmp.path());
        let copy = dup_at_or_above(fd.as_fd(), 100).expect("dup");
        assert!(copy.as_raw_fd() >= 100);
    }

    #[test]
    fn open_regular_at_refuses_symlinks_fifos_and_directories() {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::write(tmp.path().join("f"), b"x").expect("write");
        symlink("f", tmp.path().join("l")).expect("symlink");
        nix::unistd::mkfifo(&tmp.path().join("p"), Mode::from_bits_truncate(0o600)).expect("fifo");
        std::fs::create_dir(tmp.path().join("d")).expect("mkdir");
        let base = dir_fd(tmp.path());
        assert!(open_regular_at(base.as_fd(), c"f", true).is_ok());
        assert_eq!(
            open_regular_at(base.as_fd(), c"l", false)
                .map_err(|e| e.raw_os_error())
                .err(),
            Some(Some(libc::ELOOP))
        );
        for name in [c"p", c"d"] {
            let err = open_regular_at(base.as_fd(), name, false).expect_err("not a file");
            assert!(
                matches!(err.kind(), io::ErrorKind::InvalidInput)
                    || err.raw_os_error() == Some(libc::EISDIR),
                "{err:?}"
            );
        }
    }

    #[test]
    fn rename_at_replaces_exchanges_or_refuses() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let p = |n: &str| tmp.path().join(n);
        std::fs::write(p("a"), b"a").expect("write");
        std::fs::write(p("b"), b"b").expect("write");
        let base = dir_fd(tmp.path());
        match rename_at(base.as_fd(), c"a", c"b", Rename::Exchange) {
            Ok(()) => {
                assert_eq!(std::fs::read(p("a")).expect("read"), b"b");
                assert_eq!(std::fs::read(p("b")).expect("read"), b"a");
            }
            Err(e) => assert_eq!(e.raw_os_error(), Some(libc::EINVAL), "{e}"),
        }
        let err = rename_at(base.as_fd(), c"a", c"b", Rename::NoReplace).expect_err("exists");
        assert!(
            matches!(err.raw_os_error(), Some(libc::EEXIST | libc::EINVAL)),
            "{err}"
        );
        rename_at(base.as_fd(), c"a", c"b", Rename::Replace).expect("rename");
        assert!(!p("a").exists());
    }

    #[test]
    fn umask_is_read_unchanged() {
        let first = current_umask();
        assert_eq!(current_umask(), first);
    }

    #[test]
    fn bytes_ready_counts_a_pipe_and_declines_a_file() {
        let (r, w) = nix::unistd::pipe().expect("pipe");
        nix::unistd::write(&w, b"abc").expect("write");
        assert_eq!(bytes_ready(r.as_fd()).expect("ioctl"), Some(3));
        let tmp = tempfile::tempfile().expect("file");
        // Regular files answer too (the bytes after the offset) or decline; never an error.
        assert!(bytes_ready(tmp.as_fd()).is_ok());
    }
}
