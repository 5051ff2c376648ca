//! Hot reload (seed 000 FR-SE-001 step 5): applying a new `[strategies]` section to the
//! running engine, all or nothing.
//!
//! Every instance of the new config is checked first (type registered, symbol has an
//! instrument, parameters accepted by a freshly initialised strategy); one failure refuses the
//! whole reload and nothing changes. Then, per instance name:
//!
//! | old → new | what happens | reported as |
//! |---|---|---|
//! | absent → enabled | created and started | `added` |
//! | absent → disabled | registered, not started | `added` |
//! | same config | nothing (a faulted instance stays faulted) | — |
//! | running → disabled | quotes cancelled, stopped | `stopped` |
//! | disabled, faulted or removed → enabled | started afresh | `started` |
//! | other `type` or `symbol` | quotes cancelled, started afresh | `replaced` |
//! | other `parameters` or `order_size` | quotes cancelled, `Strategy::reconfigure` (a fresh instance if it fails) | `reconfigured` |
//! | other `weight` only | new weight in the next vote | `reweighted` |
//! | present → absent | quotes cancelled, stopped; its position and orders are still tracked | `removed` |
//!
//! A changed aggregation method or threshold applies from the next market event.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};

use kestrel_model::config::{StrategiesConfig, StrategyInstance};
use kestrel_model::instrument::Instrument;
use kestrel_model::order::PositionSide;
use kestrel_model::position::Position;
use serde::{Deserialize, Serialize};

use super::StrategyEngine;
use super::instance::{Call, Instance, InstanceStatus};
use super::output::{IncidentKind, Outbox};
use super::telemetry::InstanceMetrics;
use crate::aggregate::AggregationRule;
use crate::error::{ConfigError, SetupError, StrategyError};
use crate::ids::InstanceTag;
use crate::strategy::{Strategy, StrategyContext};

/// What a reload did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadReport {
    /// Whether the aggregation method or threshold changed.
    pub aggregation_changed: bool,
    /// The instances that changed, in config order, removed ones last.
    pub changes: Vec<InstanceChange>,
}

/// One instance's change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceChange {
    /// The instance name.
    pub instance: String,
    /// What happened to it.
    pub change: ReloadChange,
}

/// What a reload did to one instance (see the module table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReloadChange {
    /// New in the config.
    Added,
    /// Enabled again, or restarted after a fault.
    Started,
    /// Disabled.
    Stopped,
    /// Gone from the config.
    Removed,
    /// New parameters or order size applied to the running strategy.
    Reconfigured,
    /// New type or symbol: a fresh strategy.
    Replaced,
    /// Only the weight changed.
    Reweighted,
}

/// What to do with one instance of the new config.
enum Step {
    Add(Option<Box<dyn Strategy>>),
    Start(Box<dyn Strategy>),
    Replace(Box<dyn Strategy>),
    Reconfigure(Box<dyn Strategy>),
    Reweight,
    Disable,
    Keep,
}

struct Plan {
    config: StrategyInstance,
    route: usize,
    step: Step,
}

impl StrategyEngine {
    /// Applies a new strategies config to the running engine (hot reload): all of it, or
    /// nothing when any instance is refused. Cancels for withdrawn quotes go to `out`.
    ///
    /// # Errors
    /// [`ConfigError`] listing every refused instance; the engine is unchanged.
    pub fn apply_config(
        &mut self,
        config: &StrategiesConfig,
        out: &mut Outbox,
    ) -> Result<ReloadReport, ConfigError> {
        let (plans, removed) = self.plan(config)?;
        let rule = AggregationRule {
            method: config.aggregation,
            threshold_pct: config.aggregation_threshold_pct,
        };
        let mut report = ReloadReport {
            aggregation_changed: rule != self.rule,
            changes: Vec::new(),
        };
        self.rule = rule;
        self.order.clear();
        for plan in plans {
            let name = plan.config.name.clone();
            if let Some(change) = self.commit(plan, out) {
                report.changes.push(InstanceChange {
                    instance: name,
                    change,
                });
            }
        }
        for id in removed {
            self.withdraw(id, out);
            if let Some(inst) = self.instances.get_mut(id) {
                inst.stop(InstanceStatus::Removed);
                let instance = inst.config.name.clone();
                report.changes.push(InstanceChange {
                    instance,
                    change: ReloadChange::Removed,
                });
            }
        }
        self.rebuild_routes();
        Ok(report)
    }

    /// Starts a faulted (or disabled) instance afresh with its current config.
    ///
    /// # Errors
    /// [`SetupError`] when the instance does not exist or its strategy refuses the config.
    pub fn restart(&mut self, name: &str, out: &mut Outbox) -> Result<(), SetupError> {
        let Some(id) = self.by_name.get(name).copied() else {
            let problem = "names no instance".to_owned();
            return Err(SetupError::Field {
                instance: name.to_owned(),
                key: "name",
                problem,
            });
        };
        let Some((config, route)) = self.instances.get(id).map(|i| (i.config.clone(), i.route))
        else {
            return Ok(());
        };
        let strategy = self.build(&config, route)?;
        self.withdraw(id, out);
        self.start(id, strategy, out);
        Ok(())
    }

    /// Checks the whole config and decides each instance's step; refuses on any error.
    fn plan(&self, config: &StrategiesConfig) -> Result<(Vec<Plan>, Vec<usize>), ConfigError> {
        let mut errors = Vec::new();
        let mut plans = Vec::new();
        let mut names = BTreeSet::new();
        let mut tags = BTreeMap::new();
        for cfg in &config.instances {
            let checked = self.check_fields(cfg, &mut names, &mut tags);
            match checked.and_then(|route| Ok((route, self.step(cfg, route)?))) {
                Ok((route, step)) => plans.push(Plan {
                    config: cfg.clone(),
                    route,
                    step,
                }),
                Err(error) => errors.push(error),
            }
        }
        if !errors.is_empty() {
            return Err(ConfigError { errors });
        }
        let removed = self
            .by_name
            .iter()
            .filter(|(name, _)| !names.contains(name.as_str()))
            .map(|(_, &id)| id)
            .filter(|&id| {
                self.instances
                    .get(id)
                    .is_some_and(|i| i.status != InstanceStatus::Removed)
            })
            .collect();
        Ok((plans, removed))
    }

    /// Checks the fields outside `parameters`; returns the symbol's route.
    fn check_fields<'c>(
        &self,
        cfg: &'c StrategyInstance,
        names: &mut BTreeSet<&'c str>,
        tags: &mut BTreeMap<InstanceTag, &'c str>,
    ) -> Result<usize, SetupError> {
        let field = |key, problem: String| SetupError::Field {
            instance: cfg.name.clone(),
            key,
            problem,
        };
        if cfg.name.is_empty() || !names.insert(cfg.name.as_str()) {
            return Err(field("name", "must be present and unique".to_owned()));
        }
        if let Some(other) = tags.insert(InstanceTag::of(&cfg.name), cfg.name.as_str()) {
            let problem = format!("hashes to the same order-id tag as {other:?}; rename one");
            return Err(field("name", problem));
        }
        if !cfg.order_size.is_positive() {
            return Err(field(
                "order_size",
                format!("must be greater than 0, got {}", cfg.order_size),
            ));
        }
        if !cfg.weight.is_positive() {
            return Err(field(
                "weight",
                format!("must be greater than 0, got {}", cfg.weight),
            ));
        }
        self.route_of(&cfg.symbol).ok_or_else(|| {
            field(
                "symbol",
                format!("{:?} has no instrument in the engine", cfg.symbol),
            )
        })
    }

    fn step(&self, cfg: &StrategyInstance, route: usize) -> Result<Step, SetupError> {
        let Some(inst) = self
            .by_name
            .get(&cfg.name)
            .and_then(|&id| self.instances.get(id))
        else {
            let strategy = self.build(cfg, route)?;
            return Ok(Step::Add(cfg.enabled.then_some(strategy)));
        };
        let old = &inst.config;
        let removed = inst.status == InstanceStatus::Removed;
        if old == cfg && !removed {
            return Ok(Step::Keep);
        }
        if !cfg.enabled {
            // A disabled instance's parameters are still checked, so enabling it later works.
            self.build(cfg, route)?;
            return Ok(Step::Disable);
        }
        if !inst.is_running() {
            return Ok(Step::Start(self.build(cfg, route)?));
        }
        if old.kind != cfg.kind || old.symbol != cfg.symbol {
            return Ok(Step::Replace(self.build(cfg, route)?));
        }
        if old.parameters != cfg.parameters || old.order_size != cfg.order_size {
            return Ok(Step::Reconfigure(self.build(cfg, route)?));
        }
        Ok(Step::Reweight)
    }

    /// A fresh strategy for `cfg`, initialised (panics are caught).
    fn build(&self, cfg: &StrategyInstance, route: usize) -> Result<Box<dyn Strategy>, SetupError> {
        let refused = |source| SetupError::Instance {
            instance: cfg.name.clone(),
            kind: cfg.kind.clone(),
            source,
        };
        let mut strategy = self.registry.build(&cfg.name, &cfg.kind)?;
        let Some(r) = self.routes.get(route) else {
            return Err(refused(StrategyError::Failed("no route".to_owned())));
        };
        let ctx = context(cfg, &r.instrument);
        match catch_unwind(AssertUnwindSafe(|| strategy.initialize(&ctx))) {
            Ok(Ok(())) => Ok(strategy),
            Ok(Err(error)) => Err(refused(error)),
            Err(_) => Err(refused(StrategyError::Failed(
                "panicked in initialize".to_owned(),
            ))),
        }
    }

    fn commit(&mut self, plan: Plan, out: &mut Outbox) -> Option<ReloadChange> {
        let Plan {
            config,
            route,
            step,
        } = plan;
        let existing = self.by_name.get(&config.name).copied();
        let id = existing.unwrap_or(self.instances.len());
        if existing.is_none() {
            self.instances.push(Instance::new(config.clone(), route));
            self.by_name.insert(config.name.clone(), id);
        }
        self.order.push(id);
        match step {
            Step::Keep => None,
            Step::Add(strategy) => {
                if let Some(strategy) = strategy {
                    self.start(id, strategy, out);
                }
                Some(ReloadChange::Added)
            }
            Step::Start(strategy) | Step::Replace(strategy) => {
                let replaced = self.instances.get(id).is_some_and(Instance::is_running);
                self.withdraw(id, out);
                self.rehome(id, &config, route, out);
                self.start(id, strategy, out);
                Some(if replaced {
                    ReloadChange::Replaced
                } else {
                    ReloadChange::Started
                })
            }
            Step::Reconfigure(fresh) => {
                self.withdraw(id, out);
                self.set_config(id, config);
                self.reconfigure(id, fresh, out);
                Some(ReloadChange::Reconfigured)
            }
            Step::Reweight => {
                self.set_config(id, config);
                Some(ReloadChange::Reweighted)
            }
            Step::Disable => self.disable(id, &config, route, out),
        }
    }

    /// Keeps instance `id` disabled with `config`, stopping it if it ran.
    fn disable(
        &mut self,
        id: usize,
        config: &StrategyInstance,
        route: usize,
        out: &mut Outbox,
    ) -> Option<ReloadChange> {
        self.withdraw(id, out);
        self.rehome(id, config, route, out);
        let inst = self.instances.get_mut(id)?;
        let change = match inst.status {
            InstanceStatus::Running | InstanceStatus::Faulted => ReloadChange::Stopped,
            InstanceStatus::Removed => ReloadChange::Added,
            InstanceStatus::Disabled => return None,
        };
        inst.stop(InstanceStatus::Disabled);
        Some(change)
    }

    fn set_config(&mut self, id: usize, config: StrategyInstance) {
        if let Some(inst) = self.instances.get_mut(id) {
            inst.config = config;
        }
    }

    /// Gives an instance a (possibly) new symbol: a new route, metric labels and, if the
    /// symbol changed, a flat position (the old one is reported).
    fn rehome(&mut self, id: usize, config: &StrategyInstance, route: usize, out: &mut Outbox) {
        let Some(inst) = self.instances.get_mut(id) else {
            return;
        };
        if inst.config.symbol != config.symbol {
            if !inst.position.qty.is_zero() {
                let message = format!(
                    "moved to {} with an open {} position of {}",
                    config.symbol, inst.symbol, inst.position.qty
                );
                out.incidents
                    .push(inst.incident(IncidentKind::Position, message));
            }
            inst.position = Position::flat(config.symbol.as_str(), PositionSide::Both);
            inst.symbol = config.symbol.as_str().into();
            inst.metrics = InstanceMetrics::new(&inst.name, &inst.symbol);
        }
        inst.route = route;
        inst.config = config.clone();
    }

    /// Runs `strategy` for instance `id` and tells it its position, if it holds one.
    fn start(&mut self, id: usize, strategy: Box<dyn Strategy>, out: &mut Outbox) {
        let max = self.settings.max_consecutive_failures;
        let mut actions = std::mem::take(&mut self.scratch);
        if let Some(inst) = self.instances.get_mut(id) {
            inst.start(strategy);
            let position = inst.position.clone();
            if !position.qty.is_zero() {
                let _ = inst.guarded(max, &mut out.incidents, &mut actions, |s, _| {
                    s.on_position_update(&position);
                    Ok(())
                });
            }
        }
        actions.truncate(0);
        self.scratch = actions;
    }

    /// Applies the instance's new config to its running strategy, or swaps in `fresh` (built
    /// and initialised from the same config) when `reconfigure` fails.
    fn reconfigure(&mut self, id: usize, fresh: Box<dyn Strategy>, out: &mut Outbox) {
        let max = self.settings.max_consecutive_failures;
        let mut actions = std::mem::take(&mut self.scratch);
        let (Some(inst), Some(routes)) = (self.instances.get_mut(id), Some(&self.routes)) else {
            self.scratch = actions;
            return;
        };
        let Some(r) = routes.get(inst.route) else {
            self.scratch = actions;
            return;
        };
        let config = inst.config.clone();
        let ctx = context(&config, &r.instrument);
        let call = inst.guarded(max, &mut out.incidents, &mut actions, |s, _| {
            s.reconfigure(&ctx)
        });
        actions.truncate(0);
        self.scratch = actions;
        if !matches!(call, Call::Done(())) {
            self.start(id, fresh, out);
        }
    }

    /// Lists every configured (not removed) instance under its symbol, in config order.
    fn rebuild_routes(&mut self) {
        for route in &mut self.routes {
            route.instances.clear();
        }
        for &id in &self.order {
            let Some(inst) = self.instances.get(id) else {
                continue;
            };
            if let Some(route) = self.routes.get_mut(inst.route) {
                route.instances.push(id);
            }
        }
    }
}

/// The context an instance's strategy is configured from.
fn context<'a>(cfg: &'a StrategyInstance, instrument: &'a Instrument) -> StrategyContext<'a> {
    StrategyContext {
        instance: &cfg.name,
        symbol: &cfg.symbol,
        order_size: cfg.order_size,
        instrument,
        parameters: &cfg.parameters,
    }
}
