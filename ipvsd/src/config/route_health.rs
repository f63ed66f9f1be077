//! Route health injection settings (native TOML `[route_health]`): which
//! virtual addresses ipvsd announces, through which kernel routing table
//! and routing protocol number, and the hold-down that keeps a flapping
//! service from flapping its route. The routing itself is BIRD's (its
//! `kernel` protocol learns the table and exports it over BGP); ipvsd only
//! writes the routes. keepalived has no such keyword.

use std::net::IpAddr;
use std::time::Duration;

/// The default routing table of announced routes: 200, a number iproute2's
/// `/etc/iproute2/rt_tables` gives no meaning (it names 253 `default`, 254
/// `main`, 255 `local`, 0 `unspec`).
pub const DEFAULT_TABLE: u32 = 200;

/// The default routing protocol number (`rtm_protocol`) of announced
/// routes: 201, unused by the kernel's `RTPROT_*` list
/// (`include/uapi/linux/rtnetlink.h`) and by iproute2's `rt_protos` (whose
/// highest entry is 192, `eigrp`).
pub const DEFAULT_PROTOCOL: u8 = 201;

/// The default up hold-down: healthy for 3 s before a route is announced.
pub const DEFAULT_HOLD_DOWN_UP: Duration = Duration::from_secs(3);

/// The default down hold-down: 0, a dead service stops drawing traffic at
/// once.
pub const DEFAULT_HOLD_DOWN_DOWN: Duration = Duration::from_secs(0);

/// The default flap hold: after a withdrawal the route stays away for at
/// least 10 s, however soon the service is healthy again.
pub const DEFAULT_FLAP_HOLD: Duration = Duration::from_secs(10);

/// `[route_health]`: present, ipvsd announces virtual addresses; absent,
/// nothing is announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteHealth {
    /// The kernel routing table the routes are written to, 1..=252 (253,
    /// 254 and 255 are the kernel's `default`, `main` and `local`, 0 is
    /// `unspec`); no `ip rule` should point at it, so that it changes no
    /// forwarding on the director.
    pub table: u32,
    /// The routes' `rtm_protocol`: how ipvsd recognises its own routes
    /// (stale ones from a crash are removed at start). 0..=4 are refused
    /// (the kernel's own: unspec, redirect, kernel, boot, static) and so is
    /// 12 (`bird`: BIRD takes such routes for its own).
    pub protocol: u8,
    /// The hold-downs.
    pub hold_down: HoldDown,
    /// `addresses`: only these virtual addresses are announced; `None`:
    /// every address of the configured virtual servers (and of `fwmarks`).
    pub addresses: Option<Vec<IpAddr>>,
    /// `[[route_health.fwmarks]]`: the addresses a firewall-mark virtual
    /// server stands for (a mark has no address of its own).
    pub fwmarks: Vec<FwmarkAddresses>,
}

impl Default for RouteHealth {
    fn default() -> Self {
        Self {
            table: DEFAULT_TABLE,
            protocol: DEFAULT_PROTOCOL,
            hold_down: HoldDown::default(),
            addresses: None,
            fwmarks: Vec::new(),
        }
    }
}

/// When an address's route follows its health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoldDown {
    /// `hold_down_up`: how long an address must be healthy without a break
    /// before it is announced (0: at once).
    pub up: Duration,
    /// `hold_down_down`: how long it must be unhealthy without a break
    /// before it is withdrawn (0: at once).
    pub down: Duration,
    /// `flap_hold`: after a withdrawal, the least time before the address
    /// is announced again (counted from the withdrawal; the up hold-down
    /// runs too).
    pub flap: Duration,
}

impl Default for HoldDown {
    fn default() -> Self {
        Self {
            up: DEFAULT_HOLD_DOWN_UP,
            down: DEFAULT_HOLD_DOWN_DOWN,
            flap: DEFAULT_FLAP_HOLD,
        }
    }
}

/// `[[route_health.fwmarks]] fwmark = N, addresses = [...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FwmarkAddresses {
    /// The mark of a configured firewall-mark virtual server.
    pub mark: u32,
    /// The addresses announced while it (and every other virtual server on
    /// each address) has quorum.
    pub addresses: Vec<IpAddr>,
}

/// Checks `table` and `protocol` against the rules of [`RouteHealth`].
///
/// # Errors
/// The reason, with the key named.
pub fn check_numbers(table: u32, protocol: u8) -> Result<(), String> {
    if !(1..=252).contains(&table) {
        return Err(format!(
            "table {table}: must be 1..=252 (0 is unspec, 253 default, 254 main, 255 local)"
        ));
    }
    if protocol <= 4 || protocol == 12 {
        return Err(format!(
            "protocol {protocol}: 0..=4 are the kernel's own (unspec, redirect, kernel, boot, static) and 12 is BIRD's; pick an unused number such as {DEFAULT_PROTOCOL}"
        ));
    }
    Ok(())
}

/// Each announced address with the virtual servers (by
/// `VirtualServer::name`) whose quorum it follows: every address service of
/// every virtual server (a group's members included), and each mark's
/// addresses from `fwmarks`; restricted to `addresses` when given.
pub fn sources(
    config: &RouteHealth,
    virtual_servers: &[super::VirtualServer],
) -> std::collections::BTreeMap<IpAddr, Vec<String>> {
    use ipvs::ServiceKey;
    let mut map: std::collections::BTreeMap<IpAddr, Vec<String>> = Default::default();
    for vs in virtual_servers {
        let name = vs.name();
        for key in &vs.services {
            let addresses: Vec<IpAddr> = match key {
                ServiceKey::Inet { address, .. } => vec![*address],
                ServiceKey::Fwmark { mark, .. } => config
                    .fwmarks
                    .iter()
                    .filter(|f| f.mark == *mark)
                    .flat_map(|f| f.addresses.iter().copied())
                    .collect(),
            };
            for address in addresses {
                let names = map.entry(address).or_default();
                if !names.contains(&name) {
                    names.push(name.clone());
                }
            }
        }
    }
    if let Some(only) = &config.addresses {
        map.retain(|a, _| only.contains(a));
    }
    map
}

/// Checks `config` against the virtual servers: each mark of `fwmarks` is
/// a configured firewall-mark virtual server's, and each of `addresses` is
/// one [`sources`] knows.
///
/// # Errors
/// The reason, naming the mark or address.
pub fn check_against(
    config: &RouteHealth,
    virtual_servers: &[super::VirtualServer],
) -> Result<(), String> {
    for f in &config.fwmarks {
        let known = virtual_servers.iter().any(|vs| {
            vs.services
                .iter()
                .any(|k| matches!(k, ipvs::ServiceKey::Fwmark { mark, .. } if *mark == f.mark))
        });
        if !known {
            return Err(format!("fwmarks: no virtual server has fwmark {}", f.mark));
        }
        if f.addresses.is_empty() {
            return Err(format!("fwmarks: fwmark {} has no addresses", f.mark));
        }
    }
    if let Some(only) = &config.addresses {
        let all = sources(
            &RouteHealth {
                addresses: None,
                ..config.clone()
            },
            virtual_servers,
        );
        if let Some(a) = only.iter().find(|a| !all.contains_key(a)) {
            return Err(format!(
                "addresses: {a} is the address of no virtual server (nor of a fwmark in fwmarks)"
            ));
        }
    }
    Ok(())
}
