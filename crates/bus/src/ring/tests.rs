//! The ring between two mappings of one file: delivery, lapping, torn-read protection under a
//! concurrent writer, header checks, and a reader in a child process.

use std::fs::{self, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use kestrel_model::event::{MarketEvent, ReceiveTime, TradeEvent};
use kestrel_model::{Price, Qty};
use tempfile::TempDir;

use super::*;
use crate::codec;

fn small(slot_count: u32, slot_size: u32) -> RingConfig {
    RingConfig {
        slot_count,
        slot_size,
    }
}

fn ring(config: RingConfig) -> (TempDir, RingWriter, RingReader) {
    let dir = tempfile::tempdir().unwrap();
    let writer = RingWriter::create(dir.path().join("ring"), config).unwrap();
    let reader = RingReader::open(writer.path()).unwrap();
    (dir, writer, reader)
}

/// A self-checking message of `len` bytes (a multiple of 8, at least 16): `seq`, filler words
/// derived from it, and a checksum of all the words before it.
fn checked_message(seq: u64, len: usize) -> Vec<u8> {
    let words = len / 8 - 1;
    let mut bytes = Vec::with_capacity(len);
    for i in 0..words as u64 {
        let word = if i == 0 { seq } else { seq.rotate_left(17) ^ i };
        bytes.extend_from_slice(&word.to_le_bytes());
    }
    let sum = checksum(&bytes);
    bytes.extend_from_slice(&sum.to_le_bytes());
    bytes
}

fn checksum(bytes: &[u8]) -> u64 {
    let (words, _) = bytes.as_chunks::<8>();
    words.iter().fold(0x9e37_79b9_7f4a_7c15, |h: u64, w| {
        (h ^ u64::from_le_bytes(*w))
            .rotate_left(27)
            .wrapping_mul(0x0100_0000_01b3)
    })
}

/// The seq of a message that passes its checksum; `None` for a torn or foreign one.
fn verify(bytes: &[u8]) -> Option<u64> {
    let (body, sum) = bytes.split_at_checked(bytes.len().checked_sub(8)?)?;
    let seq = u64::from_le_bytes(body.get(..8)?.try_into().ok()?);
    (checksum(body) == u64::from_le_bytes(sum.try_into().ok()?)).then_some(seq)
}

#[test]
fn a_reader_mapping_sees_every_message_the_writer_mapping_publishes() {
    let (_dir, mut writer, mut reader) = ring(small(16, 256));
    assert!(reader.try_next().is_none());
    for seq in 0..10 {
        let written = writer
            .write(&checked_message(seq, 16 + seq as usize * 8))
            .unwrap();
        assert_eq!(written, seq);
    }
    for seq in 0..10 {
        let message = reader.try_next().unwrap();
        assert_eq!((message.seq, message.lost_before), (seq, 0));
        assert_eq!(message.bytes, checked_message(seq, 16 + seq as usize * 8));
    }
    assert!(reader.try_next().is_none());
    assert_eq!(
        (reader.lost(), reader.write_seq(), writer.next_seq()),
        (0, 10, 10)
    );
}

#[test]
fn messages_of_every_length_up_to_a_slot_arrive_intact() {
    let (_dir, mut writer, mut reader) = ring(small(4, 128));
    for len in 0..=writer.max_message_len() {
        let message: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
        writer.write(&message).unwrap();
        assert_eq!(reader.try_next().unwrap().bytes, message.as_slice());
    }
}

#[test]
fn a_late_reader_starts_at_the_newest_and_can_seek_back_to_the_oldest() {
    let (_dir, mut writer, _) = ring(small(8, 128));
    for seq in 0..20 {
        writer.write(&checked_message(seq, 24)).unwrap();
    }
    let mut reader = RingReader::open(writer.path()).unwrap();
    assert!(reader.try_next().is_none());
    reader.seek_oldest();
    let seqs: Vec<u64> = std::iter::from_fn(|| reader.try_next().map(|m| m.seq)).collect();
    assert_eq!(seqs, (13..20).collect::<Vec<_>>());
    assert_eq!(reader.lost(), 0);
}

#[test]
fn a_lapped_reader_reports_what_it_lost_and_jumps_to_the_newest() {
    let (_dir, mut writer, mut reader) = ring(small(8, 128));
    writer.write(&checked_message(0, 16)).unwrap();
    assert_eq!(reader.try_next().map(|m| m.seq), Some(0));
    for seq in 1..=20 {
        writer.write(&checked_message(seq, 16)).unwrap();
    }
    let message = reader.try_next().unwrap();
    assert_eq!((message.seq, message.lost_before), (20, 19));
    assert_eq!(verify(message.bytes), Some(20));
    assert!(reader.try_next().is_none());
    writer.write(&checked_message(21, 16)).unwrap();
    let message = reader.try_next().unwrap();
    assert_eq!((message.seq, message.lost_before), (21, 0));
    assert_eq!(reader.lost(), 19);
}

#[test]
fn a_message_longer_than_a_slot_is_refused_not_truncated() {
    let (_dir, mut writer, mut reader) = ring(small(4, 128));
    assert_eq!(writer.max_message_len(), 112);
    let err = writer.write(&[7; 113]).unwrap_err();
    assert!(
        matches!(err, RingError::MessageTooLarge { len: 113, max: 112 }),
        "{err}"
    );
    assert_eq!(writer.next_seq(), 0);
    writer.write(&[7; 112]).unwrap();
    assert_eq!(reader.try_next().unwrap().bytes, [7; 112]);
}

#[test]
fn published_events_decode_back_from_the_ring() {
    let (_dir, mut writer, mut reader) = ring(RingConfig::with_slot_count(4));
    let trade = TradeEvent {
        symbol: "BTCUSDT",
        trade_id: 42,
        price: Price::from_raw(6_725_010_000_000),
        qty: Qty::from_raw(1_500_000),
        trade_time_ms: 1,
        event_time_ms: 2,
        buyer_is_maker: false,
        received: ReceiveTime::new(3, 4),
    };
    writer.publish(&MarketEvent::Trade(trade)).unwrap();
    let message = reader.poll_next(Duration::from_secs(1)).unwrap();
    let decoded = codec::decode(message.bytes).unwrap();
    assert_eq!(decoded, codec::WireEvent::Trade(trade));
}

#[test]
fn polling_an_idle_ring_times_out() {
    let (_dir, _writer, mut reader) = ring(small(4, 64));
    let started = Instant::now();
    assert!(reader.poll_next(Duration::from_millis(20)).is_none());
    assert!(started.elapsed() >= Duration::from_millis(20));
}

#[test]
fn bad_shapes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ring");
    for (count, size) in [
        (1000, 128),
        (1, 128),
        (0, 128),
        (8, 100),
        (8, 0),
        (8, 2 << 20),
    ] {
        let err = RingWriter::create(&path, small(count, size)).unwrap_err();
        assert!(
            matches!(err, RingError::Config { .. }),
            "{count}×{size}: {err}"
        );
    }
}

fn overwrite_word(path: &Path, index: u64, value: u64) {
    let mut file = OpenOptions::new().write(true).open(path).unwrap();
    file.seek(SeekFrom::Start(index * 8)).unwrap();
    file.write_all(&value.to_le_bytes()).unwrap();
}

#[test]
fn a_file_that_is_not_a_ring_of_this_version_is_refused_clearly() {
    let (dir, writer, _) = ring(small(4, 64));
    let path = writer.path().to_path_buf();
    drop(writer);
    overwrite_word(&path, 1, 2);
    let err = RingReader::open(&path).unwrap_err();
    assert!(
        matches!(err, RingError::UnsupportedVersion { found: 2, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .ends_with("layout version 2, this build reads version 1"),
        "{err}"
    );
    overwrite_word(&path, 0, u64::from_le_bytes(*b"NOTARING"));
    let err = RingReader::open(&path).unwrap_err();
    assert!(err.to_string().contains("not a Kestrel ring"), "{err}");
    let short = dir.path().join("short");
    fs::write(&short, [0; 64]).unwrap();
    let err = RingReader::open(&short).unwrap_err();
    assert!(matches!(err, RingError::BadHeader { .. }), "{err}");
    let missing = RingReader::open(dir.path().join("missing")).unwrap_err();
    assert!(
        matches!(missing, RingError::Io { action: "open", .. }),
        "{missing}"
    );
}

#[test]
fn a_header_declaring_more_slots_than_the_file_holds_is_refused() {
    let (_dir, writer, _) = ring(small(4, 64));
    let path = writer.path().to_path_buf();
    drop(writer);
    overwrite_word(&path, 3, 1 << 20);
    let err = RingReader::open(&path).unwrap_err();
    assert!(
        err.to_string().contains("file shorter than the slots"),
        "{err}"
    );
}

#[test]
fn only_one_writer_at_a_time_and_readers_see_it_close() {
    let (_dir, writer, reader) = ring(small(4, 64));
    let err = RingWriter::create(writer.path(), small(4, 64)).unwrap_err();
    assert!(matches!(err, RingError::WriterActive { .. }), "{err}");
    assert!(!reader.writer_closed());
    let path = writer.path().to_path_buf();
    drop(writer);
    assert!(reader.writer_closed());
    let mut second = RingWriter::create(&path, small(4, 64)).unwrap();
    let mut fresh = RingReader::open(&path).unwrap();
    second.write(b"again").unwrap();
    assert_eq!(fresh.try_next().unwrap().bytes, b"again");
}

#[test]
fn ring_paths_prefer_dev_shm_and_refuse_odd_names() {
    let fallback = Path::new("/var/lib/kestrel");
    let path = default_ring_path("md-BTCUSDT_1", fallback).unwrap();
    let expected_dir = if Path::new("/dev/shm").is_dir() {
        Path::new("/dev/shm")
    } else {
        fallback
    };
    assert_eq!(path, expected_dir.join("kestrel-md-BTCUSDT_1"));
    for bad in ["", "../x", "a/b", "a.b", &"n".repeat(65)] {
        assert!(
            matches!(
                default_ring_path(bad, fallback),
                Err(RingError::BadName { .. })
            ),
            "{bad:?}"
        );
    }
}

/// A reader thread following a writer thread through a 2-slot ring of 4 KiB slots: every message it accepts
/// must pass its checksum, and its sequence numbers plus reported losses must account for every
/// message exactly once.
#[test]
fn torn_reads_are_never_accepted_under_a_concurrent_writer() {
    const MESSAGES: u64 = 100_000;
    let (_dir, mut writer, mut reader) = ring(small(2, 4096));
    let follower = thread::spawn(move || {
        let (mut expected, mut accepted, mut lost) = (0_u64, 0_u64, 0_u64);
        let deadline = Instant::now() + Duration::from_secs(60);
        while expected < MESSAGES && Instant::now() < deadline {
            let Some(message) = reader.poll_next(Duration::from_millis(100)) else {
                continue;
            };
            assert_eq!(
                verify(message.bytes),
                Some(message.seq),
                "torn or corrupt message"
            );
            assert_eq!(
                message.seq,
                expected + message.lost_before,
                "sequence accounting"
            );
            lost += message.lost_before;
            accepted += 1;
            expected = message.seq + 1;
        }
        assert_eq!(reader.lost(), lost);
        (expected, accepted, lost)
    });
    for seq in 0..MESSAGES {
        let len = 16 + (seq as usize * 8 * 13) % 4000;
        writer.write(&checked_message(seq, len)).unwrap();
    }
    let (expected, accepted, lost) = follower.join().unwrap();
    assert_eq!(expected, MESSAGES, "the reader reached the last message");
    assert_eq!(accepted + lost, MESSAGES);
    assert!(accepted > 0);
}

const CHILD_ENV: &str = "KESTREL_RING_TEST_CHILD";
const CHILD_MESSAGES: u64 = 500;

/// The reader half of [`a_reader_in_another_process_follows_the_writer`]; a no-op unless the
/// parent test launched this binary with the ring's path in the environment.
#[test]
fn child_reader_process() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let path = PathBuf::from(path);
    let mut reader = RingReader::open(&path).unwrap();
    fs::write(path.with_extension("ready"), b"").unwrap();
    for expected in 0..CHILD_MESSAGES {
        let message = reader.poll_next(Duration::from_secs(20)).unwrap();
        assert_eq!((message.seq, message.lost_before), (expected, 0));
        assert_eq!(verify(message.bytes), Some(expected));
    }
    println!("child read {CHILD_MESSAGES} messages");
}

#[test]
fn a_reader_in_another_process_follows_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ring");
    let mut writer = RingWriter::create(&path, small(1024, 128)).unwrap();
    let ready = path.with_extension("ready");
    let feeder = thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ready.exists() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        for seq in 0..CHILD_MESSAGES {
            writer.write(&checked_message(seq, 40)).unwrap();
        }
    });
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "ring::tests::child_reader_process",
            "--nocapture",
        ])
        .env(CHILD_ENV, &path)
        .output()
        .unwrap();
    feeder.join().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("child read 500 messages"), "{stdout}");
}
