//! Start-up continuity with a store (seed 001 durable execution): before recovery and the
//! user stream start, the engine takes back what earlier runs left.
//!
//! - Every order the store holds open whose journal intent was acknowledged or adopted is
//!   tracked again with its request, first answer and stored fills ([`Engine::restore`]), so
//!   its later fills, cancels and expiries are followed. An open order without an intent is left
//!   to the reconciliation, which adopts it from the venue if it carries the engine's prefix.
//! - Fill recovery resumes at the largest trade id the store holds per symbol, with the legs of
//!   it stored counted as applied ([`Engine::resume_fills_at`]), so the first reconciliation
//!   reads from the venue exactly the fills made while no process ran, and those symbols are
//!   reconciled even when no order of theirs is open.
//!
//! [`Engine::restore`]: crate::engine::Engine::restore
//! [`Engine::resume_fills_at`]: crate::engine::Engine::resume_fills_at

use std::collections::BTreeMap;

use kestrel_model::config::StoreConfig;
use kestrel_store::{LastTrade, Store};

use super::{DriverError, Shared};
use crate::engine::{EngineError, RestoredOrder};
use crate::journal::{Journal, intent_from_store};

/// What earlier runs left in the store.
#[derive(Debug)]
pub(super) struct Earlier {
    orders: Vec<RestoredOrder>,
    last_trades: BTreeMap<String, LastTrade>,
}

/// Reads the open orders with their intents and fills, and the last trade id per symbol, on a
/// store opened for this at start-up (nothing else runs yet, so the caller's runtime may drive
/// it) and closed after.
pub(super) async fn load(config: &StoreConfig) -> Result<Earlier, DriverError> {
    let store = Store::open(config).await.map_err(DriverError::Store)?;
    let earlier = read(&store).await;
    store.close().await;
    earlier
}

async fn read(store: &Store) -> Result<Earlier, DriverError> {
    let open = store.open_orders(None).await.map_err(DriverError::Store)?;
    let mut orders = Vec::with_capacity(open.len());
    for record in open {
        let id = record.client_order_id.as_str();
        let Some(stored) = store
            .intent_by_client_id(id)
            .await
            .map_err(DriverError::Store)?
        else {
            tracing::warn!(target: "kestrel::exec", client_order_id = id, "an open order in the store has no journal intent; the reconciliation will adopt it if the venue still has it");
            continue;
        };
        let intent = intent_from_store(stored).map_err(EngineError::from)?;
        let fills = store
            .fills_for_order(id)
            .await
            .map_err(DriverError::Store)?
            .into_iter()
            .map(|record| record.fill)
            .collect();
        orders.push(RestoredOrder {
            intent,
            venue_order_id: record.venue_order_id,
            fills,
        });
    }
    let last_trades = store.last_trades().await.map_err(DriverError::Store)?;
    Ok(Earlier {
        orders,
        last_trades,
    })
}

/// Hands what earlier runs left to the engine.
pub(super) fn apply<J: Journal + 'static>(shared: &Shared<J>, earlier: Earlier) {
    let now = shared.now();
    let offered = earlier.orders.len();
    let restored = shared.engine(|e| {
        for (symbol, last) in &earlier.last_trades {
            e.resume_fills_at(symbol, last.trade_id, &last.sides);
        }
        earlier
            .orders
            .into_iter()
            .map(|order| e.restore(order, now))
            .filter(|restored| *restored)
            .count()
    });
    tracing::info!(target: "kestrel::exec", restored, skipped = offered - restored, symbols = earlier.last_trades.len(), "took back the open orders and fill positions of earlier runs");
}
