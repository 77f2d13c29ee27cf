fn main() -> std::process::ExitCode {
    atum_runtime::launch(
        atum_runtime::config::Service::JobWorker,
        atum_core::schema::check,
        atum_job_worker::Settings::from_env,
        atum_job_worker::run,
    )
}
