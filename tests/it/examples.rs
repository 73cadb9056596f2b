//! The README's and the man page's examples, executed (issue 15, point 7).
//!
//! Every fenced `sh` block of the README's usage sections ("Use in scripts", "Terminal use",
//! and the one-line example in the introduction) and every `.nf` block of the man page's
//! EXAMPLES section runs here as a shell script (`sh -e`), so an example that stops working, or
//! a flag an example uses that rtmp no longer accepts, fails the suite. The examples are read
//! from the committed files, not copied, so they cannot drift apart from what is tested.
//!
//! What an example does besides rtmp (`make`, `curl`, `jq`, `cmake`, `./build.sh`) is not
//! rtmp's business and cannot run here (no network, no build system), so those programs are
//! stand-ins on `PATH` that write their arguments to a log and, for `curl -o FILE`, a JSON
//! document to FILE. `tar`, `sort`, `wc`, `date` and `cat` are the real ones, on real input
//! files (`release.tar`, `big.txt`) made for the test. `rtmp --shell` reads `exit 0` from its
//! standard input. So every example runs; an example that cannot must be listed in
//! [`NOT_RUN`] with the reason.
//!
//! Each block must exit 0 and print no `rtmp:` message but `kept` for an example that keeps
//! (`--keep`, `RTMP_KEEP=1`), naming a path that exists; a block made only of `--exec`/`--shell`
//! commands that does not keep must leave nothing behind in `$TMPDIR` or the working directory
//! (the promise of that mode), and each stand-in must have been called with the path rtmp
//! created.

use std::fs;
use std::path::Path;

use snapbox::cmd::Command;

use crate::support::{rtmp_bin, scratch_dir};

/// Examples that are not run, with the reason (matched as a substring of the block).
const NOT_RUN: &[(&str, &str)] = &[];

/// The stand-ins: each logs `NAME ARGS... | cwd=$PWD | TMPDIR=$TMPDIR | RTMP_PATH=$RTMP_PATH`
/// (one line) to `$LOG`.
const STAND_INS: &[(&str, &str)] = &[
    ("make", ""),
    ("upload", ""),
    ("unzip", ""),
    ("index", ""),
    ("cmake", ""),
    ("jq", ""),
    ("unzip", ""),
    // `curl -fo FILE URL` / `curl -o FILE URL`: writes a small JSON document to FILE; without
    // `-o`, to stdout.
    (
        "curl",
        r#"out=; while [ $# -gt 0 ]; do case $1 in -o|-fo) out=$2; shift;; esac; shift; done
if [ -n "$out" ]; then printf '{"ok":true}\n' > "$out"; else printf '{"ok":true}\n'; fi"#,
    ),
];

/// The sections of the README whose `sh` blocks are usage examples (the install section's
/// block installs things and is not an example of use).
const README_SECTIONS: &[&str] = &[
    "# rtmp",
    "## Use in scripts",
    "## Terminal use",
    "## Scripts without trap: `--until`, `--stdin` and `--replace`",
];

/// The `sh` blocks of `markdown` under the headings in `sections`.
fn readme_blocks(markdown: &str, sections: &[&str]) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut in_section = false;
    let mut block: Option<String> = None;
    for line in markdown.lines() {
        if let Some(b) = block.as_mut() {
            if line.starts_with("```") {
                blocks.push(block.take().unwrap_or_default());
            } else {
                b.push_str(line);
                b.push('\n');
            }
            continue;
        }
        if line.starts_with('#') {
            in_section = sections.contains(&line.trim_end());
        } else if in_section && line.trim_end() == "```sh" {
            block = Some(String::new());
        }
    }
    blocks
}

/// The `.nf` … `.fi` blocks of the man page's EXAMPLES section, with roff escapes undone.
fn man_blocks(roff: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut in_examples = false;
    let mut block: Option<String> = None;
    for line in roff.lines() {
        if line.starts_with(".SH") {
            in_examples = line == ".SH EXAMPLES";
            continue;
        }
        if !in_examples {
            continue;
        }
        match (line, block.as_mut()) {
            (".nf", None) => block = Some(String::new()),
            (".fi", Some(_)) => blocks.push(block.take().unwrap_or_default()),
            (l, Some(_)) if l.starts_with('.') => {}
            (l, Some(b)) => {
                b.push_str(&unroff(l));
                b.push('\n');
            }
            (_, None) => {}
        }
    }
    blocks
}

/// Undoes the roff escapes clap_mangen and the hand-written sections use.
fn unroff(line: &str) -> String {
    line.replace("\\-", "-")
        .replace("\\(aq", "'")
        .replace("\\*(Aq", "'")
        .replace("\\e", "\\")
        .replace("\\(dq", "\"")
}

/// A sandbox for one block: `work/` (the working directory, with `release.tar`, `big.txt`,
/// `build.sh`, `ci.sh` and `start-test-servers.sh`), `tmp/` (`TMPDIR`), `home/scratch/` (`HOME`), `bin/` (the stand-ins).
fn sandbox(root: &Path) {
    for dir in ["work", "tmp", "home/scratch", "bin", "src"] {
        fs::create_dir_all(root.join(dir)).expect("mkdir");
    }
    fs::write(root.join("src/hello.txt"), "hello\n").expect("write");
    let tar = std::process::Command::new("tar")
        .arg("-C")
        .arg(root.join("src"))
        .arg("-cf")
        .arg(root.join("work/release.tar"))
        .arg("hello.txt")
        .status()
        .expect("run tar");
    assert!(tar.success(), "tar failed");
    fs::write(root.join("work/big.txt"), "b\nc\na\n").expect("write");
    // A script that uses rtmp, for the RTMP_KEEP example.
    let ci = "#!/bin/sh\nrtmp -d --exec sh -c 'echo built > \"$1\"/out' sh {}\n";
    write_executable(&root.join("work/ci.sh"), ci);
    // A command that leaves a server running, for the --kill-after example: rtmp must end it.
    let servers = format!(
        "#!/bin/sh\n{}\nsleep 300 &\n",
        r#"echo "$0 $* | cwd=$PWD | TMPDIR=$TMPDIR | RTMP_PATH=${RTMP_PATH-}" >> "$LOG""#
    );
    write_executable(&root.join("work/start-test-servers.sh"), &servers);
    let log_call =
        r#"echo "$0 $* | cwd=$PWD | TMPDIR=$TMPDIR | RTMP_PATH=${RTMP_PATH-}" >> "$LOG""#;
    write_executable(
        &root.join("work/build.sh"),
        &format!("#!/bin/sh\n{log_call}\n"),
    );
    for (name, body) in STAND_INS {
        let script = format!("#!/bin/sh\n{log_call}\n{body}\n");
        write_executable(&root.join("bin").join(name), &script);
    }
}

fn write_executable(path: &Path, contents: &str) {
    use std::os::unix::fs::PermissionsExt;
    fs::write(path, contents).expect("write script");
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// Names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs one example block in a fresh sandbox and checks what the module doc promises.
fn run_block(origin: &str, block: &str) {
    if let Some((_, why)) = NOT_RUN.iter().find(|(text, _)| block.contains(text)) {
        eprintln!("{origin}: not run ({why}):\n{block}");
        return;
    }
    let root = scratch_dir(0o700);
    let root = root.path();
    sandbox(root);
    let work = root.join("work");
    let log = root.join("log");
    let rtmp_dir = rtmp_bin().parent().expect("rtmp's directory");
    let path = format!(
        "{}:{}:/usr/bin:/bin",
        root.join("bin").display(),
        rtmp_dir.display()
    );
    let before = names(&work);
    let exec_only = block
        .lines()
        .filter(|l| !l.trim().is_empty())
        .all(|l| l.contains("--exec") || l.contains("--shell"));
    let output = Command::new("sh")
        .arg("-e")
        .arg("-c")
        .arg(block)
        .current_dir(&work)
        .env_clear()
        .env("PATH", path)
        .env("HOME", root.join("home"))
        .env("TMPDIR", root.join("tmp"))
        .env("LOG", &log)
        .env("URL", "http://rtmp.invalid/data.json")
        .env("SHELL", "/bin/sh")
        .env("LC_ALL", "C")
        .stdin("exit 0\n")
        .assert()
        .success()
        .get_output()
        .clone();
    // `--keep` and RTMP_KEEP keep the path and say so: each `kept` line must name a path that
    // exists. Any other message from rtmp is a failed example.
    let keeps = block.contains("--keep ") || block.contains("RTMP_KEEP=1");
    let stderr = String::from_utf8_lossy(&output.stderr);
    for line in stderr.lines().filter(|l| l.starts_with("rtmp:")) {
        let kept = line
            .strip_prefix("rtmp: kept '")
            .and_then(|rest| rest.strip_suffix('\''));
        match kept {
            Some(path) if keeps => assert!(
                Path::new(path).exists() || work.join(path).exists(),
                "{origin}: says it kept {path}, which does not exist:\n{block}"
            ),
            _ => panic!("{origin}: rtmp complained:\n{block}\n{stderr}"),
        }
    }
    if exec_only && !keeps {
        assert_eq!(
            names(&root.join("tmp")),
            Vec::<String>::new(),
            "{origin}: left in $TMPDIR:\n{block}"
        );
        assert_eq!(names(&work), before, "{origin}: left in the cwd:\n{block}");
        assert!(
            names(&root.join("home/scratch")).is_empty(),
            "{origin}: left in ~/scratch:\n{block}"
        );
    }
    // Each stand-in that rtmp ran (RTMP_PATH set) was given the path rtmp created: as an
    // argument (`{}` or the appended path), as its working directory (`--cd`) or as its TMPDIR
    // (`--export-tmpdir`). The path is inside $TMPDIR, or beside DEST (`.NAME.XXXXXX`) with
    // `--replace`.
    let created = format!("{}/", root.join("tmp").display());
    let beside = format!("{}/.", work.display());
    if let Ok(calls) = fs::read_to_string(&log) {
        for call in calls.lines() {
            let (call, rtmp_path) = call.rsplit_once(" | RTMP_PATH=").unwrap_or((call, ""));
            if rtmp_path.is_empty() {
                continue;
            }
            let call = call.replace(&beside, &created);
            // `curl URL | rtmp --stdin ...`: curl writes to the pipe, it is not given a path.
            if call.contains("/curl ") && !call.contains(" -o") && !call.contains(" -fo") {
                continue;
            }
            assert!(
                call.contains(&created),
                "{origin}: a stand-in did not get rtmp's path: {call}\n{block}"
            );
        }
    }
}

#[test]
fn readme_examples_run() {
    let readme = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("read README.md");
    let blocks = readme_blocks(&readme, README_SECTIONS);
    assert!(
        blocks.len() >= 4,
        "expected the README's usage blocks, found {}",
        blocks.len()
    );
    for (i, block) in blocks.iter().enumerate() {
        run_block(&format!("README block {i}"), block);
    }
}

#[test]
fn man_page_examples_run() {
    let roff = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/man/rtmp.1"))
        .expect("read man/rtmp.1");
    let blocks = man_blocks(&roff);
    assert!(
        blocks.len() >= 4,
        "expected the man page's example blocks, found {}",
        blocks.len()
    );
    for (i, block) in blocks.iter().enumerate() {
        run_block(&format!("man page block {i}"), block);
    }
}

#[test]
fn the_example_parsers_find_what_they_should() {
    let md =
        "# rtmp\n```sh\na\n```\n## Install\n```sh\nb\n```\n## Use in scripts\n```sh\nc\nd\n```\n";
    assert_eq!(
        readme_blocks(md, README_SECTIONS),
        vec!["a\n".to_owned(), "c\nd\n".to_owned()]
    );
    let roff = ".SH OPTIONS\n.nf\nx\n.fi\n.SH EXAMPLES\ntext\n.nf\n.RS\nrtmp \\-d \\(aqa\\(aq\n.RE\n.fi\n.SH \"SEE ALSO\"\n";
    assert_eq!(man_blocks(roff), vec!["rtmp -d 'a'\n".to_owned()]);
}
