//! Fuzzes `rtmp::cli::parse` over an arbitrary argv: the input is split on NUL into arguments
//! (bytes, not necessarily UTF-8). A parsed request is then planned like `rtmp` would, so that
//! the planner also sees what the parser lets through.
#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use libfuzzer_sys::fuzz_target;
use rtmp::cli::{Action, parse};
use rtmp::template::{Location, plan};

fuzz_target!(|data: &[u8]| {
    let args: Vec<OsString> = if data.is_empty() {
        Vec::new()
    } else {
        data.split(|&b| b == 0)
            .map(|a| OsString::from_vec(a.to_vec()))
            .collect()
    };
    match parse(args) {
        Ok(Action::Create(req)) => {
            if let Some(exec) = &req.exec {
                // "never empty" (cli.rs); checked through Debug so that this target does not
                // depend on the shape of the command type.
                assert!(!format!("{:?}", exec.command).ends_with("([])"), "{exec:?}");
                assert!(!req.dry_run && req.templates.len() <= 1);
            }
            let location = Location {
                tmpdir_option: req.tmpdir_option,
                tmpdir_arg: req.tmpdir_arg.as_deref(),
                t_option: req.t_option,
                env_tmpdir: None,
            };
            let templates: Vec<Option<&std::ffi::OsStr>> = if req.templates.is_empty() {
                vec![None]
            } else {
                req.templates.iter().map(|t| Some(t.as_os_str())).collect()
            };
            for t in templates {
                let _ = plan(t, req.suffix.as_deref(), &location);
            }
        }
        Ok(_) => {}
        Err(e) => {
            assert!(!e.message.is_empty());
        }
    }
});
