//! Arbitrary command lines (words separated by NUL bytes, made UTF-8 as
//! `main` makes them) through ipvsadm-rs's parser: popt scan, option rules,
//! address and port parsing. An error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let args: Vec<String> = input
        .split(|b| *b == 0)
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    let _ = ipvsadm_rs::parse::parse(&args);
});
