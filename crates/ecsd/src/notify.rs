//! `run --notify`: the targets from the flags and the environment (`ECSD_NOTIFY_SECRET`,
//! `ECSD_GITHUB_TOKEN`, `ECSD_GITHUB_API_URL`), checked before the controller starts,
//! and the dispatcher that delivers to them (the `ecsd-notify` crate).

use std::sync::Arc;

use ecsd_notify::client::Https;
use ecsd_notify::webhook::Context;
use ecsd_notify::{Dispatcher, GITHUB_API, Kind, NotifyError, Settings, Target};
use ecsd_runtime::notify::Notifier;
use ecsd_runtime::status::SharedStatus;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The notifier for `urls` (`None` without any), or why one of them cannot be used.
pub(crate) fn notifier(
    urls: &[String],
    queue_max: usize,
    public_url: Option<&str>,
    owner: &str,
    status: &SharedStatus,
) -> Result<Option<Arc<dyn Notifier>>, NotifyError> {
    let urls: Vec<&String> = urls.iter().filter(|u| !u.trim().is_empty()).collect();
    if urls.is_empty() {
        return Ok(None);
    }
    let github_api = env("ECSD_GITHUB_API_URL").unwrap_or_else(|| GITHUB_API.to_owned());
    let github_token = env("ECSD_GITHUB_TOKEN");
    let mut targets = Vec::new();
    for url in urls {
        let mut target = Target::parse(url, &github_api)?;
        if target.kind == Kind::GitHub && github_token.is_none() {
            return Err(NotifyError::NoToken(target.label));
        }
        if targets
            .iter()
            .any(|t: &Target| t.url == target.url && t.kind == target.kind)
        {
            continue;
        }
        // Two receivers on one host (labels show no path) are told apart by a number.
        let same = targets
            .iter()
            .filter(|t| t.label.split('#').next() == Some(&target.label))
            .count();
        if same > 0 {
            target.label = format!("{}#{}", target.label, same + 1);
        }
        targets.push(target);
    }
    let labels: Vec<&str> = targets.iter().map(|t| t.label.as_str()).collect();
    let secret = env("ECSD_NOTIFY_SECRET").map(String::into_bytes);
    tracing::info!(targets = %labels.join(", "), signed = secret.is_some(), "notifications on");
    let settings = Settings {
        context: Some(Context {
            owner: owner.to_owned(),
            public_url: public_url.map(str::to_owned),
        }),
        secret,
        github_token,
        queue_max,
    };
    let dispatcher = Dispatcher::start(targets, settings, status.clone(), Https::new()?);
    Ok(Some(dispatcher))
}
