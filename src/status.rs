//! The one place that owns rtmp's exit statuses.
//!
//! mktemp mode: 0 on success, 1 on any failure (GNU `mktemp`). `--exec` mode: the child's status,
//! or 125/126/127 for rtmp's own failures, following GNU `env`, `timeout` and `nice`; a child
//! killed by a signal makes rtmp die of the same signal. The same table is in `--help`, the man
//! page and the README.

/// How rtmp ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything asked for was done: 0.
    Success,
    /// mktemp mode failed (bad template, creation, output, usage): 1.
    Failure,
    /// `--exec` mode: rtmp itself failed before the child ran, or could not remove the path
    /// after a successful child: 125.
    ExecFailed,
    /// `--exec` mode: CMD was found but could not be run: 126.
    CannotRun,
    /// `--exec` mode: CMD was not found: 127.
    NotFound,
    /// `--exec` mode: the child exited with this status.
    ChildExited(u8),
    /// `--exec` mode: the child (or rtmp, before the child started) was killed by this signal;
    /// rtmp re-raises it so the caller sees a signal death.
    Signaled(i32),
}

/// The way the process ends, derived from an [`Outcome`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// `exit(code)`.
    Exit(u8),
    /// Die of this signal (default disposition, no core dump).
    Signal(i32),
}

impl Outcome {
    /// The exit status or signal for this outcome.
    pub fn termination(self) -> Termination {
        match self {
            Self::Success => Termination::Exit(0),
            Self::Failure => Termination::Exit(1),
            Self::ExecFailed => Termination::Exit(125),
            Self::CannotRun => Termination::Exit(126),
            Self::NotFound => Termination::Exit(127),
            Self::ChildExited(code) => Termination::Exit(code),
            Self::Signaled(sig) => Termination::Signal(sig),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Outcome, Termination};

    #[test]
    fn mktemp_statuses_are_gnus() {
        assert_eq!(Outcome::Success.termination(), Termination::Exit(0));
        assert_eq!(Outcome::Failure.termination(), Termination::Exit(1));
    }

    #[test]
    fn exec_statuses_follow_env_and_timeout() {
        assert_eq!(Outcome::ExecFailed.termination(), Termination::Exit(125));
        assert_eq!(Outcome::CannotRun.termination(), Termination::Exit(126));
        assert_eq!(Outcome::NotFound.termination(), Termination::Exit(127));
        assert_eq!(Outcome::ChildExited(7).termination(), Termination::Exit(7));
        assert_eq!(Outcome::Signaled(15).termination(), Termination::Signal(15));
    }
}
