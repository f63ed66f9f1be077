//! `ipvsadm-rs check` on the host: no kernel IPVS, no namespace, whatever
//! the user (this machine's kernel has no IPVS at all).

mod common;
use common::{file, ours};

const WEB: &str = r#"{"schema_version":2,"services":[{"protocol":"tcp","address":"192.0.2.1","port":80,"scheduler":"wrr","destinations":[{"address":"10.0.0.11","weight":5},{"address":"10.0.0.12","weight":5}]}]}"#;

#[test]
fn check_needs_no_kernel_and_names_the_line() {
    let good = ours(&["check", "-f", &file("check-good", WEB)]);
    assert_eq!(good.code, 0, "{good:?}");
    assert!(
        good.stdout
            .ends_with(": valid (1 service, 2 real servers)\n"),
        "{}",
        good.stdout
    );
    let bad = WEB.replace("\"wrr\"", "\"wrr\",\n\"persistence\":{\"timeout\":0}");
    let out = ours(&["check", "-f", &file("check-bad", &bad)]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("line 1: service tcp 192.0.2.1:80: persistence timeout 0 s"),
        "{}",
        out.stderr
    );
}
