fn main() -> std::process::ExitCode {
    atum_runtime::launch(
        atum_runtime::config::Service::Api,
        atum_core::schema::check,
        atum_api::Settings::from_env,
        atum_api::run,
    )
}
