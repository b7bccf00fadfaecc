//! Where a `--notify` URL sends, and how it is shown: the kind comes from the URL
//! (`hooks.slack.com` is Slack, `github://owner/repo` is GitHub commit statuses, any
//! other https URL a JSON webhook; a `slack+` or `webhook+` prefix forces the kind).
//! The URL itself is a secret (a Slack webhook's path is its token): logs, `/status`
//! and metric labels show only [`Target::label`], scheme, host and port.

use http::Uri;

use crate::NotifyError;

/// The kind of receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Slack,
    Webhook,
    GitHub,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Slack => "slack",
            Kind::Webhook => "webhook",
            Kind::GitHub => "github",
        }
    }
}

/// One receiver of notifications.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: Kind,
    /// Where to POST (Slack, webhook), or the API base (GitHub).
    pub url: Uri,
    /// GitHub: `owner/repo`.
    pub repo: Option<String>,
    /// What people see: no path, query or credentials.
    pub label: String,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("kind", &self.kind)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

/// The API GitHub statuses go to unless `ECSD_GITHUB_API_URL` says otherwise (GitHub
/// Enterprise Server: `https://HOST/api/v3`).
pub const GITHUB_API: &str = "https://api.github.com";

impl Target {
    /// Parses one `--notify` value; `github_api` is the API base for `github://`.
    pub fn parse(value: &str, github_api: &str) -> Result<Target, NotifyError> {
        let value = value.trim();
        let bad = |why: String| NotifyError::Url {
            shown: shown(value),
            why,
        };
        if let Some(repo) = value.strip_prefix("github://") {
            let repo = repo.trim_end_matches('/');
            let mut parts = repo.split('/');
            let (Some(owner), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(bad("expected github://OWNER/REPO".to_owned()));
            };
            let valid = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            };
            if !valid(owner) || !valid(name) {
                return Err(bad("expected github://OWNER/REPO".to_owned()));
            }
            let url = checked(github_api.trim_end_matches('/'), "ECSD_GITHUB_API_URL")?;
            return Ok(Target {
                kind: Kind::GitHub,
                label: format!("github://{owner}/{name}"),
                url,
                repo: Some(format!("{owner}/{name}")),
            });
        }
        let (forced, rest) = if let Some(r) = value.strip_prefix("slack+") {
            (Some(Kind::Slack), r)
        } else if let Some(r) = value.strip_prefix("webhook+") {
            (Some(Kind::Webhook), r)
        } else {
            (None, value)
        };
        let url = checked(rest, value)?;
        let host = url.host().unwrap_or_default().to_ascii_lowercase();
        let kind = forced.unwrap_or(if host == "hooks.slack.com" {
            Kind::Slack
        } else {
            Kind::Webhook
        });
        Ok(Target {
            kind,
            label: format!("{}:{}", kind.as_str(), origin(&url)),
            url,
            repo: None,
        })
    }
}

/// The URL, if it is https (or http to a loopback address, for a receiver on the same
/// host), with a host and no credentials in it.
fn checked(url: &str, shown_as: &str) -> Result<Uri, NotifyError> {
    let bad = |why: &str| NotifyError::Url {
        shown: shown(shown_as),
        why: why.to_owned(),
    };
    let uri: Uri = url
        .parse()
        .map_err(|_| bad("not a URL (expected https://HOST/PATH or github://OWNER/REPO)"))?;
    let host = uri.host().ok_or_else(|| bad("the URL has no host"))?;
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(bad("credentials in the URL are not accepted"));
    }
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") if loopback(host) => Ok(uri),
        Some("http") => Err(bad(
            "plain http is accepted only for a loopback address; use https",
        )),
        _ => Err(bad("expected an https:// URL or github://OWNER/REPO")),
    }
}

fn loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Scheme, host and port: what can be shown of a URL.
fn origin(uri: &Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("https");
    let host = uri.host().unwrap_or_default();
    match uri.port_u16() {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    }
}

/// A value as an error may show it: the origin if it parses, else its scheme.
fn shown(value: &str) -> String {
    let rest = value
        .strip_prefix("slack+")
        .or_else(|| value.strip_prefix("webhook+"))
        .unwrap_or(value);
    match rest.parse::<Uri>() {
        Ok(u) if u.host().is_some() && !rest.contains('@') => format!("{}/…", origin(&u)),
        _ => "(a value that is not a URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_comes_from_the_url_and_labels_hide_the_path() {
        let slack = Target::parse(
            "https://hooks.slack.com/services/T000/B000/XXXXSECRET",
            GITHUB_API,
        )
        .expect("slack");
        assert_eq!(slack.kind, Kind::Slack);
        assert_eq!(slack.label, "slack:https://hooks.slack.com");
        assert!(!format!("{slack:?}").contains("XXXXSECRET"));
        let hook = Target::parse("https://example.com/hook?token=abc", GITHUB_API).expect("hook");
        assert_eq!(hook.kind, Kind::Webhook);
        assert_eq!(hook.label, "webhook:https://example.com");
        let gh = Target::parse("github://acme/shop", GITHUB_API).expect("github");
        assert_eq!(gh.kind, Kind::GitHub);
        assert_eq!(gh.repo.as_deref(), Some("acme/shop"));
        let forced =
            Target::parse("slack+http://127.0.0.1:9000/services/x", GITHUB_API).expect("forced");
        assert_eq!(forced.kind, Kind::Slack);
        assert_eq!(forced.label, "slack:http://127.0.0.1:9000");
    }

    #[test]
    fn unsafe_or_malformed_urls_are_refused_without_showing_their_secret_part() {
        for (value, why) in [
            ("http://example.com/hook/SECRET", "loopback"),
            ("ftp://example.com/SECRET", "https"),
            ("https://user:SECRET@example.com/x", "credentials"),
            ("github://acme", "OWNER/REPO"),
            ("github://acme/shop/extra", "OWNER/REPO"),
            ("not a url SECRET", "URL"),
        ] {
            let e = Target::parse(value, GITHUB_API)
                .expect_err(value)
                .to_string();
            assert!(e.contains(why), "{value}: {e}");
            assert!(!e.contains("SECRET"), "{value}: {e}");
        }
    }
}
