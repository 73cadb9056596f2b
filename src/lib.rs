//! rtmp: a GNU-compatible `mktemp` with BSD spellings and an `--exec` mode.

pub mod cli;
pub mod create;
pub mod errors;
pub mod mktemp;
pub mod output;
pub mod quote;
pub mod status;
pub mod template;
