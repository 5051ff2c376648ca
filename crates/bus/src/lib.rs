//! Kestrel's message bus: topic names, the binary codec for events, and the transports that
//! carry them (in process, a shared-memory ring another process on the host can read, and NATS
//! for other hosts).
//!
//! It must not know who publishes or consumes: components depend on it, never the reverse.
//!
//! - [`topic`]: the topic names of the architecture and the seeds (`market_data.{symbol}.orderbook`,
//!   `orders.{symbol}`, `alerts`, ...), as a `Copy` [`Topic`], and subscription patterns with
//!   `*` / `>` wildcards ([`TopicPattern`]).
//! - [`symbol`]: the inline, validated [`Symbol`] that topics carry.
//! - [`codec`]: the versioned little-endian binary layout of the market events of
//!   [`kestrel_model::event`], encoded into caller buffers and decoded by borrowing.
//! - [`inproc`]: the in-process publish/subscribe [`Bus`] with bounded per-subscriber queues.
//! - [`ring`]: the single-writer, many-reader seqlock broadcast ring in a memory-mapped file
//!   (seed 000 FR-MD-005 "shared memory ring buffer (local consumers)").
//!
//! - [`nats`]: distributed mode (seed 000 FR-MD-005 "publish to message queue topic
//!   (distributed consumers)"): a [`RingPump`] republishes the ring's codec bytes on NATS
//!   subjects named by their topics through a [`NatsPublisher`]; a [`NatsSubscriber`] on any
//!   host subscribes by [`TopicPattern`] and decodes them.
//!
//! ```
//! use kestrel_bus::{Bus, Topic, TopicPattern, codec};
//! use kestrel_model::event::{MarketEvent, ReceiveTime, TradeEvent};
//! use kestrel_model::{Price, Qty};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let trade = MarketEvent::Trade(TradeEvent {
//!     symbol: "BTCUSDT",
//!     trade_id: 1,
//!     price: Price::parse("67250.1")?,
//!     qty: Qty::parse("0.002")?,
//!     trade_time_ms: 1_760_000_000_000,
//!     event_time_ms: 1_760_000_000_001,
//!     buyer_is_maker: false,
//!     received: ReceiveTime::new(5, 1_760_000_000_002_000_000),
//! });
//! let mut bytes = Vec::with_capacity(128);
//! codec::encode(&trade, &mut bytes)?;
//!
//! let bus = Bus::new();
//! let all_trades = bus.subscribe(TopicPattern::parse("market_data.*.trades")?, 1024);
//! bus.publisher().publish(Topic::for_event(&trade)?, bytes);
//!
//! let envelope = all_trades.try_recv().ok_or("nothing received")?;
//! assert_eq!(envelope.topic.to_string(), "market_data.BTCUSDT.trades");
//! let decoded = codec::decode(&envelope.message)?;
//! assert_eq!(decoded.into_owned(), trade.into_owned());
//! # Ok(())
//! # }
//! ```

pub mod codec;
pub mod inproc;
pub mod nats;
pub mod ring;
pub mod symbol;
pub mod topic;

pub use codec::{DecodeError, EncodeError, WireEvent, decode, encode, encode_to_slice};
pub use inproc::{Bus, Envelope, Publisher, Subscription};
pub use nats::{
    NatsError, NatsPublisher, NatsSubscriber, PumpConfig, PumpStats, RingPump, pump_ring,
};
pub use ring::{RingConfig, RingError, RingMessage, RingReader, RingWriter};
pub use symbol::{Symbol, SymbolError};
pub use topic::{Topic, TopicError, TopicKind, TopicPattern};
