//! The user-data events (`../shared/binance-futures.md` §8.2–§8.4) as typed structs with exact
//! decimals. Field names are Kestrel's; each carries Binance's one-letter key in its serde
//! rename.

use kestrel_model::order::{Fill, Liquidity, PositionSide, WorkingType};
use kestrel_model::{Money, Price, Qty, Rate, Side};
use serde::Deserialize;

use crate::binance::account::MarginType;
use crate::binance::orders::{
    AlgoStatus, SelfTradePrevention, VenueOrderStatus, VenueOrderType, VenueTimeInForce,
};
use crate::binance::wire;

/// What an `ORDER_TRADE_UPDATE` reports happened (`x`, §8.2, §9.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionType {
    /// Accepted.
    New,
    /// Cancelled.
    Canceled,
    /// A liquidation execution.
    Calculated,
    /// Expired (time in force, market remainder, self-trade prevention, ...).
    Expired,
    /// A fill.
    Trade,
    /// Modified.
    Amendment,
}

/// `ORDER_TRADE_UPDATE` (§8.2): one change to one of our orders.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderTradeUpdate {
    /// Event (push) time, ms.
    #[serde(rename = "E")]
    pub event_time_ms: u64,
    /// Transaction (engine) time, ms.
    #[serde(rename = "T")]
    pub transaction_time_ms: u64,
    /// The order.
    #[serde(rename = "o")]
    pub order: OrderUpdate,
}

/// The order inside an `ORDER_TRADE_UPDATE` (§8.2).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderUpdate {
    /// `s`: the symbol.
    #[serde(rename = "s")]
    pub symbol: String,
    /// `c`: the client order id (`autoclose-…` for liquidations, `adl_autoclose` for ADL).
    #[serde(rename = "c")]
    pub client_order_id: String,
    /// `S`: the side.
    #[serde(rename = "S")]
    pub side: Side,
    /// `o`: the order type now.
    #[serde(rename = "o")]
    pub order_type: VenueOrderType,
    /// `f`: time in force.
    #[serde(rename = "f")]
    pub time_in_force: VenueTimeInForce,
    /// `q`: the original quantity.
    #[serde(rename = "q")]
    pub orig_qty: Qty,
    /// `p`: the original price.
    #[serde(rename = "p")]
    pub orig_price: Price,
    /// `ap`: the average fill price.
    #[serde(rename = "ap", deserialize_with = "wire::computed_price")]
    pub avg_price: Price,
    /// `sp`: the stop price.
    #[serde(rename = "sp")]
    pub stop_price: Price,
    /// `x`: what this event reports.
    #[serde(rename = "x")]
    pub execution_type: ExecutionType,
    /// `X`: the order status after the event.
    #[serde(rename = "X")]
    pub status: VenueOrderStatus,
    /// `i`: the venue order id.
    #[serde(rename = "i")]
    pub order_id: u64,
    /// `l`: quantity filled by this event.
    #[serde(rename = "l")]
    pub last_filled_qty: Qty,
    /// `z`: cumulative filled quantity (never decreases, §9.3).
    #[serde(rename = "z")]
    pub cum_filled_qty: Qty,
    /// `L`: price of this fill.
    #[serde(rename = "L")]
    pub last_filled_price: Price,
    /// `N`: commission asset (only with a commission).
    #[serde(rename = "N", default)]
    pub commission_asset: Option<String>,
    /// `n`: commission of this fill.
    #[serde(rename = "n", default)]
    pub commission: Money,
    /// `T`: trade time, ms.
    #[serde(rename = "T")]
    pub trade_time_ms: u64,
    /// `t`: trade id (0 without a fill).
    #[serde(rename = "t")]
    pub trade_id: u64,
    /// `b`: open buy notional.
    #[serde(rename = "b", default)]
    pub bids_notional: Money,
    /// `a`: open sell notional.
    #[serde(rename = "a", default)]
    pub asks_notional: Money,
    /// `m`: whether this fill was maker.
    #[serde(rename = "m")]
    pub is_maker: bool,
    /// `R`: reduce-only.
    #[serde(rename = "R")]
    pub reduce_only: bool,
    /// `wt`: working type.
    #[serde(rename = "wt")]
    pub working_type: WorkingType,
    /// `ot`: the original order type.
    #[serde(rename = "ot")]
    pub orig_type: VenueOrderType,
    /// `ps`: position side.
    #[serde(rename = "ps")]
    pub position_side: PositionSide,
    /// `cp`: close-all (conditional orders).
    #[serde(rename = "cp", default)]
    pub close_position: bool,
    /// `AP`: activation price (trailing only).
    #[serde(rename = "AP", default, deserialize_with = "wire::opt_nonzero_price")]
    pub activation_price: Option<Price>,
    /// `cr`: callback rate (trailing only).
    #[serde(rename = "cr", default, deserialize_with = "wire::opt_nonzero_rate")]
    pub callback_rate: Option<Rate>,
    /// `pP`: price protection.
    #[serde(rename = "pP", default)]
    pub price_protect: bool,
    /// `rp`: realized P&L of this fill.
    #[serde(rename = "rp", default)]
    pub realized_pnl: Money,
    /// `V`: self-trade prevention mode.
    #[serde(rename = "V", default)]
    pub self_trade_prevention: Option<SelfTradePrevention>,
    /// `gtd`: GTD cancel time (0 otherwise).
    #[serde(rename = "gtd", default)]
    pub good_till_date: u64,
    /// `er`: expiry reason (0 none, 1 STP, 2 IOC remainder, ... 9 market remainder; §8.2).
    #[serde(rename = "er", default, deserialize_with = "expiry_reason")]
    pub expiry_reason: u8,
}

impl OrderUpdate {
    /// The fill this event reports, for `TRADE` and `CALCULATED` (liquidation) executions
    /// with a positive `l`; `None` otherwise.
    #[must_use]
    pub fn fill(&self) -> Option<Fill> {
        let executes = matches!(
            self.execution_type,
            ExecutionType::Trade | ExecutionType::Calculated
        );
        if !executes || !self.last_filled_qty.is_positive() {
            return None;
        }
        Some(Fill {
            order_id: self.order_id,
            client_order_id: self.client_order_id.clone(),
            symbol: self.symbol.clone(),
            side: self.side,
            price: self.last_filled_price,
            quantity: self.last_filled_qty,
            commission: self.commission,
            commission_asset: self.commission_asset.clone().unwrap_or_default(),
            liquidity: if self.is_maker {
                Liquidity::Maker
            } else {
                Liquidity::Taker
            },
            trade_id: self.trade_id,
            timestamp_ms: self.trade_time_ms,
        })
    }
}

fn expiry_reason<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u8, D::Error> {
    let value = wire::int_or_text(deserializer)?;
    u8::try_from(value).map_err(serde::de::Error::custom)
}

/// Why an `ACCOUNT_UPDATE` was pushed (`m`, §8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountUpdateReason {
    /// A deposit.
    Deposit,
    /// A withdrawal.
    Withdraw,
    /// A fill.
    Order,
    /// A funding payment.
    FundingFee,
    /// A withdrawal reversed.
    WithdrawReject,
    /// A venue adjustment.
    Adjustment,
    /// Insurance fund clearance.
    InsuranceClear,
    /// A deposit by the venue.
    AdminDeposit,
    /// A withdrawal by the venue.
    AdminWithdraw,
    /// Margin moved.
    MarginTransfer,
    /// Margin type changed.
    MarginTypeChange,
    /// Assets moved.
    AssetTransfer,
    /// An options premium fee.
    OptionsPremiumFee,
    /// An options settlement profit.
    OptionsSettleProfit,
    /// An automatic exchange.
    AutoExchange,
    /// A coin-swap deposit.
    CoinSwapDeposit,
    /// A coin-swap withdrawal.
    CoinSwapWithdraw,
    /// A reason this adapter does not know yet.
    #[serde(other)]
    Other,
}

/// `ACCOUNT_UPDATE` (§8.3): balances and the positions that changed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccountUpdate {
    /// Event time, ms.
    #[serde(rename = "E")]
    pub event_time_ms: u64,
    /// Transaction time, ms.
    #[serde(rename = "T")]
    pub transaction_time_ms: u64,
    /// The update.
    #[serde(rename = "a")]
    pub update: AccountUpdateData,
}

/// The body of an `ACCOUNT_UPDATE`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccountUpdateData {
    /// `m`: why it was pushed.
    #[serde(rename = "m")]
    pub reason: AccountUpdateReason,
    /// `B`: balances.
    #[serde(rename = "B", default)]
    pub balances: Vec<BalanceUpdate>,
    /// `P`: only the positions that changed.
    #[serde(rename = "P", default)]
    pub positions: Vec<PositionUpdate>,
}

/// One balance of an `ACCOUNT_UPDATE`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BalanceUpdate {
    /// `a`: the asset.
    #[serde(rename = "a")]
    pub asset: String,
    /// `wb`: wallet balance.
    #[serde(rename = "wb")]
    pub wallet_balance: Money,
    /// `cw`: cross wallet balance.
    #[serde(rename = "cw")]
    pub cross_wallet_balance: Money,
    /// `bc`: balance change excluding P&L and commission.
    #[serde(rename = "bc", default)]
    pub balance_change: Money,
}

/// One position of an `ACCOUNT_UPDATE`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PositionUpdate {
    /// `s`: the symbol.
    #[serde(rename = "s")]
    pub symbol: String,
    /// `pa`: signed position amount.
    #[serde(rename = "pa")]
    pub position_amt: Qty,
    /// `ep`: entry price.
    #[serde(rename = "ep", deserialize_with = "wire::computed_price")]
    pub entry_price: Price,
    /// `bep`: break-even price.
    #[serde(rename = "bep", default, deserialize_with = "wire::opt_computed_price")]
    pub break_even_price: Option<Price>,
    /// `cr`: pre-fee accumulated realized P&L.
    #[serde(rename = "cr", default)]
    pub accumulated_realized: Money,
    /// `up`: unrealized P&L.
    #[serde(rename = "up")]
    pub unrealized_pnl: Money,
    /// `mt`: margin type.
    #[serde(rename = "mt", default)]
    pub margin_type: Option<MarginType>,
    /// `iw`: isolated wallet.
    #[serde(rename = "iw", default)]
    pub isolated_wallet: Money,
    /// `ps`: position side.
    #[serde(rename = "ps")]
    pub position_side: PositionSide,
}

/// `MARGIN_CALL` (§8.4): advisory; the position may already be liquidated.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MarginCall {
    /// Event time, ms.
    #[serde(rename = "E")]
    pub event_time_ms: u64,
    /// `cw`: cross wallet balance (cross positions only).
    #[serde(rename = "cw", default)]
    pub cross_wallet_balance: Option<Money>,
    /// `p`: the positions at risk.
    #[serde(rename = "p")]
    pub positions: Vec<MarginCallPosition>,
}

/// One position of a `MARGIN_CALL`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MarginCallPosition {
    /// `s`: the symbol.
    #[serde(rename = "s")]
    pub symbol: String,
    /// `ps`: position side.
    #[serde(rename = "ps")]
    pub position_side: PositionSide,
    /// `pa`: signed position amount.
    #[serde(rename = "pa")]
    pub position_amt: Qty,
    /// `mt`: margin type.
    #[serde(rename = "mt", default)]
    pub margin_type: Option<MarginType>,
    /// `iw`: isolated wallet.
    #[serde(rename = "iw", default)]
    pub isolated_wallet: Money,
    /// `mp`: mark price.
    #[serde(rename = "mp", deserialize_with = "wire::computed_price")]
    pub mark_price: Price,
    /// `up`: unrealized P&L.
    #[serde(rename = "up")]
    pub unrealized_pnl: Money,
    /// `mm`: maintenance margin required.
    #[serde(rename = "mm")]
    pub maint_margin: Money,
}

/// `listenKeyExpired` (§8.1): nothing more arrives on this key; create a new one.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ListenKeyExpired {
    /// Event time, ms.
    #[serde(rename = "E")]
    pub event_time_ms: u64,
    /// The key (absent in older payloads).
    #[serde(rename = "listenKey", default)]
    pub listen_key: Option<String>,
}

/// `TRADE_LITE` (§8.4): the low-latency fill notice (the `ORDER_TRADE_UPDATE` follows).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TradeLite {
    /// Event time, ms.
    #[serde(rename = "E")]
    pub event_time_ms: u64,
    /// Transaction time, ms.
    #[serde(rename = "T")]
    pub transaction_time_ms: u64,
    /// `s`: the symbol.
    #[serde(rename = "s")]
    pub symbol: String,
    /// `q`: original quantity.
    #[serde(rename = "q")]
    pub orig_qty: Qty,
    /// `p`: original price.
    #[serde(rename = "p")]
    pub orig_price: Price,
    /// `m`: maker.
    #[serde(rename = "m")]
    pub is_maker: bool,
    /// `c`: client order id.
    #[serde(rename = "c")]
    pub client_order_id: String,
    /// `S`: side.
    #[serde(rename = "S")]
    pub side: Side,
    /// `L`: fill price.
    #[serde(rename = "L")]
    pub last_filled_price: Price,
    /// `l`: fill quantity.
    #[serde(rename = "l")]
    pub last_filled_qty: Qty,
    /// `t`: trade id.
    #[serde(rename = "t")]
    pub trade_id: u64,
    /// `i`: order id.
    #[serde(rename = "i")]
    pub order_id: u64,
}

/// `ALGO_UPDATE` (§8.4): a conditional order's change.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AlgoUpdate {
    /// Event time, ms.
    #[serde(rename = "E")]
    pub event_time_ms: u64,
    /// Transaction time, ms.
    #[serde(rename = "T")]
    pub transaction_time_ms: u64,
    /// The algo order.
    #[serde(rename = "o")]
    pub order: AlgoOrderUpdate,
}

/// The algo order inside an `ALGO_UPDATE`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AlgoOrderUpdate {
    /// `caid`: client algo id.
    #[serde(rename = "caid")]
    pub client_algo_id: String,
    /// `aid`: algo id.
    #[serde(rename = "aid")]
    pub algo_id: u64,
    /// `o`: order type.
    #[serde(rename = "o")]
    pub order_type: VenueOrderType,
    /// `s`: symbol.
    #[serde(rename = "s")]
    pub symbol: String,
    /// `S`: side.
    #[serde(rename = "S")]
    pub side: Side,
    /// `ps`: position side.
    #[serde(rename = "ps")]
    pub position_side: PositionSide,
    /// `q`: quantity.
    #[serde(rename = "q")]
    pub quantity: Qty,
    /// `X`: algo status.
    #[serde(rename = "X")]
    pub status: AlgoStatus,
    /// `ai`: the child order's id, once triggered.
    #[serde(rename = "ai", default, deserialize_with = "wire::opt_id")]
    pub actual_order_id: Option<u64>,
    /// `tp`: trigger price.
    #[serde(rename = "tp", deserialize_with = "wire::computed_price")]
    pub trigger_price: Price,
    /// `p`: price.
    #[serde(rename = "p", deserialize_with = "wire::computed_price")]
    pub price: Price,
    /// `tt`: trigger time, once triggered.
    #[serde(rename = "tt", default, deserialize_with = "wire::opt_id")]
    pub trigger_time_ms: Option<u64>,
    /// `rm`: why it failed, when it did.
    #[serde(rename = "rm", default)]
    pub reject_reason: Option<String>,
}

/// `ACCOUNT_CONFIG_UPDATE` (§8.4): leverage or multi-assets mode changed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccountConfigUpdate {
    /// Event time, ms.
    #[serde(rename = "E")]
    pub event_time_ms: u64,
    /// `ac`: a symbol's new leverage.
    #[serde(rename = "ac", default)]
    pub leverage: Option<LeverageChange>,
    /// `ai.j`: the new multi-assets mode.
    #[serde(rename = "ai", default)]
    pub multi_assets: Option<MultiAssetsChange>,
}

/// `ac` of `ACCOUNT_CONFIG_UPDATE`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LeverageChange {
    /// `s`: the symbol.
    #[serde(rename = "s")]
    pub symbol: String,
    /// `l`: the leverage.
    #[serde(rename = "l")]
    pub leverage: u32,
}

/// `ai` of `ACCOUNT_CONFIG_UPDATE`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MultiAssetsChange {
    /// `j`: whether multi-assets mode is on.
    #[serde(rename = "j")]
    pub enabled: bool,
}
