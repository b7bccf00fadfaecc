//! The controller's HTTP endpoints: `GET /healthz` (200 while the process works),
//! `GET /readyz` (200 after the first full reconcile, 503 before), `GET /metrics`
//! (Prometheus text), `GET /status` (JSON, as `ecsd status --output json`) and
//! `POST /sync` (202: a full pass starts at once; at most one per second).

use std::convert::Infallible;
use std::sync::PoisonError;

use bytes::Bytes;
use ecsd_aws::CallStats;
use ecsd_runtime::controller::{Event, SharedStatus};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

/// What the handlers need.
#[derive(Clone)]
pub(crate) struct Endpoints {
    pub(crate) status: SharedStatus,
    pub(crate) calls: CallStats,
    pub(crate) events: mpsc::Sender<Event>,
}

/// Serves until `shutdown` turns true.
pub(crate) async fn serve(
    listener: TcpListener,
    endpoints: Endpoints,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting an HTTP connection");
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let endpoints = endpoints.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let endpoints = endpoints.clone();
                async move { Ok::<_, Infallible>(endpoints.handle(&req)) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn response(code: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = code;
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

impl Endpoints {
    fn handle(&self, req: &Request<Incoming>) -> Response<Full<Bytes>> {
        let status = || self.status.lock().unwrap_or_else(PoisonError::into_inner);
        match (req.method(), req.uri().path()) {
            (&Method::GET, "/healthz") => response(StatusCode::OK, "text/plain", "ok\n".to_owned()),
            (&Method::GET, "/readyz") => {
                if status().ready {
                    response(StatusCode::OK, "text/plain", "ready\n".to_owned())
                } else {
                    response(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "text/plain",
                        "not ready: the first reconcile is not done\n".to_owned(),
                    )
                }
            }
            (&Method::GET, "/metrics") => {
                let text = status().metrics(
                    &self.calls.snapshot(),
                    &self.calls.attempts(),
                    &self.calls.throttled(),
                );
                response(StatusCode::OK, "text/plain; version=0.0.4", text)
            }
            (&Method::GET, "/status") => response(
                StatusCode::OK,
                "application/json",
                status().to_json().to_string(),
            ),
            (&Method::POST, "/sync") => {
                // A full channel already holds a request: this one is served by it.
                let _ = self.events.try_send(Event::Sync);
                response(
                    StatusCode::ACCEPTED,
                    "application/json",
                    "{\"accepted\":true}".to_owned(),
                )
            }
            (_, "/healthz" | "/readyz" | "/metrics" | "/status" | "/sync") => response(
                StatusCode::METHOD_NOT_ALLOWED,
                "text/plain",
                "method not allowed\n".to_owned(),
            ),
            _ => response(
                StatusCode::NOT_FOUND,
                "text/plain",
                "not found\n".to_owned(),
            ),
        }
    }
}
