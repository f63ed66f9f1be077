//! A virtual service's configuration: scheduler, persistence, flags.

use std::fmt;
use std::net::Ipv4Addr;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::key::{AddressFamily, ServiceKey};
use crate::rules::{self, Violation};

/// A scheduling algorithm (the kernel module `ip_vs_<name>`).
///
/// In JSON, its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Scheduler {
    /// Round robin.
    RoundRobin,
    /// Weighted round robin.
    WeightedRoundRobin,
    /// Least connections.
    LeastConnection,
    /// Weighted least connections (ipvsadm's default).
    #[default]
    WeightedLeastConnection,
    /// Locality-based least connections.
    LocalityLeastConnection,
    /// Locality-based least connections with replication.
    LocalityLeastConnectionReplication,
    /// Destination hashing.
    DestinationHashing,
    /// Source hashing.
    SourceHashing,
    /// Shortest expected delay.
    ShortestExpectedDelay,
    /// Never queue.
    NeverQueue,
    /// Weighted failover.
    WeightedFailover,
    /// Weighted overflow.
    WeightedOverflow,
    /// Maglev hashing.
    MaglevHashing,
    /// Any other name (a third-party module, or "none").
    Other(String),
}

impl Scheduler {
    /// Every scheduler of the mainline kernel, in ipvsadm's order.
    pub const KNOWN: [Scheduler; 13] = [
        Self::RoundRobin,
        Self::WeightedRoundRobin,
        Self::LeastConnection,
        Self::WeightedLeastConnection,
        Self::LocalityLeastConnection,
        Self::LocalityLeastConnectionReplication,
        Self::DestinationHashing,
        Self::SourceHashing,
        Self::ShortestExpectedDelay,
        Self::NeverQueue,
        Self::WeightedFailover,
        Self::WeightedOverflow,
        Self::MaglevHashing,
    ];

    /// The kernel's name for it ("rr", "wlc", ...).
    pub fn name(&self) -> &str {
        match self {
            Self::RoundRobin => "rr",
            Self::WeightedRoundRobin => "wrr",
            Self::LeastConnection => "lc",
            Self::WeightedLeastConnection => "wlc",
            Self::LocalityLeastConnection => "lblc",
            Self::LocalityLeastConnectionReplication => "lblcr",
            Self::DestinationHashing => "dh",
            Self::SourceHashing => "sh",
            Self::ShortestExpectedDelay => "sed",
            Self::NeverQueue => "nq",
            Self::WeightedFailover => "fo",
            Self::WeightedOverflow => "ovf",
            Self::MaglevHashing => "mh",
            Self::Other(name) => name,
        }
    }

    /// The scheduler of a kernel name; unknown names are kept as `Other`.
    pub fn from_name(name: &str) -> Self {
        Self::KNOWN
            .into_iter()
            .find(|s| s.name() == name)
            .unwrap_or_else(|| Self::Other(name.to_owned()))
    }
}

/// Any name reads: unknown ones are kept as [`Scheduler::Other`].
impl std::str::FromStr for Scheduler {
    type Err = std::convert::Infallible;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Ok(Self::from_name(name))
    }
}

impl fmt::Display for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(feature = "serde")]
impl Serialize for Scheduler {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

#[cfg(feature = "serde")]
impl<'de> Deserialize<'de> for Scheduler {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::from_name(&String::deserialize(deserializer)?))
    }
}

/// The three scheduler flags (`IP_VS_SVC_F_SCHED1..3`): opaque bits that only
/// the `sh` and `mh` schedulers read (flag 1 = fallback, flag 2 = port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct SchedFlags(u8);

impl SchedFlags {
    /// No flag.
    pub const NONE: Self = Self(0);
    /// All three flags.
    pub const ALL: Self = Self(7);
    /// Scheduler flag 1: `sh-fallback` / `mh-fallback`.
    pub const FLAG_1: Self = Self(1);
    /// Scheduler flag 2: `sh-port` / `mh-port`.
    pub const FLAG_2: Self = Self(2);
    /// Scheduler flag 3 (no mainline scheduler reads it).
    pub const FLAG_3: Self = Self(4);
    /// `sh`: fall back to another real server when the chosen one is unavailable.
    pub const FALLBACK: Self = Self::FLAG_1;
    /// `sh`/`mh`: hash the source port too.
    pub const PORT: Self = Self::FLAG_2;

    /// Whether every flag of `other` is set.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no flag is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// ipvsadm's names for these flags under `scheduler`: `sh-fallback`,
    /// `sh-port`, `mh-fallback`, `mh-port`, or `flag-1`..`flag-3`.
    pub fn names(self, scheduler: &Scheduler) -> Vec<String> {
        let prefix = match scheduler {
            Scheduler::SourceHashing => Some("sh"),
            Scheduler::MaglevHashing => Some("mh"),
            _ => None,
        };
        let mut names = Vec::new();
        for (bit, suffix) in [
            (Self::FLAG_1, "fallback"),
            (Self::FLAG_2, "port"),
            (Self::FLAG_3, ""),
        ] {
            if !self.contains(bit) {
                continue;
            }
            names.push(match (prefix, suffix) {
                (Some(p), s) if !s.is_empty() => format!("{p}-{s}"),
                _ => format!("flag-{}", bit.0.trailing_zeros() + 1),
            });
        }
        names
    }

    /// Parses one flag name: any of ipvsadm's, whatever the scheduler.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "flag-1" | "sh-fallback" | "mh-fallback" => Some(Self::FLAG_1),
            "flag-2" | "sh-port" | "mh-port" => Some(Self::FLAG_2),
            "flag-3" => Some(Self::FLAG_3),
            _ => None,
        }
    }
}

impl std::ops::BitOr for SchedFlags {
    type Output = Self;

    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// The persistence granularity: clients within the same masked network stick
/// to the same real server. IPv4 uses a mask, IPv6 a prefix length.
///
/// In the documents (schema 2), a [`Persistence`] object gives an IPv4 mask
/// as `"netmask": "255.255.255.0"` with, when the mask is a prefix,
/// `"prefix_length": 24`, and an IPv6 one as `"prefix_length": 64` alone.
/// A `Netmask` serialized on its own is the mask's string (IPv4) or the
/// prefix length (IPv6); read on its own, a number is an IPv6 prefix length
/// (in a service object of an IPv4 service, an IPv4 prefix length, 0..=32,
/// read as its mask).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Netmask {
    /// An IPv4 mask such as 255.255.255.0 (the default is 255.255.255.255).
    Ipv4(Ipv4Addr),
    /// An IPv6 prefix length, 1..=128 (the default is 128).
    Ipv6(u8),
}

impl Netmask {
    /// One client address per real server: /32 or /128.
    pub fn host(family: AddressFamily) -> Self {
        match family {
            AddressFamily::Ipv4 => Self::Ipv4(Ipv4Addr::BROADCAST),
            AddressFamily::Ipv6 => Self::Ipv6(128),
        }
    }

    /// The netmask of a prefix length: for IPv4 the mask with `length`
    /// leading ones (24 is 255.255.255.0), for IPv6 the length itself.
    ///
    /// # Errors
    /// [`Violation::PrefixLength`] above 32 for IPv4, outside 1..=128 for
    /// IPv6 (the kernel's range).
    pub fn from_prefix(family: AddressFamily, length: u8) -> Result<Self, Violation> {
        match family {
            AddressFamily::Ipv4 if length <= 32 => Ok(Self::Ipv4(Ipv4Addr::from(
                u32::MAX.checked_shl(32 - u32::from(length)).unwrap_or(0),
            ))),
            AddressFamily::Ipv6 if (1..=128).contains(&length) => Ok(Self::Ipv6(length)),
            _ => Err(Violation::PrefixLength { length, family }),
        }
    }

    /// The family this mask is for.
    pub fn family(&self) -> AddressFamily {
        match self {
            Self::Ipv4(_) => AddressFamily::Ipv4,
            Self::Ipv6(_) => AddressFamily::Ipv6,
        }
    }
}

impl fmt::Display for Netmask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ipv4(mask) => write!(f, "{mask}"),
            Self::Ipv6(prefix) => write!(f, "{prefix}"),
        }
    }
}

#[cfg(feature = "serde")]
impl Serialize for Netmask {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Ipv4(mask) => serializer.collect_str(mask),
            Self::Ipv6(prefix) => serializer.serialize_u8(*prefix),
        }
    }
}

#[cfg(feature = "serde")]
impl<'de> Deserialize<'de> for Netmask {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Prefix(u64),
            Mask(String),
        }
        match Repr::deserialize(deserializer)? {
            Repr::Prefix(p) => u8::try_from(p).map(Self::Ipv6).map_err(|_| {
                serde::de::Error::custom(format!("prefix length {p} is not in 0..=128"))
            }),
            Repr::Mask(m) => m.parse().map(Self::Ipv4).map_err(|_| {
                serde::de::Error::custom(format!(
                    "invalid netmask `{m}` (an IPv4 mask such as 255.255.255.0, or a prefix length)"
                ))
            }),
        }
    }
}

/// Persistence: a client keeps going to the same real server for `timeout`
/// seconds after its last connection.
///
/// In JSON (schema 2): `{"timeout": SECONDS, "netmask": "255.255.255.0",
/// "prefix_length": 24}` for an IPv4 mask (`prefix_length` only when the mask
/// is a prefix), `{"timeout": SECONDS, "prefix_length": 64}` for IPv6, and
/// neither for one client address. Read: a `netmask` number is a prefix
/// length (schema 1), and `netmask` and `prefix_length` given together must
/// agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(
        try_from = "crate::desired::json::PersistenceJson",
        into = "crate::desired::json::PersistenceJson"
    )
)]
pub struct Persistence {
    /// Seconds a client's affinity outlives its last connection, 1 to
    /// [`MAX_TIMEOUT`](crate::MAX_TIMEOUT) (ipvsadm's default is 360).
    pub timeout: u32,
    /// Which clients share an affinity; `None` (absent in JSON) means one
    /// address (/32 or /128).
    pub netmask: Option<Netmask>,
}

impl Persistence {
    /// Persistence for `timeout` seconds per client address.
    #[must_use]
    pub fn new(timeout: u32) -> Self {
        Self {
            timeout,
            netmask: None,
        }
    }

    /// Clients within `netmask` share an affinity.
    #[must_use]
    pub fn with_netmask(mut self, netmask: Netmask) -> Self {
        self.netmask = Some(netmask);
        self
    }

    /// The netmask, with the family's default filled in.
    pub fn netmask_or_default(&self, family: AddressFamily) -> Netmask {
        self.netmask.unwrap_or(Netmask::host(family))
    }
}

/// A virtual service: what identifies it and how it schedules. The kernel's
/// own bits (such as `HASHED`) and its counters are not part of it: see
/// [`ServiceInfo`](crate::ServiceInfo).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(
        try_from = "crate::desired::json::ServiceJson",
        into = "crate::desired::json::ServiceJson"
    )
)]
#[non_exhaustive]
pub struct Service {
    /// The identity.
    pub key: ServiceKey,
    /// The scheduler.
    pub scheduler: Scheduler,
    /// Flags for the `sh`/`mh` schedulers.
    pub sched_flags: SchedFlags,
    /// Client affinity, if the service is persistent.
    pub persistence: Option<Persistence>,
    /// A persistence engine (`"sip"`: affinity by SIP Call-ID).
    pub persistence_engine: Option<String>,
    /// One-packet scheduling: each UDP datagram is scheduled on its own.
    pub one_packet: bool,
}

impl Service {
    /// A service with the `wlc` scheduler and nothing else, as ipvsadm adds by default.
    #[must_use]
    pub fn new(key: ServiceKey) -> Self {
        Self {
            key,
            scheduler: Scheduler::default(),
            sched_flags: SchedFlags::NONE,
            persistence: None,
            persistence_engine: None,
            one_packet: false,
        }
    }

    /// Sets the scheduler.
    #[must_use]
    pub fn with_scheduler(mut self, scheduler: Scheduler) -> Self {
        self.scheduler = scheduler;
        self
    }

    /// Sets the scheduler flags.
    #[must_use]
    pub fn with_sched_flags(mut self, flags: SchedFlags) -> Self {
        self.sched_flags = flags;
        self
    }

    /// Makes the service persistent.
    #[must_use]
    pub fn with_persistence(mut self, persistence: Persistence) -> Self {
        self.persistence = Some(persistence);
        self
    }

    /// Sets a persistence engine (`"sip"`).
    #[must_use]
    pub fn with_persistence_engine(mut self, engine: impl Into<String>) -> Self {
        self.persistence_engine = Some(engine.into());
        self
    }

    /// Turns one-packet scheduling on or off.
    #[must_use]
    pub fn with_one_packet(mut self, one_packet: bool) -> Self {
        self.one_packet = one_packet;
        self
    }

    /// The same service with defaults made explicit (the persistence netmask),
    /// so that two descriptions of one configuration compare equal.
    pub fn normalized(&self) -> Self {
        let mut out = self.clone();
        if let Some(p) = &mut out.persistence {
            p.netmask = Some(p.netmask_or_default(self.key.family()));
        }
        out
    }

    /// Checks every field against what ipvsadm's command line could make and
    /// what the kernel stores as given (see [`Violation`] and the rules in
    /// `ipvs/src/rules/service.rs`): names of 1 to 15 characters, TCP, UDP
    /// or SCTP, a firewall mark above 0, port 0 (every port) only with
    /// persistence, one-packet scheduling only for UDP and firewall marks, a
    /// persistence timeout of 1 to 2678400 s, a netmask of the service's
    /// family.
    ///
    /// # Errors
    /// The first rule broken.
    pub fn validate(&self) -> Result<(), Violation> {
        rules::check_service(self)
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.key, self.scheduler)?;
        if !self.sched_flags.is_empty() {
            write!(
                f,
                " ({})",
                self.sched_flags.names(&self.scheduler).join(",")
            )?;
        }
        if let Some(p) = &self.persistence {
            write!(f, " persistent {}", p.timeout)?;
            if let Some(mask) = p.netmask.filter(|m| *m != Netmask::host(self.key.family())) {
                write!(f, " mask {mask}")?;
            }
        }
        if let Some(pe) = &self.persistence_engine {
            write!(f, " pe {pe}")?;
        }
        if self.one_packet {
            f.write_str(" ops")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduler_names_round_trip() {
        for s in Scheduler::KNOWN {
            assert_eq!(Scheduler::from_name(s.name()), s);
        }
        assert_eq!(
            Scheduler::from_name("mine"),
            Scheduler::Other("mine".into())
        );
    }

    #[test]
    fn sched_flag_names_follow_the_scheduler() {
        let both = SchedFlags::FALLBACK | SchedFlags::PORT;
        assert_eq!(
            both.names(&Scheduler::SourceHashing),
            ["sh-fallback", "sh-port"]
        );
        assert_eq!(
            both.names(&Scheduler::MaglevHashing),
            ["mh-fallback", "mh-port"]
        );
        assert_eq!(
            (both | SchedFlags::FLAG_3).names(&Scheduler::RoundRobin),
            ["flag-1", "flag-2", "flag-3"]
        );
        // The bits on the wire: see `wire::convert`.
    }

    #[test]
    #[cfg(feature = "serde")]
    fn json_form_of_a_service() {
        let svc = Service::new(ServiceKey::udp(Ipv4Addr::new(10, 0, 0, 1), 53))
            .with_scheduler(Scheduler::SourceHashing)
            .with_persistence(Persistence {
                timeout: 60,
                netmask: Some(Netmask::Ipv4(Ipv4Addr::new(255, 255, 255, 0))),
            });
        let mut svc = svc;
        svc.sched_flags = SchedFlags::PORT;
        let json = serde_json::to_string(&svc).expect("serializes");
        assert_eq!(
            json,
            r#"{"family":"ipv4","protocol":"udp","address":"10.0.0.1","port":53,"scheduler":"sh","scheduler_flags":["sh-port"],"persistence":{"timeout":60,"netmask":"255.255.255.0","prefix_length":24},"one_packet":false}"#
        );
        assert_eq!(serde_json::from_str::<Service>(&json).expect("parses"), svc);
        let fwm: Service =
            serde_json::from_str(r#"{"fwmark": 7, "family": "ipv6", "scheduler": "rr"}"#)
                .expect("parses");
        assert_eq!(fwm.key, ServiceKey::fwmark(AddressFamily::Ipv6, 7));
    }

    #[test]
    #[cfg(feature = "serde")]
    fn json_errors_say_what_is_wrong() {
        let err = |s: &str| serde_json::from_str::<Service>(s).unwrap_err().to_string();
        assert!(
            err(r#"{"protocol":"tcp","address":"10.0.0.1","port":80,"weight":1}"#)
                .contains("unknown field `weight`")
        );
        assert!(err(r#"{"protocol":"tcp","address":"10.0.0.1","fwmark":3}"#).contains("not both"));
        assert!(
            err(r#"{"protocol":"icmp","address":"10.0.0.1"}"#).contains("unknown protocol `icmp`")
        );
        assert!(
            err(r#"{"family":"ipv6","protocol":"tcp","address":"10.0.0.1","port":1}"#)
                .contains("is not ipv6")
        );
        assert!(
            err(r#"{"protocol":"tcp","address":"10.0.0.1","port":1,"scheduler_flags":["fast"]}"#)
                .contains("unknown scheduler flag")
        );
    }
}
