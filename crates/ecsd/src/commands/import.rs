//! `ecsd import`: manifests for services that already run, to a directory or stdout.

use std::process::ExitCode;

use crate::cli::ImportArgs;
use crate::setup;

use super::write_new;

/// `ecsd import`: 0 every service written, 1 otherwise.
pub(crate) async fn run(args: &ImportArgs) -> ExitCode {
    let (clients, config) = setup::clients().await;
    let imported =
        match ecsd_runtime::generate::import::import(&clients, &args.cluster, &args.services).await
        {
            Ok(i) => i,
            Err(e) => {
                eprintln!("error: importing from cluster {}: {e}", args.cluster);
                return ExitCode::from(1);
            }
        };
    if let Some(out) = &args.out
        && let Err(e) = std::fs::create_dir_all(out)
    {
        eprintln!("error: cannot create {}: {e}", out.display());
        return ExitCode::from(1);
    }
    let mut ok = true;
    if imported.is_empty() {
        eprintln!("error: cluster {} has no service to import", args.cluster);
        ok = false;
    }
    let at = ecsd_runtime::status::now_rfc3339();
    let mut stream = Vec::new();
    for (id, result) in imported {
        let text = result.map(|i| ecsd_runtime::generate::import::yaml(&i, &format!("read {at}")));
        let written = match (&args.out, text) {
            (_, Err(e)) => Err(e.to_string()),
            (None, Ok(text)) => {
                stream.push(text);
                Ok(None)
            }
            (Some(out), Ok(text)) => {
                write_new(&out.join(format!("{}.yaml", id.name)), &text).map(Some)
            }
        };
        match written {
            Ok(Some(path)) => println!("{id}: wrote {}", path.display()),
            Ok(None) => {}
            Err(e) => {
                ok = false;
                eprintln!("error: {id}: {e}");
            }
        }
    }
    if !stream.is_empty() {
        print!("{}", stream.join("---\n"));
    }
    setup::log_calls(&config);
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
