//! Business-hours calendars: what admins define, validated before it is stored, and
//! loaded back as the `Calendar` the clocks count working time with.

use crate::auth::policy::Action;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_postgres::Row;

use super::calendar::{Calendar, WEEKDAYS, format_clock, parse_clock};
use crate::{
    auth::Principal,
    error::{Error, FieldErrors, Result},
};

/// A calendar as admins write it: `hours` maps "mon".."sun" to `[["09:00", "17:00"], …]`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarInput {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// IANA timezone, e.g. "Europe/Berlin".
    #[schema(min_length = 1, max_length = 64)]
    pub timezone: String,
    /// Open ranges per weekday (`mon` … `sun`), each `["HH:MM", "HH:MM"]` with the
    /// start before the end and no two ranges of a day overlapping.
    #[schema(value_type = WeekHours, example = json!({"mon": [["09:00", "17:00"]], "sat": []}))]
    pub hours: HashMap<String, Vec<[String; 2]>>,
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub holidays: Vec<NaiveDate>,
}

const MAX_RANGES_A_DAY: usize = 48;

/// The shape of [`CalendarInput::hours`], for the OpenAPI document only: weekdays to
/// lists of `["HH:MM", "HH:MM"]` (24:00 is the end of the day).
struct WeekHours;

impl utoipa::PartialSchema for WeekHours {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, Type};
        let clock =
            ObjectBuilder::new().schema_type(Type::String).pattern(Some("^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"));
        let range = ArrayBuilder::new().items(clock).min_items(Some(2)).max_items(Some(2));
        let ranges = ArrayBuilder::new().items(range).max_items(Some(MAX_RANGES_A_DAY)).build();
        let mut week = ObjectBuilder::new().additional_properties(Some(AdditionalProperties::FreeForm(false)));
        for day in WEEKDAYS {
            week = week.property(day, ranges.clone());
        }
        week.into()
    }
}

impl utoipa::ToSchema for WeekHours {}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CalendarRecord {
    pub id: i64,
    pub name: String,
    pub timezone: String,
    #[schema(value_type = Object)]
    pub hours: Value,
    pub holidays: Vec<NaiveDate>,
    pub updated_at: DateTime<Utc>,
}

impl CalendarInput {
    /// Checks everything and returns the calendar and its canonical `hours` JSON.
    fn validate(&self) -> Result<(Calendar, Value)> {
        let mut f = FieldErrors::default();
        crate::text::line(&mut f, "name", &self.name, 100);
        for day in self.hours.keys() {
            if !WEEKDAYS.contains(&day.as_str()) {
                f.add(&format!("hours.{day}"), "is not a weekday: use mon, tue, wed, thu, fri, sat, sun");
            }
        }
        let mut week: [Vec<(u32, u32)>; 7] = Default::default();
        for (i, day) in WEEKDAYS.iter().enumerate() {
            let ranges = self.hours.get(*day).map(Vec::as_slice).unwrap_or_default();
            if ranges.len() > MAX_RANGES_A_DAY {
                f.add(&format!("hours.{day}"), format!("at most {MAX_RANGES_A_DAY} ranges a day"));
            }
            for [a, b] in ranges {
                match (parse_clock(a), parse_clock(b)) {
                    (Some(a), Some(b)) => week[i].push((a, b)),
                    _ => f.add(&format!("hours.{day}"), format!("{a}-{b}: times are HH:MM from 00:00 to 24:00")),
                }
            }
        }
        if self.holidays.len() > 1000 {
            f.add("holidays", "at most 1000 dates");
        }
        f.clone().finish()?;
        let calendar = Calendar::new(&self.timezone, week.clone(), self.holidays.clone())
            .map_err(|e| FieldErrors::single(&e.field, e.message))?;
        let hours: serde_json::Map<String, Value> = WEEKDAYS
            .iter()
            .zip(&week)
            .map(|(day, ranges)| {
                let mut ranges = ranges.clone();
                ranges.sort_unstable();
                let list = ranges.iter().map(|(a, b)| serde_json::json!([format_clock(*a), format_clock(*b)]));
                ((*day).to_owned(), Value::Array(list.collect()))
            })
            .collect();
        Ok((calendar, Value::Object(hours)))
    }
}

/// Rebuilds a stored calendar (it was validated when saved).
pub(super) fn calendar_from(timezone: &str, hours: &Value, holidays: Vec<NaiveDate>) -> Result<Calendar> {
    let week = std::array::from_fn(|i| {
        hours[WEEKDAYS[i]]
            .as_array()
            .map(|ranges| {
                ranges
                    .iter()
                    .filter_map(|r| Some((parse_clock(r[0].as_str()?)?, parse_clock(r[1].as_str()?)?)))
                    .collect()
            })
            .unwrap_or_default()
    });
    Calendar::new(timezone, week, holidays).map_err(|e| Error::Internal(format!("stored calendar is invalid: {e:?}")))
}

const CALENDAR_COLUMNS: &str = "id, name, timezone, hours, holidays, updated_at";

fn calendar_record(r: &Row) -> CalendarRecord {
    CalendarRecord {
        id: r.get("id"),
        name: r.get("name"),
        timezone: r.get("timezone"),
        hours: r.get("hours"),
        holidays: r.get("holidays"),
        updated_at: r.get("updated_at"),
    }
}

pub(super) fn name_taken(e: &tokio_postgres::Error, what: &'static str) -> Option<Error> {
    (e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)).then(|| Error::Conflict {
        code: crate::error::Code::NameTaken,
        message: format!("another {what} has this name"),
    })
}

pub async fn create_calendar(
    db: &impl GenericClient,
    who: &Principal,
    input: &CalendarInput,
) -> Result<CalendarRecord> {
    who.require(Action::Configure)?;
    let (_, hours) = input.validate()?;
    let row = db
        .query_one(
            &format!(
                "INSERT INTO sla_calendars (org_id, name, timezone, hours, holidays) VALUES ($1, $2, $3, $4, $5)
                 RETURNING {CALENDAR_COLUMNS}"
            ),
            &[&who.org_id, &input.name.trim(), &input.timezone, &hours, &input.holidays],
        )
        .await
        .map_err(|e| name_taken(&e, "calendar").unwrap_or(Error::Db(e)))?;
    Ok(calendar_record(&row))
}

/// Replaces a calendar; the organisation's open tickets are recomputed afterwards.
pub async fn update_calendar(
    db: &impl GenericClient,
    who: &Principal,
    id: i64,
    input: &CalendarInput,
) -> Result<CalendarRecord> {
    who.require(Action::Configure)?;
    let (_, hours) = input.validate()?;
    let row = db
        .query_opt(
            &format!(
                "UPDATE sla_calendars SET name = $3, timezone = $4, hours = $5, holidays = $6, updated_at = now()
                 WHERE org_id = $1 AND id = $2 RETURNING {CALENDAR_COLUMNS}"
            ),
            &[&who.org_id, &id, &input.name.trim(), &input.timezone, &hours, &input.holidays],
        )
        .await
        .map_err(|e| name_taken(&e, "calendar").unwrap_or(Error::Db(e)))?
        .ok_or(Error::NotFound("calendar"))?;
    super::schedule_recompute(db, who.org_id).await?;
    Ok(calendar_record(&row))
}

pub async fn list_calendars(db: &impl GenericClient, who: &Principal) -> Result<Vec<CalendarRecord>> {
    who.require(Action::SeeDesk)?;
    let rows = db
        .query(&format!("SELECT {CALENDAR_COLUMNS} FROM sla_calendars WHERE org_id = $1 ORDER BY name"), &[&who.org_id])
        .await?;
    Ok(rows.iter().map(calendar_record).collect())
}
