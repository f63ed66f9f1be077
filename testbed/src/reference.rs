//! Debian's ipvsadm 1.31, the reference the tests compare against.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Where the reference ipvsadm is: `$IPVS_RS_REFERENCE_IPVSADM`, else `/sbin/ipvsadm`
/// (where the test VM has Debian's package).
pub fn path() -> PathBuf {
    std::env::var_os("IPVS_RS_REFERENCE_IPVSADM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/sbin/ipvsadm"))
}

/// What a program printed and how it exited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Exit code (`-1` if killed by a signal).
    pub code: i32,
}

/// Runs `program` with `args`, feeding `stdin`, in the calling thread's namespace.
///
/// # Panics
/// When the program cannot be started at all.
pub fn run(program: &std::path::Path, args: &[&str], stdin: &str) -> Outcome {
    run_as(program, None, args, stdin)
}

/// [`run`], with `argv[0]` set to `name` when given (ipvsadm says its
/// `argv[0]` in messages, so both programs are run as `ipvsadm` to compare).
///
/// # Panics
/// When the program cannot be started at all.
pub fn run_as(
    program: &std::path::Path,
    name: Option<&str>,
    args: &[&str],
    stdin: &str,
) -> Outcome {
    use std::io::Write;
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(program);
    if let Some(name) = name {
        command.arg0(name);
    }
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    if let Some(mut input) = child.stdin.take() {
        // A program that exits without reading its input is not an error here.
        let _ = input.write_all(stdin.as_bytes());
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("cannot wait for {}: {e}", program.display()));
    Outcome {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap_or(-1),
    }
}

/// Runs the reference ipvsadm with `args`.
pub fn ipvsadm(args: &[&str]) -> Outcome {
    run(&path(), args, "")
}

/// Runs the reference ipvsadm and returns its stdout, asserting it succeeded.
///
/// # Panics
/// When ipvsadm exits non-zero.
pub fn ipvsadm_ok(args: &[&str]) -> String {
    let out = ipvsadm(args);
    assert_eq!(
        out.code,
        0,
        "ipvsadm {} failed: {}",
        args.join(" "),
        out.stderr
    );
    out.stdout
}
