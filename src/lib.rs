//! rtmp: a GNU-compatible `mktemp` with BSD spellings and an `--exec` mode.

pub mod cleanup;
