//! Start-up recovery (seed 001 durable execution): every intent the journal holds as
//! `pending` or `sent` was in flight when the previous process stopped. Each is loaded into
//! the engine and looked up at the venue by its client order id — found: adopted, and its
//! fills loaded from `userTrades`; absent: failed once the venue's acceptance window
//! (`recvWindow` plus the clock margin, [`crate::retry`]) has passed since its last send, and
//! queried again until then. A recovered intent is never resent: its caller is gone. A
//! conditional order is looked up on the algo endpoint by its client algo id, and its fills
//! are its child's, when it has triggered.

use std::sync::Arc;
use std::time::Duration;

use kestrel_venue::binance::orders::TradeQuery;
use tokio::task::JoinSet;

use super::placement::{Lookup, QueryEnd, query};
use super::{DriverError, Shared};
use crate::engine::EngineError;
use crate::journal::Journal;

/// An intent loaded for recovery.
pub(super) struct Recovered {
    request_id: String,
    client_order_id: String,
    symbol: String,
    /// A conditional order: looked up on the algo endpoint.
    algo: bool,
}

/// The intents loaded for recovery.
pub(super) type Recovering = Vec<Recovered>;

/// Loads every unresolved intent into the engine, to be resolved by [`resolve`].
pub(super) fn load<J: Journal + 'static>(shared: &Shared<J>) -> Result<Recovering, DriverError> {
    let intents = shared
        .engine(|e| e.journal().unresolved())
        .map_err(EngineError::from)?;
    if intents.is_empty() {
        return Ok(Vec::new());
    }
    tracing::info!(target: "kestrel::exec", count = intents.len(), "resolving in-flight intents from the journal");
    let now = shared.now();
    Ok(shared.engine(|e| {
        intents
            .into_iter()
            .filter_map(|intent| {
                let recovered = Recovered {
                    request_id: intent.request_id.clone(),
                    client_order_id: intent.client_order_id.clone(),
                    symbol: intent.symbol().to_owned(),
                    algo: intent.request.order_type.is_conditional(),
                };
                e.recover(intent, now).then_some(recovered)
            })
            .collect()
    }))
}

/// Resolves the loaded intents, returning when all are settled.
pub(super) async fn resolve<J: Journal + 'static>(
    shared: &Arc<Shared<J>>,
    loaded: Recovering,
) -> Result<(), DriverError> {
    let mut resolving = JoinSet::new();
    for recovered in loaded {
        let shared = Arc::clone(shared);
        resolving.spawn(async move { resolve_one(&shared, &recovered).await });
    }
    while let Some(result) = resolving.join_next().await {
        result.map_err(|e| {
            EngineError::Journal(crate::journal::JournalError::Storage {
                detail: format!("a recovery task failed: {e}"),
            })
        })??;
    }
    Ok(())
}

/// Settles one recovered intent.
async fn resolve_one<J: Journal + 'static>(
    shared: &Shared<J>,
    recovered: &Recovered,
) -> Result<(), EngineError> {
    let lookup = Lookup {
        client_order_id: &recovered.client_order_id,
        symbol: &recovered.symbol,
        algo: recovered.algo,
    };
    let answer = match query(shared, &lookup, Duration::ZERO).await? {
        QueryEnd::Done(answer) => answer,
        // The engine never resends a recovered intent; should it ever say so, the intent
        // stays unresolved rather than be sent by a process that does not own the request.
        QueryEnd::Resend(_) => return Ok(()),
    };
    tracing::info!(target: "kestrel::exec", %answer, "recovered intent settled");
    if answer.is_accepted() {
        // Its own fills, or a conditional order's child's once triggered.
        let source = shared.engine(|e| e.fills_order(&recovered.client_order_id));
        if let Some((symbol, order_id)) = source {
            load_fills(shared, &symbol, order_id).await;
        }
    }
    shared.settle(&recovered.request_id, &answer);
    Ok(())
}

/// Applies every fill the venue has for one order.
pub(super) async fn load_fills<J: Journal + 'static>(
    shared: &Shared<J>,
    symbol: &str,
    venue_order_id: u64,
) {
    let rest = shared.venue.rest();
    let query = TradeQuery::order(symbol, venue_order_id);
    match shared.idempotent(|| rest.user_trades(&query)).await {
        Ok(trades) => {
            let now = shared.now();
            shared.engine(|e| {
                for trade in &trades {
                    if let Err(error) = e.on_user_trade(trade, now) {
                        tracing::error!(target: "kestrel::exec", %error, "recovered fill not applied");
                    }
                }
            });
        }
        Err(error) => {
            tracing::warn!(target: "kestrel::exec", %error, symbol, venue_order_id, "cannot load the fills of a recovered order; the next reconciliation will");
        }
    }
}
