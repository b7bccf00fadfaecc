//! The controller's HTTP endpoints: `GET /healthz` (200 while the process works),
//! `GET /readyz` (200 after the first full reconcile, on the leader only with leader
//! election, and while the event queue of `--events` can be read; 503 otherwise), `GET /metrics` (Prometheus text), `GET /status` (JSON, as
//! `ecsd status --output json`), `GET /ui` (the same as an HTML page for people) and
//! `POST /sync` (202: a full pass starts; 429 with
//! `Retry-After` while one is pending or running; with `ECSD_SYNC_TOKEN`, 401 without
//! its bearer token) and, with `ECSD_WEBHOOK_SECRET`, `POST /hooks/git` (a signed push
//! webhook: the source is fetched now; see [`crate::hooks`]).
//!
//! Fit for a shared VPC: at most [`MAX_CONNECTIONS`] connections at once, each closed
//! after [`CONNECTION_LIFETIME`]; request headers must arrive within
//! [`HEADER_TIMEOUT`], at most [`MAX_HEADERS`] of them in [`MAX_BUFFER`] bytes (431
//! beyond); bodies are never read but a webhook's (at most
//! [`crate::hooks::MAX_HOOK_BODY`] bytes), and one announced above [`MAX_BODY`] bytes
//! gets 413.
//! A failing `accept` (out of file descriptors) backs off instead of spinning.

use std::convert::Infallible;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use ecsd_aws::CallStats;
use ecsd_runtime::controller::{Event, SharedStatus};
use ecsd_runtime::status::Status;
use ecsd_runtime::targets::SharedTargets;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode, header};
use hyper_util::rt::{TokioIo, TokioTimer};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc, watch};

use crate::hooks::{GitHook, MAX_HOOK_BODY};

/// Connections served at once; more wait in the kernel's backlog.
pub(crate) const MAX_CONNECTIONS: usize = 64;
/// The longest one connection is kept (keep-alive included).
pub(crate) const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);
/// The longest a client may take to send a request's headers.
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
pub(crate) const MAX_HEADERS: usize = 32;
/// hyper's read buffer (its minimum): request line and headers must fit.
pub(crate) const MAX_BUFFER: usize = 8192;
pub(crate) const MAX_BODY: u64 = 16 * 1024;
/// The longest pause between failed accepts.
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// What the handlers need.
#[derive(Clone)]
pub(crate) struct Endpoints {
    pub(crate) status: SharedStatus,
    /// Each deployment target's status (empty without targets).
    pub(crate) targets: SharedTargets,
    pub(crate) calls: CallStats,
    pub(crate) events: mpsc::Sender<Event>,
    /// The SHA-256 of `ECSD_SYNC_TOKEN`, when set.
    pub(crate) sync_token: Option<[u8; 32]>,
    /// `POST /hooks/git`, when `ECSD_WEBHOOK_SECRET` is set.
    pub(crate) git_hook: Option<GitHook>,
}

/// The SHA-256 of a token: tokens are compared as digests, in constant time.
pub(crate) fn digest(token: &[u8]) -> [u8; 32] {
    Sha256::digest(token).into()
}

/// Compares two digests in time independent of where they differ.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Serves until `shutdown` turns true.
pub(crate) async fn serve(
    listener: TcpListener,
    endpoints: Endpoints,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut backoff = Duration::ZERO;
    loop {
        let accepting = async {
            let permit = slots.clone().acquire_owned().await;
            (permit, listener.accept().await)
        };
        let (permit, stream) = tokio::select! {
            (permit, accepted) = accepting => match (permit, accepted) {
                (Ok(permit), Ok((stream, _))) => {
                    backoff = Duration::ZERO;
                    (permit, stream)
                }
                (_, Err(e)) => {
                    // Out of file descriptors, mostly: the connection stays queued, so
                    // accepting again at once would spin. Wait, longer each time.
                    backoff = (backoff * 2).clamp(Duration::from_millis(10), ACCEPT_BACKOFF_MAX);
                    if backoff < ACCEPT_BACKOFF_MAX {
                        tracing::warn!(error = %e, retry_ms = backoff.as_millis(), "accepting an HTTP connection failed");
                    }
                    tokio::time::sleep(backoff).await;
                    continue;
                }
                (Err(_), _) => return,
            },
            _ = shutdown.changed() => return,
        };
        let endpoints = endpoints.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let endpoints = endpoints.clone();
                async move { Ok::<_, Infallible>(endpoints.route(req).await) }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_headers(MAX_HEADERS)
                .max_buf_size(MAX_BUFFER);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, connection).await;
            drop(permit);
        });
    }
}

fn response(code: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = code;
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

fn text(code: StatusCode, body: &str) -> Response<Full<Bytes>> {
    response(code, "text/plain", format!("{body}\n"))
}

impl Endpoints {
    /// A request whose body matters (a webhook's) is read here, bounded; every other
    /// is answered from its head.
    async fn route(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        if req.uri().path() != "/hooks/git" {
            return self.handle(&req);
        }
        let Some(hook) = &self.git_hook else {
            return text(
                StatusCode::NOT_FOUND,
                "webhooks are off: set ECSD_WEBHOOK_SECRET",
            );
        };
        if req.method() != Method::POST {
            return text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        }
        let (head, body) = req.into_parts();
        match Limited::new(body, MAX_HOOK_BODY).collect().await {
            Ok(collected) => hook.handle(&head.headers, &collected.to_bytes()),
            Err(_) => text(
                StatusCode::PAYLOAD_TOO_LARGE,
                "webhook body too large or cut short",
            ),
        }
    }

    /// Each deployment target's status, copied (empty without targets).
    fn target_statuses(&self) -> Vec<Status> {
        let targets: Vec<SharedStatus> = self
            .targets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        targets
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).clone())
            .collect()
    }

    /// The `/status` document: the process's, or with targets, every target's.
    fn status_json(&self) -> serde_json::Value {
        let targets = self.target_statuses();
        let main = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        if targets.is_empty() {
            main.to_json()
        } else {
            ecsd_runtime::status::target::fleet_json(&main, &targets)
        }
    }

    fn handle<B>(&self, req: &Request<B>) -> Response<Full<Bytes>> {
        let status = || self.status.lock().unwrap_or_else(PoisonError::into_inner);
        let announced = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|n| n > MAX_BODY) {
            return text(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
        }
        match (req.method(), req.uri().path()) {
            (&Method::GET, "/healthz") => text(StatusCode::OK, "ok"),
            (&Method::GET, "/readyz") => {
                let status = status();
                match &status.lease {
                    Some(lease) if !lease.leading => {
                        let leader = lease.leader.as_deref().unwrap_or("no replica yet");
                        text(
                            StatusCode::SERVICE_UNAVAILABLE,
                            &format!("standby: the leader is {leader}"),
                        )
                    }
                    _ if status.shards.as_ref().is_some_and(|s| s.leads.is_empty()) => text(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "standby: this replica leads no deployment target",
                    ),
                    _ => match status.event_feed.as_ref().and_then(|f| f.error.as_ref()) {
                        Some(error) => text(
                            StatusCode::SERVICE_UNAVAILABLE,
                            &format!(
                                "not ready: cannot read the event queue ({error}); resyncing on --resync until it can"
                            ),
                        ),
                        None if status.ready || self.targets_ready() => {
                            text(StatusCode::OK, "ready")
                        }
                        None => text(
                            StatusCode::SERVICE_UNAVAILABLE,
                            "not ready: the first reconcile is not done",
                        ),
                    },
                }
            }
            (&Method::GET, "/metrics") => {
                let targets = self.target_statuses();
                let text = status().metrics(
                    &targets,
                    &self.calls.snapshot(),
                    &self.calls.attempts(),
                    &self.calls.throttled(),
                );
                response(StatusCode::OK, "text/plain; version=0.0.4", text)
            }
            (&Method::GET, "/status") => response(
                StatusCode::OK,
                "application/json",
                self.status_json().to_string(),
            ),
            (&Method::GET, "/ui") => {
                let doc = self.status_json();
                let filter = crate::ui::filter_of(req.uri().query());
                response(
                    StatusCode::OK,
                    "text/html; charset=utf-8",
                    crate::ui::page(&doc, &filter),
                )
            }
            (&Method::GET, path) if path.starts_with("/ui/object/") => {
                let mut doc = self.status_json();
                // With deployment targets, `?target=` says which one's object.
                let target = crate::ui::param_of(req.uri().query(), "target");
                if !target.is_empty()
                    && let Some(objects) = doc["objects"].as_array_mut()
                {
                    objects.retain(|o| o["target"] == target.as_str());
                }
                match crate::ui::object_path(path)
                    .and_then(|(kind, name)| crate::ui::object_page(&doc, &kind, &name))
                {
                    Some(page) => response(StatusCode::OK, "text/html; charset=utf-8", page),
                    None => text(StatusCode::NOT_FOUND, "no such object"),
                }
            }
            (&Method::POST, "/sync") => self.sync(req),
            (_, "/healthz" | "/readyz" | "/metrics" | "/status" | "/ui" | "/sync") => {
                text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
            }
            _ => text(StatusCode::NOT_FOUND, "not found"),
        }
    }

    /// `POST /sync`: authorised by the token, if any; one sync at a time.
    /// With targets: every target's first reconcile is done, or the target shows why it
    /// cannot be (its role denied, its region down: that is its own failure, in its
    /// `/status` entry, and does not hold the process back).
    /// With shards, only the targets this replica leads count.
    fn targets_ready(&self) -> bool {
        let targets = self.target_statuses();
        let led = |s: &&Status| s.lease.as_ref().is_none_or(|l| l.leading);
        !targets.is_empty()
            && targets
                .iter()
                .filter(led)
                .all(|s| s.ready || !s.errors.is_empty())
    }

    fn sync<B>(&self, req: &Request<B>) -> Response<Full<Bytes>> {
        if let Some(expected) = &self.sync_token {
            let given = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(|t| digest(t.trim().as_bytes()));
            if !given.is_some_and(|g| same(&g, expected)) {
                let mut r = text(
                    StatusCode::UNAUTHORIZED,
                    "POST /sync needs Authorization: Bearer <ECSD_SYNC_TOKEN>",
                );
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer realm=\"ecsd\""),
                );
                return r;
            }
        }
        let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        if status.sync_pending || status.pass_running {
            let what = if status.sync_pending {
                "pending"
            } else {
                "running"
            };
            drop(status);
            let mut r = response(
                StatusCode::TOO_MANY_REQUESTS,
                "application/json",
                format!("{{\"accepted\":false,\"reason\":\"a sync is already {what}\"}}"),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            return r;
        }
        status.sync_pending = true;
        drop(status);
        // A full channel already holds events that each start a pass.
        let _ = self.events.try_send(Event::Sync);
        response(
            StatusCode::ACCEPTED,
            "application/json",
            "{\"accepted\":true}".to_owned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    fn endpoints(token: Option<&str>) -> (Endpoints, mpsc::Receiver<Event>) {
        let (events, rx) = mpsc::channel(4);
        let endpoints = Endpoints {
            status: Arc::new(Mutex::new(Status::default())),
            calls: CallStats::default(),
            events,
            targets: SharedTargets::default(),
            sync_token: token.map(|t| digest(t.as_bytes())),
            git_hook: None,
        };
        (endpoints, rx)
    }

    fn post_sync(auth: Option<&str>) -> Request<()> {
        let mut req = Request::post("/sync");
        if let Some(a) = auth {
            req = req.header(header::AUTHORIZATION, a);
        }
        req.body(()).unwrap_or_default()
    }

    #[test]
    fn sync_needs_the_token_when_one_is_set() {
        let (e, _rx) = endpoints(Some("s3cret"));
        for auth in [
            None,
            Some("Bearer wrong"),
            Some("s3cret"),
            Some("Basic s3cret"),
        ] {
            let r = e.handle(&post_sync(auth));
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
            assert!(r.headers().contains_key(header::WWW_AUTHENTICATE));
        }
        assert_eq!(
            e.handle(&post_sync(Some("Bearer s3cret"))).status(),
            StatusCode::ACCEPTED
        );
    }

    #[test]
    fn a_second_sync_while_one_is_pending_or_running_gets_429_with_retry_after() {
        let (e, mut rx) = endpoints(None);
        assert_eq!(e.handle(&post_sync(None)).status(), StatusCode::ACCEPTED);
        assert_eq!(rx.try_recv().ok(), Some(Event::Sync));
        let again = e.handle(&post_sync(None));
        assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            again
                .headers()
                .get(header::RETRY_AFTER)
                .map(|v| v.as_bytes()),
            Some(&b"1"[..])
        );
        assert!(rx.try_recv().is_err(), "no second pass queued");
        // The pass starts (pending → running), then ends.
        if let Ok(mut s) = e.status.lock() {
            s.sync_pending = false;
            s.pass_running = true;
        }
        assert_eq!(
            e.handle(&post_sync(None)).status(),
            StatusCode::TOO_MANY_REQUESTS
        );
        if let Ok(mut s) = e.status.lock() {
            s.pass_running = false;
        }
        assert_eq!(e.handle(&post_sync(None)).status(), StatusCode::ACCEPTED);
    }

    #[test]
    fn a_large_announced_body_is_refused_unread() {
        let (e, _rx) = endpoints(None);
        let req = Request::post("/sync")
            .header(header::CONTENT_LENGTH, "1000000")
            .body(())
            .unwrap_or_default();
        assert_eq!(e.handle(&req).status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
}
