//! Unit tests of the keepalived.conf reader, one group of keywords each,
//! and of the round trip through native TOML.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use ipvs::{
    AddressFamily, ForwardMethod, Netmask, Protocol, SchedFlags, Scheduler, ServiceKey,
    TunnelChecksum, TunnelKind,
};

use super::checker::{CheckKind, DnsType, HttpProtocol};
use super::{
    ConfigError, FlushOnStop, KeepalivedOptions, Loaded, VirtualTarget, read_keepalived_str,
    read_native_str, to_toml,
};

fn read(text: &str) -> Result<Loaded, ConfigError> {
    read_keepalived_str(
        text,
        Path::new("/etc/keepalived/test.conf"),
        &KeepalivedOptions::default(),
    )
}

fn ok(text: &str) -> Loaded {
    match read(text) {
        Ok(l) => l,
        Err(e) => panic!("refused: {e}"),
    }
}

fn err(text: &str) -> ConfigError {
    match read(text) {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e,
    }
}

const SIMPLE_RS: &str = "real_server 10.0.0.2 80 { weight 1 }";

/// Every feature at once: used by the round-trip test and the keyword tests.
const RICH: &str = r#"
global_defs {
    router_id LB1
    lvs_timeouts tcp 900 tcpfin 30 udp 60
    lvs_sync_daemon eth1 inst VI_1 id 7 maxlen 1400 port 8849 ttl 2 group 239.1.1.1
    lvs_flush
    lvs_flush_on_stop VS
    notification_email {
        ops@example.org
        noc@example.org
    }
    notification_email_from lb@example.org
    smtp_server 192.0.2.25 25
    smtp_connect_timeout 30
    script_user nobody nogroup
    enable_script_security
    lvs_notify_fifo /run/ipvsd.fifo
}
SSL {
    ca /etc/ssl/ca.pem
    certificate /etc/ssl/client.pem
    key /etc/ssl/client.key
}
track_file maint {
    file /run/maint
    weight -10 reverse
}
virtual_server_group WEB {
    192.0.2.10-12 80
    192.0.2.20/31 8080
    fwmark 5
}
virtual_server group WEB {
    delay_loop 10
    lvs_sched sh
    sh-port
    sh-fallback
    lvs_method DR
    persistence_timeout
    persistence_granularity 255.255.255.0
    protocol TCP
    quorum 2
    hysteresis 1
    quorum_up "/usr/local/bin/up web"
    quorum_down /usr/local/bin/down nobody
    alpha
    omega
    virtualhost www.example.org
    inhibit_on_failure
    retry 2
    sorry_server 192.0.2.99
    sorry_server_inhibit
    real_server 192.0.2.31 {
        weight 3
        uthreshold 100
        lthreshold 10
        notify_up "/bin/echo up"
        notify_down "/bin/echo down"
        HTTP_GET {
            url {
                path /health
                status_code 200 300-302
                regex "ok|fine"
                regex_no_match
                regex_options caseless
                regex_max_offset 100
            }
            url {
                path /index.html
                digest 9B3A0C85A887A256D6939DA88AABD8CD
                virtualhost other.example.org
            }
            http_protocol 1.1
            connect_port 80
            connect_timeout 2.5
            warmup 0
        }
        FILE_CHECK {
            track_file maint
        }
    }
    real_server 192.0.2.32 {
        alpha false
        delay_loop 4
        SSL_GET {
            url { path / }
            enable_sni
            sni_name www.example.org
            connect_port 443
            bindto 192.0.2.1
            bind_port 40000
            fwmark 9
        }
        MISC_CHECK {
            misc_path "/usr/lib/check web"
            misc_timeout 5
            misc_dynamic
            user nobody
        }
    }
}
virtual_server 2001:db8::1 53 {
    protocol UDP
    lb_algo mh
    mh-port
    ops
    lb_kind TUN type gue port 6080 csum
    persistence_granularity 64
    real_server 2001:db8::10 53 {
        UDP_CHECK {
            payload 00010203
            require_reply 0xxx03
            min_reply_length 2
            max_reply_length 200
        }
        DNS_CHECK {
            type AAAA
            name example.org
            retry 1
        }
    }
    real_server 192.0.2.53 53 {
        lvs_method TUN type gre
        TCP_CHECK {
            connect_ip 2001:db8::53
            log_all_failures
        }
    }
}
virtual_server fwmark 100 {
    ip_family inet6
    lvs_sched wrr
    persistence_timeout 600
    real_server 2001:db8::20 {
        weight 2
        lvs_method DR
    }
}
"#;

#[test]
fn global_defs_keywords() {
    let g = ok(RICH).model.global;
    assert_eq!(g.router_id.as_deref(), Some("LB1"));
    let t = g.lvs_timeouts.unwrap();
    assert_eq!((t.tcp, t.tcp_fin, t.udp), (900, 30, 60));
    let s = g.lvs_sync_daemon.unwrap();
    assert_eq!(s.interface, "eth1");
    assert_eq!(s.vrrp_instance.as_deref(), Some("VI_1"));
    assert_eq!(
        (s.sync_id, s.max_len, s.port, s.ttl),
        (7, Some(1400), Some(8849), Some(2))
    );
    assert_eq!(s.group, Some("239.1.1.1".parse().unwrap()));
    assert!(g.lvs_flush);
    assert_eq!(g.lvs_flush_on_stop, FlushOnStop::VirtualServers);
    let smtp = g.smtp.unwrap();
    assert_eq!(smtp.to, ["ops@example.org", "noc@example.org"]);
    assert_eq!(smtp.server.as_deref(), Some("192.0.2.25 25"));
    assert_eq!(g.script_user.unwrap().group.as_deref(), Some("nogroup"));
    assert!(g.enable_script_security);
    assert_eq!(
        g.tls.unwrap().key.unwrap(),
        Path::new("/etc/ssl/client.key")
    );
    // keepalived's semantics where ipvsd has its own settings.
    assert!(!g.start_down);
    assert_eq!((g.rise, g.fall, g.check_jitter_percent), (1, 1, 0));
}

#[test]
fn old_sync_daemon_form_and_bad_values() {
    let g = ok("global_defs {\n lvs_sync_daemon eth0 VI_1 5\n}\n")
        .model
        .global;
    let s = g.lvs_sync_daemon.unwrap();
    assert_eq!((s.vrrp_instance.as_deref(), s.sync_id), (Some("VI_1"), 5));
    let e = err("global_defs {\n lvs_sync_daemon eth0 group 10.0.0.1\n}\n");
    assert!(e.to_string().contains("not a multicast"), "{e}");
    let e = err("global_defs {\n lvs_timeouts tcp x\n}\n");
    assert_eq!((e.location().line, e.keyword()), (2, Some("lvs_timeouts")));
}

#[test]
fn group_virtual_server_expands_and_keeps_the_group() {
    let m = ok(RICH).model;
    let vs = &m.virtual_servers[0];
    let VirtualTarget::Group { name, members } = &vs.target else {
        panic!("not a group: {:?}", vs.target);
    };
    assert_eq!((name.as_str(), members.len()), ("WEB", 3));
    let keys: Vec<String> = vs.services.iter().map(ToString::to_string).collect();
    assert_eq!(
        keys,
        [
            "tcp 192.0.2.10:80",
            "tcp 192.0.2.11:80",
            "tcp 192.0.2.12:80",
            "tcp 192.0.2.20:8080",
            "tcp 192.0.2.21:8080",
            "fwmark 5"
        ]
    );
    assert_eq!(vs.scheduler, Scheduler::SourceHashing);
    assert_eq!(vs.sched_flags, SchedFlags::PORT | SchedFlags::FALLBACK);
    let p = vs.persistence.unwrap();
    assert_eq!(p.timeout, 360);
    assert_eq!(
        p.netmask,
        Some(Netmask::Ipv4("255.255.255.0".parse().unwrap()))
    );
    assert_eq!(vs.forward, ForwardMethod::Route);
    assert_eq!((vs.quorum, vs.hysteresis), (2, 1));
    assert_eq!(
        vs.quorum_up.as_ref().unwrap().command,
        "/usr/local/bin/up web"
    );
    assert_eq!(
        vs.quorum_down.as_ref().unwrap().user.as_ref().unwrap().user,
        "nobody"
    );
    assert!(vs.alpha && vs.omega);
    let sorry = vs.sorry_server.as_ref().unwrap();
    assert!(sorry.inhibit);
    assert_eq!((sorry.port, sorry.forward), (0, ForwardMethod::Route));
    // The service a reconcile would build, from the library's types.
    let svc = vs.service(vs.services[0]);
    assert_eq!(svc.scheduler, Scheduler::SourceHashing);
    assert_eq!(svc.persistence.unwrap().timeout, 360);
}

#[test]
fn real_servers_inherit_from_their_virtual_server() {
    let m = ok(RICH).model;
    let vs = &m.virtual_servers[0];
    let a = &vs.real_servers[0];
    assert_eq!((a.weight, a.forward, a.port), (3, ForwardMethod::Route, 0));
    assert!(a.inhibit_on_failure && a.alpha);
    assert_eq!((a.upper_threshold, a.lower_threshold), (100, 10));
    assert_eq!(a.notify_up.as_ref().unwrap().command, "/bin/echo up");
    let d = a.destination(&vs.services[3]);
    assert_eq!(
        (d.weight, d.upper_threshold, d.port),
        (3, 100, 8080),
        "DR: the service's port"
    );
    let b = &vs.real_servers[1];
    assert!(!b.alpha, "alpha false on the real server wins");
    assert_eq!(b.weight, 1);
}

#[test]
fn http_checker_defaults_and_inheritance() {
    let m = ok(RICH).model;
    let rs = &m.virtual_servers[0].real_servers[0];
    let c = &rs.checkers[0];
    let CheckKind::Http(h) = &c.kind else {
        panic!("{:?}", c.kind)
    };
    assert!(!h.tls);
    assert_eq!(h.protocol, HttpProtocol::Http11);
    assert_eq!(h.urls[0].status_codes, [(200, 200), (300, 302)]);
    let r = h.urls[0].regex.as_ref().unwrap();
    assert!(r.no_match);
    assert_eq!(
        (r.options.as_slice(), r.max_offset),
        (&["caseless".to_owned()][..], Some(100))
    );
    assert_eq!(
        h.urls[0].virtualhost.as_deref(),
        Some("www.example.org"),
        "from the virtual server"
    );
    assert_eq!(h.urls[1].virtualhost.as_deref(), Some("other.example.org"));
    assert_eq!(
        h.urls[1].digest.as_deref(),
        Some("9b3a0c85a887a256d6939da88aabd8cd")
    );
    let t = c.timing;
    assert_eq!(
        t.delay_loop,
        Duration::from_secs(10),
        "virtual server's delay_loop"
    );
    assert_eq!(t.retry, 2, "virtual server's retry");
    assert_eq!(t.delay_before_retry, Duration::from_secs(3), "HTTP default");
    assert_eq!(t.warmup, Duration::ZERO);
    assert!(t.alpha);
    let k = c.connect.as_ref().unwrap();
    assert_eq!(k.to, "192.0.2.31:80".parse::<SocketAddr>().unwrap());
    assert_eq!(k.timeout, Duration::from_millis(2500));
    let CheckKind::File(f) = &rs.checkers[1].kind else {
        panic!()
    };
    assert_eq!((f.weight, f.reverse), (-10, true));
    assert_eq!(f.path, Path::new("/run/maint"));
    assert!(rs.checkers[1].connect.is_none());
}

#[test]
fn ssl_misc_checkers() {
    let m = ok(RICH).model;
    let rs = &m.virtual_servers[0].real_servers[1];
    let ssl = &rs.checkers[0];
    let CheckKind::Http(h) = &ssl.kind else {
        panic!()
    };
    assert!(h.tls && h.enable_sni);
    assert_eq!(h.urls[0].status_codes, [(200, 299)], "keepalived's default");
    let k = ssl.connect.as_ref().unwrap();
    assert_eq!(k.bind_address, Some("192.0.2.1".parse().unwrap()));
    assert_eq!((k.bind_port, k.fwmark), (Some(40000), Some(9)));
    assert_eq!(k.timeout, Duration::from_secs(5), "default connect_timeout");
    assert_eq!(
        ssl.timing.delay_loop,
        Duration::from_secs(4),
        "real server's delay_loop"
    );
    assert_eq!(
        ssl.timing.warmup,
        Duration::from_secs(4),
        "warmup defaults to the delay loop"
    );
    assert!(!ssl.timing.alpha);
    let misc = &rs.checkers[1];
    let CheckKind::Misc(mc) = &misc.kind else {
        panic!()
    };
    assert_eq!(mc.command, "/usr/lib/check web");
    assert_eq!(mc.timeout, Duration::from_secs(5));
    assert!(mc.dynamic);
    assert_eq!(
        misc.timing.retry, 2,
        "inherited retry beats MISC's default 0"
    );
}

#[test]
fn udp_dns_tcp_checkers_and_tunnels() {
    let m = ok(RICH).model;
    let vs = &m.virtual_servers[1];
    assert_eq!(
        vs.services,
        [ServiceKey::udp(
            "2001:db8::1".parse::<IpAddr>().unwrap(),
            53
        )]
    );
    assert!(vs.one_packet);
    assert_eq!(vs.sched_flags, SchedFlags::PORT);
    let tun = vs.tunnel.unwrap();
    assert_eq!(
        (tun.kind, tun.port, tun.checksum),
        (TunnelKind::Gue, 6080, TunnelChecksum::Checksum)
    );
    assert_eq!(vs.persistence.unwrap().netmask, Some(Netmask::Ipv6(64)));
    let rs = &vs.real_servers[0];
    let CheckKind::Udp(u) = &rs.checkers[0].kind else {
        panic!()
    };
    assert_eq!(u.payload, [0, 1, 2, 3]);
    assert!(u.require_reply);
    assert_eq!(u.reply_pattern.as_deref(), Some("0xxx03"));
    assert_eq!((u.min_reply_length, u.max_reply_length), (2, 200));
    let CheckKind::Dns(d) = &rs.checkers[1].kind else {
        panic!()
    };
    assert_eq!(
        (d.query_type, d.name.as_str()),
        (DnsType::Aaaa, "example.org")
    );
    assert_eq!(rs.checkers[1].timing.retry, 1);
    assert_eq!(
        rs.checkers[1].timing.delay_before_retry,
        Duration::from_secs(60),
        "DNS: the delay loop"
    );
    // A tunnelled IPv4 real server of an IPv6 service.
    let v4 = &vs.real_servers[1];
    assert_eq!(v4.tunnel.unwrap().kind, TunnelKind::Gre);
    assert_eq!(
        v4.checkers[0].connect.as_ref().unwrap().to.to_string(),
        "[2001:db8::53]:53"
    );
    assert!(v4.checkers[0].timing.log_all_failures);
    // A mark service of family inet6.
    let fw = &m.virtual_servers[2];
    assert_eq!(fw.services, [ServiceKey::fwmark(AddressFamily::Ipv6, 100)]);
    assert_eq!(fw.real_servers[0].port, 0);
    assert_eq!(fw.protocol, Protocol::Tcp);
}

#[test]
fn round_trip_through_native_toml() {
    let first = ok(RICH).model;
    let text = to_toml(&first).unwrap();
    let second = match read_native_str(&text, Path::new("converted.toml")) {
        Ok(l) => l.model,
        Err(e) => panic!("{e}\n{text}"),
    };
    assert_eq!(first, second, "\n{text}");
}

#[test]
fn real_server_ports_follow_keepalived() {
    let l = ok(
        "virtual_server 10.0.0.1 80 {\n lvs_method DR\n real_server 10.0.0.2 8080 { }\n real_server 10.0.0.3 { }\n}\n",
    );
    let vs = &l.model.virtual_servers[0];
    assert_eq!(vs.real_servers[0].port, 80, "DR takes the service's port");
    assert_eq!(vs.real_servers[1].port, 80);
    assert!(
        l.notes
            .iter()
            .any(|n| n.location.line == 3 && n.message.contains("set to 80"))
    );
    let l = ok("virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 8080 { }\n}\n");
    assert_eq!(
        l.model.virtual_servers[0].real_servers[0].port, 8080,
        "NAT keeps its port"
    );
}

/// keepalived probes the port as written while the table gets the
/// service's (seen in the VM: `kernel_keepalived`'s http_get_dr).
#[test]
fn a_dr_real_server_is_checked_at_the_port_written() {
    let l = ok(
        "virtual_server 10.0.0.1 80 {\n lvs_method DR\n real_server 10.0.0.2 8080 {\n  TCP_CHECK {\n  }\n }\n}\n",
    );
    let rs = &l.model.virtual_servers[0].real_servers[0];
    assert_eq!(rs.port, 80, "the table's port");
    let connect = rs.checkers[0]
        .connect
        .as_ref()
        .expect("a TCP check connects");
    assert_eq!(
        connect.to,
        "10.0.0.2:8080".parse::<SocketAddr>().expect("addr")
    );
}

#[test]
fn unsupported_keywords_name_file_line_and_keyword() {
    let e = err(&format!(
        "virtual_server 10.0.0.1 80 {{\n  {SIMPLE_RS}\n  nftables_ipvs\n}}\n"
    ));
    assert!(matches!(e, ConfigError::Unsupported { .. }), "{e:?}");
    assert_eq!((e.location().line, e.keyword()), (3, Some("nftables_ipvs")));
    assert_eq!(
        e.to_string(),
        "/etc/keepalived/test.conf:3: unsupported keyword `nftables_ipvs` in virtual_server"
    );
    let e = err(
        "virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  PING_CHECK {\n  }\n }\n}\n",
    );
    assert_eq!((e.location().line, e.keyword()), (3, Some("PING_CHECK")));
    let e = err("net_namespace blue\n");
    assert_eq!(e.keyword(), Some("net_namespace"));
    let e = err(
        "virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  TCP_CHECK {\n   path /x\n  }\n }\n}\n",
    );
    assert_eq!((e.location().line, e.keyword()), (4, Some("path")));
    let e = err(
        "virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  MISC_CHECK {\n   misc_path /x\n   connect_port 80\n  }\n }\n}\n",
    );
    assert_eq!(
        e.keyword(),
        Some("connect_port"),
        "MISC_CHECK opens no connection"
    );
}

#[test]
fn vrrp_is_refused_or_skipped() {
    let text = format!(
        "global_defs {{\n vrrp_strict\n}}\nvrrp_instance VI_1 {{\n state MASTER\n}}\nvirtual_server 10.0.0.1 80 {{\n {SIMPLE_RS}\n}}\n"
    );
    let e = err(&text);
    assert!(matches!(e, ConfigError::Vrrp { .. }), "{e:?}");
    assert_eq!((e.location().line, e.keyword()), (2, Some("vrrp_strict")));
    assert!(e.to_string().contains("--checker-only"));
    let l = read_keepalived_str(
        &text,
        Path::new("k.conf"),
        &KeepalivedOptions {
            checker_only: true,
            config_id: None,
        },
    )
    .unwrap();
    assert_eq!(l.model.virtual_servers.len(), 1);
    assert_eq!(l.notes.len(), 2);
    assert!(
        l.notes[1].message.contains("vrrp_instance VI_1"),
        "{:?}",
        l.notes
    );
}

#[test]
fn bad_values_are_refused_with_their_line() {
    let cases = [
        (
            "virtual_server 10.0.0.1 80 {\n lb_algo nope\n}\n",
            2,
            "lb_algo",
        ),
        (
            "virtual_server 10.0.0.1 80 {\n lvs_sched rr\n sh-port\n}\n",
            3,
            "sh-port",
        ),
        (
            "virtual_server 10.0.0.1 80 {\n lvs_method TUN type gue\n}\n",
            2,
            "lvs_method",
        ),
        (
            "virtual_server 10.0.0.1 80 {\n delay_loop -1\n}\n",
            2,
            "delay_loop",
        ),
        (
            "virtual_server 10.0.0.1 80 {\n protocol ICMP\n}\n",
            2,
            "protocol",
        ),
        (
            "virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  weight 2147483648\n }\n}\n",
            3,
            "weight",
        ),
        (
            "virtual_server 10.0.0.1 80 {\n real_server 2001:db8::2 80 {\n }\n}\n",
            2,
            "real_server",
        ),
        (
            "virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  HTTP_GET {\n   url {\n    path /\n    status_code 299-200\n   }\n  }\n }\n}\n",
            6,
            "status_code",
        ),
        (
            "virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  HTTP_GET {\n   connect_port 80\n  }\n }\n}\n",
            3,
            "HTTP_GET",
        ),
        (
            "virtual_server fwmark 1 {\n real_server 10.0.0.2 {\n  TCP_CHECK {\n  }\n }\n}\n",
            3,
            "TCP_CHECK",
        ),
        ("virtual_server group NOPE {\n}\n", 1, "virtual_server"),
        (
            "virtual_server 10.0.0.1 80 {\n sorry_server_inhibit\n}\n",
            2,
            "sorry_server_inhibit",
        ),
        (
            "virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  FILE_CHECK {\n   track_file none\n  }\n }\n}\n",
            3,
            "track_file",
        ),
    ];
    for (text, line, keyword) in cases {
        let e = err(text);
        assert_eq!(
            (e.location().line, e.keyword()),
            (line, Some(keyword)),
            "{e}\n{text}"
        );
    }
}

#[test]
fn whole_configuration_rules() {
    // The same service twice.
    let e = err(&format!(
        "virtual_server 10.0.0.1 80 {{\n {SIMPLE_RS}\n}}\nvirtual_server 10.0.0.1 80 {{\n {SIMPLE_RS}\n}}\n"
    ));
    assert_eq!(e.location().line, 4);
    assert!(e.to_string().contains("declared again"), "{e}");
    // The kernel's rules, through the library: port 0 needs persistence.
    let e = err(&format!("virtual_server 10.0.0.1 0 {{\n {SIMPLE_RS}\n}}\n"));
    assert!(e.to_string().contains("persistence"), "{e}");
    // A virtual server without real servers is dropped with a note, as keepalived does.
    let l = ok("virtual_server 10.0.0.1 80 {\n delay_loop 5\n}\n");
    assert!(l.model.virtual_servers.is_empty());
    assert!(l.notes[0].message.contains("no real servers"));
}

#[test]
fn misc_timeout_defaults_to_the_virtual_servers_delay_loop() {
    let l = ok(
        "virtual_server 10.0.0.1 80 {\n delay_loop 9\n real_server 10.0.0.2 80 {\n  delay_loop 3\n  MISC_CHECK {\n   misc_path /bin/true\n  }\n }\n}\n",
    );
    let c = &l.model.virtual_servers[0].real_servers[0].checkers[0];
    let CheckKind::Misc(m) = &c.kind else {
        panic!()
    };
    assert_eq!(
        m.timeout,
        Duration::from_secs(9),
        "check_misc.c: vs->delay_loop"
    );
    assert_eq!(c.timing.delay_loop, Duration::from_secs(3));
    assert_eq!(c.timing.retry, 0, "MISC_CHECK's default retry");
}

#[test]
fn status_codes_are_http_ones() {
    let text = "virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  HTTP_GET {\n   url {\n    path /\n    status_code 600\n   }\n  }\n }\n}\n";
    assert_eq!(err(text).keyword(), Some("status_code"));
    let text = text.replace(
        "status_code 600",
        "regex x\n    regex_min_offset 10\n    regex_max_offset 5",
    );
    assert!(err(&text).to_string().contains("min offset 10"));
}

#[test]
fn udp_hex_is_free_form_and_misc_user_takes_a_group() {
    let l = ok(
        "virtual_server 10.0.0.1 53 {\n protocol UDP\n real_server 10.0.0.2 53 {\n  UDP_CHECK {\n   payload Ab12f 3 456\n   require_reply 0X1 x\n  }\n  MISC_CHECK {\n   misc_path /bin/true\n   user nobody:nogroup\n  }\n }\n}\n",
    );
    let rs = &l.model.virtual_servers[0].real_servers[0];
    let CheckKind::Udp(u) = &rs.checkers[0].kind else {
        panic!()
    };
    // keepalived.conf(5): `Ab12f 3 456` is ab 12 0f 03 45 06.
    assert_eq!(u.payload, [0xab, 0x12, 0x0f, 0x03, 0x45, 0x06]);
    assert_eq!(u.reply_pattern.as_deref(), Some("0x010x"));
    let CheckKind::Misc(m) = &rs.checkers[1].kind else {
        panic!()
    };
    let user = m.user.as_ref().unwrap();
    assert_eq!(
        (user.user.as_str(), user.group.as_deref()),
        ("nobody", Some("nogroup"))
    );
    let e = err(
        "virtual_server 10.0.0.1 53 {\n real_server 10.0.0.2 53 {\n  UDP_CHECK {\n   payload 0g\n  }\n }\n}\n",
    );
    assert_eq!((e.location().line, e.keyword()), (4, Some("payload")));
}

#[test]
fn file_check_weights_follow_their_block() {
    let base = "track_file f {\n file /run/f\n weight W\n}\nvirtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  FILE_CHECK {\n   track_file f\n   V\n  }\n }\n}\n";
    let l = ok(&base.replace("weight W", "weight 3").replace("   V\n", ""));
    let CheckKind::File(f) = &l.model.virtual_servers[0].real_servers[0].checkers[0].kind else {
        panic!()
    };
    assert_eq!(
        (f.weight, f.reverse),
        (3, false),
        "the track_file block's weight"
    );
    let l = ok(&base
        .replace("weight W", "weight 3")
        .replace("   V", "   weight 100000 reverse"));
    let CheckKind::File(f) = &l.model.virtual_servers[0].real_servers[0].checkers[0].kind else {
        panic!()
    };
    assert_eq!((f.weight, f.reverse), (100_000, true), "FILE_CHECK's own");
    let e = err(&base.replace("weight W", "weight 300").replace("   V\n", ""));
    assert_eq!(
        (e.location().line, e.keyword()),
        (3, Some("weight")),
        "track_file: -254..=254"
    );
}

// ---------------------------------------------------------------------------
// VRRP

use super::vrrp::{InitialState, Vrrp, VrrpInstance};
use crate::vrrp::{ChecksumMode, Version};

/// Every VRRP keyword ipvsd reads, with a virtual server beside it.
const VRRP_RICH: &str = r#"
global_defs {
    router_id LB1
    vrrp_version 2
    vrrp_garp_master_delay 2
    vrrp_garp_master_repeat 3
    vrrp_garp_master_refresh 60
    vrrp_garp_master_refresh_repeat 2
    vrrp_garp_interval 0.001
    vrrp_gna_interval 0.002
    vrrp_notify_fifo /run/vrrp.fifo
    vrrp_notify_fifo_script "/usr/local/bin/fifo reader"
    vrrp_priority -10
    vrrp_no_swap
    vrrp_rt_priority 50
    lvs_sync_daemon eth1 inst VI_1
}
vrrp_script chk_web {
    script "/usr/local/bin/check web"
    interval 2
    timeout 3
    weight -20
    rise 2
    fall 3
    user root
}
vrrp_script chk_dns {
    script /usr/local/bin/check dns
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 2
    nopreempt
    preempt
    preempt_delay 0
    mcast_src_ip 192.0.2.2
    authentication {
        auth_type PASS
        auth_pass secret12
    }
    virtual_ipaddress {
        192.0.2.100/24 dev eth0 label eth0:vip
        192.0.2.101
        192.0.2.102/32 brd 192.0.2.255 scope global
    }
    virtual_ipaddress_excluded {
        2001:db8::100/64 dev eth1
    }
    track_interface {
        eth1
        eth2 weight -30
        eth3 weight 0
    }
    track_script {
        chk_web
        chk_dns weight 10
    }
    notify_master "/etc/keepalived/notify.sh master" root
    notify_backup /etc/keepalived/backup.sh
    notify_fault "/etc/keepalived/notify.sh fault"
    notify_stop /etc/keepalived/stop.sh
    notify /etc/keepalived/any.sh
    garp_master_delay 1
    garp_master_repeat 4
    garp_master_refresh 30
    garp_master_refresh_repeat 3
    smtp_alert
    dont_track_primary
}
vrrp_instance VI_6 {
    interface eth0
    virtual_router_id 51
    priority 90
    advert_int 0.25
    v3_checksum_as_v2
    unicast_src_ip 2001:db8::2
    unicast_peer {
        2001:db8::3
    }
    virtual_ipaddress {
        2001:db8::200/64
    }
    notify "/etc/keepalived/notify6.sh" root root
}
vrrp_sync_group SG {
    group {
        VI_1
    }
    notify_master "/etc/keepalived/group.sh master"
    notify_fault /etc/keepalived/group-fault.sh
}
virtual_server 192.0.2.100 80 {
    real_server 10.0.0.2 80 {
        TCP_CHECK {
        }
    }
}
"#;

fn instance<'a>(v: &'a Vrrp, name: &str) -> &'a VrrpInstance {
    v.instances
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no instance {name}"))
}

fn notes_of(l: &Loaded) -> String {
    l.notes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn vrrp_globals_are_read() {
    let l = ok(VRRP_RICH);
    let g = &l.model.vrrp.global;
    assert_eq!(g.version, Version::V2);
    assert_eq!(g.garp_master_delay, Duration::from_secs(2));
    assert_eq!((g.garp_master_repeat, g.garp_master_refresh_repeat), (3, 2));
    assert_eq!(g.garp_master_refresh, Duration::from_secs(60));
    assert_eq!(g.garp_interval, Duration::from_millis(1));
    assert_eq!(g.gna_interval, Duration::from_millis(2));
    assert_eq!(g.notify_fifo.as_deref(), Some(Path::new("/run/vrrp.fifo")));
    assert_eq!(
        g.notify_fifo_script.as_ref().map(|s| s.command.as_str()),
        Some("/usr/local/bin/fifo reader")
    );
    let notes = notes_of(&l);
    for k in ["vrrp_priority", "vrrp_no_swap", "vrrp_rt_priority"] {
        assert!(
            notes.contains(&format!("`{k}` only tunes keepalived's own process")),
            "{notes}"
        );
    }
}

#[test]
fn vrrp_instance_keywords() {
    let l = ok(VRRP_RICH);
    let v = instance(&l.model.vrrp, "VI_1");
    assert_eq!(v.initial_state, InitialState::Master);
    assert_eq!(
        (v.interface.as_str(), v.vrid, v.priority),
        ("eth0", 51, 150)
    );
    assert_eq!(v.advert_int, Duration::from_secs(2));
    assert_eq!(v.version, Version::V2);
    assert!(v.preempt, "`preempt` after `nopreempt` turns it back on");
    assert_eq!(v.unicast_src, Some("192.0.2.2".parse().unwrap()));
    assert!(v.unicast_peers.is_empty());
    assert_eq!(v.auth_pass, Some(*b"secret12"));
    let vips: Vec<String> = v
        .virtual_addresses
        .iter()
        .map(|a| {
            format!(
                "{}/{} {:?} {:?}",
                a.address, a.prefix_len, a.device, a.label
            )
        })
        .collect();
    assert_eq!(
        vips,
        [
            "192.0.2.100/24 Some(\"eth0\") Some(\"eth0:vip\")",
            "192.0.2.101/32 None None",
            "192.0.2.102/32 None None",
        ]
    );
    assert_eq!(v.excluded_addresses[0].prefix_len, 64);
    assert_eq!(v.excluded_addresses[0].device.as_deref(), Some("eth1"));
    // In a sync group (keepalived 2.2.7 vrrp_complete_instance): interface
    // weights removed, weighted scripts dropped.
    let tracked: Vec<(&str, Option<i32>)> = v
        .track_interfaces
        .iter()
        .map(|t| (t.name.as_str(), t.weight))
        .collect();
    assert_eq!(tracked, [("eth1", None), ("eth2", None), ("eth3", None)]);
    let scripts: Vec<(&str, Option<i32>)> = v
        .track_scripts
        .iter()
        .map(|t| (t.name.as_str(), t.weight))
        .collect();
    assert_eq!(scripts, []);
    let n = &v.notify;
    let master = n.master.as_ref().unwrap();
    assert_eq!(master.command, "/etc/keepalived/notify.sh master");
    assert_eq!(master.user.as_ref().map(|u| u.user.as_str()), Some("root"));
    assert_eq!(
        n.backup.as_ref().unwrap().command,
        "/etc/keepalived/backup.sh"
    );
    assert!(n.fault.is_some() && n.stop.is_some() && n.any.is_some());
    assert_eq!(v.garp.master_delay, Duration::from_secs(1));
    assert_eq!((v.garp.master_repeat, v.garp.master_refresh_repeat), (4, 3));
    assert_eq!(v.garp.master_refresh, Duration::from_secs(30));
    // Not set on the instance: the global ones.
    assert_eq!(v.garp.interval, Duration::from_millis(1));
    assert_eq!(v.garp.gna_interval, Duration::from_millis(2));
    let notes = notes_of(&l);
    assert!(
        notes.contains("weighted track_script chk_web, chk_dns ignored"),
        "{notes}"
    );
    assert!(
        notes.contains("vrrp_sync_group SG has only 1 instance"),
        "{notes}"
    );
    assert!(notes.contains("`brd` ignored"), "{notes}");
    assert!(notes.contains("`smtp_alert` ignored"), "{notes}");
    assert!(!notes.contains("`dont_track_primary`"), "{notes}");
    assert!(!v.track_primary);
}

#[test]
fn vrrp_ipv6_instance_scripts_and_sync_group() {
    let l = ok(VRRP_RICH);
    let vrrp = &l.model.vrrp;
    let v = instance(vrrp, "VI_6");
    assert_eq!(v.version, Version::V3, "IPv6 runs version 3 unless told");
    assert_eq!(v.checksum, ChecksumMode::AsV2);
    assert_eq!(v.advert_int, Duration::from_millis(250));
    assert_eq!(v.initial_state, InitialState::Backup);
    assert_eq!(v.unicast_peers, ["2001:db8::3".parse::<IpAddr>().unwrap()]);
    assert_eq!(
        v.notify.any.as_ref().unwrap().command,
        "/etc/keepalived/notify6.sh"
    );
    assert_eq!(vrrp.scripts.len(), 2);
    let web = &vrrp.scripts[0];
    assert_eq!(web.script.command, "/usr/local/bin/check web");
    assert_eq!(
        web.script.user.as_ref().map(|u| u.user.as_str()),
        Some("root")
    );
    assert_eq!(
        (web.interval, web.timeout),
        (Duration::from_secs(2), Duration::from_secs(3))
    );
    assert_eq!((web.weight, web.rise, web.fall), (-20, 2, 3));
    let dns = &vrrp.scripts[1];
    assert_eq!(
        dns.script.command, "/usr/local/bin/check dns",
        "unquoted words joined"
    );
    assert_eq!(
        (dns.interval, dns.timeout),
        (Duration::from_secs(1), Duration::from_secs(1))
    );
    assert_eq!((dns.weight, dns.rise, dns.fall), (0, 1, 1));
    let g = &vrrp.sync_groups[0];
    assert_eq!(
        (g.name.as_str(), g.instances.as_slice()),
        ("SG", &["VI_1".to_owned()][..])
    );
    assert!(g.notify.master.is_some() && g.notify.fault.is_some() && g.notify.any.is_none());
}

#[test]
fn vrrp_defaults_follow_keepalived_and_late_globals() {
    // global_defs after the instance still gives its defaults.
    let l = ok(
        "vrrp_instance A {\n interface eth0\n virtual_router_id 7\n}\nglobal_defs {\n vrrp_version 3\n vrrp_garp_master_delay 9\n}\n",
    );
    let v = instance(&l.model.vrrp, "A");
    assert_eq!(v.initial_state, InitialState::Backup);
    assert_eq!((v.priority, v.advert_int), (100, Duration::from_secs(1)));
    assert_eq!(v.version, Version::V3);
    assert!(v.preempt);
    assert_eq!(v.preempt_delay, Duration::ZERO);
    assert_eq!(v.checksum, ChecksumMode::PseudoHeader);
    assert_eq!(v.garp.master_delay, Duration::from_secs(9));
    assert_eq!(v.garp.master_repeat, 5);
    assert_eq!(v.auth_pass, None);
    // State MASTER without a priority is the address owner; priority 255
    // without a state starts as master.
    let l = ok(
        "vrrp_instance A {\n state MASTER\n interface eth0\n virtual_router_id 7\n}\nvrrp_instance B {\n interface eth1\n virtual_router_id 7\n priority 255\n}\n",
    );
    assert_eq!(instance(&l.model.vrrp, "A").priority, 255);
    assert_eq!(
        instance(&l.model.vrrp, "B").initial_state,
        InitialState::Master
    );
    assert!(
        notes_of(&l)
            .contains("test.conf:1: note: vrrp_instance A: state MASTER without a priority")
    );
    // The global default interface and global v3_checksum_as_v2.
    let l = ok(
        "global_defs {\n default_interface bond0\n v3_checksum_as_v2\n vrrp_version 3\n}\nvrrp_instance A {\n virtual_router_id 7\n}\n",
    );
    let v = instance(&l.model.vrrp, "A");
    assert_eq!(v.interface, "bond0");
    assert_eq!(v.checksum, ChecksumMode::AsV2);
}

// keepalived's init_global_data: unset, the lower-priority burst follows
// vrrp_garp_master_repeat and _delay; an instance keyword beats the global.
#[test]
fn lower_priority_answer_keywords() {
    let l = ok(
        "global_defs {\n vrrp_garp_master_repeat 3\n vrrp_garp_master_delay 7\n}\nvrrp_instance A {\n interface eth0\n virtual_router_id 7\n}\n",
    );
    let v = instance(&l.model.vrrp, "A");
    assert_eq!(
        (v.garp.lower_prio_repeat, v.garp.lower_prio_delay),
        (3, Duration::from_secs(7))
    );
    assert!(!v.lower_prio_no_advert);
    let l = ok(
        "global_defs {\n vrrp_garp_lower_prio_repeat 0\n vrrp_garp_lower_prio_delay 2\n vrrp_lower_prio_no_advert\n}\nvrrp_instance A {\n interface eth0\n virtual_router_id 7\n}\nvrrp_instance B {\n interface eth1\n virtual_router_id 8\n garp_lower_prio_repeat 4\n garp_lower_prio_delay 0\n lower_prio_no_advert false\n}\n",
    );
    let a = instance(&l.model.vrrp, "A");
    assert_eq!(
        (a.garp.lower_prio_repeat, a.garp.lower_prio_delay),
        (0, Duration::from_secs(2))
    );
    assert!(a.lower_prio_no_advert);
    let b = instance(&l.model.vrrp, "B");
    assert_eq!(
        (b.garp.lower_prio_repeat, b.garp.lower_prio_delay),
        (4, Duration::ZERO)
    );
    assert!(!b.lower_prio_no_advert);
    assert!(
        err(&vrrp_conf(" garp_lower_prio_repeat -1"))
            .to_string()
            .contains("garp_lower_prio_repeat")
    );
}

fn vrrp_conf(body: &str) -> String {
    format!("vrrp_instance A {{\n interface eth0\n virtual_router_id 7\n{body}\n}}\n")
}

#[test]
fn advert_int_is_corrected_as_keepalived_does() {
    for (version, given, want) in [
        ("2", "0.5", 1000),
        ("2", "1.5", 2000),
        ("2", "2.4", 2000),
        ("3", "0.123", 120),
        ("3", "0.125", 130),
        ("3", "0.014", 10),
        ("3", "100", 40_950),
        ("3", "40.95", 40_950),
        ("2", "255", 255_000),
    ] {
        let l = ok(&vrrp_conf(&format!(
            " version {version}\n advert_int {given}"
        )));
        let v = instance(&l.model.vrrp, "A");
        assert_eq!(
            v.advert_int,
            Duration::from_millis(want),
            "v{version} {given}"
        );
        let noted = notes_of(&l).contains("advert_int");
        assert_eq!(
            noted,
            v.advert_int.as_secs_f64().to_string() != given,
            "v{version} {given}: {:?}",
            l.notes
        );
    }
    let e = err(&vrrp_conf(" advert_int 256"));
    assert_eq!((e.location().line, e.keyword()), (4, Some("advert_int")));
    let e = err(&vrrp_conf(" advert_int 0"));
    assert_eq!(e.keyword(), Some("advert_int"));
}

#[test]
fn authentication_as_keepalived() {
    let l = ok(&vrrp_conf(
        " authentication {\n  auth_type PASS\n  auth_pass 0123456789\n }",
    ));
    assert_eq!(instance(&l.model.vrrp, "A").auth_pass, Some(*b"01234567"));
    assert!(notes_of(&l).contains(":6: note: auth_pass truncated to 8 characters"));
    let l = ok(&vrrp_conf(
        " authentication {\n  auth_type PASS\n  auth_pass abc\n }",
    ));
    assert_eq!(
        instance(&l.model.vrrp, "A").auth_pass,
        Some(*b"abc\0\0\0\0\0")
    );
    let l = ok(&vrrp_conf(
        " version 3\n authentication {\n  auth_type PASS\n  auth_pass abc\n }",
    ));
    assert_eq!(instance(&l.model.vrrp, "A").auth_pass, None);
    assert!(
        notes_of(&l).contains(":5: note: vrrp_instance A: VRRP version 3 has no authentication")
    );
    let l = ok(&vrrp_conf(" authentication {\n  auth_type PASS\n }"));
    assert_eq!(instance(&l.model.vrrp, "A").auth_pass, None);
    assert!(notes_of(&l).contains("without auth_pass"));
    let e = err(&vrrp_conf(
        " authentication {\n  auth_type AH\n  auth_pass abc\n }",
    ));
    assert!(matches!(e, ConfigError::Vrrp { .. }), "{e:?}");
    assert_eq!((e.location().line, e.keyword()), (5, Some("auth_type AH")));
}

#[test]
fn keepalived_corrections_are_noted() {
    let l = ok(&vrrp_conf(
        " state MASTER\n priority 200\n nopreempt\n preempt_delay 10",
    ));
    let v = instance(&l.model.vrrp, "A");
    assert!(v.preempt);
    assert_eq!(v.preempt_delay, Duration::ZERO);
    let notes = notes_of(&l);
    assert!(
        notes.contains(":6: note: vrrp_instance A: nopreempt needs state BACKUP"),
        "{notes}"
    );
    assert!(
        notes.contains(":7: note: vrrp_instance A: preempt_delay does not apply"),
        "{notes}"
    );
    let l = ok(&vrrp_conf(
        " nopreempt\n preempt_delay 2.5\n garp_master_repeat 0",
    ));
    let v = instance(&l.model.vrrp, "A");
    assert!(!v.preempt);
    assert_eq!(v.preempt_delay, Duration::from_millis(2500));
    assert_eq!(v.garp.master_repeat, 1);
    assert!(notes_of(&l).contains("`garp_master_repeat 0` set to 1"));
    // The deprecated instance form of the sync daemon fills the global one.
    let l = ok(&vrrp_conf(" lvs_sync_daemon_interface eth9"));
    let d = l.model.global.lvs_sync_daemon.as_ref().unwrap();
    assert_eq!(
        (d.interface.as_str(), d.vrrp_instance.as_deref()),
        ("eth9", Some("A"))
    );
    let l = ok(&format!(
        "global_defs {{\n lvs_sync_daemon eth1\n}}\n{}",
        vrrp_conf(" lvs_sync_daemon_interface eth9")
    ));
    assert_eq!(
        l.model.global.lvs_sync_daemon.as_ref().unwrap().interface,
        "eth1"
    );
    assert!(notes_of(&l).contains("lvs_sync_daemon_interface ignored"));
}

#[test]
fn unsupported_vrrp_keywords_are_named_errors() {
    let cases: &[(&str, usize, &str)] = &[
        (&vrrp_conf(" use_vmac"), 4, "use_vmac"),
        (&vrrp_conf(" track_file {\n  f\n }"), 4, "track_file"),
        (&vrrp_conf(" strict_mode"), 4, "strict_mode"),
        (
            &vrrp_conf(" virtual_routes {\n  10.0.0.0/8 via 192.0.2.1\n }"),
            4,
            "virtual_routes",
        ),
        (
            &vrrp_conf(" virtual_ipaddress {\n  192.0.2.1 no_track\n }"),
            5,
            "no_track",
        ),
        (
            &vrrp_conf(" unicast_peer {\n  192.0.2.3 min_ttl 2\n }"),
            5,
            "min_ttl",
        ),
        (
            &vrrp_conf(" track_interface {\n  eth1 weight 5 reverse\n }"),
            5,
            "reverse",
        ),
        ("global_defs {\n vrrp_strict\n}\n", 2, "vrrp_strict"),
        (
            "global_defs {\n vrrp_mcast_group4 224.0.0.19\n}\n",
            2,
            "vrrp_mcast_group4",
        ),
        ("global_defs {\n notify_fifo /run/f\n}\n", 2, "notify_fifo"),
        (
            "vrrp_script s {\n script /bin/true\n init_fail\n}\n",
            3,
            "init_fail",
        ),
        (
            "vrrp_sync_group G {\n group {\n  A\n }\n track_file {\n  f\n }\n}\n",
            5,
            "track_file",
        ),
        (
            "static_ipaddress {\n 192.0.2.1 dev eth0\n}\n",
            1,
            "static_ipaddress",
        ),
        ("garp_group {\n garp_interval 1\n}\n", 1, "garp_group"),
    ];
    for (text, line, keyword) in cases {
        let e = err(text);
        assert!(matches!(e, ConfigError::Vrrp { .. }), "{text}: {e:?}");
        assert_eq!(
            (e.location().line, e.keyword()),
            (*line, Some(*keyword)),
            "{text}: {e}"
        );
        assert!(e.to_string().contains("unsupported VRRP keyword"), "{e}");
    }
}

#[test]
fn vrrp_values_and_references_are_checked() {
    let cases: &[(&str, usize, &str, &str)] = &[
        (
            "vrrp_instance A {\n virtual_router_id 7\n}\n",
            1,
            "vrrp_instance",
            "has no `interface`",
        ),
        (
            "vrrp_instance A {\n interface eth0\n}\n",
            1,
            "vrrp_instance",
            "has no `virtual_router_id`",
        ),
        (
            &vrrp_conf(" virtual_router_id 0"),
            4,
            "virtual_router_id",
            "1..=255",
        ),
        (
            &vrrp_conf(" virtual_router_id 256"),
            4,
            "virtual_router_id",
            "1..=255",
        ),
        (&vrrp_conf(" priority 0"), 4, "priority", "1..=255"),
        (&vrrp_conf(" state EQUAL"), 4, "state", "MASTER or BACKUP"),
        (&vrrp_conf(" version 4"), 4, "version", "2..=3"),
        (
            &vrrp_conf(" preempt_delay 1001"),
            4,
            "preempt_delay",
            "1000",
        ),
        (
            &vrrp_conf(" version 2\n virtual_ipaddress {\n  2001:db8::1\n }"),
            4,
            "version",
            "IPv4 only",
        ),
        (
            &vrrp_conf(" virtual_ipaddress {\n  192.0.2.1\n  2001:db8::1\n }"),
            1,
            "virtual_ipaddress",
            "is not ipv4",
        ),
        (
            &vrrp_conf(" virtual_ipaddress {\n  192.0.2.1/33\n }"),
            5,
            "virtual_ipaddress",
            "prefix",
        ),
        (
            &vrrp_conf(" unicast_src_ip 2001:db8::1\n virtual_ipaddress {\n  192.0.2.1\n }"),
            1,
            "unicast_peer",
            "is not ipv4",
        ),
        (
            &vrrp_conf(" track_script {\n  nothing\n }"),
            1,
            "track_script",
            "no vrrp_script named nothing",
        ),
        (
            &vrrp_conf(" track_interface {\n  eth1 weight 254\n }"),
            5,
            "track_interface",
            "-253..=253",
        ),
        (
            &format!("{}{}", vrrp_conf(""), vrrp_conf("")),
            6,
            "vrrp_instance",
            "defined twice",
        ),
        (
            &format!("{}{}", vrrp_conf(""), vrrp_conf("").replace("A {", "B {")),
            6,
            "virtual_router_id",
            "virtual router 7 on eth0 (ipv4) is already vrrp_instance A",
        ),
        (
            &format!(
                "{}vrrp_sync_group G {{\n group {{\n  A\n  Z\n }}\n}}\n",
                vrrp_conf("")
            ),
            6,
            "group",
            "no vrrp_instance named Z",
        ),
        (
            &format!(
                "global_defs {{\n lvs_sync_daemon eth1 inst Z\n}}\n{}",
                vrrp_conf("")
            ),
            1,
            "lvs_sync_daemon",
            "no vrrp_instance named Z",
        ),
        (
            "vrrp_script s {\n interval 2\n}\n",
            1,
            "vrrp_script",
            "has no `script`",
        ),
        (
            "vrrp_script s {\n script /bin/true\n interval 1.5\n}\n",
            3,
            "interval",
            "whole number",
        ),
        (
            "vrrp_script s {\n script /bin/true\n weight 300\n}\n",
            3,
            "weight",
            "-253..=253",
        ),
        (
            "vrrp_script s {\n script /bin/true\n rise 0\n}\n",
            3,
            "rise",
            "whole number",
        ),
    ];
    for (text, line, keyword, why) in cases {
        let e = err(text);
        assert!(matches!(e, ConfigError::Invalid { .. }), "{text}: {e:?}");
        assert_eq!(
            (e.location().line, e.keyword()),
            (*line, Some(*keyword)),
            "{text}: {e}"
        );
        assert!(e.to_string().contains(why), "{text}: {e}");
    }
    // The same VRID on another interface, family or transport is fine.
    let two = format!(
        "{}{}{}",
        vrrp_conf(""),
        vrrp_conf(" virtual_ipaddress {\n  2001:db8::1\n }").replace("A {", "B {"),
        vrrp_conf("").replace("A {", "C {").replace("eth0", "eth1")
    );
    assert_eq!(ok(&two).model.vrrp.instances.len(), 3);
}

#[test]
fn checker_only_still_skips_every_vrrp_block() {
    let l = read_keepalived_str(
        VRRP_RICH,
        Path::new("k.conf"),
        &KeepalivedOptions {
            checker_only: true,
            config_id: None,
        },
    )
    .unwrap();
    assert!(l.model.vrrp == Vrrp::default(), "{:?}", l.model.vrrp);
    assert_eq!(
        l.model
            .global
            .lvs_sync_daemon
            .as_ref()
            .and_then(|d| d.vrrp_instance.as_deref()),
        Some("VI_1"),
        "kept as data"
    );
    let skipped = l
        .notes
        .iter()
        .filter(|n| n.message.contains("skipped (checker only)"))
        .count();
    // 12 VRRP globals, 2 scripts, 2 instances, 1 sync group.
    assert_eq!(skipped, 17, "{:?}", l.notes);
}

#[test]
fn vrrp_round_trip_through_native_toml() {
    let loaded = ok(VRRP_RICH);
    let toml = to_toml(&loaded.model).unwrap();
    assert!(toml.contains("[[vrrp.instances]]"), "{toml}");
    let again = read_native_str(&toml, Path::new("converted.toml"))
        .unwrap_or_else(|e| panic!("{e}\n{toml}"));
    assert_eq!(loaded.model, again.model, "{toml}");
    // Globals alone survive too.
    let loaded = ok("global_defs {\n vrrp_version 3\n vrrp_garp_master_delay 1\n}\n");
    let again = read_native_str(&to_toml(&loaded.model).unwrap(), Path::new("c.toml")).unwrap();
    assert_eq!(again.model.vrrp.global.version, Version::V3);
    assert_eq!(loaded.model, again.model);
}

const SYNC_GROUP_TRACKING: &str = r#"
vrrp_script chk_a {
    script /bin/true
    weight -20
}
vrrp_script chk_b {
    script /bin/true
}
vrrp_instance A {
    interface eth0
    virtual_router_id 1
    virtual_ipaddress {
        192.0.2.1
    }
    track_interface {
        eth1 weight -10
    }
    track_script {
        chk_a
    }
}
vrrp_instance B {
    interface eth0
    virtual_router_id 2
    virtual_ipaddress {
        192.0.2.2
    }
}
vrrp_sync_group G {
    group {
        A
        B
    }
    track_interface {
        eth2 weight -5
    }
    track_script {
        chk_b
    }
    WEIGHTS
}
"#;

/// Tracked objects by name and weight.
type Tracked = Vec<(String, Option<i32>)>;

fn tracking(v: &Vrrp, name: &str) -> (Tracked, Tracked) {
    let i = instance(v, name);
    (
        i.track_interfaces
            .iter()
            .map(|t| (t.name.clone(), t.weight))
            .collect(),
        i.track_scripts
            .iter()
            .map(|t| (t.name.clone(), t.weight))
            .collect(),
    )
}

// keepalived 2.2.7 (vrrp.c sync_group_tracking_init): a sync group's own
// track_interface and track_script go to every member with their weights;
// the members' own weights go (interfaces) or their weighted scripts are
// dropped, unless sync_group_tracking_weight.
#[test]
fn sync_group_tracking_reaches_every_member() {
    let l = ok(&SYNC_GROUP_TRACKING.replace("WEIGHTS", ""));
    let v = &l.model.vrrp;
    let own = |n: &str, w: Option<i32>| (n.to_owned(), w);
    assert_eq!(
        tracking(v, "A"),
        (
            vec![own("eth1", None), own("eth2", Some(-5))],
            vec![own("chk_b", Some(0))]
        )
    );
    assert_eq!(
        tracking(v, "B"),
        (vec![own("eth2", Some(-5))], vec![own("chk_b", Some(0))])
    );
    let notes = notes_of(&l);
    assert!(
        notes.contains("weighted track_script chk_a ignored"),
        "{notes}"
    );
    let l = ok(&SYNC_GROUP_TRACKING.replace("WEIGHTS", "sync_group_tracking_weight"));
    assert_eq!(
        tracking(&l.model.vrrp, "A"),
        (
            vec![own("eth1", Some(-10)), own("eth2", Some(-5))],
            vec![own("chk_a", None), own("chk_b", Some(0))]
        )
    );
    let l = ok(&SYNC_GROUP_TRACKING.replace("WEIGHTS", "global_tracking"));
    assert_eq!(tracking(&l.model.vrrp, "A").0[0], own("eth1", Some(-10)));
    assert!(notes_of(&l).contains("`global_tracking` is deprecated"));
}
