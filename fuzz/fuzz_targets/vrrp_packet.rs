//! Arbitrary bytes as a received VRRP advert: through `ipv4_datagram` (what
//! a raw IPv4 socket returns) and through `decode` with one of a few IP
//! source/destination pairs of both families (chosen by the first byte).
//! An error, never a panic; and whatever decodes encodes back to bytes of
//! the same length that decode to the same advert, verified the same way.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipvsd::vrrp::packet::{self, Decoded};
use ipvsd::vrrp::{GROUP_V4, GROUP_V6};
use libfuzzer_sys::fuzz_target;

/// IP source and destination pairs: multicast and unicast for each family,
/// and one of mixed families (always refused).
const PAIRS: [(IpAddr, IpAddr); 5] = [
    (
        IpAddr::V4(Ipv4Addr::new(10, 99, 0, 1)),
        IpAddr::V4(GROUP_V4),
    ),
    (
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
    ),
    (
        IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1)),
        IpAddr::V6(GROUP_V6),
    ),
    (
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)),
    ),
    (
        IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1)),
        IpAddr::V4(GROUP_V4),
    ),
];

/// Decodes `bytes`; if that works, re-encodes and decodes again.
fn round_trip(bytes: &[u8], src: IpAddr, dst: IpAddr) {
    let Ok(decoded) = packet::decode(bytes, src, dst) else {
        return;
    };
    let again = packet::encode(&decoded.advert, src, dst, decoded.checksum)
        .expect("a decoded advert encodes");
    assert_eq!(again.len(), bytes.len(), "re-encoded length");
    let redecoded: Decoded = packet::decode(&again, src, dst).expect("a re-encoded advert decodes");
    assert_eq!(redecoded, decoded, "an advert reads back as itself");
}

fuzz_target!(|input: &[u8]| {
    if let Ok(datagram) = packet::ipv4_datagram(input) {
        assert!(datagram.payload.len() <= input.len());
        round_trip(
            datagram.payload,
            IpAddr::V4(datagram.src),
            IpAddr::V4(datagram.dst),
        );
    }
    if let Some((&selector, bytes)) = input.split_first() {
        let (src, dst) = PAIRS[usize::from(selector) % PAIRS.len()];
        round_trip(bytes, src, dst);
    }
});
