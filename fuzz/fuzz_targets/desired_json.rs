//! Arbitrary text as a desired-state document: refused with a message, or
//! read into a state that writes back to a document reading the same.
#![no_main]

use ipvs::DesiredState;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(state) = DesiredState::from_json(text) {
        let again = DesiredState::from_json(&state.to_json());
        assert_eq!(
            again.ok().as_ref(),
            Some(&state),
            "a state reads back as itself"
        );
    }
});
