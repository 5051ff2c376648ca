//! One Binance market-stream frame through `MarketParser::parse`, every way it can run.
//! The invariants are in `kestrel_testkit::fuzzing::market_frame`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kestrel_testkit::fuzzing::market_frame(data));
