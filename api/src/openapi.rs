//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` attributes and
//! the domain types, served at `/api/v1/openapi.json`.

use std::sync::OnceLock;

use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use utoipa_actix_web::{AppExt, scope};

use crate::{error, jobs};

/// What the document says beyond its paths; the paths and their schemas are gathered
/// from the route table itself ([`crate::routes::api_v1`]) by [`build`].
#[derive(OpenApi)]
#[openapi(
    info(title = "ATUM Desk API", description = "The help desk's JSON API. Every error has the shape of ErrorBody."),
    components(schemas(error::ErrorBody, error::ErrorDetail, jobs::JobState)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// The answers every route of a kind can give, because they come from machinery the
/// routes share rather than from the handler: the JSON body extractor (400, 413, 415),
/// query and path parsing (400, 404), the session check (401; 403 for the CSRF check,
/// the IP allowlist and a required second factor not yet enrolled), the rate limit on
/// `/auth/` and `/portal/` (429) and the connection pool (503). Written once here so
/// no route's list can forget one; a route's own answers (409, 412, 422, 423, …) are
/// in its `#[utoipa::path]`.
struct SharedResponses;

impl Modify for SharedResponses {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        for (path, item) in api.paths.paths.iter_mut() {
            let operations = [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
            for op in operations.into_iter().flatten() {
                let params = op.parameters.as_deref().unwrap_or_default();
                let has = |place: ParameterIn| params.iter().any(|p| p.parameter_in == place);
                let authenticated = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let mut shared: Vec<(&str, &str)> = Vec::new();
                if op.request_body.is_some() {
                    shared.push(("400", "The body is not a JSON object of the expected shape (invalid_json)"));
                    shared.push(("413", "The body is larger than 512 KiB (payload_too_large)"));
                    shared.push(("415", "The body is not sent as application/json (unsupported_media_type)"));
                }
                if has(ParameterIn::Query) {
                    shared.push(("400", "A query parameter is malformed (invalid_query)"));
                }
                if params.iter().any(|p| p.parameter_in == ParameterIn::Header && p.name == "If-Match") {
                    shared.push(("400", "If-Match is not a version such as \"3\" or * (invalid_if_match)"));
                }
                if has(ParameterIn::Path) {
                    shared.push(("404", "Not found (or another organisation's)"));
                }
                if authenticated {
                    shared.push(("401", "No valid session (unauthenticated)"));
                    shared.push((
                        "403",
                        "Not allowed: the role, the IP allowlist, a required second factor, or the CSRF check",
                    ));
                }
                if path.starts_with("/api/v1/auth/") || path.starts_with("/api/v1/portal/") {
                    shared.push(("429", "Too many requests from this address or for this account (Retry-After)"));
                }
                if !(path.ends_with("/openapi.json") || path.ends_with("/metrics")) {
                    shared.push(("503", "The database is unavailable; try again (database_unavailable)"));
                }
                for (status, description) in shared {
                    op.responses.responses.entry(status.to_owned()).or_insert_with(|| error_response(description));
                }
            }
        }
    }
}

fn error_response(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
        .build()
        .into()
}

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

/// The document, gathered from the same `service` calls that build the router, with
/// the shared error answers added to every operation.
fn build() -> serde_json::Value {
    let (_, mut api) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(scope::scope("/api/v1").configure(crate::routes::api_v1))
        .split_for_parts();
    SharedResponses.modify(&mut api);
    let mut doc = serde_json::to_value(api).unwrap_or_else(|e| serde_json::json!({"error": e.to_string()}));
    merge_flattened_inputs(&mut doc);
    doc
}

struct Built {
    json: String,
    routes: Vec<(String, String)>,
}

fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let doc = build();
        let routes = doc["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(path, item)| {
                let template = path.strip_prefix("/api/v1").unwrap_or(path).to_owned();
                item.as_object().into_iter().flatten().map(move |(method, _)| (method.clone(), template.clone()))
            })
            .collect();
        let built = Built { json: doc.to_string(), routes };
        drop(doc);
        release_freed_memory();
        built
    })
}

/// Gathering the document allocates about 8 MB that is garbage once it is a string;
/// glibc keeps freed memory in the arena of the thread that freed it, so without this
/// the API would hold it for its lifetime.
#[allow(unsafe_code)]
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages to the kernel; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The document as JSON, built once.
pub fn document() -> &'static str {
    &built().json
}

/// Every route under `/api/v1` as (lower-case method, path template without the
/// prefix), in the order declared.
pub fn routes() -> &'static [(String, String)] {
    &built().routes
}

/// A record that `#[serde(flatten)]`s an input (`PolicyRecord` = `PolicyInput` + id)
/// comes out of utoipa as `allOf: [input, {id, …}]`. When the input refuses unknown
/// fields (`additionalProperties: false`), that `allOf` matches nothing: the input's
/// half refuses the record's own fields. Such records get the input's properties
/// merged in instead, without the refusal.
fn merge_flattened_inputs(doc: &mut serde_json::Value) {
    use serde_json::Value;
    let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) else { return };
    let closed: std::collections::BTreeMap<String, Value> = schemas
        .iter()
        .filter(|(_, s)| s["additionalProperties"] == Value::Bool(false))
        .map(|(name, s)| (format!("#/components/schemas/{name}"), s.clone()))
        .collect();
    for schema in schemas.values_mut() {
        let Some(parts) = schema.get("allOf").and_then(Value::as_array) else { continue };
        let inlined: Option<Vec<&Value>> =
            parts.iter().map(|p| p["$ref"].as_str().map_or(Some(p), |r| closed.get(r))).collect();
        let Some(inlined) =
            inlined.filter(|_| parts.iter().any(|p| p["$ref"].as_str().is_some_and(|r| closed.contains_key(r))))
        else {
            continue;
        };
        let (mut properties, mut required) = (serde_json::Map::new(), Vec::new());
        for part in inlined {
            if let Some(p) = part["properties"].as_object() {
                properties.extend(p.clone());
            }
            required.extend(part["required"].as_array().cloned().unwrap_or_default());
        }
        *schema = serde_json::json!({"type": "object", "properties": properties, "required": required});
    }
}
