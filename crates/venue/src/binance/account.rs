//! Account, balance and position schemas of the Binance USD-M account endpoints
//! (`../shared/binance-futures.md` §3.5): `GET /fapi/v3/account`, `/fapi/v3/balance` and
//! `/fapi/v3/positionRisk` (v2 answers parse too; their extra fields are optional), with
//! exact decimals.

use kestrel_model::order::PositionSide;
use kestrel_model::{Balance, Money, Price, Qty};
use serde::Deserialize;

use super::wire;

/// The account totals and its assets and positions (`GET /fapi/v3/account`).
///
/// In single-asset mode the totals are USDT; in multi-asset mode, USD value (§3.5).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfo {
    /// Initial margin of positions and open orders.
    pub total_initial_margin: Money,
    /// Maintenance margin required.
    pub total_maint_margin: Money,
    /// Wallet balance.
    pub total_wallet_balance: Money,
    /// Unrealized P&L.
    pub total_unrealized_profit: Money,
    /// Wallet balance plus unrealized P&L.
    pub total_margin_balance: Money,
    /// Initial margin of positions.
    pub total_position_initial_margin: Money,
    /// Initial margin of open orders.
    pub total_open_order_initial_margin: Money,
    /// Cross wallet balance.
    pub total_cross_wallet_balance: Money,
    /// Unrealized P&L of cross positions.
    pub total_cross_un_pnl: Money,
    /// What new orders can still use.
    pub available_balance: Money,
    /// What could be withdrawn.
    pub max_withdraw_amount: Money,
    /// One row per asset.
    pub assets: Vec<AccountAsset>,
    /// v3: legs with a position or open orders; v2: every symbol.
    pub positions: Vec<AccountPosition>,
}

/// One asset of the account (`assets[]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountAsset {
    /// The asset, e.g. `USDT`.
    pub asset: String,
    /// Wallet balance.
    pub wallet_balance: Money,
    /// Unrealized P&L.
    pub unrealized_profit: Money,
    /// Wallet balance plus unrealized P&L.
    pub margin_balance: Money,
    /// Maintenance margin required.
    pub maint_margin: Money,
    /// Initial margin of positions and open orders.
    pub initial_margin: Money,
    /// Initial margin of positions.
    pub position_initial_margin: Money,
    /// Initial margin of open orders.
    pub open_order_initial_margin: Money,
    /// Cross wallet balance.
    pub cross_wallet_balance: Money,
    /// Unrealized P&L of cross positions.
    pub cross_un_pnl: Money,
    /// Available for new orders.
    pub available_balance: Money,
    /// Withdrawable.
    pub max_withdraw_amount: Money,
    /// Last change, ms (0 for an asset never funded).
    pub update_time: u64,
}

impl AccountAsset {
    /// The model balance: the wallet balance, with the initial margin locked.
    #[must_use]
    pub fn to_balance(&self) -> Balance {
        Balance {
            asset: self.asset.clone(),
            total: self.wallet_balance,
            locked: self.initial_margin,
            timestamp_ms: self.update_time,
        }
    }
}

/// One position leg of the account endpoint (`positions[]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountPosition {
    /// The symbol.
    pub symbol: String,
    /// The leg.
    pub position_side: PositionSide,
    /// Signed quantity (long > 0).
    pub position_amt: Qty,
    /// Unrealized P&L.
    pub unrealized_profit: Money,
    /// Isolated margin.
    pub isolated_margin: Money,
    /// Signed notional at the mark price.
    pub notional: Money,
    /// Isolated wallet.
    pub isolated_wallet: Money,
    /// Initial margin.
    pub initial_margin: Money,
    /// Maintenance margin.
    pub maint_margin: Money,
    /// Last change, ms.
    pub update_time: u64,
}

/// One row of `GET /fapi/v3/balance`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BalanceRow {
    /// The account alias.
    pub account_alias: String,
    /// The asset.
    pub asset: String,
    /// Wallet balance.
    pub balance: Money,
    /// Cross wallet balance.
    pub cross_wallet_balance: Money,
    /// Unrealized P&L of cross positions.
    pub cross_un_pnl: Money,
    /// Available for new orders.
    pub available_balance: Money,
    /// Withdrawable.
    pub max_withdraw_amount: Money,
    /// Whether the asset can be used as margin.
    pub margin_available: bool,
    /// Last change, ms.
    pub update_time: u64,
}

/// Cross or isolated margin (`"cross"`/`"isolated"` in positionRisk and `ACCOUNT_UPDATE`,
/// `"CROSSED"`/`"ISOLATED"` in `MARGIN_CALL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum MarginType {
    /// Shared cross margin.
    #[serde(
        rename = "cross",
        alias = "CROSSED",
        alias = "crossed",
        alias = "CROSS"
    )]
    Cross,
    /// Per-position isolated margin.
    #[serde(rename = "isolated", alias = "ISOLATED")]
    Isolated,
}

/// One row of `GET /fapi/v3/positionRisk` (v2 rows parse too).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PositionRisk {
    /// The symbol.
    pub symbol: String,
    /// The leg.
    pub position_side: PositionSide,
    /// Signed quantity (long > 0).
    pub position_amt: Qty,
    /// Average entry price (0 when flat).
    #[serde(deserialize_with = "wire::computed_price")]
    pub entry_price: Price,
    /// Break-even price.
    #[serde(default, deserialize_with = "wire::opt_computed_price")]
    pub break_even_price: Option<Price>,
    /// The mark price.
    #[serde(deserialize_with = "wire::computed_price")]
    pub mark_price: Price,
    /// Unrealized P&L.
    pub un_realized_profit: Money,
    /// Liquidation price (0 when none).
    #[serde(deserialize_with = "wire::computed_price")]
    pub liquidation_price: Price,
    /// Isolated margin.
    pub isolated_margin: Money,
    /// Signed notional at the mark price.
    pub notional: Money,
    /// Isolated wallet.
    pub isolated_wallet: Money,
    /// Initial margin (v3).
    #[serde(default)]
    pub initial_margin: Option<Money>,
    /// Maintenance margin (v3).
    #[serde(default)]
    pub maint_margin: Option<Money>,
    /// Leverage (v2 only; a string there).
    #[serde(default, deserialize_with = "opt_leverage")]
    pub leverage: Option<u32>,
    /// Margin type (v2 only).
    #[serde(default)]
    pub margin_type: Option<MarginType>,
    /// Last change, ms.
    pub update_time: u64,
}

fn opt_leverage<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u32>, D::Error> {
    let text: Option<wire::DecimalText> = Option::deserialize(deserializer)?;
    text.map(|t| t.0.parse::<u32>().map_err(serde::de::Error::custom))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `GET /fapi/v3/positionRisk` row with the v3 field list of §3.5.
    const POSITION_RISK_V3: &str = r#"[{"symbol":"ADAUSDT","positionSide":"BOTH","positionAmt":"30","entryPrice":"0.385","breakEvenPrice":"0.385077","markPrice":"0.41047590","unRealizedProfit":"0.76427700","liquidationPrice":"0","isolatedMargin":"0","notional":"12.31427700","marginAsset":"USDT","isolatedWallet":"0","initialMargin":"0.61571385","maintMargin":"0.08004280","positionInitialMargin":"0.61571385","openOrderInitialMargin":"0","adl":2,"bidNotional":"0","askNotional":"0","updateTime":1720736417660}]"#;

    #[test]
    fn position_risk_v3_rows_parse_with_exact_decimals() {
        let rows: Vec<PositionRisk> = serde_json::from_str(POSITION_RISK_V3).unwrap();
        let row = &rows[0];
        assert_eq!(row.position_amt, Qty::parse("30").unwrap());
        assert_eq!(
            row.break_even_price,
            Some(Price::parse("0.385077").unwrap())
        );
        assert_eq!(row.mark_price, Price::parse("0.4104759").unwrap());
        assert_eq!(row.un_realized_profit, Money::parse("0.764277").unwrap());
        assert_eq!(
            row.initial_margin,
            Some(Money::parse("0.61571385").unwrap())
        );
        assert_eq!((row.leverage, row.margin_type), (None, None));
    }

    #[test]
    fn position_risk_v2_rows_carry_leverage_and_margin_type() {
        let v2 = r#"{"symbol":"BTCUSDT","positionAmt":"-0.010","entryPrice":"61800.12345678912","breakEvenPrice":"0.0","markPrice":"61700.00000000","unRealizedProfit":"1.00123456","liquidationPrice":"0","leverage":"20","maxNotionalValue":"25000000","marginType":"cross","isolatedMargin":"0.00000000","isAutoAddMargin":"false","positionSide":"BOTH","notional":"-617.00000000","isolatedWallet":"0","updateTime":1}"#;
        let row: PositionRisk = serde_json::from_str(v2).unwrap();
        assert_eq!(row.entry_price, Price::parse("61800.12345679").unwrap());
        assert_eq!(row.leverage, Some(20));
        assert_eq!(row.margin_type, Some(MarginType::Cross));
        assert_eq!(row.position_amt, Qty::parse("-0.01").unwrap());
    }
}
