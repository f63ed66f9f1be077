//! The exchange logic against a scripted kernel: framing, ACK/NACK, dumps
//! across datagrams, stale sequence numbers, pipelining.

use std::collections::VecDeque;
use std::io;

use super::*;
use crate::{IpvsCmd, IpvsCmdAttr, IpvsInfoAttr};

const FAMILY: u16 = 0x20;

/// A transport whose "kernel" is a closure from each sent datagram to the
/// datagrams it answers with.
struct Scripted<F: FnMut(&[u8]) -> Vec<Vec<u8>>> {
    answer: F,
    queue: VecDeque<Vec<u8>>,
    sent: usize,
}

impl<F: FnMut(&[u8]) -> Vec<Vec<u8>>> Transport for Scripted<F> {
    fn send(&mut self, datagram: &[u8]) -> io::Result<()> {
        self.sent += 1;
        let answers = (self.answer)(datagram);
        self.queue.extend(answers);
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let datagram = self
            .queue
            .pop_front()
            .ok_or_else(|| io::Error::other("nothing to receive"))?;
        let n = datagram.len().min(buf.len());
        buf[..n].copy_from_slice(&datagram[..n]);
        Ok(datagram.len())
    }

    fn port_id(&self) -> u32 {
        77
    }
}

fn nlmsg(kind: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let len = 16 + payload.len();
    let mut out = Vec::new();
    out.extend((len as u32).to_ne_bytes());
    out.extend(kind.to_ne_bytes());
    out.extend(flags.to_ne_bytes());
    out.extend(seq.to_ne_bytes());
    out.extend(77u32.to_ne_bytes());
    out.extend(payload);
    out.resize((out.len() + 3) & !3, 0);
    out
}

fn ack(seq: u32, errno: i32) -> Vec<u8> {
    let mut payload = (-errno).to_ne_bytes().to_vec();
    payload.extend(nlmsg(FAMILY, 0, seq, &[])[..16].iter()); // the request's header
    nlmsg(NLMSG_ERROR, 0, seq, &payload)
}

fn done(seq: u32, code: i32) -> Vec<u8> {
    nlmsg(NLMSG_DONE, 2, seq, &code.to_ne_bytes())
}

/// A family message: genl header and the message's attributes.
fn data(seq: u32, msg: &IpvsMessage) -> Vec<u8> {
    let nl = msg.clone().into_netlink(FAMILY, seq, 77, false);
    let mut buf = vec![0; nl.buffer_len()];
    nl.serialize(&mut buf);
    buf[6..8].copy_from_slice(&2u16.to_ne_bytes()); // NLM_F_MULTI, not a request
    buf
}

fn info(version: u32) -> IpvsMessage {
    IpvsMessage {
        cmd: IpvsCmd::SetInfo,
        attrs: crate::IpvsAttrs::Info(vec![IpvsInfoAttr::Version(version)]),
    }
}

/// The sequence numbers of every message in a sent datagram.
fn seqs(datagram: &[u8]) -> Vec<u32> {
    frames(datagram)
        .expect("well framed")
        .into_iter()
        .map(|(seq, _)| seq)
        .collect()
}

/// The sequence number of each message in a sent datagram, and whether it
/// asks for an ACK (as the kernel answers a success only then).
fn requests(datagram: &[u8]) -> Vec<(u32, bool)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < datagram.len() {
        let len = u32::from_ne_bytes(datagram[at..at + 4].try_into().unwrap()) as usize;
        let flags = u16::from_ne_bytes([datagram[at + 6], datagram[at + 7]]);
        let seq = u32::from_ne_bytes(datagram[at + 8..at + 12].try_into().unwrap());
        out.push((seq, flags & NLM_F_ACK != 0));
        at += (len + 3) & !3;
    }
    out
}

/// Answers the family lookup, then hands every other datagram to `rest`.
fn kernel(mut rest: impl FnMut(&[u8]) -> Vec<Vec<u8>>) -> impl FnMut(&[u8]) -> Vec<Vec<u8>> {
    move |datagram: &[u8]| {
        if u16::from_ne_bytes([datagram[4], datagram[5]]) == 0x10 {
            let seq = seqs(datagram)[0];
            // CTRL_CMD_NEWFAMILY (1), version 2, CTRL_ATTR_FAMILY_ID (1) = FAMILY
            let mut payload = vec![1, 2, 0, 0, 6, 0, 1, 0];
            payload.extend(FAMILY.to_ne_bytes());
            payload.extend([0, 0]);
            let mut datagram = nlmsg(0x10, 0, seq, &payload);
            datagram.extend(ack(seq, 0));
            return vec![datagram];
        }
        rest(datagram)
    }
}

fn socket<F: FnMut(&[u8]) -> Vec<Vec<u8>>>(answer: F) -> IpvsSocket<Scripted<F>> {
    IpvsSocket::with_transport(Scripted {
        answer,
        queue: VecDeque::new(),
        sent: 0,
    })
    .expect("resolves")
}

#[test]
fn resolves_the_family_id() {
    let s = socket(kernel(|_| vec![]));
    assert_eq!(s.family_id(), FAMILY);
}

#[test]
fn missing_family_is_its_own_error() {
    let answer = |d: &[u8]| vec![ack(seqs(d)[0], libc::ENOENT)];
    let outcome = IpvsSocket::with_transport(Scripted {
        answer,
        queue: VecDeque::new(),
        sent: 0,
    });
    assert!(
        matches!(outcome, Err(Error::FamilyNotFound)),
        "{:?}",
        outcome.err()
    );
}

#[test]
fn request_returns_replies_before_the_ack() {
    let mut s = socket(kernel(|d| {
        let seq = seqs(d)[0];
        let mut datagram = data(seq, &info(0x010201));
        datagram.extend(ack(seq, 0));
        vec![datagram]
    }));
    let replies = s
        .request(IpvsMessage::new(IpvsCmd::GetInfo, vec![]))
        .expect("answered");
    assert_eq!(replies, vec![info(0x010201)]);
}

#[test]
fn request_refused_gives_the_errno_as_is() {
    let mut s = socket(kernel(|d| vec![ack(seqs(d)[0], libc::EEXIST)]));
    let err = s
        .request(IpvsMessage::new(IpvsCmd::Flush, vec![]))
        .unwrap_err();
    assert_eq!(err.errno(), Some(libc::EEXIST));
}

#[test]
fn messages_of_other_sequence_numbers_are_skipped() {
    let mut s = socket(kernel(|d| {
        let seq = seqs(d)[0];
        // A late ACK of an earlier request and a stray reply come first.
        let mut first = ack(seq.wrapping_sub(1), libc::ESRCH);
        first.extend(data(seq + 5, &info(1)));
        vec![first, ack(seq, 0)]
    }));
    assert_eq!(
        s.request(IpvsMessage::new(IpvsCmd::Flush, vec![]))
            .expect("acked"),
        vec![]
    );
}

#[test]
fn dump_reads_every_datagram_up_to_done() {
    let mut s = socket(kernel(|d| {
        let seq = seqs(d)[0];
        let mut one = data(seq, &info(1));
        one.extend(data(seq, &info(2)));
        let mut two = data(seq, &info(3));
        two.extend(data(seq, &info(4)));
        two.extend(data(seq, &info(5)));
        vec![one, two, done(seq, 0)]
    }));
    let replies = s
        .dump(IpvsMessage::new(IpvsCmd::GetService, vec![]))
        .expect("dumped");
    assert_eq!(replies, (1..=5).map(info).collect::<Vec<_>>());
}

#[test]
fn dump_failing_part_way_reports_the_errno() {
    let mut s = socket(kernel(|d| {
        let seq = seqs(d)[0];
        vec![data(seq, &info(1)), done(seq, -libc::EINTR)]
    }));
    let err = s
        .dump(IpvsMessage::new(IpvsCmd::GetService, vec![]))
        .unwrap_err();
    assert_eq!(err.errno(), Some(libc::EINTR));
}

#[test]
fn dump_refused_at_start_reports_the_errno() {
    let mut s = socket(kernel(|d| vec![ack(seqs(d)[0], libc::EPERM)]));
    let err = s
        .dump(IpvsMessage::new(IpvsCmd::GetDest, vec![]))
        .unwrap_err();
    assert_eq!(err.errno(), Some(libc::EPERM));
}

#[test]
fn truncated_datagram_is_an_error() {
    let mut s = socket(kernel(|d| {
        vec![vec![0; RECV_BUFFER_BYTES + 1], ack(seqs(d)[0], 0)]
    }));
    let err = s
        .request(IpvsMessage::new(IpvsCmd::Flush, vec![]))
        .unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
}

#[test]
fn malformed_datagram_is_an_error_not_a_panic() {
    for bad in [vec![1, 2, 3], nlmsg(FAMILY, 0, 0, &[])[..15].to_vec(), {
        let mut m = nlmsg(FAMILY, 0, 0, &[]);
        m[0] = 200; // a length past the end
        m
    }] {
        let mut s = socket(kernel(move |_| vec![bad.clone()]));
        let err = s
            .request(IpvsMessage::new(IpvsCmd::Flush, vec![]))
            .unwrap_err();
        assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    }
}

#[test]
fn undecodable_reply_is_reported_after_the_ack() {
    let mut s = socket(kernel(|d| {
        let seq = seqs(d)[0];
        // A SERVICE nest holding a 3-byte AF: the reply cannot be decoded.
        let bad = nlmsg(
            FAMILY,
            0,
            seq,
            &[1, 1, 0, 0, 11, 0, 1, 0, 7, 0, 1, 0, 2, 0, 0, 0],
        );
        vec![bad, ack(seq, 0)]
    }));
    let err = s
        .request(IpvsMessage::new(IpvsCmd::GetService, vec![]))
        .unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
    // The ACK was consumed: the socket is in step for the next request.
    assert!(s.transport().queue.is_empty());
}

#[test]
fn pipeline_matches_each_ack_to_its_request() {
    // Every third request is refused. As the kernel does, successes are
    // acknowledged only when asked, failures always; answers come several
    // per datagram.
    let mut acked = 0;
    let mut s = socket(kernel(|d| {
        let acks: Vec<u8> = requests(d)
            .into_iter()
            .filter_map(
                |(seq, wants_ack)| match (seq.is_multiple_of(3), wants_ack) {
                    (true, _) => Some(ack(seq, libc::EEXIST)),
                    (false, true) => {
                        acked += 1;
                        Some(ack(seq, 0))
                    }
                    (false, false) => None,
                },
            )
            .flatten()
            .collect();
        acks.chunks(36 * 7).map(<[u8]>::to_vec).collect()
    }));
    let first_seq = s.next_seq;
    let msgs: Vec<_> = (0..1500)
        .map(|_| IpvsMessage::new(IpvsCmd::Flush, vec![]))
        .collect();
    let outcomes = s.pipeline(msgs).expect("exchange");
    assert_eq!(outcomes.len(), 1500);
    for (i, outcome) in outcomes.iter().enumerate() {
        let seq = first_seq + i as u32;
        match outcome {
            Ok(replies) => assert!(!seq.is_multiple_of(3) && replies.is_empty(), "request {i}"),
            Err(e) => assert!(
                seq.is_multiple_of(3) && e.errno() == Some(libc::EEXIST),
                "request {i}: {e:?}"
            ),
        }
    }
    // 1500 requests went out in windows, many requests per datagram, and
    // only the last of each window asked for an acknowledgement.
    assert!(
        s.transport().sent < 1500 / 10,
        "{} datagrams",
        s.transport().sent
    );
    drop(s);
    assert!(acked <= 1500 / 256 + 1, "{acked} successes acknowledged");
}

#[test]
fn pipeline_collects_replies_per_request() {
    let mut s = socket(kernel(|d| {
        let mut out = Vec::new();
        for (seq, wants_ack) in requests(d) {
            out.extend(data(seq, &info(seq)));
            if wants_ack {
                out.extend(ack(seq, 0));
            }
        }
        vec![out]
    }));
    let first_seq = s.next_seq;
    let outcomes = s
        .pipeline(vec![IpvsMessage::new(IpvsCmd::GetInfo, vec![]); 3])
        .expect("exchange");
    for (i, outcome) in outcomes.into_iter().enumerate() {
        assert_eq!(outcome.expect("ok"), vec![info(first_seq + i as u32)]);
    }
}

#[test]
fn requests_carry_ack_and_dump_flags() {
    let mut flags = Vec::new();
    let mut s = socket(kernel(|d| {
        flags.push(u16::from_ne_bytes([d[6], d[7]]));
        let seq = seqs(d)[0];
        vec![ack(seq, 0), done(seq, 0)]
    }));
    s.request(IpvsMessage::new(
        IpvsCmd::Zero,
        vec![IpvsCmdAttr::TimeoutTcp(1)],
    ))
    .expect("ok");
    s.dump(IpvsMessage::new(IpvsCmd::GetDaemon, vec![]))
        .expect("ok");
    drop(s);
    assert_eq!(flags, vec![0x5, 0x305]);
}

proptest::proptest! {
    #[test]
    fn framing_random_datagrams_never_panics(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)
    ) {
        let _ = frames(&bytes);
    }
}
