fn main() -> std::process::ExitCode {
    atum_core::runtime::launch(
        atum_core::config::Service::SlaWorker,
        atum_sla_worker::Settings::from_env,
        atum_sla_worker::run,
    )
}
