//! Signal dispositions, masks and rtmp's one signal handler, by signal number.
//!
//! rtmp must handle any signal a child can die of, real-time signals included, and nix's
//! `Signal` enum cannot name those; so the operations that take an arbitrary number are raw
//! here. Where a `Signal` suffices (masks of whole sets), the callers use nix directly. Every
//! function here but [`Catcher::install`] is async-signal-safe (plain system calls on stack
//! data, no allocation), so the command's process may use them between `fork` and `exec`.
//!
//! # The handler
//!
//! [`Catcher`] puts one `SA_SIGINFO` handler on every signal it is given. In rtmp the handler
//! writes a 12-byte record (signal, `si_code`, `si_pid`) to a non-blocking close-on-exec pipe
//! whose read end the supervisor polls, so signals come out in arrival order, each with its
//! origin, and a wait for them can have a timeout (the `--kill-after` grace period). A pipe
//! and not signalfd: the test harness runs a supervisor in a process with a second thread,
//! where a blocked signal would be delivered to that thread with its default action. In a
//! process forked from rtmp that has not reached `exec` yet (the command's, before its mask is
//! restored) the handler instead resets the signal to `SIG_DFL` and raises it again, so the
//! signal acts on that process as it would without rtmp, and nothing of it leaks into rtmp's
//! pipe. Records are lost only if the pipe is full (about 5 000 unread signals); the kernel
//! coalesces standard signals anyway.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

use nix::fcntl::OFlag;
use nix::libc::{self, c_int};
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet};

/// What a signal does when no handler catches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// `SIG_DFL`.
    Default,
    /// `SIG_IGN`.
    Ignore,
}

/// A fully initialised `struct sigaction` for `handler`, empty mask, no flags (built by nix,
/// so without `mem::zeroed`).
fn raw_action(handler: SigHandler) -> libc::sigaction {
    libc::sigaction::from(SigAction::new(handler, SaFlags::empty(), SigSet::empty()))
}

/// Whether the current disposition of `sig` is `SIG_IGN` (a query: nothing is changed, which
/// nix's `sigaction` cannot do).
///
/// # Errors
/// `EINVAL` for an invalid signal number.
pub fn is_ignored(sig: c_int) -> io::Result<bool> {
    let mut old = raw_action(SigHandler::SigDfl);
    // SAFETY: a null new action only queries; `old` is a valid, initialised out-pointer.
    let rc = unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(old.sa_sigaction == libc::SIG_IGN)
}

/// Sets the disposition of `sig` (any number), with an empty mask and no flags.
///
/// # Errors
/// `EINVAL` for an invalid number, or for `SIGKILL`/`SIGSTOP`.
pub fn set_disposition(sig: c_int, disposition: Disposition) -> io::Result<()> {
    let act = raw_action(match disposition {
        Disposition::Default => SigHandler::SigDfl,
        Disposition::Ignore => SigHandler::SigIgn,
    });
    // SAFETY: `act` is fully initialised and installs no handler function, so no Rust code
    // can run from it; a null old-action pointer is allowed.
    let rc = unsafe { libc::sigaction(sig, &act, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Removes `sig` (any number) from the calling thread's blocked set.
///
/// # Errors
/// `EINVAL` for an invalid number.
pub fn unblock(sig: c_int) -> io::Result<()> {
    let mut set: libc::sigset_t = *SigSet::empty().as_ref();
    // SAFETY: `set` is an initialised sigset_t owned by this frame.
    if unsafe { libc::sigaddset(&mut set, sig) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `set` is initialised; a null old-set pointer is allowed.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(())
}

/// Sends `sig` (any number) to the calling thread; a default action that kills takes effect
/// before this returns. Errors are ignored: the callers only make a death more faithful.
pub fn raise(sig: c_int) {
    // SAFETY: raise takes a number and touches no memory of ours.
    unsafe {
        libc::raise(sig);
    }
}

/// Adds `sig` (any number) to `set`.
///
/// # Errors
/// `EINVAL` for an invalid number.
pub fn add(set: &mut SigSet, sig: c_int) -> io::Result<()> {
    let mut raw: libc::sigset_t = *set.as_ref();
    // SAFETY: `raw` is an initialised sigset_t owned by this frame.
    if unsafe { libc::sigaddset(&mut raw, sig) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` was initialised from a valid set and changed only by sigaddset.
    *set = unsafe { SigSet::from_sigset_t_unchecked(raw) };
    Ok(())
}

/// Removes `sig` (any number) from `set`.
///
/// # Errors
/// `EINVAL` for an invalid number.
pub fn remove(set: &mut SigSet, sig: c_int) -> io::Result<()> {
    let mut raw: libc::sigset_t = *set.as_ref();
    // SAFETY: `raw` is an initialised sigset_t owned by this frame.
    if unsafe { libc::sigdelset(&mut raw, sig) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` was initialised from a valid set and changed only by sigdelset.
    *set = unsafe { SigSet::from_sigset_t_unchecked(raw) };
    Ok(())
}

/// Whether `sig` (any number) is in `set`.
pub fn contains(set: &SigSet, sig: c_int) -> bool {
    // SAFETY: the set is initialised; sigismember only reads it.
    unsafe { libc::sigismember(set.as_ref(), sig) == 1 }
}

/// The signals pending for the calling thread or the process (`sigpending`).
///
/// # Errors
/// The OS error of `sigpending` (none on Linux for a valid pointer).
pub fn pending() -> io::Result<SigSet> {
    let mut raw: libc::sigset_t = *SigSet::empty().as_ref();
    // SAFETY: `raw` is a valid, initialised out-pointer.
    if unsafe { libc::sigpending(&mut raw) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` was initialised and then filled in by sigpending.
    Ok(unsafe { SigSet::from_sigset_t_unchecked(raw) })
}

/// Stops this process with the stop signal `sig` the way its default action would (so a
/// parent's `waitpid(WUNTRACED)` reports `sig`), and returns once it has been continued; the
/// action `sig` had before (rtmp's handler) is back afterwards. Errors are ignored: at worst
/// rtmp does not stop.
pub fn stop_self_with(sig: c_int) {
    let dfl = raw_action(SigHandler::SigDfl);
    let mut old = raw_action(SigHandler::SigDfl);
    // SAFETY: `dfl` is fully initialised and installs no function; `old` is a valid out-pointer.
    if unsafe { libc::sigaction(sig, &dfl, &mut old) } != 0 {
        return;
    }
    let _ = unblock(sig);
    raise(sig);
    // SAFETY: `old` was filled in by the kernel above: the action rtmp had installed.
    unsafe {
        libc::sigaction(sig, &old, std::ptr::null_mut());
    }
}

/// One record of the handler: a signal and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caught {
    /// The signal number.
    pub signal: c_int,
    /// `si_code`: `SI_USER` (0), `SI_QUEUE`, `SI_TKILL` and the other values <= 0 for a signal a
    /// process sent; `SI_KERNEL` (0x80) or another positive value for one the kernel generated.
    pub code: c_int,
    /// `si_pid`: the sender, for a signal a process sent (0 otherwise).
    pub pid: libc::pid_t,
}

const RECORD: usize = 12;

/// The pid that owns the handler's pipe (rtmp's), and the pipe's write end (-1: none).
static OWNER: AtomicI32 = AtomicI32::new(0);
static WRITE_END: AtomicI32 = AtomicI32::new(-1);
/// One bit per signal (bit `N - 1` for signal `N`) that rtmp's handler has recorded, in rtmp,
/// since the catcher was installed, leaving out those rtmp sent itself: see [`arrived`].
static ARRIVED: AtomicU64 = AtomicU64::new(0);

/// The bit of `sig` in an [`arrived`] set (0 for a number outside 1..=64).
pub fn bit(sig: c_int) -> u64 {
    match u32::try_from(sig) {
        Ok(n @ 1..=64) => 1 << (n - 1),
        _ => 0,
    }
}

/// Every signal rtmp's handler has recorded in rtmp since [`Catcher::install`], as a set of
/// [`bit`]s, leaving out a signal rtmp sent itself (`SI_USER` from its own pid, as
/// `crate::supervise` leaves it out of the records it acts on). Async-signal-safe: one atomic
/// load. A process started by [`crate::sys::process::spawn_shared`] reads rtmp's set, which is
/// how the command's process learns, before `exec`, that a signal reached rtmp after rtmp's
/// last look at its pipe.
pub fn arrived() -> u64 {
    ARRIVED.load(Ordering::SeqCst)
}

extern "C" fn on_signal(sig: c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: errno is thread-local; reading and restoring it keeps the interrupted code's value.
    let errno = unsafe { *libc::__errno_location() };
    if nix::unistd::getpid().as_raw() != OWNER.load(Ordering::Relaxed) {
        // A process forked from rtmp before `exec`: act as if rtmp had never caught `sig`. The
        // signal is blocked while its handler runs, so it is delivered again, with the default
        // action, when the handler returns.
        let _ = set_disposition(sig, Disposition::Default);
        raise(sig);
    } else {
        // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler; si_code is a
        // plain field and si_pid is valid to read for every code (0 when not sent by a process).
        let (code, pid) = unsafe { ((*info).si_code, (*info).si_pid()) };
        if !(code == libc::SI_USER && pid == OWNER.load(Ordering::Relaxed)) {
            ARRIVED.fetch_or(bit(sig), Ordering::SeqCst);
        }
        let mut rec = [0u8; RECORD];
        rec[..4].copy_from_slice(&sig.to_ne_bytes());
        rec[4..8].copy_from_slice(&code.to_ne_bytes());
        rec[8..].copy_from_slice(&pid.to_ne_bytes());
        let fd = WRITE_END.load(Ordering::Relaxed);
        // SAFETY: write is async-signal-safe; `rec` is a valid buffer. A full pipe (EAGAIN)
        // loses the record, as documented in the module doc.
        unsafe {
            libc::write(fd, rec.as_ptr().cast(), RECORD);
        }
    }
    // SAFETY: see above.
    unsafe { *libc::__errno_location() = errno };
}

/// rtmp's handler on a set of signals, and the pipe it reports to (see the module doc). One per
/// process; dropping it puts `SIG_DFL` back on every signal it caught.
pub struct Catcher {
    read: OwnedFd,
    _write: OwnedFd,
    caught: Vec<c_int>,
}

impl Catcher {
    /// Catches each signal of `wanted` whose disposition is not `SIG_IGN` now (a signal the
    /// caller left ignored stays ignored), and every signal of `always` whatever it was.
    /// Returns the catcher and the signals of `wanted` that were found ignored.
    ///
    /// # Errors
    /// The OS error of `pipe2` or `sigaction`.
    pub fn install(wanted: &[c_int], always: &[c_int]) -> io::Result<(Catcher, Vec<c_int>)> {
        let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)?;
        OWNER.store(nix::unistd::getpid().as_raw(), Ordering::SeqCst);
        ARRIVED.store(0, Ordering::SeqCst);
        WRITE_END.store(write.as_raw_fd(), Ordering::SeqCst);
        let mut catcher = Catcher {
            read,
            _write: write,
            caught: Vec::with_capacity(wanted.len() + always.len()),
        };
        let mut ignored = Vec::new();
        let action = libc::sigaction::from(SigAction::new(
            SigHandler::SigAction(on_signal),
            // SA_RESTART: a read or wait of rtmp's is not cut short by a signal it only records.
            SaFlags::SA_SIGINFO | SaFlags::SA_RESTART,
            SigSet::empty(),
        ));
        for (&sig, force) in wanted
            .iter()
            .map(|s| (s, false))
            .chain(always.iter().map(|s| (s, true)))
        {
            let mut old = raw_action(SigHandler::SigDfl);
            // SAFETY: `action` is fully initialised and its handler only makes async-signal-safe
            // calls; `old` is a valid out-pointer.
            if unsafe { libc::sigaction(sig, &action, &mut old) } != 0 {
                return Err(io::Error::last_os_error());
            }
            if old.sa_sigaction == libc::SIG_IGN && !force {
                // Left ignored: one more call only for those, instead of a query for every one.
                set_disposition(sig, Disposition::Ignore)?;
                ignored.push(sig);
            } else {
                catcher.caught.push(sig);
            }
        }
        Ok((catcher, ignored))
    }

    /// The descriptor that becomes readable when a record waits (for `poll`).
    pub fn fd(&self) -> BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.read.as_fd()
    }

    /// The signals this catcher has a handler on.
    pub fn caught(&self) -> &[c_int] {
        &self.caught
    }

    /// Every record waiting in the pipe, oldest first; never blocks.
    pub fn drain(&self) -> Vec<Caught> {
        let mut out = Vec::new();
        let mut buf = [0u8; RECORD * 64];
        loop {
            match nix::unistd::read(&self.read, &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    // The handler writes whole records (12 < PIPE_BUF bytes: atomic), so reads
                    // of a multiple of 12 bytes return whole records.
                    for rec in buf[..n].chunks_exact(RECORD) {
                        let int = |i: usize| {
                            let mut b = [0u8; 4];
                            b.copy_from_slice(&rec[i..i + 4]);
                            i32::from_ne_bytes(b)
                        };
                        out.push(Caught {
                            signal: int(0),
                            code: int(4),
                            pid: int(8),
                        });
                    }
                }
            }
        }
        out
    }
}

impl Drop for Catcher {
    fn drop(&mut self) {
        for &sig in &self.caught {
            let _ = set_disposition(sig, Disposition::Default);
        }
        WRITE_END.store(-1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_take_real_time_signals() {
        let mut set = SigSet::empty();
        add(&mut set, libc::SIGRTMAX()).expect("add");
        assert!(contains(&set, libc::SIGRTMAX()));
        assert!(!contains(&set, libc::SIGRTMIN()));
        assert!(add(&mut set, 0x1000).is_err());
    }

    #[test]
    fn nothing_is_pending_in_a_quiet_test_thread() {
        let set = pending().expect("sigpending");
        assert!(!contains(&set, libc::SIGRTMAX()));
    }
}
