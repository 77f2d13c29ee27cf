//! What operators install: the systemd units (verified and scored by
//! `systemd-analyze`), the Prometheus configuration and alert rules (checked and
//! unit-tested by `promtool`), and `atum health`, which the self-healing timer runs.
//! systemd-analyze (Debian package `systemd`) and promtool (`prometheus`) are required;
//! `.ci/run` installs them, and a missing one fails the test.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    time::Duration,
};

use atum_runtime::config::Service;
use atum_testing::{
    TestDb,
    process::{binary, free_addr},
    service::Running,
};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (is it installed? .ci/run installs it)"))
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The units, with ExecStart pointing at this build's binaries so `verify` checks
/// that each names a real executable.
fn staged_units() -> (PathBuf, Vec<String>) {
    let bin_dir = binary("atum-api").parent().unwrap().to_path_buf();
    let dir = std::env::temp_dir().join(format!("atum-units-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut names = Vec::new();
    for entry in std::fs::read_dir(repo("systemd")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let unit = std::fs::read_to_string(&path).unwrap();
        assert!(
            !unit.contains("ExecStart=") || unit.contains("ExecStart=/usr/local/bin/atum"),
            "{name}: units start the installed binaries"
        );
        let staged = unit.replace("/usr/local/bin/", &format!("{}/", bin_dir.display()));
        std::fs::write(dir.join(&name), staged).unwrap();
        names.push(name);
    }
    names.sort();
    (dir, names)
}

#[test]
fn every_unit_verifies_and_each_service_scores_an_exposure_of_2_or_lower() {
    let (dir, names) = staged_units();
    let services: Vec<&String> = names.iter().filter(|n| n.ends_with(".service")).collect();
    for b in Service::ALL {
        assert!(names.contains(&format!("{}.service", b.binary())), "no unit for {}", b.binary());
    }
    for extra in ["atum-desk.target", "atum-healthcheck.service", "atum-healthcheck.timer"] {
        assert!(names.iter().any(|n| n == extra), "missing {extra}");
    }
    let out = run(Command::new("systemd-analyze").arg("verify").args(names.iter().map(|n| dir.join(n))));
    assert!(out.status.success() && text(&out).trim().is_empty(), "systemd-analyze verify: {}", text(&out));

    for name in services {
        let out =
            run(Command::new("systemd-analyze").args(["security", "--offline=yes", "--no-pager"]).arg(dir.join(name)));
        let report = text(&out);
        let line = report
            .lines()
            .find(|l| l.contains("Overall exposure level"))
            .unwrap_or_else(|| panic!("no exposure level for {name}: {report}"));
        let score: f64 = line
            .split(':')
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("cannot read {line:?}"));
        assert!(score <= 2.0, "{name} exposure {score} > 2.0:\n{report}");
        let unit = std::fs::read_to_string(dir.join(name)).unwrap();
        for setting in
            ["NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "UMask=0077", "SystemCallFilter="]
        {
            assert!(unit.contains(setting), "{name} lacks {setting}");
        }
        if name.starts_with("atum-") && name != "atum-healthcheck.service" {
            for setting in [
                "Type=notify",
                "WatchdogSec=",
                "Restart=on-failure",
                "RestartPreventExitStatus=78",
                "EnvironmentFile=",
                "User=atum",
            ] {
                assert!(unit.contains(setting), "{name} lacks {setting}");
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_prometheus_config_and_alert_rules_pass_promtool_and_their_unit_tests() {
    let dir = repo("prometheus");
    for args in [
        vec!["check", "config", "atum-desk.yml"],
        vec!["check", "rules", "alerts.yml"],
        vec!["test", "rules", "alerts.test.yml"],
    ] {
        let out = run(Command::new("promtool").args(&args).current_dir(&dir));
        assert!(out.status.success(), "promtool {args:?}: {}", text(&out));
    }
    let config = std::fs::read_to_string(dir.join("atum-desk.yml")).unwrap();
    for b in Service::ALL {
        let target = format!("\"{}\"", b.default_listen());
        assert!(config.contains(&format!("job_name: {}", b.binary())) && config.contains(&target), "{}", b.binary());
    }
    assert!(config.contains("job_name: node"), "node_exporter is scraped");
}

#[tokio::test(flavor = "multi_thread")]
async fn atum_health_restarts_exactly_the_units_whose_endpoint_does_not_answer() {
    let db = TestDb::migrated().await;
    // Two healthy workers, really running.
    let metrics = Running::start(&binary("atum-metrics-worker"), Service::MetricsWorker, &db, Duration::from_secs(30));
    let rag = Running::start(&binary("atum-rag-worker"), Service::RagWorker, &db, Duration::from_secs(30));
    for r in [&metrics, &rag] {
        atum_testing::process::wait_for_http(r.listen, "/health", Duration::from_secs(20));
    }
    // The API's port accepts connections but never answers (a wedged listener); the
    // job and SLA workers' ports have nothing behind them.
    let wedged = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (job, sla) = (free_addr(), free_addr());

    let dir = std::env::temp_dir().join(format!("atum-health-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let calls = dir.join("calls");
    let fake = dir.join("systemctl");
    std::fs::write(&fake, format!("#!/bin/sh\necho \"$@\" >> {}\n", calls.display())).unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let out = run(Command::new(binary("atum"))
        .args(["health", "--restart-failed", "--timeout", "1", "--systemctl"])
        .arg(&fake)
        .env_clear()
        .env("ATUM_API_LISTEN", wedged.local_addr().unwrap().to_string())
        .env("ATUM_JOB_WORKER_LISTEN", job.to_string())
        .env("ATUM_SLA_WORKER_LISTEN", sla.to_string())
        .env("ATUM_RAG_WORKER_LISTEN", rag.listen.to_string())
        .env("ATUM_METRICS_WORKER_LISTEN", metrics.listen.to_string()));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let mut restarted: Vec<String> = std::fs::read_to_string(&calls).unwrap().lines().map(String::from).collect();
    restarted.sort();
    assert_eq!(
        restarted,
        ["restart atum-api.service", "restart atum-job-worker.service", "restart atum-sla-worker.service"],
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("atum-metrics-worker  ok"), "{}", text(&out));
    std::fs::remove_dir_all(&dir).unwrap();
}
