//! Parsing alone: no kernel needed.

use super::*;

fn args(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_owned).collect()
}

fn parsed(line: &str) -> Command {
    parse(&args(line)).unwrap_or_else(|s| panic!("{line}: {s:?}"))
}

fn failed(line: &str) -> Stop {
    parse(&args(line)).expect_err(line)
}

fn service(line: &str) -> Service {
    match parsed(line) {
        Command::AddService(s) | Command::EditService(s) => s,
        other => panic!("{line}: {other:?}"),
    }
}

fn server(line: &str) -> Destination {
    match parsed(line) {
        Command::AddServer { server, .. } | Command::EditServer { server, .. } => server,
        other => panic!("{line}: {other:?}"),
    }
}

#[test]
fn defaults_and_order_effects() {
    let s = service("-A -t 10.0.0.1:80");
    assert_eq!(
        (
            s.scheduler.name(),
            s.key.port(),
            s.sched_flags,
            s.persistence,
            s.one_packet
        ),
        ("wlc", 80, SchedFlags::NONE, None, false)
    );
    let d = server("-a -t 10.0.0.1:80 -r 10.0.0.2:8080");
    // Direct routing rewrites the port to the service's.
    assert_eq!((d.port, d.forward, d.weight), (80, ForwardMethod::Route, 1));
    let d = server("-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m");
    assert_eq!(d.port, 8080);
    let d = server("-a -r 10.0.0.2 -t 10.0.0.1:80 -m");
    assert_eq!(d.port, 0, "-r before -t: the service port is not known yet");
    let s = service("-A -t 10.0.0.1:0 -p");
    assert_eq!(s.persistence.map(|p| p.timeout), Some(360));
    let s = service("-A -f 5 -6 -p 60 -M 64");
    assert_eq!(
        (s.key.family(), s.persistence.and_then(|p| p.netmask)),
        (AddressFamily::Ipv6, Some(Netmask::Ipv6(64)))
    );
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
    assert_eq!(
        service("-A -f -1294967296").key,
        ServiceKey::fwmark(AddressFamily::Ipv4, 3_000_000_000)
    );
    assert_eq!(
        failed("-A -f 0"),
        Stop::Fail(2, "invalid fwmark value `0' specified".into())
    );
}
