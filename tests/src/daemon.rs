//! A running `ecsd run` for tests through the binary: started on a free port with JSON
//! logs to a file, its endpoints read over HTTP, stopped by SIGTERM or killed on drop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::env::Env;
use crate::{eventually, free_port, http};

/// A running `ecsd run`, killed when dropped.
pub struct Daemon {
    pub child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Daemon {
    pub fn start(env: &Env, extra: &[&str]) -> Daemon {
        Daemon::start_on(env, env.dir.to_str().expect("utf-8"), extra)
    }

    pub fn start_on(env: &Env, source: &str, extra: &[&str]) -> Daemon {
        let d = Daemon::spawn(env, source, extra, None);
        d.wait_ready();
        d
    }

    /// Starts without waiting for readiness; `endpoint` overrides AWS_ENDPOINT_URL.
    pub fn spawn(env: &Env, source: &str, extra: &[&str], endpoint: Option<&str>) -> Daemon {
        Daemon::spawn_with(env, source, extra, endpoint, &[])
    }

    /// [`Daemon::spawn`] with more environment variables.
    pub fn spawn_with(
        env: &Env,
        source: &str,
        extra: &[&str],
        endpoint: Option<&str>,
        vars: &[(&str, &str)],
    ) -> Daemon {
        let port = free_port();
        let log = env.dir.with_extension(format!("{port}.log"));
        let stderr = std::fs::File::create(&log).expect("log file");
        let listen = format!("127.0.0.1:{port}");
        // A 1 s fetch interval unless the test sets its own.
        let interval: &[&str] = if extra.contains(&"--interval") {
            &[]
        } else {
            &["--interval", "1s"]
        };
        let child = Command::new(&env.bin)
            .args(["run", "--source", source, "--owner", &env.owner])
            .args(["--listen", &listen, "--log-format", "json"])
            .args(interval)
            .args(extra)
            .envs(endpoint.map(|e| ("AWS_ENDPOINT_URL", e)))
            .envs(vars.iter().copied())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start ecsd run");
        Daemon { child, port, log }
    }

    pub fn wait_ready(&self) {
        let ready = eventually(Duration::from_secs(60), || {
            match http("GET", self.port, "/readyz") {
                Some((200, _)) => Some(()),
                _ => None,
            }
        });
        assert!(
            ready.is_some(),
            "ecsd run never became ready:\n{}",
            self.logs()
        );
    }

    pub fn status(&self) -> Value {
        let (code, body) = http("GET", self.port, "/status").expect("/status answers");
        assert_eq!(code, 200);
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("/status JSON: {e}: {body}"))
    }

    /// `/status`, or null while it does not answer (yet, or any more).
    pub fn status_or_null(&self) -> Value {
        http("GET", self.port, "/status")
            .and_then(|(_, body)| serde_json::from_str(&body).ok())
            .unwrap_or(Value::Null)
    }

    pub fn object(&self, kind: &str, name: &str) -> Value {
        self.status()["objects"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|o| o["kind"] == kind && o["name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM; returns the exit code and how long the process took to stop.
    pub fn terminate(mut self) -> (Option<i32>, Duration) {
        let started = Instant::now();
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let code = eventually(Duration::from_secs(30), || {
            self.child.try_wait().ok().flatten()
        })
        .and_then(|s| s.code());
        (code, started.elapsed())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
