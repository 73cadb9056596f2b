//! The guardian: a watchdog that removes the `--exec` path when rtmp itself is killed
//! (SPEC.md E).
//!
//! # Design
//!
//! Right after the path is created, rtmp forks the guardian. rtmp is single-threaded at that
//! point (signal-hook's iterator starts no thread), so the forked process may run ordinary code
//! (allocate, read files) without the async-signal-safety limits of a multi-threaded `fork`;
//! a re-exec of `/proc/self/exe` would give a fresh image too, but cost a second start-up of
//! rtmp (about 0.6 ms on every `--exec` run) for nothing rtmp needs. Right after `fork` the
//! guardian
//!
//! * calls `setsid`: its own session, so no controlling terminal, and a signal to rtmp's process
//!   group (Ctrl-C, `kill -9 -PGID`) does not reach it; only then does it tell rtmp it is
//!   ready, so the command never runs before the guardian is out of rtmp's group;
//! * ignores SIGINT, SIGHUP, SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2 and SIGPIPE and resets SIGCHLD,
//!   so none of rtmp's inherited signal handlers can run in it;
//! * puts its end of a `socketpair` on stdin, `/dev/null` on stdout and stderr, closes every
//!   other descriptor (rtmp's end included), and moves to `/`: it writes nothing anywhere and
//!   pins no mount.
//!
//! rtmp keeps the other end, `SOCK_CLOEXEC`, so the command never inherits it. The protocol:
//!
//! * `P<pid>\n` is written by the **command's own process**, between `fork` and `exec` (see
//!   [`Guardian::announcer`]). That process holds rtmp's end until its `exec`, so the guardian
//!   cannot see end-of-file before it knows the pid, even when rtmp is killed in the middle of
//!   spawning; and rtmp cannot have reaped the command yet, so the pid is the command's. The
//!   guardian opens a pidfd on it as soon as it reads it.
//! * `D` ("done") is written by rtmp after its own cleanup ([`Guardian`]'s `Drop`): the guardian
//!   exits at once, touching nothing. rtmp then reaps it, so no guardian outlives a normal run.
//! * End-of-file without `D` means rtmp died. The guardian waits until the command has exited
//!   (a pidfd becomes readable; without pidfd, `kill(pid, 0)` every 100 ms plus a check of the
//!   start time in `/proc/PID/stat`), then removes the path with
//!   [`remove_entry`] in the pinned parent (symlink-safe, as part C) and exits. Without a `P`
//!   message no command was ever started, so it removes the path at once.
//!
//! Writes on the socket use `MSG_NOSIGNAL`, so a dead guardian never kills rtmp or the command
//! with SIGPIPE. The guardian is not the command's parent, so it cannot `waitpid` it, and it
//! cannot know the command's status: after a `kill -9` of rtmp, `--keep-on-failure` does not
//! apply and the path is always removed.
//!
//! # Limits
//!
//! * A `kill -9` that hits rtmp in the microseconds between the creation of the path and the
//!   `fork` of the guardian leaves the path behind.
//! * The guardian cannot tell a reused pid from the command if the command exits, is reaped by
//!   rtmp, rtmp is killed and the pid space wraps around, all before the guardian reads `P`.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use nix::libc;

use crate::cleanup::{Pinned, remove_entry};

/// The guardian's process name (`/proc/PID/comm`, what `ps` and `pgrep` show), so a user who
/// finds it can tell what it is.
pub const NAME: &std::ffi::CStr = c"rtmp-guardian";

/// Signals the guardian ignores, from right after `fork`.
const IGNORED: &[i32] = &[
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGTERM,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGPIPE,
];

/// rtmp's handle on a running guardian.
///
/// Invariant: while it exists, the guardian is alive (or has died on its own) and will remove
/// the path if rtmp dies. Dropping it dismisses the guardian (sends `D`) and reaps it, so drop
/// it only after rtmp has finished with the path (removed or deliberately kept).
pub struct Guardian {
    /// rtmp's end of the socketpair; `SOCK_CLOEXEC`.
    socket: OwnedFd,
    pid: libc::pid_t,
}

impl Guardian {
    /// Starts a guardian for the `pinned` path.
    ///
    /// Returns once the guardian is in its own session (it says so on the socket).
    /// Must be called while rtmp is single-threaded (see the module doc).
    ///
    /// # Errors
    /// The OS error from `socketpair` or `fork`, or `BrokenPipe` when the guardian died before
    /// it was ready.
    pub fn start(pinned: &Pinned) -> io::Result<Guardian> {
        let (ours, theirs) = socketpair()?;
        // SAFETY: rtmp has one thread here, so the child may run any code; it never returns
        // from this function (it ends in `_exit`).
        match unsafe { libc::fork() } {
            -1 => Err(io::Error::last_os_error()),
            0 => {
                let socket = theirs.as_raw_fd();
                let code =
                    match become_guardian(socket, ours.as_raw_fd(), pinned.parent().as_raw_fd()) {
                        Ok(()) => serve(pinned.name()),
                        Err(errno) => {
                            // Tell rtmp why; nothing was closed yet, so `socket` is still ours.
                            let mut msg = [b'E', 0, 0, 0, 0];
                            msg[1..].copy_from_slice(&errno.to_ne_bytes());
                            send_all(socket, &msg);
                            125
                        }
                    };
                // SAFETY: ends the forked process without running rtmp's exit handlers.
                unsafe { libc::_exit(code) }
            }
            pid => {
                drop(theirs);
                let guardian = Guardian { socket: ours, pid };
                match read_ready(guardian.socket.as_raw_fd()) {
                    Ok(()) => Ok(guardian),
                    // Dropping `guardian` reaps the process that gave up.
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// A closure for the command's `pre_exec`: it writes `P<own pid>\n` to the guardian.
    ///
    /// Async-signal-safe: `getpid` and `send` on a stack buffer, no allocation. Errors are
    /// ignored (a guardian that is gone cannot be told anything), so it always returns `Ok`.
    pub fn announcer(&self) -> impl FnMut() -> io::Result<()> + Send + Sync + 'static {
        let fd = self.socket.as_raw_fd();
        move || {
            // SAFETY: getpid cannot fail.
            let pid = unsafe { libc::getpid() };
            let mut buf = [0u8; 16];
            let len = pid_message(pid, &mut buf);
            send_all(fd, &buf[..len]);
            Ok(())
        }
    }
}

impl Drop for Guardian {
    fn drop(&mut self) {
        send_all(self.socket.as_raw_fd(), b"D");
        // The guardian exits as soon as it reads `D`; reaping it here means no guardian (not
        // even a zombie) outlives rtmp. If it already died, this just reaps it.
        let mut status = 0;
        // SAFETY: waits for our own child; `status` is a valid out-pointer.
        while unsafe { libc::waitpid(self.pid, &mut status, 0) } < 0
            && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
        {}
    }
}

/// Waits for the guardian's first word: `R` (ready), or `E` and the errno of what failed.
fn read_ready(socket: RawFd) -> io::Result<()> {
    let mut buf = [0u8; 5];
    let mut got = 0;
    loop {
        // SAFETY: the buffer from `got` on is valid for the given length.
        let n = unsafe { libc::read(socket, buf[got..].as_mut_ptr().cast(), buf.len() - got) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(e);
        }
        got += usize::try_from(n).unwrap_or(0);
        match buf[..got] {
            [b'R', ..] => return Ok(()),
            [b'E', a, b, c, d] => {
                return Err(io::Error::from_raw_os_error(i32::from_ne_bytes([
                    a, b, c, d,
                ])));
            }
            _ if n == 0 => return Err(io::Error::other("the guardian ended before it was ready")),
            _ => {}
        }
    }
}

/// The guardian's descriptor for the pinned parent directory of the path.
const PARENT_FD: RawFd = 3;

/// In the forked guardian: leave rtmp's session and signals behind, keep only the socket (as
/// stdin), `/dev/null` and the pinned parent directory (as [`PARENT_FD`]), say "ready". Err
/// holds the errno of the step that failed.
fn become_guardian(socket: RawFd, rtmp_end: RawFd, parent: RawFd) -> Result<(), i32> {
    let errno = || {
        io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO)
    };
    // SAFETY: plain syscalls on descriptors and signals this process owns.
    unsafe {
        if libc::setsid() < 0 {
            return Err(errno());
        }
        libc::prctl(libc::PR_SET_NAME, NAME.as_ptr());
        for &sig in IGNORED {
            libc::signal(sig, libc::SIG_IGN);
        }
        libc::signal(libc::SIGCHLD, libc::SIG_DFL);
        // A source that sits among the targets 0-3 (rtmp's caller may have closed its stdin,
        // say) is first copied above them, or a dup2 would clobber it. Others stay where they
        // are, so a low `ulimit -n` is enough.
        let above = |fd: RawFd| {
            if !(0..=PARENT_FD).contains(&fd) {
                fd
            } else {
                libc::fcntl(fd, libc::F_DUPFD, PARENT_FD + 1)
            }
        };
        // rtmp's end of the socket: the guardian must not hold it (it waits for its EOF), and
        // closing it first leaves one more descriptor for /dev/null.
        libc::close(rtmp_end);
        let null = above(libc::open(c"/dev/null".as_ptr(), libc::O_RDWR));
        let (socket, parent) = (above(socket), above(parent));
        if null < 0
            || socket < 0
            || parent < 0
            || libc::dup2(socket, 0) < 0
            || libc::dup2(null, 1) < 0
            || libc::dup2(null, 2) < 0
            || libc::dup2(parent, PARENT_FD) < 0
        {
            return Err(errno());
        }
        libc::chdir(c"/".as_ptr());
    }
    close_other_descriptors();
    send_all(0, b"R");
    Ok(())
}

/// `P<pid>\n` into `buf`; returns the length. Async-signal-safe.
fn pid_message(pid: libc::pid_t, buf: &mut [u8; 16]) -> usize {
    let mut digits = [0u8; 12];
    let mut n = 0;
    let mut v = pid.unsigned_abs();
    loop {
        digits[n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 || n == digits.len() {
            break;
        }
    }
    buf[0] = b'P';
    for i in 0..n {
        buf[1 + i] = digits[n - 1 - i];
    }
    buf[1 + n] = b'\n';
    n + 2
}

/// Writes all of `bytes` with `MSG_NOSIGNAL`, giving up on any error but EINTR.
/// Async-signal-safe.
fn send_all(fd: RawFd, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is a valid buffer of the given length.
        let n = unsafe { libc::send(fd, bytes.as_ptr().cast(), bytes.len(), libc::MSG_NOSIGNAL) };
        if n < 0 {
            if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return;
        }
        bytes = &bytes[usize::try_from(n).unwrap_or(bytes.len()).min(bytes.len())..];
    }
}

fn socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` is a valid out-array of two descriptors.
    let rc = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: socketpair succeeded, so both descriptors are open and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// The guardian's work: read the socket (stdin) until rtmp says "done" (return, touching
/// nothing) or goes away (wait for the command, if one was announced, then remove `path`).
///
/// Output: the exit status, always 0. Never panics, prints nothing.
fn serve(name: &CStr) -> i32 {
    let mut watch: Option<Watch> = None;
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 64];
    loop {
        // SAFETY: `chunk` is a valid buffer of the given length.
        let n = unsafe { libc::read(0, chunk.as_mut_ptr().cast(), chunk.len()) };
        if n < 0 {
            if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            break; // Cannot happen on a socket we own; act as if rtmp were gone.
        }
        let Ok(n @ 1..) = usize::try_from(n) else {
            break; // End-of-file: rtmp is gone.
        };
        buf.extend_from_slice(&chunk[..n]);
        match parse(&buf) {
            Message::Done => return 0,
            Message::Pid(pid) if watch.is_none() => watch = Some(Watch::open(pid)),
            _ => {}
        }
    }
    if let Some(watch) = watch {
        watch.wait();
    }
    // SAFETY: PARENT_FD was set up by become_guardian and stays open until _exit.
    let parent = unsafe { BorrowedFd::borrow_raw(PARENT_FD) };
    let _ = remove_entry(parent, name);
    0
}

/// What the bytes received so far say.
#[derive(Debug, PartialEq, Eq)]
enum Message {
    /// rtmp finished normally.
    Done,
    /// The command's pid (the first complete `P` line).
    Pid(libc::pid_t),
    /// Nothing conclusive yet.
    Nothing,
}

fn parse(buf: &[u8]) -> Message {
    if buf.contains(&b'D') {
        return Message::Done;
    }
    let Some(line) = buf
        .strip_prefix(b"P")
        .and_then(|rest| rest.split(|&b| b == b'\n').next())
        .filter(|_| buf.contains(&b'\n'))
    else {
        return Message::Nothing;
    };
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.parse::<libc::pid_t>().ok())
        .filter(|&pid| pid > 0)
        .map_or(Message::Nothing, Message::Pid)
}

/// How the guardian watches the command.
enum Watch {
    /// A pidfd on this pid: readable once the process has exited.
    Pidfd(OwnedFd, libc::pid_t),
    /// No pidfd (old kernel, not Linux): poll `kill(pid, 0)` and the start time.
    Poll {
        pid: libc::pid_t,
        start: Option<u64>,
    },
    /// The process was already gone.
    Gone,
}

impl Watch {
    fn open(pid: libc::pid_t) -> Watch {
        // SAFETY: plain syscall with integer arguments.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd >= 0 {
            // SAFETY: the syscall returned a new descriptor that nobody else owns.
            return match RawFd::try_from(fd) {
                Ok(fd) => Watch::Pidfd(unsafe { OwnedFd::from_raw_fd(fd) }, pid),
                Err(_) => Watch::Gone,
            };
        }
        match io::Error::last_os_error().raw_os_error() {
            Some(libc::ESRCH) => Watch::Gone,
            _ => Watch::Poll {
                pid,
                start: start_time(pid),
            },
        }
    }

    /// Blocks until the watched process has exited.
    fn wait(self) {
        match self {
            Watch::Gone => {}
            Watch::Pidfd(fd, pid) => loop {
                let mut pfd = libc::pollfd {
                    fd: fd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                let rc = unsafe { libc::poll(&mut pfd, 1, -1) };
                if rc > 0 {
                    return;
                }
                if rc < 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                    // Cannot watch any more: fall back to polling rather than give up.
                    return Watch::Poll {
                        pid,
                        start: start_time(pid),
                    }
                    .wait();
                }
            },
            Watch::Poll { pid, start } => {
                while pid > 0 && alive(pid) && start_time(pid) == start {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }
}

/// `kill(pid, 0)` finds the process (EPERM counts as alive).
fn alive(pid: libc::pid_t) -> bool {
    // SAFETY: signal 0 only checks for existence.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Field 22 of `/proc/PID/stat` (start time in clock ticks since boot), if readable.
fn start_time(pid: libc::pid_t) -> Option<u64> {
    let stat = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(stat.get(close + 1..)?).ok()?;
    rest.split_ascii_whitespace().nth(19)?.parse().ok()
}

/// Closes every descriptor above [`PARENT_FD`]: the guardian keeps only its stdin (the
/// socket), the `/dev/null` stdout/stderr and the pinned parent; rtmp's own descriptors (its end
/// of the socket, signal-hook's pipe) and whatever rtmp's caller left open go.
fn close_other_descriptors() {
    let first = (PARENT_FD + 1).unsigned_abs();
    // SAFETY: close_range on descriptors that nothing in the guardian uses any more.
    let rc = unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, 0u32) };
    if rc == 0 {
        return;
    }
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let fds: Vec<RawFd> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
        .filter(|&fd| fd > PARENT_FD)
        .collect();
    for fd in fds {
        // SAFETY: closing a descriptor number; the directory stream is already closed, and
        // nothing else in this process holds these descriptors.
        unsafe {
            libc::close(fd);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn pid_message_is_p_digits_newline() {
        let mut buf = [0u8; 16];
        let n = pid_message(4_194_304, &mut buf);
        assert_eq!(&buf[..n], b"P4194304\n");
        let n = pid_message(7, &mut buf);
        assert_eq!(&buf[..n], b"P7\n");
    }

    #[test]
    fn parse_waits_for_a_complete_line() {
        assert_eq!(parse(b""), Message::Nothing);
        assert_eq!(parse(b"P12"), Message::Nothing);
        assert_eq!(parse(b"P12\n"), Message::Pid(12));
        assert_eq!(parse(b"P12\nD"), Message::Done);
        assert_eq!(parse(b"D"), Message::Done);
        assert_eq!(parse(b"Px\n"), Message::Nothing);
        assert_eq!(parse(b"P0\n"), Message::Nothing);
    }

    #[test]
    fn start_time_of_self_is_readable_and_stable() {
        let me = libc::pid_t::try_from(std::process::id()).expect("pid fits");
        let a = start_time(me);
        assert!(a.is_some());
        assert_eq!(a, start_time(me));
    }

    #[test]
    fn pidfd_of_a_dead_process_is_gone_or_readable() {
        let mut child = Command::new("true").spawn().expect("spawn true");
        let pid = libc::pid_t::try_from(child.id()).expect("pid fits");
        let watch = Watch::open(pid);
        let _ = child.wait();
        watch.wait(); // Returns: the process has exited.
    }
}
