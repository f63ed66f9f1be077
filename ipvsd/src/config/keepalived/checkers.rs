//! The checker blocks of a real server (`TCP_CHECK`, `HTTP_GET`,
//! `SSL_GET`, `UDP_CHECK`, `DNS_CHECK`, `MISC_CHECK`, `FILE_CHECK`) as
//! written, and their resolution with keepalived's defaults and
//! inheritance (`check_api.c`, `check_data.c`, `check_*.c`).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ipvs::AddressFamily;

use crate::config::checker::{
    BodyRegex, CheckKind, Checker, Connect, DnsCheck, DnsType, FileCheck, HttpCheck, HttpProtocol,
    MiscCheck, RunAs, Timing, UdpCheck, Url,
};
use crate::config::error::{ConfigError, Location};
use crate::config::lexer::Statement;
use crate::config::model::RealServer;
use crate::config::values::{
    arg, at_most, block, hex_bytes, ip, jitter, no_block, number, port, single, single_seconds,
    single_u32, switch, unsupported,
};

use super::args::KnownUsers;
use super::pcre;
use super::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_DELAY_LOOP, Inherited, Reader};

/// A checker block as written, before inheritance.
pub(super) struct RawChecker {
    location: Location,
    keyword: String,
    kind: RawKind,
    connect_ip: Option<IpAddr>,
    connect_port: Option<u16>,
    bind_address: Option<IpAddr>,
    bind_port: Option<u16>,
    bind_interface: Option<String>,
    fwmark: Option<u32>,
    timing: Inherited,
    log_all_failures: bool,
}

pub(super) enum RawKind {
    Tcp,
    Http(HttpCheck),
    Udp(UdpCheck),
    Dns(DnsCheck),
    Misc {
        command: String,
        timeout: Option<Duration>,
        dynamic: bool,
        user: Option<RunAs>,
    },
    File {
        name: String,
        weight: Option<i32>,
        reverse: Option<bool>,
    },
}

impl Reader<'_> {
    pub(super) fn checker(&mut self, st: &Statement) -> Result<RawChecker, ConfigError> {
        at_most(st, 0)?;
        let keyword = st.keyword();
        // Only an error needs it (a file may have a checker per server).
        let context = || format!("in {keyword}");
        let mut ck = RawChecker {
            location: st.location.clone(),
            keyword: keyword.to_owned(),
            kind: match keyword {
                "TCP_CHECK" => RawKind::Tcp,
                "HTTP_GET" | "SSL_GET" => RawKind::Http(HttpCheck {
                    tls: keyword == "SSL_GET",
                    urls: Vec::new(),
                    protocol: HttpProtocol::default(),
                    enable_sni: false,
                    sni_name: None,
                    fast_recovery: false,
                    tls_compliant: false,
                }),
                "UDP_CHECK" => RawKind::Udp(UdpCheck {
                    payload: Vec::new(),
                    require_reply: false,
                    reply_pattern: None,
                    min_reply_length: 0,
                    max_reply_length: 255,
                }),
                "DNS_CHECK" => RawKind::Dns(DnsCheck {
                    query_type: DnsType::default(),
                    name: ".".into(),
                }),
                "MISC_CHECK" => RawKind::Misc {
                    command: String::new(),
                    timeout: None,
                    dynamic: false,
                    user: None,
                },
                _ => RawKind::File {
                    name: String::new(),
                    weight: None,
                    reverse: None,
                },
            },
            connect_ip: None,
            connect_port: None,
            bind_address: None,
            bind_port: None,
            bind_interface: None,
            fwmark: None,
            timing: Inherited::default(),
            log_all_failures: false,
        };
        let connects = !matches!(ck.kind, RawKind::Misc { .. } | RawKind::File { .. });
        let timed = !matches!(ck.kind, RawKind::File { .. });
        for s in block(st)? {
            let k = s.keyword();
            if k != "url" {
                no_block(s)?;
            }
            // Options common to every checker (check_api.c).
            let common = match k {
                "connect_ip" if connects => {
                    ck.connect_ip = Some(ip(s, single(s)?)?);
                    true
                }
                "connect_port" if connects => {
                    ck.connect_port = Some(port(s, single(s)?, false)?);
                    true
                }
                "bindto" if connects => {
                    ck.bind_address = Some(ip(s, single(s)?)?);
                    true
                }
                "bind_port" if connects => {
                    ck.bind_port = Some(port(s, single(s)?, false)?);
                    true
                }
                "bind_if" if connects => {
                    ck.bind_interface = Some(single(s)?.to_owned());
                    true
                }
                "connect_timeout" if connects => {
                    ck.timing.connect_timeout = Some(single_seconds(s, 0.000_001)?);
                    true
                }
                "fwmark" if connects => {
                    ck.fwmark = Some(single_u32(s, 0, u32::MAX)?);
                    true
                }
                "retry" if timed => {
                    ck.timing.retry = Some(single_u32(s, 0, u32::MAX)?);
                    true
                }
                "delay_before_retry" if timed => {
                    ck.timing.delay_before_retry = Some(single_seconds(s, 0.0)?);
                    true
                }
                "warmup" if timed => {
                    ck.timing.warmup = Some(single_seconds(s, 0.0)?);
                    true
                }
                "delay_loop" if timed => {
                    ck.timing.delay_loop = Some(single_seconds(s, 0.000_001)?);
                    true
                }
                "alpha" if timed => {
                    ck.timing.alpha = Some(switch(s)?);
                    true
                }
                "log_all_failures" if timed => {
                    ck.log_all_failures = switch(s)?;
                    true
                }
                _ => false,
            };
            if common {
                continue;
            }
            match &mut ck.kind {
                RawKind::Tcp => return Err(unsupported(s, &context())),
                RawKind::Http(h) => match k {
                    "nb_get_retry" => ck.timing.retry = Some(single_u32(s, 0, u32::MAX)?),
                    "virtualhost" => ck.timing.virtualhost = Some(single(s)?.to_owned()),
                    "http_protocol" => {
                        let v = single(s)?;
                        h.protocol = HttpProtocol::from_name(v).ok_or_else(|| {
                            ConfigError::invalid(
                                &s.location,
                                k,
                                format!("`{v}` is not 1.0, 1.0C or 1.1"),
                            )
                        })?;
                    }
                    "enable_sni" => h.enable_sni = switch(s)?,
                    "sni_name" => h.sni_name = Some(single(s)?.to_owned()),
                    "fast_recovery" => h.fast_recovery = switch(s)?,
                    "tls_compliant" => h.tls_compliant = switch(s)?,
                    "url" => h.urls.push(url(s)?),
                    _ => return Err(unsupported(s, &context())),
                },
                RawKind::Udp(u) => match k {
                    "payload" => u.payload = hex_bytes(s, &hex_words(s, false)?)?,
                    "require_reply" => {
                        u.require_reply = true;
                        if !s.args().is_empty() {
                            u.reply_pattern = Some(hex_words(s, true)?);
                        }
                    }
                    "min_reply_length" => u.min_reply_length = single_u32(s, 0, u32::MAX)?,
                    "max_reply_length" => u.max_reply_length = single_u32(s, 0, u32::MAX)?,
                    _ => return Err(unsupported(s, &context())),
                },
                RawKind::Dns(d) => match k {
                    "type" => {
                        let v = single(s)?;
                        d.query_type = DnsType::from_name(v).ok_or_else(|| {
                            ConfigError::invalid(
                                &s.location,
                                k,
                                format!("`{v}` is not A, NS, CNAME, SOA, MX, TXT or AAAA"),
                            )
                        })?;
                    }
                    "name" => d.name = single(s)?.to_owned(),
                    _ => return Err(unsupported(s, &context())),
                },
                RawKind::Misc {
                    command,
                    timeout,
                    dynamic,
                    user,
                } => match k {
                    "misc_path" => *command = single(s)?.to_owned(),
                    "misc_timeout" => *timeout = Some(single_seconds(s, 0.0)?),
                    "misc_dynamic" => *dynamic = switch(s)?,
                    "user" => *user = Some(run_as(s, &mut self.users)?),
                    _ => return Err(unsupported(s, &context())),
                },
                RawKind::File {
                    name,
                    weight,
                    reverse,
                } => match k {
                    "track_file" => *name = single(s)?.to_owned(),
                    "weight" => {
                        let (w, r) = file_weight(s, i32::MAX)?;
                        *weight = Some(w);
                        *reverse = Some(r);
                    }
                    _ => return Err(unsupported(s, &context())),
                },
            }
        }
        match &ck.kind {
            RawKind::Misc { command, .. } if command.is_empty() => {
                return Err(ConfigError::invalid(
                    &st.location,
                    keyword,
                    "needs `misc_path`",
                ));
            }
            RawKind::File { name, .. } if name.is_empty() => {
                return Err(ConfigError::invalid(
                    &st.location,
                    keyword,
                    "needs `track_file`",
                ));
            }
            RawKind::Http(h) if h.urls.is_empty() => {
                return Err(ConfigError::invalid(
                    &st.location,
                    keyword,
                    "needs a `url` block",
                ));
            }
            RawKind::Udp(u) if u.min_reply_length > u.max_reply_length => {
                return Err(ConfigError::invalid(
                    &st.location,
                    keyword,
                    "min_reply_length is above max_reply_length: it would always fail",
                ));
            }
            _ => {}
        }
        Ok(ck)
    }

    pub(super) fn resolve_checker(
        &self,
        rs: &RealServer,
        checked_port: u16,
        inherited: &Inherited,
        vs_delay_loop: Duration,
        ck: RawChecker,
    ) -> Result<Checker, ConfigError> {
        let t = ck.timing.over(inherited);
        let delay_loop = t.delay_loop.unwrap_or(DEFAULT_DELAY_LOOP);
        // Kind defaults (check_api.c, check_http.c, check_dns.c, check_misc.c).
        let (default_retry, default_dbr) = match &ck.kind {
            RawKind::Http(_) => (1, Duration::from_secs(3)),
            RawKind::Dns(_) => (3, delay_loop),
            RawKind::Misc { .. } => (0, Duration::from_secs(1)),
            _ => (1, Duration::from_secs(1)),
        };
        let timing = Timing {
            delay_loop,
            retry: t.retry.unwrap_or(default_retry),
            delay_before_retry: t.delay_before_retry.unwrap_or(default_dbr),
            warmup: t.warmup.unwrap_or(delay_loop),
            alpha: t.alpha.unwrap_or(rs.alpha),
            log_all_failures: ck.log_all_failures,
            rise: self.global.rise,
            fall: self.global.fall,
            jitter: jitter(delay_loop, self.global.check_jitter_percent),
        };
        let connects = !matches!(ck.kind, RawKind::Misc { .. } | RawKind::File { .. });
        let connect = if connects {
            let to = SocketAddr::new(
                ck.connect_ip.unwrap_or(rs.address),
                ck.connect_port.unwrap_or(checked_port),
            );
            if to.port() == 0 {
                return Err(ConfigError::invalid(
                    &ck.location,
                    &ck.keyword,
                    "needs `connect_port`: its real server has no port",
                ));
            }
            if let Some(b) = ck.bind_address
                && AddressFamily::of(&b) != AddressFamily::of(&to.ip())
            {
                return Err(ConfigError::invalid(
                    &ck.location,
                    &ck.keyword,
                    format!(
                        "bindto {b} and the address probed {} differ in family",
                        to.ip()
                    ),
                ));
            }
            Some(Connect {
                to,
                bind_address: ck.bind_address,
                bind_port: ck.bind_port,
                bind_interface: ck.bind_interface,
                timeout: t.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
                fwmark: ck.fwmark,
            })
        } else {
            None
        };
        let kind = match ck.kind {
            RawKind::Tcp => CheckKind::Tcp,
            RawKind::Http(mut h) => {
                for u in &mut h.urls {
                    if u.virtualhost.is_none() {
                        u.virtualhost = t.virtualhost.clone();
                    }
                }
                CheckKind::Http(h)
            }
            RawKind::Udp(u) => CheckKind::Udp(u),
            RawKind::Dns(d) => CheckKind::Dns(d),
            RawKind::Misc {
                command,
                timeout,
                dynamic,
                user,
            } => CheckKind::Misc(MiscCheck {
                command,
                // keepalived (check_misc.c): no misc_timeout, the virtual
                // server's delay loop.
                timeout: timeout.filter(|d| !d.is_zero()).unwrap_or(vs_delay_loop),
                dynamic,
                user,
            }),
            RawKind::File {
                name,
                weight,
                reverse,
            } => {
                let tf = self.track_files.get(&name).ok_or_else(|| {
                    ConfigError::invalid(
                        &ck.location,
                        "track_file",
                        format!("no track_file block named {name}"),
                    )
                })?;
                CheckKind::File(FileCheck {
                    path: tf.path.clone(),
                    weight: weight.unwrap_or(tf.weight),
                    reverse: reverse.unwrap_or(tf.reverse),
                    name,
                })
            }
        };
        Ok(Checker {
            kind,
            connect,
            timing,
        })
    }
}

/// `weight N [reverse]` of `track_file` (-254..=254, `track_file.c`) and
/// `FILE_CHECK` (±`IPVS_WEIGHT_LIMIT`, `check_file.c`): `|N| <= limit`.
pub(super) fn file_weight(s: &Statement, limit: i32) -> Result<(i32, bool), ConfigError> {
    at_most(s, 2)?;
    let text = arg(s, 0)?;
    let w = text
        .parse::<i32>()
        .ok()
        .filter(|w| (-limit..=limit).contains(w))
        .ok_or_else(|| {
            ConfigError::invalid(
                &s.location,
                "weight",
                format!("`{text}` is not in -{limit}..={limit}"),
            )
        })?;
    let reverse = match s.args().get(1) {
        None => false,
        Some("reverse") => true,
        Some(other) => {
            return Err(ConfigError::invalid(
                &s.location,
                "weight",
                format!("`{other}` (only `reverse` may follow)"),
            ));
        }
    };
    Ok((w, reverse))
}

/// `user NAME [[:]GROUP]` (also `NAME:GROUP`), keepalived.conf(5) MISC_CHECK.
pub(super) fn run_as(s: &Statement, users: &mut KnownUsers) -> Result<RunAs, ConfigError> {
    at_most(s, 2)?;
    let first = arg(s, 0)?;
    let (user, group) = match (first.split_once(':'), s.args().get(1)) {
        (Some((u, g)), None) => (u, (!g.is_empty()).then(|| g.to_owned())),
        (None, Some(g)) => (first, Some(g.trim_start_matches(':').to_owned())),
        (None, None) => (first, None),
        (Some(_), Some(_)) => {
            return Err(ConfigError::invalid(
                &s.location,
                "user",
                "is `NAME [GROUP]` or `NAME:GROUP`",
            ));
        }
    };
    if user.is_empty() || group.as_deref() == Some("") {
        return Err(ConfigError::invalid(
            &s.location,
            "user",
            "an empty user or group name",
        ));
    }
    let who = RunAs {
        user: user.to_owned(),
        group,
    };
    users.check(s, &who)?;
    Ok(who)
}

/// keepalived's free-form hex (keepalived.conf(5), UDP_CHECK): the words
/// joined, each read in pairs of digits, a word's odd last digit a byte of
/// its own (`Ab12f 3` is `ab 12 0f 03`); `x` (a nibble matching anything)
/// only where `wildcards`. The result is even-length lowercase hex.
pub(super) fn hex_words(s: &Statement, wildcards: bool) -> Result<String, ConfigError> {
    arg(s, 0)?;
    let mut out = String::new();
    for word in s.args() {
        let lower = word.to_ascii_lowercase();
        if lower.is_empty()
            || !lower
                .chars()
                .all(|c| c.is_ascii_hexdigit() || (wildcards && c == 'x'))
        {
            return Err(ConfigError::invalid(
                &s.location,
                s.keyword(),
                format!(
                    "`{word}` is not hex digits{}",
                    if wildcards { " (x for any nibble)" } else { "" }
                ),
            ));
        }
        let digits: Vec<char> = lower.chars().collect();
        for pair in digits.chunks(2) {
            if let [one] = pair {
                out.push('0');
                out.push(*one);
            } else {
                out.extend(pair);
            }
        }
    }
    Ok(out)
}

/// A `url { ... }` block.
pub(super) fn url(st: &Statement) -> Result<Url, ConfigError> {
    at_most(st, 0)?;
    let mut u = Url {
        path: String::new(),
        digest: None,
        status_codes: Vec::new(),
        virtualhost: None,
        regex: None,
    };
    let mut regex_opts: Vec<&Statement> = Vec::new();
    let mut regex_at: Option<&Statement> = None;
    for s in block(st)? {
        no_block(s)?;
        let k = s.keyword();
        match k {
            "path" => u.path = single(s)?.to_owned(),
            "digest" => {
                let d = single(s)?;
                if d.len() != 32 || !d.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(ConfigError::invalid(
                        &s.location,
                        k,
                        format!("`{d}` is not an MD5 digest (32 hex digits)"),
                    ));
                }
                u.digest = Some(d.to_ascii_lowercase());
            }
            "status_code" => {
                arg(s, 0)?;
                for w in s.args() {
                    u.status_codes.push(status_range(s, w)?);
                }
            }
            "virtualhost" => u.virtualhost = Some(single(s)?.to_owned()),
            "regex" => {
                regex_at = Some(s);
                u.regex = Some(BodyRegex {
                    pattern: pcre::unescape(single(s)?),
                    no_match: false,
                    options: Vec::new(),
                    min_offset: None,
                    max_offset: None,
                    stack: None,
                });
            }
            "regex_no_match" | "regex_options" | "regex_min_offset" | "regex_max_offset"
            | "regex_stack" => regex_opts.push(s),
            // keepalived accepts it here as on the checker; it is kept per checker.
            "tls_compliant" => {
                switch(s)?;
            }
            _ => return Err(unsupported(s, "in url")),
        }
    }
    if u.path.is_empty() {
        return Err(ConfigError::invalid(&st.location, "url", "needs a `path`"));
    }
    for s in regex_opts {
        let Some(r) = u.regex.as_mut() else {
            return Err(ConfigError::invalid(
                &s.location,
                s.keyword(),
                "needs a `regex` in the same url",
            ));
        };
        match s.keyword() {
            "regex_no_match" => {
                at_most(s, 0)?;
                r.no_match = true;
            }
            "regex_options" => {
                for o in s.args() {
                    pcre::check_option(o)
                        .map_err(|why| ConfigError::invalid(&s.location, s.keyword(), why))?;
                    r.options.push(o.to_owned());
                }
            }
            "regex_min_offset" => r.min_offset = Some(number(s, single(s)?, 0, u64::MAX)?),
            "regex_max_offset" => r.max_offset = Some(number(s, single(s)?, 0, u64::MAX)?),
            _ => r.stack = Some(number(s, single(s)?, 0, u64::MAX)?),
        }
    }
    // keepalived matches with PCRE2, ipvsd with the regex crate: a pattern
    // that would match differently is refused here, never at run time.
    if let (Some(r), Some(at)) = (&u.regex, regex_at) {
        pcre::translate(&r.pattern, &r.options)
            .map_err(|why| ConfigError::invalid(&at.location, "regex", why))?;
    }
    if u.status_codes.is_empty() {
        // keepalived.conf(5): status_code defaults to 200-299.
        u.status_codes.push((200, 299));
    }
    Ok(u)
}

/// `200` or `200-299`.
pub(super) fn status_range(s: &Statement, text: &str) -> Result<(u16, u16), ConfigError> {
    let code = |t: &str| {
        t.parse::<u16>()
            .ok()
            .filter(|c| (100..=599).contains(c))
            .ok_or_else(|| {
                ConfigError::invalid(
                    &s.location,
                    "status_code",
                    format!("`{text}` is not a status code (100-599) or a range of them"),
                )
            })
    };
    let (a, b) = match text.split_once('-') {
        Some((a, b)) => (code(a)?, code(b)?),
        None => {
            let c = code(text)?;
            (c, c)
        }
    };
    if a > b {
        return Err(ConfigError::invalid(
            &s.location,
            "status_code",
            format!("`{text}`: the range runs backwards"),
        ));
    }
    Ok((a, b))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{ConfigError, KeepalivedOptions, read_keepalived_str};

    /// An HTTP_GET whose url has `regex` on line 6 and `lines` after it.
    /// The regex of the one url of `text`'s one HTTP_GET, as read.
    fn url_regex(text: &str) -> crate::config::checker::BodyRegex {
        let l =
            read_keepalived_str(text, Path::new("/k.conf"), &KeepalivedOptions::default()).unwrap();
        let crate::config::checker::CheckKind::Http(h) =
            &l.model.virtual_servers[0].real_servers[0].checkers[0].kind
        else {
            panic!("not HTTP")
        };
        h.urls[0].regex.clone().unwrap()
    }

    fn conf(regex: &str, lines: &str) -> String {
        format!(
            "virtual_server 10.0.0.1 80 {{\n real_server 10.0.0.2 80 {{\n  HTTP_GET {{\n   url {{\n    path /\n    regex \"{regex}\"\n{lines}   }}\n  }}\n }}\n}}\n"
        )
    }

    fn refused(text: &str) -> ConfigError {
        match read_keepalived_str(text, Path::new("/k.conf"), &KeepalivedOptions::default()) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_regex_the_regex_crate_would_read_otherwise_is_refused_at_its_line() {
        let e = refused(&conf("(?<!error)ok", ""));
        assert_eq!((e.location().line, e.keyword()), (6, Some("regex")), "{e}");
        assert!(e.to_string().contains("look-behind"), "{e}");
        let e = refused(&conf("ok$\\n", ""));
        assert_eq!(e.location().line, 6, "{e}");
        let e = refused(&conf(
            "^$",
            "    regex_options caseless\n    regex_options multiline\n",
        ));
        assert_eq!(e.location().line, 6, "{e}");
        assert!(e.to_string().contains("alt_circumflex"), "{e}");
    }

    #[test]
    fn a_regex_option_without_an_equivalent_is_refused_at_its_line() {
        let e = refused(&conf(
            "ok",
            "    regex_options caseless\n    regex_options firstline\n",
        ));
        assert_eq!(
            (e.location().line, e.keyword()),
            (8, Some("regex_options")),
            "{e}"
        );
        assert!(e.to_string().contains("firstline"), "{e}");
        let e = refused(&conf("ok", "    regex_options no_such_option\n"));
        assert_eq!(e.location().line, 7, "{e}");
    }

    #[test]
    fn a_regex_is_what_keepalived_gives_pcre2_after_its_escapes() {
        let r = url_regex(&conf("^v\\\\d+\\.x$", ""));
        // `\\d` is PCRE2's `\d`; `\.` loses its backslash, as in keepalived.
        assert_eq!(r.pattern, r"^v\d+.x$");
    }

    #[test]
    fn a_regex_that_reads_the_same_is_kept_as_written() {
        let text = conf(
            "^Status: (OK|FINE)$",
            "    regex_options caseless multiline\n",
        );
        let r = url_regex(&text);
        assert_eq!(r.pattern, "^Status: (OK|FINE)$");
        assert_eq!(r.options, ["caseless", "multiline"]);
    }
}
