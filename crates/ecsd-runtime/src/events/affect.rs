//! Which of the source's objects an event's resources concern: the controller queues
//! these for a reconcile now. Pure: manifests in, keys out. A resource no manifest
//! names (another owner's, or nobody's) concerns nothing.

use std::collections::BTreeSet;

use ecsd_model::{Manifest, ObjectKey, Spec};

use super::Resource;

/// The objects among `manifests` that `resources` concern.
pub fn affected<'a>(
    manifests: impl IntoIterator<Item = &'a Manifest> + Clone,
    resources: &[Resource],
) -> BTreeSet<ObjectKey> {
    let mut keys = BTreeSet::new();
    for m in manifests.clone() {
        if resources.iter().any(|r| concerns(m, r, manifests.clone())) {
            keys.insert(m.key());
        }
    }
    keys
}

/// Whether `resource` is, or is part of, the object `m` describes.
fn concerns<'a>(
    m: &Manifest,
    resource: &Resource,
    all: impl IntoIterator<Item = &'a Manifest>,
) -> bool {
    let name = m.metadata.name.as_str();
    match (&m.spec, resource) {
        (Spec::Service(s), Resource::Service { cluster, name: n }) => {
            n == name && cluster.as_ref().is_none_or(|c| *c == s.cluster)
        }
        (Spec::Service(s), Resource::ScalableService { cluster, name: n }) => {
            n == name && *cluster == s.cluster
        }
        (Spec::Service(s), Resource::CodeDeployApplication(app)) => {
            *app == ecsd_plan::plan::application_name(&s.cluster, name)
        }
        // CodeDeploy rewrites the listener rules of a blue/green service.
        (Spec::Service(s), Resource::Listener(arn)) => {
            s.deployment.blue_green.iter().any(|bg| {
                bg.prod_listener_arn == *arn || bg.test_listener_arn.as_ref() == Some(arn)
            })
        }
        (Spec::TargetGroup(_), Resource::TargetGroup(n)) => n == name,
        (Spec::TargetGroup(tg), Resource::Listener(arn)) => tg
            .listener_rule
            .as_ref()
            .is_some_and(|r| r.listener_arn == *arn),
        (Spec::ScalingPolicy(sp), Resource::ScalableService { cluster, name: n }) => {
            *n == sp.service
                && all.into_iter().any(|other| {
                    other.metadata.name == sp.service
                        && matches!(&other.spec, Spec::Service(s) if s.cluster == *cluster)
                })
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use ecsd_model::parse_source;

    use super::*;

    const SOURCE: &str = r#"
apiVersion: ecsd/v1
kind: TargetGroup
metadata: {name: web-blue}
spec:
  vpcId: vpc-1
  port: 80
  protocol: HTTP
  listenerRule:
    listenerArn: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/edge/50dc6c495c0c9188/f2f7dc8efc522ab2
    priority: 10
    pathPatterns: ["/*"]
---
apiVersion: ecsd/v1
kind: Service
metadata: {name: web}
spec:
  cluster: prod
  desiredCount: 2
  network: {subnets: [subnet-1], securityGroups: [sg-1]}
  loadBalancers: [{targetGroup: web-blue, containerName: app, containerPort: 80}]
  taskDefinition:
    cpu: 256
    memory: 512
    executionRoleArn: arn:aws:iam::123456789012:role/exec
    containers: [{name: app, image: "nginx:1", portMappings: [{containerPort: 80}]}]
---
apiVersion: ecsd/v1
kind: ScalingPolicy
metadata: {name: web}
spec:
  service: web
  minCapacity: 1
  maxCapacity: 4
  targetTracking: [{metric: cpu, target: 60}]
"#;

    fn manifests() -> Vec<Manifest> {
        let source = parse_source(&[ecsd_model::SourceFile {
            name: "m.yaml".into(),
            bytes: SOURCE.as_bytes().to_vec(),
        }]);
        assert!(source.diagnostics.is_empty(), "{:?}", source.diagnostics);
        source
            .valid_documents()
            .map(|d| d.manifest.clone())
            .collect()
    }

    fn keys(resources: &[Resource]) -> Vec<String> {
        affected(&manifests(), resources)
            .into_iter()
            .map(|k| format!("{}/{}", k.kind, k.name))
            .collect()
    }

    #[test]
    fn each_resource_concerns_the_objects_that_describe_it() {
        let service = |cluster: Option<&str>| Resource::Service {
            cluster: cluster.map(Into::into),
            name: "web".into(),
        };
        assert_eq!(keys(&[service(Some("prod"))]), ["Service/web"]);
        assert_eq!(keys(&[service(None)]), ["Service/web"]);
        assert!(keys(&[service(Some("staging"))]).is_empty());
        assert_eq!(
            keys(&[Resource::TargetGroup("web-blue".into())]),
            ["TargetGroup/web-blue"]
        );
        assert_eq!(
            keys(&[Resource::Listener(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/edge/50dc6c495c0c9188/f2f7dc8efc522ab2".into()
            )]),
            ["TargetGroup/web-blue"]
        );
        assert_eq!(
            keys(&[Resource::ScalableService {
                cluster: "prod".into(),
                name: "web".into()
            }]),
            ["Service/web", "ScalingPolicy/web"]
        );
        assert_eq!(
            keys(&[Resource::CodeDeployApplication("ecsd-prod-web".into())]),
            ["Service/web"]
        );
    }

    #[test]
    fn resources_no_manifest_names_concern_nothing() {
        assert!(keys(&[Resource::TargetGroup("someone-elses".into())]).is_empty());
        assert!(keys(&[Resource::Listener("arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/other/50dc6c495c0c9188/f2f7dc8efc522ab2".into())]).is_empty());
        assert!(keys(&[Resource::CodeDeployApplication("ecsd-staging-web".into())]).is_empty());
    }
}
