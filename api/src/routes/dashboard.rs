//! `GET /api/v1/dashboard`: the live figures and the time series for managers.
//!
//! Browsers poll it every few seconds, so it answers `304 Not Modified` whenever it
//! can tell nothing changed — before computing anything. The entity tag is built from
//! what the figures depend on: the organisation's newest snapshot, its most recent
//! ticket change, and the current minute (state that moves with the clock alone, such
//! as tickets entering their SLA warning, is at most a minute old).

use actix_web::get;
use actix_web::{HttpRequest, HttpResponse, http::header, web};
use atum_core::{
    dashboard::{
        Figures,
        snapshots::{self, Point},
    },
    error::FieldErrors,
};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::{AppState, auth::Credentials, error::ApiError};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DashboardQuery {
    /// `1h`, `24h` (default), `7d` or `30d`.
    #[param(pattern = "^(1h|24h|7d|30d)$")]
    range: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    pub range: String,
    /// `raw` snapshots for 1h and 24h, hourly roll-ups for 7d and 30d.
    pub resolution: &'static str,
    pub generated_at: DateTime<Utc>,
    /// State now; flow (created, solved, response times) over the range.
    pub live: Figures,
    pub series: Vec<Point>,
}

fn parse_range(range: Option<&str>) -> Result<(&'static str, TimeDelta, &'static str), ApiError> {
    Ok(match range.unwrap_or("24h") {
        "1h" => ("1h", TimeDelta::hours(1), "raw"),
        "24h" => ("24h", TimeDelta::hours(24), "raw"),
        "7d" => ("7d", TimeDelta::days(7), "hour"),
        "30d" => ("30d", TimeDelta::days(30), "hour"),
        _ => return Err(FieldErrors::single("range", "must be 1h, 24h, 7d or 30d").into()),
    })
}

/// The dashboard of your organisation (admins and agents).
#[utoipa::path(tag = "dashboard", security(("bearer" = [])), params(DashboardQuery),
    responses((status = 200, description = "Figures and series; carries an ETag", body = Dashboard), (status = 304, description = "Not modified since the ETag sent in If-None-Match"), (status = 403, description = "Staff only", body = crate::error::ErrorBody), (status = 422, description = "Invalid range", body = crate::error::ErrorBody)))]
#[get("/dashboard")]
pub async fn dashboard(
    state: web::Data<AppState>,
    creds: Credentials,
    req: HttpRequest,
    query: web::Query<DashboardQuery>,
) -> Result<HttpResponse, ApiError> {
    let (range, span, resolution) = parse_range(query.range.as_deref())?;
    let answer = state
        .in_tx(&creds, async |tx, who| {
            let fresh = atum_core::dashboard::freshness(tx, &who).await?;
            let now = fresh.now;
            // A hex digest: always a valid entity tag.
            let etag = header::EntityTag::new_strong(fresh.tag(who.org_id, range));
            if crate::http::conditional::none_match(&req, &etag) {
                return Ok((etag, None));
            }
            let live = atum_core::dashboard::compute(tx, who.org_id, now - span, now).await?;
            let series = snapshots::series(tx, who.org_id, resolution, now - span).await?;
            Ok((etag, Some(Dashboard { range: range.into(), resolution, generated_at: now, live, series })))
        })
        .await?;
    let (etag, body) = answer;
    let mut res = match body {
        None => HttpResponse::NotModified(),
        Some(_) => HttpResponse::Ok(),
    };
    res.insert_header(header::ETag(etag)).insert_header((header::CACHE_CONTROL, "private, no-cache"));
    Ok(match body {
        None => res.finish(),
        Some(b) => res.json(b),
    })
}
