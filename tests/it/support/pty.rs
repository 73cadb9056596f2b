//! A command on a pseudo-terminal of its own: as session leader with the terminal as its
//! controlling terminal (so it is the terminal's foreground process group and Ctrl-C typed on
//! the terminal reaches it), its output watched while it runs.

use std::fs;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use nix::libc;

use super::{isolate_fds, wait_exit, wait_until};

/// A command running on a new pseudo-terminal.
pub struct Pty {
    /// The command (rtmp, or a hook of this binary).
    pub child: Child,
    master: fs::File,
    seen: Arc<Mutex<Vec<u8>>>,
    drain: Option<JoinHandle<()>>,
}

/// Spawns `cmd` as a session leader with a new pseudo-terminal as its controlling terminal
/// (and stdin, stdout, stderr); returns the child and the terminal's master side.
fn spawn_on_pty(mut cmd: Command) -> (Child, fs::File) {
    let pty = nix::pty::openpty(
        None::<&nix::pty::Winsize>,
        None::<&nix::sys::termios::Termios>,
    )
    .expect("openpty");
    // openpty(3) does not set close-on-exec; processes spawned by concurrent tests must
    // not hold the terminal open.
    for fd in [pty.master.as_raw_fd(), pty.slave.as_raw_fd()] {
        // SAFETY: F_SETFD on descriptors we own.
        assert_eq!(
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) },
            0
        );
    }
    let slave = &pty.slave;
    cmd.stdin(slave.try_clone().expect("dup"))
        .stdout(slave.try_clone().expect("dup"))
        .stderr(slave.try_clone().expect("dup"));
    // SAFETY: setsid and ioctl are async-signal-safe. The command becomes a session leader
    // with the pty (its stdin) as controlling terminal.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    isolate_fds(&mut cmd);
    let child = cmd.spawn().expect("spawn on pty");
    // The master reads EOF (EIO) only once no slave descriptor is left.
    drop(cmd);
    drop(pty.slave);
    (child, fs::File::from(pty.master))
}

impl Pty {
    /// Spawns `cmd` on a new pseudo-terminal and starts collecting what it writes there.
    pub fn spawn(cmd: Command) -> Pty {
        let (child, master) = spawn_on_pty(cmd);
        let mut reader = master.try_clone().expect("dup master");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        // Drain the terminal so nothing blocks writing to it; EIO (no slave left) ends it.
        let drain = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => sink.lock().expect("lock").extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break, // EIO: no slave descriptor is left
                }
            }
        });
        Pty {
            child,
            master,
            seen,
            drain: Some(drain),
        }
    }

    /// Everything written to the terminal so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().expect("lock")).into_owned()
    }

    /// Waits until the terminal output satisfies `cond`; fails when the command ends first or
    /// after the deadline, showing the output.
    #[track_caller]
    pub fn wait_for(&mut self, what: &str, cond: impl Fn(&str) -> bool) -> String {
        let mut ended = None;
        wait_until(what, || {
            if cond(&self.text()) {
                return true;
            }
            ended = self.child.try_wait().expect("try_wait");
            ended.is_some()
        });
        if let Some(status) = ended {
            // Everything written before the end is read once the drain has seen EIO: wait for
            // that instead of guessing how long the drain thread needs.
            self.wait_drained();
            let text = self.text();
            assert!(
                cond(&text),
                "the command ended ({status}) before {what}; terminal: {text:?}"
            );
            return text;
        }
        self.text()
    }

    /// Types `bytes` on the terminal.
    pub fn type_bytes(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).expect("write to the terminal");
    }

    /// Waits until the drain thread has read the terminal to its end.
    fn wait_drained(&self) {
        if let Some(drain) = &self.drain {
            wait_until("the terminal to be drained", || drain.is_finished());
        }
    }

    /// Waits for the command to end; returns its status and everything written to the
    /// terminal.
    pub fn finish(mut self) -> (ExitStatus, String) {
        let status = wait_exit(&mut self.child);
        self.wait_drained();
        if let Some(drain) = self.drain.take() {
            let _ = drain.join();
        }
        (status, self.text())
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        // A failed test must not leave the command behind; the session leader's death hangs up
        // the terminal's foreground group too.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
