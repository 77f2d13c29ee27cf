//! Turns SIGTERM and SIGINT into a cancellation every task can watch.

use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

/// Cancels `token` on the first SIGTERM or SIGINT. A second SIGINT (Ctrl-C twice)
/// exits at once, for the operator who does not want to wait for the drain; repeated
/// SIGTERMs are ignored, since supervisors (`timeout`, some init systems) send one to
/// the process and another to its group.
pub fn cancel_on_signals(token: CancellationToken) -> std::io::Result<()> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "shutdown requested");
        token.cancel();
        loop {
            tokio::select! {
                _ = term.recv() => continue,
                _ = int.recv() => break,
            }
        }
        tracing::warn!("second interrupt: exiting without waiting for in-flight work");
        std::process::exit(130);
    });
    Ok(())
}
