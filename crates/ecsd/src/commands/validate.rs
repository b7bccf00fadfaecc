//! `ecsd validate`: reads the named files and directories as one source and prints every
//! error. No AWS calls.

use std::process::ExitCode;

use ecsd_model::{Kind, parse_source};

use crate::cli::ValidateArgs;

pub(crate) fn run(args: &ValidateArgs) -> ExitCode {
    let files = match ecsd_source::read_paths(&args.paths) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("{e}: error: cannot read the source");
            return ExitCode::from(1);
        }
    };
    let source = parse_source(&files);
    for d in &source.diagnostics {
        eprintln!("{d}");
    }
    let where_ = args
        .paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    if !source.is_valid() {
        let files_with_errors = source
            .diagnostics
            .iter()
            .map(|d| d.file.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        eprintln!(
            "{} error(s) in {files_with_errors} file(s); {where_} is not valid",
            source.diagnostics.len()
        );
        return ExitCode::from(1);
    }
    if source.documents.is_empty() {
        eprintln!(
            "{where_}: error: no manifests found (expected *.yaml or *.yml files with ecsd/v1 documents)"
        );
        return ExitCode::from(1);
    }
    let counts: Vec<String> = Kind::ALL
        .iter()
        .map(|k| (k, source.count(*k)))
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    // With deployment targets: which objects go where (added).
    let targets: Vec<String> = source
        .targets
        .by_name
        .keys()
        .map(|t| {
            let n = source
                .documents
                .iter()
                .filter(|d| d.target.as_deref() == Some(t.as_str()))
                .count();
            format!("{t} ({n})")
        })
        .collect();
    let targets = if targets.is_empty() {
        String::new()
    } else {
        format!("; targets: {}", targets.join(", "))
    };
    eprintln!(
        "{where_}: valid: {} in {} file(s){targets}",
        counts.join(", "),
        source.files
    );
    ExitCode::SUCCESS
}
