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
}
