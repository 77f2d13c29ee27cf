use std::collections::BTreeSet;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_covers_exactly_the_routes_the_server_has() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(res.status, 200);
    let paths = res.body["paths"].as_object().expect("paths");

    let served: BTreeSet<(String, String)> =
        atum_api::ROUTES.iter().map(|(m, p)| (m.to_string(), format!("/api/v1{p}"))).collect();
    let documented: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(p, item)| item.as_object().unwrap().keys().map(move |m| (m.clone(), p.clone())))
        .filter(|(m, _)| ["get", "post", "patch", "put", "delete"].contains(&m.as_str()))
        .collect();
    let missing: Vec<_> = served.difference(&documented).collect();
    let phantom: Vec<_> = documented.difference(&served).collect();
    assert!(missing.is_empty(), "routes missing from the OpenAPI document: {missing:?}");
    assert!(phantom.is_empty(), "documented routes the server does not have: {phantom:?}");

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
