//! Which items exist: the check a command makes on every item it names before it is recorded — a
//! supervision order's or a joint handling's subject, both items of a link, the joint handling a
//! station joins. Nothing in the ledger may come from a reference to an item that never was.
//!
//! An item exists when the store of the agency that keeps it ([`ItemRef::keeper`]) has its stream. A
//! service reads its own store and the stores of the agencies this process also runs (`up` runs all
//! three); an item kept by an agency whose store it cannot read is taken on trust, and said so in the
//! log — a standalone service has no reader of another agency's store yet.

use std::collections::BTreeMap;
use std::sync::Arc;

use oneledger_domain::{Agency, ItemRef, streams};
use oneledger_store::EventLog;

use crate::error::ServiceError;

/// The stores a service can read items in, by agency.
#[derive(Debug, Clone, Default)]
pub struct ItemLookup {
    stores: BTreeMap<Agency, Arc<dyn EventLog>>,
}

impl ItemLookup {
    /// Reads items in `stores`.
    pub fn new(stores: BTreeMap<Agency, Arc<dyn EventLog>>) -> Self {
        ItemLookup { stores }
    }

    /// Refuses with NOT_FOUND, naming `field`, an item no readable store has; passes one kept where this
    /// service cannot look.
    pub async fn require(&self, field: &str, item: &ItemRef) -> Result<(), ServiceError> {
        let stream = streams::stream_id(streams::of(item.kind()), item.id());
        let keepers: Vec<Agency> = match item.keeper() {
            Some(agency) => vec![agency],
            None => vec![Agency::PublicSecurity, Agency::PoliticalLegal],
        };
        let mut unreadable = false;
        for agency in keepers {
            match self.stores.get(&agency) {
                Some(store) if store.stream_version(&stream).await?.is_some() => return Ok(()),
                Some(_) => {}
                None => unreadable = true,
            }
        }
        if unreadable {
            tracing::debug!(%field, item = %item.key(), "kept by an agency whose store is not readable here; taken on trust");
            return Ok(());
        }
        // Read "<field>: <item> not found": the error adds the last words.
        Err(ServiceError::NotFound(format!("{field}: {}", item.key())))
    }
}
