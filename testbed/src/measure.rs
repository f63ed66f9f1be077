//! Running a program the way a benchmark or a memory check needs: its wall
//! time, its peak resident memory (from the kernel's accounting of the
//! child, `ru_maxrss`) and a digest of its standard output, which goes to a
//! file so that the reader never holds it in memory.
//!
//! `ru_maxrss` of a child counts the peak of the process that started it
//! too (Linux records the old memory's high-water mark at `exec`, and the
//! child is started with the parent's memory): the caller must stay small,
//! which is why input comes from a file, not from a buffer. [`own_peak_kib`]
//! says how small it stayed.

use std::fs::File;
use std::hash::Hasher;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run of a program cost and printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measured {
    /// Wall time from start to exit.
    pub time: Duration,
    /// CPU time spent in the program's own code (`ru_utime`).
    pub user: Duration,
    /// CPU time the kernel spent for it (`ru_stime`): for these programs,
    /// mostly the kernel's IPVS work, the floor no tool can go under.
    pub system: Duration,
    /// Peak resident set size, in KiB.
    pub max_rss_kib: u64,
    /// Exit status (`-1` if killed by a signal).
    pub code: i32,
    /// A digest of standard output, to compare two programs' outputs.
    pub stdout_digest: u64,
    /// Bytes written to standard output.
    pub stdout_bytes: u64,
    /// Lines written to standard output.
    pub stdout_lines: u64,
    /// Standard error.
    pub stderr: String,
}

/// The calling process's own peak resident memory (`VmHWM`), in KiB: the
/// floor of what [`run`] can measure.
pub fn own_peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

/// Runs `program args`, its input read from the file `stdin` (or none),
/// its output to a scratch file.
///
/// # Panics
/// When the program cannot be started or waited for, or the scratch file
/// cannot be used: a test-bed failure, not a result.
pub fn run(program: &Path, args: &[&str], stdin: Option<&Path>) -> Measured {
    let scratch = std::env::temp_dir().join(format!("ipvs-rs-measure-{}", std::process::id()));
    let out = File::create(&scratch).expect("scratch file");
    let input = match stdin {
        Some(path) => Stdio::from(File::open(path).expect("input file")),
        None => Stdio::null(),
    };
    let start = Instant::now();
    // Reaped by wait4 below, which gives its resource usage too.
    #[allow(clippy::zombie_processes)]
    let mut child = Command::new(program)
        .args(args)
        .stdin(input)
        .stdout(out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let mut errors = child.stderr.take().expect("stderr pipe");
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = errors.read_to_end(&mut text);
        text
    });
    let mut status = 0;
    // SAFETY: zeroed rusage is a valid value to be filled in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, which `child` will not wait for again.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert!(pid > 0, "wait4: {}", std::io::Error::last_os_error());
    let time = start.elapsed();
    let stderr = String::from_utf8_lossy(&reader.join().unwrap_or_default()).into_owned();
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    let (stdout_digest, stdout_bytes, stdout_lines) = digest(&scratch);
    let _ = std::fs::remove_file(&scratch);
    Measured {
        time,
        user: timeval(usage.ru_utime),
        system: timeval(usage.ru_stime),
        max_rss_kib: usage.ru_maxrss.max(0) as u64,
        code,
        stdout_digest,
        stdout_bytes,
        stdout_lines,
        stderr,
    }
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
}

/// (digest, bytes, lines) of a file, read in pieces.
fn digest(path: &Path) -> (u64, u64, u64) {
    let mut file = File::open(path).expect("scratch file");
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let (mut bytes, mut lines) = (0u64, 0u64);
    let mut buf = vec![0; 1 << 16];
    loop {
        let n = file.read(&mut buf).expect("read scratch file");
        if n == 0 {
            break;
        }
        hasher.write(&buf[..n]);
        bytes += n as u64;
        lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
    }
    (hasher.finish(), bytes, lines)
}
