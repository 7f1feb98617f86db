//! Needs (需求清单), resources (资源目录), tasks (双清单) and their events (台账).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::{
    BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, QueryResult,
    SelectableHelper, TextExpressionMethods,
};
use diesel_async::RunQueryDsl;

use super::schema::{needs, resources, task_events, tasks};
use super::stored::{vocab, Stored};
use super::{Conn, MerchantId};
use crate::domain::needs::{NeedCategory, NeedStatus, ResourceMode, TaskStatus, Urgency};
use crate::with_conn;

crate::typed_id!(NeedId);
crate::typed_id!(ResourceId);
crate::typed_id!(TaskId);
crate::typed_id!(TaskEventId);

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = needs)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct NeedRow {
    pub id: NeedId,
    pub title: String,
    pub description: String,
    pub category: String,
    pub region_code: String,
    pub requesting_unit: String,
    pub beneficiaries_count: i64,
    pub urgency: String,
    pub wanted_by: Option<NaiveDate>,
    pub status: String,
    pub close_reason: Option<String>,
    /// The user name of the account that posted it.
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub done_at: Option<NaiveDateTime>,
}

impl NeedRow {
    pub fn status(&self) -> Stored<NeedStatus> {
        vocab("needs", self.id, "status", &self.status)
    }
    pub fn category(&self) -> Stored<NeedCategory> {
        vocab("needs", self.id, "category", &self.category)
    }
    pub fn urgency(&self) -> Stored<Urgency> {
        vocab("needs", self.id, "urgency", &self.urgency)
    }
}

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = resources)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct ResourceRow {
    pub id: ResourceId,
    pub merchant_id: MerchantId,
    pub title: String,
    pub category: String,
    pub capacity: String,
    pub capacity_amount: Option<i64>,
    pub capacity_unit: Option<String>,
    /// The region it serves.
    pub region_code: String,
    pub available_from: Option<NaiveDate>,
    pub available_until: Option<NaiveDate>,
    pub mode: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

impl ResourceRow {
    pub fn mode(&self) -> Stored<ResourceMode> {
        vocab("resources", self.id, "mode", &self.mode)
    }
}

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = tasks)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct TaskRow {
    pub id: TaskId,
    pub need_id: Option<NeedId>,
    pub direction: String,
    pub title: String,
    pub region_code: String,
    /// 责任单位
    pub owner_unit: String,
    /// 责任人: a staff account's user name.
    pub owner_user: String,
    /// 措施
    pub measures: String,
    /// 完成时限: the last day allowed.
    pub deadline: NaiveDate,
    pub merchant_id: Option<MerchantId>,
    /// Listed among the year's projects (年度项目清单).
    pub publish: bool,
    pub status: String,
    pub close_reason: Option<String>,
    pub evidence: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub done_at: Option<NaiveDateTime>,
}

impl TaskRow {
    pub fn status(&self) -> Stored<TaskStatus> {
        vocab("tasks", self.id, "status", &self.status)
    }
}

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = task_events)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct TaskEventRow {
    pub id: TaskEventId,
    pub task_id: TaskId,
    /// `note`, `status` or `completion`.
    pub kind: String,
    pub body: String,
    /// Attachments' names, one a line.
    pub attachments: String,
    /// The status it moved the task to.
    pub status: Option<String>,
    pub author: String,
    pub created_at: NaiveDateTime,
}

impl TaskEventRow {
    pub fn attachment_names(&self) -> Vec<String> {
        self.attachments
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

// ---------- needs ----------

pub async fn insert_need(conn: &mut Conn<'_>, row: &NeedRow) -> QueryResult<()> {
    with_conn!(conn, |c| diesel::insert_into(needs::table)
        .values(row)
        .execute(c)
        .await)?;
    Ok(())
}

pub async fn find_need(conn: &mut Conn<'_>, id: NeedId) -> QueryResult<Option<NeedRow>> {
    with_conn!(conn, |c| needs::table
        .find(id)
        .select(NeedRow::as_select())
        .first(c)
        .await
        .optional())
}

#[derive(Debug, Default)]
pub struct NeedFilter {
    pub status: Option<String>,
    pub category: Option<String>,
    pub urgency: Option<String>,
    /// `LIKE` patterns of region subtrees; every one must match.
    pub region_likes: Vec<String>,
}

/// Needs, newest first.
pub async fn list_needs(
    conn: &mut Conn<'_>,
    filter: &NeedFilter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<NeedRow>, i64)> {
    macro_rules! filtered {
        () => {{
            let mut query = needs::table.into_boxed();
            if let Some(status) = &filter.status {
                query = query.filter(needs::status.eq(status.clone()));
            }
            if let Some(category) = &filter.category {
                query = query.filter(needs::category.eq(category.clone()));
            }
            if let Some(urgency) = &filter.urgency {
                query = query.filter(needs::urgency.eq(urgency.clone()));
            }
            for pattern in &filter.region_likes {
                query = query.filter(needs::region_code.like(pattern.clone()));
            }
            query
        }};
    }
    with_conn!(conn, |c| crate::newest_first!(
        c,
        filtered!(),
        needs,
        NeedRow,
        offset,
        limit
    ))
}

/// Moves a need from `from` to `to`; `None` when it no longer is `from`.
pub async fn set_need_status(
    conn: &mut Conn<'_>,
    id: NeedId,
    from: &str,
    to: &str,
    reason: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<Option<NeedRow>> {
    let done_at = (to == NeedStatus::Done.as_str()).then_some(at);
    with_conn!(conn, |c| diesel::update(
        needs::table
            .filter(needs::id.eq(id))
            .filter(needs::status.eq(from)),
    )
    .set((
        needs::status.eq(to),
        needs::close_reason.eq(reason),
        needs::updated_at.eq(at),
        needs::done_at.eq(done_at),
    ))
    .returning(NeedRow::as_returning())
    .get_result(c)
    .await
    .optional())
}

// ---------- resources ----------

pub async fn insert_resource(conn: &mut Conn<'_>, row: &ResourceRow) -> QueryResult<()> {
    with_conn!(conn, |c| diesel::insert_into(resources::table)
        .values(row)
        .execute(c)
        .await)?;
    Ok(())
}

#[derive(Debug, Default)]
pub struct ResourceFilter {
    pub merchant_id: Option<MerchantId>,
    pub category: Option<String>,
    pub mode: Option<String>,
    pub region_likes: Vec<String>,
}

/// Resources, newest first.
pub async fn list_resources(
    conn: &mut Conn<'_>,
    filter: &ResourceFilter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<ResourceRow>, i64)> {
    macro_rules! filtered {
        () => {{
            let mut query = resources::table.into_boxed();
            if let Some(merchant) = filter.merchant_id {
                query = query.filter(resources::merchant_id.eq(merchant));
            }
            if let Some(category) = &filter.category {
                query = query.filter(resources::category.eq(category.clone()));
            }
            if let Some(mode) = &filter.mode {
                query = query.filter(resources::mode.eq(mode.clone()));
            }
            for pattern in &filter.region_likes {
                query = query.filter(resources::region_code.like(pattern.clone()));
            }
            query
        }};
    }
    with_conn!(conn, |c| crate::newest_first!(
        c,
        filtered!(),
        resources,
        ResourceRow,
        offset,
        limit
    ))
}

/// Resources of `category` available on `today` serving one of `regions` (the need's
/// region and those above it) or a region starting with `below` (inside its subtree).
pub async fn candidates(
    conn: &mut Conn<'_>,
    category: &str,
    regions: &[String],
    below: &str,
    today: NaiveDate,
    limit: i64,
) -> QueryResult<Vec<ResourceRow>> {
    with_conn!(conn, |c| resources::table
        .filter(resources::category.eq(category))
        .filter(
            resources::region_code
                .eq_any(regions)
                .or(resources::region_code.like(below)),
        )
        .filter(
            resources::available_from
                .is_null()
                .or(resources::available_from.le(today)),
        )
        .filter(
            resources::available_until
                .is_null()
                .or(resources::available_until.ge(today)),
        )
        .order((resources::created_at.desc(), resources::id.desc()))
        .limit(limit)
        .select(ResourceRow::as_select())
        .load(c)
        .await)
}

// ---------- tasks ----------

pub async fn insert_task(conn: &mut Conn<'_>, row: &TaskRow) -> QueryResult<()> {
    with_conn!(conn, |c| diesel::insert_into(tasks::table)
        .values(row)
        .execute(c)
        .await)?;
    Ok(())
}

pub async fn find_task(conn: &mut Conn<'_>, id: TaskId) -> QueryResult<Option<TaskRow>> {
    with_conn!(conn, |c| tasks::table
        .find(id)
        .select(TaskRow::as_select())
        .first(c)
        .await
        .optional())
}

#[derive(Debug, Default)]
pub struct TaskFilter {
    pub status: Option<String>,
    pub direction: Option<String>,
    pub owner_user: Option<String>,
    pub need_id: Option<NeedId>,
    /// Not finished with a deadline before this day: overdue on it.
    pub overdue_on: Option<NaiveDate>,
    /// Published only.
    pub published: bool,
    /// Deadline within these days (both included).
    pub deadline_between: Option<(NaiveDate, NaiveDate)>,
    pub region_likes: Vec<String>,
}

/// Tasks, newest first.
pub async fn list_tasks(
    conn: &mut Conn<'_>,
    filter: &TaskFilter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<TaskRow>, i64)> {
    let open = [TaskStatus::Open.as_str(), TaskStatus::InProgress.as_str()];
    macro_rules! filtered {
        () => {{
            let mut query = tasks::table.into_boxed();
            if let Some(status) = &filter.status {
                query = query.filter(tasks::status.eq(status.clone()));
            }
            if let Some(direction) = &filter.direction {
                query = query.filter(tasks::direction.eq(direction.clone()));
            }
            if let Some(owner) = &filter.owner_user {
                query = query.filter(tasks::owner_user.eq(owner.clone()));
            }
            if let Some(need) = filter.need_id {
                query = query.filter(tasks::need_id.eq(need));
            }
            if let Some(today) = filter.overdue_on {
                query = query
                    .filter(tasks::deadline.lt(today))
                    .filter(tasks::status.eq_any(open));
            }
            if filter.published {
                query = query.filter(tasks::publish.eq(true));
            }
            if let Some((first, last)) = filter.deadline_between {
                query = query
                    .filter(tasks::deadline.ge(first))
                    .filter(tasks::deadline.le(last));
            }
            for pattern in &filter.region_likes {
                query = query.filter(tasks::region_code.like(pattern.clone()));
            }
            query
        }};
    }
    with_conn!(conn, |c| crate::newest_first!(
        c,
        filtered!(),
        tasks,
        TaskRow,
        offset,
        limit
    ))
}

/// What a status change writes besides the status.
#[derive(Debug, Clone, Copy)]
pub struct TaskChange<'a> {
    pub to: &'a str,
    pub reason: Option<&'a str>,
    pub evidence: Option<&'a str>,
    /// When work began (kept from before, or now when it begins now).
    pub started_at: Option<NaiveDateTime>,
    pub at: NaiveDateTime,
}

/// Moves a task from `from`; `None` when it no longer is `from`.
pub async fn set_task_status(
    conn: &mut Conn<'_>,
    id: TaskId,
    from: &str,
    change: TaskChange<'_>,
) -> QueryResult<Option<TaskRow>> {
    let done = (change.to == TaskStatus::Done.as_str()).then_some(change.at);
    with_conn!(conn, |c| diesel::update(
        tasks::table
            .filter(tasks::id.eq(id))
            .filter(tasks::status.eq(from)),
    )
    .set((
        tasks::status.eq(change.to),
        tasks::close_reason.eq(change.reason),
        tasks::evidence.eq(change.evidence),
        tasks::updated_at.eq(change.at),
        tasks::started_at.eq(change.started_at),
        tasks::done_at.eq(done),
    ))
    .returning(TaskRow::as_returning())
    .get_result(c)
    .await
    .optional())
}

pub async fn insert_event(conn: &mut Conn<'_>, row: &TaskEventRow) -> QueryResult<()> {
    with_conn!(conn, |c| diesel::insert_into(task_events::table)
        .values(row)
        .execute(c)
        .await)?;
    Ok(())
}

/// A task's events, oldest first.
pub async fn events(conn: &mut Conn<'_>, task: TaskId) -> QueryResult<Vec<TaskEventRow>> {
    with_conn!(conn, |c| task_events::table
        .filter(task_events::task_id.eq(task))
        .order((task_events::created_at.asc(), task_events::id.asc()))
        .select(TaskEventRow::as_select())
        .load(c)
        .await)
}

/// The events of many tasks, oldest first.
pub async fn events_of(conn: &mut Conn<'_>, tasks_: &[TaskId]) -> QueryResult<Vec<TaskEventRow>> {
    with_conn!(conn, |c| task_events::table
        .filter(task_events::task_id.eq_any(tasks_))
        .order((task_events::created_at.asc(), task_events::id.asc()))
        .select(TaskEventRow::as_select())
        .load(c)
        .await)
}

// ---------- figures ----------

/// What the figures read of a need.
#[derive(Debug, Clone, diesel::Queryable)]
pub struct NeedFact {
    pub id: NeedId,
    pub category: String,
    pub region_code: String,
    pub wanted_by: Option<NaiveDate>,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub done_at: Option<NaiveDateTime>,
}

/// The needs of the region subtree `like` posted or done in `[since, until)`, or not
/// finished (whenever posted).
pub async fn figure_needs(
    conn: &mut Conn<'_>,
    like: &str,
    since: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Vec<NeedFact>> {
    let finished = [NeedStatus::Done.as_str(), NeedStatus::Closed.as_str()];
    with_conn!(conn, |c| needs::table
        .filter(needs::region_code.like(like))
        .filter(
            needs::created_at
                .ge(since)
                .and(needs::created_at.lt(until))
                .or(needs::done_at.ge(since).and(needs::done_at.lt(until)))
                .or(needs::status.ne_all(finished)),
        )
        .select((
            needs::id,
            needs::category,
            needs::region_code,
            needs::wanted_by,
            needs::status,
            needs::created_at,
            needs::done_at,
        ))
        .load(c)
        .await)
}

/// What the figures read of a task.
#[derive(Debug, Clone, diesel::Queryable)]
pub struct TaskFact {
    pub need_id: Option<NeedId>,
    pub region_code: String,
    pub deadline: NaiveDate,
    pub status: String,
}

/// The tasks of the region subtree `like` that were not closed (a closed task promised
/// nothing): the deadlines of the needs they took up, and the overdue ones.
pub async fn figure_tasks(conn: &mut Conn<'_>, like: &str) -> QueryResult<Vec<TaskFact>> {
    with_conn!(conn, |c| tasks::table
        .filter(tasks::region_code.like(like))
        .filter(tasks::status.ne(TaskStatus::Closed.as_str()))
        .select((
            tasks::need_id,
            tasks::region_code,
            tasks::deadline,
            tasks::status,
        ))
        .load(c)
        .await)
}

/// How many tasks taken up from `need` are still under way (open or in progress).
pub async fn unfinished_tasks(conn: &mut Conn<'_>, need: NeedId) -> QueryResult<i64> {
    let under_way = [TaskStatus::Open.as_str(), TaskStatus::InProgress.as_str()];
    with_conn!(conn, |c| tasks::table
        .filter(tasks::need_id.eq(need))
        .filter(tasks::status.eq_any(under_way))
        .count()
        .get_result(c)
        .await)
}
