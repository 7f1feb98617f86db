//! Holders (持卡人) in their app: activating a card with its one-time code, their
//! tokens, and the card itself.

use crate::app::cards::activation_hash;
use crate::app::identity::Holder;
use crate::app::throttle::Limits;
use crate::auth::tokens::{HolderTokens, TokenPair};
use crate::crypto::DataCipher;
use crate::db::beneficiaries::BeneficiaryRow;
use crate::db::{self, cards, CardId, Db};
use crate::domain::beneficiary::CardStatus;
use crate::error::{AppError, AppResult, Code, RateLimit};
use std::net::IpAddr;

/// Failed activations for one card number from one client address in the window
/// before activating it from there is refused.
pub const ACTIVATION_MAX_FAILURES: i64 = 5;
/// Failed activations from one client address, whatever the card numbers, in the
/// window before every activation from there is refused.
pub const ACTIVATION_MAX_FAILURES_PER_ADDRESS: i64 = 20;
pub const ACTIVATION_WINDOW_SECS: i64 = 15 * 60;

static ACTIVATION_LIMITS: Limits = Limits {
    scope: "activation",
    per_subject: Some(RateLimit {
        policy: "activation",
        quota: ACTIVATION_MAX_FAILURES,
        window_secs: ACTIVATION_WINDOW_SECS as u64,
    }),
    per_address: RateLimit {
        policy: "activation-address",
        quota: ACTIVATION_MAX_FAILURES_PER_ADDRESS,
        window_secs: ACTIVATION_WINDOW_SECS as u64,
    },
};

/// Refresh tokens that fail from one client address in the window before every
/// refresh from there is refused (a signed token cannot be guessed, but nothing should
/// be guessed without limit).
pub const REFRESH_MAX_FAILURES_PER_ADDRESS: i64 = 20;
pub const REFRESH_WINDOW_SECS: i64 = 15 * 60;

static REFRESH_LIMITS: Limits = Limits {
    scope: "refresh",
    per_subject: None,
    per_address: RateLimit {
        policy: "token-refresh",
        quota: REFRESH_MAX_FAILURES_PER_ADDRESS,
        window_secs: REFRESH_WINDOW_SECS as u64,
    },
};

/// Activates a card from `client` with the card number and the one-time activation
/// code. Five wrong tries for one card number from one address refuse that card from
/// that address for 15 minutes, and twenty from one address (any cards) every card
/// from it; the holder, elsewhere, is not affected.
pub async fn activate(
    db: &Db,
    cipher: &DataCipher,
    tokens: &HolderTokens,
    card_no: &str,
    activation_code: &str,
    client: IpAddr,
) -> AppResult<TokenPair> {
    let card_no: String = card_no
        .chars()
        .filter(char::is_ascii_digit)
        .take(32)
        .collect();
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let attempt = ACTIVATION_LIMITS.check(&mut conn, &card_no, client).await?;
    let hash = activation_hash(cipher, activation_code);
    let card = cards::find_by_no(&mut conn, &card_no).await?;
    let matches = card
        .as_ref()
        .is_some_and(|c| c.activation_code_hash.as_deref() == Some(hash.as_str()));
    let card = match card {
        Some(card) if matches => card,
        _ => {
            attempt.failed(&mut conn).await?;
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
    attempt.succeeded(&mut conn).await?;
    tracing::info!(card_id = %card.id, "card activated");
    Ok(tokens.issue(card.id, card.version)?)
}

/// New tokens for an active card (for example after a suspension is lifted), asked for
/// from `client`. Twenty invalid refresh tokens from one address in 15 minutes refuse
/// every refresh from there until the window passes.
pub async fn refresh(
    db: &Db,
    tokens: &HolderTokens,
    refresh_token: &str,
    client: IpAddr,
) -> AppResult<TokenPair> {
    let invalid = || {
        AppError::unauthorized(
            Code::InvalidRefreshToken,
            "the refresh token is invalid or expired",
        )
    };
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let attempt = REFRESH_LIMITS.check(&mut conn, "", client).await?;
    let card = match tokens.check_refresh(refresh_token) {
        Some(card_id) => cards::find(&mut conn, card_id).await?,
        None => None,
    };
    let Some(card) = card else {
        attempt.failed(&mut conn).await?;
        return Err(invalid());
    };
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
