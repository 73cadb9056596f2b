//! rtmp's entry point: parse, dispatch, turn the outcome into an exit status.
//!
//! rtmp defines the C `main` itself (`no_main`) so that Rust's runtime does not set SIGPIPE to
//! "ignore" before `main`: like GNU mktemp, rtmp then keeps the SIGPIPE disposition it was
//! started with, and so does the child it runs with `--exec` (SPEC.md C: the child starts with
//! the caller's signal dispositions). std still collects the arguments on Linux.
#![no_main]

use std::ffi::OsString;
use std::os::raw::{c_char, c_int};

use rtmp::cli::{self, Action};
use rtmp::errors::os_error_text;
use rtmp::exit::{Outcome, Termination};
use rtmp::output::{warn, write_stdout};
use rtmp::request::Mode;

/// The process entry point, called by the C runtime.
#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    match run(std::env::args_os().skip(1).collect()).termination() {
        Termination::Exit(code) => c_int::from(code),
        Termination::Signal(sig) => rtmp::supervise::die_of_signal(sig),
    }
}

fn run(args: Vec<OsString>) -> Outcome {
    let action = match cli::parse(args) {
        Ok(action) => action,
        Err(e) => {
            warn(&e.message);
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                b"Try 'rtmp --help' for more information.\n",
            );
            return if e.exec_mode {
                Outcome::ExecFailed
            } else {
                Outcome::Failure
            };
        }
    };
    match action {
        Action::Help { long } => print_or_fail(cli::help_text(long).as_bytes()),
        Action::Version => {
            print_or_fail(format!("rtmp {}\n", env!("CARGO_PKG_VERSION")).as_bytes())
        }
        Action::Create(request) => {
            let env_tmpdir = std::env::var_os("TMPDIR");
            match &request.mode {
                Mode::Mktemp(mktemp) => {
                    rtmp::mktemp::create_and_print(&request, mktemp, env_tmpdir.as_deref())
                }
                Mode::Exec(exec) => rtmp::exec::run(&request, exec, env_tmpdir.as_deref()),
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
