//! `/api/v1/admin/settings`: the organisation's settings beyond account security.

use crate::json::Json;
use actix_web::{HttpResponse, web};
use actix_web::{get, patch};
use atum_core::settings::{self, OrgSettings, SettingsChange};

use crate::{
    AppState,
    auth::Credentials,
    error::{ApiError, ErrorBody},
};

/// The organisation's settings (admins).
#[utoipa::path(operation_id = "get_org_settings", tag = "settings", security(("bearer" = [])),
    responses((status = 200, description = "Settings", body = OrgSettings), (status = 403, description = "Admins only", body = ErrorBody)))]
#[get("/admin/settings")]
pub async fn get(state: web::Data<AppState>, creds: Credentials) -> Result<HttpResponse, ApiError> {
    let s = state.in_tx(&creds, async |tx, who| Ok(settings::get(tx, &who).await?)).await?;
    Ok(HttpResponse::Ok().json(s))
}

/// Change some of the organisation's settings (admins); the rest keep their values.
/// Recorded in the security audit log.
#[utoipa::path(operation_id = "change_org_settings", tag = "settings", security(("bearer" = [])), request_body = SettingsChange,
    responses((status = 200, description = "The settings after the change", body = OrgSettings), (status = 403, description = "Admins only", body = ErrorBody),
        (status = 409, description = "An API key for the language model needs ATUM_SECRET_KEY_FILE on the server (`secret_key_not_configured`)", body = ErrorBody),
        (status = 422, description = "Invalid values, named field by field (nothing is changed)", body = ErrorBody)))]
#[patch("/admin/settings")]
pub async fn change(
    state: web::Data<AppState>,
    creds: Credentials,
    body: Json<SettingsChange>,
) -> Result<HttpResponse, ApiError> {
    let key = state.security.key.as_ref();
    let s = state.in_tx(&creds, async |tx, who| Ok(settings::change(tx, key, &who, &body, creds.ip).await?)).await?;
    Ok(HttpResponse::Ok().json(s))
}
