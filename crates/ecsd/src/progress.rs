//! `apply --wait`'s live progress. On a terminal: one line per deployment being waited
//! for (running/desired tasks, the rollout state, the native deployment's stage or the
//! CodeDeploy status, the time waited), redrawn in place at every look. Otherwise (a
//! pipe, CI logs): one JSON line each time a deployment's tasks or state change.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::{Mutex, PoisonError};

use ecsd_runtime::Progress;
use serde_json::json;

/// What was shown so far.
#[derive(Default)]
struct Shown {
    /// The current line of each deployment, in a stable order.
    lines: BTreeMap<String, String>,
    /// How many lines the terminal shows now (to move back over them).
    drawn: usize,
    /// Off a terminal: the last state written for each deployment.
    last: BTreeMap<String, (Option<(u32, u32)>, String)>,
}

/// The progress display of one `apply --wait`.
pub(crate) struct LiveProgress {
    terminal: bool,
    shown: Mutex<Shown>,
}

impl LiveProgress {
    /// A display for stdout: in place on a terminal, JSON lines otherwise.
    pub(crate) fn for_stdout() -> Self {
        LiveProgress {
            terminal: std::io::stdout().is_terminal(),
            shown: Mutex::default(),
        }
    }

    /// One look at one deployment.
    pub(crate) fn update(&self, p: &Progress) {
        let who = format!("Service/{} ({})", p.service.name, p.service.cluster);
        let mut shown = self.shown.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = std::io::stdout().lock();
        if self.terminal {
            let tasks = p
                .tasks
                .map(|(running, desired)| format!("{running}/{desired} tasks, "))
                .unwrap_or_default();
            let line = format!("{who}: {tasks}{}, {}s", p.state, p.elapsed.as_secs());
            shown.lines.insert(who, line);
            let mut text = String::new();
            if shown.drawn > 0 {
                // Back to the first line drawn, then each line cleared and written again.
                text.push_str(&format!("\x1b[{}A", shown.drawn));
            }
            for line in shown.lines.values() {
                text.push_str(&format!("\r\x1b[2K{line}\n"));
            }
            shown.drawn = shown.lines.len();
            let _ = out.write_all(text.as_bytes());
        } else {
            let now = (p.tasks, p.state.clone());
            if shown.last.get(&who) == Some(&now) {
                return;
            }
            shown.last.insert(who, now);
            let mut line = json!({
                "service": p.service.name,
                "cluster": p.service.cluster,
                "state": p.state,
                "elapsedSeconds": p.elapsed.as_secs(),
                "done": p.done,
            });
            if let Some((running, desired)) = p.tasks {
                line["runningCount"] = json!(running);
                line["desiredCount"] = json!(desired);
            }
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
    }
}
