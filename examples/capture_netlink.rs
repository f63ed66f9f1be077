//! Captures the IPVS Generic Netlink traffic of a command and prints each
//! datagram as annotated hex, ready to paste into a golden-byte test.
//!
//! ```text
//! capture_netlink COMMAND [ARGS...]
//! ```
//!
//! It creates an `nlmon` device (the kernel's netlink tap) in the current
//! network namespace, runs the command, and prints every datagram of the IPVS
//! family that crossed the tap in either direction. Needs root and the `nlmon`
//! module; the test VM has both (`tests/vm/run target/debug/examples/capture_netlink ipvsadm -Ln`).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::Command;
use std::time::{Duration, Instant};

const TAP: &str = "nlmon-cap0";

fn ip(args: &[&str]) -> io::Result<()> {
    let status = Command::new("ip").args(args).status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!("ip {} failed", args.join(" "))))
    }
}

fn open_tap() -> io::Result<OwnedFd> {
    let protocol = (libc::ETH_P_ALL as u16).to_be() as libc::c_int;
    // SAFETY: plain socket(2); the descriptor is owned right away.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, protocol) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let name = std::ffi::CString::new(TAP).map_err(io::Error::other)?;
    // SAFETY: a NUL-terminated name.
    let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if ifindex == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: sockaddr_ll is plain data; zero is a valid start.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_protocol = protocol as u16;
    addr.sll_ifindex = ifindex as i32;
    // SAFETY: addr is a valid sockaddr_ll of the size given.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as u32,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// Reads one frame, waiting at most `timeout`.
fn read_frame(fd: &OwnedFd, buf: &mut [u8], timeout: Duration) -> io::Result<Option<usize>> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let ready = unsafe { libc::poll(&mut pfd, 1, timeout.as_millis() as i32) };
    if ready <= 0 {
        return Ok(None);
    }
    // SAFETY: buf is valid for its length.
    let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Some(n as usize))
}

/// Which attribute set a run of attributes belongs to.
#[derive(Clone, Copy)]
enum Set {
    Cmd,
    Info,
    Service,
    Dest,
    Daemon,
    Stats,
}

/// Which attribute set, if any, attribute `kind` nests.
type NestOf = fn(u16) -> Option<Set>;

/// The C name of attribute `kind` of `set`, and the set it nests, if any.
fn attr_name(set: Set, kind: u16) -> (&'static str, Option<Set>) {
    const CMD: &[&str] = &[
        "",
        "IPVS_CMD_ATTR_SERVICE",
        "IPVS_CMD_ATTR_DEST",
        "IPVS_CMD_ATTR_DAEMON",
        "IPVS_CMD_ATTR_TIMEOUT_TCP",
        "IPVS_CMD_ATTR_TIMEOUT_TCP_FIN",
        "IPVS_CMD_ATTR_TIMEOUT_UDP",
    ];
    const INFO: &[&str] = &["", "IPVS_INFO_ATTR_VERSION", "IPVS_INFO_ATTR_CONN_TAB_SIZE"];
    const SVC: &[&str] = &[
        "",
        "IPVS_SVC_ATTR_AF",
        "IPVS_SVC_ATTR_PROTOCOL",
        "IPVS_SVC_ATTR_ADDR",
        "IPVS_SVC_ATTR_PORT",
        "IPVS_SVC_ATTR_FWMARK",
        "IPVS_SVC_ATTR_SCHED_NAME",
        "IPVS_SVC_ATTR_FLAGS",
        "IPVS_SVC_ATTR_TIMEOUT",
        "IPVS_SVC_ATTR_NETMASK",
        "IPVS_SVC_ATTR_STATS",
        "IPVS_SVC_ATTR_PE_NAME",
        "IPVS_SVC_ATTR_STATS64",
    ];
    const DEST: &[&str] = &[
        "",
        "IPVS_DEST_ATTR_ADDR",
        "IPVS_DEST_ATTR_PORT",
        "IPVS_DEST_ATTR_FWD_METHOD",
        "IPVS_DEST_ATTR_WEIGHT",
        "IPVS_DEST_ATTR_U_THRESH",
        "IPVS_DEST_ATTR_L_THRESH",
        "IPVS_DEST_ATTR_ACTIVE_CONNS",
        "IPVS_DEST_ATTR_INACT_CONNS",
        "IPVS_DEST_ATTR_PERSIST_CONNS",
        "IPVS_DEST_ATTR_STATS",
        "IPVS_DEST_ATTR_ADDR_FAMILY",
        "IPVS_DEST_ATTR_STATS64",
        "IPVS_DEST_ATTR_TUN_TYPE",
        "IPVS_DEST_ATTR_TUN_PORT",
        "IPVS_DEST_ATTR_TUN_FLAGS",
    ];
    const DAEMON: &[&str] = &[
        "",
        "IPVS_DAEMON_ATTR_STATE",
        "IPVS_DAEMON_ATTR_MCAST_IFN",
        "IPVS_DAEMON_ATTR_SYNC_ID",
        "IPVS_DAEMON_ATTR_SYNC_MAXLEN",
        "IPVS_DAEMON_ATTR_MCAST_GROUP",
        "IPVS_DAEMON_ATTR_MCAST_GROUP6",
        "IPVS_DAEMON_ATTR_MCAST_PORT",
        "IPVS_DAEMON_ATTR_MCAST_TTL",
    ];
    const STATS: &[&str] = &[
        "",
        "IPVS_STATS_ATTR_CONNS",
        "IPVS_STATS_ATTR_INPKTS",
        "IPVS_STATS_ATTR_OUTPKTS",
        "IPVS_STATS_ATTR_INBYTES",
        "IPVS_STATS_ATTR_OUTBYTES",
        "IPVS_STATS_ATTR_CPS",
        "IPVS_STATS_ATTR_INPPS",
        "IPVS_STATS_ATTR_OUTPPS",
        "IPVS_STATS_ATTR_INBPS",
        "IPVS_STATS_ATTR_OUTBPS",
        "IPVS_STATS_ATTR_PAD",
    ];
    let (names, nest): (&[&str], NestOf) = match set {
        Set::Cmd => (CMD, |k| match k {
            1 => Some(Set::Service),
            2 => Some(Set::Dest),
            3 => Some(Set::Daemon),
            _ => None,
        }),
        Set::Info => (INFO, |_| None),
        Set::Service => (SVC, |k| matches!(k, 10 | 12).then_some(Set::Stats)),
        Set::Dest => (DEST, |k| matches!(k, 10 | 12).then_some(Set::Stats)),
        Set::Daemon => (DAEMON, |_| None),
        Set::Stats => (STATS, |_| None),
    };
    let name = names
        .get(kind as usize)
        .copied()
        .filter(|n| !n.is_empty())
        .unwrap_or("unknown attribute");
    (name, nest(kind))
}

fn hex_line(bytes: &[u8], indent: usize, comment: &str) {
    let hex: Vec<String> = bytes.iter().map(|b| format!("0x{b:02x},")).collect();
    let code = format!("{:indent$}{}", "", hex.join(" "), indent = 4 + indent);
    if comment.is_empty() {
        println!("{code}");
    } else {
        println!("{code:<64} // {comment}");
    }
}

/// Prints attributes, one per line (long values over several), each with its name.
fn print_attrs(buf: &[u8], set: Set, depth: usize) {
    let mut at = 0;
    while at + 4 <= buf.len() {
        let len = u16::from_ne_bytes([buf[at], buf[at + 1]]) as usize;
        let raw_kind = u16::from_ne_bytes([buf[at + 2], buf[at + 3]]);
        let kind = raw_kind & 0x3fff;
        if len < 4 || at + len > buf.len() {
            hex_line(&buf[at..], depth * 2, "malformed attribute");
            return;
        }
        let padded = ((len + 3) & !3).min(buf.len() - at);
        let (name, nest) = attr_name(set, kind);
        let flag = if raw_kind & 0x8000 != 0 {
            " (NLA_F_NESTED)"
        } else {
            ""
        };
        match nest {
            Some(inner) => {
                hex_line(
                    &buf[at..at + 4],
                    depth * 2,
                    &format!("{name}{flag}, len {len}"),
                );
                print_attrs(&buf[at + 4..at + len], inner, depth + 1);
            }
            None => {
                let whole = &buf[at..at + padded];
                let mut chunks = whole.chunks(8);
                if let Some(first) = chunks.next() {
                    hex_line(first, depth * 2, &format!("{name}, len {len}"));
                }
                for chunk in chunks {
                    hex_line(chunk, depth * 2, "");
                }
            }
        }
        at += padded;
    }
}

fn print_frame(frame: &[u8]) {
    hex_line(&frame[..8], 0, "nlmsghdr: length, type (family id), flags");
    hex_line(&frame[8..16], 0, "nlmsghdr: sequence number, port id");
    hex_line(&frame[16..20], 0, "genlmsghdr: command, version, reserved");
    let cmd = ipvs_sys::IpvsCmd::from(frame[16]);
    let set = if cmd == ipvs_sys::IpvsCmd::SetInfo {
        Set::Info
    } else {
        Set::Cmd
    };
    print_attrs(&frame[20..], set, 0);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let command: Vec<String> = std::env::args().skip(1).collect();
    let Some((program, args)) = command.split_first() else {
        return Err("usage: capture_netlink COMMAND [ARGS...]".into());
    };
    let family_id = ipvs_sys::IpvsSocket::connect()?.family_id();
    ip(&["link", "add", TAP, "type", "nlmon"])?;
    ip(&["link", "set", TAP, "up"])?;
    let tap = open_tap()?;
    let status = Command::new(program).args(args).status()?;
    let mut buf = vec![0u8; 1 << 16];
    let mut frames = Vec::new();
    let deadline = Instant::now() + Duration::from_millis(500);
    while let Some(n) = read_frame(
        &tap,
        &mut buf,
        deadline.saturating_duration_since(Instant::now()),
    )? {
        frames.push(buf[..n].to_vec());
    }
    ip(&["link", "del", TAP])?;
    println!("// `{}` exited with {status}", command.join(" "));
    for frame in frames {
        if frame.len() < 20 || u16::from_ne_bytes([frame[4], frame[5]]) != family_id {
            continue;
        }
        let flags = u16::from_ne_bytes([frame[6], frame[7]]);
        let direction = if flags & 0x1 != 0 { "request" } else { "reply" };
        let cmd = frame.get(16).copied().unwrap_or(0);
        println!(
            "// {direction}: {} bytes, flags {flags:#x}, cmd {cmd} ({:?})",
            frame.len(),
            ipvs_sys::IpvsCmd::from(cmd)
        );
        // A datagram may hold several messages (dumps): print each.
        let mut at = 0;
        while at + 20 <= frame.len() {
            let len = u32::from_ne_bytes([frame[at], frame[at + 1], frame[at + 2], frame[at + 3]])
                as usize;
            if len < 20 || at + len > frame.len() {
                break;
            }
            print_frame(&frame[at..at + len]);
            at += (len + 3) & !3;
        }
    }
    Ok(())
}
