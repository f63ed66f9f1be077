//! Helpers shared by the kernel tests of `ipvs` (each test binary uses some).
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipvs::{
    DestinationInfo, Destinations, ErrorKind, ForwardMethod, Ipvs, ReadOptions, ServiceInfo,
};
use testbed::{netns, reference};

pub fn setup() -> Ipvs {
    netns::enter_fresh();
    Ipvs::new().expect("a handle")
}

pub fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

pub fn v6(s: &str) -> IpAddr {
    s.parse::<Ipv6Addr>().expect("an IPv6 address").into()
}

pub fn save() -> String {
    reference::ipvsadm_ok(&["-Sn"])
}

/// The whole table, read settled (what apply and diff read).
pub fn settled_table(ipvs: &Ipvs) -> ipvs::Result<Vec<ServiceInfo>> {
    ipvs.read_table(ReadOptions::new().settled(true))?.collect()
}

/// The whole table with its real servers in brief.
pub fn brief_table(ipvs: &Ipvs) -> ipvs::Result<Vec<ServiceInfo>> {
    ipvs.read_table(ReadOptions::new().destinations(Destinations::Brief))?
        .collect()
}

/// What a read in brief gives of a real server: address, port, forwarding,
/// weight, active and inactive connections.
pub fn brief_of(d: &DestinationInfo) -> (IpAddr, u16, ForwardMethod, u32, u32, u32) {
    (
        d.destination.address,
        d.destination.port,
        d.destination.forward,
        d.destination.weight,
        d.active_connections,
        d.inactive_connections,
    )
}

pub fn kind<T: std::fmt::Debug>(result: ipvs::Result<T>) -> ErrorKind {
    result.expect_err("an error").kind()
}

/// A table of every kind of service and real server, as `-R` input.
pub const RICH_TABLE: &str = "\
-A -t 10.15.0.1:80 -s wlc
-a -t 10.15.0.1:80 -r 192.0.2.1:80 -m -w 1
-a -t 10.15.0.1:80 -r 192.0.2.2:8080 -m -w 2
-A -u 10.15.0.1:53 -s rr -p 360 -M 255.255.255.0 -o
-a -u 10.15.0.1:53 -r 192.0.2.3:53 -g -w 1
-A -u 10.15.0.2:5060 -s lc -p 900 --pe sip
-A --sctp-service 10.15.0.3:3868 -s rr -b flag-3
-A -t [2001:db8::1]:443 -s mh -p 300 -M 64 -b mh-port
-a -t [2001:db8::1]:443 -r 192.0.2.7:443 -i -w 1 --tun-type ipip
-a -t [2001:db8::1]:443 -r [2001:db8::10]:443 -m -w 1
-A -f 1 -s sh -b sh-fallback,sh-port
-a -f 1 -r 192.0.2.4:0 -i -w 3 --tun-type gue --tun-port 6080 --tun-csum
-a -f 1 -r 192.0.2.5:0 -i -w 1 --tun-type gre --tun-nocsum
-A -f 2 -6 -s wrr
-a -f 2 -6 -r [2001:db8::20]:0 -g -w 0
";
