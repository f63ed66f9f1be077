//! The synchronous transport: one socket per handle, the family id resolved
//! once, requests acknowledged, dumps read to `NLMSG_DONE`, pipelined batches.

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP,
    NetlinkDeserializable, NetlinkMessage, NetlinkPayload, NetlinkSerializable,
};
use netlink_packet_generic::{
    GenlMessage,
    ctrl::{GenlCtrl, GenlCtrlCmd, nlas::GenlCtrlAttrs},
};

use crate::constants::IPVS_GENL_NAME;
use crate::error::Error;
use crate::message::IpvsMessage;
use crate::transport::{NetlinkTransport, Transport};

/// Size of the receive buffer. The kernel builds dump datagrams of at most
/// about 32 KiB, so nothing it sends is ever truncated here. It is 128 KiB,
/// glibc's initial mmap threshold, so that the zeroed buffer comes from
/// fresh zero pages instead of being cleared by hand: a short command then
/// touches only the pages its answers land in.
const RECV_BUFFER_BYTES: usize = 128 * 1024;
/// A pipelined window is sent in datagrams of at most this size.
const SEND_DATAGRAM_BYTES: usize = 64 * 1024;
const NLMSG_HDRLEN: usize = 16;

/// A connection to the kernel's IPVS Generic Netlink family.
///
/// Requests are synchronous; a socket serves one request at a time and is
/// `Send` but not `Sync` (wrap it in a `Mutex` to share it between threads).
/// The family id is resolved when the socket is created.
#[derive(Debug)]
pub struct IpvsSocket<T: Transport = NetlinkTransport> {
    transport: T,
    family_id: u16,
    next_seq: u32,
    rx: Vec<u8>,
}

impl IpvsSocket<NetlinkTransport> {
    /// Opens a socket in the calling thread's network namespace and resolves
    /// the "IPVS" family.
    ///
    /// # Errors
    /// [`Error::FamilyNotFound`] when the kernel has no IPVS (or the module is
    /// not loaded), [`Error::Io`] when the socket cannot be opened.
    pub fn connect() -> Result<Self, Error> {
        Self::with_transport(NetlinkTransport::open()?)
    }
}

/// What one netlink message of a datagram is, as far as the exchange goes.
enum Frame<'a> {
    /// A family message (the whole netlink message, header included).
    Data(&'a [u8]),
    /// `NLMSG_ERROR` with code 0.
    Ack,
    /// `NLMSG_ERROR` with a negative errno, given here positive.
    Nack(i32),
    /// `NLMSG_DONE` with its status (negative errno if the dump failed).
    Done(i32),
    /// `NLMSG_NOOP` and other control messages: skipped.
    Skip,
}

fn read_u32(buf: &[u8], at: usize) -> Option<u32> {
    let bytes = buf.get(at..at + 4)?;
    Some(u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// Splits one datagram into its messages, at netlink alignment, each with
/// its sequence number.
fn frames(datagram: &[u8]) -> Result<Vec<(u32, Frame<'_>)>, Error> {
    let mut out = Vec::new();
    let mut offset = 0;
    while offset < datagram.len() {
        let rest = &datagram[offset..];
        if rest.len() < NLMSG_HDRLEN {
            return Err(Error::Protocol(format!(
                "{} stray bytes after the last message of a datagram",
                rest.len()
            )));
        }
        let len = read_u32(rest, 0).unwrap_or(0) as usize;
        if len < NLMSG_HDRLEN || len > rest.len() {
            return Err(Error::Protocol(format!(
                "message length {len} does not fit a datagram of {} bytes",
                rest.len()
            )));
        }
        let msg = &rest[..len];
        let kind = u16::from_ne_bytes([msg[4], msg[5]]);
        let seq = read_u32(msg, 8).unwrap_or(0);
        let frame = match kind {
            NLMSG_ERROR | NLMSG_DONE => {
                let code = read_u32(msg, NLMSG_HDRLEN).map(|c| c as i32);
                match (kind, code) {
                    (NLMSG_ERROR, Some(0)) => Frame::Ack,
                    (NLMSG_ERROR, Some(c)) => Frame::Nack(c.saturating_neg()),
                    (NLMSG_DONE, Some(c)) => Frame::Done(c),
                    // The kernel allows an empty NLMSG_DONE.
                    (NLMSG_DONE, None) => Frame::Done(0),
                    _ => return Err(Error::Protocol("NLMSG_ERROR without an error code".into())),
                }
            }
            NLMSG_NOOP => Frame::Skip,
            k if k < 0x10 => Frame::Skip, // other control messages (NLMSG_MIN_TYPE is 0x10)
            _ => Frame::Data(msg),
        };
        out.push((seq, frame));
        offset += (len + 3) & !3;
    }
    Ok(out)
}

/// Decodes one family message of a datagram.
fn decode<M>(msg: &[u8]) -> Result<M, Error>
where
    GenlMessage<M>: NetlinkDeserializable,
    <GenlMessage<M> as NetlinkDeserializable>::Error: Into<Error>,
{
    match NetlinkMessage::<GenlMessage<M>>::deserialize(msg)?.payload {
        NetlinkPayload::InnerMessage(genl) => Ok(genl.payload),
        _ => Err(Error::Protocol("expected a family message".into())),
    }
}

impl<T: Transport> IpvsSocket<T> {
    /// Uses `transport` and resolves the "IPVS" family over it.
    ///
    /// # Errors
    /// As [`IpvsSocket::connect`].
    pub fn with_transport(transport: T) -> Result<Self, Error> {
        let mut socket = Self {
            transport,
            family_id: 0,
            next_seq: 1,
            rx: vec![0; RECV_BUFFER_BYTES],
        };
        socket.family_id = socket.resolve_family()?;
        Ok(socket)
    }

    /// The numeric id the kernel gave the "IPVS" family.
    pub fn family_id(&self) -> u16 {
        self.family_id
    }

    /// The transport under this socket.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    fn take_seq(&mut self) -> u32 {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1).max(1);
        seq
    }

    fn resolve_family(&mut self) -> Result<u16, Error> {
        let seq = self.take_seq();
        let ctrl = GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![GenlCtrlAttrs::FamilyName(IPVS_GENL_NAME.to_owned())],
        };
        let mut nl = NetlinkMessage::from(GenlMessage::from_payload(ctrl));
        nl.header.flags = NLM_F_REQUEST | NLM_F_ACK;
        nl.header.sequence_number = seq;
        nl.header.port_number = self.transport.port_id();
        nl.finalize();
        self.send_one(&nl)?;
        let mut family_id = None;
        let outcome = self.collect(seq, false, |msg| {
            let reply: GenlCtrl = decode(msg)?;
            family_id = family_id.or(reply.nlas.iter().find_map(|nla| match nla {
                GenlCtrlAttrs::FamilyId(id) => Some(*id),
                _ => None,
            }));
            Ok(())
        });
        match outcome {
            Ok(()) => family_id.ok_or_else(|| {
                Error::Protocol("the family reply has no CTRL_ATTR_FAMILY_ID".into())
            }),
            Err(Error::Kernel {
                errno: libc::ENOENT,
            }) => Err(Error::FamilyNotFound),
            Err(e) => Err(e),
        }
    }

    fn send_one<M: NetlinkSerializable>(&mut self, nl: &NetlinkMessage<M>) -> Result<(), Error> {
        let mut buf = vec![0; nl.buffer_len()];
        nl.serialize(&mut buf);
        Ok(self.transport.send(&buf)?)
    }

    /// Sends `msg` alone with `flags`, under the next sequence number, which
    /// it returns.
    fn send_request(&mut self, msg: &IpvsMessage, flags: u16) -> Result<u32, Error> {
        let seq = self.take_seq();
        let mut buf = Vec::with_capacity(256);
        msg.append_request(
            &mut buf,
            self.family_id,
            flags,
            seq,
            self.transport.port_id(),
        );
        self.transport.send(&buf)?;
        Ok(seq)
    }

    fn recv_datagram(&mut self) -> Result<usize, Error> {
        let len = self.transport.recv(&mut self.rx)?;
        if len > self.rx.len() {
            return Err(Error::Protocol(format!(
                "a datagram of {len} bytes was truncated to {}",
                self.rx.len()
            )));
        }
        Ok(len)
    }

    /// Reads the answer to request `seq` and hands each family message to
    /// `on_data`; stops at the ACK (or, for a dump, at `NLMSG_DONE`).
    /// Messages of other sequence numbers (late answers to an abandoned
    /// request) are skipped. A decode error is returned only after the whole
    /// answer has been read, so the socket stays in step.
    fn collect(
        &mut self,
        seq: u32,
        dump: bool,
        mut on_data: impl FnMut(&[u8]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut first_error = None;
        loop {
            let len = self.recv_datagram()?;
            let rx = std::mem::take(&mut self.rx);
            let result = (|| {
                for (msg_seq, frame) in frames(&rx[..len])? {
                    if msg_seq != seq {
                        continue;
                    }
                    match frame {
                        Frame::Data(msg) => {
                            if let Err(e) = on_data(msg) {
                                first_error.get_or_insert(e);
                            }
                        }
                        Frame::Ack if !dump => return Ok(true),
                        Frame::Ack | Frame::Skip => {}
                        Frame::Nack(errno) => return Err(Error::Kernel { errno }),
                        Frame::Done(code) if code < 0 => {
                            return Err(Error::Kernel {
                                errno: code.saturating_neg(),
                            });
                        }
                        Frame::Done(_) => return Ok(true),
                    }
                }
                Ok(false)
            })();
            self.rx = rx;
            match result {
                Ok(true) => return first_error.map_or(Ok(()), Err),
                Ok(false) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends a request with `NLM_F_ACK` and returns the kernel's replies
    /// (none for a change; one for `GET_SERVICE` of one service, `GET_INFO`
    /// and `GET_CONFIG`).
    ///
    /// # Errors
    /// [`Error::Kernel`] with the kernel's errno if it refused the request;
    /// [`Error::Io`], [`Error::Decode`] or [`Error::Protocol`] if the exchange failed.
    pub fn request(&mut self, msg: IpvsMessage) -> Result<Vec<IpvsMessage>, Error> {
        let seq = self.send_request(&msg, NLM_F_REQUEST | NLM_F_ACK)?;
        let mut replies = Vec::new();
        self.collect(seq, false, |data| {
            replies.push(decode(data)?);
            Ok(())
        })?;
        Ok(replies)
    }

    /// Sends a dump request and returns every message of the dump, read across
    /// as many datagrams as the kernel sends, up to `NLMSG_DONE`.
    ///
    /// # Errors
    /// As [`IpvsSocket::request`].
    pub fn dump(&mut self, msg: IpvsMessage) -> Result<Vec<IpvsMessage>, Error> {
        let mut replies = Vec::new();
        self.dump_each(msg, |reply| replies.push(reply))?;
        Ok(replies)
    }

    /// Like [`IpvsSocket::dump`], but hands each message to `on_reply` as it
    /// arrives instead of collecting them.
    ///
    /// # Errors
    /// As [`IpvsSocket::request`].
    pub fn dump_each(
        &mut self,
        msg: IpvsMessage,
        mut on_reply: impl FnMut(IpvsMessage),
    ) -> Result<(), Error> {
        let seq = self.send_request(&msg, NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP)?;
        self.collect(seq, true, |data| {
            on_reply(decode(data)?);
            Ok(())
        })
    }

    /// Sends many requests without waiting for each answer: they go out
    /// several per datagram, a window at a time. Only the last request of a
    /// window asks for an acknowledgement; the kernel answers failures
    /// whether asked or not, and runs the requests in order, so when that
    /// last answer arrives every request of the window is settled: the ones
    /// with an error message failed, the others succeeded. This spares the
    /// kernel and the socket one acknowledgement per request. The kernel goes
    /// on after a failure, so the result holds one outcome per request, in order.
    ///
    /// # Errors
    /// The outer error means the exchange itself failed (socket, protocol):
    /// then it is unknown which requests of the current window were applied.
    #[allow(clippy::type_complexity)]
    pub fn pipeline(
        &mut self,
        msgs: Vec<IpvsMessage>,
    ) -> Result<Vec<Result<Vec<IpvsMessage>, Error>>, Error> {
        let mut outcomes: Vec<Result<Vec<IpvsMessage>, Error>> = Vec::with_capacity(msgs.len());
        let port = self.transport.port_id();
        let mut msgs = msgs.into_iter().peekable();
        let mut datagram = Vec::with_capacity(SEND_DATAGRAM_BYTES);
        while msgs.peek().is_some() {
            // One window: encode, sending a datagram whenever it fills up.
            let window_start = outcomes.len();
            let base_seq = self.next_seq;
            // If every request failed, their error messages must still fit in
            // the receive buffer; were one lost, the receive fails with
            // ENOBUFS rather than a failure passing for a success.
            let window = self.transport.max_in_flight().max(1);
            let mut in_flight = 0;
            while in_flight < window {
                let Some(msg) = msgs.next() else { break };
                let seq = self.take_seq();
                let last = in_flight + 1 == window || msgs.peek().is_none();
                // Only the window's last request asks for an ACK.
                let flags = if last {
                    NLM_F_REQUEST | NLM_F_ACK
                } else {
                    NLM_F_REQUEST
                };
                let at = datagram.len();
                msg.append_request(&mut datagram, self.family_id, flags, seq, port);
                if at > 0 && datagram.len() > SEND_DATAGRAM_BYTES {
                    // It does not fit: the datagram goes without it, and it
                    // starts the next one.
                    self.transport.send(&datagram[..at])?;
                    datagram.drain(..at);
                }
                outcomes.push(Ok(Vec::new()));
                in_flight += 1;
            }
            if !datagram.is_empty() {
                self.transport.send(&datagram)?;
                datagram.clear();
            }
            // Then read until the last request of the window is answered.
            let last = base_seq.wrapping_add(in_flight as u32 - 1);
            let mut settled = false;
            while !settled {
                let len = self.recv_datagram()?;
                let rx = std::mem::take(&mut self.rx);
                let result = (|| {
                    for (seq, frame) in frames(&rx[..len])? {
                        let index = seq.wrapping_sub(base_seq) as usize;
                        if index >= in_flight {
                            continue; // not of this window
                        }
                        let outcome = &mut outcomes[window_start + index];
                        match frame {
                            Frame::Data(data) => match (decode(data), outcome.as_mut()) {
                                (Ok(reply), Ok(replies)) => replies.push(reply),
                                (Err(e), Ok(_)) => *outcome = Err(e),
                                (_, Err(_)) => {}
                            },
                            Frame::Nack(errno) => *outcome = Err(Error::Kernel { errno }),
                            Frame::Ack | Frame::Done(_) | Frame::Skip => {}
                        }
                        if seq == last && matches!(frame, Frame::Ack | Frame::Nack(_)) {
                            settled = true;
                        }
                    }
                    Ok::<(), Error>(())
                })();
                self.rx = rx;
                result?;
            }
        }
        Ok(outcomes)
    }
}

#[cfg(test)]
mod tests;
