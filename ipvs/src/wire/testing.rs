//! A scripted kernel for unit tests of the handle, and a readable form of
//! the messages it is sent, so that tests above `wire` assert exact
//! requests without naming an attribute type.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex};

pub(crate) use ipvs_sys::scripted::Reply;
use ipvs_sys::scripted::{RequestLog, ScriptedKernel};
use ipvs_sys::{
    IpvsAttrs, IpvsCmd, IpvsCmdAttr, IpvsDaemonAttr, IpvsDaemonState, IpvsDestAttr, IpvsFlags,
    IpvsInfoAttr, IpvsMessage, IpvsServiceAttr, IpvsServiceFlags,
};

use super::{daemon_attrs, dest_attrs, service_attrs, service_flags, timeout_attrs};
use crate::daemon::SyncDaemon;
use crate::destination::Destination;
use crate::handle::Ipvs;
use crate::service::Service;
use crate::timeouts::Timeouts;

/// A handle whose kernel answers each request with the next of `replies`
/// (and panics, failing the test, when a request comes that was not
/// expected), and the log of what it was sent.
pub(crate) fn kernel(replies: Vec<Reply>) -> (Ipvs, RequestLog) {
    let queue = Arc::new(Mutex::new(VecDeque::from(replies)));
    let kernel = ScriptedKernel::new(move |request| {
        queue
            .lock()
            .expect("not poisoned")
            .pop_front()
            .unwrap_or_else(|| panic!("unexpected request: {}", describe(&request.message)))
    });
    let log = kernel.log();
    (Ipvs::with_transport(kernel).expect("resolves"), log)
}

/// Every request sent so far, as [`describe`] writes them, a dump marked.
pub(crate) fn sent(log: &RequestLog) -> Vec<String> {
    log.requests()
        .iter()
        .map(|r| {
            let text = describe(&r.message);
            if r.dump { format!("dump {text}") } else { text }
        })
        .collect()
}

fn addr(bytes: &[u8; 16]) -> String {
    if bytes[4..].iter().all(|b| *b == 0) {
        Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string()
    } else {
        Ipv6Addr::from(*bytes).to_string()
    }
}

fn service_attr(attr: &IpvsServiceAttr) -> String {
    match attr {
        IpvsServiceAttr::Af(v) => format!("af={}", u16::from(*v)),
        IpvsServiceAttr::Protocol(v) => format!("proto={v}"),
        IpvsServiceAttr::Addr(v) => format!("addr={}", addr(v)),
        IpvsServiceAttr::Port(v) => format!("port={v}"),
        IpvsServiceAttr::Fwmark(v) => format!("fwmark={v}"),
        IpvsServiceAttr::SchedName(v) => format!("sched={v}"),
        IpvsServiceAttr::Flags(f) => format!("flags={:#x}/{:#x}", f.flags.bits(), f.mask.bits()),
        IpvsServiceAttr::Timeout(v) => format!("timeout={v}"),
        IpvsServiceAttr::Netmask(m) => format!("netmask={}", u32::from_be_bytes(m.0)),
        IpvsServiceAttr::PeName(v) => format!("pe={v}"),
        other => format!("{other:?}"),
    }
}

fn dest_attr(attr: &IpvsDestAttr) -> String {
    match attr {
        IpvsDestAttr::AddrFamily(v) => format!("af={}", u16::from(*v)),
        IpvsDestAttr::Addr(v) => format!("addr={}", addr(v)),
        IpvsDestAttr::Port(v) => format!("port={v}"),
        IpvsDestAttr::FwdMethod(v) => format!("fwd={}", u32::from(*v)),
        IpvsDestAttr::Weight(v) => format!("weight={v}"),
        IpvsDestAttr::TunType(v) => format!("tun_type={}", u8::from(*v)),
        IpvsDestAttr::TunPort(v) => format!("tun_port={v}"),
        IpvsDestAttr::TunFlags(v) => format!("tun_flags={:#x}", v.bits()),
        IpvsDestAttr::UThresh(v) => format!("u_thresh={v}"),
        IpvsDestAttr::LThresh(v) => format!("l_thresh={v}"),
        other => format!("{other:?}"),
    }
}

fn daemon_attr(attr: &IpvsDaemonAttr) -> String {
    match attr {
        IpvsDaemonAttr::State(v) => format!("state={}", v.bits()),
        IpvsDaemonAttr::McastIfn(v) => format!("ifn={v}"),
        IpvsDaemonAttr::SyncId(v) => format!("syncid={v}"),
        IpvsDaemonAttr::SyncMaxlen(v) => format!("maxlen={v}"),
        IpvsDaemonAttr::McastGroup(v) => format!("group={v}"),
        IpvsDaemonAttr::McastGroup6(v) => format!("group={v}"),
        IpvsDaemonAttr::McastPort(v) => format!("port={v}"),
        IpvsDaemonAttr::McastTtl(v) => format!("ttl={v}"),
        other => format!("{other:?}"),
    }
}

fn nest<T>(name: &str, attrs: &[T], each: fn(&T) -> String) -> String {
    let inner: Vec<String> = attrs.iter().map(each).collect();
    format!("{name}[{}]", inner.join(" "))
}

/// A message as one line: the command, then each attribute as `name=value`
/// (numbers as the kernel has them; the netmask as a big-endian u32),
/// nests in brackets.
pub(crate) fn describe(message: &IpvsMessage) -> String {
    let mut parts = vec![format!("{:?}", message.cmd)];
    match &message.attrs {
        IpvsAttrs::Cmd(attrs) => {
            for attr in attrs {
                parts.push(match attr {
                    IpvsCmdAttr::Service(a) => nest("svc", a, service_attr),
                    IpvsCmdAttr::Dest(a) => nest("dest", a, dest_attr),
                    IpvsCmdAttr::Daemon(a) => nest("daemon", a, daemon_attr),
                    IpvsCmdAttr::TimeoutTcp(v) => format!("tcp={v}"),
                    IpvsCmdAttr::TimeoutTcpFin(v) => format!("tcp_fin={v}"),
                    IpvsCmdAttr::TimeoutUdp(v) => format!("udp={v}"),
                    other => format!("{other:?}"),
                });
            }
        }
        IpvsAttrs::Info(attrs) => parts.extend(attrs.iter().map(|a| format!("{a:?}"))),
    }
    parts.join(" ")
}

/// The kernel's message for a listed service: its configuration, and the
/// flags it has (`HASHED` and `extra_flags` besides the configured ones).
pub(crate) fn service_reply(service: &Service, extra_flags: u32) -> IpvsMessage {
    let mut attrs = service_attrs(service, IpvsServiceFlags::all_bits());
    for attr in &mut attrs {
        if let IpvsServiceAttr::Flags(f) = attr {
            *f = IpvsFlags {
                flags: service_flags(service)
                    | IpvsServiceFlags::HASHED
                    | IpvsServiceFlags::from_bits_retain(extra_flags),
                mask: IpvsServiceFlags::all_bits(),
            };
        }
    }
    IpvsMessage::new(IpvsCmd::NewService, vec![IpvsCmdAttr::Service(attrs)])
}

/// The kernel's message for a listed real server, with connection counts.
pub(crate) fn dest_reply(dest: &Destination, active: u32) -> IpvsMessage {
    let mut attrs = dest_attrs(dest);
    attrs.extend([
        IpvsDestAttr::ActiveConns(active),
        IpvsDestAttr::InactConns(0),
        IpvsDestAttr::PersistConns(0),
    ]);
    IpvsMessage::new(IpvsCmd::NewDest, vec![IpvsCmdAttr::Dest(attrs)])
}

/// The kernel's message for a listed sync daemon.
pub(crate) fn daemon_reply(daemon: &SyncDaemon) -> IpvsMessage {
    IpvsMessage::new(
        IpvsCmd::NewDaemon,
        vec![IpvsCmdAttr::Daemon(daemon_attrs(daemon))],
    )
}

/// A sync daemon message in a state of raw `bits`, on `eth0`.
pub(crate) fn daemon_reply_in_state(bits: u32) -> IpvsMessage {
    IpvsMessage::new(
        IpvsCmd::NewDaemon,
        vec![IpvsCmdAttr::Daemon(vec![
            IpvsDaemonAttr::State(IpvsDaemonState::from_bits_retain(bits)),
            IpvsDaemonAttr::McastIfn("eth0".into()),
            IpvsDaemonAttr::SyncId(0),
        ])],
    )
}

/// The kernel's reply to `GET_CONFIG`.
pub(crate) fn timeouts_reply(timeouts: &Timeouts) -> IpvsMessage {
    IpvsMessage::new(IpvsCmd::SetConfig, timeout_attrs(timeouts))
}

/// The kernel's reply to `GET_INFO`, with the table size unless `None`.
pub(crate) fn info_reply(version: u32, size: Option<u32>) -> IpvsMessage {
    let mut attrs = vec![IpvsInfoAttr::Version(version)];
    attrs.extend(size.map(IpvsInfoAttr::ConnTabSize));
    IpvsMessage {
        cmd: IpvsCmd::SetInfo,
        attrs: IpvsAttrs::Info(attrs),
    }
}
