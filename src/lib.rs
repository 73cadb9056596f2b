//! rtmp: a GNU-compatible `mktemp` with BSD spellings and an `--exec` mode.
//!
//! The binary (`src/main.rs`) only parses, dispatches and maps outcomes to exit statuses; the
//! modules here hold the behaviour, one concern each.

pub mod cleanup;
pub mod cli;
pub mod create;
pub mod errors;
pub mod exec;
pub mod exit;
pub mod guardian;
pub mod mktemp;
pub mod output;
pub mod quote;
pub mod request;
pub mod supervise;
pub mod sys;
pub mod template;
