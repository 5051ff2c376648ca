//! The system's events on the bus (ARCHITECTURE.md "Bus topics"): the execution driver's order
//! updates and fills on `orders.{symbol}` / `fills.{symbol}` ([`kestrel_exec::publish`]), and
//! the risk manager's events on `risk.events` — every refusal with its rule, breaker trips and
//! resets, kill switch changes (seed 000: "Risk filter rejection: log info, don't send order,
//! publish rejection event"). Both go on the system's in-process [`Bus`] and, when
//! `market_data.nats_url` is set, on the NATS subjects of the same names.
//!
//! The core never waits for a publish: it hands its risk events to a task over an unbounded
//! channel ([`RiskEventSender`]), and the execution events reach their publisher through the
//! driver's broadcast channel.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use kestrel_bus::{Bus, NatsPublisher, Publisher, Topic};
use kestrel_exec::driver::ExecDriver;
use kestrel_exec::journal::StoreJournal;
use kestrel_exec::publish::EventPublisher;
use kestrel_model::config::Config;
use kestrel_risk::RiskEvent;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// How long a stopping publisher may take to flush NATS.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// The bus the system publishes on, as its subscribers read it (JSON payloads).
pub type EventBus = Bus<Arc<[u8]>>;

/// The core's side of the risk events' way to the bus: never blocks, never drops.
#[derive(Debug, Clone)]
pub struct RiskEventSender(mpsc::UnboundedSender<RiskEvent>);

impl RiskEventSender {
    /// Hands `event` to the publisher (after it stopped, the event is only logged).
    pub fn send(&self, event: RiskEvent) {
        if let Err(unsent) = self.0.send(event) {
            tracing::debug!(target: "kestrel::engine", event = ?unsent.0, "risk event after the publisher stopped");
        }
    }
}

/// Starts publishing: the driver's events and the risk events, on `bus` and, with
/// `market_data.nats_url`, on NATS (connected here, failing fast when the server is away).
/// The tasks end once `stopped` turns true, after publishing what is queued.
///
/// # Errors
/// The NATS server named by `market_data.nats_url` cannot be reached.
pub async fn start(
    config: &Config,
    bus: &EventBus,
    driver: &ExecDriver<StoreJournal>,
    stopped: &watch::Receiver<bool>,
    tasks: &mut Vec<JoinHandle<()>>,
) -> Result<RiskEventSender> {
    // One connection; each publisher keeps its own per-topic routes and counters on it.
    let (exec_nats, risk_nats) = match &config.market_data.nats_url {
        Some(url) => {
            let client = kestrel_bus::nats::connect(url)
                .await
                .context("market_data.nats_url")?;
            let shown = kestrel_bus::nats::redact_url(url);
            (
                Some(NatsPublisher::new(client.clone(), &shown)),
                Some(NatsPublisher::new(client, &shown)),
            )
        }
        None => (None, None),
    };
    let mut exec = EventPublisher::new(bus);
    if let Some(nats) = exec_nats {
        exec = exec.with_nats(nats);
    }
    let events = driver.subscribe();
    let stop = stopped.clone();
    tasks.push(tokio::spawn(async move {
        let stats = exec.run(events, stop).await;
        tracing::info!(target: "kestrel::engine", published = stats.published, lagged = stats.lagged, "execution events published");
    }));
    let (sender, risk) = start_risk_events(bus, risk_nats, stopped);
    tasks.push(risk);
    Ok(sender)
}

/// Starts the task publishing risk events on `risk.events` (on `bus`, and through `nats` when
/// given); it ends once `stopped` turns true, after publishing what is queued.
pub fn start_risk_events(
    bus: &EventBus,
    nats: Option<NatsPublisher>,
    stopped: &watch::Receiver<bool>,
) -> (RiskEventSender, JoinHandle<()>) {
    let (sender, queue) = mpsc::unbounded_channel();
    let risk = RiskPublisher {
        bus: bus.publisher(),
        nats,
    };
    let task = tokio::spawn(risk.run(queue, stopped.clone()));
    (RiskEventSender(sender), task)
}

/// Publishes risk events on `risk.events`.
struct RiskPublisher {
    bus: Publisher<Arc<[u8]>>,
    nats: Option<NatsPublisher>,
}

impl RiskPublisher {
    async fn run(
        mut self,
        mut queue: mpsc::UnboundedReceiver<RiskEvent>,
        mut stopped: watch::Receiver<bool>,
    ) {
        loop {
            tokio::select! {
                biased;
                Some(event) = queue.recv() => self.publish(&event).await,
                changed = stopped.changed() => {
                    if changed.is_err() || *stopped.borrow() {
                        break;
                    }
                }
                else => break,
            }
        }
        while let Ok(event) = queue.try_recv() {
            self.publish(&event).await;
        }
        if let Some(nats) = &self.nats {
            let _ = nats.flush(FLUSH_TIMEOUT).await;
        }
    }

    async fn publish(&mut self, event: &RiskEvent) {
        let bytes: Arc<[u8]> = match serde_json::to_vec(event) {
            Ok(bytes) => bytes.into(),
            Err(error) => {
                tracing::error!(target: "kestrel::engine", %error, ?event, "risk event cannot be published");
                return;
            }
        };
        if let Some(nats) = self.nats.as_mut()
            && let Err(error) = nats.publish(Topic::RiskEvents, &bytes).await
        {
            // Counted and logged once per failure streak by the NATS publisher itself.
            tracing::debug!(target: "kestrel::engine", %error, "risk event not published on NATS");
        }
        self.bus.publish(Topic::RiskEvents, bytes);
    }
}

#[cfg(test)]
mod tests {
    use kestrel_bus::TopicPattern;
    use kestrel_risk::Breaker;

    use super::*;

    #[tokio::test]
    async fn risk_events_reach_the_bus_as_json_in_order_and_the_queue_is_drained_at_the_stop() {
        let bus = EventBus::new();
        let subscription = bus.subscribe(TopicPattern::exact(Topic::RiskEvents), 16);
        let (stop, stopped) = watch::channel(false);
        let (sender, task) = start_risk_events(&bus, None, &stopped);
        let tripped = RiskEvent::BreakerTripped {
            breaker: Breaker::VenueLatency,
            symbol: None,
            reason: "venue round trip took 1500 ms".to_owned(),
            at_ms: 7,
        };
        let released = RiskEvent::KillSwitchReleased {
            reason: "test".to_owned(),
            engaged_since_ms: 1,
            at_ms: 8,
        };
        sender.send(tripped.clone());
        sender.send(released.clone());
        stop.send(true).unwrap();
        task.await.unwrap();

        let received: Vec<RiskEvent> = subscription
            .drain()
            .map(|envelope| {
                assert_eq!(envelope.topic, Topic::RiskEvents);
                serde_json::from_slice(&envelope.message).unwrap()
            })
            .collect();
        assert_eq!(received, [tripped, released]);
    }
}
