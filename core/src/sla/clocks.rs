//! A ticket's SLA clocks, computed from what happened to it — never from a running
//! counter — so a changed policy or calendar gives the right answer for the past too.
//!
//! - **First response** starts when the ticket is created and is met by the first
//!   public reply of an agent. Met once: later replies do not touch it.
//! - **Next response** runs only after the first response is met: a customer message
//!   that follows the last public agent reply starts a cycle (at the oldest such
//!   message), the next public agent reply meets it. Each cycle is a clock of its own.
//! - **Resolution** starts at creation and is met when the ticket is solved or closed.
//!
//! Time in the policy's pausing statuses does not count, and neither does time while
//! the ticket is solved or closed: no clock runs on a solved ticket. Pauses are the
//! ticket's status periods, merged, so moving from one pausing status to another is
//! one pause, not two.
//!
//! **Reopening** a solved ticket resumes its clocks where they stopped: the resolution
//! clock's met time is cleared and it continues with the solved time left out; a met
//! first response stays met; the customer's reopening message starts a next-response
//! cycle. A breach recorded before the reopen stays recorded.

use chrono::{DateTime, Duration, Utc};

use super::calendar::Calendar;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClockKind {
    FirstResponse,
    NextResponse,
    Resolution,
}

impl ClockKind {
    pub const ALL: [ClockKind; 3] = [ClockKind::FirstResponse, ClockKind::NextResponse, ClockKind::Resolution];

    pub fn as_str(self) -> &'static str {
        match self {
            ClockKind::FirstResponse => "first_response",
            ClockKind::NextResponse => "next_response",
            ClockKind::Resolution => "resolution",
        }
    }
}

/// Statuses that stop every clock whatever the policy says.
pub const DONE_STATUSES: [&str; 2] = ["solved", "closed"];

/// Who wrote a public message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    Agent,
    Customer,
}

/// What the clocks are computed from.
#[derive(Debug, Clone)]
pub struct Facts {
    pub created_at: DateTime<Utc>,
    /// (status, from, until) in time order; the current period has no end.
    pub periods: Vec<(String, DateTime<Utc>, Option<DateTime<Utc>>)>,
    /// Public messages in time order (internal notes do not answer anyone).
    pub messages: Vec<(DateTime<Utc>, Author)>,
}

/// The targets and rules of the matched policy.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Minutes per clock; `None` when the policy sets no target for it.
    pub first_response: Option<i64>,
    pub next_response: Option<i64>,
    pub resolution: Option<i64>,
    pub pause_statuses: Vec<String>,
    /// Business hours, or `Calendar::always()` for calendar-minute targets.
    pub calendar: Calendar,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockState {
    /// Counting towards its due time.
    Running,
    /// In a pausing status: not counting, no due time until it resumes.
    Paused,
    /// The ticket is solved or closed before this clock was met.
    Stopped,
    Met,
}

impl ClockState {
    pub fn as_str(self) -> &'static str {
        match self {
            ClockState::Running => "running",
            ClockState::Paused => "paused",
            ClockState::Stopped => "stopped",
            ClockState::Met => "met",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    pub kind: ClockKind,
    pub target_minutes: i64,
    /// When this clock (or next-response cycle) started.
    pub started_at: DateTime<Utc>,
    /// When it falls (or fell) due; `None` while paused or stopped before reaching it.
    pub due_at: Option<DateTime<Utc>>,
    pub met_at: Option<DateTime<Utc>>,
    pub state: ClockState,
    /// Counted (business, unpaused) seconds so far, up to its met time if met.
    pub elapsed_seconds: i64,
    /// Its due time passed before it was met (or before now, if not met).
    pub breached: bool,
}

impl Clock {
    pub fn remaining_seconds(&self) -> i64 {
        self.target_minutes * 60 - self.elapsed_seconds
    }
}

type Span = (DateTime<Utc>, Option<DateTime<Utc>>);

/// The periods in which no clock counts, merged and in order.
fn pauses(facts: &Facts, rules: &Rules) -> Vec<Span> {
    let mut merged: Vec<Span> = Vec::new();
    for (status, from, until) in &facts.periods {
        let pausing = DONE_STATUSES.contains(&status.as_str()) || rules.pause_statuses.iter().any(|p| p == status);
        if !pausing {
            continue;
        }
        match merged.last_mut() {
            // Touching or overlapping the previous pause: one pause.
            Some((_, end @ Some(_))) if end.is_some_and(|e| e >= *from) => {
                *end = until.map(|u| u.max(end.unwrap_or(u)));
            }
            _ => merged.push((*from, *until)),
        }
    }
    merged
}

/// Counted seconds in `[start, end)`: business time minus the pauses in it.
fn counted(cal: &Calendar, pauses: &[Span], start: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
    let mut total = cal.business_seconds(start, end);
    for &(from, until) in pauses {
        let (a, b) = (from.max(start), until.unwrap_or(end).min(end));
        if a < b {
            total -= cal.business_seconds(a, b);
        }
    }
    total
}

/// When `target` seconds have been counted from `start`, assuming no pause beyond
/// those known. `None` when an open pause comes first.
fn due(cal: &Calendar, pauses: &[Span], start: DateTime<Utc>, target: i64) -> Option<DateTime<Utc>> {
    let mut cursor = start;
    let mut left = target;
    for &(from, until) in pauses {
        if until.is_some_and(|u| u <= cursor) {
            continue;
        }
        if from > cursor {
            let seg = cal.business_seconds(cursor, from);
            if seg >= left {
                return cal.add_seconds(cursor, left);
            }
            left -= seg;
        }
        cursor = until?.max(cursor);
    }
    cal.add_seconds(cursor, left)
}

/// The pauses as they stood at `moment`, with none after it: a pause still open then
/// ends there.
fn pauses_until(pauses: &[Span], moment: DateTime<Utc>) -> Vec<Span> {
    pauses
        .iter()
        .filter(|(from, _)| *from < moment)
        .map(|&(from, until)| (from, Some(until.map_or(moment, |u| u.min(moment)))))
        .collect()
}

/// Whether the ticket is in a pausing (or done) status right now.
fn paused_now(pauses: &[Span]) -> bool {
    pauses.last().is_some_and(|(_, until)| until.is_none())
}

/// The start of the ticket's current solved/closed stretch, if it is solved now.
fn solved_since(facts: &Facts) -> Option<DateTime<Utc>> {
    let mut since = None;
    for (status, from, until) in &facts.periods {
        if DONE_STATUSES.contains(&status.as_str()) {
            since = since.or(Some(*from));
            if until.is_none() {
                return since;
            }
        } else {
            since = None;
        }
    }
    None
}

/// What every clock of one ticket is computed against.
struct Timeline<'a> {
    rules: &'a Rules,
    pauses: &'a [Span],
    /// Since when the ticket is solved or closed, if it is now.
    solved: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
}

impl Timeline<'_> {
    fn clock(&self, kind: ClockKind, target_minutes: i64, start: DateTime<Utc>, met: Option<DateTime<Utc>>) -> Clock {
        let end = met.unwrap_or(self.now).max(start);
        let elapsed = counted(&self.rules.calendar, self.pauses, start, end);
        let due_at = match met {
            // A met clock's due time is what it was when it was met: pauses after that
            // moment (a later solve, a reopen) do not move it.
            Some(met) => due(&self.rules.calendar, &pauses_until(self.pauses, met), start, target_minutes * 60),
            None => due(&self.rules.calendar, self.pauses, start, target_minutes * 60),
        };
        let state = match (met, self.solved) {
            (Some(_), _) => ClockState::Met,
            (None, Some(_)) => ClockState::Stopped,
            (None, None) if paused_now(self.pauses) => ClockState::Paused,
            (None, None) => ClockState::Running,
        };
        let breached = due_at.is_some_and(|d| d < end || (met.is_none() && d <= self.now));
        Clock {
            kind,
            target_minutes,
            started_at: start,
            due_at,
            met_at: met,
            state,
            elapsed_seconds: elapsed,
            breached,
        }
    }
}

/// All clocks of a ticket at `now`: one first response, one resolution, and one per
/// next-response cycle (oldest first), each only if the policy has a target for it.
pub fn evaluate(facts: &Facts, rules: &Rules, now: DateTime<Utc>) -> Vec<Clock> {
    let pauses = pauses(facts, rules);
    let solved = solved_since(facts);
    let line = Timeline { rules, pauses: &pauses, solved, now };
    let mut clocks = Vec::new();
    let first_reply = facts.messages.iter().find(|(at, a)| *a == Author::Agent && *at >= facts.created_at).map(|m| m.0);
    if let Some(target) = rules.first_response {
        clocks.push(line.clock(ClockKind::FirstResponse, target, facts.created_at, first_reply));
    }
    if let (Some(target), Some(first)) = (rules.next_response, first_reply) {
        let mut waiting_since: Option<DateTime<Utc>> = None;
        for &(at, author) in facts.messages.iter().filter(|(at, _)| *at > first) {
            match (author, waiting_since) {
                (Author::Customer, None) => waiting_since = Some(at),
                (Author::Agent, Some(since)) => {
                    clocks.push(line.clock(ClockKind::NextResponse, target, since, Some(at)));
                    waiting_since = None;
                }
                _ => {}
            }
        }
        if let Some(since) = waiting_since {
            clocks.push(line.clock(ClockKind::NextResponse, target, since, None));
        }
    }
    if let Some(target) = rules.resolution {
        clocks.push(line.clock(ClockKind::Resolution, target, facts.created_at, solved));
    }
    clocks
}

/// What the sweeper and the lists need on the ticket row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub first_response_due_at: Option<DateTime<Utc>>,
    pub next_response_due_at: Option<DateTime<Utc>>,
    pub next_response_started_at: Option<DateTime<Utc>>,
    pub resolution_due_at: Option<DateTime<Utc>>,
    /// The earliest deadline of a running clock.
    pub next_due_at: Option<DateTime<Utc>>,
    /// When the sweeper must look next: the earliest warning or deadline still ahead.
    pub next_escalation_at: Option<DateTime<Utc>>,
}

pub fn summarize(clocks: &[Clock], warn_before: Duration, now: DateTime<Utc>) -> Summary {
    let mut s = Summary::default();
    for c in clocks.iter().filter(|c| c.state == ClockState::Running) {
        let Some(due) = c.due_at else { continue };
        match c.kind {
            ClockKind::FirstResponse => s.first_response_due_at = Some(due),
            ClockKind::NextResponse => {
                s.next_response_due_at = Some(due);
                s.next_response_started_at = Some(c.started_at);
            }
            ClockKind::Resolution => s.resolution_due_at = Some(due),
        }
        s.next_due_at = Some(s.next_due_at.map_or(due, |d| d.min(due)));
        let warn = due - warn_before;
        let next = if warn > now {
            Some(warn)
        } else if due > now {
            Some(due)
        } else {
            None
        };
        if let Some(n) = next {
            s.next_escalation_at = Some(s.next_escalation_at.map_or(n, |e| e.min(n)));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sla::calendar::parse_clock;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// Mon-Fri 09:00-17:00 UTC; 60 min first response, 120 next, 480 resolution.
    fn rules() -> Rules {
        let day = vec![(parse_clock("09:00").unwrap(), parse_clock("17:00").unwrap())];
        let week = std::array::from_fn(|i| if i < 5 { day.clone() } else { Vec::new() });
        Rules {
            first_response: Some(60),
            next_response: Some(120),
            resolution: Some(480),
            pause_statuses: vec!["pending".into(), "on_hold".into()],
            calendar: Calendar::new("UTC", week, vec![]).unwrap(),
        }
    }

    fn period(status: &str, from: &str, until: Option<&str>) -> (String, DateTime<Utc>, Option<DateTime<Utc>>) {
        (status.into(), utc(from), until.map(utc))
    }

    fn get(clocks: &[Clock], kind: ClockKind) -> &Clock {
        clocks.iter().rev().find(|c| c.kind == kind).unwrap()
    }

    // Monday 2026-11-23.
    const CREATED: &str = "2026-11-23T10:00:00Z";

    #[test]
    fn first_response_is_met_by_the_first_public_agent_reply_and_only_once() {
        let facts = Facts {
            created_at: utc(CREATED),
            periods: vec![period("open", CREATED, None)],
            messages: vec![
                (utc("2026-11-23T10:30:00Z"), Author::Customer),
                (utc("2026-11-23T10:45:00Z"), Author::Agent),
                (utc("2026-11-23T12:00:00Z"), Author::Agent),
            ],
        };
        let clocks = evaluate(&facts, &rules(), utc("2026-11-23T13:00:00Z"));
        let fr = get(&clocks, ClockKind::FirstResponse);
        assert_eq!(fr.state, ClockState::Met);
        assert_eq!(fr.met_at, Some(utc("2026-11-23T10:45:00Z")));
        assert_eq!(fr.elapsed_seconds, 45 * 60);
        assert_eq!(fr.due_at, Some(utc("2026-11-23T11:00:00Z")));
        assert!(!fr.breached);
        // The customer message before the first response started no next-response cycle.
        assert!(clocks.iter().all(|c| c.kind != ClockKind::NextResponse));
    }

    #[test]
    fn a_met_clock_keeps_its_due_time_whatever_happens_after_it_was_met() {
        // First response met at 10:10 (due 11:00); then solved, then reopened.
        let messages = vec![(utc("2026-11-23T10:10:00Z"), Author::Agent)];
        let open = Facts { created_at: utc(CREATED), periods: vec![period("open", CREATED, None)], messages };
        let solved = Facts {
            periods: vec![
                period("open", CREATED, Some("2026-11-23T10:30:00Z")),
                period("solved", "2026-11-23T10:30:00Z", None),
            ],
            ..open.clone()
        };
        let reopened = Facts {
            periods: vec![
                period("open", CREATED, Some("2026-11-23T10:30:00Z")),
                period("solved", "2026-11-23T10:30:00Z", Some("2026-11-23T14:00:00Z")),
                period("open", "2026-11-23T14:00:00Z", None),
            ],
            ..open.clone()
        };
        let now = utc("2026-11-23T15:00:00Z");
        for facts in [&open, &solved, &reopened] {
            let fr = get(&evaluate(facts, &rules(), now), ClockKind::FirstResponse).clone();
            assert_eq!((fr.state, fr.due_at), (ClockState::Met, Some(utc("2026-11-23T11:00:00Z"))), "{facts:?}");
        }
        // A pause before the reply still counts: it moved the due time before it was met.
        let paused_first = Facts {
            periods: vec![
                period("pending", CREATED, Some("2026-11-23T10:05:00Z")),
                period("open", "2026-11-23T10:05:00Z", None),
            ],
            ..open
        };
        let fr = get(&evaluate(&paused_first, &rules(), now), ClockKind::FirstResponse).clone();
        assert_eq!(fr.due_at, Some(utc("2026-11-23T11:05:00Z")));
    }

    #[test]
    fn an_unanswered_ticket_breaches_first_response_at_the_business_deadline() {
        let facts = Facts {
            created_at: utc("2026-11-23T16:30:00Z"),
            periods: vec![period("new", "2026-11-23T16:30:00Z", None)],
            messages: vec![],
        };
        let before = evaluate(&facts, &rules(), utc("2026-11-24T09:29:00Z"));
        let fr = get(&before, ClockKind::FirstResponse);
        assert_eq!(fr.due_at, Some(utc("2026-11-24T09:30:00Z")));
        assert_eq!((fr.state, fr.breached), (ClockState::Running, false));
        assert_eq!(fr.remaining_seconds(), 60);
        let after = evaluate(&facts, &rules(), utc("2026-11-24T09:30:00Z"));
        assert!(get(&after, ClockKind::FirstResponse).breached);
    }

    #[test]
    fn next_response_starts_at_the_oldest_unanswered_customer_message() {
        let facts = Facts {
            created_at: utc(CREATED),
            periods: vec![period("open", CREATED, None)],
            messages: vec![
                (utc("2026-11-23T10:10:00Z"), Author::Agent),
                (utc("2026-11-23T11:00:00Z"), Author::Customer),
                (utc("2026-11-23T11:30:00Z"), Author::Customer),
            ],
        };
        let clocks = evaluate(&facts, &rules(), utc("2026-11-23T12:00:00Z"));
        let nr = get(&clocks, ClockKind::NextResponse);
        assert_eq!(nr.started_at, utc("2026-11-23T11:00:00Z"));
        assert_eq!(nr.due_at, Some(utc("2026-11-23T13:00:00Z")));
        assert_eq!(nr.state, ClockState::Running);
        // First response stays met at 10:10: the next response does not override it.
        assert_eq!(get(&clocks, ClockKind::FirstResponse).met_at, Some(utc("2026-11-23T10:10:00Z")));
    }

    #[test]
    fn a_pause_moves_the_deadline_and_two_pausing_statuses_in_a_row_pause_once() {
        let facts = Facts {
            created_at: utc(CREATED),
            periods: vec![
                period("open", CREATED, Some("2026-11-23T10:20:00Z")),
                period("pending", "2026-11-23T10:20:00Z", Some("2026-11-23T11:00:00Z")),
                period("on_hold", "2026-11-23T11:00:00Z", Some("2026-11-23T11:20:00Z")),
                period("open", "2026-11-23T11:20:00Z", None),
            ],
            messages: vec![],
        };
        let clocks = evaluate(&facts, &rules(), utc("2026-11-23T11:30:00Z"));
        let fr = get(&clocks, ClockKind::FirstResponse);
        // 20 min counted before the pause, 60-minute pause, 10 min after.
        assert_eq!(fr.elapsed_seconds, 30 * 60);
        assert_eq!(fr.due_at, Some(utc("2026-11-23T12:00:00Z")));
        assert_eq!(pauses(&facts, &rules()).len(), 1);
    }

    #[test]
    fn a_paused_clock_has_no_deadline_until_it_resumes() {
        let facts = Facts {
            created_at: utc(CREATED),
            periods: vec![
                period("open", CREATED, Some("2026-11-23T10:20:00Z")),
                period("pending", "2026-11-23T10:20:00Z", None),
            ],
            messages: vec![],
        };
        let fr = get(&evaluate(&facts, &rules(), utc("2026-11-25T10:00:00Z")), ClockKind::FirstResponse).clone();
        assert_eq!((fr.state, fr.due_at, fr.breached), (ClockState::Paused, None, false));
        assert_eq!(fr.elapsed_seconds, 20 * 60);
    }

    #[test]
    fn solving_stops_every_clock_and_reopening_resumes_resolution_without_the_solved_time() {
        let solved = Facts {
            created_at: utc(CREATED),
            periods: vec![
                period("open", CREATED, Some("2026-11-23T12:00:00Z")),
                period("solved", "2026-11-23T12:00:00Z", None),
            ],
            messages: vec![],
        };
        let clocks = evaluate(&solved, &rules(), utc("2026-11-24T12:00:00Z"));
        let res = get(&clocks, ClockKind::Resolution);
        assert_eq!((res.state, res.met_at), (ClockState::Met, Some(utc("2026-11-23T12:00:00Z"))));
        assert_eq!(res.elapsed_seconds, 2 * 3600);
        let fr = get(&clocks, ClockKind::FirstResponse);
        assert_eq!((fr.state, fr.breached), (ClockState::Stopped, true)); // due 11:00, solved at 12:00 unanswered

        let reopened = Facts {
            created_at: utc(CREATED),
            periods: vec![
                period("open", CREATED, Some("2026-11-23T12:00:00Z")),
                period("solved", "2026-11-23T12:00:00Z", Some("2026-11-24T10:00:00Z")),
                period("open", "2026-11-24T10:00:00Z", None),
            ],
            messages: vec![],
        };
        let res = get(&evaluate(&reopened, &rules(), utc("2026-11-24T11:00:00Z")), ClockKind::Resolution).clone();
        assert_eq!((res.state, res.met_at), (ClockState::Running, None));
        // 2 h on Monday, 1 h on Tuesday; the solved night does not count.
        assert_eq!(res.elapsed_seconds, 3 * 3600);
        // 5 h left from Tuesday 11:00.
        assert_eq!(res.due_at, Some(utc("2026-11-24T16:00:00Z")));
    }

    #[test]
    fn a_late_reply_closes_the_cycle_as_breached_and_a_new_customer_message_opens_another() {
        let facts = Facts {
            created_at: utc(CREATED),
            periods: vec![period("open", CREATED, None)],
            messages: vec![
                (utc("2026-11-23T10:05:00Z"), Author::Agent),
                (utc("2026-11-23T10:30:00Z"), Author::Customer),
                (utc("2026-11-23T14:00:00Z"), Author::Agent),
                (utc("2026-11-23T15:00:00Z"), Author::Customer),
            ],
        };
        let clocks = evaluate(&facts, &rules(), utc("2026-11-23T15:10:00Z"));
        let cycles: Vec<&Clock> = clocks.iter().filter(|c| c.kind == ClockKind::NextResponse).collect();
        assert_eq!(cycles.len(), 2);
        assert!(cycles[0].breached && cycles[0].state == ClockState::Met);
        // 15:00 + 120 business minutes: exactly at Monday's closing time.
        assert_eq!(cycles[1].due_at, Some(utc("2026-11-23T17:00:00Z")));
        let s = summarize(&clocks, Duration::minutes(30), utc("2026-11-23T15:10:00Z"));
        assert_eq!(s.next_response_started_at, Some(utc("2026-11-23T15:00:00Z")));
        // Resolution: 7 h on Monday (10:00-17:00), the eighth on Tuesday from 09:00.
        assert_eq!(s.resolution_due_at, Some(utc("2026-11-24T10:00:00Z")));
        assert_eq!(s.next_due_at, Some(utc("2026-11-23T17:00:00Z")));
        // The next thing to do is the next-response warning, 30 minutes before its deadline.
        assert_eq!(s.next_escalation_at, Some(utc("2026-11-23T16:30:00Z")));
    }
}
