//! Statistics (`IPVS_STATS_ATTR_*`), nested in the `STATS` and `STATS64`
//! attributes of services and destinations. Output only.

use netlink_packet_core::{
    DecodeError, DefaultNla, ErrorContext, Nla, NlaBuffer, Parseable, emit_u32, emit_u64,
    parse_u32, parse_u64,
};

use crate::constants::*;

/// One counter of the 32-bit `STATS` nest: packet counts and rates are u32,
/// byte counts u64, all in host byte order. Rates are the estimator's values
/// (per second, averaged over about two seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpvsStatsAttr {
    /// `IPVS_STATS_ATTR_CONNS`: connections scheduled.
    Conns(u32),
    /// `IPVS_STATS_ATTR_INPKTS`: incoming packets.
    InPkts(u32),
    /// `IPVS_STATS_ATTR_OUTPKTS`: outgoing packets.
    OutPkts(u32),
    /// `IPVS_STATS_ATTR_INBYTES`: incoming bytes.
    InBytes(u64),
    /// `IPVS_STATS_ATTR_OUTBYTES`: outgoing bytes.
    OutBytes(u64),
    /// `IPVS_STATS_ATTR_CPS`: connections per second.
    Cps(u32),
    /// `IPVS_STATS_ATTR_INPPS`: incoming packets per second.
    InPps(u32),
    /// `IPVS_STATS_ATTR_OUTPPS`: outgoing packets per second.
    OutPps(u32),
    /// `IPVS_STATS_ATTR_INBPS`: incoming bytes per second.
    InBps(u32),
    /// `IPVS_STATS_ATTR_OUTBPS`: outgoing bytes per second.
    OutBps(u32),
    /// `IPVS_STATS_ATTR_PAD`: zero-length alignment padding before a u64.
    Pad,
    /// An attribute this crate does not know.
    Other(DefaultNla),
}

/// One counter of the `STATS64` nest (kernel 4.1+): every value is a host-order u64.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpvsStats64Attr {
    /// `IPVS_STATS_ATTR_CONNS`: connections scheduled.
    Conns(u64),
    /// `IPVS_STATS_ATTR_INPKTS`: incoming packets.
    InPkts(u64),
    /// `IPVS_STATS_ATTR_OUTPKTS`: outgoing packets.
    OutPkts(u64),
    /// `IPVS_STATS_ATTR_INBYTES`: incoming bytes.
    InBytes(u64),
    /// `IPVS_STATS_ATTR_OUTBYTES`: outgoing bytes.
    OutBytes(u64),
    /// `IPVS_STATS_ATTR_CPS`: connections per second.
    Cps(u64),
    /// `IPVS_STATS_ATTR_INPPS`: incoming packets per second.
    InPps(u64),
    /// `IPVS_STATS_ATTR_OUTPPS`: outgoing packets per second.
    OutPps(u64),
    /// `IPVS_STATS_ATTR_INBPS`: incoming bytes per second.
    InBps(u64),
    /// `IPVS_STATS_ATTR_OUTBPS`: outgoing bytes per second.
    OutBps(u64),
    /// `IPVS_STATS_ATTR_PAD`: zero-length alignment padding before a u64.
    Pad,
    /// An attribute this crate does not know.
    Other(DefaultNla),
}

impl Nla for IpvsStatsAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::InBytes(_) | Self::OutBytes(_) => 8,
            Self::Pad => 0,
            Self::Other(nla) => nla.value_len(),
            _ => 4,
        }
    }

    fn kind(&self) -> u16 {
        match self {
            Self::Conns(_) => IPVS_STATS_ATTR_CONNS,
            Self::InPkts(_) => IPVS_STATS_ATTR_INPKTS,
            Self::OutPkts(_) => IPVS_STATS_ATTR_OUTPKTS,
            Self::InBytes(_) => IPVS_STATS_ATTR_INBYTES,
            Self::OutBytes(_) => IPVS_STATS_ATTR_OUTBYTES,
            Self::Cps(_) => IPVS_STATS_ATTR_CPS,
            Self::InPps(_) => IPVS_STATS_ATTR_INPPS,
            Self::OutPps(_) => IPVS_STATS_ATTR_OUTPPS,
            Self::InBps(_) => IPVS_STATS_ATTR_INBPS,
            Self::OutBps(_) => IPVS_STATS_ATTR_OUTBPS,
            Self::Pad => IPVS_STATS_ATTR_PAD,
            Self::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        // The buffer is exactly `value_len()` long, so the emits cannot fail.
        let _ = match self {
            Self::Conns(v)
            | Self::InPkts(v)
            | Self::OutPkts(v)
            | Self::Cps(v)
            | Self::InPps(v)
            | Self::OutPps(v)
            | Self::InBps(v)
            | Self::OutBps(v) => emit_u32(buffer, *v),
            Self::InBytes(v) | Self::OutBytes(v) => emit_u64(buffer, *v),
            Self::Pad => Ok(()),
            Self::Other(nla) => {
                nla.emit_value(buffer);
                Ok(())
            }
        };
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for IpvsStatsAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let payload = buf.value();
        Ok(match buf.kind() {
            IPVS_STATS_ATTR_CONNS => {
                Self::Conns(parse_u32(payload).context("invalid IPVS_STATS_ATTR_CONNS")?)
            }
            IPVS_STATS_ATTR_INPKTS => {
                Self::InPkts(parse_u32(payload).context("invalid IPVS_STATS_ATTR_INPKTS")?)
            }
            IPVS_STATS_ATTR_OUTPKTS => {
                Self::OutPkts(parse_u32(payload).context("invalid IPVS_STATS_ATTR_OUTPKTS")?)
            }
            IPVS_STATS_ATTR_INBYTES => {
                Self::InBytes(parse_u64(payload).context("invalid IPVS_STATS_ATTR_INBYTES")?)
            }
            IPVS_STATS_ATTR_OUTBYTES => {
                Self::OutBytes(parse_u64(payload).context("invalid IPVS_STATS_ATTR_OUTBYTES")?)
            }
            IPVS_STATS_ATTR_CPS => {
                Self::Cps(parse_u32(payload).context("invalid IPVS_STATS_ATTR_CPS")?)
            }
            IPVS_STATS_ATTR_INPPS => {
                Self::InPps(parse_u32(payload).context("invalid IPVS_STATS_ATTR_INPPS")?)
            }
            IPVS_STATS_ATTR_OUTPPS => {
                Self::OutPps(parse_u32(payload).context("invalid IPVS_STATS_ATTR_OUTPPS")?)
            }
            IPVS_STATS_ATTR_INBPS => {
                Self::InBps(parse_u32(payload).context("invalid IPVS_STATS_ATTR_INBPS")?)
            }
            IPVS_STATS_ATTR_OUTBPS => {
                Self::OutBps(parse_u32(payload).context("invalid IPVS_STATS_ATTR_OUTBPS")?)
            }
            IPVS_STATS_ATTR_PAD if payload.is_empty() => Self::Pad,
            _ => Self::Other(DefaultNla::parse(buf).context("invalid IPVS stats attribute")?),
        })
    }
}

impl Nla for IpvsStats64Attr {
    fn value_len(&self) -> usize {
        match self {
            Self::Pad => 0,
            Self::Other(nla) => nla.value_len(),
            _ => 8,
        }
    }

    fn kind(&self) -> u16 {
        match self {
            Self::Conns(_) => IPVS_STATS_ATTR_CONNS,
            Self::InPkts(_) => IPVS_STATS_ATTR_INPKTS,
            Self::OutPkts(_) => IPVS_STATS_ATTR_OUTPKTS,
            Self::InBytes(_) => IPVS_STATS_ATTR_INBYTES,
            Self::OutBytes(_) => IPVS_STATS_ATTR_OUTBYTES,
            Self::Cps(_) => IPVS_STATS_ATTR_CPS,
            Self::InPps(_) => IPVS_STATS_ATTR_INPPS,
            Self::OutPps(_) => IPVS_STATS_ATTR_OUTPPS,
            Self::InBps(_) => IPVS_STATS_ATTR_INBPS,
            Self::OutBps(_) => IPVS_STATS_ATTR_OUTBPS,
            Self::Pad => IPVS_STATS_ATTR_PAD,
            Self::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            Self::Conns(v)
            | Self::InPkts(v)
            | Self::OutPkts(v)
            | Self::InBytes(v)
            | Self::OutBytes(v)
            | Self::Cps(v)
            | Self::InPps(v)
            | Self::OutPps(v)
            | Self::InBps(v)
            | Self::OutBps(v) => {
                let _ = emit_u64(buffer, *v);
            }
            Self::Pad => {}
            Self::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for IpvsStats64Attr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let payload = buf.value();
        let value = |name: &'static str| parse_u64(payload).context(name);
        Ok(match buf.kind() {
            IPVS_STATS_ATTR_CONNS => Self::Conns(value("invalid IPVS_STATS_ATTR_CONNS (64-bit)")?),
            IPVS_STATS_ATTR_INPKTS => {
                Self::InPkts(value("invalid IPVS_STATS_ATTR_INPKTS (64-bit)")?)
            }
            IPVS_STATS_ATTR_OUTPKTS => {
                Self::OutPkts(value("invalid IPVS_STATS_ATTR_OUTPKTS (64-bit)")?)
            }
            IPVS_STATS_ATTR_INBYTES => {
                Self::InBytes(value("invalid IPVS_STATS_ATTR_INBYTES (64-bit)")?)
            }
            IPVS_STATS_ATTR_OUTBYTES => {
                Self::OutBytes(value("invalid IPVS_STATS_ATTR_OUTBYTES (64-bit)")?)
            }
            IPVS_STATS_ATTR_CPS => Self::Cps(value("invalid IPVS_STATS_ATTR_CPS (64-bit)")?),
            IPVS_STATS_ATTR_INPPS => Self::InPps(value("invalid IPVS_STATS_ATTR_INPPS (64-bit)")?),
            IPVS_STATS_ATTR_OUTPPS => {
                Self::OutPps(value("invalid IPVS_STATS_ATTR_OUTPPS (64-bit)")?)
            }
            IPVS_STATS_ATTR_INBPS => Self::InBps(value("invalid IPVS_STATS_ATTR_INBPS (64-bit)")?),
            IPVS_STATS_ATTR_OUTBPS => {
                Self::OutBps(value("invalid IPVS_STATS_ATTR_OUTBPS (64-bit)")?)
            }
            IPVS_STATS_ATTR_PAD if payload.is_empty() => Self::Pad,
            _ => Self::Other(DefaultNla::parse(buf).context("invalid IPVS stats attribute")?),
        })
    }
}
