//! A kernel without IPVS: the VM for this target boots with the ip_vs module
//! unloadable (tests/vm/runner passes --no-ipvs), as on a host whose kernel
//! lacks IPVS.

use ipvs_sys::{Error, IpvsSocket};
use testbed::reference;

#[test]
fn binding_reports_family_not_found() {
    match IpvsSocket::connect() {
        Err(Error::FamilyNotFound) => {}
        other => panic!("expected FamilyNotFound, got {other:?}"),
    }
}

#[test]
fn reference_ipvsadm_cannot_initialize_either() {
    let out = reference::ipvsadm(&["-Ln"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.starts_with("Can't initialize ipvs: "),
        "{}",
        out.stderr
    );
}

#[test]
fn library_reports_ipvs_not_available_with_the_hint() {
    let err = ipvs::Ipvs::new().expect_err("no IPVS here");
    assert_eq!(err.kind(), ipvs::ErrorKind::NotAvailable);
    assert_eq!(
        err.to_string(),
        "connect to IPVS: IPVS is not available in this kernel (load the ip_vs module: modprobe ip_vs)"
    );
    // The library never loads the module itself.
    assert!(!std::path::Path::new("/proc/net/ip_vs").exists());
}
