//! Topic names (ARCHITECTURE.md "Bus topics", seed 000 "Topics"): [`Topic`] for publishing and
//! [`TopicPattern`] for subscribing.
//!
//! | topic | carries |
//! |---|---|
//! | `market_data.{symbol}.orderbook` | depth updates, book tickers, snapshots |
//! | `market_data.{symbol}.trades` | public trades |
//! | `orders.{symbol}` | order updates |
//! | `fills.{symbol}` | fills |
//! | `account.updates` | balance and position changes |
//! | `alerts` | alerts |
//! | `risk.events` | the risk manager's refusals, breaker trips and resets, kill switch changes |
//! | `config.changes` | configuration changes |
//!
//! The same names are NATS subjects in distributed mode, so patterns follow NATS: segments are
//! separated by `.`, `*` matches exactly one segment and `>` (last only) matches one or more.
//! A [`Topic`] is `Copy` and hashes its parts, so publishing never formats a string.

use std::fmt;
use std::str::FromStr;

use kestrel_model::event::{EventKind, MarketEvent};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::symbol::{Symbol, SymbolError};

/// A topic a message is published on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// `market_data.{symbol}.orderbook`: depth updates, book tickers and snapshots.
    OrderBook(Symbol),
    /// `market_data.{symbol}.trades`: public trades.
    Trades(Symbol),
    /// `orders.{symbol}`: order updates.
    Orders(Symbol),
    /// `fills.{symbol}`: fills.
    Fills(Symbol),
    /// `account.updates`: balance and position changes.
    AccountUpdates,
    /// `alerts`: alerts.
    Alerts,
    /// `risk.events`: the risk manager's refusals, breaker trips and resets, kill switch
    /// changes (seed 000 "Risk filter rejection: publish rejection event").
    RiskEvents,
    /// `config.changes`: configuration changes.
    ConfigChanges,
}

/// The family of a [`Topic`], without its symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TopicKind {
    /// `market_data.{symbol}.orderbook`.
    OrderBook,
    /// `market_data.{symbol}.trades`.
    Trades,
    /// `orders.{symbol}`.
    Orders,
    /// `fills.{symbol}`.
    Fills,
    /// `account.updates`.
    AccountUpdates,
    /// `alerts`.
    Alerts,
    /// `risk.events`.
    RiskEvents,
    /// `config.changes`.
    ConfigChanges,
}

/// Why text is not a topic or a topic pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
    /// The name matches none of the known topics.
    #[error(
        "unknown topic {found:?}: expected market_data.{{symbol}}.orderbook, \
         market_data.{{symbol}}.trades, orders.{{symbol}}, fills.{{symbol}}, account.updates, \
         alerts, risk.events or config.changes"
    )]
    Unknown {
        /// The rejected name (cut to 64 characters).
        found: String,
    },
    /// The topic's symbol segment breaks the symbol rule.
    #[error("topic {topic:?}: {source}")]
    Symbol {
        /// The rejected name (cut to 64 characters).
        topic: String,
        /// What is wrong with the symbol.
        #[source]
        source: SymbolError,
    },
    /// The pattern is malformed.
    #[error("invalid topic pattern {found:?}: {reason}")]
    Pattern {
        /// The rejected pattern (cut to 64 characters).
        found: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Builds a per-symbol topic from its symbol (a variant constructor).
type PerSymbol = fn(Symbol) -> Topic;

fn cut(text: &str) -> String {
    text.chars().take(64).collect()
}

impl Topic {
    /// `market_data.{symbol}.orderbook`.
    ///
    /// # Errors
    /// [`SymbolError`] when `symbol` breaks the symbol rule.
    pub fn order_book(symbol: &str) -> Result<Self, SymbolError> {
        Symbol::new(symbol).map(Self::OrderBook)
    }

    /// `market_data.{symbol}.trades`.
    ///
    /// # Errors
    /// [`SymbolError`] when `symbol` breaks the symbol rule.
    pub fn trades(symbol: &str) -> Result<Self, SymbolError> {
        Symbol::new(symbol).map(Self::Trades)
    }

    /// `orders.{symbol}`.
    ///
    /// # Errors
    /// [`SymbolError`] when `symbol` breaks the symbol rule.
    pub fn orders(symbol: &str) -> Result<Self, SymbolError> {
        Symbol::new(symbol).map(Self::Orders)
    }

    /// `fills.{symbol}`.
    ///
    /// # Errors
    /// [`SymbolError`] when `symbol` breaks the symbol rule.
    pub fn fills(symbol: &str) -> Result<Self, SymbolError> {
        Symbol::new(symbol).map(Self::Fills)
    }

    /// The topic a market event is published on: trades on `.trades`, the rest on `.orderbook`.
    ///
    /// # Errors
    /// [`SymbolError`] when the event's symbol breaks the symbol rule.
    pub fn for_event(event: &MarketEvent<'_>) -> Result<Self, SymbolError> {
        Self::for_market_data(event.kind(), event.symbol())
    }

    /// The topic a market event of `kind` about `symbol` is published on (what
    /// [`Self::for_event`] gives, for callers holding a decoded [`crate::WireEvent`]).
    ///
    /// # Errors
    /// [`SymbolError`] when `symbol` breaks the symbol rule.
    pub fn for_market_data(kind: EventKind, symbol: &str) -> Result<Self, SymbolError> {
        let symbol = Symbol::new(symbol)?;
        Ok(match kind {
            EventKind::Trade => Self::Trades(symbol),
            EventKind::Depth | EventKind::BookTicker | EventKind::Snapshot => {
                Self::OrderBook(symbol)
            }
        })
    }

    /// The topic's family.
    #[must_use]
    pub const fn kind(&self) -> TopicKind {
        match self {
            Self::OrderBook(_) => TopicKind::OrderBook,
            Self::Trades(_) => TopicKind::Trades,
            Self::Orders(_) => TopicKind::Orders,
            Self::Fills(_) => TopicKind::Fills,
            Self::AccountUpdates => TopicKind::AccountUpdates,
            Self::Alerts => TopicKind::Alerts,
            Self::RiskEvents => TopicKind::RiskEvents,
            Self::ConfigChanges => TopicKind::ConfigChanges,
        }
    }

    /// The symbol of a per-symbol topic.
    #[must_use]
    pub const fn symbol(&self) -> Option<&Symbol> {
        match self {
            Self::OrderBook(s) | Self::Trades(s) | Self::Orders(s) | Self::Fills(s) => Some(s),
            Self::AccountUpdates | Self::Alerts | Self::RiskEvents | Self::ConfigChanges => None,
        }
    }

    /// The name's `.`-separated segments, without allocating.
    #[must_use]
    pub fn segments(&self) -> Segments<'_> {
        let (items, len) = match self {
            Self::OrderBook(s) => (["market_data", s.as_str(), "orderbook"], 3),
            Self::Trades(s) => (["market_data", s.as_str(), "trades"], 3),
            Self::Orders(s) => (["orders", s.as_str(), ""], 2),
            Self::Fills(s) => (["fills", s.as_str(), ""], 2),
            Self::AccountUpdates => (["account", "updates", ""], 2),
            Self::Alerts => (["alerts", "", ""], 1),
            Self::RiskEvents => (["risk", "events", ""], 2),
            Self::ConfigChanges => (["config", "changes", ""], 2),
        };
        Segments { items, len }
    }

    /// Parses a topic name such as `market_data.BTCUSDT.trades`.
    ///
    /// # Errors
    /// [`TopicError::Unknown`] for a name of no known family, [`TopicError::Symbol`] for a bad
    /// symbol segment.
    pub fn parse(name: &str) -> Result<Self, TopicError> {
        let mut parts = name.split('.');
        let parsed: Option<(PerSymbol, &str)> =
            match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some("market_data"), Some(s), Some("orderbook"), None) => {
                    Some((Self::OrderBook, s))
                }
                (Some("market_data"), Some(s), Some("trades"), None) => Some((Self::Trades, s)),
                (Some("orders"), Some(s), None, None) => Some((Self::Orders, s)),
                (Some("fills"), Some(s), None, None) => Some((Self::Fills, s)),
                (Some("account"), Some("updates"), None, None) => return Ok(Self::AccountUpdates),
                (Some("alerts"), None, None, None) => return Ok(Self::Alerts),
                (Some("risk"), Some("events"), None, None) => return Ok(Self::RiskEvents),
                (Some("config"), Some("changes"), None, None) => return Ok(Self::ConfigChanges),
                _ => None,
            };
        let Some((make, symbol)) = parsed else {
            return Err(TopicError::Unknown { found: cut(name) });
        };
        Symbol::new(symbol)
            .map(make)
            .map_err(|source| TopicError::Symbol {
                topic: cut(name),
                source,
            })
    }
}

/// The segments of a [`Topic`] name (at most three), borrowed from it.
#[derive(Debug, Clone, Copy)]
pub struct Segments<'a> {
    items: [&'a str; 3],
    len: usize,
}

impl<'a> Segments<'a> {
    /// The segments in order.
    #[must_use]
    pub fn as_slice(&self) -> &[&'a str] {
        self.items.get(..self.len).unwrap_or_default()
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments().as_slice().iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            f.write_str(segment)?;
        }
        Ok(())
    }
}

impl FromStr for Topic {
    type Err = TopicError;

    fn from_str(name: &str) -> Result<Self, TopicError> {
        Self::parse(name)
    }
}

impl Serialize for Topic {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Topic {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::parse(&name).map_err(serde::de::Error::custom)
    }
}

/// One segment of a [`TopicPattern`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PatternSegment {
    /// Matches this exact segment.
    Literal(String),
    /// `*`: matches any one segment.
    AnyOne,
    /// `>`: matches one or more trailing segments (last position only).
    Rest,
}

/// What a subscription listens to: a topic, or a NATS-style pattern such as
/// `market_data.*.trades` or `market_data.>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TopicPattern {
    segments: Vec<PatternSegment>,
}

impl TopicPattern {
    /// A pattern that matches exactly `topic`.
    #[must_use]
    pub fn exact(topic: Topic) -> Self {
        let segments = topic.segments();
        let segments = segments.as_slice().iter();
        Self {
            segments: segments
                .map(|s| PatternSegment::Literal((*s).to_owned()))
                .collect(),
        }
    }

    /// Parses a pattern: `.`-separated segments, each `*`, `>` (last only) or a literal of ASCII
    /// letters, digits and `_`.
    ///
    /// # Errors
    /// [`TopicError::Pattern`] naming what is wrong.
    pub fn parse(text: &str) -> Result<Self, TopicError> {
        let fail = |reason| TopicError::Pattern {
            found: cut(text),
            reason,
        };
        let parts: Vec<&str> = text.split('.').collect();
        let mut segments = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            segments.push(match *part {
                "" => return Err(fail("empty segment")),
                "*" => PatternSegment::AnyOne,
                ">" if i + 1 == parts.len() => PatternSegment::Rest,
                ">" => return Err(fail("`>` may only be the last segment")),
                literal
                    if literal
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
                {
                    PatternSegment::Literal(literal.to_owned())
                }
                _ => return Err(fail("segments hold ASCII letters, digits and `_` only")),
            });
        }
        Ok(Self { segments })
    }

    /// The pattern's segments.
    #[must_use]
    pub fn segments(&self) -> &[PatternSegment] {
        &self.segments
    }

    /// Whether `topic` matches the pattern.
    #[must_use]
    pub fn matches(&self, topic: &Topic) -> bool {
        matches_segments(&self.segments, topic.segments().as_slice())
    }
}

fn matches_segments(pattern: &[PatternSegment], topic: &[&str]) -> bool {
    match (pattern.split_first(), topic.split_first()) {
        (None, None) => true,
        (Some((PatternSegment::Rest, _)), Some(_)) => true,
        (Some((PatternSegment::AnyOne, p)), Some((_, t))) => matches_segments(p, t),
        (Some((PatternSegment::Literal(l), p)), Some((s, t))) => l == s && matches_segments(p, t),
        _ => false,
    }
}

impl From<Topic> for TopicPattern {
    fn from(topic: Topic) -> Self {
        Self::exact(topic)
    }
}

impl FromStr for TopicPattern {
    type Err = TopicError;

    fn from_str(text: &str) -> Result<Self, TopicError> {
        Self::parse(text)
    }
}

impl fmt::Display for TopicPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            f.write_str(match segment {
                PatternSegment::Literal(l) => l,
                PatternSegment::AnyOne => "*",
                PatternSegment::Rest => ">",
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
