fn main() -> std::process::ExitCode {
    atum_core::runtime::launch(atum_core::config::Service::MetricsWorker, atum_metrics_worker::run)
}
