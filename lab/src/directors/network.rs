//! The network of the several-directors scenario: namespaces, links,
//! addresses and sysctls, and what the kernel of each says (the router's
//! route to the virtual IP, a director's IPVS connection table).
//!
//! ```text
//!  client 10.2.0.10-129 --- 10.2.0.1 router (BIRD AS 65000, ECMP) 10.1.0.1 on br0
//!                                        |  br0: the LAN (10.1.0.0/24)
//!        +-------------+-------------+---+---------+-------------+-------------+
//!   dir1 .11      dir2 .12      dir3 .13      rs1 .21      rs2 .22      rs3 .23
//!   (BIRD AS 65001, ipvsd, VIP on a dummy)    (VIP on lo, HTTP keep-alive server)
//! ```
//!
//! The bridge lives in the router's namespace. Each director announces the
//! virtual IP over eBGP (ipvsd's `[route_health]`), the router installs
//! one multipath route with a next hop per director, and the real servers
//! answer the client straight through the router (direct routing).

use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use testbed::netns::Namespace;

/// The virtual IP the directors serve and announce.
pub const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
/// The virtual service's port (HTTP).
pub const PORT: u16 = 80;
/// The router's address on the LAN.
pub const ROUTER_LAN: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 1);
/// The router's address on the client's link.
pub const ROUTER_CLIENT: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 1);
/// How many directors.
pub const DIRECTORS: usize = 3;
/// How many real servers.
pub const REAL_SERVERS: usize = 3;
/// How many source addresses the client has (10.2.0.10 onwards).
pub const CLIENT_ADDRESSES: usize = 120;

/// Director `i`'s (0-based) LAN address: 10.1.0.11 onwards.
pub fn director_addr(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 1, 0, 11 + octet(i))
}

/// Real server `i`'s (0-based) LAN address: 10.1.0.21 onwards.
pub fn real_server_addr(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 1, 0, 21 + octet(i))
}

/// The client's source address `i` (0-based, below [`CLIENT_ADDRESSES`]):
/// 10.2.0.10 onwards.
pub fn client_addr(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 2, 0, 10 + octet(i % CLIENT_ADDRESSES))
}

/// Director `i`'s name: `dir1` onwards.
pub fn director_name(i: usize) -> String {
    format!("dir{}", i + 1)
}

/// Real server `i`'s name, which its HTTP server answers: `rs1` onwards.
pub fn real_server_name(i: usize) -> String {
    format!("rs{}", i + 1)
}

fn octet(i: usize) -> u8 {
    u8::try_from(i).unwrap_or(u8::MAX)
}

/// The namespaces of the scenario, deleted when dropped.
#[derive(Debug)]
pub struct Network {
    /// The router: BIRD in AS 65000, the LAN bridge, the client's gateway.
    pub router: Namespace,
    /// The client with its [`CLIENT_ADDRESSES`] source addresses.
    pub client: Namespace,
    /// The directors, `dir1` first.
    pub directors: Vec<Namespace>,
    /// The real servers, `rs1` first.
    pub real_servers: Vec<Namespace>,
}

/// The directors' link to the LAN, inside their namespace.
pub const DIRECTOR_LINK: &str = "eth0";

impl Network {
    /// Builds the namespaces, links, addresses, routes and sysctls. IPVS's
    /// own (`net.ipv4.vs.sloppy_tcp`) are ipvsd's to set (its `[global]`
    /// `sloppy_tcp`).
    ///
    /// # Errors
    /// When a namespace, link, address or sysctl cannot be made.
    pub fn build() -> io::Result<Self> {
        let net = Self {
            router: Namespace::new("ecmp-router")?,
            client: Namespace::new("ecmp-client")?,
            directors: (0..DIRECTORS)
                .map(|_| Namespace::new("ecmp-dir"))
                .collect::<io::Result<_>>()?,
            real_servers: (0..REAL_SERVERS)
                .map(|_| Namespace::new("ecmp-rs"))
                .collect::<io::Result<_>>()?,
        };
        let r = &net.router;
        r.ip(&["link", "add", "br0", "type", "bridge"])?;
        r.ip(&["addr", "add", &format!("{ROUTER_LAN}/24"), "dev", "br0"])?;
        r.ip(&["link", "set", "br0", "up"])?;
        r.sysctl("net/ipv4/ip_forward", "1")?;
        // L4 hash: flows from one client address spread by port too.
        r.sysctl("net/ipv4/fib_multipath_hash_policy", "1")?;

        net.link_client()?;
        for (i, ns) in net.directors.iter().enumerate() {
            net.plug(ns, &format!("d{}", i + 1), director_addr(i))?;
            ns.ip(&["link", "add", "vip0", "type", "dummy"])?;
            ns.ip(&["addr", "add", &format!("{VIP}/32"), "dev", "vip0"])?;
            ns.ip(&["link", "set", "vip0", "up"])?;
            // The router reaches the VIP through BGP; a director never
            // answers ARP for it on the LAN.
            ns.sysctl("net/ipv4/conf/all/arp_ignore", "1")?;
            ns.sysctl("net/ipv4/conf/all/arp_announce", "2")?;
        }
        for (i, ns) in net.real_servers.iter().enumerate() {
            net.plug(ns, &format!("r{}", i + 1), real_server_addr(i))?;
            // Direct routing: the VIP is local on lo and never in ARP.
            ns.ip(&["addr", "add", &format!("{VIP}/32"), "dev", "lo"])?;
            for conf in ["all", "eth0"] {
                ns.sysctl(&format!("net/ipv4/conf/{conf}/arp_ignore"), "1")?;
                ns.sysctl(&format!("net/ipv4/conf/{conf}/arp_announce"), "2")?;
            }
        }
        Ok(net)
    }

    /// A veth pair: `port` in the router, `eth0` in `ns`.
    fn veth(&self, port: &str, ns: &Namespace) -> io::Result<()> {
        self.router.ip(&[
            "link",
            "add",
            port,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            ns.name(),
        ])
    }

    /// A veth from `ns` (`eth0`, `addr`/24, default route via the router)
    /// to a port `port` of the router's bridge.
    fn plug(&self, ns: &Namespace, port: &str, addr: Ipv4Addr) -> io::Result<()> {
        let r = &self.router;
        self.veth(port, ns)?;
        r.ip(&["link", "set", port, "master", "br0", "up"])?;
        ns.ip(&["addr", "add", &format!("{addr}/24"), "dev", "eth0"])?;
        ns.ip(&["link", "set", "eth0", "up"])?;
        ns.ip(&["route", "add", "default", "via", &ROUTER_LAN.to_string()])
    }

    /// The client's link to the router and its source addresses (one
    /// `ip -batch` for all of them).
    fn link_client(&self) -> io::Result<()> {
        let r = &self.router;
        self.veth("c0", &self.client)?;
        r.ip(&["addr", "add", &format!("{ROUTER_CLIENT}/24"), "dev", "c0"])?;
        r.ip(&["link", "set", "c0", "up"])?;
        let batch: String = (0..CLIENT_ADDRESSES)
            .map(|i| format!("addr add {}/24 dev eth0\n", client_addr(i)))
            .collect();
        let file = std::env::temp_dir().join(format!("ecmp-client-{}.batch", std::process::id()));
        std::fs::write(&file, batch)?;
        let added = self.client.ip(&["-batch", &file.to_string_lossy()]);
        let _ = std::fs::remove_file(&file);
        added?;
        self.client.ip(&["link", "set", "eth0", "up"])?;
        self.client
            .ip(&["route", "add", "default", "via", &ROUTER_CLIENT.to_string()])
    }

    /// The IPVS sysctl `name` of director `i` (`sloppy_tcp`), as its file
    /// reads (IPVS sysctls are per namespace, `net/netfilter/ipvs/
    /// ip_vs_ctl.c`).
    ///
    /// # Errors
    /// When the file cannot be read (IPVS not loaded).
    pub fn director_ipvs_sysctl(&self, i: usize, name: &str) -> io::Result<String> {
        let path = format!("/proc/sys/net/ipv4/vs/{name}");
        self.directors[i]
            .run(|| std::fs::read_to_string(&path))?
            .map(|t| t.trim().to_owned())
    }

    /// The next hops (gateways) of the router's kernel route to the VIP
    /// (`ip route show VIP`): one per director whose BGP route the router
    /// merged into its multipath route.
    ///
    /// # Errors
    /// When `ip` cannot run.
    pub fn router_next_hops(&self) -> io::Result<Vec<Ipv4Addr>> {
        let out = self
            .router
            .command("ip")
            .args(["route", "show", &format!("{VIP}/32")])
            .output()?;
        Ok(parse_next_hops(&String::from_utf8_lossy(&out.stdout)))
    }

    /// Brings director `i`'s LAN link down (a dead machine) or up.
    ///
    /// # Errors
    /// As [`testbed::netns::ip`].
    pub fn set_director_link(&self, i: usize, up: bool) -> io::Result<()> {
        let state = if up { "up" } else { "down" };
        self.directors[i].ip(&["link", "set", DIRECTOR_LINK, state])?;
        if up {
            // The default route went with the link.
            let _ = self.directors[i].ip(&[
                "route",
                "replace",
                "default",
                "via",
                &ROUTER_LAN.to_string(),
            ]);
        }
        Ok(())
    }

    /// Director `i`'s IPVS connection table (`/proc/net/ip_vs_conn` of its
    /// namespace), read in large reads.
    ///
    /// # Errors
    /// When the file cannot be read or parsed.
    pub fn connections(&self, i: usize) -> io::Result<Vec<ipvs::Connection>> {
        let text = self.directors[i].run(|| -> io::Result<String> {
            let mut file = std::fs::File::open("/proc/thread-self/net/ip_vs_conn")?;
            let mut all = Vec::new();
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                all.extend_from_slice(&buf[..n]);
            }
            Ok(String::from_utf8_lossy(&all).into_owned())
        })??;
        ipvs::parse_connections(&text).map_err(io::Error::other)
    }

    /// For each client endpoint of `clients`, the director (index) whose
    /// connection table has it, if any (the first, when several do).
    ///
    /// # Errors
    /// As [`Network::connections`].
    pub fn director_of(&self, clients: &[SocketAddr]) -> io::Result<Vec<Option<usize>>> {
        Ok(self
            .carriers(clients)?
            .into_iter()
            .map(|ds| ds.first().copied())
            .collect())
    }

    /// For each client endpoint of `clients`, every director (index) whose
    /// connection table has it.
    ///
    /// # Errors
    /// As [`Network::connections`].
    pub fn carriers(&self, clients: &[SocketAddr]) -> io::Result<Vec<Vec<usize>>> {
        let tables = (0..DIRECTORS)
            .map(|i| self.connections(i))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(clients
            .iter()
            .map(|c| {
                (0..DIRECTORS)
                    .filter(|d| tables[*d].iter().any(|conn| conn.client == *c))
                    .collect()
            })
            .collect())
    }

    /// How many of `clients` have an entry in director `i`'s table that
    /// expires in `fresh` seconds or more (a packet refreshed it lately).
    ///
    /// # Errors
    /// As [`Network::connections`].
    pub fn refreshed_on(&self, i: usize, clients: &[SocketAddr], fresh: u32) -> io::Result<usize> {
        let table = self.connections(i)?;
        Ok(clients
            .iter()
            .filter(|c| {
                table
                    .iter()
                    .any(|conn| conn.client == **c && conn.expires >= fresh)
            })
            .count())
    }
}

/// The gateways of `ip route show` output for one destination: `via A` on
/// a single-path route, or each `nexthop via A` line of a multipath one.
pub fn parse_next_hops(text: &str) -> Vec<Ipv4Addr> {
    let mut hops: Vec<Ipv4Addr> = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .filter(|w| w[0] == "via")
        .filter_map(|w| w[1].parse().ok())
        .collect();
    hops.sort_unstable();
    hops.dedup();
    hops
}

/// Which real server (index) has address `addr`.
pub fn real_server_at(addr: IpAddr) -> Option<usize> {
    (0..REAL_SERVERS).find(|i| IpAddr::V4(real_server_addr(*i)) == addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_hops_of_a_multipath_and_a_single_route() {
        let multi = "192.0.2.10 proto bird metric 32 \n\
                     \tnexthop via 10.1.0.11 dev br0 weight 1 \n\
                     \tnexthop via 10.1.0.13 dev br0 weight 1 \n";
        assert_eq!(
            parse_next_hops(multi),
            vec![Ipv4Addr::new(10, 1, 0, 11), Ipv4Addr::new(10, 1, 0, 13)]
        );
        let single = "192.0.2.10 via 10.1.0.12 dev br0 proto bird metric 32\n";
        assert_eq!(parse_next_hops(single), vec![Ipv4Addr::new(10, 1, 0, 12)]);
        assert!(parse_next_hops("").is_empty());
    }

    #[test]
    fn addresses_follow_the_plan() {
        assert_eq!(director_addr(2), Ipv4Addr::new(10, 1, 0, 13));
        assert_eq!(client_addr(119), Ipv4Addr::new(10, 2, 0, 129));
        assert_eq!(client_addr(120), client_addr(0));
        assert_eq!(real_server_at(IpAddr::V4(real_server_addr(1))), Some(1));
        assert_eq!(real_server_at(IpAddr::V4(VIP)), None);
    }
}
