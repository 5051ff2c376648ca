//! What happens as the book changes and as time passes: depth and book-ticker publication,
//! conditional triggers, mark prices, funding settlement, liquidation, and listen keys.

use kestrel_model::order::{OrderType, PositionSide, WorkingType};
use kestrel_model::{Money, Price, Rate};
use rand::RngCore;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use super::feed::{Cadence, book_ticker_event, mark_price_event};
use super::order::AMOUNT_DECIMALS;
use super::place::PlaceRequest;
use super::{Exchange, ListenKey, VenueEvent, next_boundary};
use crate::api::ApiError;
use crate::engine::Stp;

impl Exchange {
    /// Publishes what a book change on `symbol` produced (real-time depth, book ticker) and
    /// fires conditional orders the new last price reaches.
    pub(super) fn after_book_change(&mut self, symbol: &str, now_ms: u64) {
        self.publish_book(symbol, now_ms, true);
        self.finish_algo_children(now_ms);
        self.check_triggers(symbol, now_ms);
    }

    fn publish_book(&mut self, symbol: &str, now_ms: u64, realtime_only: bool) {
        let Some(market) = self.markets.get_mut(symbol) else {
            return;
        };
        market.collect_level_changes();
        let p = market.precision;
        for builder in &mut market.depth {
            if realtime_only && builder.cadence() != Cadence::Realtime {
                continue;
            }
            let cadence = builder.cadence();
            if let Some(payload) = builder.flush(symbol, p, now_ms) {
                self.events.push(VenueEvent::Depth {
                    symbol: symbol.to_owned(),
                    cadence,
                    payload,
                });
            }
        }
        let top = market.top();
        if top.is_some() && top != market.last_top {
            market.last_top = top;
            if let Some((bid, ask)) = top {
                let payload = book_ticker_event(symbol, market.update_id(), bid, ask, p, now_ms);
                self.events.push(VenueEvent::BookTicker {
                    symbol: symbol.to_owned(),
                    payload,
                });
            }
        }
    }

    fn finish_algo_children(&mut self, now_ms: u64) {
        let closed: Vec<u64> = self
            .algo_children
            .keys()
            .copied()
            .filter(|id| self.orders.get(id).is_none_or(|o| !o.status.is_open()))
            .collect();
        for id in closed {
            self.on_order_closed(id, now_ms);
        }
    }

    /// Advances the venue's clock to `now_ms`: flushes due depth events of every cadence,
    /// settles funding that fell due, and expires lapsed listen keys.
    pub fn tick(&mut self, now_ms: u64) {
        let symbols: Vec<String> = self.markets.keys().cloned().collect();
        for symbol in &symbols {
            self.publish_book(symbol, now_ms, false);
        }
        self.settle_funding(now_ms);
        self.expire_listen_keys(now_ms);
    }

    /// Sets the mark price, index price and funding rate of `symbol`, publishes
    /// `markPriceUpdate`, fires mark-price triggers and liquidates accounts out of margin.
    ///
    /// # Errors
    /// `-1121` for an unknown symbol.
    pub fn set_mark(
        &mut self,
        symbol: &str,
        mark: Price,
        index: Price,
        funding_rate: Rate,
        now_ms: u64,
    ) -> Result<(), ApiError> {
        let market = self.market_mut(symbol)?;
        market.mark.mark = mark;
        market.mark.index = index;
        market.mark.funding_rate = funding_rate;
        let payload = mark_price_event(symbol, &market.mark, market.precision, now_ms);
        self.events.push(VenueEvent::MarkPrice {
            symbol: symbol.to_owned(),
            payload,
        });
        self.check_triggers(symbol, now_ms);
        self.liquidate(now_ms);
        Ok(())
    }

    fn settle_funding(&mut self, now_ms: u64) {
        let due: Vec<(String, Price, Rate)> = self
            .markets
            .iter()
            .filter(|(_, m)| m.mark.next_funding_ms <= now_ms)
            .map(|(s, m)| (s.clone(), m.mark.mark, m.mark.funding_rate))
            .collect();
        for (symbol, mark, rate) in due {
            let numbers: Vec<u32> = self.accounts.iter().map(|(n, _)| n).collect();
            for number in numbers {
                let paid = self
                    .accounts
                    .get_mut(number)
                    .map(|a| a.apply_funding(&symbol, mark, rate, now_ms));
                if let Some(Ok(Some(amount))) = paid
                    && let Some(payload) =
                        self.account_update_payload(number, None, "FUNDING_FEE", amount, now_ms)
                {
                    self.push_user(number, payload);
                }
            }
            let interval = self.config.funding_interval_ms;
            if let Some(market) = self.markets.get_mut(&symbol) {
                market
                    .funding_history
                    .push_back((market.mark.next_funding_ms, rate, mark));
                if market.funding_history.len() > 1000 {
                    market.funding_history.pop_front();
                }
                market.mark.next_funding_ms = next_boundary(now_ms, interval);
            }
        }
    }

    /// Closes every position of accounts whose margin balance fell to their maintenance margin,
    /// with market orders whose client id starts `autoclose-` (§8.2), after cancelling their
    /// open orders.
    fn liquidate(&mut self, now_ms: u64) {
        let marks = self.marks();
        let doomed: Vec<u32> = self
            .accounts
            .iter()
            .filter(|(_, a)| a.is_liquidatable(&marks).unwrap_or(false))
            .map(|(n, _)| n)
            .collect();
        for number in doomed {
            self.cancel_everything(number, now_ms);
            let closing = self
                .accounts
                .get(number)
                .map(|a| a.closing_orders())
                .unwrap_or_default();
            for close in closing {
                let request = PlaceRequest {
                    symbol: close.symbol.clone(),
                    side: close.side,
                    order_type: OrderType::Market,
                    position_side: Some(close.position_side),
                    time_in_force: None,
                    quantity: Some(close.qty),
                    price: None,
                    stop_price: None,
                    reduce_only: close.position_side == PositionSide::Both,
                    close_position: false,
                    client_order_id: Some(format!("autoclose-{now_ms}")),
                    working_type: WorkingType::MarkPrice,
                    price_protect: false,
                    stp: Stp::None,
                    activation_price: None,
                    callback_rate: None,
                    price_match: None,
                };
                match self.place_order(number, &request, now_ms) {
                    Ok(placed) => self.publish_force_order(&placed.result, now_ms),
                    Err(error) => {
                        tracing::warn!(account = number, %error, "liquidation order refused")
                    }
                }
            }
        }
    }

    fn publish_force_order(&mut self, record: &super::OrderRecord, now_ms: u64) {
        let Some(market) = self.markets.get(&record.symbol) else {
            return;
        };
        let p = market.precision;
        let payload = json!({
            "e": "forceOrder", "E": now_ms,
            "o": {
                "s": record.symbol, "S": record.side.binance_name(), "o": "LIMIT", "f": "IOC",
                "q": format!("{:.*}", p.qty, record.orig_qty), "p": format!("{:.*}", p.price, record.avg_price()),
                "ap": format!("{:.*}", p.price, record.avg_price()), "X": record.status.as_str(),
                "l": format!("{:.*}", p.qty, record.executed_qty), "z": format!("{:.*}", p.qty, record.executed_qty),
                "T": now_ms,
            }
        });
        self.events.push(VenueEvent::ForceOrder {
            symbol: record.symbol.clone(),
            payload,
        });
    }

    /// Creates (or, if the account has a live one, extends and returns) a listen key valid for
    /// the configured time (§3.6).
    pub fn create_listen_key(&mut self, account: u32, now_ms: u64) -> String {
        let expires_ms = now_ms + self.config.listen_key_validity_ms;
        if let Some((key, entry)) = self
            .listen_keys
            .iter_mut()
            .find(|(_, k)| k.account == account)
        {
            entry.expires_ms = expires_ms;
            return key.clone();
        }
        self.listen_key_counter += 1;
        let mut rng =
            ChaCha8Rng::seed_from_u64(self.config.seed ^ self.listen_key_counter.rotate_left(32));
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let key: String = (0..64)
            .map(|_| char::from(ALPHABET[(rng.next_u32() % 62) as usize]))
            .collect();
        self.listen_keys.insert(
            key.clone(),
            ListenKey {
                account,
                expires_ms,
            },
        );
        key
    }

    /// Extends a listen key by the validity period.
    ///
    /// # Errors
    /// `-1125` when the key is unknown or expired.
    pub fn keepalive_listen_key(
        &mut self,
        account: u32,
        key: Option<&str>,
        now_ms: u64,
    ) -> Result<String, ApiError> {
        let validity = self.config.listen_key_validity_ms;
        let entry = match key {
            Some(key) => self
                .listen_keys
                .get_mut(key)
                .filter(|k| k.account == account)
                .map(|k| (key.to_owned(), k)),
            None => self
                .listen_keys
                .iter_mut()
                .find(|(_, k)| k.account == account)
                .map(|(key, k)| (key.clone(), k)),
        };
        let (key, entry) = entry.ok_or_else(ApiError::invalid_listen_key)?;
        entry.expires_ms = now_ms + validity;
        Ok(key)
    }

    /// Closes a listen key (its sockets stop receiving events).
    pub fn close_listen_key(&mut self, account: u32, key: Option<&str>) {
        self.listen_keys
            .retain(|k, entry| entry.account != account || key.is_some_and(|key| key != k));
    }

    /// The account a live listen key belongs to.
    #[must_use]
    pub fn listen_key_account(&self, key: &str) -> Option<u32> {
        self.listen_keys.get(key).map(|k| k.account)
    }

    /// Expires `key` now (fault injection), pushing `listenKeyExpired`.
    pub fn expire_listen_key(&mut self, key: &str, now_ms: u64) {
        if self.listen_keys.remove(key).is_some() {
            let payload = json!({ "e": "listenKeyExpired", "E": now_ms, "listenKey": key });
            self.events.push(VenueEvent::ListenKeyExpired {
                listen_key: key.to_owned(),
                payload,
            });
        }
    }

    /// The listen keys currently live, for fault injection.
    #[must_use]
    pub fn listen_keys(&self) -> Vec<String> {
        self.listen_keys.keys().cloned().collect()
    }

    fn expire_listen_keys(&mut self, now_ms: u64) {
        let lapsed: Vec<String> = self
            .listen_keys
            .iter()
            .filter(|(_, k)| k.expires_ms <= now_ms)
            .map(|(key, _)| key.clone())
            .collect();
        for key in lapsed {
            self.expire_listen_key(&key, now_ms);
        }
    }

    /// Credits `amount` USDT to an account (control API), pushing `ACCOUNT_UPDATE` `DEPOSIT`.
    ///
    /// # Errors
    /// `-1130` for a non-positive or off-grid amount or an unknown account.
    pub fn deposit(&mut self, account: u32, amount: Money, now_ms: u64) -> Result<Money, ApiError> {
        let holder = self
            .accounts
            .get_mut(account)
            .ok_or_else(|| ApiError::invalid_parameter("account"))?;
        let balance = holder
            .deposit(amount, now_ms)
            .map_err(super::account_error)?;
        if let Some(payload) = self.account_update_payload(account, None, "DEPOSIT", amount, now_ms)
        {
            self.push_user(account, payload);
        }
        Ok(balance)
    }

    /// The wallet balance rendered as Binance does (8 decimals).
    #[must_use]
    pub fn wallet_text(&self, account: u32) -> String {
        let wallet = self
            .accounts
            .get(account)
            .map_or(Money::ZERO, |a| a.wallet_balance());
        format!("{:.*}", AMOUNT_DECIMALS, wallet)
    }
}
