//! The HTTP edge shared by every resource: JSON and query extraction with problem
//! answers ([`json`]), who the client is ([`client`]), the rendering of errors
//! ([`problem`]), the request middleware ([`observe`]; [`guard`]: control characters in
//! paths and queries, slow bodies; [`caching`]: `ETag`s, `304`s and gzip), paging, and the views several resources answer with
//! ([`views`]).

pub mod caching;
pub mod client;
pub mod contract;
pub mod guard;
pub mod headers;
pub mod json;
pub mod observe;
pub mod problem;
pub mod views;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::{Listed, Page};
use crate::error::AppResult;
use crate::state::AppState;
use crate::validate::Fields;

pub use self::json::Json;

/// What a handler reaches: the shared state.
pub type State = actix_web::web::Data<AppState>;

/// A JSON answer, or a problem.
pub type Reply<T> = AppResult<actix_web::web::Json<T>>;

/// `page` and `per_page` of every list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// 1-based page number. Default 1.
    pub page: Option<u32>,
    /// Items per page, 1 to 100. Default 20.
    pub per_page: Option<u32>,
}

impl PageQuery {
    /// The page asked for, its errors added to `fields`.
    pub fn page(&self, fields: &mut Fields) -> Option<Page> {
        fields.page(self.page, self.per_page)
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

impl<T> Paged<T> {
    /// The page of `listed`, each item turned into its view.
    pub fn of<R>(page: Page, listed: Listed<R>, view: impl FnMut(R) -> T) -> Paged<T> {
        let (rows, total) = listed;
        Paged {
            items: rows.into_iter().map(view).collect(),
            total,
            page: page.page,
            per_page: page.per_page,
        }
    }

    /// The page of a short list read whole (regions of one parent, card products, a
    /// merchant's terminals).
    pub fn slice<R>(page: Page, rows: Vec<R>, view: impl FnMut(R) -> T) -> Paged<T> {
        let total = rows.len() as i64;
        let offset = usize::try_from(page.offset()).unwrap_or(usize::MAX);
        let rows: Vec<R> = rows
            .into_iter()
            .skip(offset)
            .take(page.per_page as usize)
            .collect();
        Paged::of(page, (rows, total), view)
    }

    /// Like [`Paged::of`] with a view that can fail (a stored value out of its
    /// vocabulary).
    pub fn try_of<R, E>(
        page: Page,
        listed: Listed<R>,
        view: impl FnMut(R) -> Result<T, E>,
    ) -> Result<Paged<T>, E> {
        let (rows, total) = listed;
        Ok(Paged {
            items: rows.into_iter().map(view).collect::<Result<_, E>>()?,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }
}

/// RFC 3339 UTC rendering of a stored timestamp.
pub fn utc(time: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    time.and_utc()
}
