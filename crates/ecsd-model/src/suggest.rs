//! "Did you mean ...?" for misspelt keys and values.

/// The candidate closest to `word`, if it is close enough to be a likely typo:
/// equal ignoring case, or within an edit distance of about a third of its length.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = if c.to_lowercase() == lower {
            0
        } else {
            edit_distance(&lower, &c.to_lowercase())
        };
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let limit = (word.chars().count() / 3).max(1);
    best.filter(|(d, _)| *d <= limit).map(|(_, c)| c)
}

/// ` (did you mean "x"?)` or nothing.
pub(crate) fn hint<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, candidates)
        .map(|c| format!(", did you mean {c:?}?"))
        .unwrap_or_default()
}

/// Optimal string alignment distance: Levenshtein plus adjacent transpositions
/// (`wbe` is one edit from `web`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_the_intended_key() {
        let keys = ["healthCheck", "healthyThreshold", "port", "protocol"];
        assert_eq!(closest("helthCheck", keys), Some("healthCheck"));
        assert_eq!(closest("HealthCheck", keys), Some("healthCheck"));
        assert_eq!(closest("prt", keys), Some("port"));
        assert_eq!(
            closest("wbe", ["web", "api"]),
            Some("web"),
            "a transposition is one edit"
        );
    }

    #[test]
    fn unrelated_words_get_no_suggestion() {
        assert_eq!(closest("banana", ["healthCheck", "port"]), None);
        assert_eq!(closest("x", ["healthCheck"]), None);
    }
}
