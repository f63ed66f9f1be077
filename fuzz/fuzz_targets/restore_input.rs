//! Arbitrary bytes as `-R` input: read into numbered lines and each line
//! parsed as a command line, as `ipvsadm-rs -R` does before it runs them.
#![no_main]

use ipvsadm_rs::restore::Lines;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let mut last = 0;
    for line in Lines::new(input) {
        let Ok(line) = line else { break };
        assert!(
            line.origin.number == last + 1,
            "lines are numbered in order"
        );
        last = line.origin.number;
        assert!(!line.origin.text.contains('\n'));
        if !line.words.is_empty() {
            let _ = ipvsadm_rs::parse::parse(&line.words);
        }
    }
});
