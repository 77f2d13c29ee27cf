fn main() -> std::process::ExitCode {
    atum_core::runtime::launch(
        atum_core::config::Service::JobWorker,
        atum_job_worker::Settings::from_env,
        atum_job_worker::run,
    )
}
