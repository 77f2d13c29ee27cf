fn main() -> std::process::ExitCode {
    atum_runtime::launch(
        atum_runtime::config::Service::SlaWorker,
        atum_core::schema::check,
        atum_sla_worker::Settings::from_env,
        atum_sla_worker::run,
    )
}
