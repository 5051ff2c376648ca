//! Kestrel's persistence: SQLite by default, PostgreSQL when configured, with versioned
//! migrations run at start-up.
