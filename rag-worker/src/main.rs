fn main() -> std::process::ExitCode {
    atum_core::runtime::launch(
        atum_core::config::Service::RagWorker,
        atum_rag_worker::Settings::from_env,
        atum_rag_worker::run,
    )
}
