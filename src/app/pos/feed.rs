//! The revocation feed (`GET /api/v1/pos/revocations`): what an offline terminal needs
//! besides the JWKS to refuse a card, paged by a cursor (a national feed is long), with
//! the time it was issued and how long it may be relied on.

use base64::Engine;
use chrono::NaiveDateTime;

use super::Reason;
use crate::app::identity::Terminal;
use crate::db::cards::CardRow;
use crate::db::{self, CardId, Db};
use crate::domain::china_today;
use crate::domain::merchant::MerchantStatus;
use crate::error::{AppError, AppResult, Code};

/// How far back a feed without `since` reaches.
pub const DEFAULT_DAYS: i64 = 30;
/// Cards per page unless the terminal asks for fewer.
pub const DEFAULT_LIMIT: i64 = 1_000;
pub const MAX_LIMIT: i64 = 10_000;

/// Where a page of the feed ends: the last change time and card id it listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub changed_at: NaiveDateTime,
    pub card: CardId,
}

impl Cursor {
    /// Opaque to the terminal: base64url of `micros:card id`.
    pub fn encode(&self) -> String {
        let raw = format!(
            "{}:{}",
            self.changed_at.and_utc().timestamp_micros(),
            self.card
        );
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    }

    pub fn decode(raw: &str) -> Option<Cursor> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(raw.trim())
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (micros, card) = text.split_once(':')?;
        let changed_at = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?;
        Some(Cursor {
            changed_at: changed_at.naive_utc(),
            card: card.parse().ok()?,
        })
    }
}

/// Where a terminal asks the feed to start.
#[derive(Debug, Clone, Copy)]
pub enum From {
    /// Changes after this time (default: the last [`DEFAULT_DAYS`] days).
    Since(Option<NaiveDateTime>),
    /// The page after one already fetched.
    After(Cursor),
}

/// One page of the feed.
#[derive(Debug)]
pub struct FeedPage {
    pub cards: Vec<CardRow>,
    /// Present when more cards follow.
    pub next: Option<Cursor>,
    pub issued_at: NaiveDateTime,
    /// After this, a terminal's offline data is stale.
    pub valid_until: NaiveDateTime,
}

/// Cards suspended, revoked, reissued or expired, in the order of their change, for a
/// terminal of an active merchant.
pub async fn revocations(
    db: &Db,
    terminal: &Terminal,
    from: From,
    limit: i64,
    valid_hours: u32,
) -> AppResult<FeedPage> {
    let now = db::now();
    let after = match from {
        From::Since(Some(since)) if since > now + chrono::Duration::minutes(5) => {
            return Err(AppError::invalid_field(
                "since",
                "lies in the future; use the issued_at of the feed last fetched",
            ))
        }
        // A since before any card existed asks for everything (and stays a time every
        // backend can compare with: PostgreSQL's end before 4713 BC).
        From::Since(since) => (
            since
                .unwrap_or(now - chrono::Duration::days(DEFAULT_DAYS))
                .max(chrono::DateTime::UNIX_EPOCH.naive_utc()),
            None,
        ),
        From::After(cursor) => (cursor.changed_at, Some(cursor.card)),
    };
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let merchant = db::merchants::find(&mut conn, terminal.merchant_id).await?;
    let active = match merchant {
        Some(m) => m.effective_status(china_today())? == MerchantStatus::Active,
        None => false,
    };
    if !active {
        return Err(AppError::forbidden(
            Code::MerchantInactive,
            Reason::MerchantInactive.message(),
        ));
    }
    // One more than the page tells whether another follows.
    let mut cards = db::cards::lapsed_after(&mut conn, after, limit + 1).await?;
    let next = if cards.len() as i64 > limit {
        cards.truncate(limit as usize);
        cards.last().map(|c| Cursor {
            changed_at: c.status_changed_at,
            card: c.id,
        })
    } else {
        None
    };
    Ok(FeedPage {
        cards,
        next,
        issued_at: now,
        valid_until: now + chrono::Duration::hours(i64::from(valid_hours)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_its_round_trip_and_garbage_is_refused() {
        let cursor = Cursor {
            changed_at: chrono::DateTime::from_timestamp_micros(1_764_000_000_123_456)
                .unwrap()
                .naive_utc(),
            card: CardId::new(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(Cursor::decode("not a cursor"), None);
        assert_eq!(Cursor::decode(""), None);
    }
}
