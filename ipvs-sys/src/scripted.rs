//! A scripted kernel: a [`Transport`] that answers each request an
//! [`IpvsSocket`](crate::IpvsSocket) sends from a function of the decoded
//! request, for testing the code above the socket without IPVS.
//!
//! It answers the family lookup itself, frames every answer as the kernel
//! does (replies, then an ACK, or `NLMSG_DONE` for a dump; an error message
//! whether or not an ACK was asked for; no ACK of a success unless asked, as
//! in a pipelined window) and logs every request it was sent.
//!
//! ```
//! use ipvs_sys::scripted::{Reply, ScriptedKernel};
//! use ipvs_sys::{IpvsCmd, IpvsMessage, IpvsSocket};
//!
//! let kernel = ScriptedKernel::new(|_request| Reply::Errno(libc::EPERM));
//! let log = kernel.log();
//! let mut socket = IpvsSocket::with_transport(kernel)?;
//! let refused = socket.request(IpvsMessage::new(IpvsCmd::Flush, vec![]));
//! assert_eq!(refused.unwrap_err().errno(), Some(libc::EPERM));
//! assert_eq!(log.messages(), vec![IpvsMessage::new(IpvsCmd::Flush, vec![])]);
//! # Ok::<(), ipvs_sys::Error>(())
//! ```

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex};

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_DUMP, NLMSG_DONE, NLMSG_ERROR, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_generic::GenlMessage;

use crate::message::IpvsMessage;
use crate::transport::Transport;

/// The id of `GENL_ID_CTRL`, the Generic Netlink controller.
const GENL_ID_CTRL: u16 = 0x10;
const NLMSG_HDRLEN: usize = 16;
/// `NLM_F_MULTI`: a message of a multipart answer.
const NLM_F_MULTI: u16 = 2;

/// One request as the scripted kernel received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The decoded message.
    pub message: IpvsMessage,
    /// Whether it was sent as a dump (`NLM_F_DUMP`).
    pub dump: bool,
}

/// The scripted kernel's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Success, with these reply messages (none for a change).
    Ok(Vec<IpvsMessage>),
    /// Refused with this errno (positive, such as `libc::ESRCH`).
    Errno(i32),
}

/// The requests a [`ScriptedKernel`] was sent, shared with whoever holds it
/// (the kernel itself is usually moved into a socket).
#[derive(Debug, Clone, Default)]
pub struct RequestLog(Arc<Mutex<Vec<Request>>>);

impl RequestLog {
    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The messages of every request so far, in order.
    pub fn messages(&self) -> Vec<IpvsMessage> {
        self.requests().into_iter().map(|r| r.message).collect()
    }

    /// Forgets the requests so far.
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    fn push(&self, request: Request) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(request);
    }
}

type Script = Box<dyn FnMut(&Request) -> Reply + Send>;

/// A [`Transport`] whose kernel is a script from each request to its reply.
pub struct ScriptedKernel {
    script: Script,
    log: RequestLog,
    queue: VecDeque<Vec<u8>>,
}

impl std::fmt::Debug for ScriptedKernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptedKernel")
            .field("log", &self.log)
            .field("queued", &self.queue.len())
            .finish_non_exhaustive()
    }
}

impl ScriptedKernel {
    /// The id the scripted kernel gives the "IPVS" family.
    pub const FAMILY_ID: u16 = 0x20;
    /// The netlink port id of the scripted end.
    pub const PORT_ID: u32 = 77;

    /// A kernel answering each request with `script(request)`.
    pub fn new(script: impl FnMut(&Request) -> Reply + Send + 'static) -> Self {
        Self {
            script: Box::new(script),
            log: RequestLog::default(),
            queue: VecDeque::new(),
        }
    }

    /// The log of the requests this kernel is sent.
    pub fn log(&self) -> RequestLog {
        self.log.clone()
    }

    fn answer(&mut self, msg: &[u8]) -> io::Result<Vec<u8>> {
        let kind = u16::from_ne_bytes([msg[4], msg[5]]);
        let flags = u16::from_ne_bytes([msg[6], msg[7]]);
        let seq = u32::from_ne_bytes([msg[8], msg[9], msg[10], msg[11]]);
        if kind == GENL_ID_CTRL {
            // CTRL_CMD_NEWFAMILY (1), version 2, CTRL_ATTR_FAMILY_ID (1).
            let mut payload = vec![1, 2, 0, 0, 6, 0, 1, 0];
            payload.extend(Self::FAMILY_ID.to_ne_bytes());
            payload.extend([0, 0]);
            let mut out = frame(GENL_ID_CTRL, 0, seq, &payload);
            out.extend(error(seq, 0, msg));
            return Ok(out);
        }
        let decoded = NetlinkMessage::<GenlMessage<IpvsMessage>>::deserialize(msg)
            .map_err(|e| io::Error::other(format!("undecodable request: {e}")))?;
        let NetlinkPayload::InnerMessage(genl) = decoded.payload else {
            return Err(io::Error::other("a request that is not a family message"));
        };
        let request = Request {
            message: genl.payload,
            dump: flags & NLM_F_DUMP == NLM_F_DUMP,
        };
        self.log.push(request.clone());
        let mut out = Vec::new();
        match (self.script)(&request) {
            Reply::Ok(replies) => {
                for reply in replies {
                    let nl = reply.into_netlink(Self::FAMILY_ID, seq, Self::PORT_ID, false);
                    let at = out.len();
                    out.resize(at + nl.buffer_len(), 0);
                    nl.serialize(&mut out[at..]);
                    out[at + 6..at + 8].copy_from_slice(&NLM_F_MULTI.to_ne_bytes());
                    out.resize((out.len() + 3) & !3, 0);
                }
                if request.dump {
                    out.extend(frame(NLMSG_DONE, NLM_F_MULTI, seq, &0i32.to_ne_bytes()));
                } else if flags & NLM_F_ACK != 0 {
                    out.extend(error(seq, 0, msg));
                }
            }
            Reply::Errno(errno) => out.extend(error(seq, errno, msg)),
        }
        Ok(out)
    }
}

/// One netlink message, padded to netlink alignment.
fn frame(kind: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let len = NLMSG_HDRLEN + payload.len();
    let mut out = Vec::with_capacity(len + 3);
    out.extend((len as u32).to_ne_bytes());
    out.extend(kind.to_ne_bytes());
    out.extend(flags.to_ne_bytes());
    out.extend(seq.to_ne_bytes());
    out.extend(ScriptedKernel::PORT_ID.to_ne_bytes());
    out.extend(payload);
    out.resize((out.len() + 3) & !3, 0);
    out
}

/// `NLMSG_ERROR` with `errno` (0: an ACK) and the request's header.
fn error(seq: u32, errno: i32, request: &[u8]) -> Vec<u8> {
    let mut payload = errno.saturating_neg().to_ne_bytes().to_vec();
    payload.extend(&request[..NLMSG_HDRLEN]);
    frame(NLMSG_ERROR, 0, seq, &payload)
}

impl Transport for ScriptedKernel {
    fn send(&mut self, datagram: &[u8]) -> io::Result<()> {
        let mut at = 0;
        let mut answers = Vec::new();
        while at + NLMSG_HDRLEN <= datagram.len() {
            let len = u32::from_ne_bytes([
                datagram[at],
                datagram[at + 1],
                datagram[at + 2],
                datagram[at + 3],
            ]) as usize;
            let Some(msg) = datagram.get(at..at + len).filter(|_| len >= NLMSG_HDRLEN) else {
                return Err(io::Error::other("a badly framed request datagram"));
            };
            answers.extend(self.answer(msg)?);
            at += (len + 3) & !3;
        }
        if !answers.is_empty() {
            self.queue.push_back(answers);
        }
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let datagram = self
            .queue
            .pop_front()
            .ok_or_else(|| io::Error::other("the scripted kernel has nothing more to say"))?;
        let n = datagram.len().min(buf.len());
        buf[..n].copy_from_slice(&datagram[..n]);
        Ok(datagram.len())
    }

    fn port_id(&self) -> u32 {
        Self::PORT_ID
    }
}
