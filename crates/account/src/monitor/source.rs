//! [`AccountSource`]: where the monitor reads the venue's truth, and its Binance
//! implementation on the REST client.

use std::collections::BTreeMap;
use std::future::Future;

use kestrel_venue::binance::RequestError;
use kestrel_venue::binance::rest::RestClient;

use crate::snapshot::VenueSnapshot;

/// A venue account the monitor can read (the architecture's `AccountSource` port).
pub trait AccountSource: Send + Sync + 'static {
    /// Why a read failed.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The balances and position legs now.
    fn snapshot(&self) -> impl Future<Output = Result<VenueSnapshot, Self::Error>> + Send;

    /// Each symbol's leverage (read at start; changes arrive as user-data events).
    fn leverage(&self) -> impl Future<Output = Result<BTreeMap<String, u32>, Self::Error>> + Send;
}

impl AccountSource for RestClient {
    type Error = RequestError;

    /// `GET /fapi/v3/account` and `GET /fapi/v3/positionRisk`, concurrently (weight 10).
    async fn snapshot(&self) -> Result<VenueSnapshot, RequestError> {
        let (account, rows) = tokio::try_join!(self.account(), self.position_risk(None))?;
        Ok(VenueSnapshot::from_binance(&account, &rows))
    }

    /// `GET /fapi/v2/positionRisk` (weight 5): v3 rows no longer carry leverage.
    async fn leverage(&self) -> Result<BTreeMap<String, u32>, RequestError> {
        let rows = self.position_risk_v2(None).await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| row.leverage.map(|l| (row.symbol, l)))
            .collect())
    }
}
