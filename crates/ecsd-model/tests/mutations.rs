//! Property tests: random mutations of valid manifests never panic the parser, and every
//! error they cause points inside the file.

use ecsd_model::{SourceFile, parse_source};
use proptest::prelude::*;

const SEEDS: [&str; 4] = [
    include_str!("../../../manifests/examples/web/service.yaml"),
    include_str!("../../../manifests/examples/web/target-group.yaml"),
    include_str!("../../../manifests/examples/web/scaling-policy.yaml"),
    include_str!("../../../manifests/examples/web-bluegreen/web-bg.yaml"),
];

/// Characters that matter to YAML, plus some that matter to nobody.
const ALPHABET: &[char] = &[
    ':', '-', ' ', '\n', '\t', '[', ']', '{', '}', ',', '"', '\'', '#', '&', '*', '!', '|', '>',
    '?', '%', '@', '`', '0', '9', 'a', 'Z', '~', '.', '\\', 'é', '\u{feff}', '\u{0}',
];

#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    DuplicateLine { line: usize },
    SwapLines { a: usize, b: usize },
    Indent { line: usize, by: usize },
    Truncate { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..20usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (
            any::<usize>(),
            prop::collection::vec(prop::sample::select(ALPHABET), 1..6)
        )
            .prop_map(|(at, cs)| Mutation::Insert {
                at,
                text: cs.into_iter().collect()
            }),
        any::<usize>().prop_map(|line| Mutation::DuplicateLine { line }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
        (any::<usize>(), 1..5usize).prop_map(|(line, by)| Mutation::Indent { line, by }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

fn char_boundary(text: &str, at: usize) -> usize {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if lines.is_empty() {
        // An earlier mutation emptied the text: line mutations have nothing to work on.
        lines.push(String::new());
    }
    let n = lines.len();
    match m {
        Mutation::Delete { at, len } => {
            let start = char_boundary(text, *at);
            let end = char_boundary(text, (start + len).min(text.len()));
            format!("{}{}", &text[..start], &text[end.max(start)..])
        }
        Mutation::Insert { at, text: ins } => {
            let at = char_boundary(text, *at);
            format!("{}{ins}{}", &text[..at], &text[at..])
        }
        Mutation::DuplicateLine { line } => {
            let l = lines[line % n].clone();
            lines.insert(line % n, l);
            lines.join("\n")
        }
        Mutation::SwapLines { a, b } => {
            lines.swap(a % n, b % n);
            lines.join("\n")
        }
        Mutation::Indent { line, by } => {
            let l = &mut lines[line % n];
            *l = format!("{}{l}", " ".repeat(*by));
            lines.join("\n")
        }
        Mutation::Truncate { at } => text[..char_boundary(text, *at)].to_owned(),
    }
}

proptest! {
    // Failures print their minimal input; no regression file is written next to the test.
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_manifests_never_panic_and_errors_point_inside_the_file(
        seed in 0..SEEDS.len(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let mut text = SEEDS[seed].to_owned();
        for m in &mutations {
            text = apply(&text, m);
        }
        let lines = text.lines().count() as u32 + 1;
        let source = parse_source(&[SourceFile { name: "m.yaml".into(), bytes: text.clone().into_bytes() }]);
        for d in &source.diagnostics {
            prop_assert!(d.pos.line >= 1 && d.pos.line <= lines, "{d} outside {lines} lines:\n{text}");
            prop_assert!(d.pos.col >= 1, "{d}");
            prop_assert!(d.to_string().starts_with("m.yaml:"), "{d}");
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let source = parse_source(&[SourceFile { name: "b.yaml".into(), bytes }]);
        for d in &source.diagnostics {
            prop_assert!(d.pos.line >= 1 && d.pos.col >= 1, "{d}");
        }
    }
}

#[test]
fn the_seeds_themselves_are_valid() {
    let files: Vec<SourceFile> = SEEDS
        .iter()
        .enumerate()
        .map(|(i, s)| SourceFile {
            name: format!("seed{i}.yaml"),
            bytes: s.as_bytes().to_vec(),
        })
        .collect();
    let source = parse_source(&files);
    assert!(source.is_valid(), "{:?}", source.diagnostics);
    assert_eq!(source.documents.len(), 7);
}
