//! Arbitrary text as `/proc/net/ip_vs_conn`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = ipvs::parse_connections(text);
});
