//! Creation of a planned name: a file, a directory, or (dry run) just a free name.
//!
//! rtmp draws the names itself (`[A-Za-z0-9]` from a generator seeded by the OS, a bounded
//! number of retries on `EEXIST`) and creates them with the name as planned, relative to the
//! current directory when the template is, as GNU does (docs/behaviour.md A3). Not through
//! `tempfile`: its `make_in` joins `getcwd()` to a relative directory first, which fails with
//! `File name too long` in a current directory deeper than PATH_MAX, and its
//! `tempfile_in`/`tempdir_in` wrap the OS error in a private type that hides the errno, while
//! GNU's messages need the plain OS text.
//!
//! Invariants: files are opened with `O_CREAT|O_EXCL` (never through an existing name or
//! symlink) and mode 0600, directories with mode 0700; the umask can only remove bits. Nothing is
//! left behind on failure: the only thing this module creates is the final name.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

use nix::errno::Errno;
use nix::fcntl::{self, OFlag};
use nix::libc::PATH_MAX;
use nix::sys::stat::{self, Mode};
use std::path::{Path, PathBuf};

use crate::errors::os_error_text;
use crate::quote::quote;
use crate::request::Kind;
use crate::sys::fs::{fd_at_or_above, open_unnamed_file, os_random};
use crate::template::Plan;

/// A created (or, in a dry run, chosen) name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The path in the user's form: relative when the template was relative.
    pub path: OsString,
    /// The same path made absolute against the current directory at creation time, for
    /// `--exec` (`--cd`, cleanup); the relative path itself where the current directory cannot
    /// be read (deeper than PATH_MAX).
    pub absolute: PathBuf,
    /// What was created.
    pub kind: Kind,
}

impl Created {
    /// Removes a file or an (empty) directory that was just created, as GNU does when it cannot
    /// print the name: by [`Created::path`], as created, so the current directory must be the
    /// one it was created in (rtmp never changes its own). Errors are the OS's.
    pub fn remove_fresh(&self) -> io::Result<()> {
        match self.kind {
            Kind::File => fs::remove_file(&self.path),
            Kind::Directory => fs::remove_dir(&self.path),
        }
    }
}

/// A creation that failed: GNU's `failed to create file via template %s: <OS text>`.
#[derive(Debug)]
pub struct CreateError {
    kind: Kind,
    template: OsString,
    source: io::Error,
}

impl CreateError {
    /// A failure to create (or to set up right after creating) a `kind` from `plan`: the
    /// message names the template, X's unreplaced, as GNU does.
    pub fn new(kind: Kind, plan: &Plan, source: io::Error) -> Self {
        CreateError {
            kind,
            template: plan.template(),
            source,
        }
    }

    /// The OS error behind the failure.
    pub fn io_error(&self) -> &io::Error {
        &self.source
    }
}

impl fmt::Display for CreateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            Kind::File => "file",
            Kind::Directory => "directory",
        };
        write!(
            f,
            "failed to create {what} via template {}: {}",
            quote(&self.template),
            os_error_text(&self.source)
        )
    }
}

impl std::error::Error for CreateError {}

/// Creates `plan` as a `kind`, or with `dry_run` only finds a name that `lstat` says is free
/// (as GNU's `gen_tempname` with `GT_NOCREATE`: a missing parent is fine, a parent that is a file
/// is `Not a directory`).
///
/// The name is created as planned, relative to the current directory when the plan is
/// relative, as GNU does: a current directory deeper than PATH_MAX works
/// (docs/behaviour.md A3.3).
///
/// Output: the created name. Errors: [`CreateError`] with the OS error; a full name space is
/// `File exists` after [`ATTEMPTS`] tries.
pub fn create(plan: &Plan, kind: Kind, dry_run: bool) -> Result<Created, CreateError> {
    let (path, ()) = if dry_run {
        make_in(plan, kind, name_is_free)
    } else {
        match kind {
            Kind::File => make_in(plan, kind, |path| create_file(path).map(drop)),
            Kind::Directory => make_in(plan, kind, create_dir),
        }
    }?;
    Ok(Created::from_planned(kind, path))
}

impl Created {
    /// The [`Created`] for `path`, a name made from a plan and given as planned (relative when
    /// the plan is): its absolute form is worked out against the current directory. The
    /// `--exec` guardian sends back the name it made this way, and rtmp, whose current directory
    /// is the one the guardian created in, rebuilds the rest here.
    pub fn from_planned(kind: Kind, path: OsString) -> Created {
        Created {
            absolute: absolute(Path::new(&path)),
            path,
            kind,
        }
    }
}

/// Creates `plan` as a `kind` in the directory open as `dir` (`plan.dir`, opened by the
/// caller): the same names, retries and errors as [`create`], but each attempt is a
/// `mkdirat`/`openat(O_CREAT|O_EXCL)` relative to `dir`, so the entry lands in that directory
/// inode whatever happens to the path meanwhile. The `--exec` guardian runs it
/// ([`crate::guardian`]): only the process that made the attempts knows for sure which name
/// is its own, and which ones (`EEXIST`) belonged to someone else.
///
/// Output: the created name, as [`create`] gives it; a file is closed again (nothing keeps it
/// open, as with [`create`]).
///
/// # Errors
/// [`CreateError`] with the OS error, GNU's message. A name of `PATH_MAX` bytes or more fails
/// with `ENAMETOOLONG`, as the `mkdir(path)` of [`create`] would.
pub fn create_at(plan: &Plan, kind: Kind, dir: BorrowedFd<'_>) -> Result<Created, CreateError> {
    // The entry's name in `dir`: the last component of the planned path, trailing slashes of
    // the suffix included (`openat("x/", O_CREAT)` is EISDIR, as `open` of the path is).
    let name_len = plan.prefix.len() + plan.x_count + plan.suffix.len();
    let at = |path: &Path| -> io::Result<PathBuf> {
        let bytes = path.as_os_str().as_bytes();
        if bytes.len() >= usize::try_from(PATH_MAX).unwrap_or(usize::MAX) {
            return Err(io::Error::from(Errno::ENAMETOOLONG));
        }
        let name = bytes.get(bytes.len().saturating_sub(name_len)..);
        // Never short: the planned path ends with the name.
        let name = name.ok_or_else(|| io::Error::from(Errno::EINVAL))?;
        Ok(PathBuf::from(OsStr::from_bytes(name)))
    };
    let (path, ()) = match kind {
        Kind::File => make_in(plan, kind, |path| {
            let flags = OFlag::O_RDWR | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_CLOEXEC;
            let file = fcntl::openat(dir, &at(path)?, flags, Mode::from_bits_truncate(0o600))?;
            drop(file);
            Ok(())
        }),
        Kind::Directory => make_in(plan, kind, |path| {
            Ok(stat::mkdirat(
                dir,
                &at(path)?,
                Mode::from_bits_truncate(0o700),
            )?)
        }),
    }?;
    Ok(Created::from_planned(kind, path))
}

/// `path` made absolute against the current directory, without its `.` steps (`..` stays, as
/// it must). Where the current directory cannot be read (`getcwd` fails, for one deeper than
/// PATH_MAX), `path` itself, which is still right relative to the unchanged current directory.
fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.components().collect();
    }
    match std::env::current_dir() {
        Ok(cwd) => cwd.join(path).components().collect(),
        Err(_) => path.to_path_buf(),
    }
}

/// How many names [`create`] tries before it gives up with `File exists`: tempfile's bound
/// (which rtmp used before it drew names itself), below GNU's 62^3 but far above what a
/// name space that is not full needs.
pub const ATTEMPTS: u32 = 65_536;

/// Draws names for `plan` (the random characters from `[A-Za-z0-9]`, as GNU's, from a
/// generator seeded by the OS) and calls `make` on each until one is not taken (`EEXIST`).
///
/// Output: the name, as planned (relative when the plan is), and what `make` returned.
/// Errors: the first error of `make` other than `EEXIST`, or `EEXIST` after [`ATTEMPTS`]
/// names, as a [`CreateError`] for `kind`.
fn make_in<R>(
    plan: &Plan,
    kind: Kind,
    mut make: impl FnMut(&Path) -> io::Result<R>,
) -> Result<(OsString, R), CreateError> {
    let mut rng = fastrand::Rng::with_seed(os_seed());
    let attempts = if plan.x_count == 0 { 1 } else { ATTEMPTS };
    let mut random = vec![0u8; plan.x_count];
    for _ in 0..attempts {
        for byte in &mut random {
            // alphanumeric() is ASCII, one byte.
            *byte = rng.alphanumeric() as u8;
        }
        let path = plan.with_random(&random);
        match make(Path::new(&path)) {
            Ok(made) => return Ok((path, made)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(CreateError::new(kind, plan, e)),
        }
    }
    Err(CreateError::new(kind, plan, io::Error::from(Errno::EEXIST)))
}

/// A seed for the name generator from the OS, as GNU's `gen_tempname` uses getrandom
/// (SECURITY.md, "Where the random characters come from").
///
/// The bytes come from the `getrandom(2)` system call itself ([`os_random`]): the getrandom
/// crate's static-glibc build reads `/dev/urandom` after polling `/dev/random`, so it is only the
/// fallback for a kernel without that call. If the OS has no random bytes to give at all,
/// fastrand's own seed (a hash of the clock and the thread id) is used: names are then
/// guessable, but creation is still `O_EXCL`, so a guess can only cost an attempt, never hand
/// over the file.
fn os_seed() -> u64 {
    let mut seed = [0u8; 8];
    let seeded = match os_random(&mut seed) {
        Ok(true) => true,
        Ok(false) => getrandom::fill(&mut seed).is_ok(),
        Err(_) => false,
    };
    if seeded {
        u64::from_ne_bytes(seed)
    } else {
        fastrand::u64(..)
    }
}

/// `--anonymous`: a file without a name in `plan`'s directory (`""` is the current one), open
/// read-write and close-on-exec, mode 0600 (README, "Nothing left behind: the guardian
/// and `--anonymous`").
///
/// Made with `O_TMPFILE`, so no name ever appears. Where the kernel or the filesystem does not
/// support it (`EOPNOTSUPP`, `EISDIR`, `EINVAL`), a file is created as [`create`] does and
/// unlinked at once: the name then exists for a moment.
///
/// The descriptor is always 3 or more, even when rtmp was started with 0, 1 or 2 closed: the
/// command gets it as `/dev/fd/N` beside the standard streams the caller gave it, and must not
/// find its data file as its stderr (issue 13, item 6).
///
/// Errors: [`CreateError`] (`failed to create file via template ...`) with the OS error.
pub fn create_anonymous(plan: &Plan) -> Result<OwnedFd, CreateError> {
    let fail = |source| CreateError::new(Kind::File, plan, source);
    let file = match open_unnamed_file(plan.dir_path()).map_err(fail)? {
        Some(file) => file,
        None => {
            let (path, file) = make_in(plan, Kind::File, create_file)?;
            fs::remove_file(&path).map_err(fail)?;
            file
        }
    };
    fd_at_or_above(file.into(), 3).map_err(fail)
}

/// `O_CREAT|O_EXCL|O_CLOEXEC`, mode 0600: never opens an existing name or follows a symlink.
fn create_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

fn create_dir(path: &Path) -> io::Result<()> {
    DirBuilder::new().mode(0o700).create(path)
}

/// A name counts as free when `lstat` fails with ENOENT (GNU `gen_tempname`, `GT_NOCREATE`).
fn name_is_free(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(_) => Err(io::Error::from(io::ErrorKind::AlreadyExists)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}
