//! `GET /api/v1/openapi.json`: the document this process built once (`crate::openapi`),
//! handed to the route as app data so that the route table, which the document is
//! made from, does not depend on the document.

use actix_web::{HttpResponse, get, web};

/// Gives the OpenAPI document as JSON, built on first use (the API does not hold it
/// until someone asks).
pub struct Document(pub fn() -> &'static str);

/// This document.
#[utoipa::path(tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
#[get("/openapi.json")]
pub async fn openapi_json(document: web::Data<Document>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body((document.0)())
}
