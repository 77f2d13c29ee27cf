//! `atum up` builds the browser UI when its build is missing or older than its
//! sources, so the README's one command also sets up the UI on a fresh machine
//! (with Node 20+ and npm installed).

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::SystemTime,
};

use anyhow::{Context, bail};

/// The sources whose change calls for a new build.
const SOURCES: &[&str] =
    &["index.html", "app", "help", "src", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json"];

/// `web/dist` under `web`, built first if needed; `None` when `web` is not a UI checkout.
pub fn ensure_built(web: &Path, say: impl Fn(&str)) -> anyhow::Result<Option<PathBuf>> {
    if !web.join("package.json").is_file() {
        return Ok(None);
    }
    let dist = web.join("dist");
    // Every page must be there (a build from before a page existed is stale); `None`
    // orders before any time, so one missing page makes the build missing.
    let built = ["app/index.html", "help/index.html"].iter().map(|page| modified(&dist.join(page))).min().flatten();
    let newest = SOURCES.iter().filter_map(|s| newest_under(&web.join(s))).max();
    if built.is_some() && built >= newest {
        return Ok(Some(dist));
    }
    if Command::new("npm").arg("--version").output().map(|o| !o.status.success()).unwrap_or(true) {
        bail!(
            "building the web UI needs Node.js 20 or newer with npm; install them, or set ATUM_WEB_DIR to a built UI"
        );
    }
    let installed = modified(&web.join("node_modules/.package-lock.json"));
    if installed.is_none() || installed < modified(&web.join("package-lock.json")) {
        say("installing the web UI's packages (npm ci)");
        npm(web, &["ci", "--no-audit", "--no-fund"])?;
    }
    say("building the web UI (npm run build)");
    npm(web, &["run", "build"])?;
    Ok(Some(dist))
}

fn npm(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    // The output goes to the terminal as it comes: a build takes a while on first run.
    let status = Command::new("npm").args(args).current_dir(dir).status().context("running npm")?;
    if !status.success() {
        bail!("`npm {}` in {} failed ({status})", args.join(" "), dir.display());
    }
    Ok(())
}

fn modified(path: &Path) -> Option<SystemTime> {
    path.metadata().and_then(|m| m.modified()).ok()
}

/// The newest modification time of `path` or anything below it.
fn newest_under(path: &Path) -> Option<SystemTime> {
    let meta = path.metadata().ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    std::fs::read_dir(path).ok()?.filter_map(Result::ok).filter_map(|e| newest_under(&e.path())).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_without_package_json_is_not_a_ui() {
        let dir = std::env::temp_dir().join(format!("atum-no-web-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(ensure_built(&dir, |_| {}).unwrap().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_build_newer_than_every_source_is_used_as_it_is() {
        let dir = std::env::temp_dir().join(format!("atum-web-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src")).unwrap();
        for page in ["app", "help"] {
            std::fs::create_dir_all(dir.join("dist").join(page)).unwrap();
            std::fs::write(dir.join("dist").join(page).join("index.html"), "").unwrap();
        }
        let an_hour_ago = SystemTime::now() - std::time::Duration::from_secs(3600);
        for source in ["package.json", "src/main.tsx"] {
            let file = std::fs::File::create(dir.join(source)).unwrap();
            file.set_modified(an_hour_ago).unwrap();
        }
        // No npm is run: a fresh build needs nothing (this would fail without npm's project).
        assert_eq!(ensure_built(&dir, |m| panic!("nothing to do, yet: {m}")).unwrap(), Some(dir.join("dist")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
