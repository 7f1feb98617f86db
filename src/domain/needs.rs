//! Needs and resources (需求清单 · 资源目录) and the joint task list (军地互办实事"双清单")
//! with its ledger (台账): the vocabularies, the lifecycles of a need and a task, when a
//! task is overdue, and how resources are ranked for a need. Pure rules, no I/O.

use chrono::NaiveDate;

use super::merchant::EmergencyCapability;

vocabulary! {
    /// What a need (or a resource) is about.
    pub enum NeedCategory: "a need category" {
        /// 交通
        Transport => "transport",
        /// 物流
        Logistics => "logistics",
        /// 医疗
        Medical => "medical",
        /// 通信
        Telecom => "telecom",
        /// 教育
        Education => "education",
        /// 就业
        Employment => "employment",
        /// 法律
        Legal => "legal",
        /// 文化
        Culture => "culture",
        /// 物资
        Supplies => "supplies",
        /// 生活
        DailyLife => "daily_life",
        /// 其他
        Other => "other",
    }
}

impl NeedCategory {
    /// The emergency capability (急时战时) that answers a need of this category, if any.
    pub fn emergency_capability(self) -> Option<EmergencyCapability> {
        match self {
            NeedCategory::Transport => Some(EmergencyCapability::Transport),
            NeedCategory::Logistics => Some(EmergencyCapability::Logistics),
            NeedCategory::Medical => Some(EmergencyCapability::Medical),
            NeedCategory::Telecom => Some(EmergencyCapability::Telecom),
            NeedCategory::Supplies => Some(EmergencyCapability::Supplies),
            _ => None,
        }
    }

    /// The Chinese name, for the ledger.
    pub fn label(self) -> &'static str {
        match self {
            NeedCategory::Transport => "交通",
            NeedCategory::Logistics => "物流",
            NeedCategory::Medical => "医疗",
            NeedCategory::Telecom => "通信",
            NeedCategory::Education => "教育",
            NeedCategory::Employment => "就业",
            NeedCategory::Legal => "法律",
            NeedCategory::Culture => "文化",
            NeedCategory::Supplies => "物资",
            NeedCategory::DailyLife => "生活",
            NeedCategory::Other => "其他",
        }
    }
}

vocabulary! {
    /// How soon a need must be met.
    pub enum Urgency: "an urgency" {
        Routine => "routine",
        Urgent => "urgent",
        Emergency => "emergency",
    }
}

vocabulary! {
    /// Where a need stands.
    pub enum NeedStatus: "a need status" {
        Open => "open",
        /// A task has taken it up.
        Matched => "matched",
        InProgress => "in_progress",
        Done => "done",
        /// Given up, with a reason.
        Closed => "closed",
    }
}

vocabulary! {
    /// When a resource is offered.
    pub enum ResourceMode: "a resource mode" {
        /// 平时
        Peacetime => "peacetime",
        /// 急时战时
        Emergency => "emergency",
    }
}

vocabulary! {
    /// Which of the two lists (双清单) a task is on.
    pub enum TaskDirection: "a task direction" {
        /// What the locality does for the troops (地方为部队办实事).
        LocalityForTroops => "locality_for_troops",
        /// What the troops do for the locality (部队为地方办实事).
        TroopsForLocality => "troops_for_locality",
    }
}

vocabulary! {
    /// Where a task stands.
    pub enum TaskStatus: "a task status" {
        Open => "open",
        InProgress => "in_progress",
        /// Completed, with its evidence.
        Done => "done",
        /// Given up, with a reason.
        Closed => "closed",
    }
}

impl NeedStatus {
    pub fn label(self) -> &'static str {
        match self {
            NeedStatus::Open => "待对接",
            NeedStatus::Matched => "已对接",
            NeedStatus::InProgress => "办理中",
            NeedStatus::Done => "已办结",
            NeedStatus::Closed => "已关闭",
        }
    }

    /// Whether nothing more happens to it.
    pub fn is_final(self) -> bool {
        matches!(self, NeedStatus::Done | NeedStatus::Closed)
    }
}

impl TaskStatus {
    pub fn label(self) -> &'static str {
        match self {
            TaskStatus::Open => "未开始",
            TaskStatus::InProgress => "推进中",
            TaskStatus::Done => "已完成",
            TaskStatus::Closed => "已关闭",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, TaskStatus::Done | TaskStatus::Closed)
    }
}

impl TaskDirection {
    pub fn label(self) -> &'static str {
        match self {
            TaskDirection::LocalityForTroops => "地方为部队办实事",
            TaskDirection::TroopsForLocality => "部队为地方办实事",
        }
    }
}

/// A status change the lifecycle does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot go from {from} to {to}")]
pub struct InvalidStatusChange {
    pub from: &'static str,
    pub to: &'static str,
}

/// A need's lifecycle: `open` → `matched` → `in_progress` → `done`, and `closed` (with a
/// reason) from any status not final. Steps may be skipped forwards (a need met at once
/// goes from `open` to `done`), never back.
pub fn need_transition(
    from: NeedStatus,
    to: NeedStatus,
) -> Result<NeedStatus, InvalidStatusChange> {
    use NeedStatus as S;
    let rank = |s: NeedStatus| match s {
        S::Open => 0,
        S::Matched => 1,
        S::InProgress => 2,
        S::Done | S::Closed => 3,
    };
    if from.is_final() || rank(to) <= rank(from) {
        return Err(InvalidStatusChange {
            from: from.as_str(),
            to: to.as_str(),
        });
    }
    Ok(to)
}

/// A task's lifecycle: `open` → `in_progress` → `done`; `closed` (with a reason) from
/// either status not final. Completion (`done`) needs evidence, which the caller checks.
pub fn task_transition(
    from: TaskStatus,
    to: TaskStatus,
) -> Result<TaskStatus, InvalidStatusChange> {
    use TaskStatus as S;
    match (from, to) {
        (S::Open, S::InProgress) | (S::Open | S::InProgress, S::Done | S::Closed) => Ok(to),
        _ => Err(InvalidStatusChange {
            from: from.as_str(),
            to: to.as_str(),
        }),
    }
}

/// The need a task's status moves its need to, when it moves it forwards.
pub fn need_status_for_task(task: TaskStatus) -> Option<NeedStatus> {
    match task {
        TaskStatus::Open => Some(NeedStatus::Matched),
        TaskStatus::InProgress => Some(NeedStatus::InProgress),
        TaskStatus::Done => Some(NeedStatus::Done),
        TaskStatus::Closed => None,
    }
}

/// Whether a task is overdue on `today`: not finished and its deadline (the last day
/// allowed) already passed. A task finished after its deadline is late, not overdue.
pub fn is_overdue(status: TaskStatus, deadline: NaiveDate, today: NaiveDate) -> bool {
    !status.is_final() && deadline < today
}

/// Whether a task done on `done_on` met its deadline.
pub fn done_in_time(deadline: NaiveDate, done_on: NaiveDate) -> bool {
    done_on <= deadline
}

/// Whether a resource is available on `today` (its window's ends included).
pub fn available_on(from: Option<NaiveDate>, until: Option<NaiveDate>, today: NaiveDate) -> bool {
    from.is_none_or(|f| f <= today) && until.is_none_or(|u| today <= u)
}

/// How well a resource fits a need, higher first: one in the need's own region before
/// one serving a wider region, an emergency resource first for an emergency need, then
/// the one available longest (open-ended first).
pub fn suggestion_rank(
    need_region: &str,
    need_urgency: Urgency,
    resource_region: &str,
    resource_mode: ResourceMode,
    available_until: Option<NaiveDate>,
) -> (bool, bool, usize, NaiveDate) {
    let emergency_fit =
        need_urgency != Urgency::Emergency || resource_mode == ResourceMode::Emergency;
    let same_region = need_region == resource_region;
    (
        emergency_fit,
        same_region,
        resource_region.trim_end_matches("00").len(),
        available_until.unwrap_or(NaiveDate::MAX),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_need_moves_forwards_only() {
        use NeedStatus as S;
        assert_eq!(need_transition(S::Open, S::Matched), Ok(S::Matched));
        assert_eq!(
            need_transition(S::Matched, S::InProgress),
            Ok(S::InProgress)
        );
        assert_eq!(need_transition(S::InProgress, S::Done), Ok(S::Done));
        assert_eq!(need_transition(S::Open, S::Done), Ok(S::Done));
        assert_eq!(need_transition(S::Matched, S::Closed), Ok(S::Closed));
        assert!(need_transition(S::Matched, S::Open).is_err());
        assert!(need_transition(S::Open, S::Open).is_err());
        assert!(need_transition(S::Done, S::Closed).is_err());
        assert!(need_transition(S::Closed, S::Done).is_err());
    }

    #[test]
    fn a_task_is_started_then_done_or_closed() {
        use TaskStatus as S;
        assert_eq!(task_transition(S::Open, S::InProgress), Ok(S::InProgress));
        assert_eq!(task_transition(S::InProgress, S::Done), Ok(S::Done));
        assert_eq!(task_transition(S::Open, S::Closed), Ok(S::Closed));
        assert!(task_transition(S::InProgress, S::Open).is_err());
        assert!(task_transition(S::InProgress, S::InProgress).is_err());
        assert!(task_transition(S::Done, S::Closed).is_err());
        assert!(task_transition(S::Closed, S::InProgress).is_err());
    }

    #[test]
    fn overdue_from_the_day_after_the_deadline() {
        let deadline = day("2026-12-31");
        assert!(!is_overdue(TaskStatus::Open, deadline, day("2026-12-31")));
        assert!(is_overdue(TaskStatus::Open, deadline, day("2027-01-01")));
        assert!(is_overdue(
            TaskStatus::InProgress,
            deadline,
            day("2027-03-01")
        ));
        assert!(!is_overdue(TaskStatus::Done, deadline, day("2027-01-01")));
        assert!(!is_overdue(TaskStatus::Closed, deadline, day("2027-01-01")));
        assert!(done_in_time(deadline, deadline));
        assert!(!done_in_time(deadline, day("2027-01-01")));
    }

    #[test]
    fn availability_includes_both_ends() {
        let today = day("2026-12-03");
        assert!(available_on(None, None, today));
        assert!(available_on(Some(today), Some(today), today));
        assert!(!available_on(Some(day("2026-12-04")), None, today));
        assert!(!available_on(None, Some(day("2026-12-02")), today));
    }

    #[test]
    fn suggestions_prefer_fit_then_nearness_then_length() {
        let rank = |region, mode, until| {
            suggestion_rank("140521", Urgency::Emergency, region, mode, until)
        };
        let own = rank("140521", ResourceMode::Emergency, None);
        let city = rank("140500", ResourceMode::Emergency, None);
        let peacetime = rank("140521", ResourceMode::Peacetime, None);
        let short = rank("140521", ResourceMode::Emergency, Some(day("2027-01-01")));
        assert!(own > city && city > peacetime && own > short && short > peacetime);
    }

    #[test]
    fn categories_meet_the_emergency_capabilities() {
        assert_eq!(
            NeedCategory::Medical.emergency_capability(),
            Some(EmergencyCapability::Medical)
        );
        assert_eq!(NeedCategory::Legal.emergency_capability(), None);
        for c in NeedCategory::ALL {
            assert!(!c.label().is_empty());
        }
    }
}
