use std::collections::BTreeSet;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn every_documented_route_is_served_and_documents_its_errors() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(res.status, 200);
    let paths = res.body["paths"].as_object().expect("paths");
    let served: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(p, item)| item.as_object().unwrap().keys().map(move |m| (m.clone(), p.clone())))
        .filter(|(m, _)| ["get", "post", "patch", "put", "delete"].contains(&m.as_str()))
        .collect();
    assert!(served.len() >= 60, "the document lists {} routes", served.len());

    // The router and the document come from the same declaration; asking each
    // documented route proves it: none may answer "no such route" or 405.
    for (method, path) in &served {
        let concrete = path.replace("{org}", "acme").replace("{id}", "1").replace("{link_id}", "1");
        let body = (method != "get" && method != "delete").then(|| "{}".to_owned());
        let res = app.send(&method.to_uppercase(), &concrete, None, body, &[]).await;
        assert_ne!(res.status, 405, "{method} {path}: {}", res.body);
        assert_ne!(res.body["error"]["message"], "no such route", "{method} {path} is documented but not served");
    }
    let unknown = app.get("/api/v1/no-such-resource", None).await;
    assert_eq!((unknown.status, unknown.body["error"]["message"].as_str()), (404, Some("no such route")));

    // Every operation that can fail documents its errors with the shared shape.
    for (method, path) in &served {
        let op = &paths[path.as_str()][method.as_str()];
        let errors: Vec<&String> = op["responses"].as_object().unwrap().keys().filter(|s| s.starts_with('4')).collect();
        if path.ends_with("/health") || path.ends_with("/metrics") || path.ends_with("/openapi.json") {
            continue;
        }
        assert!(!errors.is_empty(), "{method} {path} documents no 4xx");
        for code in errors {
            let schema = &op["responses"][code]["content"]["application/json"]["schema"]["$ref"];
            assert_eq!(schema, "#/components/schemas/ErrorBody", "{method} {path} {code}");
        }
    }
    assert!(res.body["components"]["securitySchemes"]["bearer"].is_object());
    let ids: Vec<&str> = paths
        .values()
        .flat_map(|item| item.as_object().unwrap().values().filter_map(|op| op["operationId"].as_str()))
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "operation ids must be unique for generated clients: {ids:?}");
}

#[test]
fn the_openapi_document_is_valid_openapi_3_1() {
    let path = std::env::temp_dir().join(format!("atum-openapi-{}.json", std::process::id()));
    std::fs::write(&path, atum_api::openapi::document()).unwrap();
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import json, sys; from openapi_spec_validator import validate; validate(json.load(open(sys.argv[1])))",
        ])
        .arg(&path)
        .output()
        .expect("python3 runs");
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "openapi-spec-validator (PyPI; .ci/run installs it) rejected the document: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_organisation_field_states_the_servers_slug_rule() {
    let doc: serde_json::Value = serde_json::from_str(atum_api::openapi::document()).unwrap();
    for schema in ["LoginRequest", "EmailOnly"] {
        let org = &doc["components"]["schemas"][schema]["properties"]["org"];
        assert_eq!(org["pattern"], atum_core::orgs::SLUG_PATTERN, "{schema}: {org}");
        assert_eq!(org["maxLength"], 63, "{schema}: {org}");
    }
}

/// utoipa names a schema after its type and keeps the last of two with one name, so
/// two `Entry` types would silently share one (wrong) shape in the document and in
/// the web client's types. Every schema's name, as declared, must be unique.
#[test]
fn no_two_schema_types_share_a_name() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut seen: std::collections::BTreeMap<String, String> = Default::default();
    let mut dupes = Vec::new();
    let mut stack = vec![root.join("core/src"), root.join("api/src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let mut pending = false;
            let mut alias: Option<String> = None;
            for line in text.lines().map(str::trim) {
                if line.starts_with("#[derive(") && line.contains("ToSchema") {
                    (pending, alias) = (true, None);
                } else if pending && line.starts_with("#[schema(as = ") {
                    alias = line.trim_start_matches("#[schema(as = ").split([')', ',']).next().map(str::to_owned);
                } else if pending && (line.starts_with("pub struct ") || line.starts_with("pub enum ")) {
                    let name = line.split_whitespace().nth(2).unwrap().split(['<', '{', '(', ';']).next().unwrap();
                    let name = alias.take().unwrap_or_else(|| name.to_owned());
                    let here = path.strip_prefix(root).unwrap().display().to_string();
                    if let Some(before) = seen.insert(name.clone(), here.clone()) {
                        dupes.push(format!("{name}: {before} and {here}"));
                    }
                    pending = false;
                }
            }
        }
    }
    assert!(seen.len() > 50, "found only {} schema types", seen.len());
    assert!(dupes.is_empty(), "schema names declared twice: {dupes:#?}");
}

/// Free text a request may send whose rule is not `atum_core::text`'s, each with why.
const OWN_RULE: &[&str] = &[
    "ArticleChange.title", // a line that also may not be only a byte-order mark
    "NewArticle.title",
    "EndpointChange.api_key",  // a secret: checked, never shown
    "EndpointChange.base_url", // a URL, parsed
    "EndpointChange.model",
    "CalendarInput.timezone", // an IANA name, looked up
    "CopilotAsk.question",
    "LoginRequest.email", // credentials: looked up, a wrong one is a 401
    "MfaVerifyRequest.challenge",
    "NewFeedback.value",     // one of the field's labels
    "PreviewInput.category", // matched against policies, never stored
    "RenderRequest.body",    // Markdown rendered for a preview, never stored
];

#[test]
fn every_free_text_field_states_the_servers_rule_about_control_characters() {
    let doc: serde_json::Value = serde_json::from_str(atum_api::openapi::document()).unwrap();
    let rules = [atum_core::text::LINE, atum_core::text::PROSE, atum_core::text::PROSE_NOT_BLANK];
    let (mut checked, mut missing) = (Vec::new(), Vec::new());
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        for (prop, p) in schema["properties"].as_object().into_iter().flatten() {
            let string = p["type"] == "string" || p["type"].as_array().is_some_and(|t| t.contains(&"string".into()));
            let pattern = p["pattern"].as_str();
            // Free text: a string with a length limit, no format, and no pattern of
            // its own shape (a key, an enum, an e-mail address, a token).
            let free = string
                && p.get("maxLength").is_some()
                && p.get("format").is_none()
                && pattern.is_none_or(|x| rules.contains(&x) || x == r"\S" || x.contains(r"[^\s\u0000]"));
            let field = format!("{name}.{prop}");
            if !free || OWN_RULE.contains(&field.as_str()) || prop.contains("password") || prop == "code" {
                continue;
            }
            if !pattern.is_some_and(|x| rules.contains(&x)) {
                missing.push(field.clone());
            }
            checked.push(field);
        }
    }
    assert!(missing.is_empty(), "these free-text fields do not state text::LINE or PROSE: {missing:?}");
    for field in ["NewUser.display_name", "UserChange.display_name", "NewTicket.subject", "NewComment.body"] {
        assert!(checked.iter().any(|c| c == field), "{field} is held to a rule: {checked:?}");
    }
}

#[test]
fn the_documents_text_patterns_accept_exactly_what_the_server_accepts() {
    use atum_core::text::{LINE, PROSE, PROSE_NOT_BLANK, is_line, is_prose};
    let (line, prose, prose_not_blank) = (
        regex::Regex::new(LINE).unwrap(),
        regex::Regex::new(PROSE).unwrap(),
        regex::Regex::new(PROSE_NOT_BLANK).unwrap(),
    );
    let chars = (0u32..0x3100).chain([0xfeff, 0x1f600]).filter_map(char::from_u32);
    for c in chars {
        for s in [c.to_string(), format!("a{c}b"), format!("{c}{c}"), format!(" {c} ")] {
            assert_eq!(line.is_match(&s), is_line(&s), "a line of {s:?} (U+{:04X})", c as u32);
            assert_eq!(prose.is_match(&s), is_prose(&s), "prose of {s:?} (U+{:04X})", c as u32);
            let said = is_prose(&s) && !s.trim().is_empty();
            assert_eq!(prose_not_blank.is_match(&s), said, "prose of {s:?} (U+{:04X})", c as u32);
        }
    }
}
