//! Writing to standard output with every error reported.
//!
//! Rust's `std::io::stdout()` treats a closed descriptor (EBADF) as success, and GNU `mktemp`
//! reports it (`write error: Bad file descriptor`) and removes what it created. So rtmp writes
//! to descriptor 1 directly, retrying only on EINTR.

use std::io;
use std::os::fd::AsFd;

use nix::errno::Errno;

/// Writes all of `bytes` to standard output, unbuffered.
///
/// Errors: the OS error of the first failed `write(2)` (EBADF for a closed stdout, ENOSPC for
/// `/dev/full`, EPIPE when SIGPIPE is ignored and the reader is gone).
pub fn write_stdout(mut bytes: &[u8]) -> io::Result<()> {
    let stdout = io::stdout();
    let fd = stdout.as_fd();
    while !bytes.is_empty() {
        match nix::unistd::write(fd, bytes) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(io::Error::from(e)),
        }
    }
    Ok(())
}

/// Prints `rtmp: MESSAGE` on stderr. A failure to write there is ignored: there is nowhere left
/// to report it, and `eprintln!` would panic.
pub fn warn(message: &str) {
    use std::io::Write;
    let line = format!("rtmp: {message}\n");
    let _ = io::stderr().lock().write_all(line.as_bytes());
}
