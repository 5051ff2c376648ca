//! The market-data recorder (issue 4 item 8): every text frame of the market streams, verbatim,
//! with its wall-clock receive time, plus a REST depth snapshot of every symbol after every
//! (re)connect, in the recording line format of [`kestrel_model::recording`]
//! (`<receive ns> <raw JSON>`, gzip optional), so a capture replays in the simulator and in
//! backtests like the hftbacktest recordings do.
//!
//! # Pieces
//!
//! - [`RecordingSink`]: a thread that owns the [`RecordingWriter`] and writes the lines it is
//!   sent, so compression and disk I/O stay off the socket's reading task. The queue is
//!   unbounded: a frame is never dropped, only delayed. The thread flushes at least every
//!   [`FLUSH_EVERY`] and completes the file (gzip trailer) on [`RecordingSink::finish`].
//! - [`Recorder`]: the [`FrameHandler`] on the reading task. It copies each frame to the sink
//!   after each connect asks for a snapshot of every symbol once that symbol's first depth
//!   diff has arrived (so a diff that straddles the snapshot is in the file too).
//! - [`run_snapshots`]: fetches the snapshots the recorder asks for with [`SnapshotClient`]
//!   and hands them to the sink.
//! - [`LineSender::channel`]: the same capture handed live to a consumer instead of a file
//!   (the simulator's mirror of a venue, `kestrel exec --mode simulation`): each frame is
//!   classified as the recording reader would classify its line and sent as a
//!   [`RecordedMessage`].
//!
//! # Snapshot lines
//!
//! A REST depth body does not name its symbol, so in a file of several symbols a bare body
//! would be ambiguous. The recorder writes each snapshot body verbatim inside a combined-stream
//! envelope named `<symbol>@depthSnapshot` (a name no venue stream uses):
//! `{"stream":"btcusdt@depthSnapshot","data":{"lastUpdateId":...}}`. The recording reader
//! classifies it as a [`MessageKind::Snapshot`] of that symbol.
//!
//! # Line breaks
//!
//! A line holds one message, so a frame must not contain a line break. Well-formed JSON has
//! none inside its strings (they must be escaped there), so any CR or LF in a frame is
//! whitespace between tokens and is written as a space; such frames are counted.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kestrel_model::recording::{MessageKind, RecordedMessage, RecordingError, RecordingWriter};
use tokio::sync::mpsc as async_mpsc;

use crate::connection::{FrameHandler, LinkState, Received};
use crate::snapshot::SnapshotClient;

/// The longest the sink keeps written lines in its buffers before flushing them to the file.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// The stream name a snapshot of `symbol` is recorded under (`btcusdt@depthSnapshot`).
#[must_use]
pub fn snapshot_stream(symbol: &str) -> String {
    format!("{}@depthSnapshot", symbol.to_ascii_lowercase())
}

/// Why a recording failed.
#[derive(Debug, thiserror::Error)]
pub enum RecorderError {
    /// The file could not be written.
    #[error(transparent)]
    Write(#[from] RecordingError),
    /// The writer thread could not be started.
    #[error("cannot start the recording writer thread: {0}")]
    Spawn(std::io::Error),
    /// The writer thread panicked.
    #[error("the recording writer thread panicked")]
    Panicked,
}

/// What a recording holds, as counted by the sink.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecorderStats {
    /// Lines written (frames plus snapshots).
    pub lines: u64,
    /// Stream frames written.
    pub frames: u64,
    /// Depth snapshots written.
    pub snapshots: u64,
    /// Frames whose line breaks were written as spaces.
    pub reformatted: u64,
    /// Snapshots that could not be fetched (the venue refused, or retries ran out).
    pub snapshot_failures: u64,
    /// Frames a live consumer was not handed because they are not a JSON object (a file
    /// keeps them verbatim; its reader skips them).
    pub unreadable: u64,
}

/// Counters shared between the sink's thread and its senders.
#[derive(Debug, Default)]
struct Counters {
    lines: AtomicU64,
    frames: AtomicU64,
    snapshots: AtomicU64,
    reformatted: AtomicU64,
    snapshot_failures: AtomicU64,
    unreadable: AtomicU64,
}

impl Counters {
    fn stats(&self) -> RecorderStats {
        RecorderStats {
            lines: self.lines.load(Ordering::Acquire),
            frames: self.frames.load(Ordering::Acquire),
            snapshots: self.snapshots.load(Ordering::Acquire),
            reformatted: self.reformatted.load(Ordering::Acquire),
            snapshot_failures: self.snapshot_failures.load(Ordering::Acquire),
            unreadable: self.unreadable.load(Ordering::Acquire),
        }
    }

    /// Counts one message handed over (a line written, or sent to a live consumer).
    fn count(&self, kind: MessageKind) {
        self.lines.fetch_add(1, Ordering::AcqRel);
        let count = match kind {
            MessageKind::Snapshot => &self.snapshots,
            _ => &self.frames,
        };
        count.fetch_add(1, Ordering::AcqRel);
    }
}

/// What the sink's thread is sent.
enum Entry {
    /// A message to write.
    Message(RecordedMessage),
    /// Complete the file and stop.
    Finish,
}

/// Where a [`LineSender`]'s messages go.
#[derive(Debug, Clone)]
enum Destination {
    /// The sink's writer thread, which writes each frame verbatim.
    Writer(mpsc::Sender<Entry>),
    /// A live consumer, handed each frame classified.
    Channel(mpsc::Sender<RecordedMessage>),
}

/// A handle that queues lines for the sink's thread (or hands them to a live consumer, see
/// [`LineSender::channel`]); cheap to clone.
#[derive(Debug, Clone)]
pub struct LineSender {
    queue: Destination,
    counters: Arc<Counters>,
}

impl LineSender {
    /// A sender that hands every frame and snapshot, as the [`RecordedMessage`] a recording
    /// of it would be read back as, to the returned receiver instead of writing it: the
    /// recorder's capture for a consumer that follows the venue live. The queue is unbounded
    /// like the sink's; [`Self::frame`] returns `false` once the receiver is gone.
    #[must_use]
    pub fn channel() -> (Self, mpsc::Receiver<RecordedMessage>) {
        let (sender, receiver) = mpsc::channel();
        let lines = Self {
            queue: Destination::Channel(sender),
            counters: Arc::new(Counters::default()),
        };
        (lines, receiver)
    }

    /// Queues a stream frame received at `recv_ns` (wall clock, ns since the Unix epoch).
    /// Returns `false` when the sink has stopped (finished or failed).
    pub fn frame(&self, recv_ns: u64, frame: &str) -> bool {
        let raw = if frame.contains(['\n', '\r']) {
            self.counters.reformatted.fetch_add(1, Ordering::AcqRel);
            frame.replace(['\n', '\r'], " ")
        } else {
            frame.to_owned()
        };
        let message = match &self.queue {
            // The file keeps the frame verbatim; its reader classifies it.
            Destination::Writer(_) => RecordedMessage {
                recv_ns,
                kind: MessageKind::Other,
                stream: None,
                symbol: None,
                raw,
            },
            Destination::Channel(_) => match RecordedMessage::from_json(recv_ns, &raw) {
                Ok(message) => message,
                Err(_) => {
                    self.counters.unreadable.fetch_add(1, Ordering::AcqRel);
                    return true;
                }
            },
        };
        self.send(message)
    }

    /// Queues the REST depth snapshot `body` of `symbol`, received at `recv_ns`, under
    /// [`snapshot_stream`]. Returns `false` when the sink has stopped.
    pub fn snapshot(&self, recv_ns: u64, symbol: &str, body: &str) -> bool {
        self.send(RecordedMessage {
            recv_ns,
            kind: MessageKind::Snapshot,
            stream: Some(snapshot_stream(symbol)),
            symbol: Some(symbol.to_ascii_uppercase()),
            raw: body.replace(['\n', '\r'], " "),
        })
    }

    /// Counts a snapshot that could not be fetched.
    pub fn snapshot_failed(&self) {
        self.counters
            .snapshot_failures
            .fetch_add(1, Ordering::AcqRel);
    }

    /// What has been written so far.
    #[must_use]
    pub fn stats(&self) -> RecorderStats {
        self.counters.stats()
    }

    fn send(&self, message: RecordedMessage) -> bool {
        match &self.queue {
            Destination::Writer(queue) => queue.send(Entry::Message(message)).is_ok(),
            Destination::Channel(consumer) => {
                let kind = message.kind;
                let sent = consumer.send(message).is_ok();
                if sent {
                    self.counters.count(kind);
                }
                sent
            }
        }
    }
}

/// The thread that writes a recording (see the module docs).
#[derive(Debug)]
pub struct RecordingSink {
    sender: LineSender,
    thread: JoinHandle<Result<(), RecordingError>>,
}

impl RecordingSink {
    /// Starts the thread writing into `writer`.
    ///
    /// # Errors
    /// [`RecorderError::Spawn`] when the thread cannot be started.
    pub fn spawn<W: Write + Send + 'static>(
        writer: RecordingWriter<W>,
    ) -> Result<Self, RecorderError> {
        let (queue, entries) = mpsc::channel();
        let counters = Arc::new(Counters::default());
        let thread_counters = Arc::clone(&counters);
        let thread = std::thread::Builder::new()
            .name("kestrel-recorder".into())
            .spawn(move || write_entries(writer, &entries, &thread_counters))
            .map_err(RecorderError::Spawn)?;
        Ok(Self {
            sender: LineSender {
                queue: Destination::Writer(queue),
                counters,
            },
            thread,
        })
    }

    /// A handle to queue lines with.
    #[must_use]
    pub fn sender(&self) -> LineSender {
        self.sender.clone()
    }

    /// Writes every line queued so far, completes the file and stops the thread. Stop the
    /// sources first: a line queued after this is not written.
    ///
    /// # Errors
    /// [`RecorderError::Write`] when the file could not be written (at any point of the
    /// recording), [`RecorderError::Panicked`] when the thread died.
    pub fn finish(self) -> Result<RecorderStats, RecorderError> {
        if let Destination::Writer(queue) = &self.sender.queue {
            let _ = queue.send(Entry::Finish);
        }
        let written = self.thread.join().map_err(|_| RecorderError::Panicked)?;
        written?;
        Ok(self.sender.stats())
    }
}

/// The sink's loop: writes what arrives, flushes when idle or every [`FLUSH_EVERY`], and
/// completes the file on [`Entry::Finish`] (or when every sender is gone).
fn write_entries<W: Write>(
    mut writer: RecordingWriter<W>,
    entries: &mpsc::Receiver<Entry>,
    counters: &Counters,
) -> Result<(), RecordingError> {
    let mut flushed_at = Instant::now();
    let mut dirty = false;
    loop {
        match entries.recv_timeout(FLUSH_EVERY) {
            Ok(Entry::Message(message)) => {
                write_one(&mut writer, &message, counters)?;
                dirty = true;
            }
            Ok(Entry::Finish) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        if dirty && flushed_at.elapsed() >= FLUSH_EVERY {
            writer.flush()?;
            (flushed_at, dirty) = (Instant::now(), false);
        }
    }
    writer.finish().map(drop)
}

fn write_one<W: Write>(
    writer: &mut RecordingWriter<W>,
    message: &RecordedMessage,
    counters: &Counters,
) -> Result<(), RecordingError> {
    writer.write_message(message)?;
    counters.count(message.kind);
    Ok(())
}

/// The [`FrameHandler`] that records: frames go to the sink as they arrive, and after each
/// connect every symbol's snapshot is requested from [`run_snapshots`] as soon as its first
/// depth frame has arrived.
///
/// That is Binance's order (`binance-futures.md` §7.1: open the stream and buffer, *then* get
/// the snapshot): a snapshot taken before the first diff is received may end exactly where a
/// diff the stream never delivered ends, so no recorded diff would straddle it and a replay
/// would see a gap. A symbol whose depth stream stays silent gets its snapshot with its
/// first diff.
#[derive(Debug)]
pub struct Recorder {
    lines: LineSender,
    symbols: Vec<AwaitedSnapshot>,
    /// Symbols whose snapshot is still to be requested since the last connect.
    awaiting: usize,
    snapshots: async_mpsc::UnboundedSender<String>,
    /// Whether the sink's stop has been logged (once, not per frame).
    stop_logged: bool,
}

/// One symbol, the start of its depth frames, and whether its snapshot is awaited.
#[derive(Debug)]
struct AwaitedSnapshot {
    symbol: String,
    /// `{"stream":"btcusdt@depth`: how a combined-stream depth frame of the symbol starts.
    depth_prefix: String,
    awaited: bool,
}

impl Recorder {
    /// A recorder of `symbols` (venue symbols, e.g. `BTCUSDT`) writing through `lines` and
    /// asking `snapshots` for their depth snapshots.
    #[must_use]
    pub fn new(
        lines: LineSender,
        symbols: Vec<String>,
        snapshots: async_mpsc::UnboundedSender<String>,
    ) -> Self {
        let symbols = symbols
            .into_iter()
            .map(|symbol| AwaitedSnapshot {
                depth_prefix: format!(r#"{{"stream":"{}@depth"#, symbol.to_ascii_lowercase()),
                symbol,
                awaited: false,
            })
            .collect();
        Self {
            lines,
            symbols,
            awaiting: 0,
            snapshots,
            stop_logged: false,
        }
    }

    /// Requests the snapshot of the symbol whose depth frame `frame` is, if it is awaited.
    fn request_due_snapshot(&mut self, frame: &str) {
        let due = self
            .symbols
            .iter_mut()
            .find(|s| s.awaited && frame.starts_with(&s.depth_prefix));
        if let Some(symbol) = due {
            symbol.awaited = false;
            self.awaiting -= 1;
            let _ = self.snapshots.send(symbol.symbol.clone());
        }
    }
}

impl FrameHandler for Recorder {
    fn on_frame(&mut self, frame: &str, received: Received) {
        if !self.lines.frame(received.wall_ns, frame) && !self.stop_logged {
            self.stop_logged = true;
            tracing::error!("recording writer stopped: frames are no longer recorded");
        }
        if self.awaiting > 0 {
            self.request_due_snapshot(frame);
        }
    }

    fn on_state(&mut self, state: &LinkState) {
        if *state == LinkState::Connected {
            for symbol in &mut self.symbols {
                symbol.awaited = true;
            }
            self.awaiting = self.symbols.len();
        }
    }
}

/// Fetches the snapshots [`Recorder`] asks for and queues them on `lines`, until the request
/// channel closes. A snapshot that cannot be had is logged and counted; the recording goes on.
pub async fn run_snapshots(
    client: SnapshotClient,
    mut requests: async_mpsc::UnboundedReceiver<String>,
    lines: LineSender,
) {
    while let Some(symbol) = requests.recv().await {
        match client.fetch(&symbol).await {
            Ok(body) => {
                if !lines.snapshot(wall_clock_ns(), &symbol, &body) {
                    tracing::error!(%symbol, "recording writer stopped: snapshot not recorded");
                }
            }
            Err(error) => {
                tracing::error!(%symbol, %error, "depth snapshot not recorded");
                lines.snapshot_failed();
            }
        }
    }
}

/// Nanoseconds since the Unix epoch (the recorder is an edge: it stamps what it receives).
fn wall_clock_ns() -> u64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    u64::try_from(since_epoch).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use kestrel_model::recording::{Compression, RecordingReader};

    use super::*;

    /// A `Write` into a shared buffer, so the test can read what the thread wrote.
    #[derive(Clone, Default)]
    struct Shared(Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn read_back(buffer: &Shared) -> Vec<RecordedMessage> {
        let bytes = buffer.0.lock().unwrap().clone();
        let mut reader = RecordingReader::detect(std::io::Cursor::new(bytes), "memory").unwrap();
        let messages: Vec<_> = reader.by_ref().collect();
        assert_eq!(reader.stats().malformed, 0, "{:?}", reader.stats());
        assert!(reader.stats().io_error().is_none(), "{:?}", reader.stats());
        messages
    }

    #[test]
    fn frames_and_snapshots_are_written_verbatim_in_order_and_counted() {
        let buffer = Shared::default();
        let writer = RecordingWriter::new(buffer.clone(), Compression::Gzip, "memory");
        let sink = RecordingSink::spawn(writer).unwrap();
        let lines = sink.sender();
        let diff = r#"{"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","s":"BTCUSDT","U":1,"u":2,"pu":0,"b":[],"a":[]}}"#;
        assert!(lines.frame(10, diff));
        assert!(lines.snapshot(20, "BTCUSDT", r#"{"lastUpdateId":2,"bids":[],"asks":[]}"#));
        assert!(lines.frame(30, "{\"result\":null,\n\"id\":1}"));
        let stats = sink.finish().unwrap();
        assert_eq!(
            (
                stats.lines,
                stats.frames,
                stats.snapshots,
                stats.reformatted
            ),
            (3, 2, 1, 1)
        );
        let messages = read_back(&buffer);
        assert_eq!(messages.len(), 3);
        assert_eq!(
            (messages[0].recv_ns, messages[0].kind),
            (10, MessageKind::DepthDiff)
        );
        let data = diff.split_once(r#""data":"#).unwrap().1;
        assert_eq!(messages[0].raw, &data[..data.len() - 1]);
        assert_eq!(messages[1].kind, MessageKind::Snapshot);
        assert_eq!(messages[1].symbol.as_deref(), Some("BTCUSDT"));
        assert_eq!(messages[1].stream.as_deref(), Some("btcusdt@depthSnapshot"));
        assert_eq!(messages[2].raw, r#"{"result":null, "id":1}"#);
        assert!(!lines.frame(40, "{}"), "a finished sink refuses lines");
    }

    #[test]
    fn a_channel_sender_hands_frames_over_classified_as_a_recording_would_read_them() {
        let (lines, consumer) = LineSender::channel();
        let diff = r#"{"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","s":"BTCUSDT","U":1,"u":2,"pu":0,"b":[],"a":[]}}"#;
        assert!(lines.frame(10, diff));
        assert!(lines.snapshot(20, "BTCUSDT", r#"{"lastUpdateId":2,"bids":[],"asks":[]}"#));
        assert!(lines.frame(30, "not json"), "skipped, not fatal");
        let received: Vec<RecordedMessage> = consumer.try_iter().collect();
        assert_eq!(received.len(), 2);
        assert_eq!(received[0].kind, MessageKind::DepthDiff);
        assert_eq!(received[0].stream.as_deref(), Some("btcusdt@depth@0ms"));
        assert_eq!(received[0].symbol.as_deref(), Some("BTCUSDT"));
        assert_eq!(received[1].kind, MessageKind::Snapshot);
        let stats = lines.stats();
        assert_eq!(
            (stats.lines, stats.frames, stats.snapshots, stats.unreadable),
            (2, 1, 1, 1)
        );
        drop(consumer);
        assert!(
            !lines.frame(40, diff),
            "a consumer that left refuses frames"
        );
    }

    #[test]
    fn each_connect_asks_for_every_snapshot_once_its_first_diff_has_arrived() {
        let buffer = Shared::default();
        let writer = RecordingWriter::new(buffer, Compression::None, "memory");
        let sink = RecordingSink::spawn(writer).unwrap();
        let (requests, mut pending) = async_mpsc::unbounded_channel();
        let symbols = vec!["BTCUSDT".to_owned(), "ETHUSDT".to_owned()];
        let mut recorder = Recorder::new(sink.sender(), symbols, requests);
        let received = Received {
            at: std::time::Instant::now(),
            mono_ns: 1,
            wall_ns: 1_723_161_255_030_314_667,
        };
        let btc_diff = r#"{"stream":"btcusdt@depth@0ms","data":{}}"#;
        let eth_diff = r#"{"stream":"ethusdt@depth@0ms","data":{}}"#;
        let eth_trade = r#"{"stream":"ethusdt@trade","data":{}}"#;
        let mut asked = || {
            let mut asked = Vec::new();
            while let Ok(symbol) = pending.try_recv() {
                asked.push(symbol);
            }
            asked
        };
        recorder.on_frame(btc_diff, received);
        assert!(asked().is_empty(), "nothing before a connect");
        for _ in 0..2 {
            recorder.on_state(&LinkState::Connecting(0));
            recorder.on_state(&LinkState::Connected);
            assert!(asked().is_empty(), "not before the first diff");
            recorder.on_frame(eth_trade, received);
            recorder.on_frame(eth_diff, received);
            recorder.on_frame(btc_diff, received);
            recorder.on_frame(eth_diff, received);
            assert_eq!(asked(), ["ETHUSDT", "BTCUSDT"]);
        }
        drop(recorder);
        assert_eq!(sink.finish().unwrap().frames, 9);
    }
}
