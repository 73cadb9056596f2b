//! `--until PID`: mktemp mode's paths, removed by a detached guardian when process PID exits
//! (README, "Scripts without trap").
//!
//! # Invariants
//!
//! * PID is pinned (`pidfd_open`) by rtmp **before anything is created** and the pidfd is
//!   what the guardian waits on, so a reused pid can neither extend nor shorten the lifetime,
//!   and a PID that has already exited when the guardian starts waiting ends it at once.
//! * The guardian creates every path itself, relative to a directory rtmp pinned (`O_PATH`)
//!   before the fork, exactly as the `--exec` guardian does ([`super`], step 4): it alone
//!   knows which attempts succeeded, so it can only ever remove entries it made, however rtmp
//!   is killed. There is no window in which rtmp has created something the guardian does not
//!   know about.
//! * All or nothing: a failure of any creation removes the ones already made, and the names
//!   are kept only after rtmp has confirmed (`K`) that it printed them. End-of-file before the
//!   confirmation (rtmp killed, stdout unwritable: `X`) removes everything at once.
//! * Detached: after the fork the guardian leaves rtmp's session (`setsid`), has `/dev/null` on
//!   0, 1 and 2, closes every inherited descriptor, moves to `/`, and closes the socket once
//!   confirmed: `$(rtmp --until $$)` returns as soon as rtmp exits, and the guardian pins no
//!   pipe, terminal or mount. It ignores the signals the `--exec` guardian ignores.
//!
//! # The socket
//!
//! guardian → rtmp, once: `N`, count (`u32`), then for each path its length (`u32`) and bytes
//! (the name as planned); or `F`, errno (`i32`), index of the failed template (`u32`), all
//! native-endian (both ends are one binary). rtmp → guardian: `K` (names printed, keep them
//! until PID exits) or `X`/end-of-file (remove them now).
//!
//! Cost: one sleeping guardian process (and one pidfd) per call for as long as PID lives.

use std::ffi::{CString, OsStr, OsString};
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixStream;

use nix::errno::Errno;
use nix::fcntl::{self, OFlag};
use nix::libc;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::stat::Mode;
use nix::unistd::{self, ForkResult, Pid};

use super::REPLY_TIMEOUT;
use crate::cleanup::remove_entry;
use crate::create::{CreateError, Created, create_at};
use crate::request::Kind;
use crate::sys::{fs, process};
use crate::template::Plan;

/// The pinned process PID: taken before anything is created.
pub struct Until {
    pidfd: OwnedFd,
}

/// Why `--until` made nothing.
#[derive(Debug)]
pub enum UntilError {
    /// PID cannot be pinned (no such process, or not visible here; or no pidfd): the message.
    Pid(String),
    /// No guardian could be started, or it did not answer.
    Guardian(io::Error),
    /// Template `index` could not be created (GNU's message); nothing exists.
    Create(usize, CreateError),
}

impl Until {
    /// Pins process `pid` with `pidfd_open`.
    ///
    /// # Errors
    /// [`UntilError::Pid`]: no such process (or one in another pid namespace), or a kernel
    /// without `pidfd_open` (Linux < 5.3): rtmp does not fall back to polling the pid, which
    /// could be reused between two looks.
    pub fn pin(pid: i32) -> Result<Until, UntilError> {
        if pid <= 0 {
            return Err(UntilError::Pid(format!("--until: invalid PID '{pid}'")));
        }
        match process::pidfd_open(Pid::from_raw(pid)) {
            Ok(pidfd) => Ok(Until { pidfd }),
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Err(UntilError::Pid(format!(
                "--until: no process with PID {pid}"
            ))),
            Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => Err(UntilError::Pid(
                "--until needs pidfd_open (Linux 5.3 or later)".to_owned(),
            )),
            Err(e) => Err(UntilError::Pid(format!(
                "--until: cannot watch PID {pid}: {}",
                crate::errors::os_error_text(&e)
            ))),
        }
    }

    /// Forks the guardian, which creates every plan as a `kind` and answers with the names.
    /// Call [`Pending::confirm`] once the names are printed (or drop it to remove them).
    ///
    /// Must be called while rtmp is single-threaded (as [`super::Guardian::create`]).
    ///
    /// # Errors
    /// [`UntilError::Create`] with the first creation that failed (the guardian removed the
    /// others), or [`UntilError::Guardian`].
    pub fn create(self, plans: &[Plan], kind: Kind) -> Result<Pending, UntilError> {
        // Pinned before the fork, as the `--exec` target does; an open failure is the
        // creation's failure (GNU's message), and nothing exists yet.
        let mut dirs = Vec::with_capacity(plans.len());
        for (i, plan) in plans.iter().enumerate() {
            let dir = fs::open_anchor(plan.dir_path())
                .map_err(|e| UntilError::Create(i, CreateError::new(kind, plan, e)))?;
            dirs.push(dir);
        }
        let (ours, theirs) = UnixStream::pair().map_err(UntilError::Guardian)?;
        ours.set_read_timeout(Some(REPLY_TIMEOUT))
            .map_err(UntilError::Guardian)?;
        match super::fork_with_signals_blocked().map_err(UntilError::Guardian)? {
            ForkResult::Child => {
                drop(ours);
                run(theirs.into(), self.pidfd, dirs, plans, kind)
            }
            ForkResult::Parent { .. } => {
                drop(theirs);
                drop(dirs);
                drop(self.pidfd);
                let reply = read_reply(&ours).map_err(UntilError::Guardian)?;
                match reply {
                    Reply::Created(paths) => Ok(Pending {
                        socket: ours,
                        created: paths
                            .into_iter()
                            .map(|p| Created::from_planned(kind, p))
                            .collect(),
                    }),
                    Reply::Failed(errno, i) => match plans.get(i) {
                        Some(plan) => Err(UntilError::Create(
                            i,
                            CreateError::new(kind, plan, io::Error::from_raw_os_error(errno)),
                        )),
                        None => Err(UntilError::Guardian(io::Error::other(
                            "it gave an answer that makes no sense",
                        ))),
                    },
                }
            }
        }
    }
}

/// Paths the guardian created and holds until rtmp confirms: dropping this without
/// [`Pending::confirm`] makes the guardian remove them at once.
pub struct Pending {
    socket: UnixStream,
    /// What was created, in template order.
    pub created: Vec<Created>,
}

impl Pending {
    /// The names are out: the guardian keeps them until PID exits. A failed send means the
    /// guardian is gone (it removed the paths on its own end-of-file); nothing is to be done.
    pub fn confirm(self) {
        // MSG_NOSIGNAL: a dead guardian must not kill rtmp with SIGPIPE after the names are out.
        let _ = fs::send_all(self.socket.as_raw_fd(), b"K");
    }
}

/// The guardian's answer, parsed.
enum Reply {
    Created(Vec<OsString>),
    Failed(i32, usize),
}

fn take<const N: usize>(r: &mut impl Read) -> io::Result<[u8; N]> {
    let mut b = [0u8; N];
    r.read_exact(&mut b)?;
    Ok(b)
}

/// Reads the one reply, each read bounded by [`REPLY_TIMEOUT`] (a stopped guardian).
fn read_reply(mut socket: &UnixStream) -> io::Result<Reply> {
    let early = |e: io::Error| match e.kind() {
        io::ErrorKind::UnexpectedEof => io::Error::other("it ended before it answered"),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => io::Error::other(format!(
            "it did not answer within {} s",
            REPLY_TIMEOUT.as_secs()
        )),
        _ => e,
    };
    let [kind] = take::<1>(&mut socket).map_err(early)?;
    match kind {
        b'N' => {
            let count = u32::from_ne_bytes(take(&mut socket).map_err(early)?);
            let mut paths = Vec::new();
            for _ in 0..count {
                let len = u32::from_ne_bytes(take(&mut socket).map_err(early)?);
                // A path is shorter than PATH_MAX; anything longer is not from the guardian.
                if len > 65536 {
                    return Err(io::Error::other("it gave an answer that makes no sense"));
                }
                let mut path = vec![0u8; len as usize];
                socket.read_exact(&mut path).map_err(early)?;
                paths.push(OsStr::from_bytes(&path).to_os_string());
            }
            Ok(Reply::Created(paths))
        }
        b'F' => {
            let errno = i32::from_ne_bytes(take(&mut socket).map_err(early)?);
            let index = u32::from_ne_bytes(take(&mut socket).map_err(early)?);
            Ok(Reply::Failed(errno, index as usize))
        }
        _ => Err(io::Error::other("it gave an answer that makes no sense")),
    }
}

/// The first descriptor number the guardian lays its own descriptors out from.
const FIRST_FD: RawFd = 3;

/// The forked guardian's whole life; never returns into rtmp's code.
fn run(socket: OwnedFd, pidfd: OwnedFd, dirs: Vec<OwnedFd>, plans: &[Plan], kind: Kind) -> ! {
    process::set_process_name(super::NAME);
    // Its own session first (no controlling terminal; a signal to rtmp's group misses it),
    // before anything is created: a group kill up to here leaves nothing.
    // On failure, end-of-file without a reply: rtmp says it cannot start the guardian.
    if unistd::setsid().is_err() {
        drop(socket);
        process::exit_now(1);
    }
    let Ok((socket, pidfd, dirs)) = lay_out(socket, pidfd, dirs) else {
        process::exit_now(1);
    };
    let mut made: Vec<(usize, CString)> = Vec::with_capacity(plans.len());
    let mut reply = b"N".to_vec();
    reply.extend_from_slice(&u32::try_from(plans.len()).unwrap_or(0).to_ne_bytes());
    for (i, (plan, dir)) in plans.iter().zip(&dirs).enumerate() {
        match create_at(plan, kind, dir.as_fd()) {
            Ok(created) => {
                let bytes = created.path.as_bytes();
                reply.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(0).to_ne_bytes());
                reply.extend_from_slice(bytes);
                let name = created
                    .absolute
                    .file_name()
                    .and_then(|n| CString::new(n.as_bytes()).ok());
                if let Some(name) = name {
                    made.push((i, name));
                }
            }
            Err(e) => {
                remove_all(&dirs, &made);
                let errno = e.io_error().raw_os_error().unwrap_or(libc::EIO);
                let index = u32::try_from(i).unwrap_or(u32::MAX);
                let _ = fs::send_all(socket.as_raw_fd(), &failed(errno, index));
                process::exit_now(1);
            }
        }
    }
    // Relative templates are created; the current directory is no longer needed, and holding
    // it could keep a file system busy.
    let _ = unistd::chdir(c"/");
    let _ = fs::send_all(socket.as_raw_fd(), &reply);
    super::serve::ignore_signals();
    // Keep only on rtmp's `K`: anything else (end-of-file when rtmp was killed, `X`, an
    // error) means the names were never handed out.
    let mut answer = [0u8; 1];
    let confirmed = loop {
        match unistd::read(&socket, &mut answer) {
            Ok(1) => break answer[0] == b'K',
            Err(Errno::EINTR) => {}
            _ => break false,
        }
    };
    drop(socket);
    if confirmed {
        wait_exit(&pidfd);
    }
    remove_all(&dirs, &made);
    process::exit_now(0)
}

/// `F`, errno, index.
fn failed(errno: i32, index: u32) -> Vec<u8> {
    let mut msg = b"F".to_vec();
    msg.extend_from_slice(&errno.to_ne_bytes());
    msg.extend_from_slice(&index.to_ne_bytes());
    msg
}

/// Removes each entry this guardian created, symlink-safe, in its pinned parent.
fn remove_all(dirs: &[OwnedFd], made: &[(usize, CString)]) {
    for (i, name) in made {
        if let Some(dir) = dirs.get(*i) {
            let _ = remove_entry(dir.as_fd(), name);
        }
    }
}

/// Blocks until the pinned process has exited (its pidfd is readable).
fn wait_exit(pidfd: &OwnedFd) {
    loop {
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(n) if n > 0 => return,
            Ok(_) | Err(Errno::EINTR) => {}
            // Cannot happen on a pidfd we own; removing now is safer than never.
            Err(_) => return,
        }
    }
}

/// `/dev/null` on 0, 1 and 2; the socket, the pidfd and the pinned directories at
/// [`FIRST_FD`] and up; every other descriptor closed. First every kept descriptor is copied
/// above the target numbers, so no `dup2` clobbers one that is still needed.
fn lay_out(
    socket: OwnedFd,
    pidfd: OwnedFd,
    dirs: Vec<OwnedFd>,
) -> io::Result<(OwnedFd, OwnedFd, Vec<OwnedFd>)> {
    let null = fcntl::open(c"/dev/null", OFlag::O_RDWR, Mode::empty())?;
    let mut keep = vec![null, socket, pidfd];
    keep.extend(dirs);
    let count = RawFd::try_from(keep.len()).map_err(|_| io::Error::from(Errno::EMFILE))?;
    let end = FIRST_FD + count;
    let mut high = Vec::with_capacity(keep.len());
    for fd in keep {
        high.push(if fd.as_raw_fd() >= end {
            fd
        } else {
            fs::dup_at_or_above(fd.as_fd(), end)?
        });
    }
    let mut low = Vec::with_capacity(high.len());
    for (i, fd) in high.iter().enumerate() {
        let i = RawFd::try_from(i).map_err(|_| io::Error::from(Errno::EMFILE))?;
        low.push(fs::dup_onto(fd.as_fd(), FIRST_FD + i)?);
    }
    let mut low = low.into_iter();
    let (Some(null), Some(socket), Some(pidfd)) = (low.next(), low.next(), low.next()) else {
        return Err(io::Error::from(Errno::EINVAL));
    };
    let dirs: Vec<OwnedFd> = low.collect();
    for target in 0..FIRST_FD {
        std::mem::forget(fs::dup_onto(null.as_fd(), target)?);
    }
    drop(null);
    // The copies above are closed by the one close_range; their owners are forgotten first.
    std::mem::forget(high);
    process::close_descriptors_from(end);
    Ok((socket, pidfd, dirs))
}
