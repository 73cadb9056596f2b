//! Fuzzes `rtmp::cli::parse_in` over an arbitrary argv: the first byte chooses whether
//! `POSIXLY_CORRECT` is set (its low bit), the rest is split on NUL into arguments (bytes, not
//! necessarily UTF-8). A parsed request is then planned like `rtmp` would, so that
//! the planner also sees what the parser lets through. The request's types already rule out a
//! dry run or several templates in `--exec` mode, and a command without a program; what is
//! left to check is that every usage error has a message.
#![no_main]

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStringExt;

use libfuzzer_sys::fuzz_target;
use rtmp::cli::{Action, ParseEnv, parse_in};
use rtmp::request::Mode;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    let env = ParseEnv {
        posixly_correct: mode & 1 == 1,
    };
    let args: Vec<OsString> = if data.is_empty() {
        Vec::new()
    } else {
        data.split(|&b| b == 0)
            .map(|a| OsString::from_vec(a.to_vec()))
            .collect()
    };
    match parse_in(args, env) {
        Ok(Action::Create(request)) => {
            let templates: Vec<Option<&OsStr>> = match &request.mode {
                Mode::Mktemp(m) if m.templates.is_empty() => vec![None],
                Mode::Mktemp(m) => m.templates.iter().map(|t| Some(t.as_os_str())).collect(),
                Mode::Exec(e) => vec![e.template.as_deref()],
            };
            for t in templates {
                let _ = request.plan(t, None);
            }
        }
        Ok(_) => {}
        Err(e) => {
            assert!(!e.message.is_empty());
        }
    }
});
