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
