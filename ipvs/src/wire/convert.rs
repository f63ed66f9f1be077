//! `From`/`TryFrom` between the domain types and the typed payloads of
//! `ipvs-sys`. A `TryFrom` that fails gives back the payload it could not
//! read, unknown value and all.

use ipvs_sys::{
    IpvsAddressFamily, IpvsDaemonState, IpvsFwdMethod, IpvsServiceFlags, IpvsTunnelFlags,
    IpvsTunnelType,
};

use crate::daemon::DaemonRole;
use crate::destination::{ForwardMethod, TunnelChecksum, TunnelKind};
use crate::key::AddressFamily;
use crate::service::SchedFlags;

impl From<AddressFamily> for IpvsAddressFamily {
    fn from(family: AddressFamily) -> Self {
        match family {
            AddressFamily::Ipv4 => Self::Inet,
            AddressFamily::Ipv6 => Self::Inet6,
        }
    }
}

impl TryFrom<IpvsAddressFamily> for AddressFamily {
    type Error = IpvsAddressFamily;

    /// IPv4 or IPv6; any other family is not one IPVS has.
    fn try_from(family: IpvsAddressFamily) -> Result<Self, Self::Error> {
        match family {
            IpvsAddressFamily::Inet => Ok(Self::Ipv4),
            IpvsAddressFamily::Inet6 => Ok(Self::Ipv6),
            other => Err(other),
        }
    }
}

impl From<ForwardMethod> for IpvsFwdMethod {
    fn from(method: ForwardMethod) -> Self {
        match method {
            ForwardMethod::Masq => Self::Masq,
            ForwardMethod::Local => Self::LocalNode,
            ForwardMethod::Tunnel => Self::Tunnel,
            ForwardMethod::Route => Self::DRoute,
        }
    }
}

impl TryFrom<IpvsFwdMethod> for ForwardMethod {
    type Error = IpvsFwdMethod;

    /// The method of the low bits (`IP_VS_CONN_F_FWD_MASK`), other connection
    /// flags ignored; bypass and unnamed methods are not ones a real server has.
    fn try_from(method: IpvsFwdMethod) -> Result<Self, Self::Error> {
        match method.masked() {
            IpvsFwdMethod::Masq => Ok(Self::Masq),
            IpvsFwdMethod::LocalNode => Ok(Self::Local),
            IpvsFwdMethod::Tunnel => Ok(Self::Tunnel),
            IpvsFwdMethod::DRoute => Ok(Self::Route),
            _ => Err(method),
        }
    }
}

impl From<TunnelKind> for IpvsTunnelType {
    fn from(kind: TunnelKind) -> Self {
        match kind {
            TunnelKind::Ipip => Self::Ipip,
            TunnelKind::Gue => Self::Gue,
            TunnelKind::Gre => Self::Gre,
        }
    }
}

impl TryFrom<IpvsTunnelType> for TunnelKind {
    type Error = IpvsTunnelType;

    fn try_from(kind: IpvsTunnelType) -> Result<Self, Self::Error> {
        match kind {
            IpvsTunnelType::Ipip => Ok(Self::Ipip),
            IpvsTunnelType::Gue => Ok(Self::Gue),
            IpvsTunnelType::Gre => Ok(Self::Gre),
            other => Err(other),
        }
    }
}

impl From<TunnelChecksum> for IpvsTunnelFlags {
    fn from(checksum: TunnelChecksum) -> Self {
        match checksum {
            TunnelChecksum::None => Self::NOCSUM,
            TunnelChecksum::Checksum => Self::CSUM,
            TunnelChecksum::Remote => Self::REMCSUM,
        }
    }
}

impl TryFrom<IpvsTunnelFlags> for TunnelChecksum {
    type Error = IpvsTunnelFlags;

    /// Exactly one of the kernel's settings: none, `CSUM` or `REMCSUM`.
    fn try_from(flags: IpvsTunnelFlags) -> Result<Self, Self::Error> {
        if flags == IpvsTunnelFlags::NOCSUM {
            Ok(Self::None)
        } else if flags == IpvsTunnelFlags::CSUM {
            Ok(Self::Checksum)
        } else if flags == IpvsTunnelFlags::REMCSUM {
            Ok(Self::Remote)
        } else {
            Err(flags)
        }
    }
}

impl From<DaemonRole> for IpvsDaemonState {
    fn from(role: DaemonRole) -> Self {
        match role {
            DaemonRole::Master => Self::MASTER,
            DaemonRole::Backup => Self::BACKUP,
        }
    }
}

impl TryFrom<IpvsDaemonState> for DaemonRole {
    type Error = IpvsDaemonState;

    /// Exactly master or exactly backup: a listed daemon is one of them.
    fn try_from(state: IpvsDaemonState) -> Result<Self, Self::Error> {
        if state == IpvsDaemonState::MASTER {
            Ok(Self::Master)
        } else if state == IpvsDaemonState::BACKUP {
            Ok(Self::Backup)
        } else {
            Err(state)
        }
    }
}

/// The scheduler flags and the `IP_VS_SVC_F_SCHED*` bits, in order.
const SCHED_BITS: [(SchedFlags, IpvsServiceFlags); 3] = [
    (SchedFlags::FLAG_1, IpvsServiceFlags::SCHED1),
    (SchedFlags::FLAG_2, IpvsServiceFlags::SCHED2),
    (SchedFlags::FLAG_3, IpvsServiceFlags::SCHED3),
];

impl From<SchedFlags> for IpvsServiceFlags {
    /// The `IP_VS_SVC_F_SCHED*` bits of the scheduler flags.
    fn from(flags: SchedFlags) -> Self {
        SCHED_BITS
            .into_iter()
            .filter(|(sched, _)| flags.contains(*sched))
            .fold(Self::empty(), |bits, (_, bit)| bits | bit)
    }
}

impl From<IpvsServiceFlags> for SchedFlags {
    /// The scheduler flags among service flags (the other bits ignored).
    fn from(bits: IpvsServiceFlags) -> Self {
        SCHED_BITS
            .into_iter()
            .filter(|(_, bit)| bits.contains(*bit))
            .fold(Self::NONE, |flags, (sched, _)| flags | sched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sched_flags_are_the_sched_bits_of_the_service_flags() {
        let both = SchedFlags::FALLBACK | SchedFlags::PORT;
        assert_eq!(
            SchedFlags::from(IpvsServiceFlags::from_bits_retain(0x1b)),
            both
        );
        assert_eq!(IpvsServiceFlags::from(both).bits(), 0x18);
        assert_eq!(
            IpvsServiceFlags::from(SchedFlags::ALL),
            IpvsServiceFlags::SCHED_MASK
        );
    }

    #[test]
    fn domain_values_round_trip_through_payloads() {
        for f in [AddressFamily::Ipv4, AddressFamily::Ipv6] {
            assert_eq!(AddressFamily::try_from(IpvsAddressFamily::from(f)), Ok(f));
        }
        for m in [
            ForwardMethod::Masq,
            ForwardMethod::Local,
            ForwardMethod::Tunnel,
            ForwardMethod::Route,
        ] {
            assert_eq!(ForwardMethod::try_from(IpvsFwdMethod::from(m)), Ok(m));
        }
        for k in [TunnelKind::Ipip, TunnelKind::Gue, TunnelKind::Gre] {
            assert_eq!(TunnelKind::try_from(IpvsTunnelType::from(k)), Ok(k));
        }
        for c in [
            TunnelChecksum::None,
            TunnelChecksum::Checksum,
            TunnelChecksum::Remote,
        ] {
            assert_eq!(TunnelChecksum::try_from(IpvsTunnelFlags::from(c)), Ok(c));
        }
        for r in [DaemonRole::Master, DaemonRole::Backup] {
            assert_eq!(DaemonRole::try_from(IpvsDaemonState::from(r)), Ok(r));
        }
    }

    #[test]
    fn unknown_payloads_are_given_back() {
        assert_eq!(
            AddressFamily::try_from(IpvsAddressFamily::from(99)),
            Err(IpvsAddressFamily::Other(99))
        );
        // The forwarding method is the low three bits of the connection flags.
        assert_eq!(
            ForwardMethod::try_from(IpvsFwdMethod::from(0x23)),
            Ok(ForwardMethod::Route)
        );
        assert!(ForwardMethod::try_from(IpvsFwdMethod::Bypass).is_err());
        assert!(TunnelKind::try_from(IpvsTunnelType::from(3)).is_err());
        assert!(TunnelChecksum::try_from(IpvsTunnelFlags::from_bits_retain(3)).is_err());
        assert!(DaemonRole::try_from(IpvsDaemonState::from_bits_retain(3)).is_err());
    }
}
