//! Desired state: a whole table as configuration, read from the JSON table
//! document with the line of every problem, and checked before anything
//! reaches the kernel; the plan from a table to it ([`plan`]), its
//! application ([`apply`]), and the JSON documents ([`json`]).

pub(crate) mod apply;
pub(crate) mod json;
#[cfg(test)]
pub(crate) mod model;
pub(crate) mod order;
pub(crate) mod plan;

use std::collections::BTreeMap;

use rustc_hash::FxHashSet;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::destination::Destination;
use crate::error::{Error, Operation, Result};
use crate::service::Service;
use crate::stats::ServiceInfo;
use json::{
    DESTINATION_FIELDS, DESTINATION_OBSERVED, DestinationJson, OLDEST_SCHEMA_VERSION,
    SCHEMA_VERSION, SERVICE_FIELDS, SERVICE_OBSERVED, ServiceJson, json_document, service_spec,
    service_spec_json,
};

/// A virtual service and the real servers it should have.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceSpec {
    /// The service.
    pub service: Service,
    /// Its real servers.
    pub destinations: Vec<Destination>,
}

/// The services as they should be. In JSON, the table document
/// (`{"schema_version": 2, "services": [...]}`), the same that a listing
/// prints: a listing's observed fields (counters, connections) are ignored.
///
/// ```
/// use ipvs::{DesiredState, DiffOptions, ServiceKey, diff};
///
/// let desired = DesiredState::from_json(
///     r#"{"services": [{"protocol": "tcp", "address": "192.0.2.1", "port": 80,
///         "destinations": [{"address": "10.0.0.11"}, {"address": "10.0.0.12", "weight": 2}]}]}"#,
/// )?;
/// let web: ServiceKey = "tcp 192.0.2.1:80".parse()?;
/// assert_eq!(desired.services[0].service.key, web);
/// // Real servers without a port take the service's.
/// assert_eq!(desired.services[0].destinations[1].port, 80);
/// // From an empty table: add the service, then its two real servers.
/// let plan = diff(&[], &desired, &DiffOptions::default());
/// assert_eq!(plan.steps.len(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct DesiredState {
    /// The services; what other services the kernel has is left alone,
    /// unless the plan's [`Scope`](crate::Scope) says otherwise.
    pub services: Vec<ServiceSpec>,
}

/// The table document with each service left as its text, so that a problem
/// can be given its line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentText<'a> {
    #[serde(default = "crate::desired::json::schema_version")]
    schema_version: u32,
    #[serde(borrow)]
    services: Vec<&'a RawValue>,
}

/// A service's real servers, each left as its text (other fields ignored).
#[derive(Deserialize)]
struct DestinationsText<'a> {
    #[serde(borrow, default)]
    destinations: Option<Vec<&'a RawValue>>,
}

/// Line numbers of the parts of a document, counted as they are met (the
/// parts come in order, so counting goes through the text once).
struct LineCounter<'a> {
    text: &'a str,
    offset: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            offset: 0,
            line: 1,
        }
    }

    /// The line on which `part`, a slice of the document, starts.
    fn line_of(&mut self, part: &str) -> usize {
        let at = offset_in(self.text, part);
        if at < self.offset {
            // Out of order: count again from the start.
            self.offset = 0;
            self.line = 1;
        }
        self.line += self.text.as_bytes()[self.offset..at]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.offset = at;
        self.line
    }
}

/// Where `part`, a slice of `text`, starts in it.
fn offset_in(text: &str, part: &str) -> usize {
    (part.as_ptr() as usize)
        .saturating_sub(text.as_ptr() as usize)
        .min(text.len())
}

/// The column (from 1) at which `part`, a slice of `text`, starts.
fn column_of(text: &str, part: &str) -> usize {
    let at = offset_in(text, part);
    let line_start = text.as_bytes()[..at]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    at - line_start + 1
}

/// serde_json's message as `line L column C: PATH: message`, its position
/// counted in the whole document: the parsed text started at `line`,
/// `column`; `path` (such as `services[0]`) is left out when empty.
fn located(e: &serde_json::Error, line: usize, column: usize, path: &str) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = text.strip_suffix(&suffix).unwrap_or(&text);
    let column = if e.line() <= 1 {
        column + e.column().saturating_sub(1)
    } else {
        e.column()
    };
    let line = line + e.line().saturating_sub(1);
    if path.is_empty() {
        format!("line {line} column {column}: {message}")
    } else {
        format!("line {line} column {column}: {path}: {message}")
    }
}

/// Refuses a member of the object `raw` (a slice of `text`, at `line`) that
/// is neither one of `fields` nor one of `observed` (which are ignored): the
/// first such member, by its place, named with `path` and with only `fields`
/// as the expected ones.
fn check_members(
    text: &str,
    raw: &RawValue,
    line: usize,
    path: &str,
    fields: &[&str],
    observed: &[&str],
) -> std::result::Result<(), String> {
    let members: BTreeMap<String, &RawValue> = serde_json::from_str(raw.get())
        .map_err(|e| located(&e, line, column_of(text, raw.get()), path))?;
    let unknown = members
        .iter()
        .filter(|(name, _)| !fields.contains(&name.as_str()) && !observed.contains(&name.as_str()))
        .min_by_key(|(_, value)| offset_in(text, value.get()));
    let Some((name, value)) = unknown else {
        return Ok(());
    };
    // The member's name, found before its value (or the value, if the name
    // is written with escapes).
    let object = raw.get();
    let value_at = offset_in(object, value.get());
    let at = object[..value_at]
        .rfind(&format!("\"{name}\""))
        .map_or(value.get(), |i| &object[i..]);
    let expected = fields
        .iter()
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut lines = LineCounter::new(text);
    Err(format!(
        "line {} column {}: {path}: unknown field `{name}`, expected one of {expected}",
        lines.line_of(at),
        column_of(text, at)
    ))
}

/// A problem with a service or one of its real servers: which, and why.
struct Problem {
    service: usize,
    destination: Option<usize>,
    reason: String,
}

impl ServiceSpec {
    /// A service that should have these real servers.
    #[must_use]
    pub fn new(service: Service, destinations: Vec<Destination>) -> Self {
        Self {
            service,
            destinations,
        }
    }
}

impl DesiredState {
    /// A table of these services.
    #[must_use]
    pub fn new(services: Vec<ServiceSpec>) -> Self {
        Self { services }
    }

    /// Reads a table document (schema 2, or 1). A real server without a
    /// `port` gets its service's, and a number as an IPv4 service's netmask
    /// is a prefix length (see [`Persistence`](crate::Persistence)).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) with
    /// the line and reason of the first problem: JSON syntax, an unknown or
    /// mistyped field (with its path, such as
    /// `services[0].destinations[1]`), an invalid or repeated service or
    /// real server, a `schema_version` other than 1 or 2.
    pub fn from_json(text: &str) -> Result<Self> {
        Self::from_json_with_notes(text).map(|(state, _)| state)
    }

    /// Reads a table document as [`from_json`](Self::from_json) does, with
    /// notes for the person who wrote it: today one, when the document is of
    /// schema version 1 (still read; listings now write version 2). A
    /// command line prints each note on its standard error.
    ///
    /// ```
    /// use ipvs::DesiredState;
    ///
    /// let (state, notes) = DesiredState::from_json_with_notes(
    ///     r#"{"schema_version": 1, "services": [{"protocol": "tcp", "address": "192.0.2.1", "port": 80}]}"#,
    /// )?;
    /// assert_eq!(state.services.len(), 1);
    /// assert!(notes[0].starts_with("schema_version 1"));
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`from_json`](Self::from_json).
    pub fn from_json_with_notes(text: &str) -> Result<(Self, Vec<String>)> {
        let op = Operation::ReadDesiredState;
        let doc: DocumentText<'_> =
            serde_json::from_str(text).map_err(|e| Error::invalid(op, located(&e, 1, 1, "")))?;
        let mut notes = Vec::new();
        match doc.schema_version {
            SCHEMA_VERSION => {}
            OLDEST_SCHEMA_VERSION => notes.push(format!(
                "schema_version {OLDEST_SCHEMA_VERSION} is read as {SCHEMA_VERSION} (the table's fields are the same; listings now write {SCHEMA_VERSION})"
            )),
            other => {
                return Err(Error::invalid(
                    op,
                    format!(
                        "schema_version {other} is not supported (this version reads {OLDEST_SCHEMA_VERSION} and {SCHEMA_VERSION})"
                    ),
                ));
            }
        }
        let mut lines = LineCounter::new(text);
        let mut service_lines = Vec::with_capacity(doc.services.len());
        let mut destination_lines = Vec::with_capacity(doc.services.len());
        let mut services = Vec::with_capacity(doc.services.len());
        for (i, raw) in doc.services.iter().enumerate() {
            let path = format!("services[{i}]");
            let line = lines.line_of(raw.get());
            let column = column_of(text, raw.get());
            service_lines.push(line);
            check_members(text, raw, line, &path, SERVICE_FIELDS, SERVICE_OBSERVED)
                .map_err(|e| Error::invalid(op, e))?;
            let listed: DestinationsText<'_> = serde_json::from_str(raw.get())
                .map_err(|e| Error::invalid(op, located(&e, line, column, &path)))?;
            let listed = listed.destinations.unwrap_or_default();
            let mut dest_lines = Vec::with_capacity(listed.len());
            let mut dests = Vec::with_capacity(listed.len());
            for (j, d) in listed.iter().enumerate() {
                let path = format!("{path}.destinations[{j}]");
                let line = lines.line_of(d.get());
                dest_lines.push(line);
                check_members(
                    text,
                    d,
                    line,
                    &path,
                    DESTINATION_FIELDS,
                    DESTINATION_OBSERVED,
                )
                .map_err(|e| Error::invalid(op, e))?;
                let dest: DestinationJson = serde_json::from_str(d.get()).map_err(|e| {
                    Error::invalid(op, located(&e, line, column_of(text, d.get()), &path))
                })?;
                dests.push(dest);
            }
            let json: ServiceJson = serde_json::from_str(raw.get())
                .map_err(|e| Error::invalid(op, located(&e, line, column, &path)))?;
            let (service, destinations) = service_spec(json, dests).map_err(|(j, e)| match j {
                Some(j) => Error::invalid(
                    op,
                    format!("line {}: {path}.destinations[{j}]: {e}", dest_lines[j]),
                ),
                None => Error::invalid(op, format!("line {line}: {path}: {e}")),
            })?;
            destination_lines.push(dest_lines);
            services.push(ServiceSpec {
                service,
                destinations,
            });
        }
        let state = Self { services };
        if let Some(p) = state.first_problem() {
            let line = p
                .destination
                .and_then(|d| destination_lines[p.service].get(d).copied())
                .unwrap_or(service_lines[p.service]);
            return Err(Error::invalid(op, format!("line {line}: {}", p.reason)));
        }
        Ok((state, notes))
    }

    /// The table document, pretty-printed.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Table {
            services: Vec<ServiceJson>,
        }
        json_document(&Table {
            services: self
                .services
                .iter()
                .map(|s| service_spec_json(&s.service, &s.destinations))
                .collect(),
        })
    }

    /// The configuration part of a table read from the kernel.
    pub fn from_table(table: &[ServiceInfo]) -> Self {
        Self {
            services: table
                .iter()
                .map(|s| ServiceSpec {
                    service: s.service.clone(),
                    destinations: s
                        .destinations
                        .iter()
                        .map(|d| d.destination.clone())
                        .collect(),
                })
                .collect(),
        }
    }

    /// Checks every service and real server ([`Service::validate`],
    /// [`Destination::validate`]), and that none is listed twice. Whether a
    /// locally forwarded real server's address is the director's is checked
    /// by [`Ipvs::apply`](crate::Ipvs::apply) and [`Ipvs::plan`](crate::Ipvs::plan).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument)
    /// naming the first problem.
    pub fn validate(&self) -> Result<()> {
        match self.first_problem() {
            Some(p) => Err(Error::invalid(Operation::ReadDesiredState, p.reason)),
            None => Ok(()),
        }
    }

    fn first_problem(&self) -> Option<Problem> {
        let mut keys = FxHashSet::default();
        for (i, spec) in self.services.iter().enumerate() {
            let key = spec.service.key;
            let problem = |destination, reason| {
                Some(Problem {
                    service: i,
                    destination,
                    reason,
                })
            };
            if !keys.insert(key) {
                return problem(None, format!("service {key} is listed twice"));
            }
            if let Err(e) = spec.service.validate() {
                return problem(None, format!("service {key}: {e}"));
            }
            let mut dests = FxHashSet::default();
            for (j, d) in spec.destinations.iter().enumerate() {
                if !dests.insert((d.address, d.port)) {
                    return problem(
                        Some(j),
                        format!("service {key}: real server {d} is listed twice"),
                    );
                }
                if let Err(e) = d.validate(&key) {
                    return problem(Some(j), format!("service {key}: real server {d}: {e}"));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::destination::ForwardMethod;
    use crate::key::ServiceKey;
    use crate::service::{Netmask, Persistence};
    use std::net::Ipv4Addr;

    fn svc(port: u16) -> Service {
        Service::new(ServiceKey::tcp(Ipv4Addr::new(10, 0, 0, 1), port))
    }

    fn rs(host: u8) -> Destination {
        Destination::new(Ipv4Addr::new(192, 0, 2, host), 80, ForwardMethod::Route)
    }

    fn err(text: &str) -> String {
        match DesiredState::from_json(text) {
            Ok(state) => panic!("accepted: {state:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn json_documents_are_checked() {
        assert!(err(r#"{"services": [{"protocol":"tcp","address":"10.0.0.1","port":80},{"protocol":"tcp","address":"10.0.0.1","port":80}]}"#)
            .contains("listed twice"));
        assert!(
            err(r#"{"schema_version": 3, "services": []}"#)
                .contains("schema_version 3 is not supported (this version reads 1 and 2)")
        );
        assert!(err(r#"{"services": [{"protocol":"tcp","address":"10.0.0.1","port":80,"destinations":[{"address":"192.0.2.1","port":80,"weight":-1}]}]}"#)
            .contains("invalid value: integer `-1`"));
        assert!(
            err("{\"services\": [\n  {\"protocol\":\"tcp\"}\n]}")
                .contains("line 2: services[0]: a service with a `protocol` needs an `address`")
        );
        assert!(
            err("{\"services\": [\n  {\"protocol\":\"tcp\",\n \"adress\": 1}]}")
                .contains("line 3 column 2: services[0]: unknown field `adress`")
        );
        let ok = DesiredState::from_json(r#"{"services": [{"protocol":"tcp","address":"10.0.0.1","port":80,"destinations":[{"address":"192.0.2.1","port":80}]}]}"#)
            .expect("a minimal document");
        assert_eq!(
            ok.services,
            vec![ServiceSpec {
                service: svc(80),
                destinations: vec![rs(1)]
            }]
        );
        assert_eq!(
            DesiredState::from_json(&ok.to_json()).expect("round trip"),
            ok
        );
    }

    #[test]
    fn a_bad_entry_in_the_middle_is_named_by_its_line() {
        let doc = r#"{
  "schema_version": 1,
  "services": [
    {"protocol": "tcp", "address": "10.0.0.1", "port": 80,
     "destinations": [
       {"address": "192.0.2.1", "port": 80},
       {"address": "192.0.2.2", "port": 80, "forward": "tunnel",
        "tunnel": {"type": "gue"}}
     ]},
    {"protocol": "tcp", "address": "10.0.0.1", "port": 443},
    {"protocol": "tcp", "address": "10.0.0.1", "port": 443}
  ]
}"#;
        assert_eq!(
            err(doc),
            "read desired state: invalid argument: line 7: service tcp 10.0.0.1:80: real server 192.0.2.2:80 tunnel weight 1: a GUE tunnel needs a port"
        );
        let fixed = doc.replace(r#""type": "gue""#, r#""type": "gue", "port": 6080"#);
        assert_eq!(
            err(&fixed),
            "read desired state: invalid argument: line 11: service tcp 10.0.0.1:443 is listed twice"
        );
        let typo = fixed.replace(r#""port": 443}"#, r#""port": 443, "schduler": "rr"}"#);
        assert_eq!(
            err(&typo),
            "read desired state: invalid argument: line 10 column 61: services[1]: unknown field `schduler`, expected one of `family`, `protocol`, `address`, `port`, `fwmark`, `scheduler`, `scheduler_flags`, `persistence`, `persistence_engine`, `one_packet`, `destinations`"
        );
        assert!(
            err("{\"services\": [\n{},\n")
                .starts_with("read desired state: invalid argument: line 3 column ")
        );
    }

    #[test]
    fn a_real_server_problem_names_its_path_and_only_configuration_fields() {
        let doc = r#"{
  "schema_version": 2,
  "services": [
    {"protocol": "tcp", "address": "10.0.0.1", "port": 80,
     "stats": {"connections": 1, "in_packets": 0, "out_packets": 0, "in_bytes": 0,
               "out_bytes": 0, "cps": 0, "in_pps": 0, "out_pps": 0, "in_bps": 0, "out_bps": 0},
     "destinations": [
       {"address": "192.0.2.1", "port": 80, "active_connections": 3, "inactive_connections": 0},
       {"address": "192.0.2.2", "port": 80,
        "wieght": 2}
     ]}
  ]
}"#;
        assert_eq!(
            err(doc),
            "read desired state: invalid argument: line 10 column 9: services[0].destinations[1]: unknown field `wieght`, expected one of `address`, `port`, `forward`, `tunnel`, `weight`, `upper_threshold`, `lower_threshold`"
        );
        // A mistyped value: serde's message, at its place, with the path.
        assert_eq!(
            err(&doc.replace(r#""wieght": 2"#, r#""weight": "2""#)),
            "read desired state: invalid argument: line 10 column 21: services[0].destinations[1]: invalid type: string \"2\", expected u32"
        );
        // A real server that does not convert: its path too.
        assert_eq!(
            err(&doc.replace(r#""wieght": 2"#, r#""tunnel": {"type": "gre"}"#)),
            "read desired state: invalid argument: line 9: services[0].destinations[1]: real server 192.0.2.2: `tunnel` needs `\"forward\": \"tunnel\"`, not route"
        );
        // Observed fields are read and ignored.
        let ok = DesiredState::from_json(
            &doc.replace(r#","wieght": 2"#, "")
                .replace(",\n        \"wieght\": 2", ""),
        )
        .expect("observed fields are ignored");
        assert_eq!(ok.services[0].destinations.len(), 2);
    }

    #[test]
    fn schema_1_documents_are_read_with_a_note() {
        let v1 = r#"{"schema_version": 1, "services": [
            {"protocol": "udp", "address": "10.0.0.1", "port": 53,
             "persistence": {"timeout": 60, "netmask": "255.255.255.0"}},
            {"protocol": "udp", "address": "2001:db8::1", "port": 53,
             "persistence": {"timeout": 60, "netmask": 64}},
            {"protocol": "udp", "address": "10.0.0.2", "port": 53,
             "persistence": {"timeout": 60, "netmask": 16}}]}"#;
        let (state, notes) = DesiredState::from_json_with_notes(v1).expect("schema 1 reads");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("schema_version 1 is read as 2"),
            "{notes:?}"
        );
        let masks: Vec<_> = state
            .services
            .iter()
            .map(|s| s.service.persistence.and_then(|p| p.netmask))
            .collect();
        assert_eq!(
            masks,
            [
                Some(Netmask::Ipv4(Ipv4Addr::new(255, 255, 255, 0))),
                Some(Netmask::Ipv6(64)),
                Some(Netmask::Ipv4(Ipv4Addr::new(255, 255, 0, 0))),
            ]
        );
        // Written as schema 2: a mask with its prefix length, IPv6 a prefix length.
        let v2 = state.to_json();
        assert!(v2.contains(r#""schema_version": 2"#), "{v2}");
        assert!(
            v2.contains("\"netmask\": \"255.255.255.0\",\n        \"prefix_length\": 24"),
            "{v2}"
        );
        assert!(!v2.contains("\"netmask\": 64"), "{v2}");
        let (again, notes) = DesiredState::from_json_with_notes(&v2).expect("schema 2 reads");
        assert_eq!((again, notes), (state, vec![]));
        // A document without a version is read as the current one, silently.
        let (_, notes) =
            DesiredState::from_json_with_notes(r#"{"services": []}"#).expect("no version");
        assert!(notes.is_empty());
    }

    #[test]
    fn netmask_and_prefix_length_must_agree() {
        let svc = |persistence: &str| {
            format!(
                r#"{{"services": [{{"protocol": "tcp", "address": "10.0.0.1", "port": 0, "persistence": {persistence}}}]}}"#
            )
        };
        let state = DesiredState::from_json(&svc(
            r#"{"timeout": 30, "netmask": "255.255.0.0", "prefix_length": 16}"#,
        ))
        .expect("agreeing");
        assert_eq!(
            state.services[0].service.persistence,
            Some(Persistence::new(30).with_netmask(Netmask::Ipv4(Ipv4Addr::new(255, 255, 0, 0))))
        );
        assert!(
            err(&svc(r#"{"timeout": 30, "netmask": "255.255.0.0", "prefix_length": 24}"#))
                .contains("line 1: services[0]: persistence `netmask` 255.255.0.0 and `prefix_length` 24 disagree")
        );
        assert!(err(&svc(r#"{"timeout": 30, "prefix_length": 33}"#)).contains("prefix length 33"));
        // A mask that is not a prefix (ipvsadm's -M takes any) has no prefix length.
        let odd = DesiredState::from_json(&svc(r#"{"timeout": 30, "netmask": "255.0.255.0"}"#))
            .expect("any mask");
        let json = odd.to_json();
        assert!(
            json.contains(r#""netmask": "255.0.255.0""#) && !json.contains("prefix_length"),
            "{json}"
        );
    }
}
