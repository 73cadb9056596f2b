//! The guardian's wire format: pure functions over bytes, no I/O.
//!
//! Two streams share one `socketpair`:
//!
//! | direction | when | bytes | meaning |
//! | --- | --- | --- | --- |
//! | guardian → rtmp | once, after `setsid` and the creation | `C`, length (`u32`, native-endian), the created name as planned (relative when the template is) | [`created_message`]: the guardian created this name and will remove it if rtmp dies |
//! | guardian → rtmp | instead of `C` | `F`, errno (`i32`, native-endian) | [`failed_message`] with [`CREATE_FAILED`]: the creation failed (GNU's message names this errno); nothing exists |
//! | guardian → rtmp | instead of `C` | `E`, errno | [`failed_message`] with [`SETUP_FAILED`]: becoming a guardian failed before anything was created |
//! | command → guardian | between `fork` and `exec` | `P<pid>\n` | [`pid_message`]: the command's pid |
//! | rtmp → guardian | after rtmp's own cleanup | `D` | [`DONE`]: exit, touching nothing |
//!
//! [`Reply::parse`] reads the guardian's one reply, [`Message::parse`] what the guardian
//! received so far. End-of-file without `D` means rtmp died. A host-endian binary length is
//! fine: both ends are the same binary, one a fork of the other.
//!
//! [`pid_message`] runs in the command's process before `exec`, so it is async-signal-safe:
//! it formats into a fixed buffer and allocates nothing.

/// rtmp has finished with the path: the guardian exits at once, touching nothing.
pub const DONE: &[u8] = b"D";

/// First byte of a reply that says the creation failed.
pub const CREATE_FAILED: u8 = b'F';

/// First byte of a reply that says the guardian could not set itself up.
pub const SETUP_FAILED: u8 = b'E';

/// First byte of the reply that names the created path.
const CREATED: u8 = b'C';

/// The longest [`pid_message`]: `P`, up to 12 digits, `\n`, with room to spare.
pub const PID_MESSAGE_MAX: usize = 16;

/// `C`, the length and the bytes of `path` (the created name as planned: relative when the
/// template is, so a current directory deeper than PATH_MAX still works). `None` if the
/// length does not fit in a `u32` (no path does: the kernel refuses 4096 bytes and more).
pub fn created_message(path: &[u8]) -> Option<Vec<u8>> {
    let len = u32::try_from(path.len()).ok()?;
    let mut msg = Vec::with_capacity(5 + path.len());
    msg.push(CREATED);
    msg.extend_from_slice(&len.to_ne_bytes());
    msg.extend_from_slice(path);
    Some(msg)
}

/// `kind` ([`CREATE_FAILED`] or [`SETUP_FAILED`]) and the errno, native-endian: 5 bytes.
pub fn failed_message(kind: u8, errno: i32) -> [u8; 5] {
    let mut msg = [kind, 0, 0, 0, 0];
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

/// The guardian's one reply, as far as it has arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply<'a> {
    /// [`created_message`]: the name the guardian created, as planned.
    Created(&'a [u8]),
    /// [`CREATE_FAILED`]: the creation failed with this errno.
    CreateFailed(i32),
    /// [`SETUP_FAILED`]: becoming a guardian failed with this errno.
    SetupFailed(i32),
    /// Not complete yet.
    Incomplete,
    /// Not a reply at all (cannot come from the guardian).
    Invalid,
}

impl Reply<'_> {
    /// Reads the bytes received so far.
    pub fn parse(buf: &[u8]) -> Reply<'_> {
        let Some((&kind, rest)) = buf.split_first() else {
            return Reply::Incomplete;
        };
        if !matches!(kind, CREATED | CREATE_FAILED | SETUP_FAILED) {
            return Reply::Invalid;
        }
        let Some((word, rest)) = rest.split_first_chunk::<4>() else {
            return Reply::Incomplete;
        };
        match kind {
            CREATE_FAILED => Reply::CreateFailed(i32::from_ne_bytes(*word)),
            SETUP_FAILED => Reply::SetupFailed(i32::from_ne_bytes(*word)),
            _ => {
                let len = usize::try_from(u32::from_ne_bytes(*word)).unwrap_or(usize::MAX);
                match rest.get(..len) {
                    Some(path) if rest.len() == len => Reply::Created(path),
                    Some(_) => Reply::Invalid,
                    None => Reply::Incomplete,
                }
            }
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
    fn replies() {
        let created = created_message(b"/tmp/tmp.a1B2c3").expect("fits");
        let empty = created_message(b"").expect("fits");
        let create_failed = failed_message(CREATE_FAILED, 17);
        let setup_failed = failed_message(SETUP_FAILED, 24);
        let mut trailing = created.clone();
        trailing.push(b'x');
        let table: &[(&[u8], Reply<'_>)] = &[
            (b"", Reply::Incomplete),
            (b"C", Reply::Incomplete),
            (&created[..4], Reply::Incomplete),
            (&created[..5], Reply::Incomplete),
            (&created[..created.len() - 1], Reply::Incomplete),
            (&created, Reply::Created(b"/tmp/tmp.a1B2c3")),
            (&empty, Reply::Created(b"")),
            (&trailing, Reply::Invalid),
            (&create_failed[..4], Reply::Incomplete),
            (&create_failed, Reply::CreateFailed(17)),
            (&setup_failed, Reply::SetupFailed(24)),
            (b"R", Reply::Invalid),
            (b"x", Reply::Invalid),
        ];
        for &(bytes, want) in table {
            assert_eq!(Reply::parse(bytes), want, "{bytes:?}");
        }
    }
}
