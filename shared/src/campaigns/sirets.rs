//! Operators' SIRETs as the policy engine needs them: a campaign may name operators by
//! SIRET, and then only is the operator's item read (once per operator and lookup).

use std::collections::BTreeMap;

use tokio::sync::Mutex;

use crate::app::App;
use crate::domain::campaign::Campaign;
use crate::domain::operator::{Operator, OperatorId};
use crate::records::keys;
use crate::store::StoreResult;

/// The SIRETs of operators for one set of campaigns.
pub struct Sirets {
    /// Whether one of the campaigns names an operator by SIRET.
    needed: bool,
    read: Mutex<BTreeMap<u64, Option<String>>>,
}

impl Sirets {
    pub fn for_campaigns<'c>(campaigns: impl IntoIterator<Item = &'c Campaign>) -> Sirets {
        Sirets {
            needed: campaigns.into_iter().any(Campaign::names_sirets),
            read: Mutex::default(),
        }
    }

    /// The operator's SIRET when a campaign names SIRETs, else `None` without a read.
    pub async fn of(&self, app: &App, operator: OperatorId) -> StoreResult<Option<String>> {
        if !self.needed {
            return Ok(None);
        }
        let mut read = self.read.lock().await;
        if let Some(s) = read.get(&operator.0) {
            return Ok(s.clone());
        }
        let item = app.store.get(&keys::operator(operator)).await?;
        let siret = item.and_then(|o| Operator::siret_of(&o));
        read.insert(operator.0, siret.clone());
        Ok(siret)
    }
}
