//! `kind: TargetGroup`: an ELBv2 target group and, optionally, one listener rule.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The desired state of one ELBv2 target group (`metadata.name` is its AWS name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetGroupSpec {
    /// The VPC of the target group, e.g. `vpc-0abc1234`.
    pub vpc_id: String,
    /// The port targets receive traffic on (the container port).
    #[schemars(range(min = 1, max = 65535))]
    pub port: u16,
    /// `HTTP` or `HTTPS`; default `HTTP`.
    #[serde(default)]
    pub protocol: Protocol,
    /// Fargate tasks register by IP, so `ip` is the only accepted value and the default.
    #[serde(default)]
    pub target_type: TargetType,
    /// Health check settings; a field left out means the AWS default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<TargetGroupHealthCheck>,
    /// Seconds ELB waits before deregistering a draining target (AWS default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 3600))]
    pub deregistration_delay_seconds: Option<u32>,
    /// A forward rule on an existing listener that sends matching requests here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener_rule: Option<ListenerRule>,
}

/// The target group protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
    #[default]
    Http,
    Https,
}

impl Protocol {
    /// The AWS spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "HTTP",
            Protocol::Https => "HTTPS",
        }
    }
}

/// How targets are registered. Fargate (awsvpc networking) needs `ip`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TargetType {
    #[default]
    Ip,
}

/// ELBv2 health check settings of a target group.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetGroupHealthCheck {
    /// The HTTP path probed, starting with `/` (AWS default `/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub path: Option<String>,
    /// Seconds between probes (AWS default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 5, max = 300))]
    pub interval_seconds: Option<u32>,
    /// Seconds without an answer that fail a probe; less than `intervalSeconds` (AWS default 6 for HTTP, 10 for HTTPS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2, max = 120))]
    pub timeout_seconds: Option<u32>,
    /// Consecutive successes before a target is healthy (AWS default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2, max = 10))]
    pub healthy_threshold: Option<u32>,
    /// Consecutive failures before a target is unhealthy (AWS default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2, max = 10))]
    pub unhealthy_threshold: Option<u32>,
    /// HTTP codes that count as healthy: `200`, `200,302` or `200-299` (AWS default `200`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matcher: Option<String>,
}

/// A forward rule on an existing ALB listener.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListenerRule {
    /// The ARN of the listener (it is not created by ecsd).
    pub listener_arn: String,
    /// Rule priority, unique per listener.
    #[schemars(range(min = 1, max = 50000))]
    pub priority: u32,
    /// Path patterns, e.g. `/api/*` (at most 5 values across all conditions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path_patterns: Vec<String>,
    /// Host headers, e.g. `api.example.com`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_headers: Vec<String>,
    /// This target group's weight (0-999) when the rule also forwards to
    /// `alsoForwardTo`; required with it, forbidden without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 999))]
    pub weight: Option<u32>,
    /// Target groups ecsd does not own (an Auto Scaling group's, during a migration)
    /// that keep a share of the rule's traffic, by weight. ecsd never changes them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 4))]
    pub also_forward_to: Vec<WeightedTargetGroup>,
}

/// Another target group of a weighted listener rule, by ARN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WeightedTargetGroup {
    /// Its ARN (`arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID`).
    pub target_group_arn: String,
    /// Its weight, 0-999: traffic splits in proportion to the weights.
    #[schemars(range(min = 0, max = 999))]
    pub weight: u32,
}
