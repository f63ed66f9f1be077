//! The `ipvsadm-rs` program: ipvsadm 1.31's command line, plus `apply` and
//! `diff` for desired state.

use std::io::Write;
use std::process::ExitCode;

use ipvsadm_rs::exec::{Context, Flow, list_all, run_line};
use ipvsadm_rs::stdout::Output;
use ipvsadm_rs::strerror::{Call, ipvs_strerror};

fn exit(code: i32) -> ExitCode {
    ExitCode::from((code & 0xff) as u8)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let prog = args.first().cloned().unwrap_or_else(|| "ipvsadm-rs".into());
    if let Some(code) = ipvsadm_rs::apply::run_if_subcommand(&args) {
        return exit(code);
    }
    let stdout = std::io::stdout();
    let mut out = Output::new(std::io::BufWriter::new(stdout.lock()));
    let stderr = std::io::stderr();
    let mut err = stderr.lock();

    // As ipvsadm: connect and read the kernel's info before anything else.
    let connected = ipvs::Ipvs::new().and_then(|ipvs| ipvs.info().map(|info| (ipvs, info)));
    let (ipvs, info) = match connected {
        Ok(pair) => pair,
        Err(e) => {
            // ipvsadm falls back to the old socket option interface, which
            // answers ENOPROTOOPT on a kernel without IPVS.
            let errno = match e.kind() {
                ipvs::ErrorKind::NotAvailable => libc::ENOPROTOOPT,
                _ => e.errno().unwrap_or(libc::EINVAL),
            };
            let _ = writeln!(
                err,
                "Can't initialize ipvs: {}\nAre you sure that IP Virtual Server is built in the kernel or as module?",
                ipvs_strerror(Call::Init, errno)
            );
            // ipvsadm's words do not say what to do; these do (a deliberate addition).
            if e.kind() == ipvs::ErrorKind::NotAvailable {
                let _ = writeln!(err, "{prog}: {e}");
            }
            return exit(2);
        }
    };
    let mut ctx = Context {
        ipvs: &ipvs,
        info,
        prog: &prog,
        out: &mut out,
        err: &mut err,
        line: None,
    };
    let flow = if args.len() == 1 {
        list_all(&mut ctx, &Default::default())
    } else {
        run_line(&mut ctx, &args[1..], false)
    };
    let code = match flow {
        Flow::Done(0) => 0,
        Flow::Done(_) => 255,
        Flow::Exit(code) => code,
    };
    // A closed pipe on stdout is not a failure of the command; a full disk is.
    if let Some(e) = out.finish() {
        let _ = writeln!(err, "{prog}: writing standard output: {e}");
        return exit(if code == 0 { 1 } else { code });
    }
    exit(code)
}
