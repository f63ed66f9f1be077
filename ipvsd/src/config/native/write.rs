//! The model back into native TOML, every value explicit (`ipvsd convert`).

use std::time::Duration;

use toml::Spanned;

use super::document::*;
use crate::config::checker::{CheckKind, Checker};
use crate::config::group;
use crate::config::model::{FlushOnStop, Model, Script, VirtualTarget};

pub(super) fn seconds_of(d: Duration) -> f64 {
    // Durations in a model are whole microseconds (see `values::micros`),
    // so this is exact enough to read back to the same value.
    d.as_micros() as f64 / 1e6
}

fn script_toml(s: &Option<Script>) -> Option<ScriptToml> {
    s.as_ref().map(|s| ScriptToml {
        command: s.command.clone(),
        user: s.user.as_ref().map(|u| u.user.clone()),
        group: s.user.as_ref().and_then(|u| u.group.clone()),
    })
}

fn spanned<T>(value: T) -> Spanned<T> {
    Spanned::new(0..0, value)
}

/// The model as native TOML with every value explicit (defaults resolved),
/// so that reading it back gives the same model.
///
/// # Errors
/// A message if TOML cannot represent a value (not expected).
pub fn to_toml(model: &Model) -> Result<String, String> {
    let g = &model.global;
    let mut doc = Document {
        global: GlobalToml {
            router_id: g.router_id.clone(),
            status_listen: Some(g.status_listen),
            start_down: Some(g.start_down),
            rise: Some(g.rise),
            fall: Some(g.fall),
            check_jitter: Some(g.check_jitter_percent),
            lvs_flush: g.lvs_flush,
            sloppy_tcp: g.sloppy_tcp,
            sloppy_sctp: g.sloppy_sctp,
            lvs_flush_on_stop: Some(match g.lvs_flush_on_stop {
                FlushOnStop::None => FlushToml::None,
                FlushOnStop::All => FlushToml::All,
                FlushOnStop::VirtualServers => FlushToml::VirtualServers,
            }),
            lvs_timeouts: g.lvs_timeouts,
            lvs_sync_daemon: g.lvs_sync_daemon.as_ref().map(|s| SyncToml {
                interface: s.interface.clone(),
                vrrp_instance: s.vrrp_instance.clone(),
                sync_id: s.sync_id,
                max_len: s.max_len,
                port: s.port,
                ttl: s.ttl,
                group: s.group,
            }),
            script_user: g.script_user.as_ref().map(|u| RunAsToml {
                user: u.user.clone(),
                group: u.group.clone(),
            }),
            enable_script_security: g.enable_script_security,
            lvs_notify_fifo: g.lvs_notify_fifo.clone(),
            lvs_notify_fifo_script: script_toml(&g.lvs_notify_fifo_script),
            smtp: g.smtp.as_ref().map(|s| SmtpToml {
                to: s.to.clone(),
                from: s.from.clone(),
                server: s.server.clone(),
                connect_timeout: s.connect_timeout,
                helo_name: s.helo_name.clone(),
            }),
            tls: g.tls.as_ref().map(|t| TlsToml {
                ca: t.ca.clone(),
                certificate: t.certificate.clone(),
                key: t.key.clone(),
                password: t.password.clone(),
            }),
        },
        ..Document::default()
    };
    for vs in &model.virtual_servers {
        let (mut address, mut port, mut fwmark, mut group_name) = (None, None, None, None);
        match &vs.target {
            VirtualTarget::Address {
                address: a,
                port: p,
            } => (address, port) = (Some(*a), Some(*p)),
            VirtualTarget::Fwmark { mark } => fwmark = Some(*mark),
            VirtualTarget::Group { name, members } => {
                group_name = Some(name.clone());
                if !doc.groups.iter().any(|g| g.get_ref().name == *name) {
                    doc.groups.push(spanned(GroupToml {
                        name: name.clone(),
                        members: members.iter().map(group::member_text).collect(),
                    }));
                }
            }
        }
        let destinations = vs
            .real_servers
            .iter()
            .map(|rs| {
                let mut d = DestinationToml {
                    address: rs.address,
                    port: Some(rs.port),
                    weight: Some(rs.weight),
                    forward: Some(rs.forward),
                    tunnel: rs.tunnel,
                    upper_threshold: rs.upper_threshold,
                    lower_threshold: rs.lower_threshold,
                    inhibit_on_failure: Some(rs.inhibit_on_failure),
                    notify_up: script_toml(&rs.notify_up),
                    notify_down: script_toml(&rs.notify_down),
                    virtualhost: rs.virtualhost.clone(),
                    smtp_alert: rs.smtp_alert,
                    delay_loop: None,
                    connect_timeout: None,
                    retry: None,
                    delay_before_retry: None,
                    warmup: None,
                    start_down: None,
                    rise: None,
                    fall: None,
                    jitter: None,
                    checkers: rs
                        .checkers
                        .iter()
                        .map(|c| spanned(checker_toml(c)))
                        .collect(),
                };
                d.set_timing(TimingToml {
                    start_down: Some(rs.alpha),
                    ..TimingToml::default()
                });
                spanned(d)
            })
            .collect();
        let mut service = ServiceToml {
            family: Some(vs.family),
            protocol: if fwmark.is_some() {
                None
            } else {
                Some(vs.protocol)
            },
            address,
            port,
            fwmark,
            group: group_name,
            scheduler: vs.scheduler.clone(),
            scheduler_flags: vs.sched_flags.names(&vs.scheduler),
            one_packet: vs.one_packet,
            persistence: vs.persistence,
            persistence_engine: vs.persistence_engine.clone(),
            forward: Some(vs.forward),
            tunnel: vs.tunnel,
            weight: None,
            inhibit_on_failure: None,
            quorum: Some(vs.quorum),
            hysteresis: Some(vs.hysteresis),
            quorum_up: script_toml(&vs.quorum_up),
            quorum_down: script_toml(&vs.quorum_down),
            omega: vs.omega,
            ha_suspend: vs.ha_suspend,
            virtualhost: vs.virtualhost.clone(),
            smtp_alert: vs.smtp_alert,
            snmp_name: vs.snmp_name.clone(),
            delay_loop: None,
            connect_timeout: None,
            retry: None,
            delay_before_retry: None,
            warmup: None,
            start_down: None,
            rise: None,
            fall: None,
            jitter: None,
            sorry_server: vs.sorry_server.as_ref().map(|s| SorryToml {
                address: s.address,
                port: Some(s.port),
                forward: Some(s.forward),
                tunnel: s.tunnel,
                inhibit: s.inhibit,
            }),
            destinations,
        };
        service.set_timing(TimingToml {
            delay_loop: Some(seconds_of(vs.delay_loop)),
            start_down: Some(vs.alpha),
            ..TimingToml::default()
        });
        doc.services.push(spanned(service));
    }
    doc.vrrp = super::vrrp::write(&model.vrrp)?;
    doc.route_health = model.route_health.as_ref().map(super::route_health::write);
    toml::to_string_pretty(&doc).map_err(|e| e.to_string())
}

fn checker_toml(c: &Checker) -> CheckerToml {
    let t = &c.timing;
    let mut out = CheckerToml {
        kind: CheckType::Tcp,
        connect_ip: c.connect.as_ref().map(|k| k.to.ip()),
        connect_port: c.connect.as_ref().map(|k| k.to.port()),
        bind_address: c.connect.as_ref().and_then(|k| k.bind_address),
        bind_port: c.connect.as_ref().and_then(|k| k.bind_port),
        bind_interface: c.connect.as_ref().and_then(|k| k.bind_interface.clone()),
        fwmark: c.connect.as_ref().and_then(|k| k.fwmark),
        log_all_failures: t.log_all_failures,
        delay_loop: None,
        connect_timeout: None,
        retry: None,
        delay_before_retry: None,
        warmup: None,
        start_down: None,
        rise: None,
        fall: None,
        jitter: None,
        urls: Vec::new(),
        virtualhost: None,
        http_protocol: None,
        enable_sni: false,
        sni_name: None,
        fast_recovery: false,
        tls_compliant: false,
        payload: None,
        require_reply: false,
        reply_pattern: None,
        min_reply_length: None,
        max_reply_length: None,
        query_type: None,
        query_name: None,
        command: None,
        timeout: None,
        dynamic: false,
        user: None,
        name: None,
        path: None,
        weight: None,
        reverse: false,
    };
    out.set_timing(TimingToml {
        delay_loop: Some(seconds_of(t.delay_loop)),
        connect_timeout: c.connect.as_ref().map(|k| seconds_of(k.timeout)),
        retry: Some(t.retry),
        delay_before_retry: Some(seconds_of(t.delay_before_retry)),
        warmup: Some(seconds_of(t.warmup)),
        start_down: Some(t.alpha),
        rise: Some(t.rise),
        fall: Some(t.fall),
        jitter: Some(seconds_of(t.jitter)),
    });
    match &c.kind {
        CheckKind::Tcp => {}
        CheckKind::Http(h) => {
            out.kind = if h.tls {
                CheckType::Https
            } else {
                CheckType::Http
            };
            out.urls = h
                .urls
                .iter()
                .map(|u| UrlToml {
                    path: u.path.clone(),
                    digest: u.digest.clone(),
                    status_codes: u
                        .status_codes
                        .iter()
                        .map(|(a, b)| {
                            if a == b {
                                a.to_string()
                            } else {
                                format!("{a}-{b}")
                            }
                        })
                        .collect(),
                    virtualhost: u.virtualhost.clone(),
                    regex: u.regex.as_ref().map(|r| RegexToml {
                        pattern: r.pattern.clone(),
                        no_match: r.no_match,
                        options: r.options.clone(),
                        min_offset: r.min_offset,
                        max_offset: r.max_offset,
                        stack: r.stack,
                    }),
                })
                .collect();
            out.http_protocol = Some(h.protocol.name().to_owned());
            out.enable_sni = h.enable_sni;
            out.sni_name = h.sni_name.clone();
            out.fast_recovery = h.fast_recovery;
            out.tls_compliant = h.tls_compliant;
        }
        CheckKind::Udp(u) => {
            out.kind = CheckType::Udp;
            if !u.payload.is_empty() {
                out.payload = Some(u.payload.iter().map(|b| format!("{b:02x}")).collect());
            }
            out.require_reply = u.require_reply;
            out.reply_pattern = u.reply_pattern.clone();
            out.min_reply_length = Some(u.min_reply_length);
            out.max_reply_length = Some(u.max_reply_length);
        }
        CheckKind::Dns(d) => {
            out.kind = CheckType::Dns;
            out.query_type = Some(d.query_type.name().to_owned());
            out.query_name = Some(d.name.clone());
        }
        CheckKind::Misc(m) => {
            out.kind = CheckType::Misc;
            out.command = Some(m.command.clone());
            out.timeout = Some(seconds_of(m.timeout));
            out.dynamic = m.dynamic;
            out.user = m.user.as_ref().map(|u| RunAsToml {
                user: u.user.clone(),
                group: u.group.clone(),
            });
        }
        CheckKind::File(f) => {
            out.kind = CheckType::File;
            out.name = Some(f.name.clone());
            out.path = Some(f.path.clone());
            out.weight = Some(f.weight);
            out.reverse = f.reverse;
        }
    }
    out
}
