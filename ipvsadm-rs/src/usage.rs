//! The texts of `-h` and `-v`: ipvsadm 1.31's, byte for byte (with the name
//! the program was invoked under), then what ipvsadm-rs adds — a section
//! listing its own options and commands after the usage, and a line with its
//! name and version after the version line. Scripts that read ipvsadm's
//! first line (`ipvsadm v1.31 ...`) read the same line. The option lines
//! come from [`crate::options::OPTIONS`].

use crate::options::OPTIONS;

/// The version line (`-v`, and the first line of `-h`).
const VERSION: &str = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n";

/// ipvsadm-rs's own line, after ipvsadm's in `-v` (`ipvsadm-rs 0.1.0`).
fn rs_version() -> String {
    format!("ipvsadm-rs {}\n", env!("CARGO_PKG_VERSION"))
}

/// The text of `-v`/`--version`: ipvsadm's line, then ipvsadm-rs's.
pub(crate) fn version() -> String {
    format!("{VERSION}{}", rs_version())
}

/// The section `-h` prints after ipvsadm's usage: every option and command
/// ipvsadm-rs adds.
fn additions(prog: &str) -> String {
    let mut text = format!("\nipvsadm-rs {} additions:\n", env!("CARGO_PKG_VERSION"));
    for line in [
        "--json                              with -L: the listing as one JSON document",
        "--format ipvsadm|table|json         with -L: ipvsadm's text (default), a table, or JSON",
    ] {
        text.push_str(&format!("  {line}\n"));
    }
    for (command, what) in [
        (
            "apply -f FILE [options]",
            "make the services FILE lists (JSON, as -L --json prints) as it says",
        ),
        (
            "diff -f FILE [options]",
            "print what apply would change; exit 1 if anything",
        ),
        (
            "check -f FILE",
            "check FILE as apply would, without a kernel or root",
        ),
        ("apply|diff|check --help", "the options of these commands"),
    ] {
        text.push_str(&format!("  {prog} {command}\n      {what}\n"));
    }
    text
}

/// The text of `-h`/`--help`: ipvsadm's usage, then ipvsadm-rs's additions.
pub(crate) fn usage(prog: &str) -> String {
    let mut text = ipvsadm_usage(prog);
    text.push_str(&additions(prog));
    text
}

/// ipvsadm 1.31's usage text, as it prints it.
fn ipvsadm_usage(prog: &str) -> String {
    let mut text = String::from(VERSION);
    text.push_str("Usage:\n");
    for line in [
        "-A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]",
        "-D virtual-service",
        "-C",
        "-R",
        "-S [-n]",
        "-a|e virtual-service -r server-address [options]",
        "-d virtual-service -r server-address",
        "-L|l [virtual-service] [options]",
        "-Z [virtual-service]",
        "--set tcp tcpfin udp",
        "--start-daemon {master|backup} [daemon-options]",
        "--stop-daemon {master|backup}",
        "-h",
    ] {
        text.push_str(&format!("  {prog} {line}\n"));
    }
    text.push('\n');
    let mut section = None;
    for spec in OPTIONS {
        let Some((in_section, line)) = spec.tag.help else {
            continue;
        };
        if section != Some(in_section) {
            text.push_str(in_section.heading());
            section = Some(in_section);
        }
        text.push_str(line);
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    /// ipvsadm 1.31's text after the synopsis, byte for byte.
    const IPVSADM_BODY: &str = "\
Commands:
Either long or short options are allowed.
  --add-service     -A        add virtual service with options
  --edit-service    -E        edit virtual service with options
  --delete-service  -D        delete virtual service
  --clear           -C        clear the whole table
  --restore         -R        restore rules from stdin
  --save            -S        save rules to stdout
  --add-server      -a        add real server with options
  --edit-server     -e        edit real server with options
  --delete-server   -d        delete real server
  --list            -L|-l     list the table
  --zero            -Z        zero counters in a service or all services
  --set tcp tcpfin udp        set connection timeout values
  --start-daemon              start connection sync daemon
  --stop-daemon               stop connection sync daemon
  --help            -h        display this help message

virtual-service:
  --tcp-service|-t  service-address   service-address is host[:port]
  --udp-service|-u  service-address   service-address is host[:port]
  --sctp-service    service-address   service-address is host[:port]
  --fwmark-service|-f fwmark          fwmark is an integer greater than zero

Options:
  --ipv6         -6                   fwmark entry uses IPv6
  --scheduler    -s scheduler         one of rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh,
                                      the default scheduler is wlc.
  --pe            engine              alternate persistence engine may be sip,
                                      not set by default.
  --persistent   -p [timeout]         persistent service
  --netmask      -M netmask           persistent granularity mask
  --real-server  -r server-address    server-address is host (and port)
  --gatewaying   -g                   gatewaying (direct routing) (default)
  --ipip         -i                   ipip encapsulation (tunneling)
  --masquerading -m                   masquerading (NAT)
  --tun-type      type                one of ipip|gue|gre,
                                      the default tunnel type is ipip.
  --tun-port      port                tunnel destination port
  --tun-nocsum                        tunnel encapsulation without checksum
  --tun-csum                          tunnel encapsulation with checksum
  --tun-remcsum                       tunnel encapsulation with remote checksum
  --weight       -w weight            capacity of real server
  --u-threshold  -x uthreshold        upper threshold of connections
  --l-threshold  -y lthreshold        lower threshold of connections
  --connection   -c                   output of current IPVS connections
  --timeout                           output of timeout (tcp tcpfin udp)
  --daemon                            output of daemon information
  --stats                             output of statistics information
  --rate                              output of rate information
  --exact                             expand numbers (display exact values)
  --thresholds                        output of thresholds information
  --persistent-conn                   output of persistent connection info
  --tun-info                          output of tunnel information
  --nosort                            disable sorting output of service/server entries
  --sort                              does nothing, for backwards compatibility
  --ops          -o                   one-packet scheduling
  --numeric      -n                   numeric output of addresses and ports
  --sched-flags  -b flags             scheduler flags (comma-separated)
Daemon Options:
  --syncid sid                        syncid for connection sync (default=255)
  --sync-maxlen length                Max sync message length (default=1472)
  --mcast-interface interface         multicast interface for connection sync
  --mcast-group address               IPv4/IPv6 group (default=224.0.0.81)
  --mcast-port port                   UDP port (default=8848)
  --mcast-ttl ttl                     Multicast TTL (default=1)
";

    #[test]
    fn the_usage_text_is_ipvsadms() {
        let text = super::ipvsadm_usage("ipvsadm");
        let body = text.split_once("  ipvsadm -h\n\n").map(|(_, b)| b);
        assert_eq!(body, Some(IPVSADM_BODY));
    }

    #[test]
    fn help_is_ipvsadms_then_every_addition() {
        let text = super::usage("ipvsadm");
        let rest = text.strip_prefix(&super::ipvsadm_usage("ipvsadm"));
        let rest = rest.expect("ipvsadm's usage comes first, unchanged");
        assert!(rest.starts_with(&format!(
            "\nipvsadm-rs {} additions:\n",
            env!("CARGO_PKG_VERSION")
        )));
        for addition in [
            "--json ",
            "--format ipvsadm|table|json ",
            "ipvsadm apply -f FILE",
            "ipvsadm diff -f FILE",
            "ipvsadm check -f FILE",
        ] {
            assert!(rest.contains(addition), "{addition} missing from:\n{rest}");
        }
    }

    #[test]
    fn version_is_ipvsadms_line_then_ours() {
        assert_eq!(
            super::version(),
            format!(
                "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\nipvsadm-rs {}\n",
                env!("CARGO_PKG_VERSION")
            )
        );
    }
}
