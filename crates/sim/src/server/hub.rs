//! Fan-out of venue events to WebSocket connections.
//!
//! Each connection owns a bounded queue; the hub keeps, per canonical stream name (§6) and per
//! account (user data), the queues of the connections subscribed. A payload is serialized once,
//! and only when someone listens. A connection whose queue is full is dropped from the hub, so
//! its socket closes: a client that cannot keep up is disconnected rather than silently missing
//! depth events (it would then hold a broken book without knowing).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::lock;
use crate::api::ws_protocol::{StreamSpec, UpdateSpeed};
use crate::exchange::feed::{agg_trade_event, trade_event};
use crate::exchange::{Cadence, Precision, VenueEvent};

/// Capacity of each connection's queue.
pub const QUEUE_CAPACITY: usize = 8192;

/// One message for a connection: the stream it belongs to and the payload JSON.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The stream's canonical name (a listenKey for user data).
    pub stream: Arc<str>,
    /// The payload JSON.
    pub payload: Arc<str>,
}

type Queue = mpsc::Sender<Outgoing>;

/// A user-data subscriber: connection id, the listenKey it subscribed with, its queue.
type UserSubscriber = (u64, String, Queue);

/// The subscriber lists.
#[derive(Debug, Default)]
pub struct Hub {
    next_connection: AtomicU64,
    market: Mutex<HashMap<String, Vec<(u64, Queue)>>>,
    users: Mutex<HashMap<u32, Vec<UserSubscriber>>>,
    precision: BTreeMap<String, Precision>,
}

impl Hub {
    /// A hub for symbols with these output precisions.
    #[must_use]
    pub fn new(precision: BTreeMap<String, Precision>) -> Self {
        Self {
            precision,
            ..Self::default()
        }
    }

    /// A fresh connection id.
    pub fn connection_id(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }

    /// Subscribes connection `id` to the market stream `name`.
    pub fn attach_market(&self, id: u64, name: &str, queue: &Queue) {
        lock(&self.market)
            .entry(name.to_owned())
            .or_default()
            .push((id, queue.clone()));
    }

    /// Unsubscribes connection `id` from the market stream `name`.
    pub fn detach_market(&self, id: u64, name: &str) {
        if let Some(list) = lock(&self.market).get_mut(name) {
            list.retain(|(conn, _)| *conn != id);
        }
    }

    /// Subscribes connection `id` to `account`'s user data under `listen_key`.
    pub fn attach_user(&self, id: u64, account: u32, listen_key: &str, queue: &Queue) {
        lock(&self.users).entry(account).or_default().push((
            id,
            listen_key.to_owned(),
            queue.clone(),
        ));
    }

    /// Unsubscribes connection `id` from the user stream of `listen_key`.
    pub fn detach_user(&self, id: u64, listen_key: &str) {
        for list in lock(&self.users).values_mut() {
            list.retain(|(conn, key, _)| !(*conn == id && key == listen_key));
        }
    }

    /// Removes connection `id` everywhere.
    pub fn detach_all(&self, id: u64) {
        for list in lock(&self.market).values_mut() {
            list.retain(|(conn, _)| *conn != id);
        }
        for list in lock(&self.users).values_mut() {
            list.retain(|(conn, _, _)| *conn != id);
        }
    }

    /// Whether anyone listens to the market stream `name`.
    #[must_use]
    pub fn has_market_subscribers(&self, name: &str) -> bool {
        lock(&self.market)
            .get(name)
            .is_some_and(|list| !list.is_empty())
    }

    /// The market stream names with at least one subscriber.
    #[must_use]
    pub fn subscribed_market_streams(&self) -> Vec<String> {
        lock(&self.market)
            .iter()
            .filter(|(_, l)| !l.is_empty())
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Publishes one venue event to its streams.
    pub fn publish(&self, event: &VenueEvent) {
        match event {
            VenueEvent::Trade { symbol, trade } => {
                let p = self
                    .precision
                    .get(symbol)
                    .copied()
                    .unwrap_or(Precision { price: 8, qty: 8 });
                let lower = symbol.to_ascii_lowercase();
                let now = trade.time_ms;
                self.send_market_with(
                    &StreamSpec::Trade {
                        symbol: lower.clone(),
                    }
                    .to_string(),
                    || trade_event(symbol, trade, p, now).to_string(),
                );
                self.send_market_with(&StreamSpec::AggTrade { symbol: lower }.to_string(), || {
                    agg_trade_event(symbol, trade, p, now).to_string()
                });
            }
            VenueEvent::Depth {
                symbol,
                cadence,
                payload,
            } => {
                for name in depth_stream_names(symbol, *cadence) {
                    self.send_market_with(&name, || payload.to_string());
                }
            }
            VenueEvent::BookTicker { symbol, payload } => {
                let lower = symbol.to_ascii_lowercase();
                self.send_market_with(
                    &StreamSpec::BookTicker { symbol: lower }.to_string(),
                    || payload.to_string(),
                );
                self.send_market_with(&StreamSpec::AllBookTicker.to_string(), || {
                    payload.to_string()
                });
            }
            VenueEvent::MarkPrice { symbol, payload } => {
                let lower = symbol.to_ascii_lowercase();
                for every_second in [true, false] {
                    let name = StreamSpec::MarkPrice {
                        symbol: lower.clone(),
                        every_second,
                    }
                    .to_string();
                    self.send_market_with(&name, || payload.to_string());
                }
            }
            VenueEvent::ForceOrder { symbol, payload } => {
                let lower = symbol.to_ascii_lowercase();
                self.send_market_with(
                    &StreamSpec::ForceOrder { symbol: lower }.to_string(),
                    || payload.to_string(),
                );
                self.send_market_with(&StreamSpec::AllForceOrder.to_string(), || {
                    payload.to_string()
                });
            }
            VenueEvent::User { account, payload } => {
                self.send_user(*account, None, &payload.to_string())
            }
            VenueEvent::ListenKeyExpired {
                listen_key,
                payload,
            } => {
                self.send_user_key(listen_key, &payload.to_string());
            }
        }
    }

    /// Sends `build()` on market stream `name`, building it only if someone listens.
    pub fn send_market_with(&self, name: &str, build: impl FnOnce() -> String) {
        let mut market = lock(&self.market);
        let Some(list) = market.get_mut(name) else {
            return;
        };
        if list.is_empty() {
            return;
        }
        let message = Outgoing {
            stream: Arc::from(name),
            payload: Arc::from(build()),
        };
        list.retain(|(_, queue)| queue.try_send(message.clone()).is_ok());
    }

    fn send_user(&self, account: u32, only_key: Option<&str>, payload: &str) {
        let mut users = lock(&self.users);
        let Some(list) = users.get_mut(&account) else {
            return;
        };
        let payload: Arc<str> = Arc::from(payload);
        list.retain(|(_, key, queue)| {
            if only_key.is_some_and(|only| only != key) {
                return true;
            }
            queue
                .try_send(Outgoing {
                    stream: Arc::from(key.as_str()),
                    payload: payload.clone(),
                })
                .is_ok()
        });
    }

    /// Sends `listenKeyExpired` to the sockets of `listen_key`, then detaches them: nothing
    /// more is delivered on that key (§8.1).
    fn send_user_key(&self, listen_key: &str, payload: &str) {
        let mut users = lock(&self.users);
        for list in users.values_mut() {
            list.retain(|(_, key, queue)| {
                if key != listen_key {
                    return true;
                }
                let _ = queue.try_send(Outgoing {
                    stream: Arc::from(key.as_str()),
                    payload: Arc::from(payload),
                });
                false
            });
        }
    }
}

/// The stream names a diff-depth event of `cadence` is published on (the 250 ms cadence is
/// both `@depth` and `@depth@250ms`).
fn depth_stream_names(symbol: &str, cadence: Cadence) -> Vec<String> {
    let symbol = symbol.to_ascii_lowercase();
    let speeds: &[Option<UpdateSpeed>] = match cadence {
        Cadence::Realtime => &[Some(UpdateSpeed::Ms0)],
        Cadence::Ms100 => &[Some(UpdateSpeed::Ms100)],
        Cadence::Ms250 => &[None, Some(UpdateSpeed::Ms250)],
        Cadence::Ms500 => &[Some(UpdateSpeed::Ms500)],
    };
    speeds
        .iter()
        .map(|speed| {
            StreamSpec::Depth {
                symbol: symbol.clone(),
                speed: *speed,
            }
            .to_string()
        })
        .collect()
}
