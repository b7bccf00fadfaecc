//! `POST /hooks/git`: the git host's push webhook makes the controller fetch its source
//! now instead of at the next `--interval`.
//!
//! The request is authenticated with `ECSD_WEBHOOK_SECRET` (without it the endpoint is
//! off, 404): GitHub signs the body (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of
//! the body>`), GitLab sends the secret itself (`X-Gitlab-Token`). Both are compared in
//! constant time; anything else is 401 and nothing is fetched. A body above
//! [`MAX_HOOK_BODY`] bytes is refused (413) before it is read to the end. Like
//! `POST /sync`, one refresh waits at a time: another while it is pending gets 429 with
//! `Retry-After`. The webhook only says "look now": the fetch still reads the source,
//! so a forged or replayed push changes nothing a fetch would not.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{HeaderMap, Response, StatusCode, header};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

/// The largest webhook body read (GitHub caps its payloads at 25 MB, but a push event
/// with its commits is far smaller; the signature covers the whole body).
pub(crate) const MAX_HOOK_BODY: usize = 1024 * 1024;

/// SHA-256's block size, for HMAC.
const BLOCK: usize = 64;

/// The git webhook: its secret and the way to wake the source feed.
#[derive(Clone)]
pub(crate) struct GitHook {
    pub(crate) secret: Vec<u8>,
    pub(crate) refresh: mpsc::Sender<()>,
}

fn reply(code: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(format!("{body}\n"))));
    *r.status_mut() = code;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain"),
    );
    r
}

impl GitHook {
    /// Answers one webhook delivery whose body was read whole.
    pub(crate) fn handle(&self, headers: &HeaderMap, body: &[u8]) -> Response<Full<Bytes>> {
        if !self.verified(headers, body) {
            return reply(
                StatusCode::UNAUTHORIZED,
                "POST /hooks/git needs X-Hub-Signature-256 (GitHub) or X-Gitlab-Token (GitLab) made with ECSD_WEBHOOK_SECRET",
            );
        }
        match self.refresh.try_send(()) {
            Ok(()) => reply(StatusCode::ACCEPTED, "the source is fetched now"),
            Err(mpsc::error::TrySendError::Full(())) => {
                let mut r = reply(StatusCode::TOO_MANY_REQUESTS, "a fetch is already pending");
                r.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
                r
            }
            Err(mpsc::error::TrySendError::Closed(())) => reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "the source feed has stopped",
            ),
        }
    }

    /// Whether the delivery carries GitHub's signature of `body` or GitLab's token.
    fn verified(&self, headers: &HeaderMap, body: &[u8]) -> bool {
        let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if let Some(signature) = value("x-hub-signature-256") {
            return signature
                .strip_prefix("sha256=")
                .and_then(hex)
                .is_some_and(|given| same(&given, &hmac_sha256(&self.secret, body)));
        }
        if let Some(token) = value("x-gitlab-token") {
            return same(&Sha256::digest(token), &Sha256::digest(&self.secret));
        }
        false
    }
}

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// Lowercase or uppercase hex into bytes.
fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Equal contents, compared in time independent of where they differ (the length is
/// not secret: a SHA-256 is always 32 bytes).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook() -> (GitHook, mpsc::Receiver<()>) {
        let (tx, rx) = mpsc::channel(1);
        (
            GitHook {
                secret: b"It's a Secret to Everybody".to_vec(),
                refresh: tx,
            },
            rx,
        )
    }

    fn headers(name: &str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::HeaderName::from_bytes(name.as_bytes()).expect("name"),
            value.parse().expect("value"),
        );
        h
    }

    #[test]
    fn hmac_matches_github_s_documented_example() {
        // docs.github.com, "Validating webhook deliveries": secret "It's a Secret to
        // Everybody", payload "Hello, World!".
        let mac = hmac_sha256(b"It's a Secret to Everybody", b"Hello, World!");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }

    #[test]
    fn a_signed_delivery_wakes_the_feed_once_and_a_forged_one_does_not() {
        let (h, mut rx) = hook();
        let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        let bad = "sha256=857107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        let body = b"Hello, World!";
        let forged = h.handle(&headers("x-hub-signature-256", bad), body);
        assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
        assert!(rx.try_recv().is_err(), "nothing fetched");
        assert_eq!(
            h.handle(&HeaderMap::new(), body).status(),
            StatusCode::UNAUTHORIZED
        );
        let signed = headers("x-hub-signature-256", good);
        assert_eq!(h.handle(&signed, body).status(), StatusCode::ACCEPTED);
        // The same delivery again while the fetch is pending: 429.
        let again = h.handle(&signed, body);
        assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(again.headers().contains_key(header::RETRY_AFTER));
        assert_eq!(rx.try_recv(), Ok(()));
        // The body is what is signed.
        assert_eq!(
            h.handle(&signed, b"Hello, World?").status(),
            StatusCode::UNAUTHORIZED
        );
    }

    #[test]
    fn gitlab_s_token_is_the_secret_itself() {
        let (h, mut rx) = hook();
        let wrong = h.handle(&headers("x-gitlab-token", "guess"), b"{}");
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        let right = h.handle(
            &headers("x-gitlab-token", "It's a Secret to Everybody"),
            b"{}",
        );
        assert_eq!(right.status(), StatusCode::ACCEPTED);
        assert_eq!(rx.try_recv(), Ok(()));
    }
}
