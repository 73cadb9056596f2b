//! rtmp's integration tests: one test binary (as fd and ripgrep have it), one module per area,
//! one [`support`] module for everything the areas share.
//!
//! One binary means one link instead of fifteen and one copy of the helpers (`tests/load.rs`
//! stays apart, see Cargo.toml). Run one area with `cargo test --test it exec_signals::`, one
//! test with its full name.
//!
//! Every test runs the built `rtmp` binary (or, in `supervise`, `planner_props` and
//! `generated`, the library) in a scratch directory of its own, and reads nothing outside the
//! repository (rules are cited from docs/behaviour.md, the README and the man page). Tests that need a tool or a privilege the
//! machine lacks (GNU `/usr/bin/mktemp`, `setpriv`, `unshare`, `strace`, root) print
//! `skipped: ...` and pass.
//!
//! The mktemp-mode tests are named after the rule they check: `a1_` the GNU command line,
//! `a2_N_` GNU's template rule N (1 default template, 2 suffix, 3 slash in the suffix, 4 too
//! few X's, 5 where the name goes, 6 quoting in messages), `a3_` creation and printing, `b_` the
//! BSD spellings. The README's "Differences from GNU and BSD mktemp" says where rtmp differs.

mod support;

// mktemp mode
mod gnu_compare;
mod location;
mod modes;
mod modes_until;
mod options;
mod output_errors;
mod planner_props;
mod templates;

// --exec mode
mod cleanup;
mod corners_exec;
mod examples;
mod exec;
mod exec_cleanup;
mod exec_signals;
mod faults;
mod guardian;
mod job_control;
mod process_tree;
mod supervise;
mod terminal;

// files generated from the clap definition
mod generated;

// issue 13: the corners a script meets (both modes, completions, the repository)
mod corners;

// issue 14: the modes for scripts without trap
mod modes_replace;
mod modes_stdin;
