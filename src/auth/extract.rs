//! Extractors: a handler that takes [`StaffUser`], [`AdminUser`], [`MerchantStaff`],
//! [`Holder`] or [`Terminal`] runs only for a caller proven to be one. They read the
//! account, card or terminal behind a token on every request (through `app`), so a
//! disabled account or a changed card stops working at once.

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};

use crate::app::identity::{AdminUser, Holder, MerchantStaff, StaffUser, Terminal};
use crate::app::{holders, pos, staff};
use crate::error::{AppError, AppResult, Code};
use crate::state::AppState;

/// The bearer token of a request, if any.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

type LocalFuture<T> = Pin<Box<dyn Future<Output = AppResult<T>>>>;

fn state_of(req: &HttpRequest) -> Option<web::Data<AppState>> {
    req.app_data::<web::Data<AppState>>().cloned()
}

fn no_state() -> AppError {
    AppError::internal(anyhow::anyhow!("no app state"))
}

/// Runs a look-up as a task of its own: when another extractor of the same handler
/// fails, the extractor's future is dropped, and a database call must never be dropped
/// half-way (see `http::observe`).
fn spawned<T: 'static>(lookup: impl Future<Output = AppResult<T>> + 'static) -> LocalFuture<T> {
    let task = actix_web::rt::spawn(lookup);
    Box::pin(async move { task.await.map_err(AppError::internal)? })
}

impl FromRequest for StaffUser {
    type Error = AppError;
    type Future = LocalFuture<StaffUser>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = state_of(req);
        let token = bearer_token(req).map(str::to_owned);
        spawned(async move {
            let state = state.ok_or_else(no_state)?;
            let unauthenticated = || {
                AppError::unauthorized(
                    Code::Unauthenticated,
                    "a valid staff access token is required",
                )
            };
            let id = token
                .as_deref()
                .and_then(|t| state.keys.staff_tokens.check(t))
                .ok_or_else(unauthenticated)?;
            staff::active_account(&state.db, id)
                .await?
                .ok_or_else(unauthenticated)
        })
    }
}

/// An extractor of a staff account of one kind: the signed-in account, then `$check`.
macro_rules! staff_of_kind {
    ($kind:ty, $check:path) => {
        impl FromRequest for $kind {
            type Error = AppError;
            type Future = LocalFuture<$kind>;

            fn from_request(
                req: &HttpRequest,
                payload: &mut actix_web::dev::Payload,
            ) -> Self::Future {
                let staff = StaffUser::from_request(req, payload);
                Box::pin(async move { $check(staff.await?) })
            }
        }
    };
}

staff_of_kind!(AdminUser, AdminUser::try_from_staff);
staff_of_kind!(MerchantStaff, MerchantStaff::try_from_staff);

impl FromRequest for Holder {
    type Error = AppError;
    type Future = LocalFuture<Holder>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = state_of(req);
        let token = bearer_token(req).map(str::to_owned);
        spawned(async move {
            let state = state.ok_or_else(no_state)?;
            let (card, version) = token
                .as_deref()
                .and_then(|t| state.keys.holder_tokens.check_access(t))
                .ok_or_else(|| {
                    AppError::unauthorized(
                        Code::Unauthenticated,
                        "a valid holder access token is required",
                    )
                })?;
            holders::holder_of(&state.db, card, version).await
        })
    }
}

/// A point-of-sale terminal, authenticated by `Authorization: Bearer <api_key>`.
impl FromRequest for Terminal {
    type Error = AppError;
    type Future = LocalFuture<Terminal>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = state_of(req);
        let key = bearer_token(req).map(str::to_owned);
        let refused = || {
            AppError::unauthorized(
                Code::Unauthenticated,
                "a valid terminal API key is required",
            )
        };
        // Known in process: no task, no database.
        if let (Some(state), Some(key)) = (&state, &key) {
            let hash = pos::terminal_key_hash(&state.keys.cipher, key);
            // Only while this process hears invalidations (see `terminal_by_key`).
            let copy = if state.cache.is_trusted() {
                state.pos.terminals.get(&hash)
            } else {
                None
            };
            if let Some(terminal) = copy {
                return Box::pin(std::future::ready(Ok(terminal)));
            }
        }
        spawned(async move {
            let state = state.ok_or_else(no_state)?;
            let key = key.ok_or_else(refused)?;
            pos::terminal_by_key(
                &state.db,
                &state.keys.cipher,
                &state.cache,
                &state.pos,
                &key,
            )
            .await?
            .ok_or_else(refused)
        })
    }
}
