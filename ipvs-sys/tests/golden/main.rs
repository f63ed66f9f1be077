//! Golden-byte tests: real datagrams of ipvsadm 1.31 and of the kernel
//! (see `fixtures.rs`) are parsed and compared with the expected values, and
//! re-emitted and compared with the captured bytes.
#![cfg(target_endian = "little")] // the captures are of a little-endian machine

mod fixtures;
mod replies;
mod requests;

use ipvs_sys::netlink_packet_core::{NLA_F_NESTED, NetlinkHeader, NetlinkMessage, NetlinkPayload};
use ipvs_sys::netlink_packet_generic::GenlMessage;
use ipvs_sys::{IpvsAddressFamily, IpvsMessage, IpvsServiceAttr, IpvsStats64Attr, IpvsStatsAttr};

/// The messages of a datagram, split at netlink alignment.
pub fn messages(datagram: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < datagram.len() {
        let len = u32::from_ne_bytes(datagram[at..at + 4].try_into().unwrap()) as usize;
        out.push(&datagram[at..at + len]);
        at += (len + 3) & !3;
    }
    out
}

/// Parses one netlink message of the IPVS family.
pub fn parse(msg: &[u8]) -> (NetlinkHeader, IpvsMessage) {
    let nl = NetlinkMessage::<GenlMessage<IpvsMessage>>::deserialize(msg).expect("parses");
    let NetlinkPayload::InnerMessage(genl) = nl.payload else {
        panic!("not a family message: {:?}", nl.payload)
    };
    (nl.header, genl.payload)
}

/// Emits `msg` with the header fields of `header` (length recomputed).
pub fn emit(header: &NetlinkHeader, msg: IpvsMessage) -> Vec<u8> {
    let mut genl = GenlMessage::from_payload(msg);
    genl.set_resolved_family_id(header.message_type);
    let mut nl = NetlinkMessage::from(genl);
    nl.header.flags = header.flags;
    nl.header.sequence_number = header.sequence_number;
    nl.header.port_number = header.port_number;
    nl.finalize();
    let mut buf = vec![0; nl.buffer_len()];
    nl.serialize(&mut buf);
    buf
}

/// Clears `NLA_F_NESTED` on every nest header of the message's attributes,
/// recursing into nests that carried it: the kernel sends nests without the
/// flag and this crate emits them with it, as libnl does.
pub fn without_nested_flags(msg: &[u8]) -> Vec<u8> {
    fn walk(buf: &mut [u8]) {
        let mut at = 0;
        while at + 4 <= buf.len() {
            let len = u16::from_ne_bytes([buf[at], buf[at + 1]]) as usize;
            let kind = u16::from_ne_bytes([buf[at + 2], buf[at + 3]]);
            if kind & NLA_F_NESTED != 0 {
                buf[at + 2..at + 4].copy_from_slice(&(kind & !NLA_F_NESTED).to_ne_bytes());
                walk(&mut buf[at + 4..at + len]);
            }
            at += (len + 3) & !3;
        }
    }
    let mut out = msg.to_vec();
    walk(&mut out[20..]); // after nlmsghdr and genlmsghdr
    out
}

/// An IPv4 address as the 16-byte `union nf_inet_addr`.
pub fn v4(a: u8, b: u8, c: u8, d: u8) -> [u8; 16] {
    let mut addr = [0; 16];
    addr[..4].copy_from_slice(&[a, b, c, d]);
    addr
}

/// The identifying attributes of a TCP or UDP service, as ipvsadm sends them first.
pub fn svc(protocol: u16, addr: [u8; 16], port: u16) -> Vec<IpvsServiceAttr> {
    vec![
        IpvsServiceAttr::Af(IpvsAddressFamily::Inet),
        IpvsServiceAttr::Protocol(protocol),
        IpvsServiceAttr::Addr(addr),
        IpvsServiceAttr::Port(port),
    ]
}

/// A 32-bit STATS nest as the kernel fills it: conns, inpkts, outpkts,
/// inbytes, outbytes, cps, inpps, outpps, inbps, outbps.
pub fn stats32(v: [u32; 10]) -> Vec<IpvsStatsAttr> {
    vec![
        IpvsStatsAttr::Conns(v[0]),
        IpvsStatsAttr::InPkts(v[1]),
        IpvsStatsAttr::OutPkts(v[2]),
        IpvsStatsAttr::InBytes(v[3].into()),
        IpvsStatsAttr::OutBytes(v[4].into()),
        IpvsStatsAttr::Cps(v[5]),
        IpvsStatsAttr::InPps(v[6]),
        IpvsStatsAttr::OutPps(v[7]),
        IpvsStatsAttr::InBps(v[8]),
        IpvsStatsAttr::OutBps(v[9]),
    ]
}

/// A STATS64 nest with the same counters, in the same order.
pub fn stats64(v: [u32; 10]) -> Vec<IpvsStats64Attr> {
    let v = v.map(u64::from);
    vec![
        IpvsStats64Attr::Conns(v[0]),
        IpvsStats64Attr::InPkts(v[1]),
        IpvsStats64Attr::OutPkts(v[2]),
        IpvsStats64Attr::InBytes(v[3]),
        IpvsStats64Attr::OutBytes(v[4]),
        IpvsStats64Attr::Cps(v[5]),
        IpvsStats64Attr::InPps(v[6]),
        IpvsStats64Attr::OutPps(v[7]),
        IpvsStats64Attr::InBps(v[8]),
        IpvsStats64Attr::OutBps(v[9]),
    ]
}
