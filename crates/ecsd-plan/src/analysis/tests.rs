use serde_json::json;

use super::*;

fn analysis(v: serde_json::Value) -> Analysis {
    serde_json::from_value(v).expect("analysis")
}

fn errors() -> Analysis {
    analysis(
        json!({"stage": "PRE_PRODUCTION_TRAFFIC_SHIFT", "window": "3m", "interval": "1m",
        "metrics": [{"name": "errors", "builtin": "errorRate", "max": 0.01}]}),
    )
}

fn subject() -> Subject {
    Subject {
        canary: "targetgroup/web-g/2".into(),
        baseline: "targetgroup/web-b/1".into(),
        load_balancer: "app/lb/9".into(),
    }
}

fn series(id: &str, points: &[(u64, f64)]) -> MetricSeries {
    MetricSeries {
        id: id.into(),
        label: id.into(),
        timestamps: points.iter().map(|p| p.0).collect(),
        values: points.iter().map(|p| p.1).collect(),
        status: "Complete".into(),
    }
}

#[test]
fn the_window_starts_at_the_first_interval_after_the_pause() {
    let a = errors();
    // Paused at 1000 (expires 1000 + 60 min): the first minute boundary is 1020.
    let w = window(&a, 60, 1000 + 3600).expect("window");
    assert_eq!((w.paused_at, w.start, w.end), (1000, 1020, 1200));
    let w = window(&a, 60, 1200 + 3600).expect("window");
    assert_eq!((w.start, w.end), (1200, 1380));
}

#[test]
fn the_error_rate_is_errors_over_requests_on_the_canary_group_and_its_load_balancer() {
    let a = errors();
    let q = queries(&a, &subject());
    assert_eq!(q.len(), 2, "{q:?}");
    let MetricQueryKind::Stat {
        name,
        dimensions,
        stat,
        period,
        ..
    } = &q[0].kind
    else {
        panic!("{q:?}")
    };
    assert_eq!(
        (name.as_str(), stat.as_str(), *period),
        ("RequestCount", "Sum", 60)
    );
    assert!(dimensions.contains(&("TargetGroup".into(), "targetgroup/web-g/2".into())));
    assert!(dimensions.contains(&("LoadBalancer".into(), "app/lb/9".into())));

    let good = judge(
        &a,
        &[
            series("c0_req", &[(0, 100.0), (60, 100.0), (120, 100.0)]),
            series("c0_err", &[(60, 1.0)]),
        ],
    );
    assert_eq!(good.outcome, Outcome::Pass, "{good:?}");
    assert_eq!(good.action, Verdict::Continue);
    let v = good.metrics[0].value.expect("value");
    assert!((v - 1.0 / 300.0).abs() < 1e-9, "{v}");

    let bad = judge(
        &a,
        &[
            series("c0_req", &[(0, 100.0), (60, 100.0)]),
            series("c0_err", &[(0, 20.0), (60, 20.0)]),
        ],
    );
    assert_eq!(
        (bad.outcome, bad.action),
        (Outcome::Fail, Verdict::Rollback)
    );
    assert_eq!(
        bad.reason(),
        "errors 0.2 > max 0.01 (2 data points)",
        "{bad:?}"
    );
}

#[test]
fn too_few_data_points_is_no_data_and_waits_by_default() {
    let a = errors();
    // Three intervals: two are needed by default.
    let j = judge(&a, &[series("c0_req", &[(0, 100.0)])]);
    assert_eq!((j.outcome, j.action), (Outcome::NoData, Verdict::Wait));
    assert_eq!(j.metrics[0].value, None);
    assert!(j.reason().contains("1 of 2 needed"), "{}", j.reason());
    assert_eq!(judge(&a, &[]).outcome, Outcome::NoData);
}

#[test]
fn a_relative_bound_compares_with_the_production_group() {
    let a = analysis(json!({"stage": "POST_TEST_TRAFFIC_SHIFT", "window": "2m",
        "metrics": [{"name": "p99", "builtin": "latencyP99", "maxRatio": 1.5}]}));
    let q = queries(&a, &subject());
    let ids: Vec<&str> = q.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(ids, ["c0", "b0"]);
    let same = judge(
        &a,
        &[
            series("c0", &[(0, 0.2), (60, 0.25)]),
            series("b0", &[(0, 0.2), (60, 0.25)]),
        ],
    );
    assert_eq!(same.outcome, Outcome::Pass, "{same:?}");
    let double = judge(
        &a,
        &[
            series("c0", &[(0, 0.4), (60, 0.5)]),
            series("b0", &[(0, 0.2), (60, 0.25)]),
        ],
    );
    assert_eq!(double.outcome, Outcome::Fail, "{double:?}");
    assert_eq!(double.metrics[0].baseline, Some(0.25));
    assert_eq!(double.metrics[0].highest, Some(0.375));
    // No baseline: the ratio cannot be checked.
    let alone = judge(&a, &[series("c0", &[(0, 0.2), (60, 0.2)])]);
    assert_eq!(alone.outcome, Outcome::NoData);
}

#[test]
fn a_custom_expression_gets_its_own_ids_per_side_and_placeholders_filled_in() {
    let a = analysis(
        json!({"stage": "POST_TEST_TRAFFIC_SHIFT", "window": "2m", "metrics": [{
        "name": "conversion", "expression": "orders / visits", "minRatio": 0.9,
        "queries": {
            "orders": {"namespace": "Shop", "metricName": "Orders", "dimensions": {"TargetGroup": "${targetGroup}"}, "stat": "Sum"},
            "visits": {"namespace": "Shop", "metricName": "Visits", "dimensions": {"TargetGroup": "${targetGroup}"}, "stat": "Sum"},
        }}]}),
    );
    let q = queries(&a, &subject());
    let exprs: Vec<String> = q
        .iter()
        .filter_map(|q| match &q.kind {
            MetricQueryKind::Expression { expression, .. } => Some(expression.clone()),
            MetricQueryKind::Stat { .. } => None,
        })
        .collect();
    assert_eq!(exprs, ["c0_orders / c0_visits", "b0_orders / b0_visits"]);
    let base = q
        .iter()
        .find(|q| q.id == "b0_orders")
        .expect("baseline orders");
    assert!(!base.return_data);
    let MetricQueryKind::Stat { dimensions, .. } = &base.kind else {
        panic!()
    };
    assert_eq!(
        dimensions,
        &[("TargetGroup".into(), "targetgroup/web-b/1".into())]
    );
    let j = judge(
        &a,
        &[
            series("c0", &[(0, 0.05), (60, 0.03)]),
            series("b0", &[(0, 0.05), (60, 0.05)]),
        ],
    );
    assert_eq!(j.outcome, Outcome::Fail, "{j:?}");
}

#[test]
fn the_healthy_share_is_the_worst_interval() {
    let a = analysis(json!({"stage": "POST_TEST_TRAFFIC_SHIFT", "window": "2m",
        "metrics": [{"name": "healthy", "builtin": "healthyShare", "min": 0.9}]}));
    let j = judge(
        &a,
        &[
            series("c0_ok", &[(0, 4.0), (60, 3.0)]),
            series("c0_bad", &[(60, 1.0)]),
        ],
    );
    assert_eq!(j.metrics[0].value, Some(0.75));
    assert_eq!(j.outcome, Outcome::Fail);
}

#[test]
fn rfc3339_times_are_read_as_aws_writes_them() {
    assert_eq!(epoch_seconds("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(epoch_seconds("2026-12-04T18:23:47Z"), Some(1_796_408_627));
    assert_eq!(epoch_seconds("2026-12-04T18:23:47.5Z"), Some(1_796_408_627));
    assert_eq!(epoch_seconds("2026-12-04T18:23:47+01:00"), None);
    assert_eq!(epoch_seconds("yesterday"), None);
}

#[test]
fn numbers_read_as_people_write_them() {
    assert_eq!(num(0.2), "0.2");
    assert_eq!(num(0.0033333), "0.0033");
    assert_eq!(num(12.0), "12");
    assert_eq!(num(0.0), "0");
}
