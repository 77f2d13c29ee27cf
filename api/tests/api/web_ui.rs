//! The API serving the browser UI (`ATUM_WEB_DIR`), as `atum up` runs it.

use atum_api::web_ui::WebUi;

use crate::helpers::TestApp;

/// A directory that is removed with the value.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("atum-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn built_ui() -> Scratch {
    let dir = Scratch::new("web-ui");
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    std::fs::create_dir_all(dir.path().join("help")).unwrap();
    std::fs::create_dir_all(dir.path().join("assets")).unwrap();
    std::fs::write(dir.path().join("index.html"), "<h1>landing</h1>").unwrap();
    std::fs::write(dir.path().join("app/index.html"), "<div id=root>app</div>").unwrap();
    std::fs::write(dir.path().join("help/index.html"), "<div id=root>help</div>").unwrap();
    std::fs::write(dir.path().join("assets/app-1234.js"), "console.log('app')").unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pages_revalidate_the_assets_cache_for_a_year_and_api_paths_never_fall_back_to_a_page() {
    let dir = built_ui();
    let app = TestApp::spawn_serving(|_| {}, Some(WebUi::at(dir.path().to_path_buf()).unwrap())).await;

    let landing = app.get("/", None).await;
    assert_eq!((landing.status, landing.body.as_str()), (200, Some("<h1>landing</h1>")));
    assert_eq!(landing.header("cache-control"), Some("no-cache"));
    assert!(landing.header("content-security-policy").is_some_and(|c| c.contains("script-src 'self'")));
    for route in ["/app", "/app/", "/app/tickets/42", "/reset-password?token=ab", "/verify-email?token=cd"] {
        let page = app.get(route, None).await;
        assert_eq!((page.status, page.body.as_str()), (200, Some("<div id=root>app</div>")), "{route}");
        assert_eq!(page.header("referrer-policy"), Some("no-referrer"), "{route}: a token must not leave in a Referer");
    }
    for route in ["/help/acme/", "/help/acme/articles/7"] {
        let page = app.get(route, None).await;
        assert_eq!((page.status, page.body.as_str()), (200, Some("<div id=root>help</div>")), "{route}");
        assert_eq!(page.header("cache-control"), Some("no-cache"));
    }
    let asset = app.get("/assets/app-1234.js", None).await;
    assert_eq!(asset.status, 200);
    assert_eq!(asset.header("cache-control"), Some("public, max-age=31536000, immutable"));
    assert!(
        asset.header("content-type").is_some_and(|t| t.contains("javascript")),
        "{:?}",
        asset.header("content-type")
    );

    assert_eq!(app.get("/assets/missing.js", None).await.status, 404);
    assert_eq!(app.get("/assets/%2e%2e/index.html", None).await.status, 404, "no way out of assets/");
    let api = app.get("/api/v1/no-such-route", None).await;
    assert_eq!((api.status, api.code()), (404, "not_found"), "an API path gets the API's answer: {}", api.body);
    assert_eq!(app.get("/elsewhere", None).await.status, 404);
}

#[test]
fn a_directory_without_a_built_ui_is_refused_naming_what_is_missing() {
    let dir = Scratch::new("no-ui");
    let err = WebUi::at(dir.path().to_path_buf()).unwrap_err();
    assert!(err.contains("index.html") && err.contains("npm run build"), "{err}");
}
