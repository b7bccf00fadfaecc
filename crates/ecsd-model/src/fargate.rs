//! Valid Fargate task sizes (CPU units and memory in MiB), as AWS documents them.

/// The memory values (MiB) Fargate accepts with `cpu`, or `None` if `cpu` is not a Fargate size.
pub fn memory_options(cpu: u32) -> Option<(u32, u32, u32)> {
    // (lowest, highest, step)
    match cpu {
        256 => Some((512, 2048, 512)),
        512 => Some((1024, 4096, 1024)),
        1024 => Some((2048, 8192, 1024)),
        2048 => Some((4096, 16384, 1024)),
        4096 => Some((8192, 30720, 1024)),
        8192 => Some((16384, 61440, 4096)),
        16384 => Some((32768, 122880, 8192)),
        _ => None,
    }
}

/// The CPU values Fargate accepts.
pub const CPU_OPTIONS: [u32; 7] = [256, 512, 1024, 2048, 4096, 8192, 16384];

/// Checks a task size; the error says what would be valid.
pub fn check(cpu: u32, memory: u32) -> Result<(), String> {
    let Some((lo, hi, step)) = memory_options(cpu) else {
        let list: Vec<String> = CPU_OPTIONS.iter().map(u32::to_string).collect();
        return Err(format!(
            "cpu {cpu} is not a Fargate size; use one of {}",
            list.join(", ")
        ));
    };
    // 256 CPU units also allow exactly 512, 1024 and 2048: the same arithmetic applies.
    if memory < lo || memory > hi || !(memory - lo).is_multiple_of(step) {
        return Err(format!(
            "memory {memory} is not valid with cpu {cpu} on Fargate; use {lo} to {hi} MiB in steps of {step}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_pair_is_accepted() {
        let table: [(u32, &[u32]); 7] = [
            (256, &[512, 1024, 2048]),
            (512, &[1024, 2048, 3072, 4096]),
            (1024, &[2048, 3072, 4096, 5120, 6144, 7168, 8192]),
            (2048, &[4096, 8192, 16384]),
            (4096, &[8192, 16384, 30720]),
            (8192, &[16384, 20480, 61440]),
            (16384, &[32768, 40960, 122880]),
        ];
        for (cpu, memories) in table {
            for m in memories {
                assert_eq!(check(cpu, *m), Ok(()), "{cpu}/{m}");
            }
        }
    }

    #[test]
    fn invalid_pairs_are_refused_with_the_valid_range() {
        let err = check(512, 512).expect_err("too little memory");
        assert!(err.contains("1024 to 4096"), "{err}");
        assert!(check(256, 4096).is_err());
        assert!(check(4096, 31744).is_err());
        assert!(check(8192, 18432).is_err(), "8 vCPU steps by 4 GiB");
        assert!(check(16384, 36864).is_err(), "16 vCPU steps by 8 GiB");
        assert!(check(300, 1024).expect_err("odd cpu").contains("256, 512"));
    }
}
