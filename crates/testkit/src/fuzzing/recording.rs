//! The recording reader (`kestrel_model::recording`): `<receive ns> <JSON>` lines, plain or
//! gzip.

use std::io::Cursor;

use flate2::Crc;
use kestrel_model::recording::{
    Compression, LineErrorKind, MessageKind, ReaderStats, RecordedMessage, RecordingReader,
    RecordingWriter,
};
use serde::de::IgnoredAny;
use serde_json::Value;

use super::has_duplicate_keys;

/// A line limit small enough for the fuzzer's inputs to cross it.
const SHORT_LIMIT: usize = 48;

/// `RecordingReader` over the input: read plain it never fails and its counts add up (every
/// line is a message, a blank or a counted error); each line's outcome is what the format
/// says, judged with `serde_json`; the gzip-compressed input reads the same; a line limit only
/// turns long lines into errors; a message written back reads back the same; and the raw
/// bytes through gzip detection never panic.
pub fn recording_line(data: &[u8]) {
    let lines = split_lines(data);
    let (messages, stats) = read(RecordingReader::new(Cursor::new(data), "fuzz"));
    check_counts(&stats, messages.len());
    assert_eq!(stats.io_error(), None, "reading from memory cannot fail");
    assert_eq!(stats.lines, lines.len() as u64, "lines");
    let content: usize = lines.iter().map(|line| line.len()).sum();
    assert_eq!(stats.bytes, content as u64, "bytes of line content");

    let mut expected_messages = Vec::new();
    for line in &lines {
        let (outcome, message) = read_one(line);
        if let Some(expected) = expected_outcome(line) {
            assert_eq!(outcome, expected, "line {:?}", lossy(line));
        }
        if let Some(message) = message {
            check_message(&message, line);
            expected_messages.push(message);
        }
    }
    assert_eq!(
        messages, expected_messages,
        "lines read together and one by one"
    );

    let gzipped = gzip(data);
    let detected = RecordingReader::detect(Cursor::new(gzipped), "fuzz.gz").expect("detects");
    let (unzipped, unzipped_stats) = read(detected);
    assert_eq!(unzipped, messages, "messages read through gzip");
    assert_eq!(unzipped_stats, stats, "stats read through gzip");

    let limited = RecordingReader::new(Cursor::new(data), "fuzz").with_max_line_bytes(SHORT_LIMIT);
    let (short, short_stats) = read(limited);
    check_counts(&short_stats, short.len());
    assert_eq!(
        (short_stats.lines, short_stats.bytes),
        (stats.lines, stats.bytes)
    );
    let long = lines.iter().filter(|line| line.len() > SHORT_LIMIT).count() as u64;
    assert_eq!(
        short_stats.malformed_count(LineErrorKind::TooLong),
        long,
        "lines too long"
    );
    let mut kept = messages.iter();
    for message in &short {
        assert!(
            kept.any(|m| m == message),
            "a short line read differently: {message:?}"
        );
    }

    for message in &messages {
        written_back(message);
    }

    if let Ok(reader) = RecordingReader::detect(Cursor::new(data.to_vec()), "fuzz") {
        let (any, any_stats) = read(reader);
        check_counts(&any_stats, any.len());
    }
}

/// Every message of `reader`, and its stats at the end.
fn read<R: std::io::BufRead>(
    mut reader: RecordingReader<R>,
) -> (Vec<RecordedMessage>, ReaderStats) {
    let messages = reader.by_ref().collect();
    (messages, reader.stats().clone())
}

/// Every line is a message, a blank or a counted error, and the per-kind counts sum up.
fn check_counts(stats: &ReaderStats, yielded: usize) {
    assert_eq!(
        stats.messages, yielded as u64,
        "messages counted and yielded"
    );
    assert_eq!(
        stats.lines,
        stats.messages + stats.blank_lines + stats.malformed,
        "lines = messages + blank + malformed in {stats:?}"
    );
    let by_kind: u64 = MessageKind::ALL.iter().map(|&kind| stats.count(kind)).sum();
    assert_eq!(by_kind, stats.messages, "messages by kind in {stats:?}");
    let by_error: u64 = LineErrorKind::ALL
        .iter()
        .map(|&kind| stats.malformed_count(kind))
        .sum();
    assert_eq!(by_error, stats.malformed, "errors by kind in {stats:?}");
    let kept = stats.first_errors();
    assert_eq!(
        kept.len() as u64,
        stats.malformed.min(16),
        "first errors kept"
    );
    assert!(kept.windows(2).all(|pair| pair[0].line < pair[1].line));
    assert!(kept.iter().all(|error| error.line <= stats.lines));
}

/// The input's lines as the reader splits them: at `\n`, without it; a last line without
/// one counts.
fn split_lines(data: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = data.split(|&byte| byte == b'\n').collect();
    if data.is_empty() || data.ends_with(b"\n") {
        lines.pop();
    }
    lines
}

/// What reading one line gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Message,
    Blank,
    Error(LineErrorKind),
}

/// Reads `line` on its own (with its line break, so that an empty line is a line).
fn read_one(line: &[u8]) -> (Outcome, Option<RecordedMessage>) {
    let terminated = [line, b"\n"].concat();
    let (mut messages, stats) = read(RecordingReader::new(Cursor::new(terminated), "line"));
    assert_eq!(stats.lines, 1, "one line");
    let message = messages.pop();
    let outcome = match (&message, stats.first_errors()) {
        (Some(_), _) => Outcome::Message,
        (None, [error]) => Outcome::Error(error.kind),
        (None, _) => Outcome::Blank,
    };
    (outcome, message)
}

/// What the format (module docs of `kestrel_model::recording`) makes of `line`, with
/// `serde_json` as the judge of JSON; `None` where `serde_json` cannot judge (nesting past
/// its depth limit, strings it cannot hold such as lone surrogates, keys repeated inside an
/// envelope).
fn expected_outcome(line: &[u8]) -> Option<Outcome> {
    let Ok(text) = std::str::from_utf8(line) else {
        return Some(Outcome::Error(LineErrorKind::InvalidUtf8));
    };
    let text = text.trim_end_matches(['\r', ' ', '\t']);
    if text.trim_start().is_empty() {
        return Some(Outcome::Blank);
    }
    let Some((time, json)) = text.split_once(' ') else {
        return Some(Outcome::Error(LineErrorKind::MissingSeparator));
    };
    if time.parse::<u64>().is_err() {
        return Some(Outcome::Error(LineErrorKind::BadTimestamp));
    }
    let json = json.trim_start();
    match serde_json::from_str::<IgnoredAny>(json) {
        Ok(_) => {}
        Err(error) if error.to_string().contains("recursion limit") => return None,
        Err(_) => return Some(Outcome::Error(LineErrorKind::InvalidJson)),
    }
    let object = match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(object)) => object,
        Ok(_) => return Some(Outcome::Error(LineErrorKind::NotAnObject)),
        Err(_) => return None,
    };
    match (object.get("stream"), object.get("data")) {
        (Some(_), Some(_)) if has_duplicate_keys(json) => None,
        (Some(stream), Some(_)) if !stream.is_string() => {
            Some(Outcome::Error(LineErrorKind::BadEnvelope))
        }
        _ => Some(Outcome::Message),
    }
}

/// A message keeps its data as valid JSON, and its stream as the envelope's.
fn check_message(message: &RecordedMessage, line: &[u8]) {
    if let Err(error) = serde_json::from_str::<IgnoredAny>(&message.raw) {
        let nested = error.to_string().contains("recursion limit");
        assert!(nested, "the data of {:?} is not JSON: {error}", lossy(line));
        return;
    }
    let Ok(data) = serde_json::from_str::<Value>(&message.raw) else {
        return;
    };
    if let Some(stream) = &message.stream {
        let text = String::from_utf8_lossy(line);
        let json = text.split_once(' ').map_or("", |(_, json)| json.trim());
        if has_duplicate_keys(json) {
            return;
        }
        if let Ok(Value::Object(envelope)) = serde_json::from_str::<Value>(json) {
            assert_eq!(
                envelope.get("stream").and_then(Value::as_str),
                Some(stream.as_str())
            );
            assert_eq!(envelope.get("data"), Some(&data), "the data of {json}");
        }
    }
}

/// A message written with `RecordingWriter` reads back the same (unless its JSON holds a
/// line break, which the writer refuses).
fn written_back(message: &RecordedMessage) {
    let mut writer = RecordingWriter::new(Vec::new(), Compression::None, "written");
    if writer.write_message(message).is_err() {
        assert!(message.raw.contains('\r'), "the writer refused {message:?}");
        return;
    }
    let bytes = writer.finish().expect("writes to memory");
    let (back, stats) = read(RecordingReader::new(Cursor::new(bytes), "written"));
    assert_eq!(
        back,
        std::slice::from_ref(message),
        "written back with {stats:?}"
    );
}

/// `data` as gzip (RFC 1952) in two members, split in the middle, each one deflate block
/// stored without compression (RFC 1951 §3.2.4): the reader's gzip path, concatenated members
/// included, without the cost of a compressor on every input.
fn gzip(data: &[u8]) -> Vec<u8> {
    let (first, second) = data.split_at(data.len() / 2);
    let mut out = Vec::with_capacity(data.len() + 64);
    for member in [first, second] {
        out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        let mut blocks = member.chunks(usize::from(u16::MAX)).peekable();
        if blocks.peek().is_none() {
            out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
        }
        while let Some(block) = blocks.next() {
            let len = u16::try_from(block.len()).expect("a chunk fits a stored block");
            out.push(u8::from(blocks.peek().is_none()));
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&(!len).to_le_bytes());
            out.extend_from_slice(block);
        }
        let mut crc = Crc::new();
        crc.update(member);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&crc.amount().to_le_bytes());
    }
    out
}

fn lossy(line: &[u8]) -> String {
    String::from_utf8_lossy(line).into_owned()
}
