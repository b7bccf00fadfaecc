//! The generic JSON webhook: a versioned body (`docs/schema/notification-v1.json`),
//! signed with HMAC-SHA256 of the exact body bytes under `ECSD_NOTIFY_SECRET`, sent as
//! `X-Ecsd-Signature: sha256=<hex>` (the scheme GitHub's webhooks use, so receivers
//! can reuse their verification code).

use ecsd_runtime::notify::Notification;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The body's `version`; a change that is not an addition gets a new one.
pub const VERSION: &str = "ecsd.notification/v1";

/// What is true of every body.
#[derive(Debug, Clone)]
pub struct Context {
    /// The `--owner` of this ecsd.
    pub owner: String,
    /// `--public-url`, for links to `/ui`.
    pub public_url: Option<String>,
}

/// The notification's stable id: the same for every attempt to send it, so a receiver
/// can drop a repeat.
pub fn id(ctx: &Context, n: &Notification) -> String {
    let mut h = Sha256::new();
    for part in [
        ctx.owner.as_str(),
        n.event.as_str(),
        &n.at,
        &n.revision,
        &n.summary,
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    if let Some(s) = &n.subject {
        h.update(s.kind.as_bytes());
        h.update(s.name.as_bytes());
    }
    hex(&h.finalize()[..12])
}

/// A link to the object's page (or the overview) when `--public-url` is set.
pub fn link(ctx: &Context, n: &Notification) -> Option<String> {
    let base = ctx.public_url.as_deref()?.trim_end_matches('/');
    Some(match &n.subject {
        Some(s) => format!("{base}/ui/object/{}/{}", s.kind, s.name),
        None => format!("{base}/ui"),
    })
}

/// The JSON body.
pub fn body(ctx: &Context, n: &Notification) -> Value {
    let mut v = json!({
        "version": VERSION,
        "id": id(ctx, n),
        "event": n.event.as_str(),
        "at": n.at,
        "owner": ctx.owner,
        "revision": n.revision,
        "summary": n.summary,
    });
    if let Some(s) = &n.subject {
        v["object"] = json!(s);
    }
    if let Some(code) = &n.error_code {
        v["errorCode"] = json!(code);
    }
    if let Some(by) = &n.by {
        v["by"] = json!(by);
    }
    if let Some(p) = &n.pause {
        v["deployment"] = json!(p);
    }
    if let Some(a) = &n.analysis {
        v["analysis"] = a.clone();
    }
    if let Some(url) = link(ctx, n) {
        v["url"] = json!(url);
    }
    v
}

/// `sha256=<hex>` of HMAC-SHA256(secret, body).
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex(&mac.finalize().into_bytes()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use ecsd_runtime::notify::{Event, Subject};

    use super::*;

    #[test]
    fn the_signature_is_rfc_4231s_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_body_names_the_object_and_links_to_its_page() {
        let n = Notification {
            event: Event::RevisionFailed,
            at: "2026-12-04T00:00:00Z".into(),
            revision: "abc".into(),
            subject: Some(Subject {
                kind: "Service".into(),
                name: "web".into(),
                application: "web".into(),
            }),
            summary: "Service web failed to apply".into(),
            error_code: Some("InvalidParameterException".into()),
            by: None,
            pause: None,
            analysis: None,
        };
        let ctx = Context {
            owner: "prod".into(),
            public_url: Some("https://ecsd.example.com/".into()),
        };
        let b = body(&ctx, &n);
        assert_eq!(b["version"], VERSION);
        assert_eq!(b["event"], "revision.failed");
        assert_eq!(b["object"]["name"], "web");
        assert_eq!(b["errorCode"], "InvalidParameterException");
        assert_eq!(b["url"], "https://ecsd.example.com/ui/object/Service/web");
        assert_eq!(b["id"], id(&ctx, &n));
        assert_eq!(b["id"].as_str().map(str::len), Some(24));
    }
}
