//! One symbol's venue state: its matching engine, last trades, candles, 24-hour statistics,
//! mark price and the depth-diff builders of its streams.

use std::collections::VecDeque;

use kestrel_model::book::BookSide;
use kestrel_model::{Instrument, Money, Price, Qty, Rate};

use super::feed::{Cadence, DepthDiffBuilder, MarkInfo, PublicTrade};
use super::order::Precision;
use crate::engine::{EngineConfig, LevelChange, MatchingEngine};

/// How many recent public trades are kept for `/trades` and `/aggTrades`.
pub const TRADE_HISTORY: usize = 1000;
/// How many one-minute candles are kept for `/klines`.
pub const CANDLE_HISTORY: usize = 1500;

/// One one-minute candle (the row of `/fapi/v1/klines`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candle {
    /// Open time, ms (a multiple of 60,000).
    pub open_ms: u64,
    /// First trade price.
    pub open: Price,
    /// Highest trade price.
    pub high: Price,
    /// Lowest trade price.
    pub low: Price,
    /// Last trade price.
    pub close: Price,
    /// Base volume.
    pub volume: Qty,
    /// Quote volume, exact.
    pub quote_volume: Money,
    /// Number of trades.
    pub trades: u64,
    /// Base volume bought by takers.
    pub taker_buy_volume: Qty,
    /// Quote volume bought by takers.
    pub taker_buy_quote: Money,
}

impl Candle {
    fn opened_by(open_ms: u64, trade: &PublicTrade) -> Self {
        let taker_buy = !trade.buyer_is_maker;
        Self {
            open_ms,
            open: trade.price,
            high: trade.price,
            low: trade.price,
            close: trade.price,
            volume: trade.qty,
            quote_volume: trade.price.notional(trade.qty),
            trades: 1,
            taker_buy_volume: if taker_buy { trade.qty } else { Qty::ZERO },
            taker_buy_quote: if taker_buy {
                trade.price.notional(trade.qty)
            } else {
                Money::ZERO
            },
        }
    }

    fn add(&mut self, trade: &PublicTrade) {
        self.high = self.high.max(trade.price);
        self.low = self.low.min(trade.price);
        self.close = trade.price;
        self.volume = self.volume.try_add(trade.qty).unwrap_or(self.volume);
        let notional = trade.price.notional(trade.qty);
        self.quote_volume = self
            .quote_volume
            .try_add(notional)
            .unwrap_or(self.quote_volume);
        self.trades += 1;
        if !trade.buyer_is_maker {
            self.taker_buy_volume = self
                .taker_buy_volume
                .try_add(trade.qty)
                .unwrap_or(self.taker_buy_volume);
            self.taker_buy_quote = self
                .taker_buy_quote
                .try_add(notional)
                .unwrap_or(self.taker_buy_quote);
        }
    }
}

/// One listed symbol.
#[derive(Debug)]
pub struct Market {
    /// The instrument and its rules.
    pub instrument: Instrument,
    /// Output precision of prices and quantities.
    pub precision: Precision,
    /// The matching engine.
    pub engine: MatchingEngine,
    /// Recent trades, oldest first.
    pub trades: VecDeque<PublicTrade>,
    /// One-minute candles, oldest first.
    pub candles: VecDeque<Candle>,
    /// Mark price, index price and funding.
    pub mark: MarkInfo,
    /// The last traded price.
    pub last_price: Option<Price>,
    /// Diff-depth builders, one per cadence.
    pub depth: Vec<DepthDiffBuilder>,
    /// The best bid and ask last published on `@bookTicker`.
    pub last_top: Option<((Price, Qty), (Price, Qty))>,
    /// Funding rate history: (funding time, rate, mark).
    pub funding_history: VecDeque<(u64, Rate, Price)>,
    /// In replay mode, the replayed book the REST depth serves instead of the engine's.
    pub replayed_depth: Option<super::DepthSnapshot>,
    /// Scratch buffer for level changes.
    changes: Vec<LevelChange>,
}

impl Market {
    /// A market for `instrument` whose mark starts at `initial_price`.
    #[must_use]
    pub fn new(
        instrument: Instrument,
        initial_price: Price,
        next_funding_ms: u64,
        now_ms: u64,
    ) -> Self {
        let precision = Precision {
            price: instrument.price_precision as usize,
            qty: instrument.quantity_precision as usize,
        };
        let start_id = 1;
        let engine = MatchingEngine::new(EngineConfig {
            last_update_id: start_id,
            ..EngineConfig::default()
        });
        Self {
            precision,
            engine,
            trades: VecDeque::with_capacity(TRADE_HISTORY),
            candles: VecDeque::with_capacity(64),
            mark: MarkInfo {
                mark: initial_price,
                index: initial_price,
                funding_rate: Rate::ZERO,
                next_funding_ms,
            },
            last_price: None,
            depth: Cadence::ALL
                .iter()
                .map(|c| DepthDiffBuilder::new(*c, start_id, now_ms))
                .collect(),
            last_top: None,
            funding_history: VecDeque::new(),
            replayed_depth: None,
            changes: Vec::with_capacity(256),
            instrument,
        }
    }

    /// The symbol.
    #[must_use]
    pub fn symbol(&self) -> &str {
        &self.instrument.symbol
    }

    /// The book's current update id (REST `lastUpdateId`).
    #[must_use]
    pub fn update_id(&self) -> u64 {
        self.engine.update_id()
    }

    /// Moves the engine's level changes into the depth builders.
    pub fn collect_level_changes(&mut self) {
        self.engine.drain_level_changes(&mut self.changes);
        for change in self.changes.drain(..) {
            for builder in &mut self.depth {
                builder.record(change.side, change.price, change.qty, change.update_id);
            }
        }
    }

    /// Records a public trade in the history and the candles.
    pub fn record_trade(&mut self, trade: PublicTrade) {
        if self.trades.len() == TRADE_HISTORY {
            self.trades.pop_front();
        }
        self.trades.push_back(trade);
        self.last_price = Some(trade.price);
        let open_ms = trade.time_ms - trade.time_ms % 60_000;
        match self.candles.back_mut() {
            Some(candle) if candle.open_ms == open_ms => candle.add(&trade),
            _ => {
                if self.candles.len() == CANDLE_HISTORY {
                    self.candles.pop_front();
                }
                self.candles.push_back(Candle::opened_by(open_ms, &trade));
            }
        }
    }

    /// The best bid and ask with their quantities, when both sides have liquidity.
    #[must_use]
    pub fn top(&self) -> Option<((Price, Qty), (Price, Qty))> {
        let bid = self.engine.best(BookSide::Bid)?;
        let ask = self.engine.best(BookSide::Ask)?;
        Some(((bid.price, bid.qty), (ask.price, ask.qty)))
    }

    /// The price conditional orders with `CONTRACT_PRICE` watch: the last trade, else the mid.
    #[must_use]
    pub fn contract_price(&self) -> Price {
        self.last_price
            .or_else(|| self.top().map(|(b, a)| b.0.midpoint(a.0)))
            .unwrap_or(self.mark.mark)
    }
}
