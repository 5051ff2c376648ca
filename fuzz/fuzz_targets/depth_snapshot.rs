//! One REST depth-snapshot body through `MarketParser::parse_depth_snapshot`.
//! The invariants are in `kestrel_testkit::fuzzing::depth_snapshot`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kestrel_testkit::fuzzing::depth_snapshot(data));
