//! Arbitrary bytes as a recording (plain, gzip) through `RecordingReader`.
//! The invariants are in `kestrel_testkit::fuzzing::recording_line`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kestrel_testkit::fuzzing::recording_line(data));
