//! GitHub commit statuses ("Create a commit status", REST API): on the commit a git
//! source is at, `pending` while it applies, `success` when every object is Synced and
//! Healthy, `failure` with the first error; context `ecsd/<owner>`, so each ecsd that
//! deploys a commit has its own line on it.

use ecsd_runtime::notify::CommitState;
use serde_json::{Value, json};

use crate::webhook::Context;

/// The status's path under the API, if the revision is a commit id (a git source).
pub fn path(repo: &str, c: &CommitState) -> Option<String> {
    let sha = &c.revision;
    let commit = matches!(sha.len(), 40 | 64) && sha.chars().all(|ch| ch.is_ascii_hexdigit());
    commit.then(|| format!("/repos/{repo}/statuses/{sha}"))
}

/// The request body.
pub fn body(ctx: &Context, c: &CommitState) -> Value {
    let mut v = json!({
        "state": c.state.as_str(),
        "description": c.description,
        "context": format!("ecsd/{}", ctx.owner),
    });
    if let Some(base) = &ctx.public_url {
        v["target_url"] = json!(format!("{}/ui", base.trim_end_matches('/')));
    }
    v
}

#[cfg(test)]
mod tests {
    use ecsd_runtime::notify::CommitStatus;

    use super::*;

    #[test]
    fn only_a_commit_id_gets_a_status() {
        let c = |revision: &str| CommitState {
            revision: revision.into(),
            state: CommitStatus::Pending,
            description: "d".into(),
        };
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            path("acme/shop", &c(sha)).as_deref(),
            Some("/repos/acme/shop/statuses/0123456789abcdef0123456789abcdef01234567")
        );
        assert_eq!(path("acme/shop", &c("sha256:abcd")), None);
        let ctx = Context {
            owner: "prod".into(),
            public_url: Some("https://e.example.com".into()),
        };
        let b = body(&ctx, &c(sha));
        assert_eq!(b["context"], "ecsd/prod");
        assert_eq!(b["state"], "pending");
        assert_eq!(b["target_url"], "https://e.example.com/ui");
    }
}
