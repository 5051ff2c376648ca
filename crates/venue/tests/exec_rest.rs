//! The Binance REST execution client against the in-process simulator over real sockets:
//! order round trips, batches, cancel-all, algo orders, account queries, listen keys and the
//! rate-limit headers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod exec_support;

use exec_support::{SYMBOL, best_bid_ask, limit, rest, resting_buy, start_sim};
use kestrel_model::order::{OrderType, PositionSide, TimeInForce, WorkingType};
use kestrel_model::{Price, Qty, Side};
use kestrel_venue::binance::orders::{
    AlgoStatus, NewOrder, OrderKey, ResponseType, TradeQuery, VenueOrderStatus,
};
use kestrel_venue::binance::{RequestError, RetryAdvice};

fn client_key(id: &str) -> OrderKey {
    OrderKey::ClientOrderId(id.to_owned())
}

#[tokio::test]
async fn rest_place_query_cancel_round_trip_by_client_order_id() {
    let sim = start_sim().await;
    let client = rest(&sim);
    client.sync_clock().await.unwrap();
    let order = resting_buy(&sim, "rt-1").await;
    let placed = client.place_order(&order).await.unwrap();
    assert_eq!(placed.status, VenueOrderStatus::New);
    assert_eq!(placed.client_order_id, "rt-1");
    assert_eq!(
        (placed.price, placed.orig_qty),
        (order.price.unwrap(), order.quantity.unwrap())
    );

    let queried = client
        .query_order(SYMBOL, &client_key("rt-1"))
        .await
        .unwrap();
    assert_eq!(queried.order_id, placed.order_id);
    assert!(queried.time.is_some(), "queries carry the creation time");
    let open = client.open_orders(Some(SYMBOL)).await.unwrap();
    assert_eq!(
        open.iter().map(|o| o.order_id).collect::<Vec<_>>(),
        vec![placed.order_id]
    );

    let canceled = client
        .cancel_order(SYMBOL, &client_key("rt-1"))
        .await
        .unwrap();
    assert_eq!(canceled.status, VenueOrderStatus::Canceled);
    let after = client
        .query_order(SYMBOL, &OrderKey::OrderId(placed.order_id))
        .await
        .unwrap();
    assert_eq!(after.status, VenueOrderStatus::Canceled);
    let again = client
        .cancel_order(SYMBOL, &client_key("rt-1"))
        .await
        .unwrap_err();
    assert!(
        again.is_not_found(),
        "a second cancel finds the order gone: {again}"
    );
    assert_eq!(again.code(), Some(-2011));
    sim.shutdown().await;
}

#[tokio::test]
async fn query_of_an_unknown_client_order_id_is_not_found() {
    let sim = start_sim().await;
    let error = rest(&sim)
        .query_order(SYMBOL, &client_key("never-sent"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, RequestError::NotFound { code: -2013, .. }),
        "{error}"
    );
    assert!(!error.is_retry_safe());
    sim.shutdown().await;
}

#[tokio::test]
async fn rate_limit_headers_are_captured_per_response() {
    let sim = start_sim().await;
    let client = rest(&sim);
    assert!(client.rate_limits().is_empty());
    client.open_orders(Some(SYMBOL)).await.unwrap();
    let after_query = client.rate_limits();
    assert!(
        after_query.used_weight_1m.is_some_and(|w| w >= 1),
        "{after_query:?}"
    );
    client
        .place_order(&resting_buy(&sim, "rl-1").await)
        .await
        .unwrap();
    let after_order = client.rate_limits();
    assert!(
        after_order.order_count_10s.is_some_and(|n| n >= 1),
        "{after_order:?}"
    );
    assert!(
        after_order.order_count_1m.is_some_and(|n| n >= 1),
        "{after_order:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn batch_place_and_batch_cancel_answer_in_request_order() {
    let sim = start_sim().await;
    let client = rest(&sim);
    let good = resting_buy(&sim, "b-1").await;
    let mut off_tick = resting_buy(&sim, "b-2").await;
    off_tick.price = Some(
        off_tick
            .price
            .unwrap()
            .try_add(Price::parse("0.01").unwrap())
            .unwrap(),
    );
    let third = resting_buy(&sim, "b-3").await;
    let results = client.place_batch(&[good, off_tick, third]).await.unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].as_ref().unwrap().client_order_id, "b-1");
    let refused = results[1].as_ref().unwrap_err();
    assert!(
        matches!(refused, RequestError::Rejected { code: -4014, .. }),
        "{refused}"
    );
    assert_eq!(results[2].as_ref().unwrap().client_order_id, "b-3");

    let keys = [client_key("b-1"), client_key("b-2"), client_key("b-3")];
    let canceled = client.cancel_batch(SYMBOL, &keys).await.unwrap();
    assert_eq!(
        canceled[0].as_ref().unwrap().status,
        VenueOrderStatus::Canceled
    );
    assert!(canceled[1].as_ref().unwrap_err().is_not_found());
    assert_eq!(
        canceled[2].as_ref().unwrap().status,
        VenueOrderStatus::Canceled
    );
    let mixed = [client_key("b-1"), OrderKey::OrderId(1)];
    assert!(matches!(
        client.cancel_batch(SYMBOL, &mixed).await,
        Err(RequestError::Invalid { .. })
    ));
    sim.shutdown().await;
}

#[tokio::test]
async fn cancel_all_empties_the_symbol() {
    let sim = start_sim().await;
    let client = rest(&sim);
    for id in ["ca-1", "ca-2"] {
        client
            .place_order(&resting_buy(&sim, id).await)
            .await
            .unwrap();
    }
    assert_eq!(client.open_orders(Some(SYMBOL)).await.unwrap().len(), 2);
    client.cancel_all(SYMBOL).await.unwrap();
    assert!(client.open_orders(None).await.unwrap().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn conditional_orders_go_through_the_algo_endpoints() {
    let sim = start_sim().await;
    let client = rest(&sim);
    let (bid, _) = best_bid_ask(&sim).await;
    let stop = NewOrder {
        order_type: OrderType::StopMarket,
        time_in_force: None,
        price: None,
        stop_price: Some(bid.try_sub(Price::parse("2000").unwrap()).unwrap()),
        working_type: WorkingType::MarkPrice,
        ..limit(Side::Sell, bid, "0.010", "algo-1")
    };
    let refused = client.place_order(&stop).await.unwrap_err();
    assert!(
        matches!(refused, RequestError::Invalid { .. }),
        "refused before sending: {refused}"
    );
    let placed = client.place_algo_order(&stop).await.unwrap();
    assert_eq!(
        (placed.client_algo_id.as_str(), placed.algo_status),
        ("algo-1", AlgoStatus::New)
    );
    assert_eq!(placed.trigger_price, stop.stop_price.unwrap());
    assert_eq!(placed.working_type, WorkingType::MarkPrice);
    let queried = client
        .query_algo_order(&client_key("algo-1"))
        .await
        .unwrap();
    assert_eq!(queried.algo_id, placed.algo_id);
    let open = client.open_algo_orders(Some(SYMBOL)).await.unwrap();
    assert_eq!(open.len(), 1);
    let canceled = client
        .cancel_algo_order(&OrderKey::OrderId(placed.algo_id))
        .await
        .unwrap();
    assert_eq!(canceled.client_algo_id, "algo-1");
    let gone = client
        .query_algo_order(&client_key("algo-1"))
        .await
        .unwrap();
    assert_eq!(gone.algo_status, AlgoStatus::Canceled);
    assert!(
        client
            .query_algo_order(&client_key("nope"))
            .await
            .unwrap_err()
            .is_not_found()
    );
    client
        .place_algo_order(&NewOrder {
            client_order_id: "algo-2".into(),
            ..stop
        })
        .await
        .unwrap();
    client.cancel_all_algo_orders(SYMBOL).await.unwrap();
    assert!(client.open_algo_orders(None).await.unwrap().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn account_balances_positions_and_trades_are_exact_after_a_fill() {
    let sim = start_sim().await;
    let client = rest(&sim);
    let before = client.account().await.unwrap();
    assert_eq!(before.assets[0].asset, "USDT");
    assert!(before.positions.is_empty());
    let (_, ask) = best_bid_ask(&sim).await;
    let mut taker = limit(Side::Buy, ask, "0.002", "acct-1");
    taker.time_in_force = Some(TimeInForce::Ioc);
    taker.response_type = ResponseType::Result;
    let filled = client.place_order(&taker).await.unwrap();
    assert!(filled.executed_qty.is_positive(), "{filled:?}");

    let risk = client.position_risk(Some(SYMBOL)).await.unwrap();
    assert_eq!(risk.len(), 1);
    assert_eq!(
        (risk[0].position_side, risk[0].position_amt),
        (PositionSide::Both, filled.executed_qty)
    );
    let trades = client
        .user_trades(&TradeQuery::order(SYMBOL, filled.order_id))
        .await
        .unwrap();
    let traded: i64 = trades.iter().map(|t| t.qty.raw()).sum();
    assert_eq!(Qty::from_raw(traded), filled.executed_qty);
    let notional = trades
        .iter()
        .try_fold(kestrel_model::Money::ZERO, |sum, t| {
            sum.try_add(t.quote_qty)
        });
    assert_eq!(notional.unwrap(), filled.cum_quote);
    let after = client.account().await.unwrap();
    let fees = trades
        .iter()
        .try_fold(kestrel_model::Money::ZERO, |sum, t| {
            sum.try_add(t.commission)
        })
        .unwrap();
    assert_eq!(
        after.total_wallet_balance,
        before.total_wallet_balance.try_sub(fees).unwrap()
    );
    let balances = client.balances().await.unwrap();
    assert_eq!(balances[0].balance, after.total_wallet_balance);
    assert_eq!(
        after.assets[0].to_balance().total,
        after.total_wallet_balance
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn listen_keys_are_created_kept_alive_and_closed() {
    let sim = start_sim().await;
    let client = rest(&sim);
    let key = client.create_listen_key().await.unwrap();
    assert_eq!(key.as_str().len(), 64);
    assert_eq!(
        client.create_listen_key().await.unwrap(),
        key,
        "a live key is returned again"
    );
    client.keepalive_listen_key(&key).await.unwrap();
    client.close_listen_key(&key).await.unwrap();
    let expired = client.keepalive_listen_key(&key).await.unwrap_err();
    assert!(expired.is_listen_key_expired(), "{expired}");
    assert_eq!(expired.retry_advice(), RetryAdvice::Never);
    sim.shutdown().await;
}
