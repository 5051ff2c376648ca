//! What the book keeps per position leg ([`Leg`]) and per asset ([`AssetState`]).

use kestrel_model::money::RoundingMode;
use kestrel_model::order::PositionSide;
use kestrel_model::position::{Position, PositionError};
use kestrel_model::{Money, Price};

use crate::arith;
use crate::fill::FillUpdate;
use crate::snapshot::{VenueBalance, VenuePosition};

/// Decimal places of every amount the venue books and reports.
pub(crate) const AMOUNT_DECIMALS: u32 = 8;

/// One position leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Leg {
    /// Quantity, exact cost basis, exact realized P&L and fees (the model's arithmetic).
    pub position: Position,
    /// Σ realized P&L as booked (each fill's on the 10⁻⁸ grid).
    pub booked_realized: Money,
    /// The venue's liquidation price (zero when none).
    pub liquidation_price: Price,
    /// The venue's initial margin for the leg.
    pub initial_margin: Money,
    /// The venue's maintenance margin for the leg.
    pub maint_margin: Money,
    /// Venue time of the latest fill applied.
    pub last_fill_ms: u64,
    /// Fills at or before this venue time are already in the quantity (adopted from the
    /// venue); they count in the statistics only.
    pub settled_through_ms: u64,
    /// Realized P&L minus commissions since the leg last opened from flat.
    pub trip_net: Money,
}

/// What one fill did to a leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LegFill {
    /// The realized P&L booked (the venue's when reported).
    pub realized: Money,
    /// The book's own computation of it, half to even at 10⁻⁸.
    pub computed: Money,
    /// When the fill closed the position: its result net of commissions.
    pub closed_net: Option<Money>,
}

impl Leg {
    /// A flat leg.
    pub(crate) fn flat(symbol: &str, position_side: PositionSide) -> Self {
        Self {
            position: Position::flat(symbol, position_side),
            booked_realized: Money::ZERO,
            liquidation_price: Price::ZERO,
            initial_margin: Money::ZERO,
            maint_margin: Money::ZERO,
            last_fill_ms: 0,
            settled_through_ms: 0,
            trip_net: Money::ZERO,
        }
    }

    /// Takes the venue's quantity, with a cost basis of `entry × qty` (exact for the entry
    /// price the venue shows), counting fills up to `settled_through_ms` as included.
    pub(crate) fn adopt(&mut self, venue: &VenuePosition, settled_through_ms: u64) {
        self.position.qty = venue.qty;
        self.position.cost_basis = venue.entry_price.notional(venue.qty);
        self.settled_through_ms = self.settled_through_ms.max(settled_through_ms);
        self.last_fill_ms = self.last_fill_ms.max(settled_through_ms);
        if venue.qty.is_zero() {
            self.trip_net = Money::ZERO;
        }
    }

    /// Applies `update` (`fee`: its commission in the margin asset) with the model's position
    /// arithmetic; on error the leg is unchanged.
    pub(crate) fn apply(
        &mut self,
        update: &FillUpdate,
        fee: Money,
    ) -> Result<LegFill, PositionError> {
        let fill = &update.fill;
        let was_open = !self.position.qty.is_zero();
        let effect = self
            .position
            .apply_fill(fill.side, fill.quantity, fill.price, fee)?;
        let computed = booked_amount(effect.realized_pnl);
        let realized = update.realized_pnl.unwrap_or(computed);
        self.booked_realized = arith::add(self.booked_realized, realized);
        self.last_fill_ms = self.last_fill_ms.max(fill.timestamp_ms);
        self.trip_net = arith::sub(arith::add(self.trip_net, realized), fee);
        let closed = was_open
            && effect.closed.is_positive()
            && (self.position.qty.is_zero() || effect.opened.is_positive());
        let closed_net = closed.then(|| std::mem::replace(&mut self.trip_net, Money::ZERO));
        Ok(LegFill {
            realized,
            computed,
            closed_net,
        })
    }

    /// Unrealized P&L at `mark` as the venue reports it: `mark × qty − cost basis`, half to
    /// even at 10⁻⁸; zero without a mark.
    pub(crate) fn unrealized(&self, mark: Option<Price>) -> Money {
        mark.and_then(|mark| self.position.unrealized_pnl(mark).ok())
            .map_or(Money::ZERO, booked_amount)
    }
}

/// An exact amount on the venue's 10⁻⁸ grid, half to even: how Binance and the simulator book
/// a fill's realized P&L.
pub(crate) fn booked_amount(exact: Money) -> Money {
    exact.round_dp(AMOUNT_DECIMALS, RoundingMode::HalfEven)
}

/// One asset's balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AssetState {
    /// The wallet balance.
    pub wallet: Money,
    /// The venue's last figures for it (margins, available), if it reported the asset.
    pub venue: Option<VenueBalance>,
    /// Venue time of the latest change applied.
    pub last_change_ms: u64,
    /// Changes at or before this venue time are already in the wallet (adopted).
    pub settled_through_ms: u64,
}

impl AssetState {
    /// A wallet of `wallet` as of venue time `as_of_ms`.
    pub(crate) const fn adopted(wallet: Money, as_of_ms: u64) -> Self {
        Self {
            wallet,
            venue: None,
            last_change_ms: as_of_ms,
            settled_through_ms: as_of_ms,
        }
    }

    /// Adds `amount` changed at venue time `time_ms`, unless the wallet already includes it.
    pub(crate) fn book(&mut self, amount: Money, time_ms: u64) {
        if time_ms <= self.settled_through_ms {
            return;
        }
        self.wallet = arith::add(self.wallet, amount);
        self.last_change_ms = self.last_change_ms.max(time_ms);
    }

    /// Takes the venue's wallet balance as of `as_of_ms`.
    pub(crate) fn adopt(&mut self, wallet: Money, as_of_ms: u64) {
        self.wallet = wallet;
        self.settled_through_ms = self.settled_through_ms.max(as_of_ms);
        self.last_change_ms = self.last_change_ms.max(as_of_ms);
    }
}
