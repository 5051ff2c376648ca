//! Server time, account endpoints and listen-key management
//! (`../shared/binance-futures.md` §2.4, §3.5, §3.6).

use reqwest::Method;
use serde::Deserialize;

use super::RestClient;
use super::transport::{Call, Security};
use crate::binance::account::{AccountInfo, BalanceRow, PositionRisk};
use crate::binance::request_error::{Idempotency, RequestError};
use crate::binance::signing::{Params, local_now_ms};
use crate::binance::user_data::ListenKey;

const LISTEN_KEY: &str = "/fapi/v1/listenKey";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServerTime {
    server_time: u64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListenKeyBody {
    listen_key: String,
}

impl RestClient {
    /// `GET /fapi/v1/time`: the venue's clock, ms.
    ///
    /// # Errors
    /// A transport failure or an unreadable answer.
    pub async fn server_time_ms(&self) -> Result<u64, RequestError> {
        let call = Call {
            method: Method::GET,
            path: "/fapi/v1/time",
            params: Params::new(),
            security: Security::None,
            idempotency: Idempotency::Idempotent,
        };
        Ok(self.call::<ServerTime>(call).await?.server_time)
    }

    /// Measures the offset between the venue's clock and ours (server time against the
    /// midpoint of the round trip) and applies it to every later `timestamp` (§2.4).
    /// Returns the offset, ms.
    ///
    /// # Errors
    /// As [`Self::server_time_ms`]; the previous offset is kept.
    pub async fn sync_clock(&self) -> Result<i64, RequestError> {
        let sent = local_now_ms();
        let server = self.server_time_ms().await?;
        let received = local_now_ms();
        Ok(self.inner.clock.observe(server, sent, received))
    }

    /// `GET /fapi/v3/account`: totals, assets and the legs with a position or open orders.
    ///
    /// # Errors
    /// The venue's refusal or a transport failure.
    pub async fn account(&self) -> Result<AccountInfo, RequestError> {
        self.call(Call::signed_get("/fapi/v3/account", Params::new()))
            .await
    }

    /// `GET /fapi/v3/balance`: one row per asset.
    ///
    /// # Errors
    /// The venue's refusal or a transport failure.
    pub async fn balances(&self) -> Result<Vec<BalanceRow>, RequestError> {
        self.call(Call::signed_get("/fapi/v3/balance", Params::new()))
            .await
    }

    /// `GET /fapi/v3/positionRisk`: legs with a position or open orders, of one symbol or all.
    ///
    /// # Errors
    /// The venue's refusal or a transport failure.
    pub async fn position_risk(
        &self,
        symbol: Option<&str>,
    ) -> Result<Vec<PositionRisk>, RequestError> {
        let mut params = Params::new();
        params.opt_text("symbol", symbol);
        self.call(Call::signed_get("/fapi/v3/positionRisk", params))
            .await
    }

    /// `POST /fapi/v1/listenKey`: starts a user-data stream; a live key is returned again and
    /// extended (§3.6). Valid 60 minutes without a keepalive.
    ///
    /// # Errors
    /// The venue's refusal or a transport failure.
    pub async fn create_listen_key(&self) -> Result<ListenKey, RequestError> {
        let call = listen_key_call(Method::POST, None);
        let body: ListenKeyBody = self.call(call).await?;
        Ok(ListenKey::new(body.listen_key))
    }

    /// `PUT /fapi/v1/listenKey`: extends `key` to 60 minutes from now. An expired key is
    /// refused with `-1125` ([`RequestError::is_listen_key_expired`]): create a new one.
    ///
    /// # Errors
    /// The venue's refusal or a transport failure.
    pub async fn keepalive_listen_key(&self, key: &ListenKey) -> Result<(), RequestError> {
        self.send(listen_key_call(Method::PUT, Some(key)))
            .await
            .map(drop)
    }

    /// `DELETE /fapi/v1/listenKey`: closes the stream of `key`.
    ///
    /// # Errors
    /// The venue's refusal or a transport failure.
    pub async fn close_listen_key(&self, key: &ListenKey) -> Result<(), RequestError> {
        self.send(listen_key_call(Method::DELETE, Some(key)))
            .await
            .map(drop)
    }
}

/// A `USER_STREAM` call: API key header, no signature; `listenKey` sent as the connector and
/// ccxt send it (§3.6).
fn listen_key_call(method: Method, key: Option<&ListenKey>) -> Call {
    let mut params = Params::new();
    params.opt_text("listenKey", key.map(ListenKey::as_str));
    Call {
        method,
        path: LISTEN_KEY,
        params,
        security: Security::ApiKey,
        idempotency: Idempotency::Idempotent,
    }
}
