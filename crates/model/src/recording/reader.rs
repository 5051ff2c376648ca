//! [`RecordingReader`]: a streaming reader of recordings, one line at a time.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::envelope::{Classified, classify};
use super::{LineErrorKind, MessageKind, RecordedMessage, RecordingError};

/// The first two bytes of every gzip stream (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Lines longer than this are skipped as [`LineErrorKind::TooLong`] by default: a 1,000-level
/// depth snapshot is about 40 KB, so 16 MiB only stops runaway input.
const DEFAULT_MAX_LINE_BYTES: usize = 16 << 20;
/// How many malformed lines [`ReaderStats::first_errors`] keeps.
const KEPT_ERRORS: usize = 16;

/// One skipped line: where, why, and the detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// The line number, from 1.
    pub line: u64,
    /// Why it was skipped.
    pub kind: LineErrorKind,
    /// The specifics (the JSON parser's message, the rejected text).
    pub detail: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.kind)?;
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        Ok(())
    }
}

/// What a [`RecordingReader`] has read so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReaderStats {
    /// Lines read, blank and malformed ones included.
    pub lines: u64,
    /// Messages yielded.
    pub messages: u64,
    /// Empty or all-whitespace lines, skipped silently.
    pub blank_lines: u64,
    /// Malformed lines skipped.
    pub malformed: u64,
    /// Bytes of line content read (decompressed), line breaks excluded.
    pub bytes: u64,
    by_kind: [u64; MessageKind::ALL.len()],
    by_error: [u64; LineErrorKind::ALL.len()],
    first_errors: Vec<LineError>,
    io_error: Option<String>,
}

impl ReaderStats {
    /// Messages of `kind` yielded.
    #[must_use]
    pub const fn count(&self, kind: MessageKind) -> u64 {
        self.by_kind[kind as usize]
    }

    /// Lines skipped for `kind` of error.
    #[must_use]
    pub const fn malformed_count(&self, kind: LineErrorKind) -> u64 {
        self.by_error[kind as usize]
    }

    /// The first malformed lines (up to 16), with their line numbers.
    #[must_use]
    pub fn first_errors(&self) -> &[LineError] {
        &self.first_errors
    }

    /// The I/O error that ended the reading, if one did.
    #[must_use]
    pub fn io_error(&self) -> Option<&str> {
        self.io_error.as_deref()
    }

    fn record_error(&mut self, error: LineError) {
        self.malformed += 1;
        self.by_error[error.kind as usize] += 1;
        if self.first_errors.len() < KEPT_ERRORS {
            self.first_errors.push(error);
        }
    }
}

/// Reads a recording one line at a time (see the module docs for the format).
///
/// As an [`Iterator`] it yields every well-formed message and ends at the end of the input or
/// at the first I/O error (kept in [`ReaderStats::io_error`]); [`Self::read_message`] returns
/// I/O errors instead. Malformed lines are skipped either way and counted in [`Self::stats`].
pub struct RecordingReader<R> {
    input: R,
    source_name: String,
    line: Vec<u8>,
    max_line_bytes: usize,
    stats: ReaderStats,
    failed: bool,
}

impl<R> fmt::Debug for RecordingReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordingReader")
            .field("source_name", &self.source_name)
            .field("max_line_bytes", &self.max_line_bytes)
            .field("stats", &self.stats)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl RecordingReader<Box<dyn BufRead + Send>> {
    /// Opens the recording at `path`, decompressing it if it starts with the gzip magic bytes.
    ///
    /// # Errors
    /// [`RecordingError::Io`] when the file cannot be opened or read.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, RecordingError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let file = File::open(path).map_err(|error| io_error(&name, error))?;
        Self::detect(file, name)
    }

    /// Reads a recording from `input`, decompressing it if it starts with the gzip magic bytes;
    /// `source_name` names it in errors.
    ///
    /// # Errors
    /// [`RecordingError::Io`] when the first bytes cannot be read.
    pub fn detect(
        mut input: impl Read + Send + 'static,
        source_name: impl Into<String>,
    ) -> Result<Self, RecordingError> {
        let source_name = source_name.into();
        let mut magic = [0u8; 2];
        let mut filled = 0;
        while filled < magic.len() {
            match input.read(&mut magic[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(io_error(&source_name, error)),
            }
        }
        let head = Cursor::new(magic[..filled].to_vec());
        let whole = head.chain(input);
        let reader: Box<dyn BufRead + Send> = if magic[..filled] == GZIP_MAGIC {
            Box::new(BufReader::with_capacity(
                1 << 16,
                MultiGzDecoder::new(whole),
            ))
        } else {
            Box::new(BufReader::with_capacity(1 << 16, whole))
        };
        Ok(Self::new(reader, source_name))
    }
}

impl<R: BufRead> RecordingReader<R> {
    /// Reads an uncompressed recording from `input`; `source_name` names it in errors.
    pub fn new(input: R, source_name: impl Into<String>) -> Self {
        Self {
            input,
            source_name: source_name.into(),
            line: Vec::with_capacity(4096),
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            stats: ReaderStats::default(),
            failed: false,
        }
    }

    /// Sets the longest line accepted (longer ones are skipped as [`LineErrorKind::TooLong`]
    /// without being held in memory).
    #[must_use]
    pub const fn with_max_line_bytes(mut self, max_line_bytes: usize) -> Self {
        self.max_line_bytes = max_line_bytes;
        self
    }

    /// What has been read so far.
    #[must_use]
    pub const fn stats(&self) -> &ReaderStats {
        &self.stats
    }

    /// The next well-formed message, skipping (and counting) malformed lines; `None` at the
    /// end of the input.
    ///
    /// # Errors
    /// [`RecordingError::Io`] when the input fails (a truncated gzip stream, a read error).
    pub fn read_message(&mut self) -> Result<Option<RecordedMessage>, RecordingError> {
        loop {
            let read = read_line_bounded(&mut self.input, &mut self.line, self.max_line_bytes);
            let Some((bytes, truncated)) = read.map_err(|e| io_error(&self.source_name, e))? else {
                return Ok(None);
            };
            self.stats.lines += 1;
            self.stats.bytes += bytes as u64;
            let line_no = self.stats.lines;
            let parsed = if truncated {
                Err((LineErrorKind::TooLong, format!("{bytes} bytes")))
            } else {
                parse_line(&self.line)
            };
            match parsed {
                Ok(Some(message)) => {
                    self.stats.messages += 1;
                    self.stats.by_kind[message.kind as usize] += 1;
                    return Ok(Some(message));
                }
                Ok(None) => self.stats.blank_lines += 1,
                Err((kind, detail)) => self.stats.record_error(LineError {
                    line: line_no,
                    kind,
                    detail,
                }),
            }
        }
    }
}

impl<R: BufRead> Iterator for RecordingReader<R> {
    type Item = RecordedMessage;

    fn next(&mut self) -> Option<RecordedMessage> {
        if self.failed {
            return None;
        }
        match self.read_message() {
            Ok(message) => message,
            Err(error) => {
                self.failed = true;
                self.stats.io_error = Some(error.to_string());
                None
            }
        }
    }
}

fn io_error(source_name: &str, error: io::Error) -> RecordingError {
    RecordingError::Io {
        source_name: source_name.to_owned(),
        error,
    }
}

/// Parses one line (without its line break); `Ok(None)` for a blank line.
fn parse_line(line: &[u8]) -> Result<Option<RecordedMessage>, (LineErrorKind, String)> {
    let text = std::str::from_utf8(line)
        .map_err(|error| (LineErrorKind::InvalidUtf8, error.to_string()))?;
    let text = text.trim_end_matches(['\r', ' ', '\t']);
    if text.trim_start().is_empty() {
        return Ok(None);
    }
    let (time, json) = text
        .split_once(' ')
        .ok_or_else(|| (LineErrorKind::MissingSeparator, String::new()))?;
    let recv_ns = time
        .parse::<u64>()
        .map_err(|_| (LineErrorKind::BadTimestamp, format!("{time:?}")))?;
    let classified = classify(json.trim_start())?;
    Ok(Some(RecordedMessage::from_classified(recv_ns, classified)))
}

impl RecordedMessage {
    /// The message `json` (one frame as received, or a REST snapshot body), received at
    /// `recv_ns`, classified exactly as a recording's line is: the combined-stream envelope
    /// unwrapped, the kind, stream and symbol found. For consumers that take a venue's frames
    /// live instead of reading them back from a file.
    ///
    /// # Errors
    /// Why a recording would skip it (not JSON, not an object, a bad envelope).
    pub fn from_json(recv_ns: u64, json: &str) -> Result<Self, LineErrorKind> {
        let classified = classify(json).map_err(|(kind, _)| kind)?;
        Ok(Self::from_classified(recv_ns, classified))
    }

    fn from_classified(recv_ns: u64, classified: Classified<'_>) -> Self {
        Self {
            recv_ns,
            kind: classified.kind,
            stream: classified.stream,
            symbol: classified.symbol,
            raw: classified.data.to_owned(),
        }
    }
}

/// Reads one line into `line` (without the `\n`), keeping at most `max` bytes of it and
/// discarding the rest. Returns the line's full length and whether it was cut, or `None` at
/// the end of the input.
fn read_line_bounded(
    input: &mut impl BufRead,
    line: &mut Vec<u8>,
    max: usize,
) -> io::Result<Option<(usize, bool)>> {
    line.clear();
    let (mut length, mut any) = (0usize, false);
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if available.is_empty() {
            return Ok(any.then_some((length, length > max)));
        }
        any = true;
        let newline = available.iter().position(|&b| b == b'\n');
        let chunk = &available[..newline.unwrap_or(available.len())];
        let room = max.saturating_sub(line.len());
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        length += chunk.len();
        let used = chunk.len() + usize::from(newline.is_some());
        input.consume(used);
        if newline.is_some() {
            return Ok(Some((length, length > max)));
        }
    }
}
