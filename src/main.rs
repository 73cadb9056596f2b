//! rtmp's entry point: the C `main`, which reads the arguments, dispatches to a mode and turns
//! the [`Outcome`] into an exit status or a re-raised signal.
//!
//! rtmp defines the C `main` itself (`no_main`) so that Rust's runtime does not set SIGPIPE to
//! "ignore" before `main`: like GNU mktemp, rtmp then keeps the SIGPIPE disposition it was
//! started with, and so does the child it runs with `--exec`, which starts with the caller's
//! signal dispositions (README, "Design" and "Signals in `--exec` mode"). The arguments come
//! from the `argc`/`argv` that `main` receives: without std's `main`, std's `args_os()` is
//! filled only on glibc and macOS.
//!
//! Invariants: this file knows no parser (clap stays in `rtmp::cli`) and decides no exit
//! status (`rtmp::exit` does); it writes only help, version and usage errors.
#![no_main]

use std::ffi::{OsString, c_char, c_int};

use rtmp::cli::{self, Action};
use rtmp::errors::os_error_text;
use rtmp::exit::{Outcome, Termination};
use rtmp::output::{warn, write_stdout};
use rtmp::request::{Mode, keep_from_env};

/// The process entry point, called by the C runtime.
///
/// # Safety
///
/// `argv` must hold `argc` pointers to NUL-terminated strings, as the C runtime passes them
/// (C11 5.1.2.2.1); nothing but the C runtime calls this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // SAFETY: the C runtime calls `main` with `argc` pointers to NUL-terminated strings in
    // `argv`, alive for the whole process (this function's contract).
    let args = unsafe { rtmp::sys::args::from_c_main(argc, argv) };
    match dispatch(args).termination() {
        Termination::Exit(code) => c_int::from(code),
        Termination::Signal(sig) => rtmp::supervise::die_of_signal(sig),
    }
}

/// Parses `args` (without the program name) and carries out what they ask for: help, version,
/// mktemp mode or `--exec` mode. A usage error is reported as GNU tools do (`rtmp: MESSAGE` and
/// the `--help` hint on stderr).
fn dispatch(args: Vec<OsString>) -> Outcome {
    let action = match cli::parse_in(args, cli::ParseEnv::from_process()) {
        Ok(action) => action,
        Err(e) => {
            warn(&e.message);
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                b"Try 'rtmp --help' for more information.\n",
            );
            return e.outcome();
        }
    };
    match action {
        Action::Help { long } => print_or_fail(cli::help_text(long).as_bytes()),
        Action::Version => {
            print_or_fail(format!("rtmp {}\n", env!("CARGO_PKG_VERSION")).as_bytes())
        }
        Action::Create(mut request) => {
            // The environment is read here, as TMPDIR is, so that parsing stays pure.
            if let Mode::Exec(exec) = &mut request.mode {
                exec.apply_env_keep(keep_from_env(std::env::var_os("RTMP_KEEP").as_deref()));
            }
            let env_tmpdir = std::env::var_os("TMPDIR");
            match &request.mode {
                Mode::Mktemp(mktemp) => {
                    rtmp::mktemp::create_and_print(&request, mktemp, env_tmpdir.as_deref())
                }
                Mode::Exec(exec) => rtmp::exec::run_exec(&request, exec, env_tmpdir.as_deref()),
            }
        }
    }
}

/// `--help` and `--version` exit 0, or 1 with `write error` when stdout fails (GNU).
fn print_or_fail(bytes: &[u8]) -> Outcome {
    match write_stdout(bytes) {
        Ok(()) => Outcome::Success,
        Err(e) => {
            warn(&format!("write error: {}", os_error_text(&e)));
            Outcome::Failure
        }
    }
}
