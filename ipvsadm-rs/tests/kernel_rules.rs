//! The library's rules (`ipvs/src/rules/`) on the real kernel, in the VM:
//! `apply` and the command line build the same table for the same intent,
//! what `apply` refuses and why, the kernel's own answers behind the rules
//! it enforces itself, and the warnings ipvsadm-rs adds to ipvsadm's output.

use std::fs::File;

use testbed::{netns, reference};

mod common;
use common::{Out, config, file, ours, ours_with, theirs_with};

/// Routed and tunnelled real servers at 8080 behind a service at 80.
const PORT_8080: &str = r#"{"schema_version":2,"services":[{"protocol":"tcp","address":"192.0.2.10","port":80,"destinations":[{"address":"192.0.2.24","port":8080,"forward":"route"},{"address":"192.0.2.25","port":8080,"forward":"tunnel"}]}]}"#;

/// Local forwarding to 192.0.2.21.
const LOCAL: &str = r#"{"schema_version":2,"services":[{"protocol":"tcp","address":"192.0.2.10","port":80,"destinations":[{"address":"192.0.2.21","port":80,"forward":"local"}]}]}"#;

/// A persistent IPv4 service whose netmask is a prefix length.
const PREFIX_24: &str = r#"{"schema_version":2,"services":[{"protocol":"tcp","address":"192.0.2.10","port":80,"persistence":{"timeout":300,"netmask":24}}]}"#;

/// Asserts that `out` is a refusal before anything was sent (status 2)
/// whose message says `why`.
fn refused(out: &Out, why: &str) {
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains(why), "{}", out.stderr);
}

#[test]
fn routed_real_servers_keep_the_service_port_through_apply_save_and_restore() {
    netns::enter_fresh();
    let wrong = file("port-8080", PORT_8080);
    for verb in ["apply", "diff"] {
        refused(
            &ours(&[verb, "-f", &wrong]),
            "port 8080: route forwarding does not change the destination port, so the real server's port must be the service's, 80",
        );
    }
    assert_eq!(reference::ipvsadm_ok(&["-Sn"]), "", "nothing was applied");

    // The same intent without ports: each real server takes its service's.
    let right = file("port-default", &PORT_8080.replace(r#","port":8080"#, ""));
    assert_eq!(ours(&["apply", "-f", &right]).code, 0);
    let by_apply = config();
    let saved = reference::ipvsadm_ok(&["-Sn"]);
    assert_eq!(
        saved,
        "-A -t 192.0.2.10:80 -s wlc\n-a -t 192.0.2.10:80 -r 192.0.2.24:80 -g -w 1\n-a -t 192.0.2.10:80 -r 192.0.2.25:80 -i -w 1 --tun-type ipip\n"
    );

    // The command line, told 8080, builds the same table (ipvsadm's rule).
    assert_eq!(ours(&["-C"]).code, 0);
    let typed = "-A -t 192.0.2.10:80\n-a -t 192.0.2.10:80 -r 192.0.2.24:8080 -g\n-a -t 192.0.2.10:80 -r 192.0.2.25:8080 -i\n";
    assert_eq!(ours_with(&["-R"], typed).code, 0);
    assert_eq!(config(), by_apply);

    // Saved and restored by the reference ipvsadm: unchanged, and the
    // file still describes it.
    reference::ipvsadm_ok(&["-C"]);
    assert_eq!(theirs_with(&["-R"], &saved).code, 0);
    assert_eq!(config(), by_apply);
    let diff = ours(&["diff", "-f", &right]);
    assert_eq!((diff.code, diff.stdout.as_str()), (0, ""), "{diff:?}");
}

#[test]
fn local_forwarding_needs_an_address_of_this_director() {
    netns::enter_fresh();
    let path = file("local", LOCAL);
    let out = ours(&["apply", "-f", &path]);
    refused(&out, "192.0.2.21 is not an address of this director");
    assert_eq!(reference::ipvsadm_ok(&["-Sn"]), "");

    netns::ip(&["addr", "add", "192.0.2.21/32", "dev", "lo"]).expect("an address");
    assert_eq!(ours(&["apply", "-f", &path]).code, 0);
    let listed = reference::ipvsadm_ok(&["-Ln"]);
    assert!(
        listed.contains("  -> 192.0.2.21:80                Local   1"),
        "{listed}"
    );
}

#[test]
fn ipv4_netmasks_may_be_prefix_lengths() {
    netns::enter_fresh();
    assert_eq!(
        ours(&["apply", "-f", &file("prefix-24", PREFIX_24)]).code,
        0
    );
    assert_eq!(
        reference::ipvsadm_ok(&["-Sn"]),
        "-A -t 192.0.2.10:80 -s wlc -p 300 -M 255.255.255.0\n"
    );
    let out = ours(&[
        "apply",
        "-f",
        &file("prefix-33", &PREFIX_24.replace("24", "33")),
    ]);
    refused(
        &out,
        "prefix length 33 is not in 0..=32 for an ipv4 service",
    );
}

/// Lines the library refuses before sending, on the rules the kernel keeps
/// itself: ipvsadm sends them, and ipvsadm-rs prints the kernel's answer
/// ipvsadm prints (so each rule's `kernel_errno` is the kernel's).
#[test]
fn what_the_kernel_refuses_reads_as_ipvsadm_says_it() {
    netns::enter_fresh();
    reference::ipvsadm_ok(&["-A", "-t", "10.40.0.1:80"]);
    reference::ipvsadm_ok(&["-A", "-t", "[2001:db8::1]:80"]);
    let lines = [
        "-a -t 10.40.0.1:80 -r 224.0.0.5:80 -g",
        "-a -t 10.40.0.1:80 -r 0.0.0.0:80 -g",
        "-a -t 10.40.0.1:80 -r 255.255.255.255:80 -g",
        "-a -t 10.40.0.1:80 -r 192.0.2.1:80 -y 5",
        "-a -t 10.40.0.1:80 -r 192.0.2.1:80 -x 5 -y 6",
        "-a -t [2001:db8::1]:80 -r [ff02::1]:80 -g",
        "-a -t [2001:db8::1]:80 -r [::]:80 -g",
        "-a -t [2001:db8::1]:80 -r [::ffff:192.0.2.1]:80 -g",
        "-a -t [2001:db8::1]:80 -r [fe80::1]:80 -g",
        // The kernel looks for the service, and for the real server of an
        // edit, first: those answers come before the address's.
        "-a -t 10.99.0.1:80 -r 224.0.0.1:80 -g",
        "-a -t 10.99.0.1:80 -r 192.0.2.1:80 -y 5",
        "-e -t 10.40.0.1:80 -r 224.0.0.5:80 -g",
        "-e -t [2001:db8::1]:80 -r [fe80::9]:80 -g",
    ];
    let before = config();
    for line in lines {
        let args: Vec<&str> = line.split_whitespace().collect();
        let (ours, theirs) = (ours(&args), theirs_with(&args, ""));
        // 255: the kernel refused it (ipvsadm's own checks exit 2).
        assert_eq!(theirs.code, 255, "{line}: {theirs:?}");
        assert_eq!(ours, theirs, "{line}");
        assert_eq!(config(), before, "{line}");
    }
}

/// Runs `args` with ipvsadm-rs in one fresh namespace and the reference in
/// another, each after `setup`: (ours, theirs, our table, their table).
fn side_by_side(setup: &dyn Fn(), args: &[&str], listing: &[&str]) -> (Out, Out, String, String) {
    netns::enter_fresh();
    let ours_ns = File::open("/proc/thread-self/ns/net").expect("namespace");
    setup();
    let ours_out = ours(args);
    let ours_listing = reference::ipvsadm_ok(listing);
    netns::enter_fresh();
    setup();
    let theirs_out = theirs_with(args, "");
    let theirs_listing = reference::ipvsadm_ok(listing);
    netns::enter(&ours_ns).expect("back");
    (ours_out, theirs_out, ours_listing, theirs_listing)
}

/// A set-up, a command line, the listing that shows its effect, and the
/// warning ipvsadm-rs adds.
type Case<'a> = (&'a dyn Fn(), &'a [&'a str], &'a [&'a str], &'a str);

/// Where ipvsadm accepts what the kernel will use otherwise than meant,
/// ipvsadm-rs does the same, and says so on stderr.
#[test]
fn warnings_are_the_only_difference() {
    let none = || {};
    let veth = || netns::add_veth_pair("sync0", "sync1", "10.10.0.1/24").expect("veth");
    let cases: [Case; 2] = [
        (
            &none,
            &["-A", "-t", "10.41.0.1:80", "-p", "60", "-M", "24"],
            &["-Sn"],
            "ipvsadm: warning: netmask 0.0.0.24 is not a prefix mask: the kernel groups clients by exactly these bits (for a /24 write 255.255.255.0)\n",
        ),
        (
            &veth,
            &[
                "--start-daemon",
                "backup",
                "--mcast-interface",
                "sync0",
                "--sync-maxlen",
                "500",
            ],
            &["-L", "--daemon"],
            "ipvsadm: warning: sync-maxlen 500 is out of the backup's range: the kernel uses 1024\n",
        ),
    ];
    for (setup, args, listing, warning) in cases {
        let (ours, theirs, ours_table, theirs_table) = side_by_side(setup, args, listing);
        assert_eq!(
            (ours.code, ours.stdout.as_str()),
            (theirs.code, theirs.stdout.as_str()),
            "{args:?}"
        );
        assert_eq!(
            ours.stderr,
            format!("{}{warning}", theirs.stderr),
            "{args:?}"
        );
        assert_eq!(ours_table, theirs_table, "{args:?}");
    }
}
