//! The connection supervisor and the snapshot client against the Kestrel simulator on loopback,
//! with its faults: frames flow, dropped sockets reconnect and resubscribe, silence is detected,
//! an authentication refusal halts, and snapshot fetches retry only what is worth retrying.

// Test code: a panic is a failed assertion.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kestrel_marketdata::connection::{
    self, FrameHandler, LinkOutcome, LinkState, Received, StreamConfig,
};
use kestrel_marketdata::snapshot::{SnapshotClient, SnapshotError};
use kestrel_model::config::SimConfig;
use kestrel_sim::server::{self, ReplayPace, RunningSim, SimOptions};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::watch;

async fn sim() -> RunningSim {
    let config = SimConfig {
        symbols: vec!["BTCUSDT".into()],
        ..SimConfig::default()
    };
    let options = SimOptions {
        config,
        api_key: "k".into(),
        api_secret: "s".into(),
        replay: None,
        replay_pace: ReplayPace::Original,
    };
    server::start(options, TcpListener::bind("127.0.0.1:0").await.unwrap())
        .await
        .unwrap()
}

/// Records what the supervisor reports.
#[derive(Default, Clone)]
struct Recorder(Arc<Mutex<(Vec<String>, Vec<LinkState>)>>);

impl FrameHandler for Recorder {
    fn on_frame(&mut self, frame: &str, _: Received) {
        self.0.lock().unwrap().0.push(frame.to_owned());
    }

    fn on_state(&mut self, state: &LinkState) {
        self.0.lock().unwrap().1.push(state.clone());
    }
}

impl Recorder {
    fn frames(&self) -> usize {
        self.0.lock().unwrap().0.len()
    }

    fn connects(&self) -> usize {
        self.0
            .lock()
            .unwrap()
            .1
            .iter()
            .filter(|s| **s == LinkState::Connected)
            .count()
    }

    fn states(&self) -> Vec<LinkState> {
        self.0.lock().unwrap().1.clone()
    }
}

async fn wait_for(mut condition: impl FnMut() -> bool, secs: u64) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    condition()
}

fn config(sim: &RunningSim, streams: &[&str]) -> StreamConfig {
    let mut config = StreamConfig::new(
        format!("ws://{}", sim.local_addr()),
        streams.iter().map(|s| (*s).to_owned()).collect(),
    );
    config.reconnect_base = Duration::from_millis(20);
    config.reconnect_max = Duration::from_millis(200);
    config
}

#[tokio::test]
async fn frames_flow_and_a_dropped_socket_reconnects_and_resubscribes() {
    let sim = sim().await;
    let recorder = Recorder::default();
    let (stop, stopped) = watch::channel(false);
    let mut handler = recorder.clone();
    let cfg = config(&sim, &["btcusdt@depth@0ms", "btcusdt@aggTrade"]);
    let task = tokio::spawn(async move { connection::run(cfg, &mut handler, stopped).await });
    assert!(
        wait_for(|| recorder.frames() > 10, 10).await,
        "frames arrive"
    );
    let url = format!("http://{}/sim/v1/faults", sim.local_addr());
    reqwest::Client::new()
        .post(url)
        .body(r#"{"kind":"drop_connections"}"#)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert!(
        wait_for(|| recorder.connects() >= 2, 10).await,
        "reconnected: {:?}",
        recorder.states()
    );
    let before = recorder.frames();
    assert!(
        wait_for(|| recorder.frames() > before + 10, 10).await,
        "subscriptions restored after the reconnect"
    );
    assert!(
        recorder
            .states()
            .iter()
            .any(|s| matches!(s, LinkState::Disconnected(_)))
    );
    stop.send(true).unwrap();
    assert_eq!(task.await.unwrap(), LinkOutcome::Stopped);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_silent_connection_is_declared_dead_and_replaced() {
    let sim = sim().await;
    let recorder = Recorder::default();
    let (stop, stopped) = watch::channel(false);
    let mut handler = recorder.clone();
    // Liquidations are rare: this stream stays silent.
    let mut cfg = config(&sim, &["btcusdt@forceOrder"]);
    cfg.heartbeat_timeout = Duration::from_millis(300);
    let task = tokio::spawn(async move { connection::run(cfg, &mut handler, stopped).await });
    assert!(
        wait_for(|| recorder.connects() >= 2, 10).await,
        "{:?}",
        recorder.states()
    );
    let silent = recorder
        .states()
        .iter()
        .any(|s| matches!(s, LinkState::Disconnected(r) if r.contains("no message for 300 ms")));
    assert!(silent, "{:?}", recorder.states());
    stop.send(true).unwrap();
    task.await.unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn a_refused_upgrade_with_401_halts() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let _ = socket
                .write_all(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });
    let (_stop, stopped) = watch::channel(false);
    let mut handler = Recorder::default();
    let outcome = connection::run(
        StreamConfig::new(format!("ws://{addr}"), vec!["btcusdt@trade".into()]),
        &mut handler,
        stopped,
    )
    .await;
    assert!(
        matches!(outcome, LinkOutcome::AuthFailed(ref reason) if reason.contains("401")),
        "{outcome:?}"
    );
}

/// `wss://` venues (Binance itself) go through rustls: against a server that does not speak
/// TLS the attempt fails in the TLS handshake, not for want of TLS support in the build.
#[tokio::test]
async fn a_wss_venue_is_reached_through_tls() {
    kestrel_venue::tls::install_crypto_provider();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let _ = socket.write_all(b"HTTP/1.1 200 OK\r\n\r\nnot tls").await;
        }
    });
    let (_stop, stopped) = watch::channel(false);
    let mut handler = Recorder::default();
    let mut cfg = StreamConfig::new(format!("wss://{addr}"), vec!["btcusdt@trade".into()]);
    (
        cfg.reconnect_base,
        cfg.reconnect_max,
        cfg.reconnect_max_attempts,
    ) = (Duration::from_millis(5), Duration::from_millis(10), 1);
    let outcome = connection::run(cfg, &mut handler, stopped).await;
    let LinkOutcome::GaveUp(reason) = outcome else {
        panic!("{outcome:?}");
    };
    let reason = reason.to_ascii_lowercase();
    assert!(!reason.contains("not compiled"), "{reason}");
    assert!(
        reason.contains("tls") || reason.contains("corrupt"),
        "{reason}"
    );
}

#[tokio::test]
async fn retries_run_out_with_a_clear_outcome() {
    let (_stop, stopped) = watch::channel(false);
    let mut handler = Recorder::default();
    let mut cfg = StreamConfig::new("ws://127.0.0.1:9", vec!["btcusdt@trade".into()]);
    (
        cfg.reconnect_base,
        cfg.reconnect_max,
        cfg.reconnect_max_attempts,
    ) = (Duration::from_millis(5), Duration::from_millis(10), 3);
    let outcome = connection::run(cfg, &mut handler, stopped).await;
    assert!(matches!(outcome, LinkOutcome::GaveUp(_)), "{outcome:?}");
    assert_eq!(
        handler
            .states()
            .iter()
            .filter(|s| matches!(s, LinkState::Connecting(_)))
            .count(),
        4
    );
}

#[tokio::test]
async fn snapshots_retry_server_errors_but_not_refusals() {
    let sim = sim().await;
    let base = format!("http://{}", sim.local_addr());
    let client = SnapshotClient::new(&base, 1000, Duration::from_secs(5))
        .unwrap()
        .with_retries(Duration::from_millis(10), Duration::from_millis(50), 5);
    let fault = r#"{"kind":"http_error","status":503,"count":2,"path_prefix":"/fapi/v1/depth"}"#;
    reqwest::Client::new()
        .post(format!("{base}/sim/v1/faults"))
        .body(fault)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    let body = client.fetch("BTCUSDT").await.unwrap();
    assert!(body.contains("lastUpdateId"), "{body}");
    let refused = client.fetch("NOPEUSDT").await.unwrap_err();
    assert!(
        matches!(&refused, SnapshotError::Refused { status: 400, body, .. } if body.contains("-1121")),
        "{refused:?}"
    );
    sim.shutdown().await;
}
