//! The user-data stream against the in-process simulator: a limit order that takes liquidity
//! reports its fills as `ORDER_TRADE_UPDATE`s whose quantities sum to the order's
//! `executedQty` and match `GET /fapi/v1/userTrades`; `ACCOUNT_UPDATE` carries the position;
//! an expired listen key is announced and refuses keepalives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod exec_support;

use std::collections::BTreeMap;

use exec_support::{
    PATIENCE, SYMBOL, best_bid_ask, fault, limit, next_event, rest, resting_buy, start_sim,
    ws_base_url,
};
use kestrel_model::order::{Fill, Liquidity, PositionSide};
use kestrel_model::{Money, Price, Qty, Rate, RoundingMode, Side};
use kestrel_venue::binance::orders::{OrderKey, TradeQuery, VenueOrderStatus};
use kestrel_venue::binance::user_data::{
    AccountUpdateReason, ExecutionType, OrderUpdate, UserEvent, UserStream,
};

/// Reads events until an `ORDER_TRADE_UPDATE` of `client_order_id` with `status`.
async fn wait_for_order(
    stream: &mut UserStream,
    client_order_id: &str,
    status: VenueOrderStatus,
) -> OrderUpdate {
    loop {
        if let UserEvent::OrderTradeUpdate(update) = next_event(stream).await
            && update.order.client_order_id == client_order_id
            && update.order.status == status
        {
            return update.order;
        }
    }
}

/// The fills seen on the stream, and the position of the last `ACCOUNT_UPDATE`.
#[derive(Default)]
struct Seen {
    fills: Vec<Fill>,
    cum_filled: Qty,
    terminal: bool,
    position: Option<Qty>,
}

impl Seen {
    fn on(&mut self, event: UserEvent, client_order_id: &str) {
        match event {
            UserEvent::OrderTradeUpdate(update)
                if update.order.client_order_id == client_order_id =>
            {
                let order = update.order;
                if order.execution_type == ExecutionType::Trade {
                    self.fills
                        .push(order.fill().expect("a TRADE execution is a fill"));
                }
                self.cum_filled = order.cum_filled_qty;
                self.terminal = !order.status.is_open();
            }
            UserEvent::AccountUpdate(update) => {
                assert_eq!(update.update.reason, AccountUpdateReason::Order);
                if let Some(p) = update.update.positions.iter().find(|p| p.symbol == SYMBOL) {
                    assert_eq!(p.position_side, PositionSide::Both);
                    self.position = Some(p.position_amt);
                }
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn limit_fills_on_the_user_stream_sum_to_executed_qty_and_match_user_trades() {
    let sim = start_sim().await;
    let client = rest(&sim);
    let key = client.create_listen_key().await.unwrap();
    let mut stream = UserStream::connect(&ws_base_url(&sim), &key, PATIENCE)
        .await
        .unwrap();
    // A resting order's NEW event shows the stream is attached before the real test starts.
    client
        .place_order(&resting_buy(&sim, "us-probe").await)
        .await
        .unwrap();
    wait_for_order(&mut stream, "us-probe", VenueOrderStatus::New).await;
    client.cancel_all(SYMBOL).await.unwrap();
    wait_for_order(&mut stream, "us-probe", VenueOrderStatus::Canceled).await;

    // A buy limit 0.5 % through the ask takes several levels; any rest is cancelled.
    let (_, ask) = best_bid_ask(&sim).await;
    let through = ask
        .try_mul_rate(Rate::parse("1.005").unwrap(), RoundingMode::Floor)
        .unwrap()
        .round_to_step(
            Price::parse("0.1").unwrap(),
            Price::ZERO,
            RoundingMode::Floor,
        )
        .unwrap();
    let placed = client
        .place_order(&limit(Side::Buy, through, "0.050", "us-take"))
        .await
        .unwrap();
    if placed.status.is_open() {
        let _ = client
            .cancel_order(SYMBOL, &OrderKey::ClientOrderId("us-take".into()))
            .await;
    }
    let mut seen = Seen::default();
    while !(seen.terminal && seen.position == Some(seen.cum_filled)) {
        seen.on(next_event(&mut stream).await, "us-take");
    }

    let order = client
        .query_order(SYMBOL, &OrderKey::OrderId(placed.order_id))
        .await
        .unwrap();
    assert!(
        order.executed_qty.is_positive(),
        "the order took liquidity: {order:?}"
    );
    let streamed = Qty::from_raw(seen.fills.iter().map(|f| f.quantity.raw()).sum());
    assert_eq!(
        streamed, order.executed_qty,
        "stream fills sum to executedQty"
    );
    assert_eq!(
        seen.cum_filled, order.executed_qty,
        "the last `z` is executedQty"
    );
    assert!(seen.fills.iter().all(|f| f.liquidity == Liquidity::Taker));

    let trades = client
        .user_trades(&TradeQuery::order(SYMBOL, placed.order_id))
        .await
        .unwrap();
    let from_rest: BTreeMap<u64, Fill> = trades
        .iter()
        .map(|t| (t.id, t.to_fill("us-take")))
        .collect();
    let from_stream: BTreeMap<u64, Fill> =
        seen.fills.iter().map(|f| (f.trade_id, f.clone())).collect();
    assert_eq!(
        from_stream, from_rest,
        "the stream and userTrades report the same fills"
    );
    let notional = seen
        .fills
        .iter()
        .try_fold(Money::ZERO, |sum, f| sum.try_add(f.notional()));
    assert_eq!(notional.unwrap(), order.cum_quote);
    stream.close().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn an_expired_listen_key_is_announced_and_refuses_keepalives() {
    let sim = start_sim().await;
    let client = rest(&sim);
    let key = client.create_listen_key().await.unwrap();
    let mut stream = UserStream::connect(&ws_base_url(&sim), &key, PATIENCE)
        .await
        .unwrap();
    client
        .place_order(&resting_buy(&sim, "ex-probe").await)
        .await
        .unwrap();
    wait_for_order(&mut stream, "ex-probe", VenueOrderStatus::New).await;
    fault(
        &sim,
        &format!(
            r#"{{"kind":"expire_listen_key","listen_key":"{}"}}"#,
            key.as_str()
        ),
    )
    .await;
    let expired = loop {
        if let UserEvent::ListenKeyExpired(expired) = next_event(&mut stream).await {
            break expired;
        }
    };
    assert_eq!(expired.listen_key.as_deref(), Some(key.as_str()));
    let refused = client.keepalive_listen_key(&key).await.unwrap_err();
    assert!(refused.is_listen_key_expired(), "{refused}");
    let renewed = client.create_listen_key().await.unwrap();
    assert_ne!(renewed, key, "a new key replaces the expired one");
    sim.shutdown().await;
}
