//! Processes: `fork` (while single-threaded), the command's spawn in shared memory
//! (`clone(CLONE_VM | CLONE_VFORK)`) and its `exec`, `_exit`,
//! `waitid`, pidfds and `pidfd_send_signal`, `/proc` reads of a process's children and state,
//! the process name, and closing every descriptor but a few.

use std::ffi::{CStr, c_char};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use std::num::NonZeroUsize;
use std::ptr::NonNull;

use nix::libc;
use nix::sys::mman;
use nix::unistd::{ForkResult, Pid};

/// `fork`. In [`ForkResult::Child`], the caller must end the new process with [`exit_now`]
/// and never return into code that expects to run once (the guardian does so).
///
/// Sound only while the process has one thread: rtmp starts none (its signal handler only
/// writes to a pipe, and nothing spawns a thread), so the forked process may run any code,
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

/// The stack of a [`spawn_shared`] child: an anonymous mapping with an inaccessible guard page
/// at its low end, so that an overflow faults in the child instead of writing into memory the
/// child shares with rtmp.
pub struct ChildStack {
    base: NonNull<libc::c_void>,
    len: usize,
}

/// The guard page's size (the smallest page size of the architectures rtmp builds for; a
/// larger page only makes the guard larger).
const GUARD: usize = 4096;

impl ChildStack {
    /// A stack of at least `size` usable bytes (rounded up to whole pages), plus the guard.
    ///
    /// # Errors
    /// The OS error of `mmap` or `mprotect` (`ENOMEM`).
    pub fn new(size: usize) -> io::Result<ChildStack> {
        let usable = size.div_ceil(GUARD).max(1) * GUARD;
        let len = usable + GUARD;
        let nonzero = NonZeroUsize::new(len).ok_or(io::ErrorKind::InvalidInput)?;
        // SAFETY: a fresh anonymous mapping at an address the kernel picks overlaps nothing of
        // ours; MAP_NORESERVE because most of it is never touched.
        let base = unsafe {
            mman::mmap_anonymous(
                None,
                nonzero,
                mman::ProtFlags::PROT_READ | mman::ProtFlags::PROT_WRITE,
                mman::MapFlags::MAP_PRIVATE
                    | mman::MapFlags::MAP_ANONYMOUS
                    | mman::MapFlags::MAP_STACK
                    | mman::MapFlags::MAP_NORESERVE,
            )
        }?;
        let stack = ChildStack { base, len };
        // SAFETY: the first page of the mapping just made, which nothing references yet.
        unsafe { mman::mprotect(base, GUARD, mman::ProtFlags::PROT_NONE) }?;
        Ok(stack)
    }

    /// The usable part, above the guard page.
    fn usable(&mut self) -> &mut [u8] {
        // SAFETY: the mapping is `len` bytes long, readable and writable above the guard page,
        // and owned by `self` alone for as long as the borrow lasts.
        unsafe {
            std::slice::from_raw_parts_mut(
                self.base.as_ptr().cast::<u8>().add(GUARD),
                self.len - GUARD,
            )
        }
    }
}

impl Drop for ChildStack {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`; a child that ran on it has exec'd or exited
        // before `spawn_shared` returned (CLONE_VFORK), so nothing uses it any more.
        let _ = unsafe { mman::munmap(self.base, self.len) };
    }
}

/// Starts a process that runs `child` on `stack` **sharing this process's memory**, the way
/// glibc's `posix_spawn` does (`clone(CLONE_VM | CLONE_VFORK)`): no copy of the page tables,
/// no copy-on-write faults afterwards, and the calling thread is suspended until the child has
/// `exec`ed or ended. Returns the child's pid once that has happened; the child is not reaped.
///
/// `child` must end the process with [`exit_now`] or an `exec` and never return (its return
/// type has no value). It runs
/// async-signal-safe code only, and writes no memory but its own stack and what the caller
/// hands it for replies (atomics): everything else it sees is the caller's, suspended in the
/// middle of this call, and other threads of the caller (a test harness's) keep running. The
/// child's descriptor table, current directory, signal dispositions and mask are its own
/// copies (no `CLONE_FILES`, `CLONE_FS`, `CLONE_SIGHAND`), so it may change those.
///
/// # Errors
/// The OS error of `clone` (`EAGAIN`, `ENOMEM`): rtmp's own failure, not the command's.
pub fn spawn_shared(
    stack: &mut ChildStack,
    child: &mut dyn FnMut() -> std::convert::Infallible,
) -> io::Result<Pid> {
    let cb: nix::sched::CloneCb<'_> = Box::new(|| match child() {});
    let flags = nix::sched::CloneFlags::CLONE_VM | nix::sched::CloneFlags::CLONE_VFORK;
    // SAFETY: the contract above is the caller's: `child` never returns, touches only its stack
    // and atomics, and calls only async-signal-safe functions; the stack is a mapping of
    // ours with a guard page below it, and outlives the child's use of it (the call returns
    // only after the child's exec or exit).
    Ok(unsafe { nix::sched::clone(cb, stack.usable(), flags, Some(libc::SIGCHLD)) }?)
}

/// In a process started by [`spawn_shared`]: `execvpe`s `program` with `argv` and `envp` (both
/// null-terminated; no `envp`: rtmp's own environment), searching `PATH` for a name without a
/// slash as `execvp` does. The `PATH` searched is rtmp's, which `--exec` never changes for the
/// command; the environment is only passed on (`execvpe` does not assign `environ`, which the
/// child shares with rtmp). Returns only on failure, with its OS error.
///
/// The pointers must stay valid until the call returns (they are the parent's data, prepared
/// before the spawn; the child never frees them).
pub fn exec_with(
    program: &CStr,
    argv: &[*const c_char],
    envp: Option<&[*const c_char]>,
) -> io::Error {
    if argv.last().is_none_or(|p| !p.is_null())
        || envp.is_some_and(|e| e.last().is_none_or(|p| !p.is_null()))
    {
        return io::Error::from_raw_os_error(libc::EINVAL);
    }
    // SAFETY: reading the pointer value of `environ`: rtmp never changes its environment after
    // start-up (std's `set_var` is not used), so nothing writes it meanwhile.
    let envp = envp.map_or(unsafe { environ }, <[_]>::as_ptr);
    // SAFETY: `program` is a C string, `argv` and `envp` null-terminated arrays of C strings
    // (checked, or the C library's own), valid for the call; execvpe returns only on failure
    // and, like execvp, builds its candidate paths on the stack.
    unsafe { libc::execvpe(program.as_ptr(), argv.as_ptr(), envp) };
    io::Error::last_os_error()
}

/// The entries of this process's environment (`KEY=VALUE`), as the C library holds them in
/// `environ`, borrowed for the rest of the process's life: rtmp never changes its environment
/// after start-up (std's `set_var` is not used), so the array and its strings stay as they are.
/// For a command environment built without copying rtmp's (`crate::supervise::child`).
pub fn environment_entries() -> Vec<&'static CStr> {
    let mut out = Vec::new();
    // SAFETY: reading the pointer value of `environ` (see above: nothing writes it).
    let mut next = unsafe { environ };
    if next.is_null() {
        return out;
    }
    loop {
        // SAFETY: `next` points into the null-terminated `environ` array: at most at its null.
        let entry = unsafe { *next };
        if entry.is_null() {
            return out;
        }
        // SAFETY: each entry of `environ` is a NUL-terminated string that lives, unchanged, as
        // long as the process (see above).
        out.push(unsafe { CStr::from_ptr(entry) });
        // SAFETY: `entry` was not the terminating null, so the array goes on past it.
        next = unsafe { next.add(1) };
    }
}

unsafe extern "C" {
    /// The C library's environment, which `execvpe` is given when the command's is rtmp's.
    static environ: *const *const c_char;
}

/// How a process ended, as `waitid` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// `exit(code)`.
    Exited(i32),
    /// Killed by this signal (any number, real-time ones included).
    Signaled(i32),
}

/// Reaps one child that has ended, any child (`waitid(P_ALL, WEXITED|WNOHANG)`): `None` when no
/// child has ended (or there is none).
///
/// # Errors
/// The OS error of `waitid` other than `ECHILD` and `EINTR`.
pub fn reap_any() -> io::Result<Option<(Pid, Ended)>> {
    loop {
        // SAFETY: an all-zero siginfo_t is a valid value (plain integers and a union of them).
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is a valid out-pointer; P_ALL ignores the id.
        let rc = unsafe { libc::waitid(libc::P_ALL, 0, &mut info, libc::WEXITED | libc::WNOHANG) };
        if rc != 0 {
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::ECHILD) => return Ok(None),
                _ => return Err(err),
            }
        }
        // SAFETY: after a successful waitid, si_pid and si_status are the valid fields.
        let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
        if pid == 0 {
            return Ok(None);
        }
        let ended = if info.si_code == libc::CLD_EXITED {
            Ended::Exited(status)
        } else {
            Ended::Signaled(status)
        };
        return Ok(Some((Pid::from_raw(pid), ended)));
    }
}

/// `pidfd_send_signal(pidfd, sig, NULL, 0)` (Linux 5.1; nix has none): `sig` 0 only checks that
/// the process still exists. Never reaches a process that merely reuses the pid.
///
/// # Errors
/// `ESRCH` when the process has ended; `EINVAL` for a bad signal.
pub fn pidfd_send_signal(pidfd: BorrowedFd<'_>, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: the call takes integers and a null siginfo pointer, which the kernel allows.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0u32,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `kill(pid, sig)` for any signal number (nix's `Signal` cannot name the real-time ones).
///
/// # Errors
/// `ESRCH`, `EPERM`, `EINVAL`.
pub fn kill_any(pid: Pid, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: kill takes integers and touches no memory of ours.
    if unsafe { libc::kill(pid.as_raw(), sig) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The children of `pid`, every thread's (`/proc/PID/task/*/children`, `CONFIG_PROC_CHILDREN`).
/// Empty when the process is gone. `None` when the kernel has no such file, or when the files
/// cannot be read (out of descriptors, say): [`children_of_checked`] tells those apart.
pub fn children_of(pid: Pid) -> Option<Vec<Pid>> {
    children_of_checked(pid).ok().flatten()
}

/// As [`children_of`], with the reason a listing could not be read.
///
/// # Errors
/// The OS error of opening `/proc/PID/task` or a `children` file (`EMFILE`, `ENFILE`,
/// `ENOMEM`...), other than the file being absent or the process being gone.
pub fn children_of_checked(pid: Pid) -> io::Result<Option<Vec<Pid>>> {
    let gone = |e: &io::Error| e.kind() == io::ErrorKind::NotFound;
    let tasks = match std::fs::read_dir(format!("/proc/{pid}/task")) {
        Ok(tasks) => tasks,
        Err(e) if gone(&e) => return Ok(Some(Vec::new())),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    let mut seen_file = false;
    for task in tasks {
        let task = task?;
        let text = match std::fs::read_to_string(task.path().join("children")) {
            Ok(text) => text,
            // A thread that ended meanwhile, or a kernel without the file.
            Err(e) if gone(&e) => continue,
            Err(e) => return Err(e),
        };
        seen_file = true;
        out.extend(
            text.split_ascii_whitespace()
                .filter_map(|p| p.parse().ok())
                .map(Pid::from_raw),
        );
    }
    if !seen_file && std::path::Path::new(&format!("/proc/{pid}")).exists() {
        return Ok(None);
    }
    Ok(Some(out))
}

/// What `/proc/PID/stat` says of a process: its parent, state letter and start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// Field 4, the parent's pid.
    pub ppid: Pid,
    /// Field 3: `R`, `S`, `D`, `T` (stopped), `t` (traced), `Z`, ...
    pub state: char,
    /// Field 22, in clock ticks since boot: with the pid, it names one process for good.
    pub start_time: u64,
}

/// Reads `/proc/PID/stat`; `None` when the process is gone (or the file makes no sense).
pub fn proc_stat(pid: Pid) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The name (field 2) may hold spaces and parentheses; it ends at the last ')'.
    let rest = text.get(text.rfind(')')? + 1..)?;
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    // Fields 5..=21 are skipped; the iterator now stands at field 5.
    let start_time = fields.nth(22 - 5)?.parse().ok()?;
    Some(Stat {
        ppid: Pid::from_raw(ppid),
        state,
        start_time,
    })
}

/// Every pid in `/proc` (a snapshot: processes come and go while it is read).
pub fn all_pids() -> Vec<Pid> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<libc::pid_t>().ok())
        .map(Pid::from_raw)
        .collect()
}

/// Whether the environment `pid` was started with (`/proc/PID/environ`, NUL-separated entries)
/// holds exactly the entry `entry`. `false` when it cannot be read: the process is gone, is a
/// zombie (empty), or is not ours to read (another user's, or not dumpable).
pub fn environ_has(pid: Pid, entry: &[u8]) -> bool {
    std::fs::read(format!("/proc/{pid}/environ"))
        .is_ok_and(|env| env.split(|&b| b == 0).any(|e| e == entry))
}

/// Makes rtmp a child subreaper (`PR_SET_CHILD_SUBREAPER`): every process its descendants
/// orphan is re-parented to rtmp instead of init. Not inherited by `fork`.
///
/// # Errors
/// The OS error of `prctl` (`EINVAL` on a kernel older than 3.4).
pub fn become_subreaper() -> io::Result<()> {
    Ok(nix::sys::prctl::set_child_subreaper(true)?)
}

/// Whether this process leads its session (`getsid(0) == getpid()`): then a hang-up of its
/// controlling terminal is sent to it alone.
pub fn leads_session() -> bool {
    nix::unistd::getsid(None).is_ok_and(|sid| sid == nix::unistd::getpid())
}

/// How many looks [`signal_each_once`] makes at most: each signals the processes the previous
/// ones had not seen (forked meanwhile); systemd's cgroup kill loop is bounded the same way.
const MAX_PASSES: usize = 16;

/// Sends `sig` once to every process that `members` finds, looking again until a look finds
/// none it had not signalled (processes forked meanwhile), at most [`MAX_PASSES`] looks.
/// Returns how many were signalled. The one loop behind the supervisor's tree
/// (`crate::supervise::tree`) and the guardian's leftovers (`crate::guardian::leftovers`).
pub fn signal_each_once(
    sig: libc::c_int,
    mut members: impl FnMut() -> Vec<PinnedProcess>,
) -> usize {
    let mut done: std::collections::HashSet<(Pid, u64)> = std::collections::HashSet::new();
    for _ in 0..MAX_PASSES {
        let mut new = 0;
        for m in members() {
            if done.insert((m.pid, m.start_time)) {
                m.send(sig);
                new += 1;
            }
        }
        if new == 0 {
            break;
        }
    }
    done.len()
}

/// A process pinned for signalling: by a pidfd, so a recycled pid is never hit, or where the
/// kernel has no pidfds (or the descriptor table is full) by pid and start time. Both the
/// supervisor's tree and the guardian's leftovers use it (`crate::supervise::tree`,
/// `crate::guardian::leftovers`).
pub struct PinnedProcess {
    /// The pid, as found.
    pub pid: Pid,
    /// Its start time (`/proc/PID/stat` field 22): with the pid it names one process for good.
    pub start_time: u64,
    /// Its state when pinned (`T` when stopped).
    pub state: char,
    /// `None` when the kernel has no pidfds or the descriptor table is full.
    pub pidfd: Option<OwnedFd>,
}

impl PinnedProcess {
    /// Pins `pid`: opens a pidfd first, then reads its stat, then checks it still lives, so the
    /// stat describes the very process the pidfd holds. `accept` decides on the stat (its
    /// parent, its start time, its state) and may look further (its environment). `None` when
    /// the process is gone or not accepted.
    pub fn pin(pid: Pid, accept: impl FnOnce(&Stat) -> bool) -> Option<PinnedProcess> {
        let pidfd = match pidfd_open(pid) {
            Ok(fd) => Some(fd),
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => return None,
            // ENOSYS (old kernel), EMFILE/ENFILE (full table): signal by pid instead.
            Err(_) => None,
        };
        let stat = proc_stat(pid)?;
        if !accept(&stat) {
            return None;
        }
        let pinned = PinnedProcess {
            pid,
            start_time: stat.start_time,
            state: stat.state,
            pidfd,
        };
        pinned.alive().then_some(pinned)
    }

    /// Whether the process still lives (as pinned).
    pub fn alive(&self) -> bool {
        match &self.pidfd {
            Some(fd) => pidfd_send_signal(fd.as_fd(), 0).is_ok(),
            None => proc_stat(self.pid).is_some_and(|s| s.start_time == self.start_time),
        }
    }

    /// Sends `sig`; errors are ignored: a process that ended meanwhile needs no signal.
    pub fn send(&self, sig: libc::c_int) {
        let _ = match &self.pidfd {
            Some(fd) => pidfd_send_signal(fd.as_fd(), sig),
            None => kill_any(self.pid, sig),
        };
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

    #[test]
    fn stat_and_children_describe_a_child() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("spawn");
        let pid = Pid::from_raw(libc::pid_t::try_from(child.id()).expect("pid"));
        let stat = proc_stat(pid).expect("stat");
        assert_eq!(stat.ppid, nix::unistd::getpid());
        assert!(stat.start_time > 0);
        if let Some(children) = children_of(nix::unistd::getpid()) {
            assert!(children.contains(&pid), "{children:?}");
        }
        if let Ok(fd) = pidfd_open(pid) {
            pidfd_send_signal(fd.as_fd(), 0).expect("alive");
            pidfd_send_signal(fd.as_fd(), libc::SIGKILL).expect("kill");
            let _ = child.wait();
            let err = pidfd_send_signal(fd.as_fd(), 0).expect_err("gone");
            assert_eq!(err.raw_os_error(), Some(libc::ESRCH));
        } else {
            let _ = child.kill();
            let _ = child.wait();
        }
        assert_eq!(proc_stat(pid).map(|s| s.ppid), None);
    }

    #[test]
    fn a_name_with_parentheses_and_spaces_does_not_confuse_stat() {
        let me = proc_stat(nix::unistd::getpid()).expect("own stat");
        assert!(matches!(me.state, 'R' | 'S'));
    }
}
