//! Throttling guesses (sign-in passwords, activation codes, refresh tokens) without
//! letting anyone lock someone else out: failures are counted per subject (a user name,
//! a card number) *from one client address*, and per address across subjects. Wrong
//! passwords from one address never refuse the account to another address.

use std::net::IpAddr;

use crate::db::{self, auth_failures, Conn};
use crate::domain::network::client_key;
use crate::error::{AppError, AppResult, RateLimit};

/// The limits of one kind of attempt.
#[derive(Debug)]
pub struct Limits {
    /// Under what failures are recorded (`auth_failures.scope`).
    pub scope: &'static str,
    /// Failures for one subject from one address; `None` when an attempt names no
    /// subject (a refresh token).
    pub per_subject: Option<RateLimit>,
    /// Failures from one address, whatever the subject (guessing across accounts).
    pub per_address: RateLimit,
}

/// An attempt let through: report how it ended with [`Attempt::failed`] or
/// [`Attempt::succeeded`].
#[derive(Debug)]
pub struct Attempt {
    limits: &'static Limits,
    subject: String,
    client: String,
    window_start: chrono::NaiveDateTime,
}

impl Limits {
    fn window_secs(&self) -> u64 {
        self.per_subject
            .map_or(0, |l| l.window_secs)
            .max(self.per_address.window_secs)
    }

    /// 429 `too_many_attempts` (with the limit met) when `client` has used up either
    /// limit; else the attempt, to be reported.
    pub async fn check(
        &'static self,
        conn: &mut Conn<'_>,
        subject: &str,
        client: IpAddr,
    ) -> AppResult<Attempt> {
        let client = client_key(client);
        let now = db::now();
        let since = |limit: &RateLimit| now - chrono::Duration::seconds(limit.window_secs as i64);
        let address = &self.per_address;
        if auth_failures::count_from(conn, self.scope, &client, since(address)).await?
            >= address.quota
        {
            return Err(refused(self, address, &client));
        }
        if let Some(limit) = &self.per_subject {
            if auth_failures::count_for(conn, self.scope, subject, &client, since(limit)).await?
                >= limit.quota
            {
                return Err(refused(self, limit, &client));
            }
        }
        Ok(Attempt {
            limits: self,
            subject: subject.to_owned(),
            client,
            window_start: now - chrono::Duration::seconds(self.window_secs() as i64),
        })
    }
}

fn refused(limits: &Limits, limit: &'static RateLimit, client: &str) -> AppError {
    tracing::info!(
        scope = limits.scope,
        policy = limit.policy,
        client,
        "attempt refused"
    );
    AppError::rate_limited(limit)
}

impl Attempt {
    /// Counts the failure (and forgets the scope's failures older than the window).
    pub async fn failed(&self, conn: &mut Conn<'_>) -> AppResult<()> {
        Ok(auth_failures::record(
            conn,
            self.limits.scope,
            &self.subject,
            &self.client,
            self.window_start,
        )
        .await?)
    }

    /// Forgets the subject's failures from this address. What was tried from other
    /// addresses still counts against them.
    pub async fn succeeded(&self, conn: &mut Conn<'_>) -> AppResult<()> {
        Ok(auth_failures::clear(conn, self.limits.scope, &self.subject, &self.client).await?)
    }
}
