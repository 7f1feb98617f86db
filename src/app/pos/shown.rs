//! What a limited offer shows as used (`offers.used_total`), brought up to its shards
//! after batches commit, one showing at a time per offer, each covering every batch
//! that committed before it began: in a rush, the batches of one offer share a showing
//! (and the reload of its merchant's snapshot that follows) instead of each queueing on
//! the offer's row for one of its own.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::app::merchants::invalidate_merchant;
use crate::cache::Cache;
use crate::db::{self, Db, MerchantId, OfferId};

/// This process's showings, by offer.
#[derive(Default)]
pub struct ShownCounts {
    offers: Mutex<HashMap<OfferId, Arc<Showing>>>,
}

#[derive(Default)]
struct Showing {
    /// How many committed batches asked for a showing.
    asked: AtomicU64,
    /// How many of them the latest showing covers; held while a showing runs.
    covered: tokio::sync::Mutex<u64>,
}

impl ShownCounts {
    /// Returns once the offer shows what the batch that calls this (after its commit)
    /// took, and its merchant's snapshot is dropped from the caches: by a showing of
    /// its own, or by one that began after the commit. A showing that fails is logged;
    /// the next batch's showing, or the recount at start-up, catches up.
    pub async fn show(&self, db: &Db, cache: &Cache, offer: OfferId, merchant: MerchantId) {
        let showing = {
            let mut offers = self
                .offers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            offers.entry(offer).or_default().clone()
        };
        let mine = showing.asked.fetch_add(1, Ordering::SeqCst) + 1;
        let mut covered = showing.covered.lock().await;
        if *covered >= mine {
            return;
        }
        // Every batch counted in `asked` now has committed: this showing reads them all.
        let upto = showing.asked.load(Ordering::SeqCst);
        let shown = match db.get().await {
            Ok(mut pooled) => db::quota::show_used(&mut pooled.conn(), offer)
                .await
                .map_err(|error| error.to_string()),
            Err(unavailable) => Err(unavailable.0),
        };
        match shown {
            Ok(()) => *covered = upto,
            Err(error) => {
                tracing::warn!(%error, %offer, "an offer's shown count lags until its next batch");
            }
        }
        invalidate_merchant(cache, merchant).await;
    }
}
