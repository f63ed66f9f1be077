//! Desired state: a whole table as configuration, read from the JSON table
//! document with the line of every problem, and checked before anything
//! reaches the kernel; the plan from a table to it ([`plan`]), its
//! application ([`apply`]), and the JSON documents ([`json`]).

pub(crate) mod apply;
pub(crate) mod json;
pub(crate) mod plan;

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::destination::Destination;
use crate::error::{Error, Operation, Result};
use crate::service::Service;
use crate::stats::ServiceInfo;
use json::{SCHEMA_VERSION, ServiceJson, json_document, service_spec, service_spec_json};

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
/// (`{"schema_version": 1, "services": [...]}`), the same that a listing
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
        let at = (part.as_ptr() as usize).saturating_sub(self.text.as_ptr() as usize);
        let at = at.min(self.text.len());
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

/// The column (from 1) at which `part`, a slice of `text`, starts.
fn column_of(text: &str, part: &str) -> usize {
    let at = (part.as_ptr() as usize)
        .saturating_sub(text.as_ptr() as usize)
        .min(text.len());
    let line_start = text.as_bytes()[..at]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    at - line_start + 1
}

/// serde_json's message as `line L column C: message`, its position counted
/// in the whole document: the parsed text started at `line`, `column`.
fn located(e: &serde_json::Error, line: usize, column: usize) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = text.strip_suffix(&suffix).unwrap_or(&text);
    let column = if e.line() <= 1 {
        column + e.column().saturating_sub(1)
    } else {
        e.column()
    };
    format!(
        "line {} column {column}: {message}",
        line + e.line().saturating_sub(1)
    )
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

    /// Reads a table document. A real server without a `port` gets its
    /// service's, and a number as an IPv4 service's netmask is a prefix
    /// length (see [`Netmask`](crate::Netmask)).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) with
    /// the line and reason of the first problem: JSON syntax, an unknown or
    /// mistyped field, an invalid or repeated service or real server.
    pub fn from_json(text: &str) -> Result<Self> {
        let op = Operation::ReadDesiredState;
        let doc: DocumentText<'_> =
            serde_json::from_str(text).map_err(|e| Error::invalid(op, located(&e, 1, 1)))?;
        if doc.schema_version != SCHEMA_VERSION {
            return Err(Error::invalid(
                op,
                format!(
                    "schema_version {} is not supported (this version reads {SCHEMA_VERSION})",
                    doc.schema_version
                ),
            ));
        }
        let mut lines = LineCounter::new(text);
        let mut service_lines = Vec::with_capacity(doc.services.len());
        let mut services = Vec::with_capacity(doc.services.len());
        for (i, raw) in doc.services.iter().enumerate() {
            let line = lines.line_of(raw.get());
            service_lines.push(line);
            let json: ServiceJson = serde_json::from_str(raw.get()).map_err(|e| {
                let at = located(&e, line, column_of(text, raw.get()));
                Error::invalid(op, at.replacen(": ", &format!(": services[{i}]: "), 1))
            })?;
            let (service, destinations) = service_spec(json)
                .map_err(|e| Error::invalid(op, format!("line {line}: services[{i}]: {e}")))?;
            services.push(ServiceSpec {
                service,
                destinations,
            });
        }
        let state = Self { services };
        if let Some(p) = state.first_problem() {
            let line = match p.destination {
                Some(d) => {
                    let raw = doc.services[p.service];
                    let dests: Option<DestinationsText<'_>> = serde_json::from_str(raw.get()).ok();
                    let dest_raw = dests.and_then(|t| t.destinations?.get(d).copied());
                    match dest_raw {
                        Some(r) => LineCounter::new(text).line_of(r.get()),
                        None => service_lines[p.service],
                    }
                }
                None => service_lines[p.service],
            };
            return Err(Error::invalid(op, format!("line {line}: {}", p.reason)));
        }
        Ok(state)
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
        let mut keys = HashSet::new();
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
            let mut dests = HashSet::new();
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
            err(r#"{"schema_version": 2, "services": []}"#)
                .contains("schema_version 2 is not supported")
        );
        assert!(err(r#"{"services": [{"protocol":"tcp","address":"10.0.0.1","port":80,"destinations":[{"address":"192.0.2.1","port":80,"weight":-1}]}]}"#)
            .contains("invalid value: integer `-1`"));
        assert!(
            err("{\"services\": [\n  {\"protocol\":\"tcp\"}\n]}")
                .contains("line 2: services[0]: a service with a `protocol` needs an `address`")
        );
        assert!(
            err("{\"services\": [\n  {\"protocol\":\"tcp\",\n \"adress\": 1}]}")
                .contains("line 3 column 9: services[0]: unknown field `adress`")
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
            "read desired state: invalid argument: line 10 column 70: services[1]: unknown field `schduler`, expected one of `family`, `protocol`, `address`, `port`, `fwmark`, `scheduler`, `scheduler_flags`, `persistence`, `persistence_engine`, `one_packet`, `stats`, `destinations`"
        );
        assert!(
            err("{\"services\": [\n{},\n")
                .starts_with("read desired state: invalid argument: line 3 column ")
        );
    }
}
