//! Sync daemon attributes (`IPVS_DAEMON_ATTR_*`), nested in `IPVS_CMD_ATTR_DAEMON`.

use std::net::{Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{
    DecodeError, DefaultNla, ErrorContext, Nla, NlaBuffer, Parseable, emit_u16, emit_u32, parse_u8,
    parse_u16, parse_u32,
};

use crate::constants::*;
use crate::flags::flag_set;
use crate::nla::{emit_nul_string, nul_string_len, parse_array, parse_nul_string};

flag_set! {
    /// Sync daemon state (`IP_VS_STATE_*`), the payload of
    /// `IPVS_DAEMON_ATTR_STATE`, a host-order u32; unnamed bits are kept.
    IpvsDaemonState(u32) {
        /// `IP_VS_STATE_NONE` (0): no daemon (the empty set).
        NONE = IP_VS_STATE_NONE;
        /// `IP_VS_STATE_MASTER`: the daemon sends connection updates.
        MASTER = IP_VS_STATE_MASTER;
        /// `IP_VS_STATE_BACKUP`: the daemon receives them.
        BACKUP = IP_VS_STATE_BACKUP;
    }
}

/// An attribute of a connection sync daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpvsDaemonAttr {
    /// `IPVS_DAEMON_ATTR_STATE`: `IP_VS_STATE_MASTER` (1) or `IP_VS_STATE_BACKUP` (2).
    State(IpvsDaemonState),
    /// `IPVS_DAEMON_ATTR_MCAST_IFN`: multicast interface name, at most 15 bytes.
    McastIfn(String),
    /// `IPVS_DAEMON_ATTR_SYNC_ID`: sync id, 0..=255.
    SyncId(u32),
    /// `IPVS_DAEMON_ATTR_SYNC_MAXLEN`: maximum sync message length (UDP payload), kernel 4.3+.
    SyncMaxlen(u16),
    /// `IPVS_DAEMON_ATTR_MCAST_GROUP`: IPv4 multicast group (network order on the wire), kernel 4.3+.
    McastGroup(Ipv4Addr),
    /// `IPVS_DAEMON_ATTR_MCAST_GROUP6`: IPv6 multicast group, kernel 4.3+.
    McastGroup6(Ipv6Addr),
    /// `IPVS_DAEMON_ATTR_MCAST_PORT`: UDP port, **host** byte order, kernel 4.3+.
    McastPort(u16),
    /// `IPVS_DAEMON_ATTR_MCAST_TTL`: multicast TTL, 1..=255, kernel 4.3+.
    McastTtl(u8),
    /// An attribute this crate does not know.
    Other(DefaultNla),
}

impl Nla for IpvsDaemonAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::State(_) | Self::SyncId(_) | Self::McastGroup(_) => 4,
            Self::McastIfn(s) => nul_string_len(s),
            Self::SyncMaxlen(_) | Self::McastPort(_) => 2,
            Self::McastGroup6(_) => 16,
            Self::McastTtl(_) => 1,
            Self::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            Self::State(_) => IPVS_DAEMON_ATTR_STATE,
            Self::McastIfn(_) => IPVS_DAEMON_ATTR_MCAST_IFN,
            Self::SyncId(_) => IPVS_DAEMON_ATTR_SYNC_ID,
            Self::SyncMaxlen(_) => IPVS_DAEMON_ATTR_SYNC_MAXLEN,
            Self::McastGroup(_) => IPVS_DAEMON_ATTR_MCAST_GROUP,
            Self::McastGroup6(_) => IPVS_DAEMON_ATTR_MCAST_GROUP6,
            Self::McastPort(_) => IPVS_DAEMON_ATTR_MCAST_PORT,
            Self::McastTtl(_) => IPVS_DAEMON_ATTR_MCAST_TTL,
            Self::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        // The buffer is exactly `value_len()` long, so the emits cannot fail.
        let _ = match self {
            Self::State(v) => emit_u32(buffer, v.bits()),
            Self::SyncId(v) => emit_u32(buffer, *v),
            Self::McastIfn(s) => {
                emit_nul_string(s, buffer);
                Ok(())
            }
            Self::SyncMaxlen(v) | Self::McastPort(v) => emit_u16(buffer, *v),
            Self::McastGroup(addr) => {
                buffer.copy_from_slice(&addr.octets());
                Ok(())
            }
            Self::McastGroup6(addr) => {
                buffer.copy_from_slice(&addr.octets());
                Ok(())
            }
            Self::McastTtl(v) => {
                buffer[0] = *v;
                Ok(())
            }
            Self::Other(nla) => {
                nla.emit_value(buffer);
                Ok(())
            }
        };
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for IpvsDaemonAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let payload = buf.value();
        Ok(match buf.kind() {
            IPVS_DAEMON_ATTR_STATE => Self::State(
                parse_u32(payload)
                    .context("invalid IPVS_DAEMON_ATTR_STATE")?
                    .into(),
            ),
            IPVS_DAEMON_ATTR_MCAST_IFN => Self::McastIfn(
                parse_nul_string(payload).context("invalid IPVS_DAEMON_ATTR_MCAST_IFN")?,
            ),
            IPVS_DAEMON_ATTR_SYNC_ID => {
                Self::SyncId(parse_u32(payload).context("invalid IPVS_DAEMON_ATTR_SYNC_ID")?)
            }
            IPVS_DAEMON_ATTR_SYNC_MAXLEN => Self::SyncMaxlen(
                parse_u16(payload).context("invalid IPVS_DAEMON_ATTR_SYNC_MAXLEN")?,
            ),
            IPVS_DAEMON_ATTR_MCAST_GROUP => Self::McastGroup(Ipv4Addr::from(
                parse_array::<4>(payload).context("invalid IPVS_DAEMON_ATTR_MCAST_GROUP")?,
            )),
            IPVS_DAEMON_ATTR_MCAST_GROUP6 => Self::McastGroup6(Ipv6Addr::from(
                parse_array::<16>(payload).context("invalid IPVS_DAEMON_ATTR_MCAST_GROUP6")?,
            )),
            IPVS_DAEMON_ATTR_MCAST_PORT => {
                Self::McastPort(parse_u16(payload).context("invalid IPVS_DAEMON_ATTR_MCAST_PORT")?)
            }
            IPVS_DAEMON_ATTR_MCAST_TTL => {
                Self::McastTtl(parse_u8(payload).context("invalid IPVS_DAEMON_ATTR_MCAST_TTL")?)
            }
            _ => Self::Other(DefaultNla::parse(buf).context("invalid IPVS daemon attribute")?),
        })
    }
}
