//! `ecsd schema`: the JSON Schema of manifest v1, for editors.

use std::process::ExitCode;

pub(crate) fn run() -> ExitCode {
    match serde_json::to_string_pretty(ecsd_model::schema::json_schema()) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot print the schema: {e}");
            ExitCode::from(1)
        }
    }
}
