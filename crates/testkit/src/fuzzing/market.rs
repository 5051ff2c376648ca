//! The venue's parsers of Binance text: market-stream frames, REST depth snapshots and
//! exchangeInfo bodies (`kestrel_venue::binance`).

use std::fmt::Debug;

use kestrel_model::book::Level;
use kestrel_model::{Money, Price, Qty, Rate};
use kestrel_venue::binance::market::{DepthSnapshot, MarketEvent, MarketFrame, ReceiveTime};
use kestrel_venue::binance::{JsonLib, MarketParser, ParseError, parse_exchange_info};
use serde_json::{Map, Value};

use super::frames::frame_text;
use super::{has_duplicate_keys, shown, text};

/// The receive time every frame is parsed with.
const RECV: ReceiveTime = ReceiveTime::new(7, 11);

/// What a used parser has seen before the input: levels in every level list (stream `b`/`a`,
/// REST `bids`/`asks`), and an error whose message needed unescaping.
const WARM_UP: [&str; 3] = [
    r#"{"e":"depthUpdate","E":1,"T":1,"s":"WARMUSDT","U":1,"u":2,"pu":0,"b":[["1","1"],["2","2"]],"a":[["3","3"],["4","4"]]}"#,
    r#"{"lastUpdateId":9,"bids":[["5","5"],["6","6"]],"asks":[["7","7"],["8","8"]]}"#,
    r#"{"code":-1,"msg":"warm \"up\"","id":3}"#,
];

/// `MarketParser::parse` on one frame (the input as text, or the frame its recipe builds: see
/// `frames.rs`), every way it can run (sonic-rs and serde_json; the fast paths, byte scanner
/// then serde pass, and the general walk; a fresh parser and one that has parsed other
/// frames): the ways agree, an event holds only values in range, and its fields are what an
/// independent `serde_json` reading of the frame finds.
pub fn market_frame(data: &[u8]) {
    let Some(frame) = frame_text(data) else {
        return;
    };
    let frame: &str = &frame;
    let mut events = Vec::with_capacity(2);
    for json in JsonLib::ALL {
        let mut fast = MarketParser::with_capacity(4).with_json_lib(json);
        let mut general = fast.clone();
        let mut used = warmed(json);
        let result = fast.parse(frame, RECV);
        let walked = general.parse_general(frame, RECV);
        assert_same(
            &result,
            &walked,
            frame,
            "the fast path and the general walk",
        );
        assert_same(
            &result,
            &used.parse(frame, RECV),
            frame,
            "a fresh and a used parser",
        );
        match &result {
            Ok(parsed) => {
                check_frame(parsed, frame);
                events.push(format!("{parsed:?}"));
            }
            Err(error) => check_error(error),
        }
    }
    if let [sonic, serde] = events.as_slice() {
        assert_eq!(
            sonic,
            serde,
            "the JSON libraries disagree on {}",
            shown(frame)
        );
    }
}

/// `MarketParser::parse_depth_snapshot` on one body: as [`market_frame`], and it returns the
/// snapshot exactly when `parse` finds one.
pub fn depth_snapshot(data: &[u8]) {
    let Some(body) = frame_text(data) else {
        return;
    };
    let body: &str = &body;
    let mut snapshots = Vec::with_capacity(2);
    for json in JsonLib::ALL {
        let mut parser = MarketParser::with_capacity(4).with_json_lib(json);
        let mut framed = parser.clone();
        let mut used = warmed(json);
        let result = parser.parse_depth_snapshot(body);
        let again = used.parse_depth_snapshot(body);
        assert_same(&result, &again, body, "a fresh and a used parser");
        match (&result, framed.parse(body, RECV)) {
            (Ok(snapshot), Ok(frame)) => {
                assert_eq!(
                    frame.event,
                    MarketEvent::Snapshot(*snapshot),
                    "parse and parse_depth_snapshot disagree on {}",
                    shown(body)
                );
            }
            (Err(error), Ok(frame)) => {
                assert_eq!(error.kind(), "unknown_event", "{error} on {}", shown(body));
                assert!(
                    !matches!(frame.event, MarketEvent::Snapshot(_)),
                    "{error}, but parse finds a snapshot in {}",
                    shown(body)
                );
            }
            (snapshot, Err(error)) => {
                let snapshot = snapshot.as_ref().map(|_| ()).map_err(Clone::clone);
                assert_same(
                    &snapshot,
                    &Err(error),
                    body,
                    "parse and parse_depth_snapshot",
                );
            }
        }
        match &result {
            Ok(snapshot) => {
                check_snapshot(snapshot);
                if let Some(object) = event_object(body) {
                    oracle_snapshot(&Oracle(object), snapshot, body);
                }
                snapshots.push(format!("{snapshot:?}"));
            }
            Err(error) => check_error(error),
        }
    }
    if let [sonic, serde] = snapshots.as_slice() {
        assert_eq!(
            sonic,
            serde,
            "the JSON libraries disagree on {}",
            shown(body)
        );
    }
}

/// `parse_exchange_info` on one body: every entry of `symbols` is either kept or skipped, in
/// the venue's order, with the outcome it has when listed alone (one odd listing must not
/// change another's); every filter value is non-negative and re-parses from its display.
pub fn exchange_info(data: &[u8]) {
    let Some(body) = text(data) else {
        return;
    };
    let info = match parse_exchange_info(body) {
        Ok(info) => info,
        Err(error) => return check_error(&error),
    };
    let value: Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("accepted, but serde_json says {e}: {}", shown(body)));
    let listed = value
        .get("symbols")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("accepted without a `symbols` array: {}", shown(body)));
    assert_eq!(
        info.symbols.len() + info.skipped.len(),
        listed.len(),
        "symbols kept + skipped != symbols listed in {}",
        shown(body)
    );
    let (mut kept, mut skipped) = (Vec::new(), Vec::new());
    for entry in listed {
        let alone = format!(r#"{{"symbols":[{entry}]}}"#);
        let one = parse_exchange_info(&alone).expect("a one-symbol body parses");
        let named = entry.get("symbol").and_then(Value::as_str).is_some();
        kept.extend(one.symbols);
        skipped.extend(one.skipped.into_iter().map(|skip| named.then_some(skip)));
    }
    assert_eq!(info.symbols, kept, "kept symbols in {}", shown(body));
    for (skip, alone) in info.skipped.iter().zip(&skipped) {
        // A nameless entry is named by its index, which differs when it is listed alone.
        if let Some(alone) = alone {
            assert_eq!(skip, alone, "skipped symbols in {}", shown(body));
        }
        assert!(!skip.reason.to_string().is_empty());
    }
    for symbol in &info.symbols {
        let i = &symbol.instrument;
        let prices = [
            i.price_filter.min_price,
            i.price_filter.max_price,
            i.price_filter.tick_size,
        ];
        let qtys = [
            i.lot_size.min_qty,
            i.lot_size.max_qty,
            i.lot_size.step_size,
            i.market_lot_size.min_qty,
            i.market_lot_size.max_qty,
            i.market_lot_size.step_size,
        ];
        prices
            .iter()
            .for_each(|p| in_range(*p, Price::parse, "a filter price"));
        qtys.iter()
            .for_each(|q| in_range(*q, Qty::parse, "a filter qty"));
        in_range(i.min_notional, Money::parse, "the minimum notional");
        if let Some(band) = i.percent_price {
            in_range(band.multiplier_up, Rate::parse, "multiplierUp");
            in_range(band.multiplier_down, Rate::parse, "multiplierDown");
        }
    }
}

thread_local! {
    /// One parser per JSON library that has parsed [`WARM_UP`], built once per thread.
    static WARMED: [MarketParser; 2] = JsonLib::ALL.map(|json| {
        let mut parser = MarketParser::with_capacity(4).with_json_lib(json);
        for frame in WARM_UP {
            assert!(parser.parse(frame, RECV).is_ok(), "warm-up frame {frame}");
        }
        parser
    });
}

/// A parser of `json` that has parsed [`WARM_UP`] (a copy: every input meets the same state,
/// so a finding replays).
fn warmed(json: JsonLib) -> MarketParser {
    let index = usize::from(json != JsonLib::ALL[0]);
    WARMED.with(|parsers| parsers[index].clone())
}

/// Asserts two outcomes are the same; `invalid_json` messages may word the library's error
/// differently, so for them only the kind is compared.
fn assert_same<T: PartialEq + Debug>(
    a: &Result<T, ParseError>,
    b: &Result<T, ParseError>,
    text: &str,
    ways: &str,
) {
    match (a, b) {
        (Err(x), Err(y)) if x.kind() == "invalid_json" => {
            assert_eq!(x.kind(), y.kind(), "{ways} disagree on {}", shown(text));
        }
        _ => assert_eq!(a, b, "{ways} disagree on {}", shown(text)),
    }
}

/// An error has a documented kind and a message.
fn check_error(error: &ParseError) {
    assert!(ParseError::KINDS.contains(&error.kind()), "{error:?}");
    assert!(!error.to_string().is_empty(), "{error:?}");
}

/// A parsed frame: strings borrowed from it, values in range, fields as `serde_json` reads them.
fn check_frame(parsed: &MarketFrame<'_>, frame: &str) {
    if let Some(stream) = parsed.stream {
        within(stream, frame);
    }
    match &parsed.event {
        MarketEvent::Depth(depth) => {
            within(depth.symbol, frame);
            check_levels(depth.diff.bids);
            check_levels(depth.diff.asks);
        }
        MarketEvent::BookTicker(ticker) => {
            within(ticker.symbol, frame);
            for level in [ticker.bid, ticker.ask] {
                in_range(level.price, Price::parse, "a best price");
                in_range(level.qty, Qty::parse, "a best qty");
            }
        }
        MarketEvent::Trade(trade) => {
            within(trade.symbol, frame);
            in_range(trade.price, Price::parse, "a trade price");
            in_range(trade.qty, Qty::parse, "a trade qty");
        }
        MarketEvent::AggTrade(trade) => {
            within(trade.symbol, frame);
            in_range(trade.price, Price::parse, "a trade price");
            in_range(trade.qty, Qty::parse, "a trade qty");
            if let Some(nq) = trade.non_rpi_qty {
                in_range(nq, Qty::parse, "a non-RPI qty");
            }
        }
        MarketEvent::MarkPrice(mark) => {
            within(mark.symbol, frame);
            let prices = [
                mark.mark_price,
                mark.index_price,
                mark.estimated_settle_price,
            ];
            let average = mark.mark_price_avg;
            for price in prices.into_iter().chain(average) {
                in_range(price, Price::parse, "a mark, index or settle price");
            }
            if let Some(rate) = mark.funding_rate {
                assert_eq!(Rate::parse(&rate.to_string()), Ok(rate));
            }
        }
        MarketEvent::Snapshot(snapshot) => check_snapshot(snapshot),
        MarketEvent::Reply(_) | MarketEvent::VenueError(_) | MarketEvent::Other(_) => {}
    }
    if let Some(object) = event_object(frame) {
        oracle_event(&Oracle(object), &parsed.event, frame);
    }
}

fn check_snapshot(snapshot: &DepthSnapshot<'_>) {
    check_levels(snapshot.bids);
    check_levels(snapshot.asks);
}

/// Depth levels: a positive price and a quantity that is not negative (zero deletes, §6.2).
fn check_levels(levels: &[Level]) {
    for level in levels {
        assert!(level.price.is_positive(), "level price {}", level.price);
        assert!(!level.qty.is_negative(), "level qty {}", level.qty);
        in_range(level.price, Price::parse, "a level price");
        in_range(level.qty, Qty::parse, "a level qty");
    }
}

/// A price, quantity or amount parsed from outside text is not negative and its display
/// parses back to it exactly.
fn in_range<T>(value: T, parse: fn(&str) -> Result<T, kestrel_model::MoneyError>, what: &str)
where
    T: Copy + Default + Ord + Debug + std::fmt::Display,
{
    assert!(value >= T::default(), "{what} is negative: {value}");
    let shown = value.to_string();
    assert_eq!(
        parse(&shown),
        Ok(value),
        "{what} {value:?} displays as {shown:?}"
    );
}

/// `part` is borrowed from `whole` (an event's strings are slices of the frame).
fn within(part: &str, whole: &str) {
    let range = whole.as_bytes().as_ptr_range();
    let start = part.as_ptr();
    let inside = range.start <= start && start.wrapping_add(part.len()) <= range.end;
    assert!(inside, "{part:?} is not a slice of the frame");
}

/// The event object of a frame without duplicate keys, as `serde_json` reads it: the
/// envelope's `data` when the frame is an envelope and nothing more, else the frame itself;
/// `None` when there is no such object to compare with.
fn event_object(frame: &str) -> Option<Map<String, Value>> {
    if has_duplicate_keys(frame) {
        return None;
    }
    let Ok(Value::Object(mut top)) = serde_json::from_str(frame) else {
        return None;
    };
    match top.remove("data") {
        None => Some(top),
        Some(Value::Object(data)) if top.keys().all(|key| key == "stream") => Some(data),
        Some(_) => None,
    }
}

/// An event object read with `serde_json`, the reference the parsed fields are held to.
struct Oracle(Map<String, Value>);

impl Oracle {
    fn int(&self, key: &str) -> Option<u64> {
        self.0.get(key).and_then(Value::as_u64)
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }

    fn flag(&self, key: &str) -> Option<bool> {
        self.0.get(key).and_then(Value::as_bool)
    }

    /// Absent and `null` are both "not given".
    fn given(&self, key: &str) -> bool {
        !matches!(self.0.get(key), None | Some(Value::Null))
    }

    fn opt_int(&self, key: &str) -> Option<Option<u64>> {
        if self.given(key) {
            self.int(key).map(Some)
        } else {
            Some(None)
        }
    }

    fn decimal<T>(
        &self,
        key: &str,
        parse: fn(&str) -> Result<T, kestrel_model::MoneyError>,
    ) -> Option<T> {
        self.text(key).and_then(|text| parse(text).ok())
    }

    fn opt_decimal<T>(
        &self,
        key: &str,
        parse: fn(&str) -> Result<T, kestrel_model::MoneyError>,
    ) -> Option<Option<T>> {
        if self.given(key) {
            self.decimal(key, parse).map(Some)
        } else {
            Some(None)
        }
    }

    /// A level list: `[[price, qty], ...]` with both as decimal strings.
    fn levels(&self, key: &str) -> Option<Vec<Level>> {
        let pairs = self.0.get(key)?.as_array()?;
        pairs
            .iter()
            .map(|pair| match pair.as_array()?.as_slice() {
                [Value::String(price), Value::String(qty)] => {
                    Some(Level::new(Price::parse(price).ok()?, Qty::parse(qty).ok()?))
                }
                _ => None,
            })
            .collect()
    }
}

/// Asserts a parsed field equals the oracle's reading of it.
macro_rules! same {
    ($frame:expr, $key:literal, $parsed:expr, $oracle:expr) => {
        assert_eq!(
            Some($parsed),
            $oracle,
            "field `{}` differs from serde_json's reading of {}",
            $key,
            shown($frame)
        )
    };
}

/// The parsed event's fields against the oracle, for the events that carry values.
fn oracle_event(o: &Oracle, event: &MarketEvent<'_>, frame: &str) {
    match event {
        MarketEvent::Depth(d) => {
            same!(frame, "e", "depthUpdate", o.text("e"));
            same!(frame, "s", d.symbol, o.text("s"));
            same!(frame, "E", d.times.event_ms, o.int("E"));
            same!(frame, "T", d.times.transaction_ms, o.int("T"));
            same!(frame, "U", d.diff.first_update_id, o.int("U"));
            same!(frame, "u", d.diff.final_update_id, o.int("u"));
            same!(frame, "pu", d.diff.prev_final_update_id, o.opt_int("pu"));
            same!(frame, "b", d.diff.bids.to_vec(), o.levels("b"));
            same!(frame, "a", d.diff.asks.to_vec(), o.levels("a"));
        }
        MarketEvent::BookTicker(t) => {
            same!(frame, "e", "bookTicker", o.text("e"));
            same!(frame, "s", t.symbol, o.text("s"));
            same!(frame, "u", t.update_id, o.int("u"));
            same!(frame, "E", t.times.event_ms, o.int("E"));
            same!(frame, "T", t.times.transaction_ms, o.int("T"));
            same!(frame, "b", t.bid.price, o.decimal("b", Price::parse));
            same!(frame, "B", t.bid.qty, o.decimal("B", Qty::parse));
            same!(frame, "a", t.ask.price, o.decimal("a", Price::parse));
            same!(frame, "A", t.ask.qty, o.decimal("A", Qty::parse));
        }
        MarketEvent::Trade(t) => {
            same!(frame, "e", "trade", o.text("e"));
            same!(frame, "s", t.symbol, o.text("s"));
            same!(frame, "t", t.trade_id, o.int("t"));
            same!(frame, "E", t.times.event_ms, o.int("E"));
            same!(frame, "T", t.times.transaction_ms, o.int("T"));
            same!(frame, "p", t.price, o.decimal("p", Price::parse));
            same!(frame, "q", t.qty, o.decimal("q", Qty::parse));
            same!(frame, "m", t.buyer_is_maker, o.flag("m"));
            let trade_type = if o.given("X") {
                o.text("X").map(Some)
            } else {
                Some(None)
            };
            same!(frame, "X", t.trade_type, trade_type);
        }
        MarketEvent::AggTrade(t) => {
            same!(frame, "e", "aggTrade", o.text("e"));
            same!(frame, "s", t.symbol, o.text("s"));
            same!(frame, "a", t.agg_trade_id, o.int("a"));
            same!(frame, "f", t.first_trade_id, o.int("f"));
            same!(frame, "l", t.last_trade_id, o.int("l"));
            same!(frame, "E", t.times.event_ms, o.int("E"));
            same!(frame, "T", t.times.transaction_ms, o.int("T"));
            same!(frame, "p", t.price, o.decimal("p", Price::parse));
            same!(frame, "q", t.qty, o.decimal("q", Qty::parse));
            same!(frame, "nq", t.non_rpi_qty, o.opt_decimal("nq", Qty::parse));
            same!(frame, "m", t.buyer_is_maker, o.flag("m"));
        }
        MarketEvent::MarkPrice(m) => {
            same!(frame, "e", "markPriceUpdate", o.text("e"));
            same!(frame, "s", m.symbol, o.text("s"));
            same!(frame, "E", m.event_ms, o.int("E"));
            same!(frame, "T", m.next_funding_ms, o.int("T"));
            same!(frame, "p", m.mark_price, o.decimal("p", Price::parse));
            same!(frame, "i", m.index_price, o.decimal("i", Price::parse));
            same!(
                frame,
                "P",
                m.estimated_settle_price,
                o.decimal("P", Price::parse)
            );
            same!(
                frame,
                "ap",
                m.mark_price_avg,
                o.opt_decimal("ap", Price::parse)
            );
            let funding = match o.text("r") {
                Some("") => Some(None),
                _ => o.decimal("r", Rate::parse).map(Some),
            };
            same!(frame, "r", m.funding_rate, funding);
        }
        MarketEvent::Snapshot(s) => oracle_snapshot(o, s, frame),
        MarketEvent::Reply(_) | MarketEvent::VenueError(_) | MarketEvent::Other(_) => {}
    }
}

fn oracle_snapshot(o: &Oracle, s: &DepthSnapshot<'_>, body: &str) {
    same!(
        body,
        "lastUpdateId",
        s.last_update_id,
        o.int("lastUpdateId")
    );
    same!(body, "E", s.event_ms, o.opt_int("E"));
    same!(body, "T", s.transaction_ms, o.opt_int("T"));
    same!(body, "bids", s.bids.to_vec(), o.levels("bids"));
    same!(body, "asks", s.asks.to_vec(), o.levels("asks"));
}
