//! The one plain HTTPS client ecsd builds outside the SDK: hyper over the rustls
//! (aws-lc) stack the SDK already builds, with the system's root certificates, and http
//! allowed (a local emulator's endpoint, a loopback receiver). Used for EC2's Query API
//! ([`crate::ec2`]) and for notifications (the `ecsd-notify` crate).

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// An HTTP/1 client for HTTPS and http URLs, with whole bodies.
pub type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The client; the error says why TLS cannot be set up (no root certificates).
pub fn https_client() -> Result<HttpsClient, String> {
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider)
        .map_err(|e| format!("no TLS root certificates: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}
