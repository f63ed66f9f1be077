//! An IPVS Generic Netlink message: a command and its attributes.

use netlink_packet_core::{
    DecodeError, Emitable, ErrorContext, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NetlinkMessage,
    ParseableParametrized,
};
use netlink_packet_generic::{GenlFamily, GenlHeader, GenlMessage};

use crate::attr::IpvsCmdAttr;
use crate::command::IpvsCmd;
use crate::constants::*;
use crate::info::IpvsInfoAttr;
use crate::nla::parse_all;

/// The attributes of a message. Their numbering depends on the command: the
/// `GET_INFO` reply (`SET_INFO`) carries `IPVS_INFO_ATTR_*` at the top level,
/// every other command `IPVS_CMD_ATTR_*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpvsAttrs {
    /// `IPVS_CMD_ATTR_*`, for every command but `SET_INFO`.
    Cmd(Vec<IpvsCmdAttr>),
    /// `IPVS_INFO_ATTR_*`, for `SET_INFO` (the `GET_INFO` reply).
    Info(Vec<IpvsInfoAttr>),
}

/// A message of the IPVS family (the part after the Generic Netlink header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpvsMessage {
    /// The command.
    pub cmd: IpvsCmd,
    /// The attributes.
    pub attrs: IpvsAttrs,
}

impl IpvsMessage {
    /// A message with command attributes.
    pub fn new(cmd: IpvsCmd, attrs: Vec<IpvsCmdAttr>) -> Self {
        Self {
            cmd,
            attrs: IpvsAttrs::Cmd(attrs),
        }
    }

    /// The command attributes (empty for a `SET_INFO` message).
    pub fn cmd_attrs(&self) -> &[IpvsCmdAttr] {
        match &self.attrs {
            IpvsAttrs::Cmd(attrs) => attrs,
            IpvsAttrs::Info(_) => &[],
        }
    }

    /// The info attributes (empty unless this is a `SET_INFO` message).
    pub fn info_attrs(&self) -> &[IpvsInfoAttr] {
        match &self.attrs {
            IpvsAttrs::Info(attrs) => attrs,
            IpvsAttrs::Cmd(_) => &[],
        }
    }

    /// Wraps the message in Generic Netlink and netlink headers, ready to
    /// serialize: `family_id` is the resolved id of the "IPVS" family.
    ///
    /// A `dump` request gets `NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP`, any other
    /// `NLM_F_REQUEST | NLM_F_ACK`, as ipvsadm sends them.
    pub fn into_netlink(
        self,
        family_id: u16,
        sequence_number: u32,
        port_number: u32,
        dump: bool,
    ) -> NetlinkMessage<GenlMessage<IpvsMessage>> {
        let mut genl = GenlMessage::from_payload(self);
        genl.set_resolved_family_id(family_id);
        let mut nl = NetlinkMessage::from(genl);
        nl.header.flags = NLM_F_REQUEST | NLM_F_ACK | if dump { NLM_F_DUMP } else { 0 };
        nl.header.sequence_number = sequence_number;
        nl.header.port_number = port_number;
        nl.finalize();
        nl
    }
}

/// Size of the netlink header (`struct nlmsghdr`).
const NLMSG_HDRLEN: usize = 16;

impl IpvsMessage {
    /// Appends this message to `out` as a request of the family `family_id`
    /// with `flags` (`NLM_F_*`): the bytes of [`IpvsMessage::into_netlink`]
    /// serialized, written in one pass (each nest's length is written after
    /// its content, not computed before it), for pipelined batches.
    pub fn append_request(
        &self,
        out: &mut Vec<u8>,
        family_id: u16,
        flags: u16,
        sequence_number: u32,
        port_number: u32,
    ) {
        let at = out.len();
        out.extend_from_slice(&[0; 4]); // nlmsg_len, written at the end
        out.extend_from_slice(&family_id.to_ne_bytes());
        out.extend_from_slice(&flags.to_ne_bytes());
        out.extend_from_slice(&sequence_number.to_ne_bytes());
        out.extend_from_slice(&port_number.to_ne_bytes());
        // struct genlmsghdr: cmd, version, reserved.
        out.extend_from_slice(&[self.cmd.into(), IPVS_GENL_VERSION, 0, 0]);
        match &self.attrs {
            IpvsAttrs::Cmd(attrs) => attrs.iter().for_each(|nla| nla.append(out)),
            IpvsAttrs::Info(attrs) => crate::nla::append_nlas(attrs, out),
        }
        let len = (out.len() - at) as u32;
        out[at..at + 4].copy_from_slice(&len.to_ne_bytes());
        debug_assert!(out.len() - at >= NLMSG_HDRLEN + 4);
    }
}

impl GenlFamily for IpvsMessage {
    fn family_name() -> &'static str {
        IPVS_GENL_NAME
    }

    fn command(&self) -> u8 {
        self.cmd.into()
    }

    fn version(&self) -> u8 {
        IPVS_GENL_VERSION
    }
}

impl Emitable for IpvsMessage {
    fn buffer_len(&self) -> usize {
        match &self.attrs {
            IpvsAttrs::Cmd(attrs) => attrs.as_slice().buffer_len(),
            IpvsAttrs::Info(attrs) => attrs.as_slice().buffer_len(),
        }
    }

    fn emit(&self, buffer: &mut [u8]) {
        match &self.attrs {
            IpvsAttrs::Cmd(attrs) => crate::nla::emit_nested(attrs, buffer),
            IpvsAttrs::Info(attrs) => crate::nla::emit_nested(attrs, buffer),
        }
    }
}

impl ParseableParametrized<[u8], GenlHeader> for IpvsMessage {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        let cmd = IpvsCmd::from(header.cmd);
        let attrs = if cmd == IpvsCmd::SetInfo {
            IpvsAttrs::Info(parse_all(buf).context("invalid IPVS_CMD_SET_INFO attributes")?)
        } else {
            IpvsAttrs::Cmd(parse_all(buf).with_context(|| format!("invalid {cmd:?} attributes"))?)
        };
        Ok(Self { cmd, attrs })
    }
}
