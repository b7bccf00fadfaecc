//! Hearing AWS as it changes: events EventBridge delivers to an SQS queue (`run
//! --events`) wake the controller for just the objects they concern, so drift made in
//! the console, a paused deployment or a new upload to the S3 source is acted on in
//! seconds instead of at the next resync.
//!
//! Events are hints, never state: an event only says which objects to look at now; the
//! reconcile still reads AWS and compares (level-triggered), so a duplicate, late or
//! out-of-order event changes nothing, and ecsd's own changes coming back as events
//! find nothing to do (no loop). The full resync stays as the backstop.
//!
//! # Layout
//! - this file: what an event says ([`Notice`]) and the AWS resources it names
//!   ([`Resource`]);
//! - [`read`]: the event shapes ecsd understands (ECS service, deployment and hook
//!   events, CloudTrail API calls of ECS, ELBv2, Application Auto Scaling and
//!   CodeDeploy, S3 object events), each documented in docs/aws-behaviours.md;
//! - [`affect`]: which of the source's objects a resource concerns.
//!
//! Everything here is pure; the loop that reads the queue is the controller's
//! (`controller::listen`).

pub mod affect;
pub mod read;

/// What one event tells ecsd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Its type, as `/metrics` counts it.
    pub kind: EventKind,
    /// The AWS resources it names.
    pub resources: Vec<Resource>,
    /// A deployment moved (ECS deployment, hook or service events, CodeDeploy
    /// deployments): the controller looks at deployments at once, so a paused hook shows
    /// "awaiting approval" without waiting for the next pass.
    pub deployment: bool,
    /// An object of an S3 bucket was written or deleted.
    pub object: Option<S3Object>,
    /// What happened, for the log (`ecs UpdateService`, `ECS Deployment State Change
    /// SERVICE_DEPLOYMENT_IN_PROGRESS`).
    pub what: String,
    /// Who did it, when the event says (CloudTrail's `userIdentity.arn`).
    pub who: Option<String>,
}

/// The event types ecsd counts (a fixed set, so metric labels stay bounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventKind {
    ServiceAction,
    DeploymentStateChange,
    HookStateChange,
    ApiCall,
    S3Object,
    /// Read but not acted on (e.g. task state changes, a failed API call).
    Ignored,
    /// Not an event ecsd understands.
    Unknown,
}

impl EventKind {
    pub const ALL: [EventKind; 7] = [
        EventKind::ServiceAction,
        EventKind::DeploymentStateChange,
        EventKind::HookStateChange,
        EventKind::ApiCall,
        EventKind::S3Object,
        EventKind::Ignored,
        EventKind::Unknown,
    ];

    /// The `type` label of `ecsd_events_received_total` and the key in `/status`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ServiceAction => "ecs_service_action",
            EventKind::DeploymentStateChange => "ecs_deployment_state_change",
            EventKind::HookStateChange => "ecs_hook_state_change",
            EventKind::ApiCall => "cloudtrail_api_call",
            EventKind::S3Object => "s3_object",
            EventKind::Ignored => "ignored",
            EventKind::Unknown => "unknown",
        }
    }
}

/// An AWS resource an event names, as far as ecsd can identify it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Resource {
    /// An ECS service; `cluster` is `None` for an old-format ARN without it.
    Service {
        cluster: Option<String>,
        name: String,
    },
    /// An ELBv2 target group, by name.
    TargetGroup(String),
    /// An ELBv2 listener (a rule's event names its listener: every rule on it is looked at).
    Listener(String),
    /// The Application Auto Scaling target of an ECS service.
    ScalableService { cluster: String, name: String },
    /// A CodeDeploy application (ecsd names one per service).
    CodeDeployApplication(String),
}

/// An S3 object an event names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    pub bucket: String,
    pub key: String,
}
