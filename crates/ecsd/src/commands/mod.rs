//! One file per command (`ecsd <command>` → `commands/<command>.rs`), each with a `run`
//! that returns the process's exit code; [`crate::setup`] is what plan, apply and status
//! share.

use std::process::ExitCode;

use crate::setup::Fatal;

pub(crate) mod apply;
pub(crate) mod healthcheck;
pub(crate) mod import;
pub(crate) mod migrate;
pub(crate) mod plan;
pub(crate) mod run;
pub(crate) mod schema;
pub(crate) mod status;
pub(crate) mod validate;

/// Prints why a command could not start, and exits 1.
fn fatal(Fatal(message): Fatal) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(1)
}

/// Writes `text` to a file that must not exist yet: `path`, or why not.
pub(crate) fn write_new(path: &std::path::Path, text: &str) -> Result<std::path::PathBuf, String> {
    if path.exists() {
        return Err(format!(
            "{} exists; it is not overwritten (remove it or choose another --out)",
            path.display()
        ));
    }
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(path.to_owned())
}
