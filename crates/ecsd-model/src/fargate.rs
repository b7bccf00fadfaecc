//! Valid Fargate task sizes (CPU units and memory in MiB), as AWS documents them.

/// The memory (MiB) Fargate accepts with a CPU size, as AWS's RegisterTaskDefinition
/// reference lists it: a few values for the small sizes, a range with a step above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryOptions {
    /// Exactly these values.
    OneOf(&'static [u32]),
    /// From `lo` to `hi` in steps of `step`.
    Range { lo: u32, hi: u32, step: u32 },
}

impl MemoryOptions {
    fn allows(self, memory: u32) -> bool {
        match self {
            MemoryOptions::OneOf(values) => values.contains(&memory),
            MemoryOptions::Range { lo, hi, step } => {
                (lo..=hi).contains(&memory) && (memory - lo).is_multiple_of(step)
            }
        }
    }

    fn describe(self) -> String {
        match self {
            MemoryOptions::OneOf(values) => {
                let v: Vec<String> = values.iter().map(u32::to_string).collect();
                match v.split_last() {
                    Some((last, rest)) if !rest.is_empty() => {
                        format!("{} or {last} MiB", rest.join(", "))
                    }
                    _ => format!("{} MiB", v.join("")),
                }
            }
            MemoryOptions::Range { lo, hi, step } => {
                format!("{lo} to {hi} MiB in steps of {step}")
            }
        }
    }
}

/// The memory values Fargate accepts with `cpu`, or `None` if `cpu` is not a Fargate size.
pub fn memory_options(cpu: u32) -> Option<MemoryOptions> {
    use MemoryOptions::{OneOf, Range};
    match cpu {
        256 => Some(OneOf(&[512, 1024, 2048])),
        512 => Some(OneOf(&[1024, 2048, 3072, 4096])),
        1024 => Some(OneOf(&[2048, 3072, 4096, 5120, 6144, 7168, 8192])),
        2048 => Some(Range {
            lo: 4096,
            hi: 16384,
            step: 1024,
        }),
        4096 => Some(Range {
            lo: 8192,
            hi: 30720,
            step: 1024,
        }),
        8192 => Some(Range {
            lo: 16384,
            hi: 61440,
            step: 4096,
        }),
        16384 => Some(Range {
            lo: 32768,
            hi: 122880,
            step: 8192,
        }),
        _ => None,
    }
}

/// The CPU values Fargate accepts.
pub const CPU_OPTIONS: [u32; 7] = [256, 512, 1024, 2048, 4096, 8192, 16384];

/// The smallest Fargate size with at least `cpu` units and `memory` MiB (the largest,
/// 16 vCPU and 120 GiB, when nothing is that big).
pub fn fit(cpu: u32, memory: u32) -> (u32, u32) {
    for c in CPU_OPTIONS.into_iter().filter(|c| *c >= cpu) {
        let found = match memory_options(c) {
            Some(MemoryOptions::OneOf(values)) => values.iter().copied().find(|m| *m >= memory),
            Some(MemoryOptions::Range { lo, hi, step }) => {
                (memory <= hi).then(|| lo + memory.saturating_sub(lo).div_ceil(step) * step)
            }
            None => None,
        };
        if let Some(m) = found {
            return (c, m);
        }
    }
    (16384, 122880)
}

/// Checks a task size; the error says what would be valid.
pub fn check(cpu: u32, memory: u32) -> Result<(), String> {
    let Some(options) = memory_options(cpu) else {
        let list: Vec<String> = CPU_OPTIONS.iter().map(u32::to_string).collect();
        return Err(format!(
            "cpu {cpu} is not a Fargate size; use one of {}",
            list.join(", ")
        ));
    };
    if !options.allows(memory) {
        return Err(format!(
            "memory {memory} is not valid with cpu {cpu} on Fargate; use {}",
            options.describe()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_finds_the_smallest_valid_size_that_holds_a_request() {
        assert_eq!(fit(2048, 4096), (2048, 4096));
        assert_eq!(fit(1024, 4096), (1024, 4096));
        assert_eq!(fit(256, 4096), (512, 4096), "256 CPU stops at 2 GiB");
        assert_eq!(fit(2048, 5000), (2048, 5120));
        assert_eq!(fit(8192, 17000), (8192, 20480), "8 vCPU steps by 4 GiB");
        assert_eq!(fit(4096, 65536), (16384, 65536), "8 vCPU stops at 60 GiB");
        assert_eq!(fit(99999, 1), (16384, 122880));
        for (c, m) in [(256, 1), (3000, 3000), (16384, 200_000)] {
            let (cpu, memory) = fit(c, m);
            assert!(check(cpu, memory).is_ok(), "{c}/{m} -> {cpu}/{memory}");
        }
    }

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
        assert!(err.contains("1024, 2048, 3072 or 4096 MiB"), "{err}");
        assert!(check(256, 4096).is_err());
        let err = check(256, 1536).expect_err("256 CPU units allow only 512, 1024 and 2048");
        assert!(err.contains("512, 1024 or 2048 MiB"), "{err}");
        assert!(check(512, 1536).is_err(), "whole GB only");
        assert!(check(4096, 31744).is_err());
        assert!(check(8192, 18432).is_err(), "8 vCPU steps by 4 GiB");
        assert!(check(16384, 36864).is_err(), "16 vCPU steps by 8 GiB");
        assert!(check(300, 1024).expect_err("odd cpu").contains("256, 512"));
    }
}
