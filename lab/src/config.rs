//! The keepalived.conf files the lab gives each director's `ipvsd`, written
//! as an operator would write them for keepalived: the NAT virtual server
//! with an HTTP_GET check per real server and, for the director pair, the
//! VRRP instance that moves the VIP and the gateway and the sync daemon
//! that follows it.

use std::fmt::Write;
use std::time::Duration;

use crate::topology::{Director, GATEWAY, VIP, rs_internal};

/// The VRRP instance's name (keepalived's customary `VI_1`).
pub const INSTANCE: &str = "VI_1";
/// The virtual router id both directors share.
pub const VIRTUAL_ROUTER_ID: u8 = 51;
/// The advertisement interval, in whole seconds (VRRP v2 carries seconds).
pub const ADVERT_INT_SECONDS: u8 = 1;
/// The sync daemon's id (`lvs_sync_daemon ... id`).
pub const SYNC_ID: u8 = 1;

/// A director's VRRP priority: dir1 150 (master), dir2 100 (backup).
pub fn priority(d: Director) -> u8 {
    match d {
        Director::One => 150,
        Director::Two => 100,
    }
}

/// The master down interval of a backup of `priority` (RFC 3768 §6.1, as
/// keepalived computes it for v2): three advertisement intervals plus the
/// skew time `(256 - priority) / 256` seconds.
pub fn master_down_interval(priority: u8) -> Duration {
    let advert = Duration::from_secs(u64::from(ADVERT_INT_SECONDS));
    let skew = Duration::from_secs_f64(f64::from(256 - u16::from(priority)) / 256.0);
    advert * 3 + skew
}

/// The NAT virtual server on the VIP, round robin, each real server checked
/// with `GET /` every second. The other settings are keepalived's defaults:
/// without `inhibit_on_failure` a failed real server is removed from the
/// table (and added back at its weight when a check passes); without
/// `alpha` every real server is in the table before its first check.
fn virtual_server(out: &mut String) {
    let _ = writeln!(out, "virtual_server {VIP} 80 {{");
    out.push_str("    delay_loop 1\n    lvs_sched rr\n    lvs_method NAT\n    protocol TCP\n\n");
    for i in 0..3 {
        let _ = writeln!(out, "    real_server {} 80 {{", rs_internal(i));
        out.push_str(concat!(
            "        weight 1\n",
            "        HTTP_GET {\n",
            "            url {\n",
            "                path /\n",
            "                status_code 200\n",
            "            }\n",
            "            connect_timeout 1\n",
            "            retry 1\n",
            "            delay_before_retry 1\n",
            "        }\n",
            "    }\n",
        ));
    }
    out.push_str("}\n");
}

/// dir1's configuration for the health checks alone (step 6): no VRRP, the
/// VIP is the one the lab gave dir1.
pub fn checkers(d: Director) -> String {
    let mut out = format!("global_defs {{\n    router_id {}\n}}\n\n", d.name());
    virtual_server(&mut out);
    out
}

/// A director's configuration for the pair (steps 8 and 9): the VRRP
/// instance on the LAN holding the VIP there and the real servers' gateway
/// on the internal network, the sync daemon whose role follows that
/// instance, and the same virtual server on both.
pub fn pair(d: Director) -> String {
    let state = match d {
        Director::One => "MASTER",
        Director::Two => "BACKUP",
    };
    let mut out = format!(
        "global_defs {{\n    router_id {}\n    lvs_sync_daemon lan0 inst {INSTANCE} id {SYNC_ID}\n}}\n\n",
        d.name()
    );
    let _ = write!(
        out,
        concat!(
            "vrrp_instance {instance} {{\n",
            "    state {state}\n",
            "    interface lan0\n",
            "    virtual_router_id {vrid}\n",
            "    priority {priority}\n",
            "    advert_int {advert}\n",
            "    virtual_ipaddress {{\n",
            "        {vip}/24 dev lan0\n",
            "        {gateway}/24 dev int0\n",
            "    }}\n",
            "}}\n\n",
        ),
        instance = INSTANCE,
        state = state,
        vrid = VIRTUAL_ROUTER_ID,
        priority = priority(d),
        advert = ADVERT_INT_SECONDS,
        vip = VIP,
        gateway = GATEWAY,
    );
    virtual_server(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines of `text` that start (after indentation) with `keyword`.
    fn lines_with<'a>(text: &'a str, keyword: &str) -> Vec<&'a str> {
        text.lines()
            .map(str::trim)
            .filter(|l| l.split_whitespace().next() == Some(keyword))
            .collect()
    }

    fn balanced(text: &str) -> bool {
        let mut depth = 0i32;
        for c in text.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if depth < 0 {
                return false;
            }
        }
        depth == 0
    }

    #[test]
    fn the_checker_configuration_checks_each_real_server_and_has_no_vrrp() {
        let text = checkers(Director::One);
        assert!(balanced(&text), "{text}");
        assert_eq!(
            lines_with(&text, "virtual_server"),
            ["virtual_server 10.0.0.100 80 {"]
        );
        assert_eq!(
            lines_with(&text, "real_server"),
            [
                "real_server 192.168.10.21 80 {",
                "real_server 192.168.10.22 80 {",
                "real_server 192.168.10.23 80 {"
            ]
        );
        assert_eq!(lines_with(&text, "HTTP_GET").len(), 3);
        assert!(lines_with(&text, "inhibit_on_failure").is_empty());
        assert!(lines_with(&text, "vrrp_instance").is_empty());
        assert!(lines_with(&text, "lvs_sync_daemon").is_empty());
    }

    #[test]
    fn the_pair_differs_only_in_name_state_and_priority() {
        let (one, two) = (pair(Director::One), pair(Director::Two));
        assert!(balanced(&one) && balanced(&two));
        assert_eq!(lines_with(&one, "state"), ["state MASTER"]);
        assert_eq!(lines_with(&two, "state"), ["state BACKUP"]);
        assert_eq!(lines_with(&one, "priority"), ["priority 150"]);
        assert_eq!(lines_with(&two, "priority"), ["priority 100"]);
        let differing: Vec<(&str, &str)> = one
            .lines()
            .zip(two.lines())
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(differing.len(), 3, "{differing:?}");
        assert_eq!(one.lines().count(), two.lines().count());
        for text in [&one, &two] {
            assert_eq!(
                lines_with(text, "lvs_sync_daemon"),
                ["lvs_sync_daemon lan0 inst VI_1 id 1"]
            );
            assert_eq!(
                lines_with(text, "10.0.0.100/24"),
                ["10.0.0.100/24 dev lan0"]
            );
            assert_eq!(
                lines_with(text, "192.168.10.1/24"),
                ["192.168.10.1/24 dev int0"]
            );
            assert_eq!(
                lines_with(text, "virtual_router_id"),
                ["virtual_router_id 51"]
            );
        }
    }

    #[test]
    fn master_down_interval_is_three_adverts_plus_the_skew() {
        // RFC 3768 §6.1: skew (256 - 100) / 256 = 0.609375 s.
        assert_eq!(
            master_down_interval(100),
            Duration::from_millis(3609) + Duration::from_micros(375)
        );
        assert!(master_down_interval(150) < master_down_interval(100));
    }
}
