//! `GET /api/v1/openapi.json`: the document this process built once (`crate::openapi`),
//! handed to the route as app data so that the route table, which the document is
//! made from, does not depend on the document.

use actix_web::{HttpResponse, get, web};

/// The OpenAPI document as JSON.
pub struct Document(pub &'static str);

/// This document.
#[utoipa::path(tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
#[get("/openapi.json")]
pub async fn openapi_json(document: web::Data<Document>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(document.0)
}
