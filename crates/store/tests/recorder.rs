#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The batched market-data recorder as the pipeline relies on it, on SQLite and PostgreSQL:
//! writes on its interval and at shutdown, never blocks a producer, and survives a failing
//! database without losing its batch.

mod common;

use std::time::Duration;

use common::{TestStore, snapshot, stores, trade, wait_until};
use kestrel_store::{MarketRecorder, RecorderConfig, RecorderCounts};
use tokio::sync::oneshot;

/// A short interval: the tests wait for writes, they never time them.
fn config() -> RecorderConfig {
    RecorderConfig::with_write_interval_ms(10)
}

/// Spawns the writer; the returned sender stops it.
fn spawn(
    ts: &TestStore,
    config: RecorderConfig,
) -> (
    MarketRecorder,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<RecorderCounts>,
) {
    let (recorder, writer) = MarketRecorder::new(ts.store.clone(), config);
    let (stop, stopped) = oneshot::channel::<()>();
    let handle = writer.spawn(async move {
        let _ = stopped.await;
    });
    (recorder, stop, handle)
}

async fn stored_trade_ids(ts: &TestStore) -> Vec<u64> {
    let trades = ts
        .store
        .trades_between("BTCUSDT", 0..u64::MAX, 10_000)
        .await
        .unwrap();
    trades.iter().map(|t| t.trade.trade_id).collect()
}

#[tokio::test]
async fn the_recorder_writes_on_its_interval_without_waiting_for_shutdown() {
    for ts in stores("recorder_interval").await {
        let (recorder, stop, writer) = spawn(&ts, config());
        for id in 0..50 {
            assert!(recorder.try_record_trade(trade("BTCUSDT", id, id)));
        }
        for i in 0..5 {
            assert!(recorder.try_record_snapshot(snapshot("BTCUSDT", i, i, 3)));
        }
        wait_until(async || {
            ts.store.count_trades(None).await.unwrap() == 50
                && ts.store.count_snapshots(None).await.unwrap() == 5
        })
        .await;
        let counts = recorder.stats().counts();
        assert_eq!(counts.trades.written, 50, "{}", ts.label);
        assert_eq!(counts.snapshots.written, 5, "{}", ts.label);
        assert!(counts.flushes >= 1);
        assert_eq!(counts.trades.backlog, 0);

        stop.send(()).unwrap();
        let last = writer.await.unwrap();
        assert_eq!(last.trades.written, 50);
        assert_eq!(last.trades.dropped() + last.snapshots.dropped(), 0);
    }
}

#[tokio::test]
async fn the_recorder_writes_what_is_left_on_shutdown() {
    for ts in stores("recorder_shutdown").await {
        // The first interval is an hour away: only the shutdown can write these.
        let (recorder, stop, writer) =
            spawn(&ts, RecorderConfig::with_write_interval_ms(3_600_000));
        for id in 0..120 {
            assert!(recorder.try_record_trade(trade("BTCUSDT", id, id)));
        }
        assert!(recorder.try_record_snapshot(snapshot("BTCUSDT", 1, 1, 20)));
        stop.send(()).unwrap();
        let counts = writer.await.unwrap();
        assert_eq!(counts.trades.written, 120, "{}", ts.label);
        assert_eq!(counts.snapshots.written, 1, "{}", ts.label);
        assert_eq!(ts.store.count_trades(None).await.unwrap(), 120);
        assert_eq!(stored_trade_ids(&ts).await, (0..120).collect::<Vec<_>>());

        // The writer is gone: a late record is dropped and counted, not queued forever.
        assert!(!recorder.try_record_trade(trade("BTCUSDT", 500, 500)));
        assert_eq!(recorder.stats().counts().trades.dropped_writer_gone, 1);
    }
}

#[tokio::test]
async fn a_full_channel_drops_and_counts_instead_of_blocking() {
    for ts in stores("recorder_full").await {
        let config = RecorderConfig {
            channel_capacity: 4,
            ..config()
        };
        // The writer is not running yet, so nothing drains the channel: the fifth record
        // onwards must come straight back as dropped.
        let (recorder, writer) = MarketRecorder::new(ts.store.clone(), config);
        let accepted: Vec<bool> = (0..10)
            .map(|id| recorder.try_record_trade(trade("BTCUSDT", id, id)))
            .collect();
        assert_eq!(
            accepted,
            [
                true, true, true, true, false, false, false, false, false, false
            ]
        );
        assert!(!recorder.try_record_snapshot(snapshot("BTCUSDT", 1, 1, 1)));
        let counts = recorder.stats().counts();
        assert_eq!(counts.trades.dropped_channel_full, 6, "{}", ts.label);
        assert_eq!(counts.snapshots.dropped_channel_full, 1, "{}", ts.label);

        let last = writer.run(std::future::ready(())).await;
        assert_eq!(last.trades.written, 4, "{}", ts.label);
        assert_eq!(last.trades.dropped(), 6);
        assert_eq!(stored_trade_ids(&ts).await, [0, 1, 2, 3]);
    }
}

#[tokio::test]
async fn dropping_every_handle_stops_the_writer_after_a_last_write() {
    for ts in stores("recorder_handles_gone").await {
        let (recorder, writer) = MarketRecorder::new(
            ts.store.clone(),
            RecorderConfig::with_write_interval_ms(3_600_000),
        );
        let handle = writer.spawn(std::future::pending());
        let clone = recorder.clone();
        assert!(clone.try_record_trade(trade("BTCUSDT", 1, 1)));
        assert!(recorder.try_record_trade(trade("BTCUSDT", 2, 2)));
        drop(clone);
        drop(recorder);
        let counts = handle.await.unwrap();
        assert_eq!(counts.trades.written, 2, "{}", ts.label);
        assert_eq!(ts.store.count_trades(None).await.unwrap(), 2);
    }
}

#[tokio::test]
async fn a_failing_database_keeps_the_batch_and_retries_until_it_is_written() {
    for ts in stores("recorder_retry").await {
        ts.execute("ALTER TABLE trades RENAME TO trades_elsewhere")
            .await;
        let (recorder, stop, writer) = spawn(&ts, config());
        for id in 0..30 {
            assert!(recorder.try_record_trade(trade("BTCUSDT", id, id)));
        }
        let stats = recorder.stats().clone();
        wait_until(async || stats.counts().failed_flushes >= 2).await;
        let during = stats.counts();
        assert_eq!(during.trades.written, 0, "{}", ts.label);
        assert_eq!(during.trades.backlog, 30, "{}", ts.label);

        ts.execute("ALTER TABLE trades_elsewhere RENAME TO trades")
            .await;
        wait_until(async || stats.counts().trades.written == 30).await;
        stop.send(()).unwrap();
        let last = writer.await.unwrap();
        assert_eq!(last.trades.dropped(), 0, "{}", ts.label);
        assert!(last.failed_flushes >= 2);
        assert_eq!(stored_trade_ids(&ts).await, (0..30).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn a_backlog_beyond_its_cap_drops_the_oldest_records_and_counts_them() {
    for ts in stores("recorder_backlog").await {
        ts.execute("ALTER TABLE trades RENAME TO trades_elsewhere")
            .await;
        let config = RecorderConfig {
            max_backlog: 10,
            ..config()
        };
        let (recorder, stop, writer) = spawn(&ts, config);
        for id in 0..25 {
            assert!(recorder.try_record_trade(trade("BTCUSDT", id, id)));
        }
        let stats = recorder.stats().clone();
        wait_until(async || stats.counts().trades.dropped_backlog_full == 15).await;
        assert_eq!(stats.counts().trades.backlog, 10, "{}", ts.label);

        ts.execute("ALTER TABLE trades_elsewhere RENAME TO trades")
            .await;
        wait_until(async || stats.counts().trades.written == 10).await;
        stop.send(()).unwrap();
        let last = writer.await.unwrap();
        assert_eq!(last.trades.dropped_backlog_full, 15, "{}", ts.label);
        // The newest ten survive.
        assert_eq!(stored_trade_ids(&ts).await, (15..25).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn writes_per_interval_are_capped_by_max_batch_and_the_rest_follows() {
    for ts in stores("recorder_max_batch").await {
        let config = RecorderConfig {
            max_batch: 7,
            ..config()
        };
        let (recorder, stop, writer) = spawn(&ts, config);
        for id in 0..30 {
            assert!(recorder.try_record_trade(trade("BTCUSDT", id, id)));
        }
        let stats = recorder.stats().clone();
        wait_until(async || stats.counts().trades.written == 30).await;
        stop.send(()).unwrap();
        let last = writer.await.unwrap();
        // 30 records in batches of at most 7 take at least 5 writes.
        assert!(last.flushes >= 5, "{}: {last:?}", ts.label);
        assert_eq!(stored_trade_ids(&ts).await, (0..30).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn a_record_the_database_cannot_hold_is_dropped_and_counted_alone() {
    for ts in stores("recorder_invalid").await {
        let (recorder, stop, writer) = spawn(&ts, config());
        let mut bad = trade("BTCUSDT", 0, 0);
        bad.trade.trade_id = u64::MAX;
        assert!(recorder.try_record_trade(bad));
        assert!(recorder.try_record_trade(trade("BTCUSDT", 1, 1)));
        let mut bad_snapshot = snapshot("BTCUSDT", 1, 1, 1);
        bad_snapshot.received.wall_ns = u64::MAX;
        assert!(recorder.try_record_snapshot(bad_snapshot));
        stop.send(()).unwrap();
        let last = writer.await.unwrap();
        assert_eq!(last.trades.dropped_invalid, 1, "{}", ts.label);
        assert_eq!(last.snapshots.dropped_invalid, 1, "{}", ts.label);
        assert_eq!(last.trades.written, 1, "{}", ts.label);
        assert_eq!(stored_trade_ids(&ts).await, [1]);
    }
}

#[tokio::test]
async fn recording_a_replay_counts_duplicates_instead_of_writing_them_twice() {
    for ts in stores("recorder_replay").await {
        let (recorder, stop, writer) = spawn(&ts, config());
        for id in 0..10 {
            assert!(recorder.try_record_trade(trade("BTCUSDT", id, id)));
        }
        let stats = recorder.stats().clone();
        wait_until(async || stats.counts().trades.written == 10).await;
        for id in 0..10 {
            assert!(recorder.try_record_trade(trade("BTCUSDT", id, id)));
        }
        wait_until(async || stats.counts().trades.duplicates == 10).await;
        stop.send(()).unwrap();
        let last = writer.await.unwrap();
        assert_eq!(last.trades.written, 10, "{}", ts.label);
        assert_eq!(ts.store.count_trades(None).await.unwrap(), 10);
    }
}

#[tokio::test]
async fn a_zero_interval_or_capacity_is_taken_as_one_rather_than_panicking() {
    for ts in stores("recorder_zero").await {
        let config = RecorderConfig {
            write_interval: Duration::ZERO,
            channel_capacity: 0,
            max_batch: 0,
            max_backlog: 0,
        };
        let (recorder, writer) = MarketRecorder::new(ts.store.clone(), config);
        assert!(recorder.try_record_trade(trade("BTCUSDT", 1, 1)));
        assert!(!recorder.try_record_trade(trade("BTCUSDT", 2, 2)));
        let last = writer.run(std::future::ready(())).await;
        assert_eq!(last.trades.written, 1, "{}", ts.label);
    }
}
