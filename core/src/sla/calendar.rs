//! Business-time arithmetic: when does a target of N business minutes fall due, and
//! how much business time lies between two instants.
//!
//! A calendar is a timezone, open ranges per weekday in local wall-clock time and
//! holiday dates. Time is counted in real seconds, so a range across a DST change
//! lasts what the clock on the wall says it lasted in the world: 00:00–06:00 on the
//! night clocks go forward is five hours, on the night they go back seven. A range
//! bound that does not exist locally (inside the spring-forward gap) is the moment the
//! gap ends; a bound that exists twice (the repeated fall-back hour) is its first
//! occurrence for a start and its second for an end, so the range covers all of it.
//!
//! Everything is pure and allocation-free per call, so the sweeper and the
//! recomputation of whole organisations can afford to call it for every ticket.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

const DAY: i64 = 86_400;
/// How far `add` walks before it gives up: a calendar whose every open day is a
/// holiday for this long will never reach a target.
const MAX_DAYS: i64 = 366 * 20;

/// One open range of a weekday: seconds since local midnight, `start < end <= 86400`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub start: u32,
    pub end: u32,
}

/// Why a calendar definition was refused; `field` names the offending part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Calendar {
    tz: Tz,
    /// Monday first; each day's ranges sorted and disjoint.
    week: [Vec<Range>; 7],
    holidays: BTreeSet<NaiveDate>,
    /// Open every second of every day: arithmetic is plain addition.
    always: bool,
}

pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Parses "HH:MM" (00:00 to 24:00) into seconds since midnight.
pub fn parse_clock(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(DAY as u32),
        (0..=23, 0..=59) => Some(h * 3600 + m * 60),
        _ => None,
    }
}

pub fn format_clock(secs: u32) -> String {
    format!("{:02}:{:02}", secs / 3600, secs % 3600 / 60)
}

impl Calendar {
    /// Open around the clock in UTC, no holidays: calendar-minute targets.
    pub fn always() -> Self {
        let full = vec![Range { start: 0, end: DAY as u32 }];
        Calendar { tz: Tz::UTC, week: std::array::from_fn(|_| full.clone()), holidays: BTreeSet::new(), always: true }
    }

    /// Validates and builds a calendar. `week` is Monday first, each day a list of
    /// (start, end) in seconds since local midnight.
    pub fn new(timezone: &str, week: [Vec<(u32, u32)>; 7], holidays: Vec<NaiveDate>) -> Result<Self, CalendarError> {
        let tz: Tz = timezone.parse().map_err(|_| CalendarError {
            field: "timezone".into(),
            message: format!("{timezone:?} is not an IANA timezone name (e.g. Europe/Berlin)"),
        })?;
        let mut days: [Vec<Range>; 7] = Default::default();
        for (i, ranges) in week.into_iter().enumerate() {
            let field = format!("hours.{}", WEEKDAYS[i]);
            let mut sorted: Vec<Range> = ranges.into_iter().map(|(start, end)| Range { start, end }).collect();
            sorted.sort_by_key(|r| r.start);
            for r in &sorted {
                if r.end > DAY as u32 || r.start >= r.end {
                    return Err(CalendarError {
                        field,
                        message: format!(
                            "{}-{} is not a range: the start must come before the end, within 00:00-24:00",
                            format_clock(r.start),
                            format_clock(r.end)
                        ),
                    });
                }
            }
            for pair in sorted.windows(2) {
                if pair[1].start < pair[0].end {
                    return Err(CalendarError {
                        field,
                        message: format!(
                            "{}-{} overlaps {}-{}",
                            format_clock(pair[0].start),
                            format_clock(pair[0].end),
                            format_clock(pair[1].start),
                            format_clock(pair[1].end)
                        ),
                    });
                }
            }
            days[i] = sorted;
        }
        if days.iter().all(Vec::is_empty) {
            return Err(CalendarError {
                field: "hours".into(),
                message: "no open hours on any day: a business-time target could never fall due".into(),
            });
        }
        Ok(Calendar { tz, week: days, holidays: holidays.into_iter().collect(), always: false })
    }

    /// Around the clock (calendar minutes).
    pub fn is_always(&self) -> bool {
        self.always
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// Business seconds in `[from, to)`; 0 when `to <= from`.
    pub fn business_seconds(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if to <= from {
            return 0;
        }
        if self.always {
            return (to - from).num_seconds();
        }
        let mut total = 0;
        let mut date = self.local_date(from);
        let last = self.local_date(to);
        let mut carry = None;
        while date <= last {
            self.for_each_open(date, &mut carry, |a, b| {
                let (a, b) = (a.max(from), b.min(to));
                if a < b {
                    total += (b - a).num_seconds();
                }
                true
            });
            let Some(next) = date.succ_opt() else { break };
            date = next;
        }
        total
    }

    /// Whole business minutes in `[from, to)`.
    pub fn business_minutes(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        self.business_seconds(from, to) / 60
    }

    /// The earliest instant `t` with `business_seconds(from, t) == secs`: for a positive
    /// `secs` the end of the last business second needed. `None` when the calendar never
    /// opens again within twenty years (holidays cover every open day).
    pub fn add_seconds(&self, from: DateTime<Utc>, secs: i64) -> Option<DateTime<Utc>> {
        if secs <= 0 {
            return Some(from);
        }
        if self.always {
            return Some(from + Duration::seconds(secs));
        }
        let mut left = secs;
        let mut date = self.local_date(from);
        let mut result = None;
        let mut carry = None;
        for _ in 0..MAX_DAYS {
            self.for_each_open(date, &mut carry, |a, b| {
                let a = a.max(from);
                if a >= b {
                    return true;
                }
                let open = (b - a).num_seconds();
                if open >= left {
                    result = Some(a + Duration::seconds(left));
                    return false;
                }
                left -= open;
                true
            });
            if result.is_some() {
                return result;
            }
            date = date.succ_opt()?;
        }
        None
    }

    /// `add_seconds` for whole minutes.
    pub fn add_minutes(&self, from: DateTime<Utc>, minutes: i64) -> Option<DateTime<Utc>> {
        self.add_seconds(from, minutes.checked_mul(60)?)
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// Calls `f(start, end)` with the UTC span of each open range of local `date`, in
    /// order, until `f` returns false. Holidays have none.
    /// `carry` holds the offset at the following midnight, computed here for the next
    /// call: walking day by day, each midnight is looked up once, not twice.
    fn for_each_open(
        &self,
        date: NaiveDate,
        carry: &mut Option<(NaiveDate, Option<Duration>)>,
        mut f: impl FnMut(DateTime<Utc>, DateTime<Utc>) -> bool,
    ) {
        let ranges = &self.week[date.weekday().num_days_from_monday() as usize];
        if ranges.is_empty() || self.holidays.contains(&date) {
            return;
        }
        let midnight = date.and_time(NaiveTime::MIN);
        // Most days have one UTC offset from midnight to midnight: then every bound is
        // plain arithmetic. Days with a transition resolve each bound on its own.
        let start_offset = match *carry {
            Some((d, offset)) if d == date => offset,
            _ => self.offset_at(midnight),
        };
        let next = midnight + Duration::days(1);
        let next_offset = self.offset_at(next);
        *carry = date.succ_opt().map(|d| (d, next_offset));
        let uniform = start_offset.is_some() && start_offset == next_offset;
        for r in ranges {
            let (a, b) = match (uniform, start_offset) {
                (true, Some(off)) => (
                    (midnight + Duration::seconds(r.start as i64)).and_utc() - off,
                    (midnight + Duration::seconds(r.end as i64)).and_utc() - off,
                ),
                _ => (
                    self.resolve(midnight + Duration::seconds(r.start as i64), true),
                    self.resolve(midnight + Duration::seconds(r.end as i64), false),
                ),
            };
            if a < b && !f(a, b) {
                return;
            }
        }
    }

    /// The UTC offset at a local time that exists exactly once.
    fn offset_at(&self, local: NaiveDateTime) -> Option<Duration> {
        match self.tz.from_local_datetime(&local) {
            LocalResult::Single(t) => Some(local - t.naive_utc()),
            _ => None,
        }
    }

    /// A local wall-clock time as an instant: inside a gap, the end of the gap; when
    /// repeated, the first occurrence for a range start and the second for an end.
    fn resolve(&self, local: NaiveDateTime, start: bool) -> DateTime<Utc> {
        match self.tz.from_local_datetime(&local) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(a, b) => {
                let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
                if start { a.min(b) } else { a.max(b) }
            }
            LocalResult::None => {
                // The first instant whose local time is at or after `local`. Offsets lie
                // within -12 h..+14 h, so it is within these bounds; local time only
                // jumps forward across a gap, so the search is monotone.
                let base = local.and_utc().timestamp();
                let (mut lo, mut hi) = (base - 15 * 3600, base + 13 * 3600);
                // Out of chrono's range only at its very ends; clamp rather than panic.
                let at = |s: i64| DateTime::from_timestamp(s, 0).unwrap_or(DateTime::<Utc>::MAX_UTC);
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if at(mid).with_timezone(&self.tz).naive_local() >= local {
                        hi = mid;
                    } else {
                        lo = mid;
                    }
                }
                at(hi)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn hours(ranges: &[(&str, &str)]) -> Vec<(u32, u32)> {
        ranges.iter().map(|(a, b)| (parse_clock(a).unwrap(), parse_clock(b).unwrap())).collect()
    }

    /// Mon-Fri 09:00-17:00 in `tz`.
    fn office(tz: &str, holidays: &[&str]) -> Calendar {
        let day = hours(&[("09:00", "17:00")]);
        let week = std::array::from_fn(|i| if i < 5 { day.clone() } else { Vec::new() });
        Calendar::new(tz, week, holidays.iter().map(|d| d.parse().unwrap()).collect()).unwrap()
    }

    #[test]
    fn a_target_that_runs_past_closing_time_continues_the_next_morning() {
        let cal = office("Europe/Berlin", &[]);
        // Monday 2026-11-23 16:00 Berlin (15:00 UTC) + 120 min: 60 today, 60 tomorrow from 09:00.
        let due = cal.add_minutes(utc("2026-11-23T15:00:00Z"), 120).unwrap();
        assert_eq!(due, utc("2026-11-24T09:00:00Z")); // 10:00 Berlin
    }

    #[test]
    fn friday_evening_rolls_over_the_weekend() {
        let cal = office("Europe/Berlin", &[]);
        // Friday 2026-11-27 16:30 Berlin + 60 min → Monday 09:30 Berlin.
        let due = cal.add_minutes(utc("2026-11-27T15:30:00Z"), 60).unwrap();
        assert_eq!(due, utc("2026-11-30T08:30:00Z"));
        assert_eq!(cal.business_minutes(utc("2026-11-27T15:30:00Z"), due), 60);
    }

    #[test]
    fn holidays_are_skipped() {
        let cal = office("Europe/Berlin", &["2026-12-24", "2026-12-25"]);
        // Wednesday 2026-12-23 16:00 Berlin + 120 min → Monday 28th 10:00 Berlin.
        let due = cal.add_minutes(utc("2026-12-23T15:00:00Z"), 120).unwrap();
        assert_eq!(due, utc("2026-12-28T09:00:00Z"));
    }

    #[test]
    fn an_open_range_across_the_spring_forward_night_is_an_hour_shorter() {
        // Open every day 00:00-06:00 in Berlin; on 2026-03-29 clocks go 02:00 → 03:00.
        let night = hours(&[("00:00", "06:00")]);
        let cal = Calendar::new("Europe/Berlin", std::array::from_fn(|_| night.clone()), vec![]).unwrap();
        let midnight = utc("2026-03-28T23:00:00Z"); // 00:00 CET
        let six = utc("2026-03-29T04:00:00Z"); // 06:00 CEST
        assert_eq!(cal.business_minutes(midnight, six), 5 * 60);
        assert_eq!(cal.add_minutes(midnight, 5 * 60), Some(six));
    }

    #[test]
    fn an_open_range_across_the_fall_back_night_is_an_hour_longer() {
        // On 2026-10-25 Berlin clocks go 03:00 → 02:00.
        let night = hours(&[("00:00", "06:00")]);
        let cal = Calendar::new("Europe/Berlin", std::array::from_fn(|_| night.clone()), vec![]).unwrap();
        let midnight = utc("2026-10-24T22:00:00Z"); // 00:00 CEST
        let six = utc("2026-10-25T05:00:00Z"); // 06:00 CET
        assert_eq!(cal.business_minutes(midnight, six), 7 * 60);
    }

    #[test]
    fn a_range_starting_inside_the_gap_starts_when_the_gap_ends() {
        // 02:30 does not exist in Berlin on 2026-03-29: the range opens at 03:00 CEST.
        let r = hours(&[("02:30", "04:00")]);
        let cal = Calendar::new("Europe/Berlin", std::array::from_fn(|_| r.clone()), vec![]).unwrap();
        let day_start = utc("2026-03-28T23:00:00Z");
        let day_end = utc("2026-03-29T22:00:00Z");
        assert_eq!(cal.business_minutes(day_start, day_end), 60);
        assert_eq!(cal.add_minutes(day_start, 1), Some(utc("2026-03-29T01:01:00Z")));
    }

    #[test]
    fn ranges_that_end_at_midnight_join_the_next_day() {
        let late = hours(&[("22:00", "24:00")]);
        let early = hours(&[("00:00", "02:00")]);
        let week = std::array::from_fn(|i| if i % 2 == 0 { late.clone() } else { early.clone() });
        let cal = Calendar::new("UTC", week, vec![]).unwrap();
        // Monday 22:00 + 180 min: two hours Monday night, one hour Tuesday 00:00-01:00.
        assert_eq!(cal.add_minutes(utc("2026-11-23T22:00:00Z"), 180), Some(utc("2026-11-24T01:00:00Z")));
    }

    #[test]
    fn a_target_starting_outside_hours_counts_from_the_next_opening() {
        let cal = office("America/New_York", &[]);
        // Saturday → Monday 09:00 EST (14:00 UTC) + 1 minute.
        assert_eq!(cal.add_minutes(utc("2026-11-28T12:00:00Z"), 1), Some(utc("2026-11-30T14:01:00Z")));
        assert_eq!(cal.business_minutes(utc("2026-11-28T12:00:00Z"), utc("2026-11-30T13:59:00Z")), 0);
    }

    #[test]
    fn a_zero_target_is_due_at_once_and_reversed_spans_are_empty() {
        let cal = office("UTC", &[]);
        let t = utc("2026-11-28T12:00:00Z");
        assert_eq!(cal.add_minutes(t, 0), Some(t));
        assert_eq!(cal.business_seconds(t, t - Duration::hours(5)), 0);
    }

    #[test]
    fn a_calendar_whose_open_days_are_all_holidays_never_falls_due() {
        let only_mondays = hours(&[("09:00", "10:00")]);
        let week = std::array::from_fn(|i| if i == 0 { only_mondays.clone() } else { Vec::new() });
        let mondays: Vec<NaiveDate> =
            (0..(366 * 21 / 7)).map(|w| NaiveDate::from_ymd_opt(2026, 11, 23).unwrap() + Duration::weeks(w)).collect();
        let cal = Calendar::new("UTC", week, mondays).unwrap();
        assert_eq!(cal.add_minutes(utc("2026-11-22T00:00:00Z"), 1), None);
    }

    #[test]
    fn bad_definitions_are_refused_with_the_field_named() {
        let ok = hours(&[("09:00", "17:00")]);
        let err = Calendar::new("Mars/Olympus", std::array::from_fn(|_| ok.clone()), vec![]).unwrap_err();
        assert_eq!(err.field, "timezone");
        let mut week: [Vec<(u32, u32)>; 7] = Default::default();
        week[2] = hours(&[("09:00", "12:00"), ("11:00", "13:00")]);
        let err = Calendar::new("UTC", week, vec![]).unwrap_err();
        assert_eq!(err.field, "hours.wed");
        assert!(err.message.contains("overlaps"), "{}", err.message);
        let mut week: [Vec<(u32, u32)>; 7] = Default::default();
        week[0] = vec![(17 * 3600, 9 * 3600)];
        assert_eq!(Calendar::new("UTC", week, vec![]).unwrap_err().field, "hours.mon");
        assert_eq!(Calendar::new("UTC", Default::default(), vec![]).unwrap_err().field, "hours");
        assert_eq!(parse_clock("24:01"), None);
        assert_eq!(parse_clock("9:00"), None);
        assert_eq!(parse_clock("24:00"), Some(86_400));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Zones with the awkward cases: DST both ways, a 30-minute DST shift (Lord Howe),
    /// a half-hour offset without DST (Kolkata), +13:45 (Chatham), the southern hemisphere.
    const ZONES: [&str; 6] =
        ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham", "UTC"];

    fn calendar() -> impl Strategy<Value = Calendar> {
        // Per weekday 0-3 ranges on a 15-minute grid, made disjoint by sorting the cuts.
        let day = prop::collection::btree_set(0u32..=96, 0..=6).prop_map(|cuts| {
            let cuts: Vec<u32> = cuts.into_iter().map(|c| c * 900).collect();
            cuts.chunks_exact(2).map(|p| (p[0], p[1])).collect::<Vec<_>>()
        });
        (prop::sample::select(ZONES.to_vec()), prop::array::uniform7(day), prop::collection::vec(0i64..800, 0..40))
            .prop_filter_map("no open hours", |(tz, week, holidays)| {
                let base = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
                let holidays = holidays.into_iter().map(|d| base + Duration::days(d)).collect();
                Calendar::new(tz, week, holidays).ok()
            })
    }

    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        // 2026-01-01 .. 2028-03-01, to the second: covers several DST changes everywhere.
        (1_767_225_600i64..1_835_481_600).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn elapsed_from_t_to_add_t_n_is_n(cal in calendar(), t in instant(), n in 0i64..200_000) {
            let due = cal.add_seconds(t, n).expect("an open calendar falls due");
            prop_assert_eq!(cal.business_seconds(t, due), n);
        }

        #[test]
        fn add_gives_the_earliest_such_instant(cal in calendar(), t in instant(), n in 1i64..200_000) {
            let due = cal.add_seconds(t, n).unwrap();
            prop_assert_eq!(cal.business_seconds(t, due - Duration::seconds(1)), n - 1);
        }

        #[test]
        fn more_minutes_never_fall_due_earlier(cal in calendar(), t in instant(), a in 0i64..50_000, b in 0i64..50_000) {
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert!(cal.add_seconds(t, lo).unwrap() <= cal.add_seconds(t, hi).unwrap());
        }

        #[test]
        fn elapsed_is_additive_and_never_exceeds_real_time(
            cal in calendar(), a in instant(), d1 in 0i64..2_000_000, d2 in 0i64..2_000_000,
        ) {
            let b = a + Duration::seconds(d1);
            let c = b + Duration::seconds(d2);
            let whole = cal.business_seconds(a, c);
            prop_assert_eq!(whole, cal.business_seconds(a, b) + cal.business_seconds(b, c));
            prop_assert!(whole <= d1 + d2);
        }
    }
}
