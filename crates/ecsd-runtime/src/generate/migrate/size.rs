//! The Fargate size suggested for an EC2 instance type.

use ecsd_model::fargate;

/// vCPUs and memory (MiB) of an EC2 instance type, and whether it is burstable (T
/// family: full speed only above its baseline while CPU credits last). Covers the
/// general purpose (T, M), compute (C) and memory (R) families by their size names.
pub fn instance_size(instance_type: &str) -> Option<(u32, u32, bool)> {
    let (family, size) = instance_type.split_once('.')?;
    let class = family.chars().next()?;
    let burstable = class == 't';
    let vcpus = match size {
        "nano" | "micro" | "small" if family == "t2" => 1,
        "nano" | "micro" | "small" => 2,
        "medium" if burstable => 2,
        "medium" => 1,
        "large" => 2,
        "xlarge" => 4,
        other => other.strip_suffix("xlarge")?.parse::<u32>().ok()? * 4,
    };
    let memory = if burstable {
        match size {
            "nano" => 512,
            "micro" => 1024,
            "small" => 2048,
            "medium" => 4096,
            _ => vcpus * 4096,
        }
    } else {
        let per_vcpu = match class {
            'm' => 4096,
            'c' => 2048,
            'r' => 8192,
            _ => return None,
        };
        vcpus * per_vcpu
    };
    Some((vcpus, memory, burstable))
}

/// The Fargate size suggested for one task standing in for one instance, and why.
pub fn suggest_size(instance_type: Option<&str>) -> (u32, u32, String) {
    let Some(t) = instance_type else {
        let (cpu, memory) = fargate::fit(1024, 2048);
        return (
            cpu,
            memory,
            "the launch template sets no instance type: 1 vCPU and 2 GiB is a starting point; size it from the fleet's CloudWatch CPUUtilization and memory".to_owned(),
        );
    };
    let Some((vcpus, memory, burstable)) = instance_size(t) else {
        let (cpu, memory) = fargate::fit(1024, 2048);
        return (
            cpu,
            memory,
            format!(
                "{t} is not a T, M, C or R instance type ecsd knows: 1 vCPU and 2 GiB is a starting point; size it from the fleet's CloudWatch metrics"
            ),
        );
    };
    // A burstable instance runs at a fraction of its vCPUs outside bursts: half of
    // them is closer to what the app used than all of them.
    let units = if burstable {
        (vcpus * 1024 / 2).max(256)
    } else {
        vcpus * 1024
    };
    let (cpu, mem) = fargate::fit(units, memory);
    let why = if burstable {
        format!(
            "{t} has {vcpus} burstable vCPUs and {} GiB; one task stands in for one instance, with half the vCPUs (a T instance runs below its vCPUs outside bursts) and the same memory: {} vCPU, {} GiB, the nearest Fargate size",
            f64::from(memory) / 1024.0,
            f64::from(cpu) / 1024.0,
            f64::from(mem) / 1024.0
        )
    } else {
        format!(
            "{t} has {vcpus} vCPUs and {} GiB; one task stands in for one instance with the same: {} vCPU, {} GiB, the nearest Fargate size",
            f64::from(memory) / 1024.0,
            f64::from(cpu) / 1024.0,
            f64::from(mem) / 1024.0
        )
    };
    (
        cpu,
        mem,
        format!("{why}. Watch CPU and memory (`ecsd status`, CloudWatch) and adjust."),
    )
}
