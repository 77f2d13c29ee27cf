//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` attributes and
//! the domain types, served at `/api/v1/openapi.json`.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use crate::{
    account, auth, catalog, dashboard, error, groups, health, jobs, security, settings, sla, tickets, users, workflow,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "ATUM Desk API", description = "The help desk's JSON API. Every error has the shape of ErrorBody."),
    paths(
        health::health, health::metrics, openapi_json,
        auth::login, auth::verify_mfa, auth::logout, auth::me,
        account::list_sessions, account::revoke_session, account::revoke_other_sessions,
        account::change_password, account::request_password_reset, account::confirm_password_reset,
        account::verify_email, account::resend_verification, account::signup,
        account::mfa_status, account::begin_totp, account::confirm_totp, account::disable_totp,
        users::list, users::create, users::get, users::update, security::unlock_user,
        security::get_settings, security::put_settings, security::get_allowlist, security::put_allowlist,
        security::audit_log, settings::get, settings::change,
        tickets::list, tickets::create, tickets::get, tickets::update,
        tickets::list_comments, tickets::add_comment, tickets::history,
        jobs::list, jobs::get, jobs::retry, jobs::cancel,
        groups::list, groups::create, groups::update,
        sla::list_calendars, sla::create_calendar, sla::update_calendar,
        sla::list_policies, sla::create_policy, sla::update_policy, sla::delete_policy, sla::ticket_sla,
        dashboard::dashboard,
        workflow::get_lock, workflow::take_lock, workflow::release_lock,
        workflow::list_links, workflow::add_link, workflow::remove_link, workflow::merge,
        catalog::list, catalog::get, catalog::submit, catalog::ticket_request, catalog::create, catalog::update,
    ),
    components(schemas(error::ErrorBody, error::ErrorDetail)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A session token from POST /api/v1/auth/login (or the atum_session cookie)"))
                    .build(),
            ),
        );
    }
}

/// The document as JSON, built once.
pub fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")))
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(document())
}
