//! Destination (real server) attributes (`IPVS_DEST_ATTR_*`), nested in
//! `IPVS_CMD_ATTR_DEST`.

use netlink_packet_core::{
    DecodeError, DefaultNla, ErrorContext, NLA_F_NESTED, Nla, NlaBuffer, Parseable, emit_u16,
    emit_u16_be, emit_u32, parse_u8, parse_u16, parse_u16_be, parse_u32,
};

use crate::constants::*;
use crate::family::IpvsAddressFamily;
use crate::flags::{flag_set, value_enum};
use crate::nla::{emit_nested, nested_len, parse_all, parse_inet_addr};
use crate::stats::{IpvsStats64Attr, IpvsStatsAttr};

value_enum! {
    /// A forwarding method (`IP_VS_CONN_F_*` under `IP_VS_CONN_F_FWD_MASK`),
    /// the payload of `IPVS_DEST_ATTR_FWD_METHOD`, a host-order u32. A value
    /// with other connection flag bits set is kept whole in `Other`.
    IpvsFwdMethod(u32) {
        /// `IP_VS_CONN_F_MASQ` (0): NAT.
        Masq = IP_VS_CONN_F_MASQ,
        /// `IP_VS_CONN_F_LOCALNODE` (1): the real server is this host.
        LocalNode = IP_VS_CONN_F_LOCALNODE,
        /// `IP_VS_CONN_F_TUNNEL` (2): tunnelling.
        Tunnel = IP_VS_CONN_F_TUNNEL,
        /// `IP_VS_CONN_F_DROUTE` (3): direct routing.
        DRoute = IP_VS_CONN_F_DROUTE,
        /// `IP_VS_CONN_F_BYPASS` (4): cache bypass.
        Bypass = IP_VS_CONN_F_BYPASS,
    }
}

impl IpvsFwdMethod {
    /// The method of these bits alone (`& IP_VS_CONN_F_FWD_MASK`), dropping
    /// any other connection flag.
    pub fn masked(self) -> Self {
        Self::from(u32::from(self) & IP_VS_CONN_F_FWD_MASK)
    }
}

value_enum! {
    /// A tunnel type (`IP_VS_CONN_F_TUNNEL_TYPE_*`), the payload of
    /// `IPVS_DEST_ATTR_TUN_TYPE`, one byte.
    IpvsTunnelType(u8) {
        /// `IP_VS_CONN_F_TUNNEL_TYPE_IPIP` (0).
        Ipip = IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
        /// `IP_VS_CONN_F_TUNNEL_TYPE_GUE` (1).
        Gue = IP_VS_CONN_F_TUNNEL_TYPE_GUE,
        /// `IP_VS_CONN_F_TUNNEL_TYPE_GRE` (2).
        Gre = IP_VS_CONN_F_TUNNEL_TYPE_GRE,
    }
}

flag_set! {
    /// Tunnel encapsulation flags (`IP_VS_TUNNEL_ENCAP_FLAG_*`), the payload
    /// of `IPVS_DEST_ATTR_TUN_FLAGS`, a host-order u16; unnamed bits are kept.
    IpvsTunnelFlags(u16) {
        /// `IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM` (0): no checksum (the empty set).
        NOCSUM = IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM;
        /// `IP_VS_TUNNEL_ENCAP_FLAG_CSUM`: a checksum on the encapsulation.
        CSUM = IP_VS_TUNNEL_ENCAP_FLAG_CSUM;
        /// `IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM`: remote checksum offload.
        REMCSUM = IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM;
    }
}

/// An attribute of a destination (real server).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpvsDestAttr {
    /// `IPVS_DEST_ATTR_ADDR`: `union nf_inet_addr`, an IPv4 address in the first four bytes.
    Addr([u8; 16]),
    /// `IPVS_DEST_ATTR_PORT`: the port (a host value here, network order on the wire).
    Port(u16),
    /// `IPVS_DEST_ATTR_FWD_METHOD`: connection flags; the kernel keeps the
    /// forwarding method bits (`IP_VS_CONN_F_FWD_MASK`).
    FwdMethod(IpvsFwdMethod),
    /// `IPVS_DEST_ATTR_WEIGHT`: the weight; the kernel reads it as an `int`
    /// and refuses negative values with `ERANGE`.
    Weight(u32),
    /// `IPVS_DEST_ATTR_U_THRESH`: upper connection threshold (0 = none).
    UThresh(u32),
    /// `IPVS_DEST_ATTR_L_THRESH`: lower connection threshold.
    LThresh(u32),
    /// `IPVS_DEST_ATTR_ACTIVE_CONNS`: active connections (output only).
    ActiveConns(u32),
    /// `IPVS_DEST_ATTR_INACT_CONNS`: inactive connections (output only).
    InactConns(u32),
    /// `IPVS_DEST_ATTR_PERSIST_CONNS`: persistence templates (output only).
    PersistConns(u32),
    /// `IPVS_DEST_ATTR_STATS`: 32-bit statistics (output only).
    Stats(Vec<IpvsStatsAttr>),
    /// `IPVS_DEST_ATTR_ADDR_FAMILY`: the destination's own address family
    /// (kernel 3.18+); absent or 0 means the service's.
    AddrFamily(IpvsAddressFamily),
    /// `IPVS_DEST_ATTR_STATS64`: 64-bit statistics (output only, kernel 4.1+).
    Stats64(Vec<IpvsStats64Attr>),
    /// `IPVS_DEST_ATTR_TUN_TYPE`: tunnel type, `IP_VS_CONN_F_TUNNEL_TYPE_*` (kernel 5.2+).
    TunType(IpvsTunnelType),
    /// `IPVS_DEST_ATTR_TUN_PORT`: GUE destination port (a host value here,
    /// network order on the wire).
    TunPort(u16),
    /// `IPVS_DEST_ATTR_TUN_FLAGS`: `IP_VS_TUNNEL_ENCAP_FLAG_*`, host order (kernel 5.3+).
    TunFlags(IpvsTunnelFlags),
    /// An attribute this crate does not know.
    Other(DefaultNla),
}

impl Nla for IpvsDestAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::Addr(_) => 16,
            Self::Port(_) | Self::AddrFamily(_) | Self::TunPort(_) | Self::TunFlags(_) => 2,
            Self::TunType(_) => 1,
            Self::FwdMethod(_)
            | Self::Weight(_)
            | Self::UThresh(_)
            | Self::LThresh(_)
            | Self::ActiveConns(_)
            | Self::InactConns(_)
            | Self::PersistConns(_) => 4,
            Self::Stats(attrs) => nested_len(attrs),
            Self::Stats64(attrs) => nested_len(attrs),
            Self::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            Self::Addr(_) => IPVS_DEST_ATTR_ADDR,
            Self::Port(_) => IPVS_DEST_ATTR_PORT,
            Self::FwdMethod(_) => IPVS_DEST_ATTR_FWD_METHOD,
            Self::Weight(_) => IPVS_DEST_ATTR_WEIGHT,
            Self::UThresh(_) => IPVS_DEST_ATTR_U_THRESH,
            Self::LThresh(_) => IPVS_DEST_ATTR_L_THRESH,
            Self::ActiveConns(_) => IPVS_DEST_ATTR_ACTIVE_CONNS,
            Self::InactConns(_) => IPVS_DEST_ATTR_INACT_CONNS,
            Self::PersistConns(_) => IPVS_DEST_ATTR_PERSIST_CONNS,
            Self::Stats(_) => IPVS_DEST_ATTR_STATS | NLA_F_NESTED,
            Self::AddrFamily(_) => IPVS_DEST_ATTR_ADDR_FAMILY,
            Self::Stats64(_) => IPVS_DEST_ATTR_STATS64 | NLA_F_NESTED,
            Self::TunType(_) => IPVS_DEST_ATTR_TUN_TYPE,
            Self::TunPort(_) => IPVS_DEST_ATTR_TUN_PORT,
            Self::TunFlags(_) => IPVS_DEST_ATTR_TUN_FLAGS,
            Self::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        // The buffer is exactly `value_len()` long, so the emits cannot fail.
        let _ = match self {
            Self::Addr(addr) => {
                buffer.copy_from_slice(addr);
                Ok(())
            }
            Self::Port(v) | Self::TunPort(v) => emit_u16_be(buffer, *v),
            Self::AddrFamily(v) => emit_u16(buffer, (*v).into()),
            Self::TunFlags(v) => emit_u16(buffer, v.bits()),
            Self::TunType(v) => {
                buffer[0] = (*v).into();
                Ok(())
            }
            Self::FwdMethod(v) => emit_u32(buffer, (*v).into()),
            Self::Weight(v)
            | Self::UThresh(v)
            | Self::LThresh(v)
            | Self::ActiveConns(v)
            | Self::InactConns(v)
            | Self::PersistConns(v) => emit_u32(buffer, *v),
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

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for IpvsDestAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let payload = buf.value();
        let u32_of = |name: &'static str| parse_u32(payload).context(name);
        Ok(match buf.kind() {
            IPVS_DEST_ATTR_ADDR => {
                Self::Addr(parse_inet_addr(payload).context("invalid IPVS_DEST_ATTR_ADDR")?)
            }
            IPVS_DEST_ATTR_PORT => {
                Self::Port(parse_u16_be(payload).context("invalid IPVS_DEST_ATTR_PORT")?)
            }
            IPVS_DEST_ATTR_FWD_METHOD => {
                Self::FwdMethod(u32_of("invalid IPVS_DEST_ATTR_FWD_METHOD")?.into())
            }
            IPVS_DEST_ATTR_WEIGHT => Self::Weight(u32_of("invalid IPVS_DEST_ATTR_WEIGHT")?),
            IPVS_DEST_ATTR_U_THRESH => Self::UThresh(u32_of("invalid IPVS_DEST_ATTR_U_THRESH")?),
            IPVS_DEST_ATTR_L_THRESH => Self::LThresh(u32_of("invalid IPVS_DEST_ATTR_L_THRESH")?),
            IPVS_DEST_ATTR_ACTIVE_CONNS => {
                Self::ActiveConns(u32_of("invalid IPVS_DEST_ATTR_ACTIVE_CONNS")?)
            }
            IPVS_DEST_ATTR_INACT_CONNS => {
                Self::InactConns(u32_of("invalid IPVS_DEST_ATTR_INACT_CONNS")?)
            }
            IPVS_DEST_ATTR_PERSIST_CONNS => {
                Self::PersistConns(u32_of("invalid IPVS_DEST_ATTR_PERSIST_CONNS")?)
            }
            IPVS_DEST_ATTR_STATS => {
                Self::Stats(parse_all(payload).context("invalid IPVS_DEST_ATTR_STATS")?)
            }
            IPVS_DEST_ATTR_ADDR_FAMILY => Self::AddrFamily(
                parse_u16(payload)
                    .context("invalid IPVS_DEST_ATTR_ADDR_FAMILY")?
                    .into(),
            ),
            IPVS_DEST_ATTR_STATS64 => {
                Self::Stats64(parse_all(payload).context("invalid IPVS_DEST_ATTR_STATS64")?)
            }
            IPVS_DEST_ATTR_TUN_TYPE => Self::TunType(
                parse_u8(payload)
                    .context("invalid IPVS_DEST_ATTR_TUN_TYPE")?
                    .into(),
            ),
            IPVS_DEST_ATTR_TUN_PORT => {
                Self::TunPort(parse_u16_be(payload).context("invalid IPVS_DEST_ATTR_TUN_PORT")?)
            }
            IPVS_DEST_ATTR_TUN_FLAGS => Self::TunFlags(
                parse_u16(payload)
                    .context("invalid IPVS_DEST_ATTR_TUN_FLAGS")?
                    .into(),
            ),
            _ => Self::Other(DefaultNla::parse(buf).context("invalid IPVS destination attribute")?),
        })
    }
}
