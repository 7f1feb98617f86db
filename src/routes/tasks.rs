//! The joint task list (双清单), its ledger (台账) and the year's public list of projects
//! (年度项目清单). The use cases are `app::tasks`.

use actix_web::{
    get, post,
    web::{self, Path, Query},
    HttpResponse,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::identity::AdminUser;
use crate::app::permissions::Operation;
use crate::app::tasks::{self, NewTask, TaskDetail, TaskQuery, TaskRecord};
use crate::db::needs::{NeedId, TaskEventId, TaskEventRow, TaskId};
use crate::db::MerchantId;
use crate::domain::needs::{TaskDirection, TaskStatus};
use crate::error::AppResult;
use crate::http::{utc, Json, Paged, Reply, State};
use crate::validate::Fields;

// ---------- views ----------

/// A task of the joint list (双清单): one line of the ledger (台账).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8fa-1a2b-7c3d-8e4f-5a6b7c8d9e31",
    "need_id": "0193a8fa-1a2b-7c3d-8e4f-5a6b7c8d9e11", "direction": "locality_for_troops",
    "title": "官兵子女寒假托管", "region_code": "140521", "owner_unit": "沁水县教育局",
    "owner_user": "qs.office", "measures": "协调县托育中心开设寒假托管班", "deadline": "2027-01-15",
    "merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "publish": true, "status": "in_progress",
    "overdue": false, "close_reason": null, "evidence": null,
    "created_at": "2026-12-03T02:00:00Z", "updated_at": "2026-12-04T02:00:00Z",
    "started_at": "2026-12-04T02:00:00Z", "done_at": null}))]
pub struct TaskView {
    pub id: TaskId,
    pub need_id: Option<NeedId>,
    /// `locality_for_troops` (地方为部队) or `troops_for_locality` (部队为地方).
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
    pub deadline: chrono::NaiveDate,
    pub merchant_id: Option<MerchantId>,
    /// Listed among the year's projects.
    pub publish: bool,
    /// `open`, `in_progress`, `done` or `closed`.
    pub status: String,
    /// Not finished and past its deadline (from the day after it).
    pub overdue: bool,
    pub close_reason: Option<String>,
    pub evidence: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    pub done_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<TaskRecord> for TaskView {
    fn from(record: TaskRecord) -> TaskView {
        let row = record.task;
        TaskView {
            id: row.id,
            need_id: row.need_id,
            direction: row.direction,
            title: row.title,
            region_code: row.region_code,
            owner_unit: row.owner_unit,
            owner_user: row.owner_user,
            measures: row.measures,
            deadline: row.deadline,
            merchant_id: row.merchant_id,
            publish: row.publish,
            status: row.status,
            overdue: record.overdue,
            close_reason: row.close_reason,
            evidence: row.evidence,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            started_at: row.started_at.map(utc),
            done_at: row.done_at.map(utc),
        }
    }
}

/// A progress note, status change or completion of a task.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8fa-1a2b-7c3d-8e4f-5a6b7c8d9e41", "kind": "note",
    "body": "已与县托育中心签订协议，12月20日开班", "attachments": ["托管协议.pdf"], "status": null,
    "author": "qs.office", "created_at": "2026-12-04T03:00:00Z"}))]
pub struct TaskEventView {
    pub id: TaskEventId,
    /// `note`, `status` or `completion`.
    pub kind: String,
    pub body: String,
    /// Attachments' names.
    pub attachments: Vec<String>,
    /// The status it moved the task to.
    pub status: Option<String>,
    pub author: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<TaskEventRow> for TaskEventView {
    fn from(row: TaskEventRow) -> TaskEventView {
        TaskEventView {
            attachments: row.attachment_names(),
            id: row.id,
            kind: row.kind,
            body: row.body,
            status: row.status,
            author: row.author,
            created_at: utc(row.created_at),
        }
    }
}

/// A task with its progress, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8fa-1a2b-7c3d-8e4f-5a6b7c8d9e31",
    "need_id": "0193a8fa-1a2b-7c3d-8e4f-5a6b7c8d9e11", "direction": "locality_for_troops",
    "title": "官兵子女寒假托管", "region_code": "140521", "owner_unit": "沁水县教育局",
    "owner_user": "qs.office", "measures": "协调县托育中心开设寒假托管班", "deadline": "2027-01-15",
    "merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "publish": true, "status": "in_progress",
    "overdue": false, "close_reason": null, "evidence": null,
    "created_at": "2026-12-03T02:00:00Z", "updated_at": "2026-12-04T02:00:00Z",
    "started_at": "2026-12-04T02:00:00Z", "done_at": null,
    "events": [{"id": "0193a8fa-1a2b-7c3d-8e4f-5a6b7c8d9e41", "kind": "note",
    "body": "已与县托育中心签订协议，12月20日开班", "attachments": ["托管协议.pdf"], "status": null,
    "author": "qs.office", "created_at": "2026-12-04T03:00:00Z"}]}))]
pub struct TaskDetailView {
    #[serde(flatten)]
    pub task: TaskView,
    pub events: Vec<TaskEventView>,
}

impl From<TaskDetail> for TaskDetailView {
    fn from(detail: TaskDetail) -> TaskDetailView {
        TaskDetailView {
            task: detail.record.into(),
            events: detail.events.into_iter().map(Into::into).collect(),
        }
    }
}

/// One of the year's projects, as the public sees it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a8fa-1a2b-7c3d-8e4f-5a6b7c8d9e31", "title": "官兵子女寒假托管",
    "direction": "locality_for_troops", "region_code": "140521", "owner_unit": "沁水县教育局",
    "deadline": "2027-01-15", "status": "in_progress", "overdue": false}))]
pub struct ProjectView {
    pub id: TaskId,
    pub title: String,
    pub direction: String,
    pub region_code: String,
    pub owner_unit: String,
    pub deadline: chrono::NaiveDate,
    pub status: String,
    pub overdue: bool,
}

impl From<TaskRecord> for ProjectView {
    fn from(record: TaskRecord) -> ProjectView {
        let row = record.task;
        ProjectView {
            id: row.id,
            title: row.title,
            direction: row.direction,
            region_code: row.region_code,
            owner_unit: row.owner_unit,
            deadline: row.deadline,
            status: row.status,
            overdue: record.overdue,
        }
    }
}

// ---------- requests ----------

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"need_id": "0193a8fa-1a2b-7c3d-8e4f-5a6b7c8d9e11",
    "owner_unit": "沁水县教育局", "owner_user": "qs.office", "measures": "协调县托育中心开设寒假托管班",
    "deadline": "2027-01-15", "merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "publish": true}))]
pub struct TaskRequest {
    /// The need taken up; without one, `direction`, `title` and `region_code` are needed.
    pub need_id: Option<String>,
    /// `locality_for_troops` or `troops_for_locality`.
    pub direction: Option<String>,
    pub title: Option<String>,
    pub region_code: Option<String>,
    pub owner_unit: Option<String>,
    pub owner_user: Option<String>,
    pub measures: Option<String>,
    /// May lie in the past.
    pub deadline: Option<String>,
    pub merchant_id: Option<String>,
    pub publish: Option<bool>,
}

fn uuid<T: std::str::FromStr>(raw: &str) -> Result<T, &'static str> {
    raw.parse().map_err(|_| "is not a UUID")
}

/// Takes a need up as a task, or puts a task on the list without one (offices). The
/// need becomes `matched`.
#[utoipa::path(tag = "tasks", operation_id = "create_task", request_body = TaskRequest,
    security(("staff" = [])), responses(
    (status = 201, body = TaskView),
    (status = 403, body = crate::error::Problem, description = "`forbidden`, `read_only_role`, `region_out_of_scope`"),
    (status = 404, body = crate::error::Problem, description = "`need_not_found`, `merchant_not_found`"),
    (status = 409, body = crate::error::Problem, description = "`invalid_transition`: the need is done or closed")))]
#[post("/admin/tasks")]
#[tracing::instrument(name = "create_task", skip_all)]
pub async fn create_task(
    state: State,
    admin: AdminUser,
    body: Json<TaskRequest>,
) -> AppResult<HttpResponse> {
    // Who may not change the list hears so before what is wrong with the form.
    admin.require(Operation::TasksWrite)?;
    let mut f = Fields::new();
    let need_id = f.optional_str("need_id", body.need_id.as_deref(), uuid::<NeedId>);
    let direction = f.optional_vocab::<TaskDirection>("direction", body.direction.as_deref());
    let title = f.optional_text("title", body.title.as_deref(), 200);
    let region = f.region("region_code", body.region_code.as_deref());
    let owner_unit = f.text("owner_unit", body.owner_unit.as_deref(), 200);
    let owner_user = f.text("owner_user", body.owner_user.as_deref(), 64);
    let measures = f.free_text("measures", body.measures.as_deref(), 4000);
    let deadline = f.date("deadline", body.deadline.as_deref());
    if matches!(deadline, Some(None)) {
        f.error("deadline", "is required");
    }
    let merchant_id = f.optional_str(
        "merchant_id",
        body.merchant_id.as_deref(),
        uuid::<MerchantId>,
    );
    let task = f.build(|| {
        Some(NewTask {
            need_id: need_id?,
            direction: direction?,
            title: title?,
            region: region?,
            owner_unit: owner_unit?,
            owner_user: owner_user?.to_lowercase(),
            measures: measures?,
            deadline: deadline??,
            merchant_id: merchant_id?,
            publish: body.publish.unwrap_or(false),
        })
    })?;
    let record = tasks::create_task(&state.db, &state.policy.clock, &admin, task).await?;
    Ok(HttpResponse::Created().json(TaskView::from(record)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TaskListQuery {
    pub status: Option<String>,
    pub direction: Option<String>,
    /// `true`: only tasks past their deadline and not finished.
    pub overdue: Option<bool>,
    /// `true`: only the caller's own (责任人).
    pub mine: Option<bool>,
    pub need_id: Option<String>,
    pub region: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// The task list of the caller's region subtree, newest first; `overdue=true` lists the
/// overdue ones, `mine=true` the caller's own.
#[utoipa::path(tag = "tasks", operation_id = "list_tasks", params(TaskListQuery),
    security(("staff" = [])), responses((status = 200, body = Paged<TaskView>,
    example = json!({"items": [{"id": "0193a8fa-1a2b-7c3d-8e4f-5a6b7c8d9e31",
    "need_id": "0193a8fa-1a2b-7c3d-8e4f-5a6b7c8d9e11", "direction": "locality_for_troops",
    "title": "官兵子女寒假托管", "region_code": "140521", "owner_unit": "沁水县教育局",
    "owner_user": "qs.office", "measures": "协调县托育中心开设寒假托管班", "deadline": "2027-01-15",
    "merchant_id": "0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e6f", "publish": true, "status": "in_progress",
    "overdue": false, "close_reason": null, "evidence": null,
    "created_at": "2026-12-03T02:00:00Z", "updated_at": "2026-12-04T02:00:00Z",
    "started_at": "2026-12-04T02:00:00Z", "done_at": null}], "total": 1, "page": 1, "per_page": 20}))))]
#[get("/admin/tasks")]
pub async fn list_tasks(
    state: State,
    admin: AdminUser,
    query: Query<TaskListQuery>,
) -> Reply<Paged<TaskView>> {
    let mut f = Fields::new();
    let page = f.page(query.page, query.per_page);
    let status = f.optional_vocab::<TaskStatus>("status", query.status.as_deref());
    let direction = f.optional_vocab::<TaskDirection>("direction", query.direction.as_deref());
    let need_id = f.optional_str("need_id", query.need_id.as_deref(), uuid::<NeedId>);
    let region = f.region("region", query.region.as_deref());
    let (page, status, direction, need_id, region) =
        f.finish((page, status, direction, need_id, region))?;
    let query = TaskQuery {
        status,
        direction,
        overdue: query.overdue.unwrap_or(false),
        mine: query.mine.unwrap_or(false),
        need_id,
        region,
    };
    let listed = tasks::list_tasks(&state.db, &state.policy.clock, &admin, query, page).await?;
    Ok(web::Json(Paged::of(page, listed, TaskView::from)))
}

/// One task with its progress notes, status changes and completion.
#[utoipa::path(tag = "tasks", operation_id = "get_task", params(("id" = TaskId, Path)),
    security(("staff" = [])), responses(
    (status = 200, body = TaskDetailView),
    (status = 404, body = crate::error::Problem, description = "`task_not_found` (also outside your region)")))]
#[get("/admin/tasks/{id}")]
pub async fn get_task(state: State, admin: AdminUser, id: Path<TaskId>) -> Reply<TaskDetailView> {
    let detail = tasks::task(&state.db, &state.policy.clock, &admin, *id).await?;
    Ok(web::Json(detail.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"body": "已与县托育中心签订协议，12月20日开班", "attachments": ["托管协议.pdf"]}))]
pub struct TaskNoteRequest {
    pub body: Option<String>,
    /// Attachments' names (the files are kept elsewhere).
    #[serde(default)]
    pub attachments: Vec<String>,
}

fn attachments(f: &mut Fields, raw: &[String]) -> Option<Vec<String>> {
    if raw.len() > 20 {
        f.error("attachments", "at most 20 names");
        return None;
    }
    f.list("attachments", raw, |name| {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
            Err("must be a name of 1 to 200 characters on one line")
        } else {
            Ok(name.to_owned())
        }
    })
}

/// Records a progress note on a task not finished.
#[utoipa::path(tag = "tasks", operation_id = "add_task_note", params(("id" = TaskId, Path)),
    request_body = TaskNoteRequest, security(("staff" = [])), responses(
    (status = 201, body = TaskEventView),
    (status = 403, body = crate::error::Problem, description = "`forbidden`, `read_only_role`"),
    (status = 404, body = crate::error::Problem, description = "`task_not_found`"),
    (status = 409, body = crate::error::Problem, description = "`invalid_transition`: the task is done or closed")))]
#[post("/admin/tasks/{id}/notes")]
pub async fn add_note(
    state: State,
    admin: AdminUser,
    id: Path<TaskId>,
    body: Json<TaskNoteRequest>,
) -> AppResult<HttpResponse> {
    // Who may not change the list hears so before what is wrong with the form.
    admin.require(Operation::TasksWrite)?;
    let mut f = Fields::new();
    let text = f.free_text("body", body.body.as_deref(), 4000);
    let names = attachments(&mut f, &body.attachments);
    let (text, names) = f.finish((text, names))?;
    let note = tasks::add_note(&state.db, &admin, *id, text, names).await?;
    Ok(HttpResponse::Created().json(TaskEventView::from(note)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"status": "in_progress"}))]
pub struct TaskStatusRequest {
    /// `in_progress` or `closed` (completion is `POST …/complete`).
    pub status: Option<String>,
    /// Required to close.
    pub reason: Option<String>,
}

/// Starts (`in_progress`) or closes (with a reason) a task; the need follows it.
#[utoipa::path(tag = "tasks", operation_id = "set_task_status", params(("id" = TaskId, Path)),
    request_body = TaskStatusRequest, security(("staff" = [])), responses(
    (status = 200, body = TaskDetailView),
    (status = 403, body = crate::error::Problem, description = "`forbidden`, `read_only_role`"),
    (status = 404, body = crate::error::Problem, description = "`task_not_found`"),
    (status = 409, body = crate::error::Problem, description = "`invalid_transition`, `concurrent_change`")))]
#[post("/admin/tasks/{id}/status")]
pub async fn set_task_status(
    state: State,
    admin: AdminUser,
    id: Path<TaskId>,
    body: Json<TaskStatusRequest>,
) -> Reply<TaskDetailView> {
    // Who may not change the list hears so before what is wrong with the form.
    admin.require(Operation::TasksWrite)?;
    let mut f = Fields::new();
    let status = f.vocab::<TaskStatus>("status", body.status.as_deref());
    if status == Some(TaskStatus::Done) {
        f.error(
            "status",
            "a task is completed with POST /api/v1/admin/tasks/{id}/complete",
        );
    }
    let reason = f.optional_free_text("reason", body.reason.as_deref(), 2000);
    let (status, reason) = f.finish((status, reason))?;
    let detail = tasks::set_task_status(
        &state.db,
        &state.policy.clock,
        &admin,
        *id,
        status,
        reason,
        Vec::new(),
    )
    .await?;
    Ok(web::Json(detail.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"evidence": "寒假托管班已开班，35 名官兵子女入班", "attachments": ["开班照片.jpg"]}))]
pub struct CompleteTaskRequest {
    pub evidence: Option<String>,
    #[serde(default)]
    pub attachments: Vec<String>,
}

/// Completes a task with its evidence; its need becomes `done`.
#[utoipa::path(tag = "tasks", operation_id = "complete_task", params(("id" = TaskId, Path)),
    request_body = CompleteTaskRequest, security(("staff" = [])), responses(
    (status = 200, body = TaskDetailView),
    (status = 403, body = crate::error::Problem, description = "`forbidden`, `read_only_role`"),
    (status = 404, body = crate::error::Problem, description = "`task_not_found`"),
    (status = 409, body = crate::error::Problem, description = "`invalid_transition`, `concurrent_change`")))]
#[post("/admin/tasks/{id}/complete")]
pub async fn complete_task(
    state: State,
    admin: AdminUser,
    id: Path<TaskId>,
    body: Json<CompleteTaskRequest>,
) -> Reply<TaskDetailView> {
    // Who may not change the list hears so before what is wrong with the form.
    admin.require(Operation::TasksWrite)?;
    let mut f = Fields::new();
    let evidence = f.free_text("evidence", body.evidence.as_deref(), 4000);
    let names = attachments(&mut f, &body.attachments);
    let (evidence, names) = f.finish((evidence, names))?;
    let detail =
        tasks::complete(&state.db, &state.policy.clock, &admin, *id, evidence, names).await?;
    Ok(web::Json(detail.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ProjectQuery {
    /// Default: this year.
    pub year: Option<i32>,
    pub region: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// The year's projects (年度项目清单 / 年度十大拥军实事): the tasks an office chose to
/// publish, by deadline within the year, with their status. Public.
#[utoipa::path(tag = "tasks", operation_id = "list_projects", params(ProjectQuery),
    responses((status = 200, body = Paged<ProjectView>,
    example = json!({"items": [{"id": "0193a8fa-1a2b-7c3d-8e4f-5a6b7c8d9e31", "title": "官兵子女寒假托管",
    "direction": "locality_for_troops", "region_code": "140521", "owner_unit": "沁水县教育局",
    "deadline": "2027-01-15", "status": "in_progress", "overdue": false}], "total": 1, "page": 1, "per_page": 20}))))]
#[get("/projects")]
pub async fn list_projects(state: State, query: Query<ProjectQuery>) -> Reply<Paged<ProjectView>> {
    let mut f = Fields::new();
    let page = f.page(query.page, query.per_page);
    let region = f.region("region", query.region.as_deref());
    let year = match query.year {
        Some(y) if !(2000..=2199).contains(&y) => {
            f.error("year", "must be between 2000 and 2199");
            None
        }
        other => Some(other),
    };
    let (page, region, year) = f.finish((page, region, year))?;
    let listed = tasks::projects(&state.db, &state.policy.clock, year, region, page).await?;
    Ok(web::Json(Paged::of(page, listed, ProjectView::from)))
}
