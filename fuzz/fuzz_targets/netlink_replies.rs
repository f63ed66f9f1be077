//! Arbitrary datagrams as the kernel's answers to a dump, a request and a
//! pipelined batch: the socket's framing and decoding, then the library's
//! reading of every nest. Nothing may panic or hang.
#![no_main]

use std::collections::VecDeque;
use std::io;

use arbitrary::Arbitrary;
use ipvs_sys::netlink_packet_core::NetlinkMessage;
use ipvs_sys::netlink_packet_generic::GenlMessage;
use ipvs_sys::netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use ipvs_sys::netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use ipvs_sys::{IpvsAttrs, IpvsCmd, IpvsMessage, IpvsSocket, Transport};
use libfuzzer_sys::fuzz_target;

const FAMILY: u16 = 0x20;

#[derive(Debug, Arbitrary)]
struct Input {
    /// What to ask: a dump, a request or a batch of three.
    exchange: u8,
    /// Whether the answers are whole datagrams, or family payloads (generic
    /// netlink header and attributes) that get a well-formed netlink header,
    /// so that the fuzzer's effort goes into the attributes.
    raw: bool,
    /// The datagrams (or payloads) the "kernel" answers with.
    answers: Vec<Vec<u8>>,
}

/// A family message around `payload`, as part of a dump.
fn wrapped(payload: &[u8]) -> Vec<u8> {
    let len = 16 + payload.len();
    let mut out = Vec::with_capacity(len + 3);
    out.extend((len as u32).to_ne_bytes());
    out.extend(FAMILY.to_ne_bytes());
    out.extend(2u16.to_ne_bytes()); // NLM_F_MULTI
    out.extend(0u32.to_ne_bytes()); // the sequence number, set on sending
    out.extend(77u32.to_ne_bytes());
    out.extend(payload);
    out.resize((out.len() + 3) & !3, 0);
    out
}

/// The end of a dump.
fn done() -> Vec<u8> {
    let mut out = Vec::with_capacity(20);
    out.extend(20u32.to_ne_bytes());
    out.extend(3u16.to_ne_bytes()); // NLMSG_DONE
    out.extend(2u16.to_ne_bytes());
    out.extend(0u32.to_ne_bytes());
    out.extend(77u32.to_ne_bytes());
    out.extend(0i32.to_ne_bytes());
    out
}

/// Answers the family lookup properly, then with the fuzzer's datagrams,
/// their sequence numbers set to the request's so that they are read.
struct FuzzKernel {
    answers: VecDeque<Vec<u8>>,
    queue: VecDeque<Vec<u8>>,
    seq: u32,
}

fn family_reply(seq: u32) -> Vec<u8> {
    let mut msg = NetlinkMessage::from(GenlMessage::from_payload(GenlCtrl {
        cmd: GenlCtrlCmd::NewFamily,
        nlas: vec![
            GenlCtrlAttrs::FamilyId(FAMILY),
            GenlCtrlAttrs::FamilyName("IPVS".into()),
        ],
    }));
    msg.header.sequence_number = seq;
    msg.finalize();
    let mut buf = vec![0; msg.buffer_len()];
    msg.serialize(&mut buf);
    buf
}

/// The native-endian u32 at `at` (the caller checked the length).
fn u32_at(buf: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]])
}

/// Sets the sequence number of each whole message of `datagram` to `seq`.
fn patch_seqs(datagram: &mut [u8], seq: u32) {
    let mut at = 0;
    while at + 16 <= datagram.len() {
        datagram[at + 8..at + 12].copy_from_slice(&seq.to_ne_bytes());
        let len = u32_at(datagram, at) as usize;
        if len < 16 {
            break;
        }
        at += (len + 3) & !3;
    }
}

impl Transport for FuzzKernel {
    fn send(&mut self, datagram: &[u8]) -> io::Result<()> {
        if datagram.len() < 16 {
            return Ok(());
        }
        let kind = u16::from_ne_bytes([datagram[4], datagram[5]]);
        self.seq = u32_at(datagram, 8);
        if kind == 0x10 {
            self.queue.push_back(family_reply(self.seq));
        } else {
            // The last request of a datagram is the one answered last.
            let mut at = 0;
            while at + 16 <= datagram.len() {
                self.seq = u32_at(datagram, at + 8);
                let len = u32_at(datagram, at) as usize;
                at += ((len + 3) & !3).max(16);
            }
            while let Some(mut answer) = self.answers.pop_front() {
                patch_seqs(&mut answer, self.seq);
                self.queue.push_back(answer);
            }
        }
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let datagram = self
            .queue
            .pop_front()
            .ok_or_else(|| io::Error::new(io::ErrorKind::WouldBlock, "nothing more"))?;
        let n = datagram.len().min(buf.len());
        buf[..n].copy_from_slice(&datagram[..n]);
        Ok(datagram.len())
    }

    fn port_id(&self) -> u32 {
        77
    }
}

fn message(cmd: IpvsCmd) -> IpvsMessage {
    IpvsMessage::new(cmd, vec![])
}

fuzz_target!(|input: Input| {
    let mut answers = input.answers;
    if !input.raw {
        answers = answers.iter().map(|a| wrapped(a)).collect();
        answers.push(done());
    }
    let kernel = FuzzKernel {
        answers: answers.into(),
        queue: VecDeque::new(),
        seq: 0,
    };
    let Ok(mut socket) = IpvsSocket::with_transport(kernel) else {
        return;
    };
    let replies = match input.exchange % 4 {
        0 => socket
            .dump(message(IpvsCmd::GetService))
            .unwrap_or_default(),
        1 => socket.dump(message(IpvsCmd::GetDest)).unwrap_or_default(),
        2 => socket
            .request(message(IpvsCmd::GetInfo))
            .unwrap_or_default(),
        _ => socket
            .pipeline(vec![
                message(IpvsCmd::NewService),
                message(IpvsCmd::NewDest),
                message(IpvsCmd::DelService),
            ])
            .map(|outcomes| outcomes.into_iter().flatten().flatten().collect())
            .unwrap_or_default(),
    };
    ipvs::fuzzing::kernel_replies(&replies);
    for reply in &replies {
        if let IpvsAttrs::Info(attrs) = &reply.attrs {
            let _ = attrs.len();
        }
    }
});
