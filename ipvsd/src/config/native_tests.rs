//! Unit tests of the native TOML reader: its defaults, inheritance and errors.

use std::path::Path;
use std::time::Duration;

use ipvs::{AddressFamily, ForwardMethod, Netmask, ServiceKey};

use super::checker::CheckKind;
use super::{ConfigError, DEFAULT_STATUS_LISTEN, Loaded, read_native_str, to_toml};

fn read(text: &str) -> Result<Loaded, ConfigError> {
    read_native_str(text, Path::new("ipvsd.toml"))
}

fn err(text: &str) -> ConfigError {
    match read(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

const ONE: &str = r#"
[[services]]
protocol = "tcp"
address = "192.0.2.1"
port = 80
delay_loop = 20

[[services.destinations]]
address = "192.0.2.11"

[[services.destinations.checkers]]
type = "http"
urls = [{ path = "/" }]
"#;

#[test]
fn native_defaults() {
    let m = read(ONE).unwrap().model;
    assert_eq!(m.global.status_listen, DEFAULT_STATUS_LISTEN);
    assert!(m.global.start_down);
    assert_eq!(m.global.check_jitter_percent, 10);
    let vs = &m.virtual_servers[0];
    assert_eq!(
        vs.forward,
        ForwardMethod::Route,
        "as the desired-state JSON"
    );
    assert!(vs.alpha);
    let rs = &vs.real_servers[0];
    assert_eq!((rs.port, rs.weight), (80, 1));
    assert!(rs.alpha);
    let c = &rs.checkers[0];
    assert_eq!(c.timing.delay_loop, Duration::from_secs(20));
    assert_eq!(
        c.timing.jitter,
        Duration::from_secs(2),
        "10 % of the delay loop"
    );
    assert_eq!(c.timing.delay_before_retry, Duration::from_secs(3));
    assert_eq!((c.timing.rise, c.timing.fall, c.timing.retry), (1, 1, 1));
    assert!(c.timing.alpha);
    let CheckKind::Http(h) = &c.kind else {
        panic!()
    };
    assert_eq!(h.urls[0].status_codes, [(200, 299)]);
}

#[test]
fn global_rise_fall_and_nearest_timing_win() {
    let text = format!(
        "[global]\nrise = 3\nfall = 2\nstart_down = false\ncheck_jitter = 0\n{}",
        ONE.replace("type = \"http\"", "type = \"http\"\nfall = 5\nwarmup = 0.5")
    );
    let m = read(&text).unwrap().model;
    let c = &m.virtual_servers[0].real_servers[0].checkers[0];
    assert_eq!((c.timing.rise, c.timing.fall), (3, 5));
    assert_eq!(c.timing.warmup, Duration::from_millis(500));
    assert_eq!(c.timing.jitter, Duration::ZERO);
    assert!(!c.timing.alpha);
}

#[test]
fn persistence_prefix_follows_the_family() {
    let text = ONE.replace(
        "delay_loop = 20",
        "persistence = { timeout = 60, prefix_length = 24 }",
    );
    let m = read(&text).unwrap().model;
    let p = m.virtual_servers[0].persistence.unwrap();
    assert_eq!(
        p.netmask,
        Some(Netmask::Ipv4("255.255.255.0".parse().unwrap()))
    );
}

#[test]
fn fwmark_and_group_services() {
    let text = r#"
[[groups]]
name = "g"
members = ["10.1.0.1-10.1.0.2 443", "fwmark 3"]

[[services]]
group = "g"
forward = "masq"

[[services.destinations]]
address = "10.2.0.1"
port = 8443

[[services]]
fwmark = 9
family = "ipv6"

[[services.destinations]]
address = "2001:db8::9"
"#;
    let m = read(text).unwrap().model;
    let keys: Vec<String> = m.service_keys().map(ToString::to_string).collect();
    assert_eq!(
        keys,
        [
            "tcp 10.1.0.1:443",
            "tcp 10.1.0.2:443",
            "fwmark 3",
            "fwmark 9 ipv6"
        ]
    );
    assert_eq!(
        m.virtual_servers[1].services,
        [ServiceKey::fwmark(AddressFamily::Ipv6, 9)]
    );
    // The model round-trips through its own TOML.
    let again = read(&to_toml(&m).unwrap()).unwrap().model;
    assert_eq!(m, again);
}

#[test]
fn errors_carry_their_line() {
    let cases: [(&str, usize, &str); 6] = [
        // Unknown key in a checker.
        (
            &ONE.replace(
                "urls = [{ path = \"/\" }]",
                "urls = [{ path = \"/\" }]\ncolour = \"red\"",
            ),
            14,
            "unknown field `colour`",
        ),
        // A key of another checker type.
        (
            &ONE.replace("type = \"http\"", "type = \"tcp\""),
            11,
            "`urls` does not apply",
        ),
        // A service with both an address and a mark.
        (
            &ONE.replace("port = 80", "port = 80\nfwmark = 1"),
            2,
            "exactly one of",
        ),
        // The kernel's rules: route forwarding keeps the service's port.
        (
            &ONE.replace(
                "address = \"192.0.2.11\"",
                "address = \"192.0.2.11\"\nport = 8080",
            ),
            8,
            "must be the service's",
        ),
        // A bad value type.
        (
            &ONE.replace("delay_loop = 20", "delay_loop = \"soon\""),
            6,
            "invalid type",
        ),
        // An unknown group.
        ("[[services]]\ngroup = \"nope\"\n", 1, "no group named nope"),
    ];
    for (text, line, words) in cases {
        let e = err(text);
        assert_eq!(e.location().line, line, "{e}\n{text}");
        assert!(e.to_string().contains(words), "{e}");
    }
}

#[test]
fn the_same_service_twice_is_refused() {
    let text = format!("{ONE}\n{ONE}");
    let e = err(&text);
    assert!(e.to_string().contains("declared again"), "{e}");
    assert_eq!(e.location().line, 16);
}

const VRRP: &str = r#"
[vrrp]
version = 3

[[vrrp.instances]]
name = "VI_1"
interface = "eth0"
vrid = 51
virtual_addresses = [{ address = "192.0.2.100", prefix_len = 24, device = "eth0" }]
track_scripts = [{ name = "chk" }]

[[vrrp.scripts]]
name = "chk"
script = { command = "/usr/local/bin/check web" }
interval = 2

[[vrrp.sync_groups]]
name = "SG"
instances = ["VI_1"]
"#;

#[test]
fn native_vrrp_defaults() {
    use super::vrrp::InitialState;
    use crate::vrrp::{ChecksumMode, Version};
    let m = read(VRRP).unwrap().model;
    let v = &m.vrrp.instances[0];
    assert_eq!(v.initial_state, InitialState::Backup);
    assert_eq!((v.priority, v.version), (100, Version::V3));
    assert_eq!(v.advert_int, Duration::from_secs(1));
    assert!(v.preempt);
    assert_eq!(v.checksum, ChecksumMode::PseudoHeader);
    assert_eq!(v.virtual_addresses[0].prefix_len, 24);
    assert_eq!(v.garp.master_delay, Duration::from_secs(5));
    assert_eq!(v.garp.master_repeat, 5);
    assert_eq!(
        (v.garp.lower_prio_repeat, v.garp.lower_prio_delay),
        (5, Duration::from_secs(5))
    );
    assert!(!v.lower_prio_no_advert);
    let s = &m.vrrp.scripts[0];
    assert_eq!(
        (s.interval, s.timeout),
        (Duration::from_secs(2), Duration::from_secs(2))
    );
    assert_eq!((s.weight, s.rise, s.fall), (0, 1, 1));
    assert_eq!(m.vrrp.sync_groups[0].instances, ["VI_1"]);
    // Written out and read back: the same.
    let again = read(&to_toml(&m).unwrap()).unwrap().model;
    assert_eq!(m, again);
}

#[test]
fn native_vrrp_lower_priority_keys_survive_convert() {
    let text = VRRP
        .replace(
            "version = 3",
            "version = 3\ngarp_lower_prio_repeat = 2\nlower_prio_no_advert = true",
        )
        .replace("vrid = 51", "vrid = 51\ngarp_lower_prio_delay = 0");
    let m = read(&text).unwrap().model;
    let v = &m.vrrp.instances[0];
    assert_eq!(
        (v.garp.lower_prio_repeat, v.garp.lower_prio_delay),
        (2, Duration::ZERO)
    );
    assert!(v.lower_prio_no_advert);
    assert_eq!(m.vrrp.global.garp_lower_prio_delay, None);
    let again = read(&to_toml(&m).unwrap()).unwrap().model;
    assert_eq!(m, again);
}

#[test]
fn native_vrrp_errors_carry_their_line() {
    let cases: [(String, usize, &str); 6] = [
        (
            VRRP.replace("vrid = 51", "vrid = 51\ncolour = 1"),
            9,
            "unknown field `colour`",
        ),
        (
            VRRP.replace("version = 3", "version = 4"),
            2,
            "4 is not 2 or 3",
        ),
        (
            VRRP.replace("name = \"chk\" }", "name = \"nothing\" }"),
            5,
            "no vrrp_script named nothing",
        ),
        (
            VRRP.replace("[\"VI_1\"]", "[\"VI_9\"]"),
            17,
            "no vrrp_instance named VI_9",
        ),
        (
            VRRP.replace("vrid = 51", "vrid = 0"),
            5,
            "virtual_router_id must be in 1..=255",
        ),
        (
            VRRP.replace("version = 3", "version = 2")
                .replace("vrid = 51", "vrid = 51\nadvert_int = 0.5"),
            5,
            "not a whole number of seconds",
        ),
    ];
    for (text, line, why) in cases {
        let e = err(&text);
        assert_eq!(e.location().line, line, "{e}");
        assert!(e.to_string().contains(why), "{e}");
    }
    let e = err(&VRRP.replace(
        "[vrrp]",
        "[global.lvs_sync_daemon]\ninterface = \"eth1\"\nvrrp_instance = \"X\"\n\n[vrrp]",
    ));
    assert!(e.to_string().contains("no vrrp_instance named X"), "{e}");
}

#[test]
fn sloppy_switches_read_default_to_the_kernels_and_survive_convert() {
    let m = read(ONE).unwrap().model;
    assert_eq!((m.global.sloppy_tcp, m.global.sloppy_sctp), (None, None));
    let text = format!("[global]\nsloppy_tcp = true\nsloppy_sctp = false\n{ONE}");
    let m = read(&text).unwrap().model;
    assert_eq!(
        (m.global.sloppy_tcp, m.global.sloppy_sctp),
        (Some(true), Some(false))
    );
    let back = read(&to_toml(&m).unwrap()).unwrap().model;
    assert_eq!(back.global, m.global);
    let e = err(&format!("[global]\nsloppy_tcp = 1\n{ONE}"));
    assert!(e.to_string().starts_with("ipvsd.toml:2: "), "{e}");
}
