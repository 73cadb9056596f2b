//! The port surface: the only raw `libc` calls in rtmp, and all its `unsafe` blocks but one.
//!
//! Everything above this module uses nix's safe APIs or the functions here; what it needs that
//! nix 0.32 does not offer safely (or at all, with the features rtmp builds it with) is wrapped
//! here, one unsafe operation per block, each with the reason it is sound. The one `unsafe`
//! outside is the registration of the `pre_exec` hook in [`crate::supervise::child`]: its
//! soundness is an argument about that module's code (async-signal-safety), so it stays there.
//! This is also the only Linux-specific code: `openat2`, `O_PATH`, `/proc/self/fd`,
//! `O_TMPFILE`, `renameat2`, `pidfd_open`, `close_range` and `prctl`. Porting rtmp means porting these three
//! files (README, "Design").
//!
//! A few functions here are safe to call but come with a precondition that the type system
//! cannot check, written in their docs: `process::fork_single_threaded` (one thread), and
//! `fs::dup_onto` and `process::close_descriptors_from` (only in the forked guardian, which
//! never returns into rtmp's code, so no other owner of those numbers runs again). So nothing
//! here is public outside the crate but the test switch [`fs::use_openat_fallback_only`].
//!
//! * [`fs`]: descriptors and the file system (directory opens that never follow a symlink,
//!   permission changes through a descriptor, the unnamed file, a socket write without SIGPIPE,
//!   and for issue 14 the inherited standard input, regular files reopened by name, renames
//!   with `renameat2`'s flags, the umask).
//! * `signal`: signal dispositions and masks for any signal number, real-time ones included
//!   (nix's `Signal` enum cannot name those), and the handler that notices a signal in a forked
//!   child before `exec`.
//! * `process`: `fork` while single-threaded, `_exit`, pidfds, closing every other descriptor.

pub mod fs;
pub(crate) mod process;
pub(crate) mod signal;
