//! The forked side of the guardian: leave rtmp's session and signals behind, create the path,
//! then watch.
//!
//! Runs in the process [`super::Guardian::create`] forks, which never returns into rtmp's code:
//! it ends with `_exit` ([`crate::sys::process::exit_now`]). rtmp is single-threaded when it
//! forks, so this side may allocate and read files.
//!
//! Order (the module doc of [`super`] says why), every signal blocked until the reply is
//! out: the name, `setsid`; descriptors laid out; the creation, relative to the pinned
//! parent, with rtmp's current directory still in place; `chdir("/")`; the one reply (the name
//! as planned, which rtmp makes absolute against the same current directory); the
//! signals ignored and unblocked; then the watch.
//!
//! Descriptor layout once set up: 0 is the guardian's end of the socket, 1 and 2 are
//! `/dev/null`, [`PARENT_FD`] is the pinned parent directory of the path, and nothing else is
//! open (rtmp's end of the socket, its signal pipe and whatever rtmp's caller left open are
//! closed), so the guardian holds no pipe or terminal of anyone's open and pins no mount.

use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{self, OFlag};
use nix::libc;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, kill};
use nix::sys::stat::Mode;
use nix::unistd::{self, Pid};

use super::leftovers;
use super::protocol::{self, Message};
use crate::cleanup::remove_entry;
use crate::create::{Created, create_at};
use crate::exit::{Outcome, Termination};
use crate::request::Kind;
use crate::sys::signal::{self, Disposition};
use crate::sys::{fs, process};
use crate::template::Plan;

/// The guardian's process name (`/proc/PID/comm`, what `ps` and `pgrep` show), so a user who
/// finds it can tell what it is.
pub const NAME: &CStr = c"rtmp-guardian";

/// Signals the guardian leaves at their default action: the synchronous faults (a real fault
/// must not loop), the ones it cannot catch, and the ones whose default harms nothing.
/// Every other signal (`SIGTERM`, `SIGALRM`, `SIGTSTP`, the real-time ones...) it ignores:
/// nothing but SIGKILL may end it, and nothing but SIGSTOP stop it.
const LEFT_DEFAULT: &[i32] = &[
    libc::SIGKILL,
    libc::SIGSTOP,
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGTRAP,
    libc::SIGSYS,
    libc::SIGCHLD,
    libc::SIGCONT,
    libc::SIGWINCH,
    libc::SIGURG,
];

/// The guardian's descriptor for the pinned parent directory of the path.
const PARENT_FD: RawFd = 3;

/// How often the guardian checks a command it has no pidfd for.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// The guardian's descriptors once set up (see the module doc).
struct Layout {
    socket: OwnedFd,
    parent: OwnedFd,
    /// `/dev/null` at 1 and 2, held so nothing closes them.
    _null_out: (OwnedFd, OwnedFd),
}

/// The whole life of the forked guardian: set up, create, tell rtmp (the name, or why not),
/// serve, exit.
pub(super) fn run_guardian(
    socket: OwnedFd,
    rtmp_end: OwnedFd,
    dir: BorrowedFd<'_>,
    plan: &Plan,
    kind: Kind,
) -> ! {
    // Bound here, so its descriptors stay open until `exit_now` (which runs no destructor).
    let layout = become_guardian(socket, rtmp_end, dir);
    let outcome = match &layout {
        Ok(layout) => create_and_serve(layout, plan, kind),
        Err((socket, errno)) => {
            let reply = protocol::failed_message(protocol::SETUP_FAILED, *errno as i32);
            let _ = fs::send_all(socket.as_raw_fd(), &reply);
            Outcome::ExecFailed
        }
    };
    match outcome.termination() {
        Termination::Exit(code) => process::exit_now(code),
        // The guardian's outcomes are exit statuses; a signal would be raised all the same.
        Termination::Signal(sig) => {
            signal::raise(sig);
            process::exit_now(u8::MAX)
        }
    }
}

/// Creates the path, says so (or why not), and watches it ([`serve`]).
fn create_and_serve(layout: &Layout, plan: &Plan, kind: Kind) -> Outcome {
    let created = create_at(plan, kind, layout.parent.as_fd());
    // The creation is done: the current directory (a relative template's base) is no longer
    // needed, and holding it could keep a file system busy.
    let _ = unistd::chdir(c"/");
    let created = match created {
        Ok(created) => created,
        Err(e) => {
            let errno = e.io_error().raw_os_error().unwrap_or(libc::EIO);
            let reply = protocol::failed_message(protocol::CREATE_FAILED, errno);
            let _ = fs::send_all(layout.socket.as_raw_fd(), &reply);
            return Outcome::ExecFailed;
        }
    };
    // A send that fails means rtmp is gone: `serve` then reads end-of-file and removes.
    if let Some(reply) = protocol::created_message(created.path.as_bytes()) {
        let _ = fs::send_all(layout.socket.as_raw_fd(), &reply);
    }
    ignore_signals();
    serve(layout, name_of(&created).as_deref())
}

/// Replaces rtmp's dispositions (see [`LEFT_DEFAULT`]) and unblocks every signal: until here
/// all were blocked (module doc of [`super`]). Done after the reply, so these sixty-odd
/// `sigaction`s are not on the path rtmp waits on; a signal that arrived during the start-up
/// was pending, and is discarded now if it is one the guardian ignores.
pub(super) fn ignore_signals() {
    for sig in 1..=libc::SIGRTMAX() {
        let disposition = if LEFT_DEFAULT.contains(&sig) {
            Disposition::Default
        } else {
            Disposition::Ignore
        };
        // SIGKILL and SIGSTOP refuse, and so does glibc for its two reserved real-time
        // signals (32, 33): those stay as they are, which is what is wanted.
        let _ = signal::set_disposition(sig, disposition);
    }
    let _ = SigSet::empty().thread_set_mask();
}

/// The entry of the pinned parent that `created` is (its final component).
fn name_of(created: &Created) -> Option<CString> {
    CString::new(created.absolute.file_name()?.as_bytes()).ok()
}

/// Leaves rtmp's session and signals behind and lays out the descriptors (module doc). On
/// failure, returns a descriptor of the socket that is still open, to report the errno on.
fn become_guardian(
    socket: OwnedFd,
    rtmp_end: OwnedFd,
    parent: BorrowedFd<'_>,
) -> Result<Layout, (OwnedFd, Errno)> {
    // Named first, so that `ps` (and a test that tells the command from the guardian by name)
    // sees what it is as early as possible.
    process::set_process_name(NAME);
    // Then its own session: no controlling terminal, and a signal to rtmp's process group
    // (Ctrl-C, `kill -9 -PGID`) does not reach it. The creation comes only after this, so a
    // group kill that also kills the guardian finds nothing created yet.
    if let Err(e) = unistd::setsid() {
        return Err((socket, e));
    }
    // rtmp's end of the socket: the guardian must not hold it (it waits for its EOF), and
    // closing it first leaves one more descriptor for /dev/null.
    drop(rtmp_end);
    // A descriptor that sits among the targets 0..=PARENT_FD (rtmp's caller may have closed
    // its stdin, say) is first copied above them, or a dup2 would clobber it; the low original
    // is closed at once. Others stay where they are, so a low `ulimit -n` is enough.
    let socket = above_targets(socket)?;
    let null = match fcntl::open(c"/dev/null", OFlag::O_RDWR, Mode::empty()) {
        Ok(null) => null,
        Err(e) => return Err((socket, e)),
    };
    let null = match above_targets(null) {
        Ok(null) => null,
        Err((_, e)) => return Err((socket, e)),
    };
    // The pinned parent stays owned by rtmp's target, which this process never drops.
    let parent_high = if (0..=PARENT_FD).contains(&parent.as_raw_fd()) {
        match fs::dup_at_or_above(parent, PARENT_FD + 1) {
            Ok(fd) => Some(fd),
            Err(e) => return Err((socket, errno_of(&e))),
        }
    } else {
        None
    };
    let parent_src = parent_high.as_ref().map_or(parent, |p| p.as_fd());
    let laid_out = fs::dup_onto(socket.as_fd(), 0).and_then(|socket0| {
        let out = fs::dup_onto(null.as_fd(), 1)?;
        let err = fs::dup_onto(null.as_fd(), 2)?;
        let parent3 = fs::dup_onto(parent_src, PARENT_FD)?;
        Ok((socket0, out, err, parent3))
    });
    let (socket0, out, err, parent3) = match laid_out {
        Ok(fds) => fds,
        Err(e) => return Err((socket, errno_of(&e))),
    };
    // The copies above PARENT_FD are closed with every other descriptor there, by one
    // close_range; their owners are forgotten first, so none closes a number again.
    std::mem::forget((socket, null, parent_high));
    process::close_descriptors_from(PARENT_FD + 1);
    Ok(Layout {
        socket: socket0,
        parent: parent3,
        _null_out: (out, err),
    })
}

/// `fd` itself, or a copy of it above [`PARENT_FD`] (the original closed) when it sits among
/// the numbers the guardian lays out. On failure, `fd` is given back with the error.
fn above_targets(fd: OwnedFd) -> Result<OwnedFd, (OwnedFd, Errno)> {
    if !(0..=PARENT_FD).contains(&fd.as_raw_fd()) {
        return Ok(fd);
    }
    match fs::dup_at_or_above(fd.as_fd(), PARENT_FD + 1) {
        Ok(high) => Ok(high),
        Err(e) => Err((fd, errno_of(&e))),
    }
}

fn errno_of(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}

/// The guardian's work: read the socket until rtmp says [`protocol::DONE`] (return, touching
/// nothing) or goes away: then wait for the command, if one was announced, end the run's other
/// processes as rtmp would have ([`super::leftovers`]), if rtmp said how to find them, and
/// remove the entry `name` of the pinned parent, the one this process created. Never panics,
/// prints nothing.
fn serve(layout: &Layout, name: Option<&CStr>) -> Outcome {
    let mut watch: Option<Watch> = None;
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 512];
    loop {
        let n = match unistd::read(&layout.socket, &mut chunk) {
            Ok(0) => break, // End-of-file: rtmp is gone.
            Ok(n) => n,
            Err(Errno::EINTR) => continue,
            Err(_) => break, // Cannot happen on a socket we own; act as if rtmp were gone.
        };
        buf.extend_from_slice(&chunk[..n]);
        // Until the run message is complete nothing else can have arrived (it comes first).
        let Some((_, rest)) = protocol::split_run(&buf) else {
            continue;
        };
        match Message::parse(rest) {
            Message::Done => return Outcome::Success,
            Message::Pid(pid) if watch.is_none() => watch = Some(Watch::open(Pid::from_raw(pid))),
            _ => {}
        }
    }
    // rtmp waited for the command before it ended the rest; so does the guardian.
    if let Some(watch) = watch {
        watch.wait();
    }
    if let Some((Some(run), _)) = protocol::split_run(&buf) {
        leftovers::end_all(&run);
    }
    if let Some(name) = name {
        let _ = remove_entry(layout.parent.as_fd(), name);
    }
    Outcome::Success
}

/// How the guardian watches the command. It is not the command's parent, so it cannot
/// `waitpid` it (nor learn its status).
enum Watch {
    /// A pidfd on this pid: readable once the process has exited.
    Pidfd(OwnedFd, Pid),
    /// No pidfd (old kernel): poll `kill(pid, 0)` and the start time.
    Poll { pid: Pid, start: Option<u64> },
    /// The process was already gone.
    Gone,
}

impl Watch {
    fn open(pid: Pid) -> Watch {
        match process::pidfd_open(pid) {
            Ok(fd) => Watch::Pidfd(fd, pid),
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Watch::Gone,
            Err(_) => Watch::Poll {
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
                let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
                match poll(&mut fds, PollTimeout::NONE) {
                    Ok(n) if n > 0 => return,
                    Ok(_) | Err(Errno::EINTR) => {}
                    Err(_) => {
                        // Cannot watch any more: fall back to polling rather than give up.
                        return Watch::Poll {
                            pid,
                            start: start_time(pid),
                        }
                        .wait();
                    }
                }
            },
            Watch::Poll { pid, start } => {
                while pid.as_raw() > 0 && alive(pid) && start_time(pid) == start {
                    std::thread::sleep(POLL_INTERVAL);
                }
            }
        }
    }
}

/// `kill(pid, 0)` finds the process (EPERM counts as alive).
fn alive(pid: Pid) -> bool {
    matches!(kill(pid, None), Ok(()) | Err(Errno::EPERM))
}

/// Field 22 of `/proc/PID/stat` (start time in clock ticks since boot), if readable: with the
/// pid, it tells the command from a later process that reused its pid.
fn start_time(pid: Pid) -> Option<u64> {
    let stat = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(stat.get(close + 1..)?).ok()?;
    rest.split_ascii_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn start_time_of_self_is_readable_and_stable() {
        let me = unistd::getpid();
        let a = start_time(me);
        assert!(a.is_some());
        assert_eq!(a, start_time(me));
    }

    #[test]
    fn pidfd_of_a_dead_process_is_gone_or_readable() {
        let mut child = Command::new("true").spawn().expect("spawn true");
        let pid = Pid::from_raw(libc::pid_t::try_from(child.id()).expect("pid fits"));
        let watch = Watch::open(pid);
        let _ = child.wait();
        watch.wait(); // Returns: the process has exited.
    }
}
