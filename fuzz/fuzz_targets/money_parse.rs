//! Arbitrary text through `Price`/`Qty`/`Rate`/`Money` parse and display.
//! The invariants are in `kestrel_testkit::fuzzing::money_parse`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kestrel_testkit::fuzzing::money_parse(data));
