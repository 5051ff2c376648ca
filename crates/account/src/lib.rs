//! Kestrel's account monitor: balances, positions, P&L, reconciliation with the venue, alerts.
