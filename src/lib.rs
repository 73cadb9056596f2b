//! rtmp: a GNU-compatible `mktemp` with BSD spellings and an `--exec` mode.
//!
//! The binary (`src/main.rs`) only parses, dispatches and maps outcomes to exit statuses; the
//! modules here hold the behaviour, one concern each.
//!
//! rtmp is Linux-only for now: removal relies on `openat2`, `O_PATH` and `/proc/self/fd`,
//! `--anonymous` on `O_TMPFILE`, the guardian and the supervisor on `pidfd_open`,
//! `close_range` and `prctl`. All of that sits behind `sys`, the port surface. Elsewhere the
//! build stops with the one error below instead of hundreds from those calls; every module is
//! compiled on Linux only so that nothing else is reported (a new module needs the same `cfg`).

#[cfg(not(target_os = "linux"))]
compile_error!(
    "rtmp builds on Linux only: its cleanup, guardian and --anonymous use Linux system calls \
     (openat2, O_PATH, /proc/self/fd, O_TMPFILE, pidfd_open, close_range, prctl); a port starts \
     in src/sys/"
);

#[cfg(target_os = "linux")]
pub mod cleanup;
#[cfg(target_os = "linux")]
pub mod cli;
#[cfg(target_os = "linux")]
pub mod create;
#[cfg(target_os = "linux")]
pub mod errors;
#[cfg(target_os = "linux")]
pub mod exec;
#[cfg(target_os = "linux")]
pub mod exit;
#[cfg(target_os = "linux")]
pub mod guardian;
#[cfg(target_os = "linux")]
pub mod mktemp;
#[cfg(target_os = "linux")]
pub mod output;
#[cfg(target_os = "linux")]
pub mod quote;
#[cfg(target_os = "linux")]
pub mod request;
#[cfg(target_os = "linux")]
pub mod supervise;
#[cfg(target_os = "linux")]
pub mod sys;
#[cfg(target_os = "linux")]
pub mod template;
