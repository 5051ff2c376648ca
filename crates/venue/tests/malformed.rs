//! Property tests: whatever the input (arbitrary bytes, arbitrary text, real messages mutated
//! byte by byte, or JSON objects built from Binance's keys with values of any type in any
//! order), the parser never panics, returns an event or an error, and the fast path and the
//! general walk agree, with either JSON library.

// Test code: a panic is a failed assertion, not a crash on outside input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::LazyLock;

use kestrel_testkit::fuzzing::FRAME_KEYS;
use kestrel_venue::binance::market::{MarketFrame, ReceiveTime};
use kestrel_venue::binance::{JsonLib, MarketParser, ParseError};
use proptest::prelude::*;
use support::{CRYPTOFEED_WS, RECORDING, cryptofeed_json, read_vector, recording_lines};

/// A few real messages of every kind: the first 40 of each from the BTCUSDT recording (the
/// snapshot included), and every 50th message of the cryptofeed capture.
static SAMPLES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let recording = read_vector(RECORDING);
    let mut samples = Vec::new();
    for marker in ["@depth", "@bookTicker", "@trade", "lastUpdateId"] {
        let of_kind = recording_lines(&recording)
            .into_iter()
            .filter(|line| line.json.contains(marker))
            .take(40)
            .map(|line| line.json.to_owned());
        samples.extend(of_kind);
    }
    let capture = read_vector(CRYPTOFEED_WS);
    let every_50th = capture.lines().skip(1).step_by(50).map(cryptofeed_json);
    samples.extend(every_50th.map(str::to_owned));
    samples
});

/// Asserts two outcomes are the same; `invalid_json` messages differ between paths only in
/// the library's wording, so for them only the kind is compared.
fn assert_agree(
    a: &Result<MarketFrame<'_>, ParseError>,
    b: &Result<MarketFrame<'_>, ParseError>,
    text: &str,
) {
    match (a, b) {
        (Err(x), Err(y)) if x.kind() == "invalid_json" => assert_eq!(x.kind(), y.kind(), "{text}"),
        _ => assert_eq!(a, b, "{text}"),
    }
}

/// Parses `text` every way: per library, the fast path and the general walk must agree; the
/// two libraries must give the same event whenever both accept the text (they may differ on
/// what is valid JSON at the edges of the grammar, such as `-0` or lone surrogates).
fn parse_every_way(text: &str) {
    let mut events = Vec::new();
    for json in JsonLib::ALL {
        let mut fast = MarketParser::with_capacity(4).with_json_lib(json);
        let mut general = MarketParser::with_capacity(4).with_json_lib(json);
        let x = fast.parse(text, ReceiveTime::default());
        let y = general.parse_general(text, ReceiveTime::default());
        assert_agree(&x, &y, text);
        match &x {
            Ok(frame) => events.push(Some(format!("{frame:?}"))),
            Err(error) => {
                assert!(ParseError::KINDS.contains(&error.kind()));
                assert!(!error.to_string().is_empty());
                events.push(None);
            }
        }
    }
    if let [Some(sonic), Some(serde)] = events.as_slice() {
        assert_eq!(sonic, serde, "libraries disagree on {text}");
    }
}

/// One edit of a message: delete, insert, replace or duplicate a span, or truncate.
#[derive(Debug, Clone)]
enum Edit {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    Replace { at: usize, byte: u8 },
    Duplicate { at: usize, len: usize },
    Truncate { at: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    let text = prop::sample::select(vec![
        "\"",
        "[",
        "]",
        "{",
        "}",
        ",",
        ":",
        "-",
        ".",
        "0",
        "1e5",
        "null",
        "true",
        "\\",
        "\"b\":[[\"1\",\"2\"]],",
        " ",
        "\"e\":\"trade\",",
        "[\"0\",\"1\"]",
        "\"x\":{},",
        "é",
    ]);
    prop_oneof![
        (any::<usize>(), 1..8usize).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), text).prop_map(|(at, t)| Edit::Insert {
            at,
            text: t.to_owned()
        }),
        (any::<usize>(), b' '..=b'~').prop_map(|(at, byte)| Edit::Replace { at, byte }),
        (any::<usize>(), 1..40usize).prop_map(|(at, len)| Edit::Duplicate { at, len }),
        any::<usize>().prop_map(|at| Edit::Truncate { at }),
    ]
}

/// Applies `edits` to `text` (positions wrap around the current length; the result is made
/// valid UTF-8 lossily, as a WebSocket text frame must be).
fn apply(text: &str, edits: &[Edit]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for edit in edits {
        let len = bytes.len().max(1);
        match edit {
            Edit::Delete { at, len: n } => {
                let at = at % len;
                let end = (at + n).min(bytes.len());
                bytes.drain(at.min(end)..end);
            }
            Edit::Insert { at, text } => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, text.bytes());
            }
            Edit::Replace { at, byte } => {
                if let Some(b) = bytes.get_mut(at % len) {
                    *b = *byte;
                }
            }
            Edit::Duplicate { at, len: n } => {
                let at = at % len;
                let end = (at + n).min(bytes.len());
                let span = bytes.get(at..end).unwrap_or_default().to_vec();
                bytes.splice(end..end, span);
            }
            Edit::Truncate { at } => bytes.truncate(at % len),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A JSON value of any type, small.
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        "-?[0-9]{1,3}\\.[0-9]{1,3}(e[0-9])?".prop_map(|s| s),
        "[0-9]{0,13}(\\.[0-9]{0,10})?".prop_map(|s| format!("\"{s}\"")),
        prop::sample::select(vec![
            "depthUpdate",
            "bookTicker",
            "trade",
            "aggTrade",
            "kline"
        ])
        .prop_map(|s| format!("\"{s}\"")),
        "[a-zA-Z@ ]{0,8}".prop_map(|s| format!("\"{s}\"")),
        Just(r#""esc\"aped""#.to_owned()),
    ];
    leaf.prop_recursive(2, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(("[a-z]{1,2}", inner), 0..3).prop_map(|kv| {
                let body: Vec<String> = kv.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                format!("{{{}}}", body.join(","))
            }),
        ]
    })
}

/// A level list: mostly well-formed pairs, sometimes not.
fn levels() -> impl Strategy<Value = String> {
    let pair = prop_oneof![
        4 => ("[0-9]{1,5}(\\.[0-9]{1,9})?", "-?[0-9]{1,4}(\\.[0-9]{1,3})?")
            .prop_map(|(p, q)| format!("[\"{p}\",\"{q}\"]")),
        1 => value(),
    ];
    prop::collection::vec(pair, 0..5).prop_map(|v| format!("[{}]", v.join(",")))
}

/// An object built from Binance's keys (each with a plausible or an arbitrary value), in any
/// order, bare or in the envelope.
fn event_object() -> impl Strategy<Value = String> {
    let entry = (
        prop::sample::select(FRAME_KEYS.to_vec()),
        prop_oneof![value(), levels()],
    )
        .prop_map(|(k, v)| format!("\"{k}\":{v}"));
    let event_type = prop::sample::select(vec!["depthUpdate", "bookTicker", "trade", "aggTrade"]);
    let parts = (
        event_type,
        prop::collection::vec(entry, 0..14),
        any::<bool>(),
        any::<bool>(),
    );
    parts.prop_map(|(e, mut body, e_first, envelope)| {
        let e = format!("\"e\":\"{e}\"");
        if e_first {
            body.insert(0, e);
        } else {
            body.push(e);
        }
        wrap(&body, envelope)
    })
}

/// The object of `entries`, bare or as the `data` of a combined-stream envelope.
fn wrap(entries: &[String], envelope: bool) -> String {
    let object = format!("{{{}}}", entries.join(","));
    if envelope {
        format!(r#"{{"stream":"btcusdt@depth20","data":{object}}}"#)
    } else {
        object
    }
}

/// Every field of a covered event with a valid value (the `e` key first).
const TEMPLATES: [&[(&str, &str)]; 4] = [
    &[
        ("e", r#""bookTicker""#),
        ("u", "400900217"),
        ("s", r#""BNBUSDT""#),
        ("b", r#""25.35190000""#),
        ("B", r#""31.21""#),
        ("a", r#""25.3652""#),
        ("A", r#""40.66""#),
        ("T", "1568014460891"),
        ("E", "1568014460893"),
    ],
    &[
        ("e", r#""trade""#),
        ("E", "1723161256322"),
        ("T", "1723161256322"),
        ("s", r#""BTCUSDT""#),
        ("t", "5266583935"),
        ("p", r#""61800.30""#),
        ("q", r#""0.006""#),
        ("X", r#""MARKET""#),
        ("m", "false"),
    ],
    &[
        ("e", r#""aggTrade""#),
        ("E", "1"),
        ("s", r#""CTKUSDT""#),
        ("a", "16599292"),
        ("p", r#""1.01100""#),
        ("q", r#""10""#),
        ("nq", r#""8""#),
        ("f", "23961322"),
        ("l", "23961323"),
        ("T", "1626992741421"),
        ("m", "true"),
    ],
    &[
        ("e", r#""depthUpdate""#),
        ("E", "1123"),
        ("T", "1122"),
        ("s", r#""BTCUSDT""#),
        ("U", "157"),
        ("u", "160"),
        ("pu", "149"),
        ("b", r#"[["0.0024","10"],["0.0023","0"]]"#),
        ("a", r#"[["0.0026","100"]]"#),
    ],
];

/// What happens to one template field.
#[derive(Debug, Clone)]
enum Change {
    Keep,
    Drop,
    Replace(String),
}

/// A covered event from its template with a few fields dropped or given another value, an
/// unknown key or two, sometimes reordered, bare or in the envelope.
fn templated_event() -> impl Strategy<Value = String> {
    let change = prop_oneof![
        12 => Just(Change::Keep),
        1 => Just(Change::Drop),
        1 => prop_oneof![value(), levels()].prop_map(Change::Replace),
    ];
    let extra = ("[a-z]{1,3}", value()).prop_map(|(k, v)| format!("\"{k}\":{v}"));
    (
        prop::sample::select(TEMPLATES.to_vec()),
        prop::collection::vec(change, 11),
        prop::collection::vec(extra, 0..3),
        0..4u8,
        any::<bool>(),
    )
        .prop_map(|(fields, changes, extras, order, envelope)| {
            let mut body: Vec<String> = fields
                .iter()
                .zip(changes)
                .filter_map(|(&(k, v), change)| match change {
                    Change::Keep => Some(format!("\"{k}\":{v}")),
                    Change::Drop => None,
                    Change::Replace(other) => Some(format!("\"{k}\":{other}")),
                })
                .collect();
            body.extend(extras);
            match order {
                0 => body.reverse(),
                1 => body.rotate_left(1),
                _ => {}
            }
            wrap(&body, envelope)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        parse_every_way(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        parse_every_way(&text);
    }

    #[test]
    fn mutated_real_messages_never_panic_and_both_paths_agree(
        index in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let sample = index.get(&SAMPLES);
        parse_every_way(&apply(sample, &edits));
    }

    #[test]
    fn objects_of_binance_keys_in_any_order_parse_the_same_every_way(object in event_object()) {
        parse_every_way(&object);
    }

    #[test]
    fn covered_events_with_a_few_changes_parse_the_same_every_way(event in templated_event()) {
        parse_every_way(&event);
    }
}

#[test]
fn every_sample_parses_unmutated() {
    let mut parser = MarketParser::new();
    for sample in SAMPLES.iter() {
        assert!(
            parser.parse(sample, ReceiveTime::default()).is_ok(),
            "{sample}"
        );
        parse_every_way(sample);
    }
}
