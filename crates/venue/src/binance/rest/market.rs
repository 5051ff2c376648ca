//! Public market endpoints the execution side reads with the same pooled client: the
//! instruments (`exchangeInfo`, §3.1) and the mark price (`premiumIndex`, §3.2), plus the v2
//! position rows that still carry each symbol's leverage (§3.5).

use reqwest::Method;
use serde::Deserialize;

use super::RestClient;
use super::transport::{Call, Security};
use crate::binance::account::PositionRisk;
use crate::binance::exchange_info::{ExchangeInfo, parse_exchange_info};
use crate::binance::request_error::{Idempotency, RequestError};
use crate::binance::signing::Params;
use crate::binance::wire;
use kestrel_model::Price;

/// One symbol's `premiumIndex` row: the mark price and when the venue stamped it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PremiumIndex {
    /// The symbol.
    pub symbol: String,
    /// The mark price.
    #[serde(deserialize_with = "wire::computed_price")]
    pub mark_price: Price,
    /// The index price.
    #[serde(deserialize_with = "wire::computed_price")]
    pub index_price: Price,
    /// When the venue computed it, ms since the epoch.
    pub time: u64,
}

impl RestClient {
    /// `GET /fapi/v1/exchangeInfo`: every instrument and its filters.
    ///
    /// # Errors
    /// A transport failure, the venue's refusal, or a body that is not an exchangeInfo.
    pub async fn exchange_info(&self) -> Result<ExchangeInfo, RequestError> {
        let body = self
            .send(public("/fapi/v1/exchangeInfo", Params::new()))
            .await?;
        let text = String::from_utf8_lossy(&body);
        parse_exchange_info(&text).map_err(|e| RequestError::Decode {
            place: "/fapi/v1/exchangeInfo".to_owned(),
            detail: e.to_string(),
        })
    }

    /// `GET /fapi/v1/premiumIndex?symbol=S`: the symbol's mark price (weight 1).
    ///
    /// # Errors
    /// A transport failure, the venue's refusal (an unknown symbol), or an unreadable answer.
    pub async fn premium_index(&self, symbol: &str) -> Result<PremiumIndex, RequestError> {
        let mut params = Params::new();
        params.text("symbol", symbol);
        self.call(public("/fapi/v1/premiumIndex", params)).await
    }

    /// `GET /fapi/v2/positionRisk`: like [`Self::position_risk`], but the rows carry the
    /// symbol's `leverage` and `marginType`, which v3 dropped.
    ///
    /// # Errors
    /// The venue's refusal or a transport failure.
    pub async fn position_risk_v2(
        &self,
        symbol: Option<&str>,
    ) -> Result<Vec<PositionRisk>, RequestError> {
        let mut params = Params::new();
        params.opt_text("symbol", symbol);
        self.call(Call::signed_get("/fapi/v2/positionRisk", params))
            .await
    }
}

/// An unsigned, idempotent `GET`.
fn public(path: &'static str, params: Params) -> Call {
    Call {
        method: Method::GET,
        path,
        params,
        security: Security::None,
        idempotency: Idempotency::Idempotent,
    }
}
