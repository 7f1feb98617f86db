//! Holders (持卡人) in their app: activating a card with its one-time code, their
//! tokens, and the card itself.

use crate::app::cards::activation_hash;
use crate::app::identity::Holder;
use crate::auth::tokens::{HolderTokens, TokenPair};
use crate::crypto::DataCipher;
use crate::db::beneficiaries::BeneficiaryRow;
use crate::db::{self, auth_failures, cards, CardId, Db};
use crate::domain::beneficiary::CardStatus;
use crate::error::{AppError, AppResult, Code};

/// Failed activations per card number in the window before activation is refused.
pub const ACTIVATION_MAX_FAILURES: i64 = 5;
pub const ACTIVATION_WINDOW_SECS: i64 = 15 * 60;
const ACTIVATION_SCOPE: &str = "activation";

/// Activates a card with the card number and the one-time activation code. Five wrong
/// tries for one card number lock it for 15 minutes.
pub async fn activate(
    db: &Db,
    cipher: &DataCipher,
    tokens: &HolderTokens,
    card_no: &str,
    activation_code: &str,
) -> AppResult<TokenPair> {
    let card_no: String = card_no
        .chars()
        .filter(char::is_ascii_digit)
        .take(32)
        .collect();
    let window_start = db::now() - chrono::Duration::seconds(ACTIVATION_WINDOW_SECS);
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let failures =
        auth_failures::count_since(&mut conn, ACTIVATION_SCOPE, &card_no, window_start).await?;
    if failures >= ACTIVATION_MAX_FAILURES {
        return Err(AppError::too_many_attempts(ACTIVATION_WINDOW_SECS as u64));
    }
    let hash = activation_hash(cipher, activation_code);
    let card = cards::find_by_no(&mut conn, &card_no).await?;
    let matches = card
        .as_ref()
        .is_some_and(|c| c.activation_code_hash.as_deref() == Some(hash.as_str()));
    let card = match card {
        Some(card) if matches => card,
        _ => {
            auth_failures::record(&mut conn, ACTIVATION_SCOPE, &card_no, window_start).await?;
            return Err(AppError::unauthorized(
                Code::InvalidActivation,
                "卡号或激活码不正确 (card number or activation code is wrong, or the code was used)",
            ));
        }
    };
    let now = db::now();
    let status = card.effective_status(now)?;
    if status != CardStatus::Active {
        return Err(
            AppError::conflict(Code::CardNotActive, format!("the card is {status}"))
                .with("card_status", status.as_str()),
        );
    }
    // The code works once, even for two requests racing with it.
    if !cards::consume_activation(&mut conn, card.id, &hash, now).await? {
        return Err(AppError::unauthorized(
            Code::InvalidActivation,
            "the activation code was already used",
        ));
    }
    auth_failures::clear(&mut conn, ACTIVATION_SCOPE, &card_no).await?;
    tracing::info!(card_id = %card.id, "card activated");
    Ok(tokens.issue(card.id, card.version)?)
}

/// New tokens for an active card (for example after a suspension is lifted).
pub async fn refresh(db: &Db, tokens: &HolderTokens, refresh_token: &str) -> AppResult<TokenPair> {
    let invalid = || {
        AppError::unauthorized(
            Code::InvalidRefreshToken,
            "the refresh token is invalid or expired",
        )
    };
    let card_id = tokens.check_refresh(refresh_token).ok_or_else(invalid)?;
    let mut pooled = db.get().await?;
    let card = cards::find(&mut pooled.conn(), card_id)
        .await?
        .ok_or_else(invalid)?;
    let status = card.effective_status(db::now())?;
    if status != CardStatus::Active {
        return Err(
            AppError::unauthorized(Code::TokenRevoked, format!("the card is {status}"))
                .with("card_status", status.as_str()),
        );
    }
    Ok(tokens.issue(card.id, card.version)?)
}

/// The holder of card `id` at `version`, if the card is still active at that version:
/// any change to the card (suspension, revocation, reissue) makes earlier access
/// tokens useless at once.
pub async fn holder_of(db: &Db, id: CardId, version: i32) -> AppResult<Holder> {
    let unauthenticated = || {
        AppError::unauthorized(
            Code::Unauthenticated,
            "a valid holder access token is required",
        )
    };
    let mut pooled = db.get().await?;
    let card = cards::find(&mut pooled.conn(), id)
        .await?
        .ok_or_else(unauthenticated)?;
    let status = card.effective_status(db::now())?;
    if card.version != version || status != CardStatus::Active {
        return Err(AppError::unauthorized(
            Code::TokenRevoked,
            "the card has changed since this token was issued; refresh it or activate the card again",
        )
        .with("card_status", status.as_str()));
    }
    Ok(Holder { card })
}

/// The person behind the holder's card.
pub async fn beneficiary(db: &Db, holder: &Holder) -> AppResult<BeneficiaryRow> {
    let mut pooled = db.get().await?;
    db::beneficiaries::find(&mut pooled.conn(), holder.card.beneficiary_id)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("card without beneficiary")))
}
