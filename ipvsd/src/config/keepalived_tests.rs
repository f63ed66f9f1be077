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
