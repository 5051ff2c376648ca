//! Tests of the account: each file pins down one part of the rules in the module docs, with
//! hand-worked numbers.

mod booking;
mod brackets;
mod exactness;
mod liquidation;
mod margin;
mod settings;

use std::collections::BTreeMap;
use std::sync::Arc;

use kestrel_model::config::Secret;
use kestrel_model::money::{Money, Price, Qty, Rate};
use kestrel_model::order::{PositionSide, Side};

use super::{Account, Brackets, Execution, FillBooking, OpenOrder};

fn p(text: &str) -> Price {
    Price::parse(text).unwrap()
}

fn q(text: &str) -> Qty {
    Qty::parse(text).unwrap()
}

fn m(text: &str) -> Money {
    Money::parse(text).unwrap()
}

fn r(text: &str) -> Rate {
    Rate::parse(text).unwrap()
}

/// A fresh one-way account on the default brackets.
fn account() -> Account {
    Account::new(
        "test-key",
        Secret::new("test-secret-value"),
        Arc::new(Brackets::binance_defaults()),
    )
}

/// A one-way account holding `amount` USDT.
fn funded(amount: &str) -> Account {
    let mut account = account();
    account.deposit(m(amount), 1).unwrap();
    account
}

/// The same, with no fees (to isolate P&L and margin arithmetic).
fn funded_fee_free(amount: &str) -> Account {
    let mut account = funded(amount);
    account.set_fee_rates(Rate::ZERO, Rate::ZERO);
    account
}

fn marks(pairs: &[(&str, &str)]) -> BTreeMap<String, Price> {
    pairs
        .iter()
        .map(|(symbol, mark)| ((*symbol).to_owned(), p(mark)))
        .collect()
}

fn execution<'a>(
    symbol: &'a str,
    side: Side,
    position_side: PositionSide,
    qty: &str,
    price: &str,
    is_maker: bool,
) -> Execution<'a> {
    Execution {
        symbol,
        side,
        position_side,
        qty: q(qty),
        price: p(price),
        is_maker,
    }
}

/// A one-way taker fill.
fn trade(account: &mut Account, symbol: &str, side: Side, qty: &str, price: &str) -> FillBooking {
    let fill = execution(symbol, side, PositionSide::Both, qty, price, false);
    account.apply_fill(&fill, 2).unwrap()
}

fn order<'a>(symbol: &'a str, side: Side, price: &str, qty: &str) -> OpenOrder<'a> {
    OpenOrder {
        symbol,
        side,
        position_side: PositionSide::Both,
        price: p(price),
        qty: q(qty),
    }
}
