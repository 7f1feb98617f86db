//! The one error type of the application, [`AppError`], and what an answer says about
//! it: an RFC 9457 problem with a stable [`Code`]. Nothing here knows the HTTP
//! framework; `http::problem` renders an error as a response.

use serde::Serialize;
use utoipa::ToSchema;

use crate::cache::CacheError;
use crate::db::{CorruptRow, PoolUnavailable};

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field, as named in the request (`region_code`, `items[2].name`).
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// What kind of failure an error is; it decides the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    RequestTimeout,
    PayloadTooLarge,
    Unprocessable,
    TooManyRequests,
    Internal,
    Unavailable,
}

impl Kind {
    pub fn status(self) -> u16 {
        match self {
            Kind::BadRequest => 400,
            Kind::Unauthorized => 401,
            Kind::Forbidden => 403,
            Kind::NotFound => 404,
            Kind::Conflict => 409,
            Kind::RequestTimeout => 408,
            Kind::PayloadTooLarge => 413,
            Kind::Unprocessable => 422,
            Kind::TooManyRequests => 429,
            Kind::Internal => 500,
            Kind::Unavailable => 503,
        }
    }

    /// The status's reason phrase, the problem's `title`.
    pub fn title(self) -> &'static str {
        match self {
            Kind::BadRequest => "Bad Request",
            Kind::Unauthorized => "Unauthorized",
            Kind::Forbidden => "Forbidden",
            Kind::NotFound => "Not Found",
            Kind::Conflict => "Conflict",
            Kind::RequestTimeout => "Request Timeout",
            Kind::PayloadTooLarge => "Payload Too Large",
            Kind::Unprocessable => "Unprocessable Entity",
            Kind::TooManyRequests => "Too Many Requests",
            Kind::Internal => "Internal Server Error",
            Kind::Unavailable => "Service Unavailable",
        }
    }

    /// A refusal of what the caller asked (4xx), as opposed to a failure of ours.
    pub fn is_refusal(self) -> bool {
        self.status() < 500
    }
}

/// Declares [`Code`]: every stable code an error answer can carry, from one list.
macro_rules! codes {
    ($($(#[$meta:meta])* $variant:ident => $text:literal / $zh:literal,)+) => {
        /// The stable, machine-readable `code` of every error answer. `openapi.yaml`
        /// lists them all (schema `ErrorCode`); a client may match on them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[$meta])* $variant,)+
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)+
                }
            }

            pub fn parse(raw: &str) -> Option<Code> {
                Code::ALL.iter().copied().find(|c| c.as_str() == raw)
            }

            /// What the code says in Chinese, for a cashier, a holder or a clerk: the
            /// `detail` of an answer whose own detail is English only.
            pub fn zh(self) -> &'static str {
                match self {
                    $(Code::$variant => $zh,)+
                }
            }
        }
    };
}

codes! {
    // Any endpoint.
    /// No such route, or a path parameter that names nothing.
    NotFound => "not_found" / "找不到请求的内容",
    InvalidJson => "invalid_json" / "请求内容不是有效的 JSON",
    ValidationFailed => "validation_failed" / "填写的内容有误，请检查后重试",
    PayloadTooLarge => "payload_too_large" / "上传的内容过大",
    /// A request body that did not arrive within `YONGJUN_BODY_TIMEOUT_SECS`.
    RequestTimeout => "request_timeout" / "请求内容发送超时，请检查网络后重试",
    InvalidMultipart => "invalid_multipart" / "上传的文件格式有误",
    TooManyAttempts => "too_many_attempts" / "尝试次数过多，请稍后再试",
    InternalError => "internal_error" / "系统内部错误，请稍后再试",
    ServiceUnavailable => "service_unavailable" / "服务暂时不可用，请稍后重试",
    // Who is calling.
    Unauthenticated => "unauthenticated" / "请先登录",
    InvalidCredentials => "invalid_credentials" / "用户名或密码错误",
    Forbidden => "forbidden" / "无权进行此操作",
    ReadOnlyRole => "read_only_role" / "当前账号只能查看，不能修改",
    RegionOutOfScope => "region_out_of_scope" / "该地区不在您的管辖范围内",
    WrongDepartment => "wrong_department" / "只能录入本部门的审核意见",
    TokenRevoked => "token_revoked" / "登录已失效，请重新登录",
    InvalidRefreshToken => "invalid_refresh_token" / "登录已过期，请重新登录",
    InvalidActivation => "invalid_activation" / "激活码无效或已使用",
    // Regions and staff accounts.
    RegionNotFound => "region_not_found" / "找不到该地区",
    UsernameTaken => "username_taken" / "该用户名已被使用",
    StaffUserNotFound => "staff_user_not_found" / "找不到该工作人员账号",
    // Merchants: admission and exit.
    MerchantNotFound => "merchant_not_found" / "找不到该商户",
    DuplicateCreditCode => "duplicate_credit_code" / "该统一社会信用代码已登记或正在审核",
    InvalidTransition => "invalid_transition" / "当前状态下不能进行此操作",
    ConcurrentChange => "concurrent_change" / "内容已被他人修改，请刷新后重试",
    ReviewsIncomplete => "reviews_incomplete" / "联审尚未全部通过",
    NoticePeriodRunning => "notice_period_running" / "社会公示期尚未结束",
    ObjectionsOpen => "objections_open" / "尚有未处理的公示异议",
    ObjectionNotFound => "objection_not_found" / "找不到该异议",
    ObjectionResolved => "objection_resolved" / "该异议已处理",
    NotInPublicNotice => "not_in_public_notice" / "该商户不在公示期内",
    MerchantClosed => "merchant_closed" / "该商户已被驳回或撤销",
    NotFlagged => "not_flagged" / "该商户未被列入退出复核",
    // Beneficiaries and cards.
    BeneficiaryNotFound => "beneficiary_not_found" / "找不到该优待对象",
    DuplicateBeneficiary => "duplicate_beneficiary" / "该优待对象已登记",
    CardNotFound => "card_not_found" / "找不到该优待卡",
    CardExists => "card_exists" / "该优待对象已有同类有效优待卡",
    CardNotActive => "card_not_active" / "该优待卡当前不可用",
    ProductExists => "product_exists" / "该卡种已存在",
    MissingColumns => "missing_columns" / "导入文件缺少必需的列",
    UnreadableFile => "unreadable_file" / "无法读取导入文件",
    // Offers and the point of sale.
    OfferNotFound => "offer_not_found" / "找不到该优待项目",
    OfferNotActive => "offer_not_active" / "这项优待当前不可用",
    NotEligible => "not_eligible" / "持卡人不符合这项优待的条件",
    CompanionsExceeded => "companions_exceeded" / "同行亲属人数超出这项优待的限制",
    QuotaExhausted => "quota_exhausted" / "这项优待的名额已用完",
    HolderLimitReached => "holder_limit_reached" / "持卡人本期已用完这项优待",
    TokenInvalid => "token_invalid" / "二维码无效，请持卡人刷新优待卡二维码后重新出示",
    TokenExpired => "token_expired" / "二维码已过期，请持卡人刷新后重新出示",
    TokenUsed => "token_used" / "该二维码已使用，请持卡人刷新后重新出示",
    CardSuspended => "card_suspended" / "该优待卡已暂停使用，请持卡人联系发卡单位",
    CardRevoked => "card_revoked" / "该优待卡已注销，不能享受优待",
    CardExpired => "card_expired" / "该优待卡已过期，请持卡人办理续期",
    MerchantInactive => "merchant_inactive" / "本店暂不能提供拥军优待，请联系退役军人事务部门",
    IdempotencyKeyRequired => "idempotency_key_required" / "收银终端请求缺少 Idempotency-Key",
    IdempotencyKeyReused => "idempotency_key_reused" / "该 Idempotency-Key 已用于另一笔请求",
    TerminalNotFound => "terminal_not_found" / "找不到该收银终端",
    RedemptionNotFound => "redemption_not_found" / "找不到该核销记录",
    AlreadyVoided => "already_voided" / "该核销记录已撤销",
    VoidWindowPassed => "void_window_passed" / "核销超过 24 小时，不能再撤销",
    /// An offline verification older than `YONGJUN_OFFLINE_MAX_AGE_HOURS`.
    OfflineTooOld => "offline_too_old" / "离线核验时间过久，不能再补录",
    // Oversight.
    ComplaintNotFound => "complaint_not_found" / "找不到该投诉",
    ComplaintResolved => "complaint_resolved" / "该投诉已处理",
    NoRecentRedemption => "no_recent_redemption" / "近期在该商户没有核销记录，不能投诉或评价",
    InspectionNotFound => "inspection_not_found" / "找不到该抽查",
    NotInSample => "not_in_sample" / "该商户不在本次抽查名单中",
    ExportNotFound => "export_not_found" / "没有这种导出",
    // Needs, resources and the joint task list.
    NeedNotFound => "need_not_found" / "找不到该需求",
    TaskNotFound => "task_not_found" / "找不到该实事任务",
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl utoipa::PartialSchema for Code {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "Stable, machine-readable snake_case code of an error answer.",
            ))
            .enum_values(Some(Code::ALL.iter().map(|c| c.as_str())))
            .into()
    }
}

impl ToSchema for Code {
    fn name() -> std::borrow::Cow<'static, str> {
        "ErrorCode".into()
    }
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"type": "about:blank", "title": "Not Found", "status": 404,
    "code": "region_not_found", "detail": "找不到该地区 (no region has code 999999)"}))]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub code: Code,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Seconds to wait before trying again (429 answers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Further members particular to a code (RFC 9457 extension members), e.g.
    /// `current_status` of `invalid_transition`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

/// A limit on failed attempts: at most `quota` in `window_secs`, named `policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub policy: &'static str,
    pub quota: i64,
    pub window_secs: u64,
}

#[derive(Debug, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct AppError {
    pub kind: Kind,
    pub code: Code,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub retry_after: Option<u64>,
    /// The limit a 429 met, for the `RateLimit` and `RateLimit-Policy` header fields.
    pub rate_limit: Option<&'static RateLimit>,
    pub extensions: serde_json::Map<String, serde_json::Value>,
    /// What went wrong inside; logged, never shown.
    #[source]
    pub source: Option<anyhow::Error>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(kind: Kind, code: Code, detail: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            rate_limit: None,
            extensions: serde_json::Map::new(),
            source: None,
        }
    }

    /// Adds an extension member to the problem body.
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.extensions.insert(key.to_owned(), value.into());
        self
    }

    pub fn bad_request(code: Code, detail: impl Into<String>) -> Self {
        Self::new(Kind::BadRequest, code, detail)
    }

    pub fn unauthorized(code: Code, detail: impl Into<String>) -> Self {
        Self::new(Kind::Unauthorized, code, detail)
    }

    pub fn forbidden(code: Code, detail: impl Into<String>) -> Self {
        Self::new(Kind::Forbidden, code, detail)
    }

    pub fn not_found(code: Code, detail: impl Into<String>) -> Self {
        Self::new(Kind::NotFound, code, detail)
    }

    pub fn conflict(code: Code, detail: impl Into<String>) -> Self {
        Self::new(Kind::Conflict, code, detail)
    }

    pub fn unprocessable(code: Code, detail: impl Into<String>) -> Self {
        Self::new(Kind::Unprocessable, code, detail)
    }

    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(Kind::PayloadTooLarge, Code::PayloadTooLarge, detail)
    }

    /// 408 `request_timeout`: the body did not arrive in time.
    pub fn request_timeout(detail: impl Into<String>) -> Self {
        Self::new(Kind::RequestTimeout, Code::RequestTimeout, detail)
    }

    /// 422 `validation_failed`, listing each bad field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        let detail = format!("invalid fields: {}", fields.join(", "));
        Self {
            errors,
            ..Self::unprocessable(Code::ValidationFailed, detail)
        }
    }

    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, message)])
    }

    pub fn too_many_attempts(retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs),
            ..Self::new(
                Kind::TooManyRequests,
                Code::TooManyAttempts,
                "too many failed attempts; try again later",
            )
        }
    }

    /// 429 `too_many_attempts`: `limit` is used up; try again when its window has passed.
    pub fn rate_limited(limit: &'static RateLimit) -> Self {
        Self {
            rate_limit: Some(limit),
            ..Self::too_many_attempts(limit.window_secs)
        }
    }

    /// 503: a dependency (database, cache) is out of reach.
    pub fn unavailable(source: impl Into<anyhow::Error>) -> Self {
        Self {
            source: Some(source.into()),
            ..Self::new(
                Kind::Unavailable,
                Code::ServiceUnavailable,
                "the service is temporarily unavailable; please retry shortly",
            )
        }
    }

    /// 500 with nothing internal in the body; the cause chain is logged.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        Self {
            source: Some(source.into()),
            ..Self::new(
                Kind::Internal,
                Code::InternalError,
                "an unexpected error occurred",
            )
        }
    }

    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: "about:blank",
            title: self.kind.title(),
            status: self.kind.status(),
            code: self.code,
            detail: in_chinese(self.code, &self.detail),
            errors: self.errors.clone(),
            retry_after: self.retry_after,
            extensions: self.extensions.clone(),
        }
    }

    /// The code, the detail and each bad field, for a terminal (the command line).
    pub fn describe(&self) -> String {
        let mut text = format!("{}: {}", self.code, self.detail);
        for field in &self.errors {
            text.push_str(&format!("\n  {}: {}", field.field, field.message));
        }
        text
    }
}

/// `detail` as the reader sees it: Chinese first. A detail with no Chinese in it is
/// preceded by the code's Chinese line.
fn in_chinese(code: Code, detail: &str) -> String {
    let chinese = detail
        .chars()
        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    if chinese || detail.is_empty() {
        detail.to_owned()
    } else {
        format!("{} ({detail})", code.zh())
    }
}

/// Database errors: outages are 503, everything else a 500.
impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        if is_connection_error(&error) {
            AppError::unavailable(error)
        } else {
            AppError::internal(error)
        }
    }
}

impl From<PoolUnavailable> for AppError {
    fn from(error: PoolUnavailable) -> Self {
        AppError::unavailable(error)
    }
}

impl From<CacheError> for AppError {
    fn from(error: CacheError) -> Self {
        AppError::unavailable(error)
    }
}

/// A stored value outside its vocabulary is our fault, never a guess.
impl From<CorruptRow> for AppError {
    fn from(error: CorruptRow) -> Self {
        AppError::internal(error)
    }
}

impl From<anyhow::Error> for AppError {
    fn from(error: anyhow::Error) -> Self {
        let outage = error.chain().any(|cause| {
            cause.is::<PoolUnavailable>()
                || cause.is::<CacheError>()
                || cause
                    .downcast_ref::<diesel::result::Error>()
                    .is_some_and(is_connection_error)
        });
        if outage {
            AppError::unavailable(error)
        } else {
            AppError::internal(error)
        }
    }
}

/// Whether a diesel error means the database is out of reach (rather than a bad query).
pub fn is_connection_error(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match error {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
        | Error::DatabaseError(DatabaseErrorKind::UnableToSendCommand, _)
        | Error::BrokenTransactionManager => true,
        Error::DatabaseError(_, info) => {
            let message = info.message();
            // SQLSTATE class 57 (operator intervention) and 08 (connection exception)
            // arrive as `Unknown`; their messages are stable.
            message.starts_with("terminating connection")
                || message.contains("database system is shutting down")
                || message.contains("database system is starting up")
                || message.contains("does not exist") && message.starts_with("database")
        }
        _ => false,
    }
}

/// Whether a diesel error is a unique-constraint violation (a duplicate).
pub fn is_unique_violation(error: &diesel::result::Error) -> bool {
    matches!(
        error,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_json(error: &AppError) -> serde_json::Value {
        serde_json::to_value(error.problem()).unwrap()
    }

    #[test]
    fn not_found_renders_rfc9457() {
        let json = body_json(&AppError::not_found(
            Code::RegionNotFound,
            "no region has code 999999",
        ));
        assert_eq!(
            json,
            serde_json::json!({"type": "about:blank", "title": "Not Found", "status": 404,
                "code": "region_not_found", "detail": "找不到该地区 (no region has code 999999)"})
        );
    }

    #[test]
    fn validation_lists_each_field() {
        let json = body_json(&AppError::validation(vec![
            FieldError::new("username", "must be 3 to 32 characters"),
            FieldError::new("role", "unknown role"),
        ]));
        assert_eq!(
            json,
            serde_json::json!({"type": "about:blank", "title": "Unprocessable Entity",
                "status": 422, "code": "validation_failed",
                "detail": "填写的内容有误，请检查后重试 (invalid fields: username, role)",
                "errors": [{"field": "username", "message": "must be 3 to 32 characters"},
                           {"field": "role", "message": "unknown role"}]})
        );
    }

    #[test]
    fn internal_error_hides_the_cause() {
        let error = AppError::internal(anyhow::anyhow!("password=hunter2 at db.rs:12"));
        let json = body_json(&error);
        assert_eq!(
            json,
            serde_json::json!({"type": "about:blank", "title": "Internal Server Error",
                "status": 500, "code": "internal_error",
                "detail": "系统内部错误，请稍后再试 (an unexpected error occurred)"})
        );
    }

    #[test]
    fn pool_outage_is_503() {
        let error: AppError = anyhow::Error::new(PoolUnavailable("timed out".into()))
            .context("loading user")
            .into();
        assert_eq!(error.status(), 503);
        let json = body_json(&error);
        assert_eq!(json["code"], "service_unavailable");
        assert!(!json["detail"].as_str().unwrap().contains("timed out"));
    }

    #[test]
    fn throttled_carries_retry_after() {
        let error = AppError::too_many_attempts(900);
        assert_eq!(error.status(), 429);
        assert_eq!(body_json(&error)["retry_after"], 900);
    }

    #[test]
    fn closed_connection_is_an_outage() {
        let error = diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ClosedConnection,
            Box::new("closed".to_string()),
        );
        assert_eq!(AppError::from(error).status(), 503);
        assert_eq!(
            AppError::from(diesel::result::Error::NotFound).status(),
            500
        );
    }

    #[test]
    fn codes_are_unique_snake_case_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(
                text.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{text}"
            );
            assert_eq!(Code::parse(text), Some(*code));
        }
        assert_eq!(Code::parse("no_such_code"), None);
    }

    #[test]
    fn every_answer_reads_in_chinese_with_its_code_beside() {
        for code in Code::ALL {
            assert!(
                code.zh()
                    .chars()
                    .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{code} has no Chinese line"
            );
        }
        let english =
            AppError::unprocessable(Code::OfferNotActive, "this merchant has no such offer");
        let problem = english.problem();
        assert_eq!(
            problem.detail,
            "这项优待当前不可用 (this merchant has no such offer)"
        );
        assert_eq!(problem.code, Code::OfferNotActive);
        // A detail already in Chinese is kept as it is.
        let chinese = AppError::conflict(Code::QuotaExhausted, "名额已用完");
        assert_eq!(chinese.problem().detail, "名额已用完");
    }

    #[test]
    fn a_corrupt_row_is_an_internal_error_that_names_it() {
        let corrupt = CorruptRow {
            table: "merchants",
            id: "0193a8f2".into(),
            column: "status",
            value: "zombie".into(),
            expected: "a merchant status",
        };
        let error = AppError::from(corrupt);
        assert_eq!(error.status(), 500);
        let cause = format!("{:#}", error.source.unwrap());
        assert!(cause.contains("merchants row 0193a8f2"), "{cause}");
        assert!(cause.contains("\"zombie\""), "{cause}");
    }
}
