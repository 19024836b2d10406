//! `keel serve` started inside `keel bench wire` when no `--target` is given: the embedded
//! default configuration (or `--config FILE`), a fresh journal in a temporary directory
//! (tmpfs when available), no metrics listener, no admin socket, only the measured
//! protocol's client listener, and the bench's wait strategy for every pipeline thread.
//! The order path is `keel serve`'s own: listener gateway → ring → core (journal, risk,
//! order state machine, routing to the simulated venue, which runs with its flow and the
//! strategies) → outbound ring → listener gateway. The same
//! start-up as `keel serve` (`serve_cmd::start`), stopped with `serve_cmd::finish`.

use crate::bench::{BenchError, Common};
use crate::config::{Config, Resolved};
use crate::serve_cmd;
use std::path::Path;

/// A running in-process server.
pub struct InProcessServer {
    started: Option<serve_cmd::Started>,
    resolved: Resolved,
    _dir: tempfile::TempDir,
}

impl InProcessServer {
    /// Starts the server with the configuration at `path` (else the embedded default).
    /// `protocol` (binary or fix) keeps only that client listener on: the other one would
    /// only add a thread to a box the bench shares with it.
    pub fn start(
        common: &Common,
        path: Option<&Path>,
        protocol: &str,
    ) -> Result<InProcessServer, BenchError> {
        let (dir, _) = crate::bench::scratch_dir("keel-bench-serve-")?;
        let mut config = Config::load(path).map_err(|e| BenchError::Setup(e.to_string()))?;
        config.journal.dir = dir.path().join("journal");
        config.metrics.listen = String::new();
        config.metrics.status_interval_s = 0;
        config.pipeline.wait = common.wait.clone();
        config.pipeline.core_wait = common.core_wait.clone();
        match protocol {
            "binary" => config.fix.listen = String::new(),
            "fix" => config.binary.listen = String::new(),
            _ => {}
        }
        // Free loopback ports for the binary and FIX listeners that are on, so a `keel
        // serve` already running on the default ports does not stop the bench.
        for listen in [&mut config.binary.listen, &mut config.fix.listen] {
            if !listen.is_empty() {
                *listen = free_loopback_port()?;
            }
        }
        let resolved = config.resolve().map_err(|e| BenchError::Setup(e.to_string()))?;
        // No admin socket: the bench sends no admin commands.
        let started = serve_cmd::start_with(&resolved, false)
            .map_err(|e| BenchError::Setup(format!("starting keel serve in-process: {e}")))?;
        Ok(InProcessServer { started: Some(started), resolved, _dir: dir })
    }

    /// The configuration it runs.
    pub fn resolved(&self) -> &Resolved {
        &self.resolved
    }

    /// The CPU its core has to itself (pinned, and waiting without sleeping), if any.
    pub fn reserved_cpu(&self) -> Option<usize> {
        self.started.as_ref().and_then(|s| s.pipeline.placement().reserved)
    }

    /// What runs: the core thread and one thread per gateway, by gateway name.
    pub fn threads(&self) -> String {
        let names = self.started.as_ref().map(|s| s.pipeline.gateway_names()).unwrap_or_default();
        format!("the core and the gateways {}", names.join(", "))
    }

    /// Commands the core has applied so far.
    #[cfg(test)]
    pub fn commands(&self) -> u64 {
        self.started
            .as_ref()
            .map_or(0, |s| s.pipeline.metrics().commands.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Stops it cleanly (rings drained, journal sealed); returns the commands applied.
    pub fn stop(mut self) -> Result<u64, BenchError> {
        let Some(s) = self.started.take() else { return Ok(0) };
        let exit = serve_cmd::finish(s.pipeline, s.socket_path.as_deref())
            .map(|f| f.exit)
            .map_err(|e| BenchError::Setup(format!("stopping the in-process server: {e}")))?;
        if let Some(e) = exit.journal_error {
            return Err(BenchError::Setup(format!("the in-process server's journal failed: {e}")));
        }
        Ok(exit.commands)
    }
}

/// A loopback address whose port was free a moment ago (bound, read, released).
fn free_loopback_port() -> Result<String, BenchError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| BenchError::Setup(format!("no free loopback port: {e}")))?;
    let addr =
        l.local_addr().map_err(|e| BenchError::Setup(format!("no free loopback port: {e}")))?;
    Ok(addr.to_string())
}

impl Drop for InProcessServer {
    fn drop(&mut self) {
        if let Some(s) = self.started.take() {
            s.pipeline.abort();
            let _ = serve_cmd::finish(s.pipeline, s.socket_path.as_deref());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(clap::Parser)]
    struct Args {
        #[command(flatten)]
        common: Common,
    }

    /// The in-process server starts on a temporary journal, runs the simulated venue and
    /// the market makers (commands flow), and stops cleanly.
    #[test]
    fn starts_runs_and_stops() {
        let common = Args::parse_from(["x", "--wait", "park"]).common;
        let server = InProcessServer::start(&common, None, "binary").unwrap();
        let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while server.commands() < 10 && std::time::Instant::now() < until {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(server.commands() >= 10, "no commands flowed");
        assert!(server.stop().unwrap() >= 10);
    }
}
