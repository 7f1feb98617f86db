//! The joint task list (军地互办实事"双清单") and its ledger (台账): a need taken up
//! becomes a task with its owner unit (责任单位), owner (责任人), measures (措施) and
//! deadline (完成时限); a task the troops do for the locality is on the second list.
//! Progress notes, status changes and completion with its evidence are recorded as the
//! task's events and audited; a task is overdue from the day after its deadline (by the
//! policy's [`Clock`]). The year's published tasks are the public list of projects.
//! Rules: `domain::needs`.

use chrono::{Datelike, NaiveDate};

use crate::app::identity::StaffUser;
use crate::app::merchants::merchant_not_found;
use crate::app::needs::{in_scope, known_region, move_need, scoped_need};
use crate::app::permissions::Operation;
use crate::app::{Clock, Listed, Page};
use crate::db::audit::{self, AuditEntry};
use crate::db::needs::{
    self, NeedId, TaskChange, TaskEventId, TaskEventRow, TaskFilter, TaskId, TaskRow,
};
use crate::db::{self, merchants, staff, Conn, Db, MerchantId};
use crate::domain::needs::{
    is_overdue, need_status_for_task, need_transition, task_transition, TaskDirection, TaskStatus,
};
use crate::domain::RegionCode;
use crate::error::{AppError, AppResult, Code};

pub fn task_not_found() -> AppError {
    AppError::not_found(Code::TaskNotFound, "no such task")
}

/// A task, checked.
#[derive(Debug, Clone)]
pub struct NewTask {
    /// The need it takes up (the first list); `None` for a task on its own.
    pub need_id: Option<NeedId>,
    /// Required without a need; with one, `locality_for_troops`.
    pub direction: Option<TaskDirection>,
    /// Defaults to the need's title.
    pub title: Option<String>,
    /// Required without a need; with one, the need's region.
    pub region: Option<RegionCode>,
    pub owner_unit: String,
    pub owner_user: String,
    pub measures: String,
    /// May lie in the past (an office moving its existing ledger in).
    pub deadline: NaiveDate,
    pub merchant_id: Option<MerchantId>,
    pub publish: bool,
}

/// A task and whether it is overdue today.
#[derive(Debug, Clone)]
pub struct TaskRecord {
    pub task: TaskRow,
    pub overdue: bool,
}

impl TaskRecord {
    pub fn of(task: TaskRow, today: NaiveDate) -> AppResult<TaskRecord> {
        let overdue = is_overdue(task.status()?, task.deadline, today);
        Ok(TaskRecord { task, overdue })
    }
}

fn records(rows: Vec<TaskRow>, today: NaiveDate) -> AppResult<Vec<TaskRecord>> {
    rows.into_iter().map(|t| TaskRecord::of(t, today)).collect()
}

fn event(
    task: TaskId,
    kind: &str,
    body: &str,
    attachments: &[String],
    author: &str,
) -> TaskEventRow {
    TaskEventRow {
        id: TaskEventId::new(),
        task_id: task,
        kind: kind.to_owned(),
        body: body.to_owned(),
        attachments: attachments.join("\n"),
        status: None,
        author: author.to_owned(),
        created_at: db::now(),
    }
}

/// Takes a need up as a task, or puts a task on the list without one (offices).
pub async fn create_task(
    db: &Db,
    clock: &Clock,
    caller: &StaffUser,
    new: NewTask,
) -> AppResult<TaskRecord> {
    caller.require(Operation::TasksWrite)?;
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let need = match new.need_id {
        Some(id) => Some(scoped_need(&mut conn, caller, id).await?),
        None => None,
    };
    let (direction, region, title) = match &need {
        Some(need) => {
            if new.direction == Some(TaskDirection::TroopsForLocality) {
                return Err(AppError::invalid_field(
                    "direction",
                    "a task taking up a need is locality_for_troops",
                ));
            }
            if need.status()?.is_final() {
                return Err(AppError::conflict(
                    Code::InvalidTransition,
                    "this need is already done or closed",
                ));
            }
            (
                TaskDirection::LocalityForTroops,
                need.region_code.clone(),
                new.title.clone().unwrap_or_else(|| need.title.clone()),
            )
        }
        None => {
            let mut missing = crate::validate::Fields::new();
            if new.direction.is_none() {
                missing.error("direction", "is required for a task without a need");
            }
            if new.region.is_none() {
                missing.error("region_code", "is required for a task without a need");
            }
            if new.title.is_none() {
                missing.error("title", "is required for a task without a need");
            }
            let (direction, region, title) =
                missing.finish((new.direction, new.region.clone(), new.title.clone()))?;
            in_scope(caller, &region)?;
            known_region(&mut conn, "region_code", &region).await?;
            (direction, region.as_str().to_owned(), title)
        }
    };
    let owner = match staff::find_by_username(&mut conn, &new.owner_user).await? {
        Some(owner) if !owner.disabled => StaffUser::from_row(owner)?,
        _ => {
            return Err(AppError::invalid_field(
                "owner_user",
                "is not the user name of an enabled staff account",
            ))
        }
    };
    // The owner follows the task in its own list: an account that reads the tasks of
    // the task's region.
    if owner.require(Operation::TasksRead).is_err() || !owner.covers_code(&region) {
        return Err(AppError::invalid_field(
            "owner_user",
            "must be an account that reads the tasks of the task's region (an office or a liaison there)",
        ));
    }
    if let Some(merchant) = new.merchant_id {
        merchants::find(&mut conn, merchant)
            .await?
            .ok_or_else(merchant_not_found)?;
    }
    let now = db::now();
    let row = TaskRow {
        id: TaskId::new(),
        need_id: new.need_id,
        direction: direction.as_str().to_owned(),
        title,
        region_code: region,
        owner_unit: new.owner_unit,
        owner_user: new.owner_user,
        measures: new.measures,
        deadline: new.deadline,
        merchant_id: new.merchant_id,
        publish: new.publish,
        status: TaskStatus::Open.as_str().to_owned(),
        close_reason: None,
        evidence: None,
        created_by: caller.username.clone(),
        created_at: now,
        updated_at: now,
        started_at: None,
        done_at: None,
    };
    conn.transaction(async |tx| {
        needs::insert_task(tx, &row).await?;
        audit::record(
            tx,
            &caller.actor(),
            AuditEntry {
                action: "task.create",
                entity_type: "task",
                entity_id: row.id.to_string(),
                region_code: Some(&row.region_code),
                after_status: Some(TaskStatus::Open.as_str()),
                details: Some(serde_json::json!({"need_id": row.need_id,
                    "direction": row.direction, "owner_user": row.owner_user,
                    "deadline": row.deadline, "merchant_id": row.merchant_id,
                    "publish": row.publish})),
                ..Default::default()
            },
        )
        .await?;
        follow_need(tx, caller, row.need_id, TaskStatus::Open).await
    })
    .await?;
    TaskRecord::of(row, clock.today())
}

/// Moves the task's need forwards to where the task's `status` puts it (never back).
async fn follow_need(
    tx: &mut Conn<'_>,
    caller: &StaffUser,
    need: Option<NeedId>,
    status: TaskStatus,
) -> AppResult<()> {
    let (Some(id), Some(to)) = (need, need_status_for_task(status)) else {
        return Ok(());
    };
    let Some(need) = needs::find_need(tx, id).await? else {
        return Ok(());
    };
    if need_transition(need.status()?, to).is_ok() {
        move_need(tx, caller, &need, to, None).await?;
    }
    Ok(())
}

/// What the task list is filtered by.
#[derive(Debug, Clone, Default)]
pub struct TaskQuery {
    pub status: Option<TaskStatus>,
    pub direction: Option<TaskDirection>,
    /// Only overdue tasks (`true`).
    pub overdue: bool,
    /// Only the caller's own (责任人).
    pub mine: bool,
    pub need_id: Option<NeedId>,
    pub region: Option<RegionCode>,
}

/// Tasks in the caller's region subtree, newest first.
pub async fn list_tasks(
    db: &Db,
    clock: &Clock,
    caller: &StaffUser,
    query: TaskQuery,
    page: Page,
) -> AppResult<Listed<TaskRecord>> {
    caller.require(Operation::TasksRead)?;
    let today = clock.today();
    let mut filter = TaskFilter {
        status: query.status.map(|s| s.as_str().to_owned()),
        direction: query.direction.map(|d| d.as_str().to_owned()),
        owner_user: query.mine.then(|| caller.username.clone()),
        need_id: query.need_id,
        overdue_on: query.overdue.then_some(today),
        ..Default::default()
    };
    filter.region_likes.extend(caller.region_like());
    filter
        .region_likes
        .extend(query.region.as_ref().map(RegionCode::like_pattern));
    let mut pooled = db.get().await?;
    let (rows, total) =
        needs::list_tasks(&mut pooled.conn(), &filter, page.offset(), page.limit()).await?;
    Ok((records(rows, today)?, total))
}

/// A task with its events, oldest first.
#[derive(Debug, Clone)]
pub struct TaskDetail {
    pub record: TaskRecord,
    pub events: Vec<TaskEventRow>,
}

async fn scoped_task(conn: &mut Conn<'_>, caller: &StaffUser, id: TaskId) -> AppResult<TaskRow> {
    needs::find_task(conn, id)
        .await?
        .filter(|t| caller.covers_code(&t.region_code))
        .ok_or_else(task_not_found)
}

/// One task with its progress.
pub async fn task(db: &Db, clock: &Clock, caller: &StaffUser, id: TaskId) -> AppResult<TaskDetail> {
    caller.require(Operation::TasksRead)?;
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let task = scoped_task(&mut conn, caller, id).await?;
    let events = needs::events(&mut conn, id).await?;
    Ok(TaskDetail {
        record: TaskRecord::of(task, clock.today())?,
        events,
    })
}

/// A progress note (with its attachments' names) on a task not finished.
pub async fn add_note(
    db: &Db,
    caller: &StaffUser,
    id: TaskId,
    body: String,
    attachments: Vec<String>,
) -> AppResult<TaskEventRow> {
    caller.require(Operation::TasksWrite)?;
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let task = scoped_task(&mut conn, caller, id).await?;
    let status = task.status()?;
    if status.is_final() {
        return Err(AppError::conflict(
            Code::InvalidTransition,
            format!("this task is {status}: no more progress notes"),
        ));
    }
    let note = event(id, "note", &body, &attachments, &caller.username);
    conn.transaction(async |tx| {
        needs::insert_event(tx, &note).await?;
        audit::record(
            tx,
            &caller.actor(),
            AuditEntry {
                action: "task.note",
                entity_type: "task",
                entity_id: id.to_string(),
                region_code: Some(&task.region_code),
                details: Some(serde_json::json!({"event_id": note.id,
                    "attachments": attachments})),
                ..Default::default()
            },
        )
        .await?;
        Ok::<_, AppError>(())
    })
    .await?;
    Ok(note)
}

/// Moves a task: `in_progress`, `closed` (with a reason), or `done` (with its evidence,
/// [`complete`]). The task's need follows it forwards.
pub async fn set_task_status(
    db: &Db,
    clock: &Clock,
    caller: &StaffUser,
    id: TaskId,
    to: TaskStatus,
    text: Option<String>,
    attachments: Vec<String>,
) -> AppResult<TaskDetail> {
    caller.require(Operation::TasksWrite)?;
    match (to, &text) {
        (TaskStatus::Closed, None) => {
            return Err(AppError::invalid_field(
                "reason",
                "is required to close a task",
            ))
        }
        (TaskStatus::Done, None) => {
            return Err(AppError::invalid_field(
                "evidence",
                "is required to complete a task",
            ))
        }
        _ => {}
    }
    let mut pooled = db.get().await?;
    let mut conn = pooled.conn();
    let task = scoped_task(&mut conn, caller, id).await?;
    let from = task.status()?;
    task_transition(from, to)
        .map_err(|e| AppError::conflict(Code::InvalidTransition, e.to_string()))?;
    let now = db::now();
    let (kind, reason, evidence) = match to {
        TaskStatus::Done => ("completion", None, text.as_deref()),
        TaskStatus::Closed => ("status", text.as_deref(), None),
        _ => ("status", None, None),
    };
    let mut change_event = event(
        id,
        kind,
        text.as_deref().unwrap_or(""),
        &attachments,
        &caller.username,
    );
    change_event.status = Some(to.as_str().to_owned());
    let change = TaskChange {
        to: to.as_str(),
        reason,
        evidence,
        started_at: task
            .started_at
            .or((to == TaskStatus::InProgress).then_some(now)),
        at: now,
    };
    let moved = conn
        .transaction(async |tx| {
            let moved = needs::set_task_status(tx, id, from.as_str(), change)
                .await?
                .ok_or_else(|| {
                    AppError::conflict(Code::ConcurrentChange, "the task was changed meanwhile")
                })?;
            needs::insert_event(tx, &change_event).await?;
            audit::record(
                tx,
                &caller.actor(),
                AuditEntry {
                    action: if to == TaskStatus::Done {
                        "task.complete"
                    } else {
                        "task.status"
                    },
                    entity_type: "task",
                    entity_id: id.to_string(),
                    region_code: Some(&task.region_code),
                    before_status: Some(from.as_str()),
                    after_status: Some(to.as_str()),
                    reason,
                    details: Some(serde_json::json!({"event_id": change_event.id,
                        "attachments": attachments, "deadline": task.deadline})),
                },
            )
            .await?;
            follow_need(tx, caller, task.need_id, to).await?;
            Ok::<_, AppError>(moved)
        })
        .await?;
    let events = needs::events(&mut conn, id).await?;
    Ok(TaskDetail {
        record: TaskRecord::of(moved, clock.today())?,
        events,
    })
}

/// Completes a task with its evidence (and the attachments' names).
pub async fn complete(
    db: &Db,
    clock: &Clock,
    caller: &StaffUser,
    id: TaskId,
    evidence: String,
    attachments: Vec<String>,
) -> AppResult<TaskDetail> {
    set_task_status(
        db,
        clock,
        caller,
        id,
        TaskStatus::Done,
        Some(evidence),
        attachments,
    )
    .await
}

/// The tasks an office published as the year's projects (年度项目清单), in `region`'s
/// subtree (everywhere when `None`), by deadline within `year`. Public.
pub async fn projects(
    db: &Db,
    clock: &Clock,
    year: Option<i32>,
    region: Option<RegionCode>,
    page: Page,
) -> AppResult<Listed<TaskRecord>> {
    let today = clock.today();
    let year = year.unwrap_or_else(|| today.year());
    let (Some(first), Some(last)) = (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year, 12, 31),
    ) else {
        return Err(AppError::invalid_field("year", "is not a year"));
    };
    let filter = TaskFilter {
        published: true,
        deadline_between: Some((first, last)),
        region_likes: region.iter().map(RegionCode::like_pattern).collect(),
        ..Default::default()
    };
    let mut pooled = db.get().await?;
    let (rows, total) =
        needs::list_tasks(&mut pooled.conn(), &filter, page.offset(), page.limit()).await?;
    Ok((records(rows, today)?, total))
}
