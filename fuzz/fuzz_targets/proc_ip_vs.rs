//! Arbitrary text as `/proc/net/ip_vs`, as the listings read it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    ipvs::fuzzing::proc_ip_vs(text);
});
