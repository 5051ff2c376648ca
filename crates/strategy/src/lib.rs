//! Kestrel's strategy engine: the Strategy trait, registry, built-in strategies, signal aggregation, hot reload.
