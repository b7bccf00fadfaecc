//! Shapes of AWS identifiers the manifests reference: ARNs and resource ids.

/// The six parts of an ARN: `arn:partition:service:region:account:resource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Arn<'a> {
    pub(crate) service: &'a str,
    pub(crate) region: &'a str,
    pub(crate) account: &'a str,
    pub(crate) resource: &'a str,
}

impl<'a> Arn<'a> {
    pub(crate) fn parse(s: &'a str) -> Option<Arn<'a>> {
        let mut parts = s.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let partition = parts.next()?;
        if !(partition == "aws" || partition.starts_with("aws-")) {
            return None;
        }
        let arn = Arn {
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        };
        let valid_account =
            arn.account.len() == 12 && arn.account.bytes().all(|b| b.is_ascii_digit());
        (valid_account && !arn.service.is_empty() && !arn.resource.is_empty()).then_some(arn)
    }
}

/// `arn:aws:iam::123456789012:role/NAME` (with an optional path).
pub(crate) fn is_role_arn(s: &str) -> bool {
    Arn::parse(s).is_some_and(|a| {
        a.service == "iam"
            && a.region.is_empty()
            && a.resource
                .strip_prefix("role/")
                .is_some_and(|n| !n.is_empty() && !n.ends_with('/'))
    })
}

/// An ALB listener: `arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/NAME/ID/ID`.
pub(crate) fn is_listener_arn(s: &str) -> bool {
    Arn::parse(s).is_some_and(|a| {
        let parts: Vec<&str> = a.resource.split('/').collect();
        a.service == "elasticloadbalancing"
            && !a.region.is_empty()
            && parts.len() == 5
            && parts[0] == "listener"
            && parts[1] == "app"
            && parts[2..].iter().all(|p| !p.is_empty())
    })
}

/// An ELBv2 target group: `arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID`.
pub(crate) fn is_target_group_arn(s: &str) -> bool {
    Arn::parse(s).is_some_and(|a| {
        let parts: Vec<&str> = a.resource.split('/').collect();
        a.service == "elasticloadbalancing"
            && !a.region.is_empty()
            && parts.len() == 3
            && parts[0] == "targetgroup"
            && parts[1..].iter().all(|p| !p.is_empty())
    })
}

/// The load balancer a listener belongs to: its ARN with `listener/app/NAME/ID/LID`
/// turned into `loadbalancer/app/NAME/ID` (ELBv2's ARN formats).
pub fn load_balancer_of_listener(listener_arn: &str) -> Option<String> {
    if !is_listener_arn(listener_arn) {
        return None;
    }
    let (head, resource) = listener_arn.split_once(":listener/")?;
    let (lb, _listener_id) = resource.rsplit_once('/')?;
    Some(format!("{head}:loadbalancer/{lb}"))
}

/// A Secrets Manager secret or an SSM parameter.
pub(crate) fn is_secret_arn(s: &str) -> bool {
    Arn::parse(s).is_some_and(|a| {
        !a.region.is_empty()
            && match a.service {
                "secretsmanager" => a
                    .resource
                    .strip_prefix("secret:")
                    .is_some_and(|n| !n.is_empty()),
                "ssm" => a
                    .resource
                    .strip_prefix("parameter/")
                    .is_some_and(|n| !n.is_empty()),
                _ => false,
            }
    })
}

/// A Lambda function name, or its ARN (optionally with a version or alias).
pub(crate) fn is_lambda_function(s: &str) -> bool {
    if let Some(a) = Arn::parse(s) {
        let name = a.resource.strip_prefix("function:").unwrap_or("");
        let name = name.split_once(':').map_or(name, |(n, _)| n);
        return a.service == "lambda" && !a.region.is_empty() && is_name(name, 64, "_-");
    }
    is_name(s, 64, "_-")
}

/// An ECS cluster ARN: `arn:aws:ecs:REGION:ACCOUNT:cluster/NAME`.
pub(crate) fn is_cluster_arn(s: &str) -> bool {
    Arn::parse(s).is_some_and(|a| {
        a.service == "ecs"
            && !a.region.is_empty()
            && a.resource
                .strip_prefix("cluster/")
                .is_some_and(|n| is_name(n, 255, "_-"))
    })
}

/// An EC2 resource id such as `vpc-0abc1234`, `subnet-12345`, `sg-0abc`.
pub(crate) fn is_resource_id(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|id| {
            !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// An image in a private Amazon ECR repository:
/// `ACCOUNT.dkr.ecr.REGION.amazonaws.com[.cn]/REPOSITORY[:TAG|@DIGEST]` (ECR Public,
/// `public.ecr.aws/...`, needs no credentials).
pub(crate) fn is_private_ecr_image(image: &str) -> bool {
    ecr_registry(image).is_some()
}

/// The account and partition (`aws`, `aws-cn`) of a private Amazon ECR image's registry.
pub fn ecr_registry(image: &str) -> Option<(&str, &'static str)> {
    let host = image.split('/').next().unwrap_or_default();
    let mut parts = host.split('.');
    let account = parts.next().unwrap_or_default();
    let ok = account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && parts.next() == Some("dkr")
        && parts.next() == Some("ecr")
        && parts.next().is_some_and(|r| !r.is_empty())
        && parts.next() == Some("amazonaws")
        && parts.next() == Some("com");
    let partition = match parts.next() {
        None => "aws",
        Some("cn") => "aws-cn",
        Some(_) => return None,
    };
    (ok && image.len() > host.len() + 1).then_some((account, partition))
}

/// 1..=max ASCII letters, digits and the `extra` characters.
pub(crate) fn is_name(s: &str, max: usize, extra: &str) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_arns_manifests_use() {
        assert!(is_role_arn(
            "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
        ));
        assert!(is_role_arn("arn:aws:iam::123456789012:role/service-role/x"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:user/x"));
        assert!(!is_role_arn("arn:aws:iam::1234:role/x"));
        assert!(!is_role_arn("ecsTaskExecutionRole"));
        assert!(is_listener_arn(
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/edge/50dc6c495c0c9188/f2f7dc8efc522ab2"
        ));
        assert!(!is_listener_arn(
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/50dc6c495c0c9188"
        ));
        assert!(is_secret_arn(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
        ));
        assert!(is_secret_arn(
            "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/db"
        ));
        assert!(!is_secret_arn("hunter2"));
        assert!(is_lambda_function("web-pre-traffic-check"));
        assert!(is_lambda_function(
            "arn:aws:lambda:us-east-1:123456789012:function:web-smoke:live"
        ));
        assert!(!is_lambda_function("not a function"));
        assert!(is_cluster_arn(
            "arn:aws:ecs:us-east-1:123456789012:cluster/prod"
        ));
        assert!(is_resource_id("vpc-0abc1234", "vpc"));
        assert!(!is_resource_id("vpc0abc", "vpc"));
        assert!(!is_resource_id("subnet-", "subnet"));
        assert!(is_private_ecr_image(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2"
        ));
        assert!(is_private_ecr_image(
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/web@sha256:abc"
        ));
        assert!(!is_private_ecr_image("public.ecr.aws/nginx/nginx:1"));
        assert!(!is_private_ecr_image("nginx:1"));
        assert!(!is_private_ecr_image("ghcr.io/org/web:1"));
    }

    #[test]
    fn a_listener_names_its_load_balancer() {
        assert_eq!(
            load_balancer_of_listener(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/edge/50dc6c495c0c9188/f2f7dc8efc522ab2"
            )
            .as_deref(),
            Some(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/edge/50dc6c495c0c9188"
            )
        );
        assert_eq!(
            load_balancer_of_listener("arn:aws:iam::123456789012:role/x"),
            None
        );
    }
}
