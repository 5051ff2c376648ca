//! The account monitor against the Kestrel simulator over real sockets: trades placed over the
//! venue's REST API, the monitor fed by the user-data stream, and its balances, positions and
//! realized P&L compared with the simulator's own account records to the last unit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use kestrel_account::api;
use kestrel_account::monitor::SystemClock;
use kestrel_account::{AccountMonitor, AccountView, AlertKind, MonitorConfig, StreamHealth};
use kestrel_model::config::AccountConfig;
use kestrel_model::money::RoundingMode;
use kestrel_model::{Money, Qty, Rate, Side};
use kestrel_store::Store;
use kestrel_venue::binance::orders::TradeQuery;
use kestrel_venue::binance::rest::RestClient;
use kestrel_venue::binance::user_data::{ExecutionType, UserEvent, UserStream};
use serde_json::Value;
use support::{
    PATIENCE, SYMBOL, attached_user_stream, best_ask, control, rest, start_sim, step, trade,
};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Monitor settings for tests: reconciliation only when the test asks.
fn config() -> MonitorConfig {
    MonitorConfig {
        reconciliation_interval: Duration::from_secs(3_600),
        snapshot_interval: Duration::from_secs(3_600),
        ..MonitorConfig::new(&AccountConfig::default())
    }
}

/// Forwards the stream to the monitor, counting the fills and `ACCOUNT_UPDATE`s it passed on.
fn forward(mut stream: UserStream, monitor: &AccountMonitor) -> watch::Receiver<(usize, usize)> {
    let inputs = monitor.inputs();
    let (counts, seen) = watch::channel((0, 0));
    tokio::spawn(async move {
        while let Some(event) = stream.next_event().await {
            let event = event.unwrap();
            let (fill, update) = match &event {
                UserEvent::OrderTradeUpdate(u) => {
                    (u.order.execution_type == ExecutionType::Trade, false)
                }
                UserEvent::AccountUpdate(_) => (false, true),
                _ => (false, false),
            };
            assert!(inputs.user_event(event));
            counts.send_modify(|(fills, updates)| {
                *fills += usize::from(fill);
                *updates += usize::from(update);
            });
        }
    });
    seen
}

/// Buys, adds, partly closes, flips, sweeps several levels and flips back, stepping the market
/// between trades so prices move.
async fn trade_a_while(sim: &kestrel_sim::server::RunningSim, rest: &RestClient) {
    trade(rest, "a1", Side::Buy, "0.010", None).await;
    step(sim, 1_000).await;
    trade(rest, "a2", Side::Buy, "0.005", None).await;
    step(sim, 1_000).await;
    trade(rest, "a3", Side::Sell, "0.007", None).await;
    step(sim, 1_000).await;
    trade(rest, "a4", Side::Sell, "0.010", None).await;
    step(sim, 1_000).await;
    let through = best_ask(sim)
        .await
        .try_mul_rate(Rate::parse("1.003").unwrap(), RoundingMode::Floor)
        .unwrap();
    let through = through
        .round_to_step(
            kestrel_model::Price::parse("0.1").unwrap(),
            kestrel_model::Price::ZERO,
            RoundingMode::Floor,
        )
        .unwrap();
    trade(rest, "a5", Side::Buy, "0.090", Some(through)).await;
    step(sim, 1_000).await;
    trade(rest, "a6", Side::Sell, "0.101", None).await;
    step(sim, 1_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitor_agrees_with_the_simulator_to_the_last_unit() {
    let sim = start_sim().await;
    let rest = rest(&sim);
    let stream = attached_user_stream(&sim, &rest).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::sqlite(dir.path().join("kestrel.sqlite"))
        .await
        .unwrap();
    let monitor = AccountMonitor::start(
        config(),
        rest.clone(),
        Some(store.clone()),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    let start_wallet = wallet(&monitor.view());
    let mut seen = forward(stream, &monitor);

    trade_a_while(&sim, &rest).await;
    control(
        &sim,
        "/sim/v1/mark",
        &format!(r#"{{"symbol":"{SYMBOL}","price":"60123.45"}}"#),
    )
    .await;

    // The simulator's own records.
    let trades = rest.user_trades(&TradeQuery::symbol(SYMBOL)).await.unwrap();
    assert!(
        trades.len() > 6,
        "the sweep fills at several prices: {}",
        trades.len()
    );
    let realized = trades
        .iter()
        .fold(Money::ZERO, |s, t| s.try_add(t.realized_pnl).unwrap());
    let fees = trades
        .iter()
        .fold(Money::ZERO, |s, t| s.try_add(t.commission).unwrap());
    let fill_count = trades.len();
    tokio::time::timeout(
        PATIENCE,
        seen.wait_for(|(fills, updates)| *fills == fill_count && *updates >= fill_count),
    )
    .await
    .expect("every fill and its ACCOUNT_UPDATE reached the monitor")
    .unwrap();

    let report = monitor.reconcile_now().await.unwrap();
    assert!(!report.mismatch, "{report:?}");
    assert_eq!(
        (report.pending, report.positions_checked),
        (0, 1),
        "{report:?}"
    );
    let view = monitor.view();
    let account = rest.account().await.unwrap();
    let rows: Vec<_> = rest
        .position_risk(None)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| !r.position_amt.is_zero())
        .collect();

    assert_eq!(view.pnl.realized_pnl, realized);
    assert!(!realized.is_zero());
    assert_eq!(view.pnl.fees_paid, fees);
    assert_eq!(wallet(&view), account.total_wallet_balance);
    assert_eq!(
        wallet(&view),
        start_wallet
            .try_add(realized)
            .unwrap()
            .try_sub(fees)
            .unwrap()
    );
    let usdt = view.balances.iter().find(|b| b.asset == "USDT").unwrap();
    assert_eq!(usdt.available_balance, account.available_balance);
    assert_eq!(usdt.unrealized_pnl, account.total_unrealized_profit);
    assert_eq!(view.positions.len(), rows.len());
    for (mine, theirs) in view.positions.iter().zip(&rows) {
        assert_eq!(
            (mine.symbol.as_str(), mine.position_side),
            (theirs.symbol.as_str(), theirs.position_side)
        );
        assert_eq!(mine.qty, theirs.position_amt);
        assert_eq!(mine.entry_price, theirs.entry_price);
        assert_eq!(mine.mark_price, Some(theirs.mark_price));
        assert_eq!(mine.unrealized_pnl, theirs.un_realized_profit);
        assert_eq!(mine.leverage, Some(20));
    }
    assert_eq!(
        view.stream,
        StreamHealth::default(),
        "the stream agreed with the book's arithmetic"
    );
    assert!(view.trading_halted.is_none());

    check_persisted(&monitor, &store, &view).await;
    check_api(&monitor, &rows[0].position_amt, &realized).await;
    monitor.shutdown().await;
    sim.shutdown().await;
}

fn wallet(view: &AccountView) -> Money {
    view.balances
        .iter()
        .find(|b| b.asset == "USDT")
        .unwrap()
        .total_balance
}

async fn check_persisted(monitor: &AccountMonitor, store: &Store, view: &AccountView) {
    monitor.persist_now().await.unwrap().unwrap();
    let stored = store.latest_account_snapshot().await.unwrap().unwrap();
    assert_eq!(stored.pnl.realized_pnl, view.pnl.realized_pnl);
    assert_eq!(
        stored
            .balances
            .iter()
            .find(|b| b.asset == "USDT")
            .unwrap()
            .wallet_balance,
        wallet(view)
    );
    let legs: Vec<_> = stored
        .positions
        .iter()
        .map(|p| (p.qty, p.entry_price))
        .collect();
    let expected: Vec<_> = view
        .positions
        .iter()
        .map(|p| (p.qty, p.entry_price))
        .collect();
    assert_eq!(legs, expected);
}

async fn check_api(monitor: &AccountMonitor, qty: &Qty, realized: &Money) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = api::router(monitor.subscribe());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let get = |path: &str| {
        let url = format!("{base}{path}");
        async move {
            let response = reqwest::get(url).await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let (status, position) = get("/api/v1/account/positions/btcusdt").await;
    assert_eq!(status, 200);
    assert_eq!(position["qty"], Value::String(qty.to_string()));
    let (status, pnl) = get("/api/v1/account/pnl").await;
    assert_eq!(status, 200);
    assert_eq!(pnl["realized_pnl"], Value::String(realized.to_string()));
    let (status, missing) = get("/api/v1/account/positions/ETHUSDT").await;
    assert_eq!(status, 404);
    assert_eq!(missing["error"], "no open position in ETHUSDT");
    let (status, report) = get("/api/v1/account/reconciliation").await;
    assert_eq!((status, &report["mismatch"]), (200, &Value::Bool(false)));
    for path in [
        "/api/v1/account",
        "/api/v1/account/balance",
        "/api/v1/account/positions",
        "/api/v1/account/alerts",
    ] {
        assert_eq!(get(path).await.0, 200, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fill_the_monitor_never_saw_is_found_adopted_and_halts_trading() {
    let sim = start_sim().await;
    let rest = rest(&sim);
    let mut config = config();
    config.book.stream_grace_ms = 0;
    let monitor = AccountMonitor::start(config, rest.clone(), None, Arc::new(SystemClock))
        .await
        .unwrap();
    let mut raised = monitor.raised_alerts();
    // No user stream: the monitor never hears of this.
    trade(&rest, "b1", Side::Buy, "0.004", None).await;
    let report = monitor.reconcile_now().await.unwrap();
    assert_eq!(
        report.mismatches_found, 2,
        "the position and the wallet: {report:?}"
    );
    let position = &report.discrepancies[0];
    assert_eq!(
        (position.local_size, position.exchange_size),
        (Money::ZERO, Money::parse("0.004").unwrap())
    );
    assert_eq!(position.difference_percent, Rate::parse("100").unwrap());
    assert!(report.halt_trading);
    let view = monitor.view();
    assert_eq!(view.positions[0].qty, Qty::parse("0.004").unwrap());
    assert!(view.trading_halted.is_some());
    assert!(
        view.alerts
            .iter()
            .any(|a| a.id.starts_with("trading_halted-"))
    );
    let kinds: Vec<AlertKind> = std::iter::from_fn(|| raised.try_recv().ok())
        .map(|a| a.kind)
        .collect();
    assert_eq!(
        kinds,
        [AlertKind::ReconciliationMismatch, AlertKind::TradingHalted]
    );
    // Adopted: the next reconciliation is clean, but the halt waits for an operator.
    assert!(!monitor.reconcile_now().await.unwrap().mismatch);
    assert!(monitor.view().trading_halted.is_some());
    monitor.clear_halt().await.unwrap();
    assert!(monitor.view().trading_halted.is_none());
    monitor.shutdown().await;
    sim.shutdown().await;
}
