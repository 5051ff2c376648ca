//! The venue connection of the driver: the pooled REST client, and the WebSocket trading API
//! (`ws-fapi`) when the `execution.transport` is `websocket` — connected on first use and
//! reconnected on the next request after it closed. Placements, cancels and queries go over
//! the chosen transport; everything else (open orders, own trades, batch and symbol cancels,
//! listen keys) over REST, which the WebSocket API client does not cover.
//!
//! Conditional orders always go over REST, to the algo endpoints (`/fapi/v1/algoOrder`,
//! `../shared/binance-futures.md` §3.4): the reference documents no WebSocket-API method for
//! them, [`kestrel_venue::binance::ws_api`] implements only `order.place`, `order.cancel` and
//! `order.status`, and the simulator's `ws-fapi` serves only `order.*`. (Binance's own SDKs list
//! an `algoOrder.place` / `algoOrder.cancel` on `ws-fapi`, but no algo status query, which
//! recovery needs; REST is the one route that covers the whole algo lifecycle here.)

use std::sync::Arc;

use kestrel_model::config::Transport;
use kestrel_venue::binance::RequestError;
use kestrel_venue::binance::orders::{NewOrder, OrderKey, Placed, VenueOrder};
use kestrel_venue::binance::rate_limit::RateLimitTracker;
use kestrel_venue::binance::rest::{RestClient, RestConfig};
use kestrel_venue::binance::signing::{Credentials, ServerClock};
use kestrel_venue::binance::ws_api::{WsApiClient, WsApiConfig};

use super::DriverConfig;
use crate::ratelimit::VenueUsage;

/// The WebSocket-API connection, made lazily and remade after a close.
#[derive(Debug)]
struct WsSlot {
    config: WsApiConfig,
    credentials: Credentials,
    clock: Arc<ServerClock>,
    limits: Arc<RateLimitTracker>,
    client: tokio::sync::Mutex<Option<Arc<WsApiClient>>>,
}

impl WsSlot {
    /// The open connection, connecting first when there is none or it closed.
    async fn client(&self) -> Result<Arc<WsApiClient>, RequestError> {
        let mut slot = self.client.lock().await;
        if let Some(client) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(Arc::clone(client));
        }
        let client = Arc::new(
            WsApiClient::connect(
                self.config.clone(),
                self.credentials.clone(),
                Arc::clone(&self.clock),
                Arc::clone(&self.limits),
            )
            .await?,
        );
        *slot = Some(Arc::clone(&client));
        Ok(client)
    }
}

/// REST, plus the WebSocket trading API when it is the configured transport.
#[derive(Debug)]
pub(super) struct VenueClient {
    rest: RestClient,
    ws: Option<WsSlot>,
}

impl VenueClient {
    /// Clients for `config` sharing one server clock and one rate-limit tracker.
    pub(super) fn new(config: &DriverConfig) -> Result<Self, RequestError> {
        let clock = Arc::new(ServerClock::new());
        let limits = Arc::new(RateLimitTracker::new());
        let mut rest_config = RestConfig::new(config.rest_url.clone());
        rest_config.request_timeout = config.request_timeout;
        rest_config.pool_max_idle_per_host = config.pool_size;
        rest_config.recv_window_ms = config.recv_window_ms;
        let rest = RestClient::with_shared(
            rest_config,
            config.credentials.clone(),
            Arc::clone(&clock),
            Arc::clone(&limits),
        )?;
        let ws = (config.transport == Transport::Websocket).then(|| {
            let mut ws_config = WsApiConfig::new(config.ws_api_url.clone());
            ws_config.request_timeout = config.request_timeout;
            ws_config.recv_window_ms = config.recv_window_ms;
            WsSlot {
                config: ws_config,
                credentials: config.credentials.clone(),
                clock,
                limits,
                client: tokio::sync::Mutex::new(None),
            }
        });
        Ok(Self { rest, ws })
    }

    /// The REST client.
    pub(super) const fn rest(&self) -> &RestClient {
        &self.rest
    }

    /// The venue's latest rate-limit counters (REST headers or WebSocket `rateLimits`).
    pub(super) fn usage(&self) -> VenueUsage {
        let latest = self.rest.rate_limits();
        VenueUsage {
            used_weight_1m: latest.used_weight_1m,
            order_count_10s: latest.order_count_10s,
            order_count_1m: latest.order_count_1m,
        }
    }

    /// Places an order once: a `LIMIT`/`MARKET` one over the transport, a conditional one on
    /// the algo endpoint (module docs).
    pub(super) async fn place(&self, order: &NewOrder) -> Result<Placed, RequestError> {
        if order.is_algo() {
            return self.rest.place_algo_order(order).await.map(Placed::Algo);
        }
        let placed = match &self.ws {
            Some(ws) => ws.client().await?.place_order(order).await,
            None => self.rest.place_order(order).await,
        };
        placed.map(Placed::Order)
    }

    /// Looks an order up by client order id — on the algo endpoint when `algo` — with
    /// `Ok(None)` when the venue does not know it.
    pub(super) async fn lookup(
        &self,
        symbol: &str,
        client_order_id: &str,
        algo: bool,
    ) -> Result<Option<Placed>, RequestError> {
        let key = OrderKey::ClientOrderId(client_order_id.to_owned());
        let result = if algo {
            self.rest.query_algo_order(&key).await.map(Placed::Algo)
        } else {
            match &self.ws {
                Some(ws) => ws.client().await?.query_order(symbol, &key).await,
                None => self.rest.query_order(symbol, &key).await,
            }
            .map(Placed::Order)
        };
        match result {
            Ok(found) => Ok(Some(found)),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Cancels one order of the order endpoint, by client order id or order id.
    pub(super) async fn cancel(
        &self,
        symbol: &str,
        key: &OrderKey,
    ) -> Result<VenueOrder, RequestError> {
        match &self.ws {
            Some(ws) => ws.client().await?.cancel_order(symbol, key).await,
            None => self.rest.cancel_order(symbol, key).await,
        }
    }

    /// Closes the WebSocket-API connection, if open.
    pub(super) async fn close(&self) {
        if let Some(ws) = &self.ws
            && let Some(client) = ws.client.lock().await.take()
        {
            client.close().await;
        }
    }
}
