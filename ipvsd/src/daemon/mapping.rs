//! The model's checkers (`config::checker`, plain data with keepalived's
//! defaults resolved) made into the runtime's probes (`check::Probe`,
//! `check::Timing`, `check::RealServerSpec`).
//!
//! The inheritance the model already resolved is taken as it is: a url's
//! `virtualhost` (the url's, else the checker's, else the real server's,
//! else the virtual server's; keepalived.conf(5) `virtualhost`), which is
//! also the SNI name when `enable_sni` is set without `sni_name`;
//! `misc_timeout` (default the virtual server's `delay_loop`); the
//! FILE_CHECK `weight` (the FILE_CHECK's, else its `track_file`'s, else 1).
//! What is left here: words of `misc_path`, `user` names looked up, regex
//! options, hex reply patterns, and keepalived's rule that FILE_CHECK has
//! no alpha (its file is read before anything goes into the table).

use std::time::Duration;

use crate::check::{
    self, CheckerSpec, ConnectOptions, Probe, RealServerSpec, ReplyPattern, RequireReply,
    StatusCodes, TlsOptions, UrlCheck,
};
use crate::config::checker::{self as model, CheckKind, Checker};
use crate::config::{Global, Model, RealServer, VirtualServer};

use super::reconcile::RealServerId;

/// Why a checker could not be made into a probe (a user that does not
/// exist on this host, a regex the `regex` crate refuses, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{server}: {keyword} #{index}: {reason}")]
pub struct MappingError {
    /// The real server, for the message (`tcp 192.0.2.1:80 -> 10.0.0.1:80`).
    pub server: String,
    /// The checker's keyword.
    pub keyword: &'static str,
    /// The checker's index in its real server.
    pub index: usize,
    /// What is wrong.
    pub reason: String,
}

/// The runtime timing of a model checker: the same values, `alpha` as the
/// initial state, the jitter as a fraction of the delay loop.
pub fn timing(kind: &CheckKind, t: &model::Timing) -> check::Timing {
    let file = matches!(kind, CheckKind::File(_));
    let jitter = if t.delay_loop.is_zero() {
        0.0
    } else {
        (t.jitter.as_secs_f64() / t.delay_loop.as_secs_f64()).clamp(0.0, 1.0)
    };
    check::Timing {
        delay_loop: t.delay_loop,
        retry: t.retry,
        delay_before_retry: t.delay_before_retry,
        // keepalived reads a tracked file at once, before the table is set.
        warmup: if file { Duration::ZERO } else { t.warmup },
        rise: t.rise.max(1),
        fall: t.fall.max(1),
        initial: if t.alpha || file {
            check::Health::Down
        } else {
            check::Health::Up
        },
        jitter,
    }
}

/// The connection options of a model checker.
fn connect(c: &model::Connect) -> ConnectOptions {
    ConnectOptions {
        connect: c.to,
        bind_ip: c.bind_address,
        bind_port: c.bind_port,
        bind_if: c.bind_interface.clone(),
        fwmark: c.fwmark,
        timeout: c.timeout,
    }
}

/// A url's body regex.
fn body_regex(r: &model::BodyRegex) -> Result<check::BodyRegex, String> {
    // PCRE2's pattern and options, as the configuration checked them.
    let pattern = crate::config::pcre_to_regex(&r.pattern, &r.options)?;
    let regex = regex::bytes::Regex::new(&pattern).map_err(|e| format!("regex: {e}"))?;
    let offset = |v: Option<u64>| v.map(|v| usize::try_from(v).unwrap_or(usize::MAX));
    let mut out = check::BodyRegex::new(regex);
    out.no_match = r.no_match;
    out.min_offset = offset(r.min_offset).unwrap_or(0);
    out.max_offset = offset(r.max_offset);
    Ok(out)
}

/// `require_reply` hex with `x` nibbles: the bytes, and the bits to ignore.
/// Whitespace is skipped; an odd last digit is a byte of its own.
fn reply_pattern(text: &str) -> Result<ReplyPattern, String> {
    let digits: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    let nibble = |c: char| -> Result<(u8, u8), String> {
        match c {
            'x' | 'X' => Ok((0, 0xf)),
            c => c
                .to_digit(16)
                .and_then(|d| u8::try_from(d).ok())
                .map(|d| (d, 0))
                .ok_or_else(|| format!("reply pattern: {c:?} is not a hex digit or x")),
        }
    };
    let (mut data, mut ignore) = (Vec::new(), Vec::new());
    for pair in digits.chunks(2) {
        let (mut d, mut m) = (0u8, 0u8);
        for &c in pair {
            let (nd, nm) = nibble(c)?;
            d = (d << 4) | nd;
            m = (m << 4) | nm;
        }
        data.push(d);
        ignore.push(m);
    }
    if ignore.iter().all(|&m| m == 0) {
        ignore.clear();
    }
    Ok(ReplyPattern { data, ignore })
}

/// The probe of a model checker, `global` giving `script_user`.
fn probe(c: &Checker, global: &Global) -> Result<Probe, String> {
    let conn = || {
        c.connect
            .as_ref()
            .map(connect)
            .ok_or_else(|| "no address to connect to".to_owned())
    };
    Ok(match &c.kind {
        CheckKind::Tcp => Probe::Tcp(check::TcpCheck { conn: conn()? }),
        CheckKind::Http(h) => {
            let mut urls = Vec::new();
            for u in &h.urls {
                let mut url = UrlCheck::new(u.path.clone());
                url.virtualhost = u.virtualhost.clone();
                if !u.status_codes.is_empty() {
                    url.status =
                        StatusCodes::new(u.status_codes.iter().map(|&(a, b)| a..=b).collect());
                }
                url.digest = match &u.digest {
                    Some(d) => Some(d.parse().map_err(|e| format!("digest: {e}"))?),
                    None => None,
                };
                url.regex = u.regex.as_ref().map(body_regex).transpose()?;
                urls.push(url);
            }
            Probe::Http(check::HttpCheck {
                conn: conn()?,
                urls,
                protocol: match h.protocol {
                    model::HttpProtocol::Http10 => check::HttpProtocol::Http10,
                    model::HttpProtocol::Http10Close => check::HttpProtocol::Http10Close,
                    model::HttpProtocol::Http11 => check::HttpProtocol::Http11,
                },
                tls: h.tls.then(|| TlsOptions {
                    enable_sni: h.enable_sni,
                    sni_name: h.sni_name.clone(),
                }),
            })
        }
        CheckKind::Udp(u) => {
            let require = u.require_reply || u.reply_pattern.is_some();
            Probe::Udp(check::UdpCheck {
                conn: conn()?,
                payload: (!u.payload.is_empty()).then(|| u.payload.clone()),
                require_reply: if require {
                    Some(RequireReply {
                        min_len: usize::try_from(u.min_reply_length).unwrap_or(usize::MAX),
                        max_len: usize::try_from(u.max_reply_length).unwrap_or(usize::MAX),
                        pattern: u.reply_pattern.as_deref().map(reply_pattern).transpose()?,
                    })
                } else {
                    None
                },
            })
        }
        CheckKind::Dns(d) => Probe::Dns(check::DnsCheck {
            conn: conn()?,
            query_type: d.query_type,
            name: d.name.clone(),
        }),
        CheckKind::Misc(m) => {
            let argv = shlex::split(&m.command)
                .filter(|w| !w.is_empty())
                .ok_or_else(|| format!("misc_path {:?}: unbalanced quotes", m.command))?;
            let user = match m.user.as_ref().or(global.script_user.as_ref()) {
                Some(u) => Some(check::RunAs::lookup(&u.user, u.group.as_deref())?),
                None => None,
            };
            Probe::Misc(check::MiscCheck {
                argv,
                timeout: m.timeout,
                dynamic: m.dynamic,
                user,
            })
        }
        CheckKind::File(f) => Probe::File(check::FileCheck {
            path: f.path.clone(),
            weight: f.weight,
            reverse: f.reverse,
        }),
    })
}

/// The runner's spec of one real server.
///
/// # Errors
/// [`MappingError`] for a checker that cannot run on this host.
pub fn real_server_spec(
    vs: &VirtualServer,
    rs: &RealServer,
    global: &Global,
) -> Result<RealServerSpec<RealServerId>, MappingError> {
    let mut checkers = Vec::with_capacity(rs.checkers.len());
    for (index, c) in rs.checkers.iter().enumerate() {
        let probe = probe(c, global).map_err(|reason| MappingError {
            server: format!("{} -> {}", vs.name(), rs.socket()),
            keyword: c.keyword(),
            index,
            reason,
        })?;
        checkers.push(CheckerSpec {
            probe,
            timing: timing(&c.kind, &c.timing),
        });
    }
    Ok(RealServerSpec {
        id: RealServerId::of(vs, rs),
        weight: rs.weight,
        checkers,
    })
}

/// Every real server's spec, in model order.
///
/// # Errors
/// The first [`MappingError`].
pub fn specs(model: &Model) -> Result<Vec<RealServerSpec<RealServerId>>, MappingError> {
    model
        .virtual_servers
        .iter()
        .flat_map(|vs| vs.real_servers.iter().map(move |rs| (vs, rs)))
        .map(|(vs, rs)| real_server_spec(vs, rs, &model.global))
        .collect()
}

/// The reconcile cycle: the shortest `delay_loop` of the model (virtual
/// servers' and checkers'), at most 5 s, at least 100 ms.
pub fn cycle_period(model: &Model) -> Duration {
    let checkers = model
        .virtual_servers
        .iter()
        .flat_map(|vs| vs.real_servers.iter())
        .flat_map(|rs| rs.checkers.iter())
        .map(|c| c.timing.delay_loop);
    model
        .virtual_servers
        .iter()
        .map(|vs| vs.delay_loop)
        .chain(checkers)
        .min()
        .unwrap_or(MAX_CYCLE)
        .clamp(Duration::from_millis(100), MAX_CYCLE)
}

/// The longest reconcile cycle: drift is repaired within this.
pub const MAX_CYCLE: Duration = Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_patterns_with_x_nibbles_and_odd_digits() {
        let p = reply_pattern("0a x1 f").unwrap();
        assert_eq!(p.data, [0x0a, 0x01, 0x0f]);
        assert_eq!(p.ignore, [0x00, 0xf0, 0x00]);
        let p = reply_pattern("dead beef").unwrap();
        assert_eq!(p.data, [0xde, 0xad, 0xbe, 0xef]);
        assert!(p.ignore.is_empty(), "nothing ignored: no mask");
        assert!(reply_pattern("0g").is_err());
    }

    #[test]
    fn regex_options_become_flags_and_unknown_ones_are_refused() {
        let r = body_regex(&model::BodyRegex {
            pattern: "^ok$".into(),
            no_match: false,
            options: vec!["caseless".into(), "multiline".into()],
            min_offset: None,
            max_offset: None,
            stack: None,
        })
        .unwrap();
        assert!(r.matches(b"status\nOK\n"));
        let bad = body_regex(&model::BodyRegex {
            pattern: "x".into(),
            no_match: false,
            options: vec!["no_such_option".into()],
            min_offset: None,
            max_offset: None,
            stack: None,
        });
        assert!(bad.unwrap_err().contains("no_such_option"));
    }
}
