//! Attributes of the `GET_INFO` reply (`IPVS_INFO_ATTR_*`), at the top level
//! of a `SET_INFO` message.

use netlink_packet_core::{
    DecodeError, DefaultNla, ErrorContext, Nla, NlaBuffer, Parseable, emit_u32, parse_u32,
};

use crate::constants::*;

/// An attribute of the kernel's IPVS information.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpvsInfoAttr {
    /// `IPVS_INFO_ATTR_VERSION`: `IP_VS_VERSION_CODE`, e.g. 0x010201 for 1.2.1.
    Version(u32),
    /// `IPVS_INFO_ATTR_CONN_TAB_SIZE`: buckets of the connection hash table.
    ConnTabSize(u32),
    /// An attribute this crate does not know.
    Other(DefaultNla),
}

impl Nla for IpvsInfoAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::Version(_) | Self::ConnTabSize(_) => 4,
            Self::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            Self::Version(_) => IPVS_INFO_ATTR_VERSION,
            Self::ConnTabSize(_) => IPVS_INFO_ATTR_CONN_TAB_SIZE,
            Self::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            Self::Version(v) | Self::ConnTabSize(v) => {
                let _ = emit_u32(buffer, *v);
            }
            Self::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for IpvsInfoAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let payload = buf.value();
        Ok(match buf.kind() {
            IPVS_INFO_ATTR_VERSION => {
                Self::Version(parse_u32(payload).context("invalid IPVS_INFO_ATTR_VERSION")?)
            }
            IPVS_INFO_ATTR_CONN_TAB_SIZE => Self::ConnTabSize(
                parse_u32(payload).context("invalid IPVS_INFO_ATTR_CONN_TAB_SIZE")?,
            ),
            _ => Self::Other(DefaultNla::parse(buf).context("invalid IPVS info attribute")?),
        })
    }
}
