//! [`AccountError`]: every refusal of the account, with its Binance code and message.

use kestrel_model::money::{Money, MoneyError};
use kestrel_model::order::PositionSide;
use kestrel_model::position::{PositionError, PositionMode};

/// Why the account refused a change.
///
/// `Display` is Binance's `msg` text exactly (what the server sends in `{"code","msg"}`); the
/// fields carry the numbers behind the refusal for logs and tests (`Debug`). [`Self::code`] is
/// the Binance error code (`../shared/binance-futures.md` §5.3, §3.5).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// -2019: the order's initial margin exceeds the available balance.
    #[error("Margin is insufficient.")]
    MarginInsufficient {
        /// The extra initial margin the order needs.
        required: Money,
        /// The available balance before the order.
        available: Money,
    },
    /// -2022: a fill would take a hedge-mode leg past zero.
    #[error("ReduceOnly Order is rejected.")]
    LegWouldCross(PositionError),
    /// -2027: the position (with open orders) would exceed what the leverage allows.
    #[error("Exceeded the maximum allowable position at current leverage.")]
    AboveLeverageCap {
        /// The symbol.
        symbol: String,
        /// The leverage in force (or asked for).
        leverage: u32,
        /// The notional the position and its orders would reach.
        notional: Money,
        /// The largest notional allowed at that leverage.
        max_notional: Money,
    },
    /// -4028: the leverage is outside 1 up to the symbol's highest bracket leverage.
    #[error("Leverage {leverage} is not valid")]
    InvalidLeverage {
        /// The symbol.
        symbol: String,
        /// The leverage asked for.
        leverage: u32,
        /// The highest leverage the symbol allows.
        max_leverage: u32,
    },
    /// -4046: the symbol already has that margin type.
    #[error("No need to change margin type.")]
    MarginTypeUnchanged {
        /// The symbol.
        symbol: String,
    },
    /// -4047: the symbol has open orders.
    #[error("Margin type cannot be changed if there exists open orders.")]
    MarginTypeOpenOrders {
        /// The symbol.
        symbol: String,
    },
    /// -4048: the symbol has an open position.
    #[error("Margin type cannot be changed if there exists position.")]
    MarginTypePosition {
        /// The symbol.
        symbol: String,
    },
    /// -4059: the account is already in that position mode.
    #[error("No need to change position side.")]
    PositionModeUnchanged {
        /// The current mode.
        mode: PositionMode,
    },
    /// -4067: the account has open orders.
    #[error("Position side cannot be changed if there exists open orders.")]
    PositionModeOpenOrders,
    /// -4068: the account has an open position.
    #[error("Position side cannot be changed if there exists position.")]
    PositionModePosition,
    /// -4061: the position side does not fit the account's position mode.
    #[error("Order's position side does not match user's setting.")]
    PositionSideMismatch {
        /// The position side given.
        position_side: PositionSide,
        /// The account's mode.
        mode: PositionMode,
    },
    /// -1130: a parameter (amount, brackets, account number, API key) is not acceptable.
    #[error("Data sent for parameter '{parameter}' is not valid.")]
    InvalidParameter {
        /// The parameter's name.
        parameter: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// -1000: arithmetic overflow at magnitudes far beyond any real account.
    #[error("An unknown error occurred while processing the request.")]
    Arithmetic(#[from] MoneyError),
}

impl AccountError {
    /// The Binance error code.
    #[must_use]
    pub const fn code(&self) -> i32 {
        match self {
            Self::MarginInsufficient { .. } => -2019,
            Self::LegWouldCross(_) => -2022,
            Self::AboveLeverageCap { .. } => -2027,
            Self::InvalidLeverage { .. } => -4028,
            Self::MarginTypeUnchanged { .. } => -4046,
            Self::MarginTypeOpenOrders { .. } => -4047,
            Self::MarginTypePosition { .. } => -4048,
            Self::PositionModeUnchanged { .. } => -4059,
            Self::PositionModeOpenOrders => -4067,
            Self::PositionModePosition => -4068,
            Self::PositionSideMismatch { .. } => -4061,
            Self::InvalidParameter { .. } => -1130,
            Self::Arithmetic(_) => -1000,
        }
    }

    /// Binance's `msg` text for this refusal (the same as `Display`).
    #[must_use]
    pub fn msg(&self) -> String {
        self.to_string()
    }

    /// An [`Self::InvalidParameter`] for `parameter`.
    pub(crate) fn invalid(parameter: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidParameter {
            parameter,
            reason: reason.into(),
        }
    }
}

impl From<PositionError> for AccountError {
    fn from(error: PositionError) -> Self {
        match error {
            PositionError::HedgeLegCrossesZero { .. } => Self::LegWouldCross(error),
            PositionError::NotPositive { field, .. } => Self::invalid(field, error.to_string()),
            PositionError::Money(money) => Self::Arithmetic(money),
        }
    }
}
