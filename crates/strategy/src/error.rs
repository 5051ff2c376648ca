//! The crate's errors: what a strategy reports ([`StrategyError`]), what setting up an instance
//! can fail with ([`SetupError`]), and a refused configuration ([`ConfigError`]).

use kestrel_model::money::MoneyError;

/// What a strategy returns when it cannot initialise or handle an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrategyError {
    /// A parameter is missing, malformed, out of range or unknown.
    #[error("parameter `{key}`: {problem}")]
    Parameter {
        /// The parameter's key in `parameters`.
        key: String,
        /// What was expected and what was found.
        problem: String,
    },
    /// The strategy could not handle an event (it is counted and, if repeated, disabled).
    #[error("{0}")]
    Failed(String),
    /// Exact arithmetic overflowed.
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl StrategyError {
    /// A parameter error for `key`.
    pub fn parameter(key: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Parameter {
            key: key.into(),
            problem: problem.into(),
        }
    }
}

/// Why a strategy instance could not be created or started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// No factory is registered under the instance's `type`.
    #[error("strategy instance {instance:?}: unknown type {kind:?} (registered: {known})")]
    UnknownType {
        /// The instance name.
        instance: String,
        /// The `type` it asked for.
        kind: String,
        /// The registered types, comma-separated.
        known: String,
    },
    /// The instance's strategy refused its configuration (a bad parameter, usually).
    #[error("strategy instance {instance:?} ({kind}): {source}")]
    Instance {
        /// The instance name.
        instance: String,
        /// Its strategy type.
        kind: String,
        /// What the strategy said.
        source: StrategyError,
    },
    /// A configuration field outside `parameters` is unusable.
    #[error("strategy instance {instance:?}: `{key}` {problem}")]
    Field {
        /// The instance name (empty when the name itself is the problem).
        instance: String,
        /// The field (`name`, `symbol`, `order_size`, `weight`).
        key: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// A strategy type is registered twice.
    #[error("strategy type {0:?} is already registered")]
    DuplicateType(String),
}

/// A strategy configuration (at start or on a hot reload) that was refused: nothing of it was
/// applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("strategy configuration refused, nothing applied: {}", join(.errors))]
pub struct ConfigError {
    /// Every problem found, one per instance field.
    pub errors: Vec<SetupError>,
}

fn join(errors: &[SetupError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
