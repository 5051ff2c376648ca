//! Start-up recovery of the strategies (seed 001 "reconstruction of grid state from exchange
//! positions on startup"): each instance is handed the venue's open orders on its symbol (the
//! strategy engine shows it those carrying its tag) and its own position, rebuilt from the
//! stored fills of its orders — so a restarted grid continues its slots instead of placing a
//! second grid, and a strategy's position survives a restart.

use kestrel_model::order::PositionSide;
use kestrel_model::position::Position;
use kestrel_store::Store;
use kestrel_strategy::OpenOrder;
use kestrel_strategy::ids::InstanceTag;
use kestrel_venue::binance::rest::RestClient;

use crate::core::{CoreAction, TradingCore};

/// Fills read back per symbol, at most.
const FILLS_READ: u32 = 100_000;

/// Recovers every running instance; returns the actions recovery asked for (cancels of
/// orders no instance claims, quotes to restore).
///
/// # Errors
/// When the venue's open orders or the stored fills cannot be read.
pub async fn recover(
    core: &mut TradingCore,
    rest: &RestClient,
    store: &Store,
    now_ms: u64,
) -> anyhow::Result<Vec<CoreAction>> {
    let instances: Vec<(String, String)> = core
        .status(now_ms)
        .strategies
        .into_iter()
        .map(|i| (i.name, i.symbol))
        .collect();
    let mut actions = Vec::new();
    for (name, symbol) in instances {
        let open = open_orders(rest, &symbol).await?;
        let position = position_of(store, &name, &symbol).await?;
        match core.recover(&name, &open, position, now_ms) {
            Ok(more) => actions.extend_from_slice(more),
            Err(error) => {
                tracing::warn!(target: "kestrel::engine", instance = %name, %error, "recovery skipped")
            }
        }
    }
    Ok(actions)
}

async fn open_orders(rest: &RestClient, symbol: &str) -> anyhow::Result<Vec<OpenOrder>> {
    let orders = rest.open_orders(Some(symbol)).await?;
    Ok(orders
        .into_iter()
        .filter_map(|o| {
            let qty = o.orig_qty.try_sub(o.executed_qty).ok()?;
            Some(OpenOrder {
                client_order_id: o.client_order_id,
                side: o.side,
                price: o.price,
                qty,
            })
        })
        .collect())
}

/// Instance `name`'s position: its tagged orders' stored fills, in time order.
async fn position_of(store: &Store, name: &str, symbol: &str) -> anyhow::Result<Position> {
    let tag = InstanceTag::of(name);
    let fills = store.fills_between(symbol, 0..u64::MAX, FILLS_READ).await?;
    let mut position = Position::flat(symbol, PositionSide::Both);
    for record in fills {
        let fill = &record.fill;
        if InstanceTag::from_client_order_id(&fill.client_order_id) != Some(tag) {
            continue;
        }
        position.apply_fill(fill.side, fill.quantity, fill.price, fill.commission)?;
    }
    Ok(position)
}
