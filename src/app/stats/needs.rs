//! The figures of the needs list and the joint task list (需求清单 · 双清单): needs
//! posted and done between the dates, the median time from posting to done, the share
//! done by the deadline, and the tasks overdue today; in all, by region and by category.
//!
//! A need's deadline is the 完成时限 of the task(s) that took it up (the latest, when
//! several did; closed tasks promised nothing), or, before any task, the day the unit
//! wanted it by. A need done without either has no deadline and is left out of the share.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::needs::{NeedFact, NeedId, TaskFact};
use crate::domain::needs::{done_in_time, is_overdue, NeedStatus, TaskStatus};
use crate::domain::to_china;

/// A region's or a category's figures (the totals have the same, in `NeedFigures`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NeedGroup {
    /// The region code, or the need category.
    pub key: String,
    /// The region's name, for region keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Needs posted between the dates.
    pub opened: i64,
    /// Needs done between the dates.
    pub done: i64,
    /// Of `done`: the median time from posting to done, in days (one decimal); null
    /// when none was done.
    pub median_days_to_done: Option<f64>,
    /// Of `done`: those that had a deadline.
    pub done_with_deadline: i64,
    /// Of `done_with_deadline`: those done on or before it.
    pub done_by_deadline: i64,
    /// `done_by_deadline` as a share of `done_with_deadline`, in percent (one decimal);
    /// null when no need done had a deadline.
    pub done_by_deadline_percent: Option<f64>,
    /// Tasks not finished whose deadline has passed, today (not limited to the dates).
    pub overdue: i64,
}

/// Needs and tasks of the region subtree.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct NeedFigures {
    pub opened: i64,
    pub done: i64,
    pub median_days_to_done: Option<f64>,
    pub done_with_deadline: i64,
    pub done_by_deadline: i64,
    pub done_by_deadline_percent: Option<f64>,
    /// Every overdue task, of both lists (the tasks the troops do for the locality too).
    pub overdue: i64,
    /// By the need's region; a task without a need by its own region.
    pub by_region: Vec<NeedGroup>,
    /// By the need's category; tasks without a need (the troops' for the locality) have
    /// no category and are counted in `overdue` and `by_region` only.
    pub by_category: Vec<NeedGroup>,
}

/// The China days `[from, to]` as stored UTC instants `[since, until)`.
pub struct Window {
    pub since: NaiveDateTime,
    pub until: NaiveDateTime,
}

impl Window {
    fn holds(&self, at: NaiveDateTime) -> bool {
        self.since <= at && at < self.until
    }
}

#[derive(Default)]
struct Acc {
    opened: i64,
    days: Vec<f64>,
    with_deadline: i64,
    by_deadline: i64,
    overdue: i64,
}

impl Acc {
    fn group(mut self, key: String, name: Option<String>) -> NeedGroup {
        NeedGroup {
            key,
            name,
            opened: self.opened,
            done: self.days.len() as i64,
            median_days_to_done: median(&mut self.days),
            done_with_deadline: self.with_deadline,
            done_by_deadline: self.by_deadline,
            done_by_deadline_percent: percent(self.by_deadline, self.with_deadline),
            overdue: self.overdue,
        }
    }
}

/// The middle value (the mean of the two middle ones for an even count), one decimal.
fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    let m = if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    };
    Some((m * 10.0).round() / 10.0)
}

fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// Counts `needs` and `tasks` (as `db::needs::figure_needs` and `figure_tasks` read them)
/// over `window`, with the overdue tasks of `today`; `names` names the regions.
pub fn tally(
    needs: &[NeedFact],
    tasks: &[TaskFact],
    window: &Window,
    today: NaiveDate,
    names: &HashMap<String, String>,
) -> NeedFigures {
    let mut deadlines: HashMap<NeedId, NaiveDate> = HashMap::new();
    for task in tasks {
        if let Some(need) = task.need_id {
            let d = deadlines.entry(need).or_insert(task.deadline);
            *d = (*d).max(task.deadline);
        }
    }
    let mut total = Acc::default();
    let mut regions: BTreeMap<String, Acc> = BTreeMap::new();
    let mut categories: BTreeMap<String, Acc> = BTreeMap::new();
    let mut need_of: HashMap<NeedId, (&str, &str)> = HashMap::new();
    for need in needs {
        need_of.insert(need.id, (&need.region_code, &need.category));
        let opened = window.holds(need.created_at);
        let done = (need.status == NeedStatus::Done.as_str())
            .then_some(need.done_at)
            .flatten()
            .filter(|at| window.holds(*at));
        let deadline = deadlines.get(&need.id).copied().or(need.wanted_by);
        let add = |acc: &mut Acc| {
            acc.opened += i64::from(opened);
            if let Some(done_at) = done {
                acc.days
                    .push((done_at - need.created_at).num_seconds() as f64 / 86_400.0);
                if let Some(deadline) = deadline {
                    acc.with_deadline += 1;
                    acc.by_deadline += i64::from(done_in_time(deadline, to_china(done_at).date()));
                }
            }
        };
        add(&mut total);
        add(regions.entry(need.region_code.clone()).or_default());
        add(categories.entry(need.category.clone()).or_default());
    }
    for task in tasks {
        let status = TaskStatus::parse(&task.status).unwrap_or(TaskStatus::Done);
        if !is_overdue(status, task.deadline, today) {
            continue;
        }
        total.overdue += 1;
        let (region, category) = match task.need_id.and_then(|n| need_of.get(&n)) {
            Some((region, category)) => (region.to_string(), Some(category.to_string())),
            None => (task.region_code.clone(), None),
        };
        regions.entry(region).or_default().overdue += 1;
        if let Some(category) = category {
            categories.entry(category).or_default().overdue += 1;
        }
    }
    let ranked = |map: BTreeMap<String, Acc>, named: bool| {
        let mut out: Vec<NeedGroup> = map
            .into_iter()
            .map(|(key, acc)| {
                let name = named.then(|| names.get(&key).cloned()).flatten();
                acc.group(key, name)
            })
            .collect();
        out.sort_by(|a, b| {
            (b.opened + b.done + b.overdue)
                .cmp(&(a.opened + a.done + a.overdue))
                .then_with(|| a.key.cmp(&b.key))
        });
        out
    };
    let t = total.group(String::new(), None);
    NeedFigures {
        opened: t.opened,
        done: t.done,
        median_days_to_done: t.median_days_to_done,
        done_with_deadline: t.done_with_deadline,
        done_by_deadline: t.done_by_deadline,
        done_by_deadline_percent: t.done_by_deadline_percent,
        overdue: t.overdue,
        by_region: ranked(regions, true),
        by_category: ranked(categories, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(china: &str) -> NaiveDateTime {
        china.parse::<NaiveDateTime>().unwrap() - chrono::Duration::hours(8)
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn need(n: u128, region: &str, status: &str, posted: &str, done: Option<&str>) -> NeedFact {
        NeedFact {
            id: NeedId(uuid::Uuid::from_u128(n)),
            category: "medical".into(),
            region_code: region.into(),
            wanted_by: Some(day("2027-01-31")),
            status: status.into(),
            created_at: at(posted),
            done_at: done.map(at),
        }
    }

    fn task(need: Option<u128>, deadline: &str, status: &str) -> TaskFact {
        TaskFact {
            need_id: need.map(|n| NeedId(uuid::Uuid::from_u128(n))),
            region_code: "440304".into(),
            deadline: day(deadline),
            status: status.into(),
        }
    }

    #[test]
    fn medians_and_shares_by_the_deadline_of_the_task_or_the_wanted_day() {
        let window = Window {
            since: at("2027-01-01T00:00:00"),
            until: at("2027-04-01T00:00:00"),
        };
        let needs = [
            // Done in 2 days, by its task's deadline (the last day, China time).
            need(
                1,
                "440303",
                "done",
                "2027-01-01T09:00:00",
                Some("2027-01-03T09:00:00"),
            ),
            // Done in 4 days, after the task's deadline, though before the wanted day.
            need(
                2,
                "440303",
                "done",
                "2027-01-10T09:00:00",
                Some("2027-01-14T09:00:00"),
            ),
            // Done in 9 days, without a task: the wanted day (31 January) is its deadline.
            need(
                3,
                "440304",
                "done",
                "2027-01-20T09:00:00",
                Some("2027-01-29T09:00:00"),
            ),
            // Posted before the dates, done within them: done, not opened.
            need(
                4,
                "440304",
                "done",
                "2026-12-20T09:00:00",
                Some("2027-02-10T09:00:00"),
            ),
            // Still open, posted within: opened; its task is overdue.
            need(5, "440303", "in_progress", "2027-02-01T09:00:00", None),
        ];
        let tasks = [
            task(Some(1), "2027-01-03", "done"),
            task(Some(2), "2027-01-12", "done"),
            // A closed task is not read (`figure_tasks`); need 4's deadline is its wanted day.
            task(Some(5), "2027-02-28", "in_progress"),
            // The troops' task for the locality, overdue: no category.
            task(None, "2027-02-01", "open"),
            // Due today: not yet overdue.
            task(None, "2027-03-01", "open"),
        ];
        let names = HashMap::from([("440303".to_owned(), "罗湖区".to_owned())]);
        let f = tally(&needs, &tasks, &window, day("2027-03-01"), &names);
        assert_eq!((f.opened, f.done), (4, 4));
        // 2, 4, 9 and 52 days: the median is (4 + 9) / 2.
        assert_eq!(f.median_days_to_done, Some(6.5));
        assert_eq!((f.done_with_deadline, f.done_by_deadline), (4, 2));
        assert_eq!(f.done_by_deadline_percent, Some(50.0));
        assert_eq!(f.overdue, 2);
        let luohu = f.by_region.iter().find(|g| g.key == "440303").unwrap();
        assert_eq!(luohu.name.as_deref(), Some("罗湖区"));
        assert_eq!((luohu.opened, luohu.done, luohu.overdue), (3, 2, 1));
        assert_eq!(luohu.median_days_to_done, Some(3.0));
        let futian = f.by_region.iter().find(|g| g.key == "440304").unwrap();
        assert_eq!((futian.opened, futian.done, futian.overdue), (1, 2, 1));
        assert_eq!(futian.done_by_deadline_percent, Some(50.0));
        assert_eq!(f.by_category.len(), 1);
        assert_eq!(f.by_category[0].key, "medical");
        assert_eq!(
            f.by_category[0].overdue, 1,
            "the need-less task has no category"
        );
        assert_eq!(f.by_category[0].name, None);
    }

    #[test]
    fn nothing_done_has_no_median_and_no_share() {
        let window = Window {
            since: at("2027-01-01T00:00:00"),
            until: at("2027-01-02T00:00:00"),
        };
        let f = tally(&[], &[], &window, day("2027-01-01"), &HashMap::new());
        assert_eq!(f, NeedFigures::default());
        let mut odd = vec![3.0, 1.0, 2.0];
        assert_eq!(median(&mut odd), Some(2.0));
        assert_eq!(percent(1, 3), Some(33.3));
    }
}
