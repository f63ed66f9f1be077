//! Top-level attributes of a command (`IPVS_CMD_ATTR_*`).

use netlink_packet_core::{
    DecodeError, DefaultNla, ErrorContext, NLA_F_NESTED, Nla, NlaBuffer, Parseable, emit_u32,
    parse_u32,
};

use crate::constants::*;
use crate::daemon::IpvsDaemonAttr;
use crate::dest::IpvsDestAttr;
use crate::nla::{append_nest, append_nla, append_nlas, emit_nested, nested_len, parse_all};
use crate::service::IpvsServiceAttr;

/// A top-level attribute of an IPVS command.
///
/// Nests are emitted with `NLA_F_NESTED`, as libnl (and so ipvsadm) does; the
/// kernel sends them without it, and parsing accepts both.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpvsCmdAttr {
    /// `IPVS_CMD_ATTR_SERVICE`: a virtual service.
    Service(Vec<IpvsServiceAttr>),
    /// `IPVS_CMD_ATTR_DEST`: a destination (real server).
    Dest(Vec<IpvsDestAttr>),
    /// `IPVS_CMD_ATTR_DAEMON`: a sync daemon.
    Daemon(Vec<IpvsDaemonAttr>),
    /// `IPVS_CMD_ATTR_TIMEOUT_TCP`: established TCP timeout, seconds (0 = unchanged).
    TimeoutTcp(u32),
    /// `IPVS_CMD_ATTR_TIMEOUT_TCP_FIN`: TCP FIN_WAIT timeout, seconds (0 = unchanged).
    TimeoutTcpFin(u32),
    /// `IPVS_CMD_ATTR_TIMEOUT_UDP`: UDP timeout, seconds (0 = unchanged).
    TimeoutUdp(u32),
    /// An attribute this crate does not know.
    Other(DefaultNla),
}

impl Nla for IpvsCmdAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::Service(attrs) => nested_len(attrs),
            Self::Dest(attrs) => nested_len(attrs),
            Self::Daemon(attrs) => nested_len(attrs),
            Self::TimeoutTcp(_) | Self::TimeoutTcpFin(_) | Self::TimeoutUdp(_) => 4,
            Self::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            Self::Service(_) => IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED,
            Self::Dest(_) => IPVS_CMD_ATTR_DEST | NLA_F_NESTED,
            Self::Daemon(_) => IPVS_CMD_ATTR_DAEMON | NLA_F_NESTED,
            Self::TimeoutTcp(_) => IPVS_CMD_ATTR_TIMEOUT_TCP,
            Self::TimeoutTcpFin(_) => IPVS_CMD_ATTR_TIMEOUT_TCP_FIN,
            Self::TimeoutUdp(_) => IPVS_CMD_ATTR_TIMEOUT_UDP,
            Self::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            Self::Service(attrs) => emit_nested(attrs, buffer),
            Self::Dest(attrs) => emit_nested(attrs, buffer),
            Self::Daemon(attrs) => emit_nested(attrs, buffer),
            Self::TimeoutTcp(v) | Self::TimeoutTcpFin(v) | Self::TimeoutUdp(v) => {
                // The buffer is exactly four bytes long, so this cannot fail.
                let _ = emit_u32(buffer, *v);
            }
            Self::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl IpvsCmdAttr {
    /// Appends this attribute to `out` in one pass: the bytes
    /// [`Emitable::emit`](netlink_packet_core::Emitable::emit) writes for
    /// it, without computing each nest's length first.
    pub(crate) fn append(&self, out: &mut Vec<u8>) {
        match self {
            Self::Service(attrs) => append_nest(out, self.kind(), |out| append_nlas(attrs, out)),
            Self::Dest(attrs) => append_nest(out, self.kind(), |out| append_nlas(attrs, out)),
            Self::Daemon(attrs) => append_nest(out, self.kind(), |out| append_nlas(attrs, out)),
            _ => append_nla(self, out),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for IpvsCmdAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let payload = buf.value();
        Ok(match buf.kind() {
            IPVS_CMD_ATTR_SERVICE => {
                Self::Service(parse_all(payload).context("invalid IPVS_CMD_ATTR_SERVICE")?)
            }
            IPVS_CMD_ATTR_DEST => {
                Self::Dest(parse_all(payload).context("invalid IPVS_CMD_ATTR_DEST")?)
            }
            IPVS_CMD_ATTR_DAEMON => {
                Self::Daemon(parse_all(payload).context("invalid IPVS_CMD_ATTR_DAEMON")?)
            }
            IPVS_CMD_ATTR_TIMEOUT_TCP => {
                Self::TimeoutTcp(parse_u32(payload).context("invalid IPVS_CMD_ATTR_TIMEOUT_TCP")?)
            }
            IPVS_CMD_ATTR_TIMEOUT_TCP_FIN => Self::TimeoutTcpFin(
                parse_u32(payload).context("invalid IPVS_CMD_ATTR_TIMEOUT_TCP_FIN")?,
            ),
            IPVS_CMD_ATTR_TIMEOUT_UDP => {
                Self::TimeoutUdp(parse_u32(payload).context("invalid IPVS_CMD_ATTR_TIMEOUT_UDP")?)
            }
            _ => Self::Other(DefaultNla::parse(buf).context("invalid IPVS command attribute")?),
        })
    }
}
