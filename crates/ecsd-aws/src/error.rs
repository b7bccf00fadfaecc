//! AWS failures as ecsd reports them.

use aws_sdk_ecs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

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

    pub(crate) fn from_sdk<E, R>(
        service: &'static str,
        operation: &'static str,
        err: SdkError<E, R>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        if let SdkError::DispatchFailure(d) = &err
            && crate::fence::refused(d.as_connector_error())
        {
            return AwsError::Fenced { service, operation };
        }
        match err.code() {
            Some(code) => AwsError::Service {
                service,
                operation,
                code: code.to_owned(),
                message: err.message().unwrap_or_default().to_owned(),
            },
            None => AwsError::Transport {
                service,
                operation,
                message: DisplayErrorContext(&err).to_string(),
            },
        }
    }
}

/// Maps an SDK error of `service`'s `operation` to an [`AwsError`]; for `map_err`.
pub(crate) fn failed<E, R>(
    service: &'static str,
    operation: &'static str,
) -> impl FnOnce(SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    move |e| AwsError::from_sdk(service, operation, e)
}
