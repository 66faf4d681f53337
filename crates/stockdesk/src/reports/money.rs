//! Amounts per currency: added up within a currency, never across.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::model::Money;

/// Sums per currency (ISO code), in minor units.
#[derive(Debug, Default, Clone)]
pub struct Totals(BTreeMap<String, i64>);

impl Totals {
    pub fn add(&mut self, currency: String, amount_minor: i64) -> Result<()> {
        let sum = self.0.entry(currency).or_default();
        *sum = sum
            .checked_add(amount_minor)
            .ok_or_else(|| Error::Internal("a revenue total is beyond 2^63 minor units".into()))?;
        Ok(())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &i64)> {
        self.0.iter()
    }

    /// One amount per currency, by currency code.
    pub fn into_money(self) -> Vec<Money> {
        self.0
            .into_iter()
            .map(|(currency, amount_minor)| Money {
                currency,
                amount_minor,
            })
            .collect()
    }
}
