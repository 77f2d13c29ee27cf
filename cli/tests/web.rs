//! The browser UI's own tests, run from the workspace's test command: the typed API
//! client must match the OpenAPI document, the component tests (vitest, jsdom) must
//! pass, and the end-to-end tests (Playwright driving Debian's Chromium against the
//! suite `atum up` starts) must pass. Needs Node 20+ with npm, `chromium` and
//! `oathtool`; `.ci/run` installs them. Their summary line is kept in
//! `target/e2e/summary.txt` for CI to print.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: cannot start ({e}); .ci/run installs what it needs"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{what} failed ({}):\n{text}", out.status);
    text
}

#[test]
fn the_web_ui_builds_matches_the_api_and_passes_its_component_and_browser_tests() {
    let root = root();
    let web = root.join("web");
    let dist = atum_cli::web_build::ensure_built(&web, |m| eprintln!("{m}")).expect("the UI builds");
    assert!(dist.is_some_and(|d| d.join("app/index.html").is_file()));

    // The client's types are generated from the document the API serves.
    let doc = root.join("target/openapi-current.json");
    let fresh = root.join("target/schema-current.d.ts");
    std::fs::write(&doc, atum_api::openapi::document()).unwrap();
    run(
        Command::new("npx").args(["openapi-typescript"]).arg(&doc).arg("-o").arg(&fresh).current_dir(&web),
        "openapi-typescript",
    );
    let committed = std::fs::read_to_string(web.join("src/api/schema.d.ts")).unwrap();
    assert!(
        std::fs::read_to_string(&fresh).unwrap() == committed,
        "web/src/api/schema.d.ts is stale: run `cargo run -p atum-api --example openapi > target/openapi.json && \
         (cd web && npm run api:types)` and commit it"
    );

    run(Command::new("npx").args(["vitest", "run"]).current_dir(&web), "the component tests (vitest)");

    assert!(Path::new("/usr/bin/chromium").exists() || std::env::var_os("CHROMIUM").is_some(), "chromium is missing");
    // The fake language model server the LLM's browser tests talk to: a binary of the
    // test harness, which no test of its own package builds.
    run(
        Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "atum-testing", "--bin", "atum-fake-llm"])
            .current_dir(&root),
        "building atum-fake-llm",
    );
    let out = Command::new("npx").args(["playwright", "test"]).current_dir(&web).output().expect("npx playwright");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let summary = text.lines().find(|l| l.starts_with("e2e: ")).unwrap_or("e2e: no summary").to_owned();
    std::fs::create_dir_all(root.join("target/e2e")).unwrap();
    std::fs::write(root.join("target/e2e/summary.txt"), format!("{summary}\n")).unwrap();
    assert!(out.status.success(), "the browser tests failed ({summary}):\n{text}");
    assert!(summary.ends_with(" 0 failed") && !summary.starts_with("e2e: 0 passed"), "{summary}");
}
