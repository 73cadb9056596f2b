//! Signal dispositions and masks by signal number.
//!
//! rtmp must handle any signal a child can die of, real-time signals included, and nix's
//! `Signal` enum cannot name those; so the few operations that take an arbitrary number are
//! raw here. Where a `Signal` suffices (masks of whole sets, `kill` of standard signals), the
//! callers use nix directly. Every function here is async-signal-safe (plain system calls on
//! stack data, no allocation), so the command's process may use them between `fork` and `exec`.

use std::io;
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use nix::libc::{self, c_int};
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet};
use signal_hook::SigId;

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

/// Installs a low-level action for `sig` (beside the handlers signal-hook's iterator already
/// has) that sets bit `1 << sig` of `flags` when the signal is delivered to a process whose pid
/// is not `owner`: a child forked by the owner that has not reached `exec` yet, where the
/// inherited handler would otherwise swallow the signal.
///
/// # Errors
/// `EINVAL` for a signal number without a bit in `flags` (32 and up); signal-hook's
/// registration error.
pub fn record_in_forked_child(
    sig: c_int,
    owner: &'static AtomicI32,
    flags: &'static AtomicU32,
) -> io::Result<SigId> {
    let bit = u32::try_from(sig)
        .ok()
        .and_then(|n| 1u32.checked_shl(n))
        .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
    let action = move || {
        if nix::unistd::getpid().as_raw() != owner.load(Ordering::Relaxed) {
            flags.fetch_or(bit, Ordering::SeqCst);
        }
    };
    // SAFETY: the action only calls getpid and atomic load/fetch_or, all async-signal-safe; it
    // allocates nothing, takes no lock and cannot panic.
    unsafe { signal_hook::low_level::register(sig, action) }
}
