fn main() -> std::process::ExitCode {
    atum_runtime::launch(
        atum_runtime::config::Service::RagWorker,
        atum_core::schema::check,
        atum_rag_worker::Settings::from_env,
        atum_rag_worker::run,
    )
}
