//! One exchangeInfo body through `parse_exchange_info`.
//! The invariants are in `kestrel_testkit::fuzzing::exchange_info`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kestrel_testkit::fuzzing::exchange_info(data));
