//! AWS failures as ecsd reports them.

use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

/// A failed AWS call: which service and operation, and what AWS said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsError {
    /// AWS answered with an error code (e.g. `ClusterNotFoundException`, `ThrottlingException`).
    #[error("{service} {operation} failed: {code}: {message}")]
    Service {
        service: &'static str,
        operation: &'static str,
        code: String,
        message: String,
    },
    /// Not sent: this replica does not hold the leader lease (see [`crate::fence`]).
    #[error("{service} {operation} not sent: this replica does not hold the leader lease")]
    Fenced {
        service: &'static str,
        operation: &'static str,
    },
    /// No usable answer: connection, timeout, or a response that could not be read.
    #[error("{service} {operation} failed: {message}")]
    Transport {
        service: &'static str,
        operation: &'static str,
        message: String,
    },
}

impl AwsError {
    /// The AWS error code, if AWS answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Service { code, .. } => Some(code),
            AwsError::Transport { .. } | AwsError::Fenced { .. } => None,
        }
    }

    /// Whether the call was refused locally because this replica does not lead.
    pub fn is_fenced(&self) -> bool {
        matches!(self, AwsError::Fenced { .. })
    }

    /// A request ecsd could not even build (a bug, never AWS's fault).
    pub(crate) fn invalid(service: &'static str, what: &str, e: impl std::fmt::Display) -> Self {
        AwsError::Transport {
            service,
            operation: "build request",
            message: format!("invalid {what}: {e}"),
        }
    }

    /// An answer that lacks a field ecsd needs.
    pub(crate) fn missing(service: &'static str, operation: &'static str, field: &str) -> Self {
        AwsError::Transport {
            service,
            operation,
            message: format!("the answer has no {field}"),
        }
    }

    /// Whether AWS said it is throttling.
    pub fn is_throttling(&self) -> bool {
        self.code().is_some_and(|c| {
            matches!(
                c,
                "Throttling"
                    | "ThrottlingException"
                    | "ThrottledException"
                    | "TooManyRequestsException"
                    | "RequestLimitExceeded"
                    | "RequestThrottled"
                    | "SlowDown"
                    | "PriorRequestNotComplete"
            )
        })
    }

    pub(crate) fn from_sdk<E>(
        service: &'static str,
        operation: &'static str,
        err: SdkError<E, HttpResponse>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        if let SdkError::DispatchFailure(d) = &err
            && crate::fence::refused(d.as_connector_error())
        {
            return AwsError::Fenced { service, operation };
        }
        // The whole error, with the SDK's internals, for RUST_LOG=debug only.
        tracing::debug!(service, operation, error = ?err, "AWS call failed");
        // An error body the SDK could not read still carries what AWS said.
        let (code, message) = match (err.code(), &err) {
            (Some(code), _) => (
                Some(code.to_owned()),
                err.message().unwrap_or_default().to_owned(),
            ),
            (None, SdkError::ServiceError(ctx)) => match from_body(ctx.raw()) {
                Some((code, message)) => (Some(code), message),
                None => (None, String::new()),
            },
            // An error answer in a shape the SDK could not parse at all.
            (None, SdkError::ResponseError(ctx)) if !ctx.raw().status().is_success() => {
                match from_body(ctx.raw()) {
                    Some((code, message)) => (Some(code), message),
                    None => (None, String::new()),
                }
            }
            (None, _) => (None, String::new()),
        };
        match code {
            Some(code) => {
                let mut message = one_line(&message);
                if is_access_denied(&code, &message) {
                    message.push_str(&format!(
                        "; ecsd needs {} on this resource (deploy/iam-policy.json lists every permission ecsd uses)",
                        iam_action(service, operation)
                    ));
                }
                AwsError::Service {
                    service,
                    operation,
                    code,
                    message,
                }
            }
            None => AwsError::Transport {
                service,
                operation,
                message: transport_message(&err),
            },
        }
    }
}

/// The code and message of an error answer the SDK could not parse (an XML or JSON body
/// in another shape than the service's protocol, as an emulator may send), or for a
/// bare 403 "AccessDenied" with the HTTP status.
fn from_body(raw: &HttpResponse) -> Option<(String, String)> {
    let status = raw.status().as_u16();
    let body = raw
        .body()
        .bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    let tag = |name: &str| {
        let start = body.find(&format!("<{name}>"))? + name.len() + 2;
        let end = body[start..].find(&format!("</{name}>"))? + start;
        Some(body[start..end].trim().to_owned())
    };
    let json: Option<serde_json::Value> = serde_json::from_str(&body).ok();
    let from_json = |key: &str| {
        json.as_ref()
            .and_then(|j| j.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let code = tag("Code")
        .or_else(|| {
            from_json("__type").map(|t| t.rsplit('#').next().unwrap_or_default().to_owned())
        })
        .or_else(|| (status == 403).then(|| "AccessDenied".to_owned()))?;
    let message = tag("Message")
        .or_else(|| from_json("message"))
        .or_else(|| from_json("Message"))
        .unwrap_or_else(|| format!("HTTP {status}"));
    Some((code, message))
}

/// Text on one line: line breaks become "; ".
fn one_line(text: &str) -> String {
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whether AWS refused the call for lack of permission.
fn is_access_denied(code: &str, message: &str) -> bool {
    matches!(
        code,
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "AuthorizationError"
    ) || message.contains("is not authorized to perform")
}

/// The IAM action of a call, e.g. `ecs:DescribeClusters`.
fn iam_action(service: &str, operation: &str) -> String {
    let prefix = match service {
        "ECS" => "ecs",
        "ELBv2" => "elasticloadbalancing",
        "ApplicationAutoScaling" => "application-autoscaling",
        "CodeDeploy" => "codedeploy",
        "DynamoDB" => "dynamodb",
        "S3" => "s3",
        other => return format!("{other}:{operation}"),
    };
    format!("{prefix}:{operation}")
}

/// What went wrong when AWS gave no error code, on one line and in words a person can
/// act on: no credentials, no region, an endpoint that cannot be reached, a timeout;
/// otherwise the chain of causes (never the SDK's debug form).
fn transport_message<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: std::error::Error + 'static,
{
    use aws_credential_types::provider::error::CredentialsError;
    let mut causes: Vec<&(dyn std::error::Error + 'static)> = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        causes.push(e);
        next = e.source();
    }
    if let Some(c) = causes
        .iter()
        .find_map(|e| e.downcast_ref::<CredentialsError>())
    {
        return match c {
            CredentialsError::CredentialsNotLoaded(_) => "no AWS credentials: the SDK's chain tried the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), the shared config and credentials files (AWS_PROFILE), web identity (AWS_WEB_IDENTITY_TOKEN_FILE), ECS container credentials and EC2 instance metadata, and found none; set the environment variables or AWS_PROFILE, or run ecsd with a task or instance role".to_owned(),
            other => {
                let mut why = vec![one_line(&other.to_string())];
                let mut next = std::error::Error::source(other);
                while let Some(e) = next {
                    let t = one_line(&e.to_string());
                    if !why.iter().any(|w| w.contains(&t)) {
                        why.push(t);
                    }
                    next = e.source();
                }
                format!(
                    "the AWS credentials could not be loaded: {}; check AWS_PROFILE, the shared config and credentials files, or the task or instance role",
                    why.join(": ")
                )
            }
        };
    }
    let text: Vec<String> = causes.iter().map(|e| one_line(&e.to_string())).collect();
    if text.iter().any(|t| t.contains("Missing Region")) {
        return "no AWS region: set AWS_REGION (or a region in the AWS profile)".to_owned();
    }
    let innermost = text.last().cloned().unwrap_or_default();
    match err {
        SdkError::TimeoutError(_) => {
            "AWS did not answer in time (check the network, or AWS_ENDPOINT_URL if you set one)"
                .to_owned()
        }
        SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => format!(
            "cannot reach the AWS endpoint: {innermost} (check the network and the region, or AWS_ENDPOINT_URL if you set one)"
        ),
        _ => {
            // Each cause once, outermost first: "dispatch failure: io error: ...".
            let mut out: Vec<String> = Vec::new();
            for t in text {
                if !out.iter().any(|o| o.contains(&t)) {
                    out.push(t);
                }
            }
            out.join(": ")
        }
    }
}

/// Maps an SDK error of `service`'s `operation` to an [`AwsError`]; for `map_err`.
pub(crate) fn failed<E>(
    service: &'static str,
    operation: &'static str,
) -> impl FnOnce(SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    move |e| AwsError::from_sdk(service, operation, e)
}
