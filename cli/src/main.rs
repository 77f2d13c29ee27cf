fn main() -> std::process::ExitCode {
    atum_cli::main()
}
