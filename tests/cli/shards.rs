//! Deployment targets spread over replicas (*added*), through the built binary against
//! the emulator: three replicas share one lease table and a source with six targets,
//! each in a region of its own, each replica behind a recording proxy. Each replica
//! leads two targets; a replica killed with SIGKILL has its targets led again by the
//! others within the lease bounds, and they converge; and per target (by the region
//! each request was signed for) no two replicas ever had mutating requests in flight
//! at the same time.

use std::collections::BTreeSet;
use std::time::Duration;

use ecsd_tests::daemon::Daemon;
use ecsd_tests::env::Env;
use ecsd_tests::proxy::{FaultProxy, Logged, overlapping, writes};
use ecsd_tests::regions::{aws_in, image_in, network_in, service};
use ecsd_tests::{emulator_endpoint, eventually, http, unique_name, within};
use serde_json::json;

/// The lease timings of the test (the defaults are 15 s and 5 s).
const DURATION: Duration = Duration::from_secs(3);
const RENEW: Duration = Duration::from_secs(1);

/// The targets, each named after its region.
const REGIONS: [&str; 6] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
];

fn targets() -> String {
    REGIONS
        .iter()
        .map(|r| {
            format!(
                "apiVersion: ecsd/v1\nkind: Target\nmetadata: {{name: {r}}}\nspec: {{folder: {r}, region: {r}}}\n"
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

/// The targets a replica says it leads.
fn leads(d: &Daemon) -> BTreeSet<String> {
    d.status_or_null()["shards"]["leads"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect()
}

/// Each running replica's targets, while they lead every target once between them.
fn split(daemons: &[Option<Daemon>]) -> Option<Vec<BTreeSet<String>>> {
    let each: Vec<BTreeSet<String>> = daemons
        .iter()
        .map(|d| d.as_ref().map(leads).unwrap_or_default())
        .collect();
    let all: BTreeSet<&String> = each.iter().flatten().collect();
    let total: usize = each.iter().map(BTreeSet::len).sum();
    (all.len() == REGIONS.len() && total == REGIONS.len()).then_some(each)
}

/// Per target (the region its requests were signed for): pairs of mutating requests of
/// two replicas in flight at once.
fn overlapping_per_target(proxies: &[FaultProxy]) -> Vec<(String, usize)> {
    let all = writes(proxies);
    REGIONS
        .iter()
        .map(|r| {
            let of: Vec<Vec<Logged>> = all
                .iter()
                .map(|w| w.iter().filter(|l| l.region == *r).cloned().collect())
                .collect();
            ((*r).to_owned(), overlapping(&of))
        })
        .collect()
}

/// The replicas whose proxies saw mutating requests for `region`.
fn writers(proxies: &[FaultProxy], region: &str) -> BTreeSet<usize> {
    writes(proxies)
        .iter()
        .enumerate()
        .filter(|(_, w)| w.iter().any(|l| l.region == region))
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn three_replicas_lead_two_of_six_targets_each_and_a_killed_one_s_targets_move_and_converge() {
    let env = Env::new(env!("CARGO_BIN_EXE_ecsd"));
    let web = env.name.clone();
    env.write("targets.yaml", &targets());
    let nets: Vec<(String, String)> = REGIONS
        .iter()
        .map(|r| {
            if *r != "us-east-1" {
                aws_in(
                    r,
                    "ecs",
                    "create_cluster",
                    &json!({"clusterName": env.cluster}),
                );
            }
            network_in(r, &web)
        })
        .collect();
    let write_images = |image: &str| {
        for (r, net) in REGIONS.iter().zip(&nets) {
            std::fs::create_dir_all(env.dir.join(r)).expect("folder");
            env.write(&format!("{r}/web.yaml"), &service(&env, net, &web, image));
        }
    };
    write_images("web:1");

    let table = unique_name("leases");
    let proxies: Vec<FaultProxy> = (0..3)
        .map(|_| FaultProxy::start(&emulator_endpoint()))
        .collect();
    let source = env.dir.to_str().expect("utf-8").to_owned();
    let mut daemons: Vec<Option<Daemon>> = proxies
        .iter()
        .map(|p| {
            let args = [
                "--lease-table",
                &table,
                "--lease-duration",
                "3s",
                "--lease-renew",
                "1s",
                "--resync",
                "5s",
            ];
            Some(Daemon::spawn(&env, &source, &args, Some(&p.url())))
        })
        .collect();
    let logs = |daemons: &[Option<Daemon>]| {
        daemons
            .iter()
            .flatten()
            .map(Daemon::logs)
            .collect::<Vec<_>>()
            .join("\n----\n")
    };

    // Each leads two, and every target converges.
    let even = eventually(Duration::from_secs(90), || {
        split(&daemons).filter(|each| each.iter().all(|t| t.len() == 2))
    });
    let Some(each) = even else {
        panic!(
            "each replica leads two targets: {:?}\n{}",
            daemons.iter().flatten().map(leads).collect::<Vec<_>>(),
            logs(&daemons)
        );
    };
    let image = |r: &str| image_in(&env, r, &web);
    let converged = |want: &str| REGIONS.iter().all(|r| image(r).as_deref() == Some(want));
    assert!(
        eventually(Duration::from_secs(90), || converged("web:1").then_some(())).is_some(),
        "every target gets its Service: {:?}\n{}",
        REGIONS.map(image),
        logs(&daemons)
    );
    // The metrics say the same, per target.
    let metrics = http(
        "GET",
        daemons[0].as_ref().expect("running").port,
        "/metrics",
    )
    .expect("/metrics")
    .1;
    assert!(metrics.contains("ecsd_shard_targets{"), "{metrics}");
    for t in &each[0] {
        assert!(
            metrics.contains(&format!("ecsd_leader{{target=\"{t}\",replica=")),
            "{metrics}"
        );
    }

    // kill -9 the one leading us-west-2's target.
    let victim = each
        .iter()
        .position(|t| t.contains("us-west-2"))
        .expect("someone leads us-west-2");
    let moved = each[victim].clone();
    let mut killed = daemons[victim].take().expect("running");
    let _ = killed.child.kill();
    let _ = killed.child.wait();
    let took = within(Duration::from_secs(60), || {
        split(&daemons).is_some_and(|each| each.iter().all(|t| t.len() <= 3))
    });
    let Some(took) = took else {
        panic!(
            "the killed replica's targets {moved:?} are led again: {:?}\n{}",
            daemons.iter().flatten().map(leads).collect::<Vec<_>>(),
            logs(&daemons)
        );
    };
    // Its leases expire a lease duration after the others last saw them renewed, and
    // its heartbeat is judged dead as long after (growing their share): two lease
    // durations and two renew periods, plus the emulator's and the polling's slack.
    assert!(
        took <= DURATION * 2 + RENEW * 2 + Duration::from_secs(3),
        "led again after {took:?}"
    );
    let survivors: Vec<BTreeSet<String>> = daemons.iter().flatten().map(leads).collect();
    assert_eq!(
        survivors.iter().map(BTreeSet::len).collect::<Vec<_>>(),
        [3, 3],
        "{survivors:?}"
    );

    // A new revision reaches every target, the killed replica's too.
    write_images("web:2");
    assert!(
        eventually(Duration::from_secs(90), || converged("web:2").then_some(())).is_some(),
        "every target converges after the kill: {:?}\n{}",
        REGIONS.map(image),
        logs(&daemons)
    );
    // The killed replica's targets were changed by another replica after it.
    for r in &moved {
        let by = writers(&proxies, r);
        assert!(
            by.iter().any(|i| *i != victim),
            "{r} was changed after the kill by another replica: {by:?}"
        );
    }
    // Per target, never two replicas' mutating requests in flight at once.
    let overlaps = overlapping_per_target(&proxies);
    assert!(
        overlaps.iter().all(|(_, n)| *n == 0),
        "two replicas changed one target at once: {overlaps:?}"
    );
    let targets: usize = REGIONS
        .iter()
        .filter(|r| !writers(&proxies, r).is_empty())
        .count();
    assert_eq!(targets, 6, "the proxies saw every target's changes");
}
