//! [`AccountError`]: why an input could not be applied to the account book.

use kestrel_model::position::PositionError;

/// Why the account book refused an input. The book is unchanged when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// A fill could not be applied to its position (a hedge leg would cross zero, a
    /// non-positive price or quantity, an overflow).
    #[error("account: fill {symbol} trade {trade_id} not applied: {source}")]
    Fill {
        /// The fill's symbol.
        symbol: String,
        /// The fill's venue trade id.
        trade_id: u64,
        /// What the position refused.
        source: PositionError,
    },
}
