// Each test binary that declares `mod support;` uses only a subset of these helpers.
#![allow(dead_code)]

//! Shared pieces of the venue's replay tests: locating and reading the recorded vectors in the
//! repository's sibling `shared/vectors/` folder (see `shared/vectors/README.md`).

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

use flate2::read::GzDecoder;

/// The BTCUSDT recording (hftbacktest): `<receive ns> <JSON>` per line.
pub const RECORDING: &str = "binance-usdm/btcusdt_20240808.gz";
/// The cryptofeed exchangeInfo capture (first line).
pub const CRYPTOFEED_INFO: &str = "binance-usdm/cryptofeed/BINANCE_FUTURES.0";
/// The cryptofeed REST depth snapshots.
pub const CRYPTOFEED_HTTP: &str = "binance-usdm/cryptofeed/BINANCE_FUTURES.http.0.0";
/// The cryptofeed WebSocket capture.
pub const CRYPTOFEED_WS: &str = "binance-usdm/cryptofeed/BINANCE_FUTURES.ws.1.0";

/// The text of the vector at `relative` under `shared/vectors/`; `.gz` is decompressed.
///
/// # Panics
/// When the file is absent or unreadable, with a message pointing at the README.
pub fn read_vector(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors")
        .join(relative);
    let fail = |error: std::io::Error| -> ! {
        panic!(
            "cannot read test vector {} ({error}); the shared/ folder must sit beside the \
             repository checkout (see shared/vectors/README.md)",
            path.display()
        )
    };
    let file = File::open(&path).unwrap_or_else(|error| fail(error));
    let mut reader: Box<dyn Read> = if relative.ends_with(".gz") {
        Box::new(GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut text = String::new();
    reader
        .read_to_string(&mut text)
        .unwrap_or_else(|error| fail(error));
    text
}

/// One line of the BTCUSDT recording: the receive time (ns) and the raw JSON.
pub struct RecordedLine<'a> {
    /// Local receive time, ns since the epoch.
    pub recv_ns: u64,
    /// The message as received.
    pub json: &'a str,
}

/// Splits the recording into its lines.
///
/// # Panics
/// On a line that is not `<ns> <JSON>`.
pub fn recording_lines(text: &str) -> Vec<RecordedLine<'_>> {
    text.lines()
        .map(|line| {
            let (ns, json) = line.split_once(' ').expect("line is `<ns> <JSON>`");
            RecordedLine {
                recv_ns: ns.parse().expect("receive time is an integer"),
                json,
            }
        })
        .collect()
}

/// The JSON part of a cryptofeed line (`<prefix>: <JSON>`).
///
/// # Panics
/// When the line has no `": "`.
pub fn cryptofeed_json(line: &str) -> &str {
    line.split_once(": ").expect("line is `<prefix>: <JSON>`").1
}
