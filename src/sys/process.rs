//! Processes: `fork` while single-threaded, `_exit`, pidfds, the process name, and closing
//! every descriptor but a few.

use std::ffi::CStr;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use nix::libc;
use nix::unistd::{ForkResult, Pid};

/// `fork`. In [`ForkResult::Child`], the caller must end the new process with [`exit_now`]
/// and never return into code that expects to run once (the guardian does so).
///
/// Sound only while the process has one thread: rtmp starts none (signal-hook's iterator runs
/// in the calling thread, and nothing else spawns one), so the forked process may run any code,
/// allocation included. The only caller is `--exec`'s guardian, never a test harness.
///
/// # Errors
/// The OS error of `fork` (`EAGAIN`, `ENOMEM`).
pub fn fork_single_threaded() -> io::Result<ForkResult> {
    // SAFETY: rtmp is single-threaded here (see above), so no lock can be held in the child by
    // a thread that does not exist there.
    Ok(unsafe { nix::unistd::fork() }?)
}

/// Ends this process at once with `code`, running no exit handlers and flushing nothing: for
/// a forked process, whose buffers and handlers belong to the process it was forked from.
pub fn exit_now(code: u8) -> ! {
    // SAFETY: _exit takes an integer and does not return.
    unsafe { libc::_exit(libc::c_int::from(code)) }
}

/// Sets the calling thread's name (`/proc/PID/comm`, what `ps` shows). Errors are ignored: the
/// name is only a courtesy to the user.
pub fn set_process_name(name: &CStr) {
    let _ = nix::sys::prctl::set_name(name);
}

/// A pidfd on `pid` (`pidfd_open`, Linux 5.3; nix has none): readable once it has exited.
///
/// # Errors
/// `ESRCH` when the process is gone; `ENOSYS` (old kernel) and others when there is no pidfd.
pub fn pidfd_open(pid: Pid) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes two integers and touches no memory of ours.
    let rc = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = RawFd::try_from(rc).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: the call returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Closes every descriptor from `first` up: `close_range` (Linux 5.9; nix has none), else one
/// `close` per number listed in `/proc/self/fd`. Best effort.
///
/// The caller must own no descriptor in that range that it uses afterwards (the forked guardian
/// calls it once its descriptors sit below `first`).
pub fn close_descriptors_from(first: RawFd) {
    let first = first.unsigned_abs();
    // SAFETY: close_range takes integers and touches no memory of ours.
    let rc = unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, 0u32) };
    if rc == 0 {
        return;
    }
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    // Collected first: the listing's own descriptor must be closed before the loop closes
    // numbers (it is one of them).
    let fds: Vec<RawFd> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
        .filter(|&fd: &RawFd| fd.unsigned_abs() >= first)
        .collect();
    for fd in fds {
        // SAFETY: by the caller's contract nothing uses these numbers any more; the listing's
        // descriptor is already closed, so closing its stale number does no harm.
        unsafe {
            libc::close(fd);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;

    #[test]
    fn pidfd_becomes_readable_when_the_process_exits() {
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let pid = Pid::from_raw(libc::pid_t::try_from(child.id()).expect("pid"));
        // Not reaped yet, so the pid is still the child's.
        let opened = pidfd_open(pid);
        if let Ok(pidfd) = &opened {
            let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
            assert_eq!(poll(&mut fds, PollTimeout::NONE), Ok(1));
        }
        let _ = child.wait();
        // ENOSYS: a kernel older than 5.3, where the guardian polls instead.
        if let Err(e) = opened {
            assert_eq!(e.raw_os_error(), Some(libc::ENOSYS), "pidfd_open: {e}");
        }
    }

    #[test]
    fn pidfd_of_no_process_is_esrch() {
        // Above the default pid_max (4194304), so no process can have it.
        let err = pidfd_open(Pid::from_raw(i32::MAX)).expect_err("no such process");
        assert!(matches!(
            err.raw_os_error(),
            Some(libc::ESRCH | libc::ENOSYS)
        ));
    }
}
