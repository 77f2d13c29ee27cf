fn main() -> std::process::ExitCode {
    atum_runtime::launch(
        atum_runtime::config::Service::MetricsWorker,
        atum_core::schema::check,
        atum_metrics_worker::Settings::from_env,
        atum_metrics_worker::run,
    )
}
