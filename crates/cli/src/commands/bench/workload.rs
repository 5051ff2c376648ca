//! What `kestrel bench marketdata` replays: every message of a recording (or of the synthetic
//! stream) loaded into memory before anything is timed, as the frames the connection would
//! hand the pipeline, with the symbols to keep books for.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use kestrel_marketdata::connection::Received;
use kestrel_model::Price;
use kestrel_model::instrument::binance_usdm;
use kestrel_model::recording::{MessageKind, RecordedMessage, RecordingReader};
use kestrel_venue::binance::MarketParser;
use kestrel_venue::binance::market::floor::FloorPlan;
use kestrel_venue::binance::market::{MarketEvent, ReceiveTime};

/// One message, ready to feed.
#[derive(Debug, Clone)]
pub struct Message {
    /// What it is (the recording reader's classification).
    pub kind: MessageKind,
    /// For a snapshot, the symbol whose book it is.
    pub symbol: Option<String>,
    /// A stream message: the frame as the connection hands it over (the combined-stream
    /// envelope restored when it was recorded in one). A snapshot: the REST body.
    pub text: String,
    /// When it was received (wall clock from the recording; monotonic from its first line).
    pub received: Received,
    /// How the parse-only floor deserialises it; `None` when the floor has no struct for it
    /// (subscription replies, klines), which the floor then skips.
    pub floor: Option<FloorPlan>,
}

/// Everything a benchmark run needs.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Where the messages came from, for the report.
    pub source: String,
    /// The messages, in recorded order.
    pub messages: Vec<Message>,
    /// The symbols to keep books for, with their tick hints.
    pub symbols: Vec<(String, Price)>,
    /// Malformed lines the reader skipped.
    pub malformed_lines: u64,
}

impl Workload {
    /// Every message of the recording at `path`.
    ///
    /// # Errors
    /// When the file is missing or unreadable, breaks off (a truncated gzip stream), or holds
    /// no depth diff.
    pub fn from_recording(path: &Path) -> Result<Self> {
        if !path.is_file() {
            bail!(
                "--input {}: no such file (expected a recording: `<receive ns> <json>` lines, \
                 gzip optional)",
                path.display()
            );
        }
        let mut reader = RecordingReader::open(path)
            .with_context(|| format!("--input {}: cannot open", path.display()))?;
        let recorded: Vec<RecordedMessage> = reader.by_ref().collect();
        let stats = reader.stats();
        if let Some(error) = stats.io_error() {
            bail!(
                "--input {}: unreadable after {} messages: {error}",
                path.display(),
                recorded.len()
            );
        }
        for error in stats.first_errors().iter().take(3) {
            eprintln!("warning: {}: {error}; skipped", path.display());
        }
        Self::from_messages(path.display().to_string(), recorded, stats.malformed)
    }

    /// A workload of `recorded` from `source`.
    ///
    /// # Errors
    /// When there is no depth diff (there would be no book to maintain).
    pub fn from_messages(
        source: String,
        recorded: Vec<RecordedMessage>,
        malformed_lines: u64,
    ) -> Result<Self> {
        let first_depth = recorded
            .iter()
            .find(|m| m.kind == MessageKind::DepthDiff)
            .and_then(|m| m.symbol.clone());
        let Some(first_depth) = first_depth else {
            bail!(
                "{source}: no depth messages (depthUpdate diffs with a symbol) in {} messages: \
                 the benchmark needs a book to maintain",
                recorded.len()
            );
        };
        let origin_ns = recorded.first().map_or(0, |m| m.recv_ns);
        let messages: Vec<Message> = recorded
            .into_iter()
            .map(|m| message(m, origin_ns, &first_depth))
            .collect();
        let symbols = tick_hints(&messages);
        Ok(Self {
            source,
            messages,
            symbols,
            malformed_lines,
        })
    }

    /// Messages of each kind, in [`MessageKind::ALL`] order (kinds absent are left out).
    #[must_use]
    pub fn counts(&self) -> Vec<(MessageKind, u64)> {
        MessageKind::ALL
            .iter()
            .map(|&kind| {
                let count = self.messages.iter().filter(|m| m.kind == kind).count();
                (kind, count as u64)
            })
            .filter(|&(_, count)| count > 0)
            .collect()
    }
}

/// The message as fed: a snapshot's body and symbol (a REST body names none: it is the first
/// depth message's symbol, as in a one-symbol capture), or a stream frame.
fn message(recorded: RecordedMessage, origin_ns: u64, first_depth: &str) -> Message {
    let received = Received {
        // When the workload was loaded: the pipeline's latency histogram records receipt →
        // processed from it, which in a replay measures nothing, but costs what it costs.
        at: Instant::now(),
        mono_ns: recorded.recv_ns.saturating_sub(origin_ns),
        wall_ns: recorded.recv_ns,
    };
    let (symbol, text) = match (recorded.kind, &recorded.stream) {
        (MessageKind::Snapshot, _) => (
            Some(recorded.symbol.unwrap_or_else(|| first_depth.to_owned())),
            recorded.raw,
        ),
        (_, Some(stream)) => (recorded.symbol, envelope(stream, &recorded.raw)),
        (_, None) => (recorded.symbol, recorded.raw),
    };
    let floor = FloorPlan::classify(&text);
    Message {
        kind: recorded.kind,
        symbol,
        text,
        received,
        floor,
    }
}

/// The combined-stream frame around `data`, as Binance sends it and the recorder writes it.
fn envelope(stream: &str, data: &str) -> String {
    let name = serde_json::Value::from(stream);
    format!(r#"{{"stream":{name},"data":{data}}}"#)
}

/// Every symbol with a depth diff or a snapshot, with its listed tick when Kestrel knows the
/// instrument, else the finest decimal step of the prices in its first depth message (a hint:
/// the book refines its tick if a finer price comes).
fn tick_hints(messages: &[Message]) -> Vec<(String, Price)> {
    let mut symbols: BTreeMap<String, Price> = BTreeMap::new();
    let mut parser = MarketParser::new();
    for message in messages {
        let depth = matches!(message.kind, MessageKind::DepthDiff | MessageKind::Snapshot);
        let Some(symbol) = message.symbol.as_ref().filter(|_| depth) else {
            continue;
        };
        if symbols.contains_key(symbol) {
            continue;
        }
        let tick = binance_usdm(symbol).map_or_else(
            || written_step(&mut parser, &message.text),
            |instrument| instrument.tick_size(),
        );
        symbols.insert(symbol.clone(), tick);
    }
    symbols.into_iter().collect()
}

/// 10^-d, d the most significant decimals among the prices of the depth message `text`.
fn written_step(parser: &mut MarketParser, text: &str) -> Price {
    let decimals = match parser.parse(text, ReceiveTime::default()).map(|f| f.event) {
        Ok(MarketEvent::Depth(update)) => max_decimals(update.diff.bids, update.diff.asks),
        Ok(MarketEvent::Snapshot(snapshot)) => max_decimals(snapshot.bids, snapshot.asks),
        _ => 8,
    };
    Price::from_raw(10_i64.pow(8 - decimals.min(8)))
}

fn max_decimals(bids: &[kestrel_model::Level], asks: &[kestrel_model::Level]) -> u32 {
    bids.iter()
        .chain(asks)
        .map(|level| level.price.decimal_places())
        .max()
        .unwrap_or(8)
}
