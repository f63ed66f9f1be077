//! `--json`: one JSON document per listing, of the library's schema version
//! ([`ipvs::SCHEMA_VERSION`], 2): the schema files are `schema/v2/*.json`
//! (table, connections, timeouts, daemons), the README lists the fields and
//! the stability policy. Numbers are numbers (64-bit counters exact),
//! addresses are strings, an address with its port is an object.

use ipvs::{Connection, ServiceInfo, SyncDaemon, Timeouts};
use serde::Serialize;

fn doc<T: Serialize>(body: &T) -> String {
    let mut text = ipvs::json_document(body);
    text.push('\n');
    text
}

/// The table (`-L`, with any of its variants): services with their real
/// servers, configuration and observed state.
pub(crate) fn table(services: &[ServiceInfo]) -> String {
    let mut text = ipvs::table_json(services);
    text.push('\n');
    text
}

/// The connection table (`-c`).
pub(crate) fn connections(conns: &[Connection]) -> String {
    #[derive(Serialize)]
    struct Body<'a> {
        connections: &'a [Connection],
    }
    doc(&Body { connections: conns })
}

/// The timeouts (`--timeout`).
pub(crate) fn timeouts(t: &Timeouts) -> String {
    #[derive(Serialize)]
    struct Body<'a> {
        timeouts: &'a Timeouts,
    }
    doc(&Body { timeouts: t })
}

/// The sync daemons (`--daemon`).
pub(crate) fn daemons(list: &[SyncDaemon]) -> String {
    #[derive(Serialize)]
    struct Body<'a> {
        daemons: &'a [SyncDaemon],
    }
    doc(&Body { daemons: list })
}
