fn main() -> std::process::ExitCode {
    atum_core::runtime::launch(atum_core::config::Service::Api, atum_api::Settings::from_env, atum_api::run)
}
