//! The in-process bus: publish by [`Topic`], subscribe by [`TopicPattern`], one bounded queue
//! per subscriber.
//!
//! A slow subscriber never blocks a publisher: when its queue is full the message is dropped
//! for that subscriber alone and counted ([`Subscription::dropped`], [`Bus::subscriber_stats`]).
//! Queues are `std::sync::mpsc::sync_channel`s, so a subscriber can block on `recv` while the
//! publisher only ever calls `try_send`.
//!
//! Publishing takes no lock once warmed up: each [`Publisher`] keeps its own topic → queues
//! routing table and rebuilds an entry (under the registry lock) only when a subscription was
//! added or dropped since, which it learns from one atomic generation counter. A message is
//! cloned for every matching subscriber but the last, so large payloads should travel as `Arc`s
//! or as encoded bytes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::topic::{Topic, TopicPattern};

/// A message as a subscriber receives it: the topic it was published on and the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<M> {
    /// The topic the message was published on.
    pub topic: Topic,
    /// The payload.
    pub message: M,
}

/// Per-subscriber counters, shared by the subscription and every publisher's routes.
#[derive(Debug, Default)]
struct Counters {
    delivered: AtomicU64,
    dropped: AtomicU64,
}

/// One subscriber as the registry knows it.
struct Entry<M> {
    id: u64,
    pattern: TopicPattern,
    sender: SyncSender<Envelope<M>>,
    counters: Arc<Counters>,
}

struct Registry<M> {
    next_id: u64,
    entries: Vec<Entry<M>>,
}

struct Shared<M> {
    registry: Mutex<Registry<M>>,
    /// Bumped on every subscribe and unsubscribe, so publishers know to rebuild routes.
    generation: AtomicU64,
}

impl<M> Shared<M> {
    fn lock(&self) -> MutexGuard<'_, Registry<M>> {
        // A panic elsewhere cannot leave the registry half-updated (each change is one push
        // or one retain), so a poisoned lock is still usable.
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn routes_for(&self, topic: &Topic) -> Vec<Route<M>> {
        let registry = self.lock();
        let matching = registry.entries.iter().filter(|e| e.pattern.matches(topic));
        matching
            .map(|e| Route {
                sender: e.sender.clone(),
                counters: Arc::clone(&e.counters),
            })
            .collect()
    }
}

/// The bus: a registry of subscriptions that [`Publisher`]s deliver to. Cloning shares it.
pub struct Bus<M> {
    shared: Arc<Shared<M>>,
}

impl<M> Clone for Bus<M> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<M> Default for Bus<M> {
    fn default() -> Self {
        Self::new()
    }
}

/// One subscriber's counters, from [`Bus::subscriber_stats`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberStats {
    /// The subscription's id (unique per bus).
    pub id: u64,
    /// What it listens to.
    pub pattern: TopicPattern,
    /// Messages queued for it.
    pub delivered: u64,
    /// Messages dropped because its queue was full.
    pub dropped: u64,
}

impl<M> Bus<M> {
    /// An empty bus.
    #[must_use]
    pub fn new() -> Self {
        let registry = Registry {
            next_id: 0,
            entries: Vec::new(),
        };
        Self {
            shared: Arc::new(Shared {
                registry: Mutex::new(registry),
                generation: AtomicU64::new(0),
            }),
        }
    }

    /// Subscribes to every topic `pattern` matches, with a queue of `capacity` messages (at
    /// least 1). Dropping the [`Subscription`] unsubscribes.
    pub fn subscribe(&self, pattern: impl Into<TopicPattern>, capacity: usize) -> Subscription<M> {
        let pattern = pattern.into();
        let (sender, receiver) = sync_channel(capacity.max(1));
        let counters = Arc::new(Counters::default());
        let mut registry = self.shared.lock();
        let id = registry.next_id;
        registry.next_id += 1;
        registry.entries.push(Entry {
            id,
            pattern: pattern.clone(),
            sender,
            counters: Arc::clone(&counters),
        });
        self.shared.generation.fetch_add(1, Ordering::Release);
        drop(registry);
        Subscription {
            id,
            pattern,
            receiver,
            counters,
            shared: Arc::clone(&self.shared),
        }
    }

    /// A new publishing handle (one per publishing thread).
    #[must_use]
    pub fn publisher(&self) -> Publisher<M> {
        Publisher {
            shared: Arc::clone(&self.shared),
            generation: u64::MAX,
            routes: HashMap::new(),
        }
    }

    /// Number of live subscriptions.
    #[must_use]
    pub fn subscriber_count(&self) -> usize {
        self.shared.lock().entries.len()
    }

    /// Every live subscription's counters, in subscription order.
    #[must_use]
    pub fn subscriber_stats(&self) -> Vec<SubscriberStats> {
        let registry = self.shared.lock();
        let stats = registry.entries.iter().map(|e| SubscriberStats {
            id: e.id,
            pattern: e.pattern.clone(),
            delivered: e.counters.delivered.load(Ordering::Relaxed),
            dropped: e.counters.dropped.load(Ordering::Relaxed),
        });
        stats.collect()
    }
}

/// A publisher's cached route to one subscriber.
struct Route<M> {
    sender: SyncSender<Envelope<M>>,
    counters: Arc<Counters>,
}

/// What one [`Publisher::publish`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublishOutcome {
    /// Subscribers the message was queued for.
    pub delivered: usize,
    /// Subscribers whose queue was full (the message is lost for them and counted).
    pub dropped: usize,
}

/// A handle that publishes on the bus without taking its lock once warmed up.
pub struct Publisher<M> {
    shared: Arc<Shared<M>>,
    /// The registry generation `routes` reflects.
    generation: u64,
    routes: HashMap<Topic, Vec<Route<M>>>,
}

impl<M: Clone> Publisher<M> {
    /// Queues `message` for every subscriber whose pattern matches `topic`, never blocking.
    pub fn publish(&mut self, topic: Topic, message: M) -> PublishOutcome {
        let current = self.shared.generation.load(Ordering::Acquire);
        if current != self.generation {
            self.routes.clear();
            self.generation = current;
        }
        let shared = &self.shared;
        let routes = self
            .routes
            .entry(topic)
            .or_insert_with(|| shared.routes_for(&topic));
        let mut outcome = PublishOutcome::default();
        let Some((last, rest)) = routes.split_last() else {
            return outcome;
        };
        for route in rest {
            deliver(route, topic, message.clone(), &mut outcome);
        }
        deliver(last, topic, message, &mut outcome);
        outcome
    }
}

fn deliver<M>(route: &Route<M>, topic: Topic, message: M, outcome: &mut PublishOutcome) {
    match route.sender.try_send(Envelope { topic, message }) {
        Ok(()) => {
            route.counters.delivered.fetch_add(1, Ordering::Relaxed);
            outcome.delivered += 1;
        }
        Err(TrySendError::Full(_)) => {
            route.counters.dropped.fetch_add(1, Ordering::Relaxed);
            outcome.dropped += 1;
        }
        // The subscription is being dropped; it bumps the generation, so the route goes.
        Err(TrySendError::Disconnected(_)) => {}
    }
}

/// A subscriber's end: its queue and counters. Dropping it unsubscribes.
pub struct Subscription<M> {
    id: u64,
    pattern: TopicPattern,
    receiver: Receiver<Envelope<M>>,
    counters: Arc<Counters>,
    shared: Arc<Shared<M>>,
}

impl<M> Subscription<M> {
    /// The subscription's id (unique per bus).
    #[must_use]
    pub const fn id(&self) -> u64 {
        self.id
    }

    /// What it listens to.
    #[must_use]
    pub const fn pattern(&self) -> &TopicPattern {
        &self.pattern
    }

    /// The next queued message, if any, without waiting.
    pub fn try_recv(&self) -> Option<Envelope<M>> {
        self.receiver.try_recv().ok()
    }

    /// The next message, waiting up to `timeout`; `None` on timeout.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Envelope<M>> {
        self.receiver.recv_timeout(timeout).ok()
    }

    /// Every message queued now, without waiting.
    pub fn drain(&self) -> impl Iterator<Item = Envelope<M>> + '_ {
        self.receiver.try_iter()
    }

    /// Messages queued for this subscriber so far.
    #[must_use]
    pub fn delivered(&self) -> u64 {
        self.counters.delivered.load(Ordering::Relaxed)
    }

    /// Messages dropped for this subscriber because its queue was full.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.counters.dropped.load(Ordering::Relaxed)
    }
}

impl<M> Drop for Subscription<M> {
    fn drop(&mut self) {
        let mut registry = self.shared.lock();
        registry.entries.retain(|e| e.id != self.id);
        self.shared.generation.fetch_add(1, Ordering::Release);
    }
}

#[cfg(test)]
mod tests;
