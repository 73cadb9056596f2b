//! The port surface: the only raw `libc` calls in rtmp, and all its `unsafe` blocks.
//!
//! Everything above this module uses nix's safe APIs or the functions here; what it needs that
//! nix 0.32 does not offer safely (or at all, with the features rtmp builds it with) is wrapped
//! here, one unsafe operation per block, each with the reason it is sound. The command's
//! process is rtmp's own spawn (`process::spawn_shared`, `clone(CLONE_VM | CLONE_VFORK)`); the
//! argument that the code it runs before `exec` is sound is about
//! [`crate::supervise::child`]'s code, so it is made there. This is also the only Linux-specific code: `openat2`, `O_PATH`,
//! `/proc/self/fd`, `O_TMPFILE`, `renameat2`, `pidfd_open`, `pidfd_send_signal`, `/proc/PID/task/*/children`,
//! `close_range` and `prctl` (`PR_SET_CHILD_SUBREAPER`). Porting rtmp means porting these three
//! files (README, "Design").
//!
//! A few functions here are safe to call but come with a precondition that the type system
//! cannot check, written in their docs: `process::fork_single_threaded` (one thread), and
//! `fs::dup_onto` and `process::close_descriptors_from` (only in the forked guardian, which
//! never returns into rtmp's code, so no other owner of those numbers runs again). So nothing
//! here is public outside the crate but [`args::from_c_main`] (for the binary's `main`) and the
//! test switch [`fs::use_openat_fallback_only`].
//!
//! * [`args`]: the arguments from the C `main`'s `argc`/`argv`.
//! * [`fs`]: descriptors and the file system (directory opens that never follow a symlink,
//!   permission changes through a descriptor, the unnamed file, a socket write without SIGPIPE,
//!   and for issue 14 the inherited standard input, regular files reopened by name, renames
//!   with `renameat2`'s flags, the umask).
//! * `signal`: signal dispositions and masks for any signal number, real-time ones included
//!   (nix's `Signal` enum cannot name those), and rtmp's one handler, which reports each signal
//!   with its origin through a pipe.
//! * `process`: `fork` (while single-threaded), the command's spawn in shared memory,
//!   `execvpe`, `_exit`, `waitid`,
//!   pidfds, `/proc` reads of children and state, the subreaper, closing every other descriptor.

pub mod args;
pub mod fs;
pub(crate) mod process;
pub(crate) mod signal;
