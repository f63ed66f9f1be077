//! The `[route_health]` table of the native TOML, read into
//! [`RouteHealth`] (defaults from [`crate::config::route_health`]) and
//! written back with every value explicit.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use super::document::{FwmarkAddressesToml, RouteHealthFile, RouteHealthToml};
use super::read::{line_of, secs};
use super::write::seconds_of;
use crate::config::error::{ConfigError, Location};
use crate::config::model::VirtualServer;
use crate::config::route_health::{
    DEFAULT_PROTOCOL, DEFAULT_TABLE, FwmarkAddresses, HoldDown, RouteHealth, check_against,
    check_numbers,
};

/// `[route_health]` into the model, checked against the virtual servers.
///
/// # Errors
/// [`ConfigError::Invalid`] at the table's line (a `fwmarks` entry's own
/// line for its errors), naming the key.
pub(super) fn read(
    doc: Option<RouteHealthToml>,
    virtual_servers: &[VirtualServer],
    at: &dyn Fn(Range<usize>) -> Location,
    table_at: &Location,
) -> Result<Option<RouteHealth>, ConfigError> {
    let Some(doc) = doc else {
        return Ok(None);
    };
    let defaults = HoldDown::default();
    let key = |k: &str| format!("route_health.{k}");
    let table = doc.table.unwrap_or(DEFAULT_TABLE);
    let protocol = doc.protocol.unwrap_or(DEFAULT_PROTOCOL);
    check_numbers(table, protocol)
        .map_err(|why| ConfigError::invalid(table_at, key("table/protocol"), why))?;
    let hold_down = HoldDown {
        up: secs(doc.hold_down_up, &key("hold_down_up"), table_at)?.unwrap_or(defaults.up),
        down: secs(doc.hold_down_down, &key("hold_down_down"), table_at)?.unwrap_or(defaults.down),
        flap: secs(doc.flap_hold, &key("flap_hold"), table_at)?.unwrap_or(defaults.flap),
    };
    let mut fwmarks = Vec::new();
    for f in doc.fwmarks {
        let loc = at(f.span());
        let f = f.into_inner();
        let entry = FwmarkAddresses {
            mark: f.fwmark,
            addresses: f.addresses,
        };
        let alone = RouteHealth {
            fwmarks: vec![entry.clone()],
            ..RouteHealth::default()
        };
        check_against(&alone, virtual_servers)
            .map_err(|why| ConfigError::invalid(&loc, key("fwmarks"), why))?;
        fwmarks.push(entry);
    }
    let config = RouteHealth {
        table,
        protocol,
        hold_down,
        addresses: doc.addresses,
        fwmarks,
    };
    check_against(&config, virtual_servers)
        .map_err(|why| ConfigError::invalid(table_at, key("addresses"), why))?;
    Ok(Some(config))
}

/// Reads a TOML file holding `[route_health]` alone, for a configuration
/// that has no such table (a keepalived.conf: `--route-health FILE`),
/// checked against its `virtual_servers`.
///
/// # Errors
/// [`ConfigError::Read`], [`ConfigError::Syntax`] (TOML errors, unknown
/// keys, a missing `[route_health]`), [`ConfigError::Invalid`], each with
/// its line.
pub fn read_route_health_file(
    path: &Path,
    virtual_servers: &[VirtualServer],
) -> Result<RouteHealth, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        location: Location::new(path, 0),
        source,
    })?;
    let doc: RouteHealthFile = toml::from_str(&text).map_err(|e| ConfigError::Syntax {
        location: Location::new(path, e.span().map_or(0, |s| line_of(&text, s.start))),
        reason: e.message().trim().to_owned(),
    })?;
    let shared: Arc<Path> = Arc::from(path);
    let at = |span: Range<usize>| Location::shared(shared.clone(), line_of(&text, span.start));
    let table_line = text
        .lines()
        .position(|l| l.trim_start().starts_with("[route_health]"))
        .map_or(0, |i| i + 1);
    let table_at = Location::shared(shared.clone(), table_line);
    let config = read(Some(doc.route_health), virtual_servers, &at, &table_at)?;
    // `read` gives a value for a table that is present.
    Ok(config.unwrap_or_default())
}

/// The model's route health settings with every value explicit.
pub(super) fn write(config: &RouteHealth) -> RouteHealthToml {
    RouteHealthToml {
        table: Some(config.table),
        protocol: Some(config.protocol),
        hold_down_up: Some(seconds_of(config.hold_down.up)),
        hold_down_down: Some(seconds_of(config.hold_down.down)),
        flap_hold: Some(seconds_of(config.hold_down.flap)),
        addresses: config.addresses.clone(),
        fwmarks: config
            .fwmarks
            .iter()
            .map(|f| {
                toml::Spanned::new(
                    0..0,
                    FwmarkAddressesToml {
                        fwmark: f.mark,
                        addresses: f.addresses.clone(),
                    },
                )
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::path::Path;
    use std::time::Duration;

    use crate::config::route_health::{HoldDown, RouteHealth, sources};
    use crate::config::{Model, read_native_str, to_toml};

    const SERVICES: &str = r#"
[[services]]
protocol = "tcp"
address = "192.0.2.10"
port = 80
[[services.destinations]]
address = "198.51.100.11"

[[services]]
protocol = "udp"
address = "192.0.2.10"
port = 53
[[services.destinations]]
address = "198.51.100.11"

[[services]]
fwmark = 7
[[services.destinations]]
address = "198.51.100.12"
"#;

    fn read(route_health: &str) -> Result<Model, String> {
        let text = format!("{route_health}\n{SERVICES}");
        read_native_str(&text, Path::new("rh.toml"))
            .map(|l| l.model)
            .map_err(|e| e.to_string())
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn absent_table_announces_nothing() {
        assert_eq!(read("").expect("read").route_health, None);
    }

    #[test]
    fn defaults_and_sources() {
        let m = read("[route_health]").expect("read");
        let rh = m.route_health.clone().expect("route_health");
        assert_eq!(rh, RouteHealth::default());
        assert_eq!((rh.table, rh.protocol), (200, 201));
        assert_eq!(rh.hold_down, HoldDown::default());
        assert_eq!(rh.hold_down.up, Duration::from_secs(3));
        // Both services of 192.0.2.10; the mark has no address yet.
        let s = sources(&rh, &m.virtual_servers);
        assert_eq!(s.get(&ip("192.0.2.10")).map(Vec::len), Some(2), "{s:?}");
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn every_key_read_and_round_tripped() {
        let m = read(
            r#"
[route_health]
table = 100
protocol = 250
hold_down_up = 1.5
hold_down_down = 2
flap_hold = 30
addresses = ["192.0.2.20"]
[[route_health.fwmarks]]
fwmark = 7
addresses = ["192.0.2.20", "2001:db8::20"]
"#,
        )
        .expect("read");
        let rh = m.route_health.clone().expect("route_health");
        assert_eq!(rh.table, 100);
        assert_eq!(rh.protocol, 250);
        assert_eq!(rh.hold_down.up, Duration::from_millis(1500));
        assert_eq!(rh.hold_down.down, Duration::from_secs(2));
        assert_eq!(rh.hold_down.flap, Duration::from_secs(30));
        let s = sources(&rh, &m.virtual_servers);
        assert_eq!(
            s.keys().copied().collect::<Vec<_>>(),
            vec![ip("192.0.2.20")]
        );
        let again = read_native_str(&to_toml(&m).expect("toml"), Path::new("c.toml"))
            .expect("reads back")
            .model;
        assert_eq!(again, m);
    }

    /// A mark no virtual server has, in the entry on line 2.
    const UNKNOWN_MARK: &str =
        "[route_health]\n[[route_health.fwmarks]]\nfwmark = 8\naddresses = [\"192.0.2.20\"]";

    #[test]
    fn bad_values_are_named_with_their_line() {
        for (text, wanted) in [
            ("[route_health]\ntable = 0", "rh.toml:1: "),
            ("[route_health]\ntable = 254", "must be 1..=252"),
            ("[route_health]\nprotocol = 2", "the kernel's own"),
            ("[route_health]\nprotocol = 12", "BIRD's"),
            (
                "[route_health]\nhold_down_up = -1",
                "route_health.hold_down_up",
            ),
            ("[route_health]\nholddown = 3", "unknown field `holddown`"),
            (
                "[route_health]\naddresses = [\"192.0.2.99\"]",
                "192.0.2.99 is the address of no virtual server",
            ),
            (UNKNOWN_MARK, "rh.toml:2: "),
            (UNKNOWN_MARK, "no virtual server has fwmark 8"),
            (
                "[route_health]\n[[route_health.fwmarks]]\nfwmark = 7\naddresses = []",
                "fwmark 7 has no addresses",
            ),
        ] {
            let e = read(text).expect_err(text);
            assert!(e.contains(wanted), "{text}: {e}");
        }
    }
}
