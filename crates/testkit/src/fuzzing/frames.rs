//! Structure-aware input for the frame targets: bytes that are not UTF-8 and start with
//! `0xFF` (which a text target would otherwise skip) are read as a recipe for a Binance-shaped
//! frame: a real event's fields, some dropped, some given another value, extra keys the
//! parser knows from other messages, any order, bare or in the envelope. Byte mutations of
//! text rarely build such frames; a recipe reaches them in a few steps, and the fuzzer's
//! findings stay replayable bytes.

use std::borrow::Cow;

/// The byte that marks a recipe (never the first byte of UTF-8 text).
const RECIPE: u8 = 0xFF;

/// Every field of each event the parser normalises, with valid values (`e` first).
const TEMPLATES: [&[(&str, &str)]; 6] = [
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
    &[
        ("e", r#""bookTicker""#),
        ("u", "400900217"),
        ("E", "1568014460893"),
        ("T", "1568014460891"),
        ("s", r#""BNBUSDT""#),
        ("b", r#""25.35190000""#),
        ("B", r#""31.21""#),
        ("a", r#""25.3652""#),
        ("A", r#""40.66""#),
    ],
    &[
        ("e", r#""trade""#),
        ("E", "1723161256322"),
        ("T", "1723161256321"),
        ("s", r#""BTCUSDT""#),
        ("t", "5266583935"),
        ("p", r#""61800.30""#),
        ("q", r#""0.006""#),
        ("X", r#""MARKET""#),
        ("m", "true"),
    ],
    &[
        ("e", r#""aggTrade""#),
        ("E", "123456789"),
        ("s", r#""BTCUSDT""#),
        ("a", "5933014"),
        ("p", r#""0.001""#),
        ("q", r#""100""#),
        ("nq", r#""80""#),
        ("f", "100"),
        ("l", "105"),
        ("T", "123456785"),
        ("m", "true"),
    ],
    &[
        ("e", r#""markPriceUpdate""#),
        ("E", "1562305380000"),
        ("s", r#""BTCUSDT""#),
        ("p", r#""11794.15000000""#),
        ("ap", r#""11794.10000000""#),
        ("i", r#""11784.62659091""#),
        ("P", r#""11784.25641265""#),
        ("r", r#""-0.00038167""#),
        ("T", "1562306400000"),
    ],
    &[
        ("lastUpdateId", "1027024"),
        ("E", "1589436922972"),
        ("T", "1589436922959"),
        ("bids", r#"[["4.00000000","431.00000000"]]"#),
        ("asks", r#"[["4.00000200","12.00000000"]]"#),
    ],
];

/// Every key the market parser knows, and one it does not (`zz`): the keys a fuzzed or
/// generated Binance frame is built from (also by `kestrel-venue`'s property tests).
pub const FRAME_KEYS: [&str; 34] = [
    "e",
    "E",
    "T",
    "s",
    "U",
    "u",
    "pu",
    "b",
    "a",
    "B",
    "A",
    "t",
    "p",
    "q",
    "m",
    "X",
    "f",
    "l",
    "nq",
    "i",
    "P",
    "r",
    "ap",
    "lastUpdateId",
    "bids",
    "asks",
    "id",
    "result",
    "code",
    "msg",
    "stream",
    "data",
    "error",
    "zz",
];

/// Decimal strings: plain, unusual and refused ones.
const DECIMALS: [&str; 14] = [
    "0",
    "1",
    "0.0024",
    "10",
    "61800.20",
    "0.00000001",
    "-1",
    "1e5",
    "0.000000001",
    "92233720368.54775807",
    "92233720368.54775808",
    "1.",
    "",
    "x",
];

/// Other values a field may be given.
const SCALARS: [&str; 14] = [
    "null",
    "true",
    "false",
    "0",
    "157",
    "-3",
    "1.5",
    "18446744073709551615",
    "18446744073709551616",
    r#""BTCUSDT""#,
    r#""""#,
    r#""btcusdt@depth5""#,
    r#""a\"b""#,
    "{}",
];

/// Stream names for the envelope.
const STREAMS: [&str; 4] = [
    "btcusdt@depth@0ms",
    "btcusdt@depth20@100ms",
    "btcusdt@bookTicker",
    "!markPrice@arr",
];

/// The frame text of `data`: itself when it is UTF-8, the frame its recipe builds when it
/// starts with `0xFF`, `None` otherwise.
pub(super) fn frame_text(data: &[u8]) -> Option<Cow<'_, str>> {
    match std::str::from_utf8(data) {
        Ok(text) => Some(Cow::Borrowed(text)),
        Err(_) => match data.split_first() {
            Some((&RECIPE, recipe)) => Some(Cow::Owned(build(&mut Recipe(recipe)))),
            _ => None,
        },
    }
}

/// The recipe's bytes, read one choice at a time (zeros once they run out).
struct Recipe<'a>(&'a [u8]);

impl Recipe<'_> {
    fn byte(&mut self) -> u8 {
        let (&first, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        first
    }

    fn pick<T: Copy>(&mut self, options: &[T]) -> T {
        options[usize::from(self.byte()) % options.len()]
    }
}

/// A frame from a recipe: template, per-field changes, extra entries, order, envelope.
fn build(recipe: &mut Recipe<'_>) -> String {
    let template = recipe.pick(&TEMPLATES);
    let mut entries = Vec::with_capacity(template.len() + 4);
    for &(key, value) in template {
        match recipe.byte() % 16 {
            0 => {}
            1 => entries.push(format!(r#""{key}":{}"#, value_of(recipe, 0))),
            _ => entries.push(format!(r#""{key}":{value}"#)),
        }
    }
    for _ in 0..recipe.byte() % 4 {
        let key = recipe.pick(&FRAME_KEYS);
        entries.push(format!(r#""{key}":{}"#, value_of(recipe, 0)));
    }
    let shape = recipe.byte();
    if !entries.is_empty() {
        let turn = usize::from(shape >> 2) % entries.len();
        entries.rotate_left(turn);
    }
    let object = format!("{{{}}}", entries.join(","));
    if shape & 1 == 0 {
        object
    } else {
        let stream = recipe.pick(&STREAMS);
        format!(r#"{{"stream":"{stream}","data":{object}}}"#)
    }
}

/// One value: a level list, a decimal string, a scalar, or (shallowly) an array or object.
fn value_of(recipe: &mut Recipe<'_>, depth: u8) -> String {
    match recipe.byte() % 5 {
        0 => {
            let pairs: Vec<String> = (0..recipe.byte() % 4)
                .map(|_| level_of(recipe, depth))
                .collect();
            format!("[{}]", pairs.join(","))
        }
        1 => format!(r#""{}""#, recipe.pick(&DECIMALS)),
        2 | 3 => recipe.pick(&SCALARS).to_owned(),
        _ if depth < 2 => {
            let key = recipe.pick(&FRAME_KEYS);
            format!(r#"{{"{key}":{}}}"#, value_of(recipe, depth + 1))
        }
        _ => "[]".to_owned(),
    }
}

/// One element of a level list: mostly a `[price, qty]` pair of decimal strings.
fn level_of(recipe: &mut Recipe<'_>, depth: u8) -> String {
    if recipe.byte().is_multiple_of(8) && depth < 2 {
        return value_of(recipe, depth + 1);
    }
    let price = recipe.pick(&DECIMALS);
    let qty = recipe.pick(&DECIMALS);
    format!(r#"["{price}","{qty}"]"#)
}
