//! Virtual service attributes (`IPVS_SVC_ATTR_*`), nested in `IPVS_CMD_ATTR_SERVICE`.

use std::net::Ipv4Addr;

use netlink_packet_core::{
    DecodeError, DefaultNla, ErrorContext, NLA_F_NESTED, Nla, NlaBuffer, Parseable, emit_u16,
    emit_u16_be, emit_u32, parse_u16, parse_u16_be, parse_u32,
};

use crate::constants::*;
use crate::family::IpvsAddressFamily;
use crate::flags::flag_set;
use crate::nla::{
    emit_nested, emit_nul_string, nested_len, nul_string_len, parse_all, parse_array,
    parse_inet_addr, parse_nul_string,
};
use crate::stats::{IpvsStats64Attr, IpvsStatsAttr};

flag_set! {
    /// Virtual service flags (`IP_VS_SVC_F_*`), a host-order u32; bits this
    /// crate does not name are kept.
    IpvsServiceFlags(u32) {
        /// `IP_VS_SVC_F_PERSISTENT`: persistent service.
        PERSISTENT = IP_VS_SVC_F_PERSISTENT;
        /// `IP_VS_SVC_F_HASHED`: set by the kernel on every listed service.
        HASHED = IP_VS_SVC_F_HASHED;
        /// `IP_VS_SVC_F_ONEPACKET`: one-packet scheduling.
        ONEPACKET = IP_VS_SVC_F_ONEPACKET;
        /// `IP_VS_SVC_F_SCHED1`: scheduler flag 1 (`sh`/`mh` fallback).
        SCHED1 = IP_VS_SVC_F_SCHED1;
        /// `IP_VS_SVC_F_SCHED2`: scheduler flag 2 (`sh`/`mh` port).
        SCHED2 = IP_VS_SVC_F_SCHED2;
        /// `IP_VS_SVC_F_SCHED3`: scheduler flag 3.
        SCHED3 = IP_VS_SVC_F_SCHED3;
    }
}

impl IpvsServiceFlags {
    /// The three scheduler flags, `SCHED1 | SCHED2 | SCHED3`.
    pub const SCHED_MASK: Self = Self(IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3);
}

/// `struct ip_vs_flags`: the service flags and the mask of the bits to change,
/// both host order. The kernel applies `new = (old & !mask) | (flags & mask)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct IpvsFlags {
    /// `IP_VS_SVC_F_*` bits.
    pub flags: IpvsServiceFlags,
    /// Which bits of `flags` the kernel should apply.
    pub mask: IpvsServiceFlags,
}

/// The raw four bytes of `IPVS_SVC_ATTR_NETMASK`, whose meaning depends on the
/// service's address family: for IPv4 a network-order mask (`ff ff ff 00`), for
/// IPv6 a host-order u32 prefix length (1..=128).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct IpvsNetmask(pub [u8; 4]);

impl IpvsNetmask {
    /// An IPv4 netmask, written in network byte order.
    pub fn from_ipv4(mask: Ipv4Addr) -> Self {
        Self(mask.octets())
    }

    /// An IPv6 prefix length, written as a host-order u32.
    pub fn from_ipv6_prefix(prefix_len: u32) -> Self {
        Self(prefix_len.to_ne_bytes())
    }

    /// The bytes read as an IPv4 mask (network byte order).
    pub fn as_ipv4(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.0)
    }

    /// The bytes read as an IPv6 prefix length (host byte order).
    pub fn as_ipv6_prefix(&self) -> u32 {
        u32::from_ne_bytes(self.0)
    }
}

/// An attribute of a virtual service.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpvsServiceAttr {
    /// `IPVS_SVC_ATTR_AF`: address family, `AF_INET` (2) or `AF_INET6` (10).
    Af(IpvsAddressFamily),
    /// `IPVS_SVC_ATTR_PROTOCOL`: IP protocol number (TCP 6, UDP 17, SCTP 132).
    Protocol(u16),
    /// `IPVS_SVC_ATTR_ADDR`: `union nf_inet_addr`, an IPv4 address in the first four bytes.
    Addr([u8; 16]),
    /// `IPVS_SVC_ATTR_PORT`: the port (a host value here, network order on the wire).
    Port(u16),
    /// `IPVS_SVC_ATTR_FWMARK`: firewall mark, a host-order u32.
    Fwmark(u32),
    /// `IPVS_SVC_ATTR_SCHED_NAME`: scheduler name ("rr", "wlc", ...), at most 15 bytes.
    SchedName(String),
    /// `IPVS_SVC_ATTR_FLAGS`: flags and the mask of those to change.
    Flags(IpvsFlags),
    /// `IPVS_SVC_ATTR_TIMEOUT`: persistence timeout in seconds.
    Timeout(u32),
    /// `IPVS_SVC_ATTR_NETMASK`: persistence granularity, see [`IpvsNetmask`].
    Netmask(IpvsNetmask),
    /// `IPVS_SVC_ATTR_STATS`: 32-bit statistics (output only).
    Stats(Vec<IpvsStatsAttr>),
    /// `IPVS_SVC_ATTR_PE_NAME`: persistence engine name ("sip").
    PeName(String),
    /// `IPVS_SVC_ATTR_STATS64`: 64-bit statistics (output only, kernel 4.1+).
    Stats64(Vec<IpvsStats64Attr>),
    /// An attribute this crate does not know.
    Other(DefaultNla),
}

impl Nla for IpvsServiceAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::Af(_) | Self::Protocol(_) | Self::Port(_) => 2,
            Self::Addr(_) => 16,
            Self::Fwmark(_) | Self::Timeout(_) | Self::Netmask(_) => 4,
            Self::SchedName(s) | Self::PeName(s) => nul_string_len(s),
            Self::Flags(_) => 8,
            Self::Stats(attrs) => nested_len(attrs),
            Self::Stats64(attrs) => nested_len(attrs),
            Self::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            Self::Af(_) => IPVS_SVC_ATTR_AF,
            Self::Protocol(_) => IPVS_SVC_ATTR_PROTOCOL,
            Self::Addr(_) => IPVS_SVC_ATTR_ADDR,
            Self::Port(_) => IPVS_SVC_ATTR_PORT,
            Self::Fwmark(_) => IPVS_SVC_ATTR_FWMARK,
            Self::SchedName(_) => IPVS_SVC_ATTR_SCHED_NAME,
            Self::Flags(_) => IPVS_SVC_ATTR_FLAGS,
            Self::Timeout(_) => IPVS_SVC_ATTR_TIMEOUT,
            Self::Netmask(_) => IPVS_SVC_ATTR_NETMASK,
            Self::Stats(_) => IPVS_SVC_ATTR_STATS | NLA_F_NESTED,
            Self::PeName(_) => IPVS_SVC_ATTR_PE_NAME,
            Self::Stats64(_) => IPVS_SVC_ATTR_STATS64 | NLA_F_NESTED,
            Self::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        // The buffer is exactly `value_len()` long, so the emits cannot fail.
        let _ = match self {
            Self::Af(v) => emit_u16(buffer, (*v).into()),
            Self::Protocol(v) => emit_u16(buffer, *v),
            Self::Port(v) => emit_u16_be(buffer, *v),
            Self::Addr(addr) => {
                buffer.copy_from_slice(addr);
                Ok(())
            }
            Self::Fwmark(v) | Self::Timeout(v) => emit_u32(buffer, *v),
            Self::Netmask(mask) => {
                buffer.copy_from_slice(&mask.0);
                Ok(())
            }
            Self::SchedName(s) | Self::PeName(s) => {
                emit_nul_string(s, buffer);
                Ok(())
            }
            Self::Flags(f) => emit_u32(&mut buffer[..4], f.flags.bits())
                .and_then(|()| emit_u32(&mut buffer[4..], f.mask.bits())),
            Self::Stats(attrs) => {
                emit_nested(attrs, buffer);
                Ok(())
            }
            Self::Stats64(attrs) => {
                emit_nested(attrs, buffer);
                Ok(())
            }
            Self::Other(nla) => {
                nla.emit_value(buffer);
                Ok(())
            }
        };
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for IpvsServiceAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let payload = buf.value();
        Ok(match buf.kind() {
            IPVS_SVC_ATTR_AF => Self::Af(
                parse_u16(payload)
                    .context("invalid IPVS_SVC_ATTR_AF")?
                    .into(),
            ),
            IPVS_SVC_ATTR_PROTOCOL => {
                Self::Protocol(parse_u16(payload).context("invalid IPVS_SVC_ATTR_PROTOCOL")?)
            }
            IPVS_SVC_ATTR_ADDR => {
                Self::Addr(parse_inet_addr(payload).context("invalid IPVS_SVC_ATTR_ADDR")?)
            }
            IPVS_SVC_ATTR_PORT => {
                Self::Port(parse_u16_be(payload).context("invalid IPVS_SVC_ATTR_PORT")?)
            }
            IPVS_SVC_ATTR_FWMARK => {
                Self::Fwmark(parse_u32(payload).context("invalid IPVS_SVC_ATTR_FWMARK")?)
            }
            IPVS_SVC_ATTR_SCHED_NAME => Self::SchedName(
                parse_nul_string(payload).context("invalid IPVS_SVC_ATTR_SCHED_NAME")?,
            ),
            IPVS_SVC_ATTR_FLAGS => {
                let raw = parse_array::<8>(payload).context("invalid IPVS_SVC_ATTR_FLAGS")?;
                Self::Flags(IpvsFlags {
                    flags: u32::from_ne_bytes([raw[0], raw[1], raw[2], raw[3]]).into(),
                    mask: u32::from_ne_bytes([raw[4], raw[5], raw[6], raw[7]]).into(),
                })
            }
            IPVS_SVC_ATTR_TIMEOUT => {
                Self::Timeout(parse_u32(payload).context("invalid IPVS_SVC_ATTR_TIMEOUT")?)
            }
            IPVS_SVC_ATTR_NETMASK => Self::Netmask(IpvsNetmask(
                parse_array(payload).context("invalid IPVS_SVC_ATTR_NETMASK")?,
            )),
            IPVS_SVC_ATTR_STATS => {
                Self::Stats(parse_all(payload).context("invalid IPVS_SVC_ATTR_STATS")?)
            }
            IPVS_SVC_ATTR_PE_NAME => {
                Self::PeName(parse_nul_string(payload).context("invalid IPVS_SVC_ATTR_PE_NAME")?)
            }
            IPVS_SVC_ATTR_STATS64 => {
                Self::Stats64(parse_all(payload).context("invalid IPVS_SVC_ATTR_STATS64")?)
            }
            _ => Self::Other(DefaultNla::parse(buf).context("invalid IPVS service attribute")?),
        })
    }
}
