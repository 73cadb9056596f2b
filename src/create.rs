//! Creation of a planned name: a file, a directory, or (dry run) just a free name.
//!
//! Built on `tempfile::Builder::make_in`, which draws the random characters (`[A-Za-z0-9]`,
//! reseeded from the OS after three collisions) and retries on `EEXIST`. The creation itself is
//! done here so that the OS error reaches the message unchanged: `tempfile_in`/`tempdir_in` wrap
//! it in a private type that hides the errno, and GNU's messages need the plain OS text.
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
use crate::sys::fs::open_unnamed_file;
use crate::template::Plan;

/// A created (or, in a dry run, chosen) name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The path in the user's form: relative when the template was relative.
    pub path: OsString,
    /// The same path made absolute against the current directory at creation time, for cleanup.
    pub absolute: PathBuf,
    /// What was created.
    pub kind: Kind,
}

impl Created {
    /// Removes a file or an (empty) directory that was just created, as GNU does when it cannot
    /// print the name. Errors are the OS's.
    pub fn remove_fresh(&self) -> io::Result<()> {
        match self.kind {
            Kind::File => fs::remove_file(&self.absolute),
            Kind::Directory => fs::remove_dir(&self.absolute),
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
/// Output: the created name. Errors: [`CreateError`] with the OS error; a full name space is
/// `File exists` after tempfile's bounded retries.
pub fn create(plan: &Plan, kind: Kind, dry_run: bool) -> Result<Created, CreateError> {
    let made = if dry_run {
        make_in(plan, kind, name_is_free)
    } else {
        match kind {
            Kind::File => make_in(plan, kind, |path| create_file(path).map(drop)),
            Kind::Directory => make_in(plan, kind, create_dir),
        }
    }?;
    let absolute = made.path().to_path_buf();
    // disable_cleanup(true): dropping the handle leaves the name in place.
    drop(made);
    Ok(Created::from_absolute(plan, kind, &absolute))
}

impl Created {
    /// The [`Created`] for a name made from `plan`: `absolute` is the current directory
    /// joined with `plan`'s directory and the name, as tempfile builds it (the `--exec`
    /// guardian sends it back as it got it). The random characters are the `x_count` bytes
    /// before the suffix (none, were `absolute` too short: never for a name made from `plan`).
    pub fn from_absolute(plan: &Plan, kind: Kind, absolute: &Path) -> Created {
        let bytes = absolute.as_os_str().as_bytes();
        let end = bytes.len().saturating_sub(plan.suffix.len());
        let random = bytes
            .get(end.saturating_sub(plan.x_count)..end)
            .unwrap_or_default();
        Created {
            path: plan.with_random(random),
            // tempfile joins the current directory and the template as written (`/w/./tmp.X`);
            // `components` drops the `.` steps (and nothing else: `..` stays, as it must).
            absolute: absolute.components().collect(),
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
    // What tempfile appends to the directory: the last component, trailing slashes of the
    // suffix included (`openat("x/", O_CREAT)` is EISDIR, as `open` of the path is).
    let name_len = plan.prefix.len() + plan.x_count + plan.suffix.len();
    let at = |path: &Path| -> io::Result<PathBuf> {
        let bytes = path.as_os_str().as_bytes();
        if bytes.len() >= usize::try_from(PATH_MAX).unwrap_or(usize::MAX) {
            return Err(io::Error::from(Errno::ENAMETOOLONG));
        }
        let name = bytes.get(bytes.len().saturating_sub(name_len)..);
        // Never short: tempfile joins the name to the directory.
        let name = name.ok_or_else(|| io::Error::from(Errno::EINVAL))?;
        Ok(PathBuf::from(OsStr::from_bytes(name)))
    };
    let made = match kind {
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
    let absolute = made.path().to_path_buf();
    drop(made);
    Ok(Created::from_absolute(plan, kind, &absolute))
}

/// Draws names for `plan` with tempfile and calls `make` on each until one is not taken:
/// the generator seeded from the OS, tempfile's bounded retries, and the failure reported as a
/// [`CreateError`] for `kind`. The returned handle never removes the name when dropped.
fn make_in<R>(
    plan: &Plan,
    kind: Kind,
    make: impl FnMut(&Path) -> io::Result<R>,
) -> Result<tempfile::NamedTempFile<R>, CreateError> {
    seed_names_from_os();
    tempfile::Builder::new()
        .prefix(&plan.prefix)
        .suffix(&plan.suffix)
        .rand_bytes(plan.x_count)
        .disable_cleanup(true)
        .make_in(Path::new(&plan.dir), make)
        .map_err(|e| CreateError::new(kind, plan, normalize_exhausted(e)))
}

/// Seeds the name generator from the OS, as GNU's `gen_tempname` uses getrandom (SECURITY.md,
/// "Where the random characters come from").
///
/// tempfile forks its generator from fastrand's thread-local one, which fastrand seeds from a
/// hash of the clock and the thread id; tempfile itself only reseeds from the OS after three
/// collisions. Seeding here makes even the first name unpredictable. If the OS has no random
/// bytes to give, fastrand's own seed stays: names are then guessable, but creation is still
/// `O_EXCL`, so a guess can only cost an attempt, never hand over the file.
fn seed_names_from_os() {
    if let Ok(seed) = getrandom::u64() {
        fastrand::seed(seed);
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
/// Errors: [`CreateError`] (`failed to create file via template ...`) with the OS error.
pub fn create_anonymous(plan: &Plan) -> Result<OwnedFd, CreateError> {
    let fail = |source| CreateError::new(Kind::File, plan, source);
    let dir = if plan.dir.is_empty() {
        Path::new(".")
    } else {
        Path::new(&plan.dir)
    };
    if let Some(file) = open_unnamed_file(dir).map_err(fail)? {
        return Ok(file.into());
    }
    let named = make_in(plan, Kind::File, create_file)?;
    let (file, path) = named.keep().map_err(|e| fail(e.error))?;
    fs::remove_file(&path).map_err(fail)?;
    Ok(file.into())
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

/// tempfile gives up with its own "too many temporary files exist"; GNU says `File exists`.
fn normalize_exhausted(e: io::Error) -> io::Error {
    if e.raw_os_error().is_none() && e.kind() == io::ErrorKind::AlreadyExists {
        io::Error::from(Errno::EEXIST)
    } else {
        e
    }
}
