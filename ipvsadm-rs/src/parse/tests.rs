//! Parsing alone: no kernel needed.

use super::*;

fn args(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_owned).collect()
}

fn parsed(line: &str) -> Entry {
    parse(&args(line)).unwrap_or_else(|s| panic!("{line}: {s:?}"))
}

fn failed(line: &str) -> Stop {
    parse(&args(line)).expect_err(line)
}

#[test]
fn defaults_and_order_effects() {
    let e = parsed("-A -t 10.0.0.1:80");
    assert_eq!(
        (e.svc.sched_name.as_str(), e.svc.port, e.svc.flags),
        ("wlc", 80, 0)
    );
    let e = parsed("-a -t 10.0.0.1:80 -r 10.0.0.2:8080");
    // Direct routing rewrites the port to the service's.
    assert_eq!(
        (e.dest.port, e.dest.conn_flags, e.dest.weight),
        (80, DROUTE, 1)
    );
    let e = parsed("-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m");
    assert_eq!(e.dest.port, 8080);
    let e = parsed("-a -r 10.0.0.2 -t 10.0.0.1:80 -m");
    assert_eq!(
        e.dest.port, 0,
        "-r before -t: the service port is not known yet"
    );
    let e = parsed("-A -t 10.0.0.1:0 -p");
    assert_eq!(e.svc.timeout, 360);
    let e = parsed("-A -f 5 -6 -p 60 -M 64");
    assert_eq!((e.svc.af, e.svc.netmask), (10, Mask::V6(64)));
}

#[test]
fn ipvsadm_messages() {
    assert_eq!(failed("-t 1.2.3.4:80 -A"), Stop::TryHelp);
    assert_eq!(
        failed("-A -t 1.2.3.4:80 -A"),
        Stop::Fail(2, "invalid option `-A'".into())
    );
    assert_eq!(
        failed("-A -t 1.2.3.4"),
        Stop::Fail(2, "Zero port specified for non-persistent service".into())
    );
    assert_eq!(
        failed("-A -t 1.2.3.4:80 -o"),
        Stop::Fail(
            2,
            "One-Packet Scheduling is only for UDP virtual services".into()
        )
    );
    assert_eq!(
        failed("-d -t 1.2.3.4:80 -r 1.1.1.1 -w 3"),
        Stop::Fail(
            2,
            "Illegal 'weight' option with the 'delete-server' command".into()
        )
    );
    assert_eq!(
        failed("-A"),
        Stop::Fail(
            2,
            "You need to supply the 'service-address' option for the 'add-service' command".into()
        )
    );
    assert_eq!(
        failed("-L -c --timeout"),
        Stop::Fail(
            2,
            "The option 'timeout' conflicts with the 'connection' option in the 'list' command"
                .into()
        )
    );
    assert_eq!(
        failed("-L -n -n"),
        Stop::Fail(2, "multiple 'numeric' options specified".into())
    );
    assert_eq!(
        failed("-A -6 -f 1"),
        Stop::Fail(2, "-6 used before -f\n".into())
    );
    assert_eq!(
        failed("--set 1 2"),
        Stop::Fail(2, "--set option requires 3 timeout values".into())
    );
    assert_eq!(
        failed("-L --foo"),
        Stop::Scan("--foo: unknown option".into())
    );
    assert_eq!(
        failed("-a -t 1.2.3.4:80 -r 1.1.1.1 -i --tun-csum"),
        Stop::Fail(
            2,
            "Illegal 'tun-csum' option with the 'ipip' tunnel type".into()
        )
    );
    assert_eq!(
        failed("-a -t 1.2.3.4:80 -r 1.1.1.1 -i --tun-type gue"),
        Stop::Fail(
            2,
            "You need to supply the 'tun-port' option for the 'gue' tunnel type".into()
        )
    );
    assert_eq!(
        failed("-a -t 1.2.3.4:80 -r 1.1.1.1 --tun-type gue"),
        Stop::Fail(2, "Tunnel options conflict with forward method".into())
    );
    assert_eq!(
        failed("-E -t 1.2.3.4:80 -b sh-port"),
        Stop::Fail(2, "incompatible scheduler flag `sh-port'".into())
    );
    assert_eq!(
        failed("-L -t 1.2.3.4:80 --json --format table"),
        Stop::Fail(
            2,
            "The option 'format' conflicts with the 'json' option in the 'list' command".into()
        )
    );
    assert_eq!(
        failed("-A -t 1.2.3.4:80 --json"),
        Stop::Fail(
            2,
            "Illegal 'json' option with the 'add-service' command".into()
        )
    );
}

#[test]
fn negative_fwmarks_are_the_marks_ipvsadm_prints_that_way() {
    assert_eq!(parsed("-A -f -1294967296").svc.fwmark, 3_000_000_000);
    assert_eq!(
        failed("-A -f 0"),
        Stop::Fail(2, "invalid fwmark value `0' specified".into())
    );
}
