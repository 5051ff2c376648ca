//! Kestrel's message bus: topic names, the binary codec for events, and the transports that
//! carry them (in process, and a shared-memory ring another process on the host can read).
//!
//! It must not know who publishes or consumes: components depend on it, never the reverse.
