//! A real server (destination) of a virtual service: where packets go, how,
//! and with what weight.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::key::{AddressFamily, ServiceKey, fmt_socket};
use crate::rules::{self, Violation};

/// How packets reach a real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum ForwardMethod {
    /// NAT: the director rewrites the destination (and replies come back through it).
    Masq,
    /// The real server is this host.
    Local,
    /// IP-in-IP, GUE or GRE tunnelling (see [`Tunnel`]).
    Tunnel,
    /// Direct routing (gatewaying): the frame is sent to the real server's MAC.
    Route,
}

impl ForwardMethod {
    /// The name the kernel gives it in `/proc/net/ip_vs` (`ip_vs_fwd_name`
    /// in `net/netfilter/ipvs/ip_vs_ctl.c`), which ipvsadm prints too:
    /// `Masq`, `Local`, `Tunnel`, `Route`.
    pub fn kernel_name(self) -> &'static str {
        match self {
            Self::Masq => "Masq",
            Self::Local => "Local",
            Self::Tunnel => "Tunnel",
            Self::Route => "Route",
        }
    }

    /// The method of a [`kernel_name`](Self::kernel_name).
    pub fn from_kernel_name(name: &str) -> Option<Self> {
        [Self::Masq, Self::Local, Self::Tunnel, Self::Route]
            .into_iter()
            .find(|m| m.kernel_name() == name)
    }
}

impl fmt::Display for ForwardMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Masq => "masq",
            Self::Local => "local",
            Self::Tunnel => "tunnel",
            Self::Route => "route",
        })
    }
}

/// The encapsulation of a tunnelling real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum TunnelKind {
    /// IP in IP (the default).
    Ipip,
    /// Generic UDP Encapsulation (kernel 5.2+); needs a port.
    Gue,
    /// Generic Routing Encapsulation (kernel 5.3+).
    Gre,
}

/// Checksums of the tunnel encapsulation (kernel 5.3+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum TunnelChecksum {
    /// No checksum.
    #[default]
    None,
    /// A checksum on the encapsulation.
    Checksum,
    /// Remote checksum offload (GUE only).
    Remote,
}

/// Tunnel parameters of a real server forwarded by [`ForwardMethod::Tunnel`].
///
/// Build it with [`Tunnel::new`], [`Tunnel::IPIP`], [`Tunnel::gue`] or
/// [`Tunnel::gre`] (it may gain fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct Tunnel {
    /// The encapsulation.
    #[cfg_attr(feature = "serde", serde(rename = "type"))]
    pub kind: TunnelKind,
    /// The GUE destination port (0 for the others).
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "is_zero"))]
    pub port: u16,
    /// Checksums.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "is_no_checksum")
    )]
    pub checksum: TunnelChecksum,
}

#[cfg(feature = "serde")]
fn is_zero(port: &u16) -> bool {
    *port == 0
}

#[cfg(feature = "serde")]
fn is_no_checksum(c: &TunnelChecksum) -> bool {
    *c == TunnelChecksum::None
}

impl Default for Tunnel {
    fn default() -> Self {
        Self::IPIP
    }
}

impl Tunnel {
    /// Plain IP in IP.
    pub const IPIP: Self = Self {
        kind: TunnelKind::Ipip,
        port: 0,
        checksum: TunnelChecksum::None,
    };

    /// A tunnel of any kind, port (GUE only; 0 for the others) and checksum
    /// setting; [`Destination::validate`] says which combinations the kernel takes.
    #[must_use]
    pub fn new(kind: TunnelKind, port: u16, checksum: TunnelChecksum) -> Self {
        Self {
            kind,
            port,
            checksum,
        }
    }

    /// GUE to `port`.
    #[must_use]
    pub fn gue(port: u16, checksum: TunnelChecksum) -> Self {
        Self {
            kind: TunnelKind::Gue,
            port,
            checksum,
        }
    }

    /// GRE.
    #[must_use]
    pub fn gre(checksum: TunnelChecksum) -> Self {
        Self {
            kind: TunnelKind::Gre,
            port: 0,
            checksum,
        }
    }
}

/// A real server: its address and port identify it within its service.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(
        try_from = "crate::desired::json::DestinationJson",
        into = "crate::desired::json::DestinationJson"
    )
)]
#[non_exhaustive]
pub struct Destination {
    /// The real server's address; its family may differ from the service's
    /// only with tunnelling (kernel 3.18+).
    pub address: IpAddr,
    /// The real server's port. With direct routing, tunnelling and local
    /// forwarding it is the service's port (packets are not rewritten), but
    /// for a firewall-mark service, where it only tells real servers apart.
    pub port: u16,
    /// How packets get there.
    pub forward: ForwardMethod,
    /// Tunnel parameters, present exactly when `forward` is `Tunnel`.
    pub tunnel: Option<Tunnel>,
    /// The weight, 0..=[`MAX_WEIGHT`](crate::MAX_WEIGHT); 0 takes no new
    /// connections (drained).
    pub weight: u32,
    /// Stop sending new connections above this many (0: no limit).
    pub upper_threshold: u32,
    /// Resume below this many, after the upper threshold was hit (at most
    /// the upper threshold; 0 without one).
    pub lower_threshold: u32,
}

impl Destination {
    /// A real server with weight 1 and no thresholds.
    #[must_use]
    pub fn new(address: impl Into<IpAddr>, port: u16, forward: ForwardMethod) -> Self {
        Self {
            address: address.into(),
            port,
            forward,
            tunnel: (forward == ForwardMethod::Tunnel).then_some(Tunnel::IPIP),
            weight: 1,
            upper_threshold: 0,
            lower_threshold: 0,
        }
    }

    /// A real server at a socket address, with weight 1 and no thresholds.
    #[must_use]
    pub fn from_socket(socket: SocketAddr, forward: ForwardMethod) -> Self {
        Self::new(socket.ip(), socket.port(), forward)
    }

    /// Sets the weight.
    #[must_use]
    pub fn with_weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }

    /// Sets the upper and lower connection thresholds (0 upper: no limit).
    #[must_use]
    pub fn with_thresholds(mut self, upper: u32, lower: u32) -> Self {
        self.upper_threshold = upper;
        self.lower_threshold = lower;
        self
    }

    /// Tunnels with `tunnel` parameters.
    #[must_use]
    pub fn with_tunnel(mut self, tunnel: Tunnel) -> Self {
        self.forward = ForwardMethod::Tunnel;
        self.tunnel = Some(tunnel);
        self
    }

    /// The address family of the real server.
    pub fn family(&self) -> AddressFamily {
        AddressFamily::of(&self.address)
    }

    /// The same real server with defaults made explicit (IPIP for a tunnel
    /// without parameters), so that equal configurations compare equal.
    pub fn normalized(&self) -> Self {
        let mut out = self.clone();
        out.tunnel = match self.forward {
            ForwardMethod::Tunnel => Some(self.tunnel.unwrap_or_default()),
            _ => None,
        };
        out
    }

    /// Checks every field, as a real server of `service`, against what
    /// ipvsadm's command line could make and what the kernel stores as given
    /// (see [`Violation`] and the rules in `ipvs/src/rules/destination.rs`):
    /// weight and thresholds, family, a unicast address, the service's port
    /// with direct routing, tunnelling and local forwarding, tunnel
    /// parameters. Whether the address of local forwarding is the director's
    /// own is checked by the handle, which knows the director.
    ///
    /// # Errors
    /// The first rule broken.
    pub fn validate(&self, service: &ServiceKey) -> Result<(), Violation> {
        rules::check_destination(service, self)
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_socket(f, &self.address, self.port)?;
        write!(f, " {} weight {}", self.forward, self.weight)
    }
}

// Its one test is of the JSON form.
#[cfg(all(test, feature = "serde"))]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn rs() -> Destination {
        Destination::new(Ipv4Addr::new(192, 0, 2, 1), 80, ForwardMethod::Masq)
    }

    #[test]
    fn json_form_of_a_destination() {
        let d = rs()
            .with_tunnel(Tunnel::gue(6080, TunnelChecksum::Checksum))
            .with_weight(3);
        let json = serde_json::to_string(&d).expect("serializes");
        assert_eq!(
            json,
            r#"{"address":"192.0.2.1","port":80,"forward":"tunnel","tunnel":{"type":"gue","port":6080,"checksum":"checksum"},"weight":3,"upper_threshold":0,"lower_threshold":0}"#
        );
        assert_eq!(
            serde_json::from_str::<Destination>(&json).expect("parses"),
            d
        );
        let short: Destination =
            serde_json::from_str(r#"{"address":"192.0.2.1","port":80,"forward":"route"}"#)
                .expect("defaults");
        assert_eq!(
            short,
            Destination::new(Ipv4Addr::new(192, 0, 2, 1), 80, ForwardMethod::Route)
        );
        let err = serde_json::from_str::<Destination>(
            r#"{"address":"192.0.2.1","port":80,"forward":"route","wieght":2}"#,
        );
        assert!(
            err.unwrap_err()
                .to_string()
                .contains("unknown field `wieght`")
        );
    }
}
