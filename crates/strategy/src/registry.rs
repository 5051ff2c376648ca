//! The [`Registry`] of strategy types: a factory per type name, so a new strategy is added by
//! registering it, without touching the engine (seed NFR-SE-002).

use std::collections::BTreeMap;

use crate::error::SetupError;
use crate::strategy::Strategy;

/// Builds a fresh, unconfigured strategy of one type.
pub type Factory = Box<dyn Fn() -> Box<dyn Strategy> + Send + Sync>;

/// Strategy types by name.
#[derive(Default)]
pub struct Registry {
    factories: BTreeMap<String, Factory>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("types", &self.kinds().collect::<Vec<_>>())
            .finish()
    }
}

impl Registry {
    /// A registry with no types.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry with the built-in strategies (see [`crate::builtin`]).
    #[must_use]
    pub fn with_builtins() -> Self {
        let mut registry = Self::new();
        crate::builtin::register(&mut registry);
        registry
    }

    /// Registers `factory` under `kind`.
    ///
    /// # Errors
    /// [`SetupError::DuplicateType`] when `kind` is taken.
    pub fn register<F>(&mut self, kind: &str, factory: F) -> Result<(), SetupError>
    where
        F: Fn() -> Box<dyn Strategy> + Send + Sync + 'static,
    {
        if self.factories.contains_key(kind) {
            return Err(SetupError::DuplicateType(kind.to_owned()));
        }
        self.factories.insert(kind.to_owned(), Box::new(factory));
        Ok(())
    }

    /// The registered type names, sorted.
    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        self.factories.keys().map(String::as_str)
    }

    /// A fresh strategy of type `kind` for the instance `instance`.
    ///
    /// # Errors
    /// [`SetupError::UnknownType`] naming the instance and the registered types.
    pub fn build(&self, instance: &str, kind: &str) -> Result<Box<dyn Strategy>, SetupError> {
        match self.factories.get(kind) {
            Some(factory) => Ok(factory()),
            None => Err(SetupError::UnknownType {
                instance: instance.to_owned(),
                kind: kind.to_owned(),
                known: self.kinds().collect::<Vec<_>>().join(", "),
            }),
        }
    }
}
