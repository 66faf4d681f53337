//! Which days a report covers: whole days from `from` to `to` in the shop's time zone, cut into
//! the instants each day starts and ends (a day is 23 or 25 hours when the clocks change), so a
//! sale at 23:30 local time counts on its own day whatever the offset to UTC.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::{Arg, Stmt};

/// The longest range a report covers: a year and a day, so a leap year fits.
pub const MAX_DAYS: i64 = 366;

/// The days a report covers, `from` to `to` (both included), in the time zone `zone` (an IANA
/// name such as `Europe/Lisbon`; the app sends the computer's own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct ReportRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub zone: String,
}

impl ReportRange {
    /// The `days` days up to and including today (by `now`) in `zone`.
    pub fn last_days(days: i64, zone: &str, now: DateTime<Utc>) -> Result<ReportRange> {
        let tz = parse_zone(zone)?;
        let today = now.with_timezone(&tz).date_naive();
        Ok(ReportRange {
            from: today - TimeDelta::days(days.max(1) - 1),
            to: today,
            zone: zone.to_string(),
        })
    }
}

/// The computer's time zone: `TZ` when it names a zone, else the system's setting, else UTC.
pub fn local_zone() -> String {
    std::env::var("TZ")
        .ok()
        .map(|tz| tz.trim_start_matches(':').to_string())
        .filter(|tz| tz.parse::<Tz>().is_ok())
        .or_else(|| iana_time_zone::get_timezone().ok())
        .filter(|tz| tz.parse::<Tz>().is_ok())
        .unwrap_or_else(|| "UTC".to_string())
}

/// A checked range, cut into days.
#[derive(Debug, Clone)]
pub struct Days {
    pub range: ReportRange,
    /// Each day, with the instant it starts; `ends` is when the last one ends.
    pub days: Vec<(NaiveDate, DateTime<Utc>)>,
    pub ends: DateTime<Utc>,
}

impl Days {
    pub fn of(range: &ReportRange) -> Result<Days> {
        let tz = parse_zone(&range.zone)?;
        let span = (range.to - range.from).num_days() + 1;
        if span < 1 {
            return Err(Error::validation("to", "must not be before from"));
        }
        if span > MAX_DAYS {
            return Err(Error::validation(
                "to",
                format!("a report covers at most {MAX_DAYS} days"),
            ));
        }
        let days = range
            .from
            .iter_days()
            .take(span as usize)
            .map(|d| Ok((d, day_start(tz, d)?)))
            .collect::<Result<Vec<_>>>()?;
        let ends = day_start(tz, range.to + TimeDelta::days(1))?;
        Ok(Days {
            range: range.clone(),
            days,
            ends,
        })
    }

    pub fn starts(&self) -> DateTime<Utc> {
        self.days[0].1
    }

    /// A `WITH` entry `days (bucket, starts, ends)` with one row per day, its values bound on
    /// `stmt`: reports join it to count each row on the day it happened (one statement; each
    /// day's rows come from an index range).
    pub fn cte(&self, stmt: &mut Stmt) -> String {
        let rows = self.days.iter().enumerate().map(|(i, (_, starts))| {
            let ends = self.days.get(i + 1).map_or(self.ends, |d| d.1);
            vec![Arg::Int(i as i64), Arg::Time(*starts), Arg::Time(ends)]
        });
        format!(
            "days (bucket, starts, ends) AS (VALUES {})",
            stmt.values(rows)
        )
    }

    /// The day of a bucket number the `days` rows gave.
    pub fn date(&self, bucket: i64) -> Result<NaiveDate> {
        usize::try_from(bucket)
            .ok()
            .and_then(|b| self.days.get(b))
            .map(|d| d.0)
            .ok_or_else(|| Error::Internal(format!("no day {bucket} in the report's range")))
    }
}

/// The Monday of the ISO week `date` is in (weeks start on Monday).
pub fn week_of(date: NaiveDate) -> NaiveDate {
    date - TimeDelta::days(date.weekday().num_days_from_monday() as i64)
}

fn parse_zone(zone: &str) -> Result<Tz> {
    zone.parse::<Tz>().map_err(|_| {
        Error::validation(
            "zone",
            format!("{zone:?} is not a time zone (use a name such as Europe/Lisbon or UTC)"),
        )
    })
}

/// When `date` starts in `tz`: its midnight, or where a clock change skips midnight, the first
/// moment of the day that exists.
fn day_start(tz: Tz, date: NaiveDate) -> Result<DateTime<Utc>> {
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    (0..=24 * 4)
        .map(|quarter| midnight + TimeDelta::minutes(15 * quarter))
        .find_map(|t| tz.from_local_datetime(&t).earliest())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| Error::Internal(format!("{date} has no start in {tz}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(from: &str, to: &str, zone: &str) -> ReportRange {
        ReportRange {
            from: from.parse().unwrap(),
            to: to.parse().unwrap(),
            zone: zone.into(),
        }
    }

    #[test]
    fn days_start_at_local_midnight_across_a_clock_change() {
        // Lisbon moves from UTC+1 to UTC+0 on 25 October 2026: that day has 25 hours.
        let d = Days::of(&range("2026-10-24", "2026-10-26", "Europe/Lisbon")).unwrap();
        let starts: Vec<String> = d.days.iter().map(|(_, s)| s.to_rfc3339()).collect();
        assert_eq!(
            starts,
            [
                "2026-10-23T23:00:00+00:00",
                "2026-10-24T23:00:00+00:00",
                "2026-10-26T00:00:00+00:00"
            ]
        );
        assert_eq!(d.ends.to_rfc3339(), "2026-10-27T00:00:00+00:00");
    }

    #[test]
    fn a_day_without_a_midnight_starts_when_the_clock_resumes() {
        // Santiago de Chile springs forward at midnight: 6 September 2026 starts at 01:00 (UTC−3).
        let d = Days::of(&range("2026-09-06", "2026-09-06", "America/Santiago")).unwrap();
        assert_eq!(d.days[0].1.to_rfc3339(), "2026-09-06T04:00:00+00:00");
    }

    #[test]
    fn bad_ranges_are_refused_with_the_field() {
        for (r, field) in [
            (range("2026-01-02", "2026-01-01", "UTC"), "to"),
            (range("2025-01-01", "2026-01-02", "UTC"), "to"),
            (range("2026-01-01", "2026-01-01", "Mars/Olympus"), "zone"),
        ] {
            match Days::of(&r) {
                Err(Error::Validation(errors)) => assert_eq!(errors[0].field, field),
                other => panic!("{r:?}: {other:?}"),
            }
        }
        assert!(Days::of(&range("2024-01-01", "2024-12-31", "UTC")).is_ok());
    }

    #[test]
    fn weeks_start_on_monday() {
        let sunday: NaiveDate = "2026-11-29".parse().unwrap();
        assert_eq!(week_of(sunday).to_string(), "2026-11-23");
        assert_eq!(
            week_of("2026-11-23".parse().unwrap()).to_string(),
            "2026-11-23"
        );
    }
}
