//! Kestrel's configuration schema, loading and validation. (Being written.)
