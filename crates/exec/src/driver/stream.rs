//! The user-data stream task (`../shared/binance-futures.md` §8.1) and the REST
//! reconciliation that follows every (re)connect.
//!
//! Lifecycle: create a listen key (or extend the one held; a `-1125` answer means it lapsed and
//! a new one is created), connect to `<stream_url>/ws/<listenKey>`, then reconcile, then feed
//! every `ORDER_TRADE_UPDATE` and `ALGO_UPDATE` to the engine. The key is extended every
//! [`super::DriverConfig::keepalive_interval`]; `listenKeyExpired` drops it and reconnects on a
//! new one. A closed or failed connection is retried after a delay that starts at
//! `reconnect_min` and doubles up to `reconnect_max`, reset by a successful connect.
//!
//! Reconciliation, after the stream is connected (so nothing falls between the REST reads and
//! the stream): for each symbol the session trades or has fills on, its conditional orders
//! first ([`super::algo`]: open algo orders, and those we hold waiting that the venue no longer
//! lists), then every own trade since the last fill seen (`fromId`, paged; after a restart the
//! last fill the store holds; with none, from when the oldest restored order was placed or
//! shortly before the start; a trade of an order whose venue id is unknown first loads that
//! order), then the open orders (statuses,
//! venue ids, placements whose answer was lost) and a query of each order we hold open that the
//! venue no longer lists (it closed while we were away). An order of an earlier run that the
//! engine adopts on the way has all its fills loaded. The engine applies each fill once,
//! whichever route brought it first.

use std::collections::HashSet;
use std::sync::Arc;

use kestrel_venue::binance::RequestError;
use kestrel_venue::binance::orders::{OrderKey, TradeQuery, UserTrade};
use kestrel_venue::binance::user_data::{
    ListenKey, OrderTradeUpdate, UserEvent, UserStream, UserStreamError,
};

use super::Shared;
use super::recovery::load_fills;
use crate::engine::{RestOrder, TradeOutcome};
use crate::journal::Journal;

/// The most trades one `userTrades` page holds (§3.3).
const TRADES_PAGE: u16 = 1_000;
/// How far before the driver's start a first fill recovery looks (no fill seen yet, no order
/// restored).
const FIRST_LOOKBACK_MS: u64 = 60_000;

/// Where the user stream is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamState {
    /// Not running (disabled, or the driver stopped).
    Stopped,
    /// Getting a listen key and connecting; `attempt` counts since the last connection.
    Connecting {
        /// 1 for the first attempt.
        attempt: u32,
    },
    /// Connected and reconciled; `connections` counts the connections made so far.
    Connected {
        /// 1 after the first connection.
        connections: u64,
    },
    /// The connection ended or could not be made; a reconnect follows after the backoff.
    Disconnected {
        /// Why.
        reason: String,
    },
}

/// Runs the stream until the driver stops.
pub(super) async fn run<J: Journal + 'static>(shared: Arc<Shared<J>>) {
    let config = &shared.config;
    let mut key: Option<ListenKey> = None;
    let mut delay = config.reconnect_min;
    let mut connections = 0u64;
    let mut attempt = 0u32;
    loop {
        attempt = attempt.saturating_add(1);
        shared
            .stream_state
            .send_replace(StreamState::Connecting { attempt });
        let reason = match connect(&shared, &mut key).await {
            Ok(mut stream) => {
                connections += 1;
                attempt = 0;
                delay = config.reconnect_min;
                reconcile(&shared).await;
                shared
                    .stream_state
                    .send_replace(StreamState::Connected { connections });
                pump(&shared, &mut stream, &mut key).await
            }
            Err(reason) => reason,
        };
        tracing::warn!(target: "kestrel::exec", %reason, ?delay, "user stream down; reconnecting");
        shared
            .stream_state
            .send_replace(StreamState::Disconnected { reason });
        tokio::time::sleep(delay).await;
        delay = delay.saturating_mul(2).min(config.reconnect_max);
    }
}

/// A live listen key (extended, or new) and a connection on it.
async fn connect<J: Journal + 'static>(
    shared: &Shared<J>,
    key: &mut Option<ListenKey>,
) -> Result<UserStream, String> {
    let rest = shared.venue.rest();
    let live = match key.take() {
        Some(held) => match rest.keepalive_listen_key(&held).await {
            Ok(()) => held,
            Err(error) if error.is_listen_key_expired() => new_key(shared).await?,
            Err(error) => {
                *key = Some(held);
                return Err(key_failure(shared, &error));
            }
        },
        None => new_key(shared).await?,
    };
    *key = Some(live.clone());
    UserStream::connect(
        &shared.config.stream_url,
        &live,
        shared.config.request_timeout,
    )
    .await
    .map_err(|error| error.to_string())
}

async fn new_key<J: Journal + 'static>(shared: &Shared<J>) -> Result<ListenKey, String> {
    shared
        .venue
        .rest()
        .create_listen_key()
        .await
        .map_err(|error| key_failure(shared, &error))
}

/// Describes a listen-key failure; an authentication failure halts trading.
fn key_failure<J: Journal + 'static>(shared: &Shared<J>, error: &RequestError) -> String {
    if error.is_auth() {
        shared.engine(|e| e.halt(format!("the venue refused our credentials: {error}")));
    }
    format!("listen key: {error}")
}

/// Feeds events to the engine and keeps the key alive until the connection ends; returns why.
async fn pump<J: Journal + 'static>(
    shared: &Arc<Shared<J>>,
    stream: &mut UserStream,
    key: &mut Option<ListenKey>,
) -> String {
    let every = shared.config.keepalive_interval;
    let mut keepalive = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    keepalive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            event = stream.next_event() => match event {
                None => return "the venue closed the user stream".to_owned(),
                Some(Err(UserStreamError::Event(error))) => {
                    tracing::warn!(target: "kestrel::exec", %error, "unreadable user-stream event skipped");
                }
                Some(Err(error)) => return error.to_string(),
                Some(Ok(UserEvent::ListenKeyExpired(_))) => {
                    *key = None;
                    return "the listen key expired".to_owned();
                }
                Some(Ok(UserEvent::OrderTradeUpdate(update))) => on_update(shared, &update),
                Some(Ok(UserEvent::AlgoUpdate(update))) => super::algo::on_update(shared, &update),
                Some(Ok(_)) => {}
            },
            _ = keepalive.tick() => {
                if let Some(reason) = extend(shared, key).await {
                    return reason;
                }
            }
        }
    }
}

/// Extends the held key; returns a reason to reconnect when it lapsed.
async fn extend<J: Journal + 'static>(
    shared: &Shared<J>,
    key: &mut Option<ListenKey>,
) -> Option<String> {
    let held = key.clone()?;
    match shared.venue.rest().keepalive_listen_key(&held).await {
        Ok(()) => None,
        Err(error) if error.is_listen_key_expired() => {
            *key = None;
            Some("the listen key lapsed (keepalive refused)".to_owned())
        }
        Err(error) => {
            tracing::warn!(target: "kestrel::exec", %error, "listen key keepalive failed; retrying at the next tick");
            None
        }
    }
}

fn on_update<J: Journal + 'static>(shared: &Shared<J>, update: &OrderTradeUpdate) {
    let now = shared.now();
    if let Err(error) = shared.engine(|e| e.on_user_event(update, now)) {
        tracing::error!(target: "kestrel::exec", %error, "user-stream order update not applied");
    }
}

/// Reconciles every symbol the session trades or has fills on, and those configured
/// ([`super::DriverConfig::reconcile_symbols`]) (module docs).
pub(super) async fn reconcile<J: Journal + 'static>(shared: &Shared<J>) {
    let mut symbols = shared.engine(|e| e.symbols());
    symbols.extend(shared.config.reconcile_symbols.iter().cloned());
    symbols.sort();
    symbols.dedup();
    for symbol in symbols {
        // Conditional orders first, so their children's fills are recognised; then fills, so
        // an order the venue has filled reaches FILLED through its fills.
        super::algo::reconcile(shared, &symbol).await;
        recover_fills(shared, &symbol).await;
        reconcile_orders(shared, &symbol).await;
    }
}

/// Open orders, and the orders we hold open that the venue no longer lists.
async fn reconcile_orders<J: Journal + 'static>(shared: &Shared<J>, symbol: &str) {
    let rest = shared.venue.rest();
    let open = match shared.idempotent(|| rest.open_orders(Some(symbol))).await {
        Ok(open) => open,
        Err(error) => {
            tracing::warn!(target: "kestrel::exec", %error, symbol, "cannot read open orders");
            return;
        }
    };
    let now = shared.now();
    let (held_open, adopted) = shared.engine(|e| {
        let mut adopted = Vec::new();
        for order in &open {
            match e.on_rest_order(order, now) {
                Ok(RestOrder::Adopted) if order.executed_qty.is_positive() => {
                    adopted.push(order.order_id);
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::error!(target: "kestrel::exec", %error, "open order not applied");
                }
            }
        }
        (e.open_at_venue(symbol), adopted)
    });
    for venue_order_id in adopted {
        load_fills(shared, symbol, venue_order_id).await;
    }
    let listed: HashSet<u64> = open.iter().map(|o| o.order_id).collect();
    for (_, venue_order_id) in held_open.into_iter().filter(|(_, v)| !listed.contains(v)) {
        load_order(shared, symbol, venue_order_id).await;
    }
}

/// Reads one order by venue id and applies it (loading all its fills when the engine adopts
/// it as an earlier run's).
pub(super) async fn load_order<J: Journal + 'static>(
    shared: &Shared<J>,
    symbol: &str,
    venue_order_id: u64,
) {
    let rest = shared.venue.rest();
    let key = OrderKey::OrderId(venue_order_id);
    match shared.idempotent(|| rest.query_order(symbol, &key)).await {
        Ok(order) => {
            let now = shared.now();
            match shared.engine(|e| e.on_rest_order(&order, now)) {
                Ok(RestOrder::Adopted) if order.executed_qty.is_positive() => {
                    load_fills(shared, symbol, venue_order_id).await;
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::error!(target: "kestrel::exec", %error, "queried order not applied");
                }
            }
        }
        Err(error) => {
            tracing::warn!(target: "kestrel::exec", %error, symbol, venue_order_id, "cannot read an order");
        }
    }
}

/// Own trades since the last fill seen on `symbol`, page by page.
async fn recover_fills<J: Journal + 'static>(shared: &Shared<J>, symbol: &str) {
    let rest = shared.venue.rest();
    let (mut from_id, restored_since) =
        shared.engine(|e| (e.last_trade_id(symbol), e.restored_since_ms(symbol)));
    let first_start = shared
        .started_at_ms
        .saturating_sub(FIRST_LOOKBACK_MS)
        .min(restored_since.unwrap_or(u64::MAX));
    let mut looked_up: HashSet<u64> = HashSet::new();
    loop {
        let query = TradeQuery {
            symbol: symbol.to_owned(),
            from_id,
            start_time_ms: from_id.is_none().then_some(first_start),
            limit: Some(TRADES_PAGE),
            ..TradeQuery::default()
        };
        let trades = match shared.idempotent(|| rest.user_trades(&query)).await {
            Ok(trades) => trades,
            Err(error) => {
                tracing::warn!(target: "kestrel::exec", %error, symbol, "cannot read own trades");
                return;
            }
        };
        for trade in &trades {
            apply_trade(shared, trade, &mut looked_up).await;
        }
        match trades.last() {
            Some(last) if trades.len() == usize::from(TRADES_PAGE) => {
                from_id = Some(last.id.saturating_add(1));
            }
            _ => return,
        }
    }
}

/// Applies one trade, first reading its order when the engine does not know its venue id.
async fn apply_trade<J: Journal + 'static>(
    shared: &Shared<J>,
    trade: &UserTrade,
    looked_up: &mut HashSet<u64>,
) {
    let now = shared.now();
    match shared.engine(|e| e.on_user_trade(trade, now)) {
        Ok(TradeOutcome::UnknownOrder { symbol, order_id }) if looked_up.insert(order_id) => {
            load_order(shared, &symbol, order_id).await;
            let now = shared.now();
            if let Err(error) = shared.engine(|e| e.on_user_trade(trade, now)) {
                tracing::error!(target: "kestrel::exec", %error, "recovered fill not applied");
            }
        }
        Ok(_) => {}
        Err(error) => {
            tracing::error!(target: "kestrel::exec", %error, "recovered fill not applied")
        }
    }
}
