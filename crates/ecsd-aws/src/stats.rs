//! Counting every AWS call ecsd makes, by service, operation and outcome, with an SDK
//! interceptor installed on every client. The counts feed `--log` summaries, the
//! `ecsd_aws_requests_total` metric, and the tests that prove a no-op pass mutates
//! nothing.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// One counter's labels: (service, operation, outcome).
pub type CallKey = (String, String, &'static str);

/// Shared call counters.
#[derive(Debug, Clone, Default)]
pub struct CallStats {
    counts: Arc<Mutex<BTreeMap<CallKey, u64>>>,
    /// Attempts (first tries and retries) by (service, operation).
    attempts: Arc<Mutex<BTreeMap<(String, String), u64>>>,
    /// Throttled answers by action (`pace::action_of`); each request was sent again.
    throttled: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl CallStats {
    /// A snapshot of every counter.
    pub fn snapshot(&self) -> BTreeMap<CallKey, u64> {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Attempts by (service, operation): calls plus the SDK's retries.
    pub fn attempts(&self) -> BTreeMap<(String, String), u64> {
        self.attempts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Throttled answers by action.
    pub fn throttled(&self) -> BTreeMap<String, u64> {
        self.throttled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn record_throttle(&self, action: &str) {
        *self
            .throttled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(action.to_owned())
            .or_default() += 1;
    }

    /// Calls per `Service.Operation`, all outcomes together.
    pub fn by_operation(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for ((service, op, _), n) in self.snapshot() {
            *out.entry(format!("{service}.{op}")).or_default() += n;
        }
        out
    }

    /// Total calls whose operation changes something (anything not Describe/List/Get).
    pub fn mutating(&self) -> u64 {
        self.by_operation()
            .iter()
            .filter(|(k, _)| is_mutating(k.rsplit('.').next().unwrap_or_default()))
            .map(|(_, n)| n)
            .sum()
    }

    /// Total calls.
    pub fn total(&self) -> u64 {
        self.snapshot().values().sum()
    }

    pub(crate) fn record(&self, service: &str, operation: &str, outcome: &'static str) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        *counts
            .entry((service.to_owned(), operation.to_owned(), outcome))
            .or_default() += 1;
    }
}

/// Whether an operation name is one that changes state.
pub fn is_mutating(operation: &str) -> bool {
    !["Describe", "List", "Get"]
        .iter()
        .any(|p| operation.starts_with(p))
}

/// The interceptor that feeds [`CallStats`].
#[derive(Debug, Clone)]
pub(crate) struct StatsInterceptor {
    pub(crate) stats: CallStats,
}

fn labels(cfg: &ConfigBag) -> (String, String) {
    cfg.load::<Metadata>()
        .map_or(("unknown".to_owned(), "unknown".to_owned()), |m| {
            (m.service().to_owned(), m.name().to_owned())
        })
}

impl Intercept for StatsInterceptor {
    fn name(&self) -> &'static str {
        "ecsd-call-stats"
    }

    fn read_after_attempt(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let mut attempts = self
            .stats
            .attempts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *attempts.entry(labels(cfg)).or_default() += 1;
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = labels(cfg);
        let outcome = match (context.output_or_error(), context.response()) {
            (Some(Ok(_)), _) => "success",
            // Refused by the fence before it was sent: this replica does not lead.
            (Some(Err(e)), None) if crate::fence::refused(e.as_connector_error()) => "not_sent",
            (_, Some(r)) if r.status().is_server_error() => "server_error",
            (_, Some(_)) => "client_error",
            (_, None) => "network_error",
        };
        self.stats.record(&service, &operation, outcome);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_list_and_get_are_reads_everything_else_mutates() {
        assert!(!is_mutating("DescribeServices"));
        assert!(!is_mutating("ListServices"));
        assert!(is_mutating("UpdateService"));
        assert!(is_mutating("PutScalingPolicy"));
        assert!(is_mutating("TagResource"));
    }

    #[test]
    fn counts_group_by_operation() {
        let stats = CallStats::default();
        stats.record("ECS", "DescribeServices", "success");
        stats.record("ECS", "DescribeServices", "client_error");
        stats.record("ECS", "UpdateService", "success");
        assert_eq!(stats.by_operation().get("ECS.DescribeServices"), Some(&2));
        assert_eq!(stats.mutating(), 1);
        assert_eq!(stats.total(), 3);
    }
}
