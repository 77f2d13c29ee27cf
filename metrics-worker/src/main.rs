fn main() -> std::process::ExitCode {
    atum_core::runtime::launch(
        atum_core::config::Service::MetricsWorker,
        atum_metrics_worker::Settings::from_env,
        atum_metrics_worker::run,
    )
}
