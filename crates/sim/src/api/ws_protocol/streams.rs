//! Stream names: `<symbol>@<kind>[@<speed>]`, `!<kind>@arr`, and listenKeys
//! (`../shared/binance-futures.md` §1.1, §1.2, §6, §8.1).

use std::fmt;

/// The length of a listenKey (§3.6); the simulator must mint keys of this shape.
pub const LISTEN_KEY_LEN: usize = 64;
/// The longest symbol accepted in a stream name.
const MAX_SYMBOL_LEN: usize = 32;

/// A stream name that is neither a known market stream nor a listenKey.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid stream name {0:?}")]
pub struct StreamError(pub String);

/// Which routed path a stream is served on (§1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Route {
    /// No route prefix (`/ws`, `/stream`): legacy URLs.
    Unrouted,
    /// `/public`: the high-frequency book feeds (and `@trade`, as ccxt routes it).
    Public,
    /// `/market`: every other public stream.
    Market,
    /// `/private`: user-data streams.
    Private,
}

impl Route {
    /// Whether Binance delivers `stream` on a connection with this route (§1.1): `/public`
    /// and unrouted connections get the book feeds, `/market` the rest, `/private` user
    /// data; unrouted connections also get user data (the legacy `/ws/<listenKey>`, §8.1).
    /// The simulator may choose to be more lenient than this.
    #[must_use]
    pub fn carries(self, stream: &Stream) -> bool {
        match (self, stream) {
            (Self::Private | Self::Unrouted, Stream::UserData(_)) => true,
            (Self::Public | Self::Unrouted, Stream::Market(spec)) => spec.route() == Self::Public,
            (Self::Market, Stream::Market(spec)) => spec.route() == Self::Market,
            _ => false,
        }
    }
}

/// An update speed suffix (`@0ms`, `@100ms`, `@250ms`, `@500ms`; §6.2, §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UpdateSpeed {
    /// `@0ms`: every update.
    Ms0,
    /// `@100ms`.
    Ms100,
    /// `@250ms` (the default cadence of depth streams).
    Ms250,
    /// `@500ms`.
    Ms500,
}

impl UpdateSpeed {
    const ALL: [(&'static str, Self); 4] = [
        ("0ms", Self::Ms0),
        ("100ms", Self::Ms100),
        ("250ms", Self::Ms250),
        ("500ms", Self::Ms500),
    ];

    /// The suffix text without `@`, e.g. `100ms`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, speed)| *speed == self)
            .map_or("", |(name, _)| name)
    }

    /// The cadence in milliseconds (0 = every update).
    #[must_use]
    pub const fn millis(self) -> u64 {
        match self {
            Self::Ms0 => 0,
            Self::Ms100 => 100,
            Self::Ms250 => 250,
            Self::Ms500 => 500,
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(name, _)| *name == text)
            .map(|(_, speed)| *speed)
    }
}

/// A kline interval (§3.2): `1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KlineInterval {
    /// `1m`.
    M1,
    /// `3m`.
    M3,
    /// `5m`.
    M5,
    /// `15m`.
    M15,
    /// `30m`.
    M30,
    /// `1h`.
    H1,
    /// `2h`.
    H2,
    /// `4h`.
    H4,
    /// `6h`.
    H6,
    /// `8h`.
    H8,
    /// `12h`.
    H12,
    /// `1d`.
    D1,
    /// `3d`.
    D3,
    /// `1w`.
    W1,
    /// `1M` (one calendar month).
    Month1,
}

impl KlineInterval {
    /// Every interval with its spelling and length in minutes (0 for the calendar month).
    const ALL: [(&'static str, Self, u64); 15] = [
        ("1m", Self::M1, 1),
        ("3m", Self::M3, 3),
        ("5m", Self::M5, 5),
        ("15m", Self::M15, 15),
        ("30m", Self::M30, 30),
        ("1h", Self::H1, 60),
        ("2h", Self::H2, 120),
        ("4h", Self::H4, 240),
        ("6h", Self::H6, 360),
        ("8h", Self::H8, 480),
        ("12h", Self::H12, 720),
        ("1d", Self::D1, 1_440),
        ("3d", Self::D3, 4_320),
        ("1w", Self::W1, 10_080),
        ("1M", Self::Month1, 0),
    ];

    /// The interval spelled `text` (case-sensitive: `1m` is a minute, `1M` a month).
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(name, _, _)| *name == text)
            .map(|(_, interval, _)| *interval)
    }

    /// Binance's spelling, e.g. `15m`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, interval, _)| *interval == self)
            .map_or("", |(name, _, _)| name)
    }

    /// The fixed length in milliseconds; `None` for `1M`, whose length varies.
    #[must_use]
    pub fn duration_ms(self) -> Option<u64> {
        Self::ALL
            .iter()
            .find(|(_, interval, _)| *interval == self)
            .map(|(_, _, minutes)| minutes * 60_000)
            .filter(|ms| *ms > 0)
    }
}

/// A market stream (§6), with its symbol lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StreamSpec {
    /// `<symbol>@depth[@0ms|@100ms|@250ms|@500ms]`: diff depth (§6.2).
    Depth {
        /// Lower-case symbol.
        symbol: String,
        /// The speed suffix, `None` when absent (250 ms).
        speed: Option<UpdateSpeed>,
    },
    /// `<symbol>@depth<5|10|20>[@100ms|@500ms]`: top-N snapshots (§6.3).
    PartialDepth {
        /// Lower-case symbol.
        symbol: String,
        /// 5, 10 or 20 levels.
        levels: u8,
        /// The speed suffix, `None` when absent (250 ms).
        speed: Option<UpdateSpeed>,
    },
    /// `<symbol>@aggTrade` (§6.4).
    AggTrade {
        /// Lower-case symbol.
        symbol: String,
    },
    /// `<symbol>@trade` (§6.5).
    Trade {
        /// Lower-case symbol.
        symbol: String,
    },
    /// `<symbol>@bookTicker` (§6.6).
    BookTicker {
        /// Lower-case symbol.
        symbol: String,
    },
    /// `<symbol>@markPrice[@1s]` (§6.7).
    MarkPrice {
        /// Lower-case symbol.
        symbol: String,
        /// `@1s` instead of every 3 s.
        every_second: bool,
    },
    /// `<symbol>@kline_<interval>` (§6.8).
    Kline {
        /// Lower-case symbol.
        symbol: String,
        /// The bar interval.
        interval: KlineInterval,
    },
    /// `<symbol>@forceOrder` (§6.9).
    ForceOrder {
        /// Lower-case symbol.
        symbol: String,
    },
    /// `<symbol>@ticker` (§6.10).
    Ticker {
        /// Lower-case symbol.
        symbol: String,
    },
    /// `<symbol>@miniTicker` (§6.10).
    MiniTicker {
        /// Lower-case symbol.
        symbol: String,
    },
    /// `!bookTicker`: every symbol's book ticker (§6.6).
    AllBookTicker,
    /// `!markPrice@arr[@1s]`: every symbol's mark price (§6.7).
    AllMarkPrice {
        /// `@1s` instead of every 3 s.
        every_second: bool,
    },
    /// `!forceOrder@arr`: every liquidation (§6.9).
    AllForceOrder,
    /// `!ticker@arr` (§6.10).
    AllTicker,
    /// `!miniTicker@arr` (§6.10).
    AllMiniTicker,
}

impl StreamSpec {
    /// Parses a market stream name; the symbol may be in any case and is lower-cased, the
    /// rest is case-sensitive (`aggTrade`, not `aggtrade`).
    ///
    /// # Errors
    /// [`StreamError`] for anything not listed in §1.1/§6.
    pub fn parse(name: &str) -> Result<Self, StreamError> {
        let invalid = || StreamError(name.to_owned());
        if let Some(all) = name.strip_prefix('!') {
            return parse_all_market(all).ok_or_else(invalid);
        }
        let (symbol, kind) = name.split_once('@').ok_or_else(invalid)?;
        let valid_symbol = (1..=MAX_SYMBOL_LEN).contains(&symbol.len())
            && symbol.bytes().all(|byte| byte.is_ascii_alphanumeric());
        if !valid_symbol {
            return Err(invalid());
        }
        parse_symbol_stream(symbol.to_ascii_lowercase(), kind).ok_or_else(invalid)
    }

    /// The stream's symbol (lower case), `None` for `!…` streams.
    #[must_use]
    pub fn symbol(&self) -> Option<&str> {
        match self {
            Self::Depth { symbol, .. }
            | Self::PartialDepth { symbol, .. }
            | Self::AggTrade { symbol }
            | Self::Trade { symbol }
            | Self::BookTicker { symbol }
            | Self::MarkPrice { symbol, .. }
            | Self::Kline { symbol, .. }
            | Self::ForceOrder { symbol }
            | Self::Ticker { symbol }
            | Self::MiniTicker { symbol } => Some(symbol),
            Self::AllBookTicker
            | Self::AllMarkPrice { .. }
            | Self::AllForceOrder
            | Self::AllTicker
            | Self::AllMiniTicker => None,
        }
    }

    /// The routed path that serves this stream (§1.1).
    #[must_use]
    pub const fn route(&self) -> Route {
        match self {
            Self::Depth { .. }
            | Self::PartialDepth { .. }
            | Self::BookTicker { .. }
            | Self::AllBookTicker
            | Self::Trade { .. } => Route::Public,
            _ => Route::Market,
        }
    }
}

/// `!bookTicker`, `!markPrice@arr[@1s]`, `!forceOrder@arr`, `!ticker@arr`,
/// `!miniTicker@arr` (the part after `!`).
fn parse_all_market(all: &str) -> Option<StreamSpec> {
    Some(match all {
        "bookTicker" => StreamSpec::AllBookTicker,
        "markPrice@arr" => StreamSpec::AllMarkPrice {
            every_second: false,
        },
        "markPrice@arr@1s" => StreamSpec::AllMarkPrice { every_second: true },
        "forceOrder@arr" => StreamSpec::AllForceOrder,
        "ticker@arr" => StreamSpec::AllTicker,
        "miniTicker@arr" => StreamSpec::AllMiniTicker,
        _ => return None,
    })
}

/// The part after `<symbol>@`.
fn parse_symbol_stream(symbol: String, kind: &str) -> Option<StreamSpec> {
    if let Some(interval) = kind.strip_prefix("kline_") {
        let interval = KlineInterval::parse(interval)?;
        return Some(StreamSpec::Kline { symbol, interval });
    }
    if let Some(depth) = kind.strip_prefix("depth") {
        return parse_depth(symbol, depth);
    }
    Some(match kind {
        "aggTrade" => StreamSpec::AggTrade { symbol },
        "trade" => StreamSpec::Trade { symbol },
        "bookTicker" => StreamSpec::BookTicker { symbol },
        "markPrice" => StreamSpec::MarkPrice {
            symbol,
            every_second: false,
        },
        "markPrice@1s" => StreamSpec::MarkPrice {
            symbol,
            every_second: true,
        },
        "forceOrder" => StreamSpec::ForceOrder { symbol },
        "ticker" => StreamSpec::Ticker { symbol },
        "miniTicker" => StreamSpec::MiniTicker { symbol },
        _ => return None,
    })
}

/// The part after `<symbol>@depth`: `[N][@speed]`. Diff depth takes 0/100/250/500 ms,
/// partial depth only 100/500 ms (§1.1).
fn parse_depth(symbol: String, rest: &str) -> Option<StreamSpec> {
    let (levels, speed) = match rest.split_once('@') {
        Some((levels, speed)) => (levels, Some(UpdateSpeed::parse(speed)?)),
        None => (rest, None),
    };
    if levels.is_empty() {
        return Some(StreamSpec::Depth { symbol, speed });
    }
    let levels = match levels {
        "5" => 5,
        "10" => 10,
        "20" => 20,
        _ => return None,
    };
    match speed {
        None | Some(UpdateSpeed::Ms100 | UpdateSpeed::Ms500) => Some(StreamSpec::PartialDepth {
            symbol,
            levels,
            speed,
        }),
        Some(_) => None,
    }
}

impl fmt::Display for StreamSpec {
    /// The canonical stream name, as used in `LIST_SUBSCRIPTIONS` and combined frames.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let speed = |speed: &Option<UpdateSpeed>| speed.map_or("", UpdateSpeed::as_str);
        let at = |speed: &Option<UpdateSpeed>| if speed.is_some() { "@" } else { "" };
        let one_second = |every: bool| if every { "@1s" } else { "" };
        match self {
            Self::Depth { symbol, speed: s } => {
                write!(f, "{symbol}@depth{}{}", at(s), speed(s))
            }
            Self::PartialDepth {
                symbol,
                levels,
                speed: s,
            } => write!(f, "{symbol}@depth{levels}{}{}", at(s), speed(s)),
            Self::AggTrade { symbol } => write!(f, "{symbol}@aggTrade"),
            Self::Trade { symbol } => write!(f, "{symbol}@trade"),
            Self::BookTicker { symbol } => write!(f, "{symbol}@bookTicker"),
            Self::MarkPrice {
                symbol,
                every_second,
            } => write!(f, "{symbol}@markPrice{}", one_second(*every_second)),
            Self::Kline { symbol, interval } => {
                write!(f, "{symbol}@kline_{}", interval.as_str())
            }
            Self::ForceOrder { symbol } => write!(f, "{symbol}@forceOrder"),
            Self::Ticker { symbol } => write!(f, "{symbol}@ticker"),
            Self::MiniTicker { symbol } => write!(f, "{symbol}@miniTicker"),
            Self::AllBookTicker => f.write_str("!bookTicker"),
            Self::AllMarkPrice { every_second } => {
                write!(f, "!markPrice@arr{}", one_second(*every_second))
            }
            Self::AllForceOrder => f.write_str("!forceOrder@arr"),
            Self::AllTicker => f.write_str("!ticker@arr"),
            Self::AllMiniTicker => f.write_str("!miniTicker@arr"),
        }
    }
}

/// One subscription: a market stream or a user-data stream named by its listenKey.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stream {
    /// A market stream.
    Market(StreamSpec),
    /// A user-data stream; the string is the listenKey (§8.1).
    UserData(String),
}

impl Stream {
    /// Parses a stream name: a listenKey (64 ASCII letters and digits) is user data,
    /// anything else must be a market stream (those contain `@` or start with `!`, §1.2).
    ///
    /// # Errors
    /// [`StreamError`] when it is neither.
    pub fn parse(name: &str) -> Result<Self, StreamError> {
        if is_listen_key(name) {
            Ok(Self::UserData(name.to_owned()))
        } else {
            StreamSpec::parse(name).map(Self::Market)
        }
    }

    /// The canonical name (a listenKey is its own name).
    #[must_use]
    pub fn name(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Market(spec) => spec.fmt(f),
            Self::UserData(listen_key) => f.write_str(listen_key),
        }
    }
}

/// Whether `token` has a listenKey's shape: exactly 64 ASCII letters and digits (§3.6).
#[must_use]
pub fn is_listen_key(token: &str) -> bool {
    token.len() == LISTEN_KEY_LEN && token.bytes().all(|byte| byte.is_ascii_alphanumeric())
}

/// Whether a path segment claims to be a market stream (has `@` or starts with `!`).
pub(super) fn looks_like_market_stream(token: &str) -> bool {
    token.contains('@') || token.starts_with('!')
}
