//! [`Accounts`]: the venue's accounts keyed by account number, findable by API key.

use std::collections::BTreeMap;
use std::sync::Arc;

use kestrel_model::config::Secret;

use super::brackets::Brackets;
use super::error::AccountError;
use super::state::Account;

/// Every account of the venue, keyed by its account number (a `u32` the caller chooses, the
/// same number the matching engine uses for the account), sharing one set of brackets.
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    brackets: Arc<Brackets>,
    by_number: BTreeMap<u32, Account>,
    by_api_key: BTreeMap<String, u32>,
}

impl Accounts {
    /// No accounts yet, margined against `brackets`.
    #[must_use]
    pub fn new(brackets: Brackets) -> Self {
        Self {
            brackets: Arc::new(brackets),
            by_number: BTreeMap::new(),
            by_api_key: BTreeMap::new(),
        }
    }

    /// Opens account `number` with its API credentials.
    ///
    /// # Errors
    /// -1130 [`AccountError::InvalidParameter`] when the number or the API key is taken, or
    /// the API key is empty.
    pub fn open(
        &mut self,
        number: u32,
        api_key: &str,
        api_secret: Secret,
    ) -> Result<&mut Account, AccountError> {
        if self.by_number.contains_key(&number) {
            return Err(AccountError::invalid(
                "account",
                format!("account {number} already exists"),
            ));
        }
        if api_key.is_empty() || self.by_api_key.contains_key(api_key) {
            return Err(AccountError::invalid(
                "apiKey",
                "API key is empty or already in use",
            ));
        }
        self.by_api_key.insert(api_key.to_owned(), number);
        let account = Account::new(api_key, api_secret, Arc::clone(&self.brackets));
        Ok(self.by_number.entry(number).or_insert(account))
    }

    /// Account `number`.
    #[must_use]
    pub fn get(&self, number: u32) -> Option<&Account> {
        self.by_number.get(&number)
    }

    /// Account `number`, to change it.
    pub fn get_mut(&mut self, number: u32) -> Option<&mut Account> {
        self.by_number.get_mut(&number)
    }

    /// The number of the account that owns `api_key`.
    #[must_use]
    pub fn number_for_api_key(&self, api_key: &str) -> Option<u32> {
        self.by_api_key.get(api_key).copied()
    }

    /// Every account, by number.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Account)> {
        self.by_number
            .iter()
            .map(|(number, account)| (*number, account))
    }

    /// Every account, by number, to change them (funding settlement).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (u32, &mut Account)> {
        self.by_number
            .iter_mut()
            .map(|(number, account)| (*number, account))
    }

    /// How many accounts there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_number.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_number.is_empty()
    }

    /// The brackets every account is margined against (`/fapi/v1/leverageBracket`).
    #[must_use]
    pub fn brackets(&self) -> &Brackets {
        &self.brackets
    }
}
