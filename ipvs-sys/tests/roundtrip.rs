//! Property tests: every attribute set survives emit-then-parse unchanged, and
//! no byte string, however malformed, makes a decode panic.

use ipvs_sys::netlink_packet_core::{DefaultNla, Emitable, NetlinkMessage, NlaBuffer, Parseable};
use ipvs_sys::netlink_packet_generic::GenlMessage;
use ipvs_sys::{
    IpvsAddressFamily, IpvsAttrs, IpvsCmd, IpvsCmdAttr, IpvsDaemonAttr, IpvsDaemonState,
    IpvsDestAttr, IpvsFlags, IpvsFwdMethod, IpvsInfoAttr, IpvsMessage, IpvsNetmask,
    IpvsServiceAttr, IpvsServiceFlags, IpvsStats64Attr, IpvsStatsAttr, IpvsTunnelFlags,
    IpvsTunnelType,
};
use proptest::collection::vec;
use proptest::prelude::*;

/// An attribute number no set uses, with any payload.
fn unknown_nla() -> impl Strategy<Value = DefaultNla> {
    (100u16..0x3fff, vec(any::<u8>(), 0..24)).prop_map(|(kind, value)| DefaultNla::new(kind, value))
}

fn name(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[a-z0-9_.-]{{0,{max}}}")).expect("valid regex")
}

fn stats() -> impl Strategy<Value = IpvsStatsAttr> {
    prop_oneof![
        any::<u32>().prop_map(IpvsStatsAttr::Conns),
        any::<u32>().prop_map(IpvsStatsAttr::InPkts),
        any::<u32>().prop_map(IpvsStatsAttr::OutPkts),
        any::<u64>().prop_map(IpvsStatsAttr::InBytes),
        any::<u64>().prop_map(IpvsStatsAttr::OutBytes),
        any::<u32>().prop_map(IpvsStatsAttr::Cps),
        any::<u32>().prop_map(IpvsStatsAttr::InPps),
        any::<u32>().prop_map(IpvsStatsAttr::OutPps),
        any::<u32>().prop_map(IpvsStatsAttr::InBps),
        any::<u32>().prop_map(IpvsStatsAttr::OutBps),
        Just(IpvsStatsAttr::Pad),
        unknown_nla().prop_map(IpvsStatsAttr::Other),
    ]
}

fn stats64() -> impl Strategy<Value = IpvsStats64Attr> {
    prop_oneof![
        any::<u64>().prop_map(IpvsStats64Attr::Conns),
        any::<u64>().prop_map(IpvsStats64Attr::InPkts),
        any::<u64>().prop_map(IpvsStats64Attr::OutPkts),
        any::<u64>().prop_map(IpvsStats64Attr::InBytes),
        any::<u64>().prop_map(IpvsStats64Attr::OutBytes),
        any::<u64>().prop_map(IpvsStats64Attr::Cps),
        any::<u64>().prop_map(IpvsStats64Attr::InPps),
        any::<u64>().prop_map(IpvsStats64Attr::OutPps),
        any::<u64>().prop_map(IpvsStats64Attr::InBps),
        any::<u64>().prop_map(IpvsStats64Attr::OutBps),
        Just(IpvsStats64Attr::Pad),
        unknown_nla().prop_map(IpvsStats64Attr::Other),
    ]
}

/// An address family: the named ones often, any other number too.
fn family() -> impl Strategy<Value = IpvsAddressFamily> {
    prop_oneof![
        Just(IpvsAddressFamily::Inet),
        Just(IpvsAddressFamily::Inet6),
        any::<u16>().prop_map(IpvsAddressFamily::from),
    ]
}

/// A forwarding method: the named ones often, any other value (other
/// connection flag bits included) too.
fn fwd_method() -> impl Strategy<Value = IpvsFwdMethod> {
    prop_oneof![
        (0u32..=4).prop_map(IpvsFwdMethod::from),
        any::<u32>().prop_map(IpvsFwdMethod::from),
    ]
}

fn tunnel_type() -> impl Strategy<Value = IpvsTunnelType> {
    prop_oneof![
        (0u8..=3).prop_map(IpvsTunnelType::from),
        any::<u8>().prop_map(IpvsTunnelType::from),
    ]
}

fn service_flags() -> impl Strategy<Value = IpvsServiceFlags> {
    prop_oneof![
        (0u32..0x40).prop_map(IpvsServiceFlags::from_bits_retain),
        any::<u32>().prop_map(IpvsServiceFlags::from_bits_retain),
    ]
}

fn service() -> impl Strategy<Value = IpvsServiceAttr> {
    prop_oneof![
        family().prop_map(IpvsServiceAttr::Af),
        any::<u16>().prop_map(IpvsServiceAttr::Protocol),
        any::<[u8; 16]>().prop_map(IpvsServiceAttr::Addr),
        any::<u16>().prop_map(IpvsServiceAttr::Port),
        any::<u32>().prop_map(IpvsServiceAttr::Fwmark),
        name(15).prop_map(IpvsServiceAttr::SchedName),
        (service_flags(), service_flags())
            .prop_map(|(flags, mask)| IpvsServiceAttr::Flags(IpvsFlags { flags, mask })),
        any::<u32>().prop_map(IpvsServiceAttr::Timeout),
        any::<[u8; 4]>().prop_map(|b| IpvsServiceAttr::Netmask(IpvsNetmask(b))),
        vec(stats(), 0..12).prop_map(IpvsServiceAttr::Stats),
        name(15).prop_map(IpvsServiceAttr::PeName),
        vec(stats64(), 0..12).prop_map(IpvsServiceAttr::Stats64),
        unknown_nla().prop_map(IpvsServiceAttr::Other),
    ]
}

fn dest() -> impl Strategy<Value = IpvsDestAttr> {
    prop_oneof![
        any::<[u8; 16]>().prop_map(IpvsDestAttr::Addr),
        any::<u16>().prop_map(IpvsDestAttr::Port),
        fwd_method().prop_map(IpvsDestAttr::FwdMethod),
        any::<u32>().prop_map(IpvsDestAttr::Weight),
        any::<u32>().prop_map(IpvsDestAttr::UThresh),
        any::<u32>().prop_map(IpvsDestAttr::LThresh),
        any::<u32>().prop_map(IpvsDestAttr::ActiveConns),
        any::<u32>().prop_map(IpvsDestAttr::InactConns),
        any::<u32>().prop_map(IpvsDestAttr::PersistConns),
        vec(stats(), 0..12).prop_map(IpvsDestAttr::Stats),
        family().prop_map(IpvsDestAttr::AddrFamily),
        vec(stats64(), 0..12).prop_map(IpvsDestAttr::Stats64),
        tunnel_type().prop_map(IpvsDestAttr::TunType),
        any::<u16>().prop_map(IpvsDestAttr::TunPort),
        (0u16..4, any::<u16>()).prop_map(|(low, any)| IpvsDestAttr::TunFlags(
            IpvsTunnelFlags::from_bits_retain(if any % 2 == 0 { low } else { any })
        )),
        unknown_nla().prop_map(IpvsDestAttr::Other),
    ]
}

fn daemon() -> impl Strategy<Value = IpvsDaemonAttr> {
    prop_oneof![
        prop_oneof![0u32..4, any::<u32>()]
            .prop_map(|bits| IpvsDaemonAttr::State(IpvsDaemonState::from_bits_retain(bits))),
        name(15).prop_map(IpvsDaemonAttr::McastIfn),
        any::<u32>().prop_map(IpvsDaemonAttr::SyncId),
        any::<u16>().prop_map(IpvsDaemonAttr::SyncMaxlen),
        any::<[u8; 4]>().prop_map(|b| IpvsDaemonAttr::McastGroup(b.into())),
        any::<[u8; 16]>().prop_map(|b| IpvsDaemonAttr::McastGroup6(b.into())),
        any::<u16>().prop_map(IpvsDaemonAttr::McastPort),
        any::<u8>().prop_map(IpvsDaemonAttr::McastTtl),
        unknown_nla().prop_map(IpvsDaemonAttr::Other),
    ]
}

fn info() -> impl Strategy<Value = IpvsInfoAttr> {
    prop_oneof![
        any::<u32>().prop_map(IpvsInfoAttr::Version),
        any::<u32>().prop_map(IpvsInfoAttr::ConnTabSize),
        unknown_nla().prop_map(IpvsInfoAttr::Other),
    ]
}

fn cmd_attr() -> impl Strategy<Value = IpvsCmdAttr> {
    prop_oneof![
        vec(service(), 0..14).prop_map(IpvsCmdAttr::Service),
        vec(dest(), 0..16).prop_map(IpvsCmdAttr::Dest),
        vec(daemon(), 0..9).prop_map(IpvsCmdAttr::Daemon),
        any::<u32>().prop_map(IpvsCmdAttr::TimeoutTcp),
        any::<u32>().prop_map(IpvsCmdAttr::TimeoutTcpFin),
        any::<u32>().prop_map(IpvsCmdAttr::TimeoutUdp),
        unknown_nla().prop_map(IpvsCmdAttr::Other),
    ]
}

fn message() -> impl Strategy<Value = IpvsMessage> {
    prop_oneof![
        (
            any::<u8>().prop_filter("not SET_INFO", |c| *c != 14),
            vec(cmd_attr(), 0..6)
        )
            .prop_map(|(cmd, attrs)| IpvsMessage::new(IpvsCmd::from(cmd), attrs)),
        vec(info(), 0..4).prop_map(|attrs| IpvsMessage {
            cmd: IpvsCmd::SetInfo,
            attrs: IpvsAttrs::Info(attrs)
        }),
    ]
}

/// Emits one attribute and parses it back.
fn round_trip<T>(attr: &T) -> T
where
    T: Emitable + for<'a> Parseable<NlaBuffer<&'a [u8]>>,
{
    let mut buf = vec![0; attr.buffer_len()];
    attr.emit(&mut buf);
    let nla = NlaBuffer::new_checked(&buf[..]).expect("a whole attribute");
    T::parse(&nla).expect("parses back")
}

proptest! {
    #[test]
    fn stats_attrs_round_trip(attr in stats()) { prop_assert_eq!(round_trip(&attr), attr); }

    #[test]
    fn stats64_attrs_round_trip(attr in stats64()) { prop_assert_eq!(round_trip(&attr), attr); }

    #[test]
    fn service_attrs_round_trip(attr in service()) { prop_assert_eq!(round_trip(&attr), attr); }

    #[test]
    fn dest_attrs_round_trip(attr in dest()) { prop_assert_eq!(round_trip(&attr), attr); }

    #[test]
    fn daemon_attrs_round_trip(attr in daemon()) { prop_assert_eq!(round_trip(&attr), attr); }

    #[test]
    fn info_attrs_round_trip(attr in info()) { prop_assert_eq!(round_trip(&attr), attr); }

    #[test]
    fn cmd_attrs_round_trip(attr in cmd_attr()) { prop_assert_eq!(round_trip(&attr), attr); }

    #[test]
    fn whole_messages_round_trip(msg in message(), seq in any::<u32>(), port in any::<u32>(), dump in any::<bool>()) {
        let nl = msg.clone().into_netlink(0x20, seq, port, dump);
        let mut buf = vec![0; nl.buffer_len()];
        nl.serialize(&mut buf);
        let parsed = NetlinkMessage::<GenlMessage<IpvsMessage>>::deserialize(&buf).expect("parses back");
        prop_assert_eq!(parsed.header.sequence_number, seq);
        let ipvs_sys::netlink_packet_core::NetlinkPayload::InnerMessage(genl) = parsed.payload else {
            panic!("not a family message")
        };
        prop_assert_eq!(genl.payload, msg);
    }

    #[test]
    fn one_pass_requests_are_the_serialized_messages(
        msg in message(),
        family in any::<u16>(),
        seq in any::<u32>(),
        port in any::<u32>(),
        dump in any::<bool>(),
    ) {
        // What the pipelined batches and single requests send
        // (append_request) must be byte for byte what netlink-packet-core
        // serializes for the same message.
        let mut nl = msg.clone().into_netlink(family, seq, port, dump);
        nl.finalize();
        let mut expected = vec![0; nl.buffer_len()];
        nl.serialize(&mut expected);
        let flags = nl.header.flags;
        let mut out = vec![0xAA; 3]; // appended after what is there
        msg.append_request(&mut out, family, flags, seq, port);
        prop_assert_eq!(&out[..3], &[0xAA; 3][..]);
        prop_assert_eq!(&out[3..], &expected[..]);
    }

    /// Every value of a typed payload converts back to the same number,
    /// named or not, and a named number becomes its named variant.
    #[test]
    fn typed_payloads_keep_every_value(v16 in any::<u16>(), v32 in any::<u32>(), v8 in any::<u8>()) {
        let af = IpvsAddressFamily::from(v16);
        prop_assert_eq!(u16::from(af), v16);
        prop_assert_eq!(matches!(af, IpvsAddressFamily::Other(_)), v16 != 2 && v16 != 10);
        let fwd = IpvsFwdMethod::from(v32);
        prop_assert_eq!(u32::from(fwd), v32);
        prop_assert_eq!(matches!(fwd, IpvsFwdMethod::Other(_)), v32 > 4);
        prop_assert_eq!(u32::from(fwd.masked()), v32 & 7);
        let tun = IpvsTunnelType::from(v8);
        prop_assert_eq!(u8::from(tun), v8);
        prop_assert_eq!(matches!(tun, IpvsTunnelType::Other(_)), v8 > 2);
        prop_assert_eq!(IpvsTunnelFlags::from(v16).bits(), v16);
        prop_assert_eq!(IpvsDaemonState::from(v32).bits(), v32);
        prop_assert_eq!(IpvsServiceFlags::from(v32).bits(), v32);
    }

    /// An unknown value survives emit then parse as the very same value.
    #[test]
    fn unknown_values_survive_the_wire(v16 in 11u16.., v32 in 5u32.., v8 in 3u8..) {
        let attrs = [
            IpvsDestAttr::AddrFamily(v16.into()),
            IpvsDestAttr::FwdMethod(v32.into()),
            IpvsDestAttr::TunType(v8.into()),
            IpvsDestAttr::TunFlags(IpvsTunnelFlags::from_bits_retain(v16)),
        ];
        for attr in attrs {
            prop_assert_eq!(round_trip(&attr), attr);
        }
        let state = IpvsDaemonAttr::State(IpvsDaemonState::from_bits_retain(v32));
        prop_assert_eq!(round_trip(&state), state);
        let flags = IpvsServiceAttr::Flags(IpvsFlags {
            flags: IpvsServiceFlags::from_bits_retain(v32),
            mask: IpvsServiceFlags::from_bits_retain(!v32),
        });
        prop_assert_eq!(round_trip(&flags), flags);
    }

    /// Random bytes never panic the decoder; they parse or give an error.
    #[test]
    fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..512)) {
        let _ = NetlinkMessage::<GenlMessage<IpvsMessage>>::deserialize(&bytes);
    }

    /// Valid messages with bytes flipped or cut never panic the decoder either.
    #[test]
    fn damaged_messages_never_panic(
        msg in message(),
        flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let nl = msg.into_netlink(0x20, 1, 1, false);
        let mut buf = vec![0; nl.buffer_len()];
        nl.serialize(&mut buf);
        for (at, byte) in flips {
            let i = at.index(buf.len());
            buf[i] ^= byte;
        }
        let len = cut.index(buf.len() + 1);
        let _ = NetlinkMessage::<GenlMessage<IpvsMessage>>::deserialize(&buf[..len]);
    }
}
