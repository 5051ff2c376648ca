#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Account snapshots on SQLite and PostgreSQL alike: every field read back exactly (money at
//! the edges of its type, missing optionals, every position side), the latest snapshot and time
//! ranges, and a snapshot written whole or not at all.

mod common;

use common::{price, qty, stores};
use kestrel_model::order::PositionSide;
use kestrel_model::{Money, Price, Rate};
use kestrel_store::{AccountSnapshot, BalanceSnapshot, PnlSnapshot, PositionSnapshot};

fn money(text: &str) -> Money {
    Money::parse(text).unwrap()
}

fn pnl(sharpe: Option<f64>) -> PnlSnapshot {
    PnlSnapshot {
        realized_pnl: money("-4.0005"),
        unrealized_pnl: money("13.4995000000000001"),
        total_pnl: money("9.4990000000000001"),
        daily_pnl: Money::MAX,
        fees_paid: money("0.85365025"),
        funding_fees: Money::MIN,
        win_rate: Rate::parse("33.33333333").unwrap(),
        closed_positions: u64::try_from(i64::MAX).unwrap(),
        sharpe_ratio: sharpe,
        max_drawdown: money("0.0000000000000001"),
        max_drawdown_percent: Rate::MAX,
    }
}

fn position(
    symbol: &str,
    side: PositionSide,
    amount: &str,
    mark: Option<Price>,
) -> PositionSnapshot {
    PositionSnapshot {
        symbol: symbol.to_owned(),
        position_side: side,
        qty: qty(amount),
        entry_price: price("60100.03333333"),
        mark_price: mark,
        liquidation_price: mark.map(|_| Price::MAX),
        unrealized_pnl: money("-0.00000001"),
        realized_pnl: money("2.79976667"),
        leverage: mark.map(|_| 125),
        margin_used: money("45.075025"),
    }
}

fn snapshot(time_ms: u64, sharpe: Option<f64>) -> AccountSnapshot {
    AccountSnapshot {
        time_ms,
        margin_asset: String::from("USDT"),
        balances: vec![
            BalanceSnapshot {
                asset: String::from("BNB"),
                wallet_balance: money("0.5"),
                available_balance: money("0.5"),
                in_orders: Money::ZERO,
                unrealized_pnl: Money::ZERO,
                initial_margin: Money::ZERO,
                maint_margin: Money::ZERO,
            },
            BalanceSnapshot {
                asset: String::from("USDT"),
                wallet_balance: money("9995.14584975"),
                available_balance: money("-12.5"),
                in_orders: money("3.0000000000000001"),
                unrealized_pnl: money("13.4995"),
                initial_margin: money("48.075025"),
                maint_margin: money("3.6"),
            },
        ],
        positions: vec![
            position(
                "BTCUSDT",
                PositionSide::Both,
                "-0.015",
                Some(price("61000.1")),
            ),
            position("ETHUSDT", PositionSide::Long, "92233720368.54775807", None),
            position(
                "ETHUSDT",
                PositionSide::Short,
                "-0.00000001",
                Some(Price::EPSILON),
            ),
        ],
        pnl: pnl(sharpe),
    }
}

#[tokio::test]
async fn a_snapshot_reads_back_exactly() {
    for ts in stores("account_roundtrip").await {
        let written = snapshot(1_760_000_000_000, Some(1.234_567_890_123_45));
        ts.store.insert_account_snapshot(&written).await.unwrap();
        let read = ts.store.latest_account_snapshot().await.unwrap();
        assert_eq!(read, Some(written), "{}", ts.label);
    }
}

#[tokio::test]
async fn an_empty_store_has_no_latest_snapshot_and_the_newest_wins() {
    for ts in stores("account_latest").await {
        assert_eq!(
            ts.store.latest_account_snapshot().await.unwrap(),
            None,
            "{}",
            ts.label
        );
        let mut flat = snapshot(2_000, None);
        flat.positions.clear();
        flat.balances.truncate(1);
        ts.store
            .insert_account_snapshot(&snapshot(1_000, None))
            .await
            .unwrap();
        ts.store.insert_account_snapshot(&flat).await.unwrap();
        ts.store
            .insert_account_snapshot(&snapshot(1_500, None))
            .await
            .unwrap();
        let latest = ts.store.latest_account_snapshot().await.unwrap().unwrap();
        assert_eq!(latest, flat, "{}", ts.label);
        let between = ts
            .store
            .account_snapshots_between(1_000..2_000, 10)
            .await
            .unwrap();
        let times: Vec<u64> = between.iter().map(|s| s.time_ms).collect();
        assert_eq!(times, [1_000, 1_500], "{}", ts.label);
        assert_eq!(between[1], snapshot(1_500, None), "{}", ts.label);
        let limited = ts
            .store
            .account_snapshots_between(0..u64::MAX, 1)
            .await
            .unwrap();
        assert_eq!(limited.len(), 1, "{}", ts.label);
    }
}

#[tokio::test]
async fn a_snapshot_is_written_whole_or_not_at_all() {
    for ts in stores("account_atomic").await {
        let mut broken = snapshot(3_000, None);
        // Two rows for the same leg: the second insert fails, and the summary goes with it.
        broken.positions.push(broken.positions[0].clone());
        assert!(
            ts.store.insert_account_snapshot(&broken).await.is_err(),
            "{}",
            ts.label
        );
        assert_eq!(
            ts.store.latest_account_snapshot().await.unwrap(),
            None,
            "{}",
            ts.label
        );
        assert_eq!(ts.rows("account_snapshots").await, 0, "{}", ts.label);
        let out_of_range = snapshot(u64::MAX, None);
        assert!(
            ts.store
                .insert_account_snapshot(&out_of_range)
                .await
                .is_err(),
            "{}",
            ts.label
        );
    }
}
