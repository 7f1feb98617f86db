//! Exports (`GET /api/v1/admin/exports/{kind}`): merchants, redemptions, beneficiaries,
//! the figures and the joint task list's ledger of the caller's region, as Excel or CSV. The plan and the writers
//! are `app::exports`, shared with `yongjun export`.

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{
    get,
    web::{Path, Query},
    HttpResponse,
};
use tokio::sync::mpsc;

use crate::app::exports::{self, ExportFormat, ExportQuery};
use crate::app::identity::AdminUser;
use crate::error::{AppError, AppResult};
use crate::http::State;

/// Reads a finished file in 64 KiB chunks; the temporary file is deleted when the
/// response ends (or is dropped).
fn file_stream(
    file: tempfile::NamedTempFile,
) -> std::io::Result<impl futures_util::Stream<Item = std::io::Result<Bytes>>> {
    use tokio::io::AsyncReadExt;
    let reader = tokio::fs::File::from_std(file.reopen()?);
    Ok(futures_util::stream::unfold(
        Some((reader, file)),
        |state| async move {
            let (mut reader, file) = state?;
            let mut buf = vec![0u8; 64 * 1024];
            match reader.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(Bytes::from(buf)), Some((reader, file))))
                }
                Err(e) => Some((Err(e), None)),
            }
        },
    ))
}

/// An export of the caller's region: `merchants` (contact phones masked), `redemptions`
/// (card numbers masked; both regions, holder category, card product, offer kind,
/// amounts in yuan), `beneficiaries` (ID numbers and phones masked) `stats` (the
/// figures of `GET /admin/stats`, one sheet per table) or `tasks` (the joint task list's
/// ledger, 台账: one row per task with its owner, deadline, status, dates and progress
/// notes; `from`/`to` bound when the task was entered).
///
/// Excel files have Chinese headers, one sheet per table (a table longer than a sheet
/// continues on the next), times as Excel dates in China time, and money as numbers
/// in yuan with two decimals. CSV is UTF-8 with a byte order mark, so Excel opens it,
/// and streams as it is read; a multi-table CSV (`stats`) separates its tables by an
/// empty line and the table's name. Every export is recorded in the audit log
/// (`export.<kind>`, with its filters) before it starts. Redemptions and beneficiaries
/// need a super administrator, region administrator or auditor.
#[utoipa::path(tag = "oversight",
    params(
        ("kind" = String, Path, description = "`merchants`, `redemptions`, `beneficiaries`, `stats` or `tasks`", example = "redemptions"),
        ExportQuery),
    security(("staff" = [])),
    responses(
        (status = 200, description = "The file, as an attachment (`Content-Disposition` with an RFC 5987 `filename*`, e.g. `核销记录_440300_20260101-20261123.csv`)",
            headers(("Content-Disposition" = String, description = "attachment; filename=\"export.csv\"; filename*=UTF-8''%E6%A0%B8%E9%94%80%E8%AE%B0%E5%BD%95_440300.csv")),
            content(
                (String = "text/csv", example = json!("\u{feff}核销时间,商户名称,商户行政区划代码,商户所在地区,行业类别,优待项目,优待类型,卡号,卡种,持卡人类别,持卡人行政区划代码,持卡人所在地区,消费金额（元）,优惠金额（元）,同行人数,状态,作废原因,作废时间,核销编号\n2026-08-01 10:15:00,罗湖拥军大药房,440303,罗湖区,药店,购药九折,折扣,8860********1234,拥军优待卡,退役军人,140521,沁水县,200.00,20.00,0,已核销,,,0193a8f2-7c1e-7d3a-9f00-1a2b3c4d5e70\n")),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    example = json!([80, 75, 3, 4, 20, 0, 6, 0, 8, 0])))),
        (status = 403, body = crate::error::Problem, description = "`forbidden` (merchant staff; reviewers for personal data), `region_out_of_scope`"),
        (status = 404, body = crate::error::Problem, description = "`export_not_found`: no such kind",
            example = json!({"type": "about:blank", "title": "Not Found", "status": 404, "code": "export_not_found",
                "detail": "exports are merchants, redemptions, beneficiaries, stats and tasks"})),
        (status = 422, body = crate::error::Problem, description = "`validation_failed`: `format`, `region`, `from`, `to`",
            example = json!({"type": "about:blank", "title": "Unprocessable Entity", "status": 422, "code": "validation_failed",
                "detail": "invalid fields: format", "errors": [{"field": "format", "message": "must be xlsx or csv"}]})),
        (status = 503, body = crate::error::Problem, description = "`service_unavailable`")))]
#[get("/admin/exports/{kind}")]
#[tracing::instrument(name = "export", skip_all, fields(kind = %kind))]
pub async fn export(
    state: State,
    admin: AdminUser,
    kind: Path<String>,
    query: Query<ExportQuery>,
) -> AppResult<HttpResponse> {
    let plan = exports::plan(&kind, &query, Some(&admin), state.policy.clock.today())?;
    let mut pooled = state.db.get().await?;
    exports::record(&mut pooled.conn(), &admin.actor(), &plan).await?;
    let disposition = exports::content_disposition(&plan.file_name(), plan.format);
    let mut response = HttpResponse::Ok();
    response
        .content_type(plan.format.content_type())
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    match plan.format {
        ExportFormat::Csv => {
            let (tx, mut rx) = mpsc::channel::<std::io::Result<Bytes>>(4);
            let request = plan.request;
            actix_web::rt::spawn(async move {
                let failed = tx.clone();
                if let Err(error) = exports::write_csv(&mut pooled.conn(), &request, tx).await {
                    tracing::warn!(error = %format!("{error:#}"), "CSV export stopped");
                    // Ends the response with an error, so the client sees a broken
                    // transfer rather than a file that looks complete.
                    let _ = failed
                        .send(Err(std::io::Error::other("the export failed")))
                        .await;
                }
            });
            let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
            Ok(response.streaming(stream))
        }
        ExportFormat::Xlsx => {
            let file = tempfile::NamedTempFile::new().map_err(AppError::internal)?;
            let rows = exports::write_xlsx(&mut pooled.conn(), &plan.request, file.path())
                .await
                .map_err(AppError::from)?;
            drop(pooled);
            let len = file.as_file().metadata().map_err(AppError::internal)?.len();
            tracing::info!(rows, bytes = len, "Excel export written");
            let stream = file_stream(file).map_err(AppError::internal)?;
            Ok(response.no_chunking(len).streaming(stream))
        }
    }
}
