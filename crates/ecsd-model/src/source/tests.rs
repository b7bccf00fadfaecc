//! Targets across a source: which object goes where, and the errors across targets.

use super::*;

const SERVICE: &str = "apiVersion: ecsd/v1
kind: Service
metadata:
  name: web
spec:
  cluster: main
  network: {subnets: [subnet-0a1b2c3d], securityGroups: [sg-0abc1234]}
  taskDefinition:
    cpu: 256
    memory: 512
    containers: [{name: app, image: 'web:1'}]
";

const TARGETS: &str = "apiVersion: ecsd/v1
kind: Target
metadata: {name: staging}
spec: {folder: staging, region: eu-west-1}
---
apiVersion: ecsd/v1
kind: Target
metadata: {name: prod}
spec:
  folder: prod/
  roleArn: arn:aws:iam::222222222222:role/ecsd-target
  externalId: acme-prod
  after: [staging]
";

fn file(name: &str, text: &str) -> SourceFile {
    SourceFile {
        name: name.into(),
        bytes: text.as_bytes().to_vec(),
    }
}

fn errors(s: &Source) -> Vec<String> {
    s.diagnostics.iter().map(ToString::to_string).collect()
}

#[test]
fn the_same_name_may_live_in_two_targets_and_each_object_goes_to_its_folders_target() {
    let s = parse_source(&[
        file("targets.yaml", TARGETS),
        file("staging/web.yaml", SERVICE),
        file("prod/web.yaml", SERVICE),
    ]);
    assert!(s.is_valid(), "{:?}", errors(&s));
    let by: Vec<(Option<&str>, &str)> = s
        .documents
        .iter()
        .map(|d| (d.target.as_deref(), d.file.as_str()))
        .collect();
    assert_eq!(
        by,
        [
            (Some("staging"), "staging/web.yaml"),
            (Some("prod"), "prod/web.yaml")
        ]
    );
    let prod = &s.targets.by_name["prod"];
    assert_eq!(prod.spec.after, ["staging"]);
    assert_eq!(prod.spec.external_id.as_deref(), Some("acme-prod"));
    assert_eq!(s.for_target(Some("prod")).documents.len(), 1);
}

#[test]
fn metadata_target_wins_over_the_folder() {
    let named = SERVICE.replace("name: web\n", "name: web\n  target: prod\n");
    let s = parse_source(&[
        file("targets.yaml", TARGETS),
        file("staging/web.yaml", &named),
    ]);
    assert!(s.is_valid(), "{:?}", errors(&s));
    assert_eq!(s.documents[0].target.as_deref(), Some("prod"));
}

#[test]
fn a_name_twice_in_one_target_is_still_a_duplicate() {
    let s = parse_source(&[
        file("targets.yaml", TARGETS),
        file("prod/a.yaml", SERVICE),
        file("prod/b.yaml", SERVICE),
    ]);
    assert_eq!(
        errors(&s),
        ["prod/b.yaml:4:9: error: duplicate Service \"web\" (first defined at prod/a.yaml:4:9)"]
    );
    assert_eq!(s.diagnostics[0].target.as_deref(), Some("prod"));
}

#[test]
fn an_object_in_no_target_an_unknown_target_and_targets_in_a_cycle_are_errors() {
    let cyclic = TARGETS.replace(
        "spec: {folder: staging, region: eu-west-1}",
        "spec: {folder: staging, region: eu-west-1, after: [prod]}",
    );
    let typo = SERVICE.replace("name: web\n", "name: web\n  target: prd\n");
    let s = parse_source(&[
        file("targets.yaml", &cyclic),
        file("web.yaml", SERVICE),
        file("other/web.yaml", &typo),
    ]);
    assert_eq!(
        errors(&s),
        [
            "other/web.yaml:5:11: error: metadata.target refers to Target \"prd\", which is not defined in this source, did you mean \"prod\"?",
            "targets.yaml:4:52: error: spec.after[0]: Target \"prod\" waits for \"staging\" already (directly or through others), so this makes a cycle",
            "targets.yaml:13:11: error: spec.after[0]: Target \"staging\" waits for \"prod\" already (directly or through others), so this makes a cycle",
            "web.yaml:4:9: error: Service/web belongs to no target: this source declares targets (prod, staging), so set metadata.target or put the file in a target's folder",
        ]
    );
    assert!(s.targets_invalid);
}

#[test]
fn a_target_s_own_fields_are_checked_where_they_are_written() {
    let bad = "apiVersion: ecsd/v1
kind: Target
metadata: {name: Prod}
spec:
  region: europe
  externalId: x
  after: [stagin]
---
apiVersion: ecsd/v1
kind: Target
metadata: {name: staging}
spec: {roleArn: 'arn:aws:iam::1:user/x', regoin: eu-west-1}
";
    let s = parse_source(&[file("t.yaml", bad)]);
    assert_eq!(
        errors(&s),
        [
            "t.yaml:3:18: error: metadata.name \"Prod\" is not a valid Target name (1-32 lower-case letters, digits and '-', starting with a letter, not ending with '-')",
            "t.yaml:5:11: error: spec.region \"europe\" is not an AWS region name (e.g. us-east-1, eu-west-1)",
            "t.yaml:6:15: error: spec.externalId needs spec.roleArn: an external ID is sent when assuming a role",
            "t.yaml:7:11: error: spec.after[0] refers to Target \"stagin\", which is not defined in this source, did you mean \"staging\"?",
            "t.yaml:12:17: error: spec.roleArn is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME), found \"arn:aws:iam::1:user/x\"",
            "t.yaml:12:42: error: unknown field \"regoin\" in spec, did you mean \"region\"?",
        ]
    );
}

#[test]
fn without_targets_metadata_target_is_an_error_and_names_are_unique_across_the_source() {
    let named = SERVICE.replace("name: web\n", "name: web\n  target: prod\n");
    let s = parse_source(&[file("web.yaml", &named)]);
    assert_eq!(
        errors(&s),
        [
            "web.yaml:5:11: error: metadata.target names a target, but this source declares none (kind: Target)"
        ]
    );
    assert!(s.targets.is_empty() && !s.targets_invalid);
}
