//! [`RecordingWriter`]: writes recordings in the line format the reader reads.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use flate2::write::GzEncoder;

use super::{RecordedMessage, RecordingError};

/// Whether a recording is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// Plain text.
    None,
    /// gzip (default level), as the hftbacktest recordings are.
    Gzip,
}

/// Where the bytes go.
#[derive(Debug)]
enum Sink<W: Write> {
    Plain(W),
    Gzip(GzEncoder<W>),
}

/// Writes a recording: one `<receive ns> <json>` line per message, optionally gzip-compressed.
///
/// Call [`Self::finish`] at the end: it completes the gzip stream and flushes; a writer that is
/// dropped instead may leave a truncated file (which the reader reports as an I/O error after
/// the last complete line).
#[derive(Debug)]
pub struct RecordingWriter<W: Write> {
    sink: Sink<W>,
    source_name: String,
    line: Vec<u8>,
    lines: u64,
}

impl RecordingWriter<BufWriter<File>> {
    /// Creates (or truncates) the file at `path`.
    ///
    /// # Errors
    /// [`RecordingError::Io`] when the file cannot be created.
    pub fn create(
        path: impl AsRef<Path>,
        compression: Compression,
    ) -> Result<Self, RecordingError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let file = File::create(path).map_err(|error| RecordingError::Io {
            source_name: name.clone(),
            error,
        })?;
        Ok(Self::new(BufWriter::new(file), compression, name))
    }
}

impl<W: Write> RecordingWriter<W> {
    /// A writer into `output`; `source_name` names it in errors.
    pub fn new(output: W, compression: Compression, source_name: impl Into<String>) -> Self {
        let sink = match compression {
            Compression::None => Sink::Plain(output),
            Compression::Gzip => Sink::Gzip(GzEncoder::new(output, flate2::Compression::default())),
        };
        Self {
            sink,
            source_name: source_name.into(),
            line: Vec::with_capacity(4096),
            lines: 0,
        }
    }

    /// Lines written so far.
    #[must_use]
    pub const fn lines(&self) -> u64 {
        self.lines
    }

    /// Writes `json` verbatim as received at `recv_ns` (what a recorder does with each frame).
    ///
    /// # Errors
    /// [`RecordingError::LineBreakInJson`] when `json` contains `\n` or `\r` (nothing is
    /// written); [`RecordingError::Io`] when the output fails.
    pub fn write_raw(&mut self, recv_ns: u64, json: &str) -> Result<(), RecordingError> {
        if json.contains(['\n', '\r']) {
            return Err(RecordingError::LineBreakInJson { recv_ns });
        }
        self.line.clear();
        self.line.extend_from_slice(recv_ns.to_string().as_bytes());
        self.line.push(b' ');
        self.line.extend_from_slice(json.as_bytes());
        self.emit_line()
    }

    /// Writes `message`: its data in a combined-stream envelope when it has a stream name,
    /// bare otherwise (a snapshot, a bare event). A message read from a recording of Binance
    /// combined streams is written back byte for byte.
    ///
    /// # Errors
    /// As [`Self::write_raw`].
    pub fn write_message(&mut self, message: &RecordedMessage) -> Result<(), RecordingError> {
        let Some(stream) = &message.stream else {
            return self.write_raw(message.recv_ns, &message.raw);
        };
        if message.raw.contains(['\n', '\r']) {
            return Err(RecordingError::LineBreakInJson {
                recv_ns: message.recv_ns,
            });
        }
        self.line.clear();
        self.line
            .extend_from_slice(message.recv_ns.to_string().as_bytes());
        self.line.extend_from_slice(br#" {"stream":"#);
        // A JSON string of a Rust string cannot fail to serialize.
        let quoted = serde_json::to_string(stream).unwrap_or_default();
        self.line.extend_from_slice(quoted.as_bytes());
        self.line.extend_from_slice(br#","data":"#);
        self.line.extend_from_slice(message.raw.as_bytes());
        self.line.push(b'}');
        self.emit_line()
    }

    fn emit_line(&mut self) -> Result<(), RecordingError> {
        self.line.push(b'\n');
        let written = match &mut self.sink {
            Sink::Plain(output) => output.write_all(&self.line),
            Sink::Gzip(encoder) => encoder.write_all(&self.line),
        };
        written.map_err(|error| self.io_error(error))?;
        self.lines += 1;
        Ok(())
    }

    /// Flushes buffered lines to the output (a gzip stream is flushed to a byte boundary, so
    /// everything written so far can be read back).
    ///
    /// # Errors
    /// [`RecordingError::Io`] when the output fails.
    pub fn flush(&mut self) -> Result<(), RecordingError> {
        let flushed = match &mut self.sink {
            Sink::Plain(output) => output.flush(),
            Sink::Gzip(encoder) => encoder.flush(),
        };
        flushed.map_err(|error| self.io_error(error))
    }

    /// Completes the recording (the gzip trailer), flushes it and returns the output.
    ///
    /// # Errors
    /// [`RecordingError::Io`] when the output fails.
    pub fn finish(self) -> Result<W, RecordingError> {
        let source_name = self.source_name;
        let io = |error| RecordingError::Io {
            source_name: source_name.clone(),
            error,
        };
        let mut output = match self.sink {
            Sink::Plain(output) => output,
            Sink::Gzip(encoder) => encoder.finish().map_err(io)?,
        };
        output.flush().map_err(io)?;
        Ok(output)
    }

    fn io_error(&self, error: std::io::Error) -> RecordingError {
        RecordingError::Io {
            source_name: self.source_name.clone(),
            error,
        }
    }
}
