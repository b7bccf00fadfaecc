//! `ecsd migrate --asg`: manifests for the Fargate equivalent of an EC2 Auto Scaling
//! group, to a directory or stdout.

use std::process::ExitCode;

use crate::cli::MigrateArgs;
use crate::setup;

use super::write_new;

/// `ecsd migrate --asg`: 0 when the manifests were written, 1 otherwise.
pub(crate) async fn run(args: &MigrateArgs) -> ExitCode {
    let config = ecsd_aws::load_config().await;
    let fleet = ecsd_aws::SdkFleet::new(&config);
    let elb = ecsd_aws::SdkElbv2::new(&config);
    let code = match migrate_to_file(args, &fleet, &elb).await {
        Ok(path) => {
            if let Some(path) = path {
                println!("{}: wrote {}", args.asg, path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: migrating Auto Scaling group {}: {e}", args.asg);
            ExitCode::from(1)
        }
    };
    setup::log_calls(&config);
    code
}

async fn migrate_to_file(
    args: &MigrateArgs,
    fleet: &ecsd_aws::SdkFleet,
    elb: &ecsd_aws::SdkElbv2,
) -> Result<Option<std::path::PathBuf>, String> {
    use ecsd_runtime::generate::migrate;
    let read = migrate::read(fleet, elb, &args.asg)
        .await
        .map_err(|e| e.to_string())?;
    let documents = migrate::render(
        &read,
        &migrate::Options {
            image: args.image.clone(),
            cluster: args.cluster.clone(),
        },
    );
    let service = documents
        .iter()
        .find(|d| d.kind == "Service")
        .map_or_else(|| args.asg.clone(), |d| d.name.clone());
    let note = format!("read {}", ecsd_runtime::status::now_rfc3339());
    let text = migrate::yaml(&args.asg, &documents, &note);
    match &args.out {
        None => {
            print!("{text}");
            Ok(None)
        }
        Some(out) => {
            std::fs::create_dir_all(out)
                .map_err(|e| format!("cannot create {}: {e}", out.display()))?;
            write_new(&out.join(format!("{service}.yaml")), &text).map(Some)
        }
    }
}
