//! rtmp: a GNU-compatible `mktemp` with BSD spellings and an `--exec` mode.

/// Owns the `--exec` child process and rtmp's signal handling.
pub mod supervise;
