//! The VRRP network edge against the real kernel: two fresh network
//! namespaces joined by a veth pair, adverts sent by one channel and
//! received by the other, virtual addresses checked with `ip -o addr`, and
//! gratuitous ARP / unsolicited NA captured on the peer with a packet socket.
//!
//! Needs root (namespaces, raw and packet sockets); prints "skipped: needs
//! root" and passes otherwise.

use std::fs::File;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::time::{Duration, Instant};

use ipvsd::vrrp::net::{Addressing, Channel, Family, NetError, Received, address, announce};
use ipvsd::vrrp::{GROUP_V4, GROUP_V6, PROTOCOL};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use testbed::netns::{Namespace, enter};

/// keepalived's v3 advert for VRID 51 (the reference's capture); the edge
/// does not look inside it.
const ADVERT: [u8; 12] = [
    0x31, 0x33, 0x96, 0x01, 0x00, 0x64, 0x42, 0xad, 10, 99, 0, 100,
];

const A4: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
const B4: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);
const A6: Ipv6Addr = Ipv6Addr::new(0xfd77, 0, 0, 0, 0, 0, 0, 1);
const B6: Ipv6Addr = Ipv6Addr::new(0xfd77, 0, 0, 0, 0, 0, 0, 2);

fn root() -> bool {
    if nix::unistd::geteuid().is_root() {
        true
    } else {
        eprintln!("skipped: needs root");
        false
    }
}

/// Two namespaces, `va` in `a` and `vb` in `b`, joined by a veth pair with
/// 10.77.0.1/24 + fd77::1/64 and 10.77.0.2/24 + fd77::2/64, DAD off (the
/// link-local addresses are usable at once), up.
struct Pair {
    a: Namespace,
    b: Namespace,
}

impl Pair {
    fn new() -> Pair {
        let a = Namespace::new("vrrp-net-a").unwrap();
        let b = Namespace::new("vrrp-net-b").unwrap();
        for ns in [&a, &b] {
            ns.sysctl("net/ipv6/conf/all/accept_dad", "0").unwrap();
            ns.sysctl("net/ipv6/conf/default/accept_dad", "0").unwrap();
        }
        a.ip(&[
            "link",
            "add",
            "va",
            "type",
            "veth",
            "peer",
            "name",
            "vb",
            "netns",
            b.name(),
        ])
        .unwrap();
        for (ns, dev, v4, v6) in [(&a, "va", A4, A6), (&b, "vb", B4, B6)] {
            ns.ip(&["addr", "add", &format!("{v4}/24"), "dev", dev])
                .unwrap();
            ns.ip(&["addr", "add", &format!("{v6}/64"), "dev", dev])
                .unwrap();
            ns.ip(&["link", "set", dev, "up"]).unwrap();
        }
        let pair = Pair { a, b };
        for (ns, dev) in [(&pair.a, "va"), (&pair.b, "vb")] {
            wait_for(|| {
                let out = ip_out(ns, &["-6", "-o", "addr", "show", "dev", dev]);
                out.contains("fd77::") && out.contains("fe80::") && !out.contains("tentative")
            });
        }
        pair
    }

    /// `va`'s IPv6 link-local address, as `ip` shows it.
    fn link_local(&self, ns: &Namespace, dev: &str) -> Ipv6Addr {
        let out = ip_out(
            ns,
            &["-6", "-o", "addr", "show", "dev", dev, "scope", "link"],
        );
        let word = out
            .split_whitespace()
            .find(|w| w.starts_with("fe80::"))
            .unwrap_or_else(|| panic!("no link-local address on {dev}: {out}"));
        word.split('/').next().unwrap().parse().unwrap()
    }
}

/// `ip -n NS ARGS`'s standard output.
fn ip_out(ns: &Namespace, args: &[&str]) -> String {
    let out = std::process::Command::new("ip")
        .arg("-n")
        .arg(ns.name())
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "ip {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The hardware address `ip` shows for `dev`.
fn mac_of(ns: &Namespace, dev: &str) -> [u8; 6] {
    let out = ip_out(ns, &["-o", "link", "show", dev]);
    let mut words = out.split_whitespace();
    words.find(|w| *w == "link/ether").unwrap();
    let text = words.next().unwrap();
    let mut mac = [0u8; 6];
    for (byte, part) in mac.iter_mut().zip(text.split(':')) {
        *byte = u8::from_str_radix(part, 16).unwrap();
    }
    mac
}

fn wait_for(mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `f` on a new thread (which may move between namespaces) with a
/// current-thread tokio runtime entered.
fn on_thread<T: Send>(f: impl FnOnce(&tokio::runtime::Runtime) -> T + Send) -> T {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                let _guard = runtime.enter();
                f(&runtime)
            })
            .join()
            .unwrap()
    })
}

fn go_to(ns: &Namespace) {
    enter(&File::open(ns.path()).unwrap()).unwrap();
}

/// Opens a channel on `va` in `a` and one on `vb` in `b`, sends
/// [`ADVERT`] from the first and returns the first's source and what the
/// second received.
fn exchange(pair: &Pair, family: Family, from: Addressing, to: Addressing) -> (IpAddr, Received) {
    on_thread(|runtime| {
        go_to(&pair.a);
        let sender = Channel::open("va", family, from).unwrap();
        go_to(&pair.b);
        let receiver = Channel::open("vb", family, to).unwrap();
        let received = runtime.block_on(async {
            sender.send(&ADVERT).await.unwrap();
            tokio::time::timeout(Duration::from_secs(5), receiver.recv())
                .await
                .expect("no advert within 5 s")
                .unwrap()
        });
        (sender.source(), received)
    })
}

#[test]
fn ipv4_multicast_advert_arrives_with_ttl_255_from_the_first_address() {
    if !root() {
        return;
    }
    let pair = Pair::new();
    let (source, received) = exchange(
        &pair,
        Family::V4,
        Addressing::default(),
        Addressing::default(),
    );
    assert_eq!(source, IpAddr::V4(A4));
    assert_eq!(received.src, IpAddr::V4(A4));
    assert_eq!(received.dst, IpAddr::V4(GROUP_V4));
    assert_eq!(received.hop_limit, 255);
    assert_eq!(received.payload, ADVERT);

    // `mcast_src_ip`: multicast from a second address of the interface.
    let second = Ipv4Addr::new(10, 77, 0, 12);
    pair.a
        .ip(&["addr", "add", &format!("{second}/24"), "dev", "va"])
        .unwrap();
    let from = Addressing {
        source: Some(IpAddr::V4(second)),
        unicast_peers: Vec::new(),
    };
    let (source, received) = exchange(&pair, Family::V4, from, Addressing::default());
    assert_eq!(source, IpAddr::V4(second));
    assert_eq!(received.src, IpAddr::V4(second));
    assert_eq!(received.dst, IpAddr::V4(GROUP_V4));
}

#[test]
fn ipv4_unicast_advert_goes_to_the_peer_from_the_configured_source() {
    if !root() {
        return;
    }
    let pair = Pair::new();
    let peers = |p: Ipv4Addr| Addressing {
        source: None,
        unicast_peers: vec![IpAddr::V4(p)],
    };
    let (source, received) = exchange(&pair, Family::V4, peers(B4), peers(A4));
    assert_eq!(source, IpAddr::V4(A4));
    assert_eq!(received.src, IpAddr::V4(A4));
    assert_eq!(received.dst, IpAddr::V4(B4));
    assert_eq!(received.hop_limit, 255);
    assert_eq!(received.payload, ADVERT);

    // `unicast_src_ip`: a second address of the interface.
    let second = Ipv4Addr::new(10, 77, 0, 11);
    pair.a
        .ip(&["addr", "add", &format!("{second}/24"), "dev", "va"])
        .unwrap();
    let from = Addressing {
        source: Some(IpAddr::V4(second)),
        unicast_peers: vec![IpAddr::V4(B4)],
    };
    let (source, received) = exchange(&pair, Family::V4, from, peers(A4));
    assert_eq!(source, IpAddr::V4(second));
    assert_eq!(received.src, IpAddr::V4(second));
    assert_eq!(received.dst, IpAddr::V4(B4));
    assert_eq!(received.hop_limit, 255);
}

#[test]
fn ipv6_multicast_advert_arrives_with_hop_limit_255_from_the_link_local_address() {
    if !root() {
        return;
    }
    let pair = Pair::new();
    let link_local = pair.link_local(&pair.a, "va");
    let (source, received) = exchange(
        &pair,
        Family::V6,
        Addressing::default(),
        Addressing::default(),
    );
    assert_eq!(source, IpAddr::V6(link_local));
    assert_eq!(received.src, IpAddr::V6(link_local));
    assert_eq!(received.dst, IpAddr::V6(GROUP_V6));
    assert_eq!(received.hop_limit, 255);
    assert_eq!(received.payload, ADVERT);
}

#[test]
fn ipv6_unicast_advert_goes_to_the_peer() {
    if !root() {
        return;
    }
    let pair = Pair::new();
    let a_ll = pair.link_local(&pair.a, "va");
    let b_ll = pair.link_local(&pair.b, "vb");
    // Link-local peers, the default source.
    let to_peer = |p: Ipv6Addr| Addressing {
        source: None,
        unicast_peers: vec![IpAddr::V6(p)],
    };
    let (source, received) = exchange(&pair, Family::V6, to_peer(b_ll), to_peer(a_ll));
    assert_eq!(source, IpAddr::V6(a_ll));
    assert_eq!(received.src, IpAddr::V6(a_ll));
    assert_eq!(received.dst, IpAddr::V6(b_ll));
    assert_eq!(received.hop_limit, 255);
    assert_eq!(received.payload, ADVERT);

    // Global peers with `unicast_src_ip`.
    let from = Addressing {
        source: Some(IpAddr::V6(A6)),
        unicast_peers: vec![IpAddr::V6(B6)],
    };
    let (source, received) = exchange(&pair, Family::V6, from, to_peer(A6));
    assert_eq!(source, IpAddr::V6(A6));
    assert_eq!(received.src, IpAddr::V6(A6));
    assert_eq!(received.dst, IpAddr::V6(B6));
    assert_eq!(received.hop_limit, 255);
    assert_eq!(received.payload, ADVERT);
}

#[test]
fn a_datagram_sent_with_ttl_64_arrives_with_hop_limit_64() {
    if !root() {
        return;
    }
    let pair = Pair::new();
    let (v4, v6) = on_thread(|runtime| {
        go_to(&pair.b);
        let receiver4 = Channel::open("vb", Family::V4, Addressing::default()).unwrap();
        let receiver6 = Channel::open("vb", Family::V6, Addressing::default()).unwrap();
        go_to(&pair.a);
        let protocol = Some(Protocol::from(i32::from(PROTOCOL)));
        let plain4 = Socket::new(Domain::IPV4, Type::RAW, protocol).unwrap();
        plain4.set_ttl_v4(64).unwrap();
        plain4
            .send_to(&ADVERT, &SockAddr::from(SocketAddrV4::new(B4, 0)))
            .unwrap();
        let plain6 = Socket::new(Domain::IPV6, Type::RAW, protocol).unwrap();
        plain6.set_unicast_hops_v6(64).unwrap();
        plain6
            .send_to(&ADVERT, &SockAddr::from(SocketAddrV6::new(B6, 0, 0, 0)))
            .unwrap();
        runtime.block_on(async {
            let within = Duration::from_secs(5);
            let v4 = tokio::time::timeout(within, receiver4.recv()).await;
            let v6 = tokio::time::timeout(within, receiver6.recv()).await;
            (v4.unwrap().unwrap(), v6.unwrap().unwrap())
        })
    });
    assert_eq!(v4.hop_limit, 64);
    assert_eq!((v4.src, v4.dst), (IpAddr::V4(A4), IpAddr::V4(B4)));
    assert_eq!(v4.payload, ADVERT);
    assert_eq!(v6.hop_limit, 64);
    assert_eq!((v6.src, v6.dst), (IpAddr::V6(A6), IpAddr::V6(B6)));
    assert_eq!(v6.payload, ADVERT);
}

#[test]
fn open_names_the_interface_when_it_is_missing_or_has_no_address() {
    if !root() {
        return;
    }
    let ns = Namespace::new("vrrp-net-open").unwrap();
    ns.ip(&[
        "link", "add", "bare0", "type", "veth", "peer", "name", "bare1",
    ])
    .unwrap();
    on_thread(|_| {
        go_to(&ns);
        match Channel::open("nosuch0", Family::V4, Addressing::default()) {
            Err(NetError::NoInterface { interface }) => assert_eq!(interface, "nosuch0"),
            other => panic!("expected NoInterface, got {other:?}"),
        }
        match Channel::open("bare0", Family::V4, Addressing::default()) {
            Err(e @ NetError::NoAddress { .. }) => {
                assert!(e.to_string().contains("bare0"), "{e}");
            }
            other => panic!("expected NoAddress, got {other:?}"),
        }
        // Down, so no link-local address either.
        assert!(matches!(
            Channel::open("bare0", Family::V6, Addressing::default()),
            Err(NetError::NoAddress { .. })
        ));
        let v6_peer = Addressing {
            source: None,
            unicast_peers: vec!["fe80::1".parse().unwrap()],
        };
        ns.ip(&["addr", "add", "10.66.0.1/24", "dev", "bare0"])
            .unwrap();
        assert!(matches!(
            Channel::open("bare0", Family::V4, v6_peer),
            Err(NetError::WrongFamily { .. })
        ));
    });
    // Outside a runtime: a typed error, not a panic.
    let outside = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                go_to(&ns);
                Channel::open("bare0", Family::V4, Addressing::default())
            })
            .join()
            .unwrap()
    });
    assert!(
        matches!(outside, Err(NetError::NoRuntime { .. })),
        "{outside:?}"
    );
}

/// The lines of `ip -o addr show dev DEV` that hold `address/prefix`.
fn lines_with(ns: &Namespace, dev: &str, with: &str) -> Vec<String> {
    ip_out(ns, &["-o", "addr", "show", "dev", dev])
        .lines()
        .filter(|l| l.split_whitespace().any(|w| w == with))
        .map(str::to_owned)
        .collect()
}

#[test]
fn addresses_are_added_and_removed_idempotently() {
    if !root() {
        return;
    }
    let ns = Namespace::new("vrrp-net-addr").unwrap();
    // DAD on (the default), carrier up: an IPv6 address added without
    // NODAD would show `tentative` for a second.
    ns.ip(&["link", "add", "x0", "type", "veth", "peer", "name", "x1"])
        .unwrap();
    ns.ip(&["link", "set", "x0", "up"]).unwrap();
    ns.ip(&["link", "set", "x1", "up"]).unwrap();
    let v4: IpAddr = "10.88.0.5".parse().unwrap();
    let v6: IpAddr = "fd88::5".parse().unwrap();
    on_thread(|runtime| {
        go_to(&ns);
        runtime.block_on(async {
            assert!(!address::holds("x0", v4).await.unwrap());
            address::add("x0", v4, 24, Some("x0:vip")).await.unwrap();
            let lines = lines_with(&ns, "x0", "10.88.0.5/24");
            assert_eq!(lines.len(), 1, "{lines:?}");
            assert!(lines[0].contains("x0:vip"), "label missing: {}", lines[0]);
            assert!(address::holds("x0", v4).await.unwrap());
            // Present already: Ok, and still one.
            address::add("x0", v4, 24, Some("x0:vip")).await.unwrap();
            assert_eq!(lines_with(&ns, "x0", "10.88.0.5/24").len(), 1);

            address::add("x0", v6, 64, None).await.unwrap();
            let lines = lines_with(&ns, "x0", "fd88::5/64");
            assert_eq!(lines.len(), 1, "{lines:?}");
            assert!(lines[0].contains("nodad"), "no nodad flag: {}", lines[0]);
            assert!(!lines[0].contains("tentative"), "tentative: {}", lines[0]);
            assert!(address::holds("x0", v6).await.unwrap());
            address::add("x0", v6, 64, None).await.unwrap();
            assert_eq!(lines_with(&ns, "x0", "fd88::5/64").len(), 1);
            // Not on the other interface.
            assert!(!address::holds("x1", v6).await.unwrap());

            for (addr, shown, len) in [(v4, "10.88.0.5/24", 24), (v6, "fd88::5/64", 64)] {
                address::remove("x0", addr, len).await.unwrap();
                assert!(lines_with(&ns, "x0", shown).is_empty());
                assert!(!address::holds("x0", addr).await.unwrap());
                // Absent already: Ok.
                address::remove("x0", addr, len).await.unwrap();
            }

            match address::add("x0", v4, 33, None).await {
                Err(NetError::InvalidPrefix { prefix_len: 33, .. }) => {}
                other => panic!("expected InvalidPrefix, got {other:?}"),
            }
            match address::add("x0", v4, 24, Some("a-label-too-long")).await {
                Err(NetError::InvalidLabel { .. }) => {}
                other => panic!("expected InvalidLabel, got {other:?}"),
            }
            match address::add("nosuch0", v4, 24, None).await {
                Err(NetError::NoInterface { interface }) => assert_eq!(interface, "nosuch0"),
                other => panic!("expected NoInterface, got {other:?}"),
            }
            assert!(matches!(
                address::remove("nosuch0", v4, 24).await,
                Err(NetError::NoInterface { .. })
            ));
        });
    });
}

#[test]
fn interface_index_and_link_state_follow_the_kernel() {
    if !root() {
        return;
    }
    let ns = Namespace::new("vrrp-net-link").unwrap();
    ns.ip(&["link", "add", "y0", "type", "veth", "peer", "name", "y1"])
        .unwrap();
    let shown: u32 = ip_out(&ns, &["-o", "link", "show", "y0"])
        .split(':')
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    on_thread(|runtime| {
        go_to(&ns);
        assert_eq!(address::interface_index("y0").unwrap(), shown);
        assert!(matches!(
            address::interface_index("nosuch0"),
            Err(NetError::NoInterface { .. })
        ));
        runtime.block_on(async {
            assert!(!address::link_up("y0").await.unwrap(), "down at creation");
            ns.ip(&["link", "set", "y0", "up"]).unwrap();
            // Up but its peer down: no carrier, not running.
            assert!(!address::link_up("y0").await.unwrap());
            ns.ip(&["link", "set", "y1", "up"]).unwrap();
            let deadline = Instant::now() + Duration::from_secs(5);
            while !address::link_up("y0").await.unwrap() {
                assert!(Instant::now() < deadline, "y0 never came up");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            ns.ip(&["link", "set", "y1", "down"]).unwrap();
            assert!(!address::link_up("y0").await.unwrap());
            assert!(matches!(
                address::link_up("nosuch0").await,
                Err(NetError::NoInterface { .. })
            ));
        });
    });
}

/// A packet socket in the current namespace that sees every frame, with a
/// short read timeout.
fn capture() -> Socket {
    let all = i32::from((libc::ETH_P_ALL as u16).to_be());
    let socket = Socket::new(Domain::PACKET, Type::RAW, Some(Protocol::from(all))).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    socket
}

/// The first frame `socket` captures within 5 s that `wanted` accepts.
fn captured(socket: &Socket, wanted: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut buffer = [std::mem::MaybeUninit::<u8>::uninit(); 2048];
    while Instant::now() < deadline {
        if let Ok(n) = socket.recv(&mut buffer) {
            // SAFETY: recv initialised the first n bytes.
            let frame: Vec<u8> = buffer[..n]
                .iter()
                .map(|b| unsafe { b.assume_init() })
                .collect();
            if wanted(&frame) {
                return frame;
            }
        }
    }
    panic!("no matching frame captured within 5 s");
}

#[test]
fn gratuitous_arp_is_captured_on_the_peer_field_by_field() {
    if !root() {
        return;
    }
    let pair = Pair::new();
    let mac = mac_of(&pair.a, "va");
    let vip = Ipv4Addr::new(10, 77, 0, 100);
    let frame = on_thread(|_| {
        go_to(&pair.b);
        let socket = capture();
        go_to(&pair.a);
        announce::gratuitous_arp("va", vip).unwrap();
        captured(&socket, |f| {
            f.len() >= 42 && f[12..14] == [0x08, 0x06] && f[38..42] == vip.octets()
        })
    });
    assert_eq!(&frame[0..6], &[0xff; 6], "Ethernet destination: broadcast");
    assert_eq!(&frame[6..12], &mac, "Ethernet source: va's address");
    assert_eq!(&frame[14..16], &[0, 1], "hardware type Ethernet");
    assert_eq!(&frame[16..18], &[0x08, 0x00], "protocol type IPv4");
    assert_eq!(&frame[18..20], &[6, 4], "address lengths");
    assert_eq!(&frame[20..22], &[0, 1], "op: request");
    assert_eq!(&frame[22..28], &mac, "sender hardware address");
    assert_eq!(&frame[28..32], &vip.octets(), "sender protocol address");
    assert_eq!(&frame[32..38], &[0xff; 6], "target hardware address");
    assert_eq!(&frame[38..42], &vip.octets(), "target protocol address");
}

/// The Internet checksum of an ICMPv6 message with its pseudo-header
/// (RFC 4443 §2.3); 0 when the message's own checksum is right.
fn icmpv6_checksum(src: Ipv6Addr, dst: Ipv6Addr, message: &[u8]) -> u16 {
    let mut data = Vec::new();
    data.extend_from_slice(&src.octets());
    data.extend_from_slice(&dst.octets());
    data.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
    data.extend_from_slice(&[0, 0, 0, 58]);
    data.extend_from_slice(message);
    if data.len() % 2 == 1 {
        data.push(0);
    }
    let mut sum: u32 = data
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[test]
fn unsolicited_na_is_captured_on_the_peer_field_by_field() {
    if !root() {
        return;
    }
    let pair = Pair::new();
    let mac = mac_of(&pair.a, "va");
    let vip: Ipv6Addr = "fd77::100".parse().unwrap();
    let frame = on_thread(|runtime| {
        go_to(&pair.a);
        runtime
            .block_on(address::add("va", IpAddr::V6(vip), 64, None))
            .unwrap();
        go_to(&pair.b);
        let socket = capture();
        go_to(&pair.a);
        announce::unsolicited_na("va", vip).unwrap();
        captured(&socket, |f| {
            f.len() >= 86 && f[12..14] == [0x86, 0xdd] && f[54] == 136 && f[62..78] == vip.octets()
        })
    });
    assert_eq!(
        frame.len(),
        14 + 40 + 32,
        "Ethernet + IPv6 + NA with one option"
    );
    assert_eq!(
        &frame[0..6],
        &[0x33, 0x33, 0, 0, 0, 1],
        "Ethernet destination: ff02::1's"
    );
    assert_eq!(&frame[6..12], &mac, "Ethernet source: va's address");
    let ip = &frame[14..54];
    assert_eq!(ip[0] >> 4, 6, "IPv6");
    assert_eq!(&ip[4..6], &[0, 32], "payload length");
    assert_eq!(ip[6], 58, "next header ICMPv6");
    assert_eq!(ip[7], 255, "hop limit");
    let src = Ipv6Addr::from(<[u8; 16]>::try_from(&ip[8..24]).unwrap());
    let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&ip[24..40]).unwrap());
    assert_eq!(src, vip, "sent from the advertised address");
    assert_eq!(dst, "ff02::1".parse::<Ipv6Addr>().unwrap());
    let na = &frame[54..];
    assert_eq!(na[0], 136, "type: neighbour advertisement");
    assert_eq!(na[1], 0, "code");
    assert_eq!(
        icmpv6_checksum(src, dst, na),
        0,
        "checksum filled in by the kernel"
    );
    assert_ne!(&na[2..4], &[0, 0]);
    assert_eq!(na[4] & 0x80, 0, "Router clear");
    assert_eq!(na[4] & 0x40, 0, "Solicited clear");
    assert_eq!(na[4] & 0x20, 0x20, "Override set");
    assert_eq!(&na[8..24], &vip.octets(), "target");
    assert_eq!(
        &na[24..26],
        &[2, 1],
        "target link-layer address option, 8 bytes"
    );
    assert_eq!(&na[26..32], &mac);
}
