//! The handlers, one file per resource, named as the `atum-core` module they call,
//! and the table of the routes under `/api/v1`.

use actix_web::web;
use utoipa_actix_web::service_config::ServiceConfig;

pub mod account;
pub mod ai;
pub mod attachments;
pub mod auth;
pub mod catalog;
pub mod copilot;
pub mod dashboard;
pub mod document;
pub mod events;
pub mod groups;
pub mod health;
pub mod jobs;
pub mod kb;
pub mod locks;
pub mod notifications;
pub mod presence;
pub mod relationships;
pub mod security;
pub mod settings;
pub mod sla;
pub mod tickets;
pub mod users;

/// The routes under `/api/v1`, declared once: each handler's `#[actix_web::get(…)]`
/// gives actix its path and method, and its `#[utoipa::path]` documents it, so the
/// router and the OpenAPI document are made from the same list. The list expands
/// twice: into [`api_v1`], whose `service` calls also gather the document (once per
/// process, in `crate::openapi`), and into [`api_v1_routes`], the plain router each actix
/// worker builds. Gathering the document in every worker cost each worker's malloc
/// arena about 8 MB that stayed resident after the pieces were dropped.
macro_rules! api_v1 {
    ($cfg:expr) => {
        $cfg.service(health::health)
            .service(health::metrics)
            .service(document::openapi_json)
            .service(auth::login)
            .service(auth::verify_mfa)
            .service(auth::logout)
            .service(auth::me)
            .service(account::list_sessions)
            .service(account::revoke_session)
            .service(account::revoke_other_sessions)
            .service(account::change_password)
            .service(account::request_password_reset)
            .service(account::confirm_password_reset)
            .service(account::verify_email)
            .service(account::resend_verification)
            .service(account::mfa_status)
            .service(account::begin_totp)
            .service(account::confirm_totp)
            .service(account::disable_totp)
            .service(account::signup)
            .service(users::list)
            .service(users::create)
            .service(users::invite)
            .service(users::get)
            .service(users::update)
            .service(security::unlock_user)
            .service(security::user_sessions)
            .service(security::revoke_user_session)
            .service(security::revoke_user_sessions)
            .service(security::get_settings)
            .service(security::put_settings)
            .service(security::get_allowlist)
            .service(security::put_allowlist)
            .service(security::audit_log)
            .service(settings::get)
            .service(settings::change)
            .service(attachments::upload)
            .service(attachments::get)
            .service(attachments::download)
            .service(attachments::portal_download)
            .service(tickets::list)
            .service(tickets::create)
            // Before `/tickets/{id}`, which would take "counts" or "activity" for an id.
            .service(tickets::counts)
            .service(presence::activity)
            .service(tickets::get)
            .service(tickets::update)
            .service(tickets::solve)
            .service(tickets::list_comments)
            .service(tickets::add_comment)
            .service(tickets::history)
            .service(tickets::requester)
            .service(ai::ticket_ai)
            .service(ai::give_feedback)
            .service(ai::decide_draft)
            .service(ai::reply_stats)
            .service(ai::llm_requests)
            .service(copilot::ask)
            .service(copilot::get_run)
            .service(copilot::for_ticket)
            .service(copilot::replay_run)
            .service(notifications::list)
            .service(notifications::read)
            .service(notifications::read_all)
            .service(ai::test_llm)
            .service(ai::triage_status)
            .service(ai::train)
            .service(jobs::list)
            .service(jobs::get)
            .service(jobs::retry)
            .service(jobs::cancel)
            .service(groups::list)
            .service(groups::create)
            .service(groups::update)
            .service(sla::list_calendars)
            .service(sla::create_calendar)
            .service(sla::update_calendar)
            .service(sla::list_policies)
            .service(sla::create_policy)
            .service(sla::update_policy)
            .service(sla::delete_policy)
            .service(sla::preview)
            .service(sla::ticket_sla)
            .service(dashboard::dashboard)
            .service(events::stream)
            .service(locks::get_lock)
            .service(locks::take_lock)
            .service(locks::release_lock)
            .service(presence::list)
            .service(presence::here)
            .service(presence::gone)
            .service(relationships::list_links)
            .service(relationships::add_link)
            .service(relationships::remove_link)
            .service(relationships::merge)
            .service(catalog::ticket_request)
            .service(catalog::list)
            .service(catalog::get)
            .service(catalog::submit)
            .service(catalog::create)
            .service(catalog::update)
            .service(kb::list)
            .service(kb::search)
            .service(kb::create)
            .service(kb::get)
            .service(kb::update)
            .service(kb::publish)
            .service(kb::archive)
            .service(kb::get_version)
            .service(kb::diff)
            .service(kb::render)
            .service(kb::portal_info)
            .service(kb::portal_search)
            .service(kb::portal_suggest)
            .service(kb::portal_deflection)
            .service(kb::portal_article);
    };
}

/// The routes under `/api/v1` with their OpenAPI descriptions (for the document).
pub fn api_v1(cfg: &mut ServiceConfig<'_>) {
    api_v1!(cfg);
}

/// The routes under `/api/v1` for the router, without gathering the document.
pub(crate) fn api_v1_routes(cfg: &mut web::ServiceConfig) {
    api_v1!(cfg);
}
