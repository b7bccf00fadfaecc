//! Integer conversions at the SDK boundary: the SDKs speak `i32` where ecsd's types,
//! validated against AWS's limits, use `u32`. One definition for every client.

/// `n` as the SDK's `i32`, saturating (no value ecsd validates comes near `i32::MAX`).
pub(crate) fn i32_of(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// An SDK `i32` as `u32`; a negative value (which AWS never sends for these fields) is 0.
pub(crate) fn u32_of(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_saturate_instead_of_wrapping() {
        assert_eq!(i32_of(7), 7);
        assert_eq!(i32_of(u32::MAX), i32::MAX);
        assert_eq!(u32_of(7), 7);
        assert_eq!(u32_of(-1), 0);
    }
}
