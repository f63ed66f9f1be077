//! The `ipvsadm-rs` program: ipvsadm 1.31's command line, plus `apply`,
//! `diff` and `check` for desired state (see [`ipvsadm_rs::run`]).
//!
//! Its `main` is the C one (`no_main`): std's own start-up also locates the
//! main thread's stack guard, which glibc does by reading and scanning
//! `/proc/self/maps`, a fifth of the instructions of a whole short command
//! such as `-Ln` on an empty table. The two things of that start-up a
//! command line program relies on are done here instead.
#![no_main]

use std::ffi::{c_char, c_int};

/// The process's entry point, called by the C runtime.
#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    // As std's start-up does: a write to a closed pipe is an EPIPE error the
    // program handles (a closed stdout is not a failure), not a SIGPIPE death.
    // SAFETY: setting a signal's disposition to "ignore" before any thread exists.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    open_closed_standard_streams();
    // std reads the arguments itself on glibc, `no_main` or not.
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    c_int::from(ipvsadm_rs::run(&args))
}

/// As std's start-up does: a standard stream (0, 1, 2) the program was
/// started without is opened on `/dev/null`, so that no file the program
/// opens takes its number and receives its output.
fn open_closed_standard_streams() {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: a valid array of three pollfd, a zero timeout.
    if unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) } < 0 {
        return;
    }
    for pollfd in fds {
        if pollfd.revents & libc::POLLNVAL != 0 {
            // open gives the lowest free number: this closed stream's.
            // SAFETY: a NUL-terminated path; the descriptor is kept for life.
            unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
        }
    }
}
