//! The guardian's wire format: pure functions over bytes, no I/O.
//!
//! Two streams share one `socketpair`:
//!
//! * guardian → rtmp, once, right after the fork: [`READY`], or [`error_message`] (`E` and the
//!   native-endian errno of the step that failed, 5 bytes). [`ReadyReply::parse`] reads it.
//! * rtmp side → guardian: `P<pid>\n` ([`pid_message`]), written by the command's own process
//!   between `fork` and `exec`; then [`DONE`], written by rtmp after its own cleanup.
//!   [`Message::parse`] reads what arrived so far. End-of-file without `D` means rtmp died.
//!
//! [`pid_message`] runs in the command's process before `exec`, so it is async-signal-safe:
//! it formats into a fixed buffer and allocates nothing.

/// The guardian is in its own session and will remove the path if rtmp dies.
pub const READY: &[u8] = b"R";

/// rtmp has finished with the path: the guardian exits at once, touching nothing.
pub const DONE: &[u8] = b"D";

/// The longest [`pid_message`]: `P`, up to 12 digits, `\n`, with room to spare.
pub const PID_MESSAGE_MAX: usize = 16;

/// `E` and the errno (native-endian) of the step of becoming a guardian that failed.
pub fn error_message(errno: i32) -> [u8; 5] {
    let mut msg = [b'E', 0, 0, 0, 0];
    msg[1..].copy_from_slice(&errno.to_ne_bytes());
    msg
}

/// Writes `P<pid>\n` into `buf` and returns its length. Async-signal-safe.
pub fn pid_message(pid: i32, buf: &mut [u8; PID_MESSAGE_MAX]) -> usize {
    let mut digits = [0u8; 12];
    let mut n = 0;
    let mut v = pid.unsigned_abs();
    loop {
        digits[n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 || n == digits.len() {
            break;
        }
    }
    buf[0] = b'P';
    for i in 0..n {
        buf[1 + i] = digits[n - 1 - i];
    }
    buf[1 + n] = b'\n';
    n + 2
}

/// The guardian's first word, as far as it has arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadyReply {
    /// [`READY`].
    Ready,
    /// [`error_message`]: becoming a guardian failed with this errno.
    Failed(i32),
    /// Not complete yet.
    Incomplete,
}

impl ReadyReply {
    /// Reads the bytes received so far (at most 5 are ever needed).
    pub fn parse(buf: &[u8]) -> ReadyReply {
        match *buf {
            [b'R', ..] => ReadyReply::Ready,
            [b'E', a, b, c, d, ..] => ReadyReply::Failed(i32::from_ne_bytes([a, b, c, d])),
            _ => ReadyReply::Incomplete,
        }
    }
}

/// What the bytes the guardian received so far say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// rtmp finished normally ([`DONE`] anywhere).
    Done,
    /// The command's pid: the first line, complete, `P` and a positive decimal number.
    Pid(i32),
    /// Nothing conclusive yet.
    Nothing,
}

impl Message {
    /// Reads everything received so far.
    pub fn parse(buf: &[u8]) -> Message {
        if buf.contains(&DONE[0]) {
            return Message::Done;
        }
        let Some(line) = buf
            .strip_prefix(b"P")
            .and_then(|rest| rest.split(|&b| b == b'\n').next())
            .filter(|_| buf.contains(&b'\n'))
        else {
            return Message::Nothing;
        };
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse::<i32>().ok())
            .filter(|&pid| pid > 0)
            .map_or(Message::Nothing, Message::Pid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_messages() {
        for (pid, want) in [
            (7, &b"P7\n"[..]),
            (4_194_304, b"P4194304\n"),
            (i32::MAX, b"P2147483647\n"),
        ] {
            let mut buf = [0u8; PID_MESSAGE_MAX];
            let n = pid_message(pid, &mut buf);
            assert_eq!(&buf[..n], want, "{pid}");
            assert_eq!(Message::parse(&buf[..n]), Message::Pid(pid), "{pid}");
        }
    }

    #[test]
    fn message_waits_for_a_complete_line() {
        let table: &[(&[u8], Message)] = &[
            (b"", Message::Nothing),
            (b"P", Message::Nothing),
            (b"P12", Message::Nothing),
            (b"P12\n", Message::Pid(12)),
            (b"P12\nP13\n", Message::Pid(12)),
            (b"P12\nD", Message::Done),
            (b"D", Message::Done),
            (b"P1D", Message::Done),
            (b"Px\n", Message::Nothing),
            (b"P0\n", Message::Nothing),
            (b"P-5\n", Message::Nothing),
            (b"P99999999999\n", Message::Nothing),
            (b"X12\n", Message::Nothing),
        ];
        for &(bytes, want) in table {
            assert_eq!(
                Message::parse(bytes),
                want,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn ready_replies() {
        let e = error_message(24);
        let table: &[(&[u8], ReadyReply)] = &[
            (b"", ReadyReply::Incomplete),
            (READY, ReadyReply::Ready),
            (b"E", ReadyReply::Incomplete),
            (&e[..4], ReadyReply::Incomplete),
            (&e, ReadyReply::Failed(24)),
            (b"x", ReadyReply::Incomplete),
        ];
        for &(bytes, want) in table {
            assert_eq!(ReadyReply::parse(bytes), want, "{bytes:?}");
        }
    }
}
