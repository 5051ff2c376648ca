//! Arbitrary bytes through the bus codec's `decode`, then `encode`.
//! The invariants are in `kestrel_testkit::fuzzing::bus_codec`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kestrel_testkit::fuzzing::bus_codec(data));
