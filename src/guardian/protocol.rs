//! The guardian's wire format: pure functions over bytes, no I/O.
//!
//! Two streams share one `socketpair`:
//!
//! | direction | when | bytes | meaning |
//! | --- | --- | --- | --- |
//! | guardian → rtmp | once, after `setsid` and the creation | `C`, length (`u32`, native-endian), the created name as planned (relative when the template is) | [`created_message`]: the guardian created this name and will remove it if rtmp dies |
//! | guardian → rtmp | instead of `C` | `F`, errno (`i32`, native-endian) | [`failed_message`] with [`CREATE_FAILED`]: the creation failed (GNU's message names this errno); nothing exists |
//! | guardian → rtmp | instead of `C` | `E`, errno | [`failed_message`] with [`SETUP_FAILED`]: becoming a guardian failed before anything was created |
//! | rtmp → guardian | once, before the command's `fork` | `R`, grace (`u64` nanoseconds), wait flag (`u8`), length (`u32`), the marker | [`run_message`]: how to recognise and end the run's processes if rtmp dies ([`RunMessage`]) |
//! | command → guardian | between `fork` and `exec` | `P<pid>\n` | [`pid_message`]: the command's pid |
//! | rtmp → guardian | after rtmp's own cleanup | `D` | [`DONE`]: exit, touching nothing |
//!
//! [`Reply::parse`] reads the guardian's one reply, [`Message::parse`] what the guardian
//! received so far. rtmp writes `R` before it forks the command, and the command's process
//! writes `P` after, so `R` (binary, it may hold any byte) is always first when present; the
//! bytes after it are ASCII only, so a `D` there is always the done byte. End-of-file without `D` means rtmp died. A host-endian binary length is
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

/// First byte of the run message ([`run_message`]).
const RUN: u8 = b'R';

/// The fixed part of a [`run_message`]: `R`, the grace, the flag, the length.
const RUN_HEADER: usize = 1 + 8 + 1 + 4;

/// What the guardian needs to end the run's processes as rtmp would have if rtmp dies
/// (the guardian's `leftovers` module).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunMessage<'a> {
    /// Between SIGTERM and SIGKILL (`--kill-after`, or its default).
    pub grace: std::time::Duration,
    /// `--wait-children`: wait for them instead of ending them.
    pub wait_children: bool,
    /// The exact environment entry every process of the run inherits (`RTMP_PATH=<path>`).
    pub marker: &'a [u8],
}

/// `R`, the grace in nanoseconds (saturated), the flag, the marker's length and bytes. `None`
/// if the marker's length does not fit in a `u32`.
pub fn run_message(run: &RunMessage<'_>) -> Option<Vec<u8>> {
    let len = u32::try_from(run.marker.len()).ok()?;
    let nanos = u64::try_from(run.grace.as_nanos()).unwrap_or(u64::MAX);
    let mut msg = Vec::with_capacity(RUN_HEADER + run.marker.len());
    msg.push(RUN);
    msg.extend_from_slice(&nanos.to_ne_bytes());
    msg.push(u8::from(run.wait_children));
    msg.extend_from_slice(&len.to_ne_bytes());
    msg.extend_from_slice(run.marker);
    Some(msg)
}

/// The run message at the start of `buf`, if it is there, and the bytes after it (all of
/// `buf` when it does not start with `R`). `None` while the run message is incomplete.
pub fn split_run(buf: &[u8]) -> Option<(Option<RunMessage<'_>>, &[u8])> {
    if buf.first() != Some(&RUN) {
        return Some((None, buf));
    }
    let header = buf.get(..RUN_HEADER)?;
    let nanos = u64::from_ne_bytes(header[1..9].try_into().ok()?);
    let wait_children = header[9] != 0;
    let len = usize::try_from(u32::from_ne_bytes(header[10..14].try_into().ok()?)).ok()?;
    let end = RUN_HEADER.checked_add(len)?;
    let marker = buf.get(RUN_HEADER..end)?;
    let run = RunMessage {
        grace: std::time::Duration::from_nanos(nanos),
        wait_children,
        marker,
    };
    Some((Some(run), &buf[end..]))
}

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
    /// Reads everything received so far after the run message ([`split_run`]).
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
    fn run_messages() {
        let run = RunMessage {
            grace: std::time::Duration::from_millis(1500),
            wait_children: true,
            marker: b"RTMP_PATH=/tmp/D\x00P\n",
        };
        let msg = run_message(&run).expect("fits");
        for cut in 0..msg.len() {
            let want = if cut == 0 { Some(None) } else { None };
            assert_eq!(split_run(&msg[..cut]).map(|r| r.0), want);
        }
        let mut all = msg.clone();
        all.extend_from_slice(b"P12\nD");
        let (got, rest) = split_run(&all).expect("complete");
        assert_eq!(got, Some(run));
        assert_eq!(rest, b"P12\nD");
        // The `D` and `P` inside the marker are not messages.
        assert_eq!(Message::parse(&msg[msg.len()..]), Message::Nothing);
        assert_eq!(Message::parse(rest), Message::Done);
        assert_eq!(split_run(b"P7\n"), Some((None, &b"P7\n"[..])));
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
