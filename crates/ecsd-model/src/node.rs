//! A YAML tree that remembers where every key and value came from.
//!
//! Built from yaml-rust2's event stream (a pure-Rust, maintained YAML 1.2 parser) so that
//! every node carries its line and column, which serde_yaml cannot give. Scalars are
//! resolved with the YAML 1.2 core schema, the same data model serde_yaml uses: `null`/`~`/
//! empty, `true`/`false`, integers (decimal, `0x`, `0o`), floats (incl. `.inf`, `.nan`),
//! and strings; quoted scalars are always strings.
//!
//! Hostile input is bounded while it is read, never after: nesting depth, the number of
//! nodes (aliases count at their expanded size, so an alias "billion laughs" bomb stops at
//! the limit instead of exhausting memory), and the number of documents.

use std::collections::HashMap;
use std::fmt;

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl Pos {
    /// A position from 1-based line and column.
    pub fn new(line: u32, col: u32) -> Self {
        Pos { line, col }
    }

    fn from_marker(m: &Marker) -> Self {
        Pos {
            line: u32::try_from(m.line()).unwrap_or(u32::MAX),
            col: u32::try_from(m.col() + 1).unwrap_or(u32::MAX),
        }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// One YAML node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
}

/// The value of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A key and its value in a mapping, in source order.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: Node,
    pub value: Node,
}

impl Value {
    /// How the value is named in error messages: "a string", "an integer", ...
    pub fn describe(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl Node {
    /// The string value, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The value under `key`, if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.as_map()?.iter().find(|e| e.key.as_str() == Some(key))
    }

    /// A scalar as the user would write it, for messages.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Null => Some("null".to_owned()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Str(s) => Some(s.clone()),
            Value::Seq(_) | Value::Map(_) => None,
        }
    }
}

/// Bounds on what one file may make the parser build.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest nesting of lists and mappings.
    pub max_depth: usize,
    /// Most nodes in one file, counting aliases at their expanded size.
    pub max_nodes: usize,
    /// Most documents in one file.
    pub max_documents: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 32,
            max_nodes: 100_000,
            max_documents: 1_000,
        }
    }
}

/// A syntax error or a limit hit while reading YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// One document of a file: its root node (never null; empty documents are skipped).
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedDocument {
    pub root: Node,
}

/// Parses every document of `text`. Documents before a syntax error are returned with it,
/// so a file with one broken document still reports the others' errors.
pub fn parse_documents(text: &str, limits: Limits) -> (Vec<ParsedDocument>, Option<SyntaxError>) {
    let mut builder = Builder::new(limits);
    let mut parser = Parser::new_from_str(text);
    loop {
        let (event, marker) = match parser.next_token() {
            Ok(ev) => ev,
            Err(e) => {
                let pos = Pos::from_marker(e.marker());
                let message = if e.info().contains("recursion limit") {
                    format!(
                        "invalid YAML: nesting deeper than {} levels",
                        limits.max_depth
                    )
                } else {
                    format!("invalid YAML: {}", e.info())
                };
                let err = SyntaxError { pos, message };
                return (builder.documents, Some(err));
            }
        };
        match builder.event(event, &marker) {
            Ok(true) => return (builder.documents, None),
            Ok(false) => {}
            Err(err) => return (builder.documents, Some(err)),
        }
    }
}

enum Frame {
    Seq {
        items: Vec<Node>,
        pos: Pos,
        anchor: usize,
        size: usize,
    },
    Map {
        entries: Vec<Entry>,
        key: Option<Node>,
        pos: Pos,
        anchor: usize,
        size: usize,
    },
}

struct Builder {
    limits: Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    nodes: usize,
    documents: Vec<ParsedDocument>,
}

impl Builder {
    fn new(limits: Limits) -> Self {
        Builder {
            limits,
            stack: Vec::new(),
            anchors: HashMap::new(),
            nodes: 0,
            documents: Vec::new(),
        }
    }

    /// Feeds one event; `Ok(true)` at the end of the stream.
    fn event(&mut self, event: Event, marker: &Marker) -> Result<bool, SyntaxError> {
        let pos = Pos::from_marker(marker);
        match event {
            Event::StreamEnd => return Ok(true),
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
            Event::DocumentStart => {
                self.anchors.clear();
                if self.documents.len() >= self.limits.max_documents {
                    return Err(SyntaxError {
                        pos,
                        message: format!(
                            "too many documents in one file (limit {})",
                            self.limits.max_documents
                        ),
                    });
                }
            }
            Event::Alias(id) => {
                let Some((node, size)) = self.anchors.get(&id) else {
                    return Err(SyntaxError {
                        pos,
                        message: "alias to an unknown anchor".to_owned(),
                    });
                };
                let (node, size) = (node.clone(), *size);
                self.count(size, pos)?;
                self.finish(Node { pos, ..node }, size, 0)?;
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1, pos)?;
                let value = resolve_scalar(text, style, tag.as_ref())
                    .map_err(|message| SyntaxError { pos, message })?;
                self.finish(Node { value, pos }, 1, anchor)?;
            }
            Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                self.count(1, pos)?;
                if let Some(tag) = tag {
                    return Err(SyntaxError {
                        pos,
                        message: format!("YAML tag {} is not supported here", tag_text(tag)),
                    });
                }
                if self.stack.len() >= self.limits.max_depth {
                    // Point at the key that opens the level, not past it.
                    let pos = match self.stack.last() {
                        Some(Frame::Map { key: Some(k), .. }) => k.pos,
                        _ => pos,
                    };
                    return Err(SyntaxError {
                        pos,
                        message: format!("nesting deeper than {} levels", self.limits.max_depth),
                    });
                }
                let frame = if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: Vec::new(),
                        pos,
                        anchor,
                        size: 1,
                    }
                } else {
                    Frame::Map {
                        entries: Vec::new(),
                        key: None,
                        pos,
                        anchor,
                        size: 1,
                    }
                };
                self.stack.push(frame);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, size, anchor) = match self.stack.pop() {
                    Some(Frame::Seq {
                        items,
                        pos,
                        anchor,
                        size,
                    }) => (
                        Node {
                            value: Value::Seq(items),
                            pos,
                        },
                        size,
                        anchor,
                    ),
                    Some(Frame::Map {
                        entries,
                        pos,
                        anchor,
                        size,
                        ..
                    }) => (
                        // A block mapping's start event sits after its first key; its
                        // first key is where a reader looks for it.
                        Node {
                            pos: entries.first().map_or(pos, |e| e.key.pos),
                            value: Value::Map(entries),
                        },
                        size,
                        anchor,
                    ),
                    None => {
                        return Err(SyntaxError {
                            pos,
                            message: "unbalanced YAML structure".to_owned(),
                        });
                    }
                };
                self.finish(node, size, anchor)?;
            }
        }
        Ok(false)
    }

    fn count(&mut self, n: usize, pos: Pos) -> Result<(), SyntaxError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.max_nodes {
            return Err(SyntaxError {
                pos,
                message: format!(
                    "more than {} YAML nodes in one file (aliases count at their expanded size)",
                    self.limits.max_nodes
                ),
            });
        }
        Ok(())
    }

    /// Adds a completed node to its parent, or ends a document.
    fn finish(&mut self, node: Node, size: usize, anchor: usize) -> Result<(), SyntaxError> {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => {
                if node.value != Value::Null {
                    self.documents.push(ParsedDocument { root: node });
                }
            }
            Some(Frame::Seq {
                items, size: total, ..
            }) => {
                *total = total.saturating_add(size);
                items.push(node);
            }
            Some(Frame::Map {
                entries,
                key,
                size: total,
                ..
            }) => {
                *total = total.saturating_add(size);
                match key.take() {
                    None => *key = Some(node),
                    Some(k) => entries.push(Entry {
                        key: k,
                        value: node,
                    }),
                }
            }
        }
        Ok(())
    }
}

fn tag_text(tag: &Tag) -> String {
    let handle = if tag.handle == "tag:yaml.org,2002:" {
        "!!"
    } else {
        &tag.handle
    };
    format!("{handle}{}", tag.suffix)
}

/// Resolves a scalar with the YAML 1.2 core schema.
fn resolve_scalar(text: String, style: TScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    if let Some(tag) = tag {
        let core = tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!";
        return match (core, tag.suffix.as_str()) {
            (true, "str") => Ok(Value::Str(text)),
            (true, "null") if resolve_plain(&text) == Value::Null => Ok(Value::Null),
            (true, "bool") if matches!(resolve_plain(&text), Value::Bool(_)) => {
                Ok(resolve_plain(&text))
            }
            (true, "int") if matches!(resolve_plain(&text), Value::Int(_)) => {
                Ok(resolve_plain(&text))
            }
            (true, "float") => match resolve_plain(&text) {
                Value::Int(i) => Ok(Value::Float(i as f64)),
                v @ Value::Float(_) => Ok(v),
                _ => Err(format!("{text:?} is not a float")),
            },
            _ => Err(format!(
                "YAML tag {} is not supported for {text:?}",
                tag_text(tag)
            )),
        };
    }
    if style != TScalarStyle::Plain {
        return Ok(Value::Str(text));
    }
    Ok(resolve_plain(&text))
}

fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    if let Some(v) = parse_int(text) {
        return v;
    }
    if looks_like_float(text)
        && let Ok(f) = text.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::Str(text.to_owned())
}

fn parse_int(text: &str) -> Option<Value> {
    let (radix, digits) = if let Some(hex) = text.strip_prefix("0x") {
        (16, hex)
    } else if let Some(oct) = text.strip_prefix("0o") {
        (8, oct)
    } else {
        let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
        if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        return Some(match text.parse::<i64>() {
            Ok(i) => Value::Int(i),
            // Too large for i64: keep it as a number so range checks can report it.
            Err(_) => Value::Float(text.parse::<f64>().ok()?),
        });
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    Some(match i64::from_str_radix(digits, radix) {
        Ok(i) => Value::Int(i),
        Err(_) => Value::Float(f64::INFINITY),
    })
}

/// The YAML 1.2 core float pattern: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn looks_like_float(text: &str) -> bool {
    let s = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int_part, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match frac {
        None => !int_part.is_empty() && digits(int_part),
        Some(f) => digits(int_part) && digits(f) && !(int_part.is_empty() && f.is_empty()),
    };
    let exponent_ok = match exponent {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['-', '+']).unwrap_or(e);
            !e.is_empty() && digits(e)
        }
    };
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        let (docs, err) = parse_documents(text, Limits::default());
        assert_eq!(err, None);
        assert_eq!(docs.len(), 1);
        docs.into_iter()
            .next()
            .map(|d| d.root)
            .expect("one document")
    }

    #[test]
    fn scalars_resolve_with_the_core_schema() {
        let root =
            one("a: 1\nb: '1'\nc: 1.5\nd: true\ne: ~\nf: 0x1F\ng: hello\nh: 1e3\ni: 1.10.2\n");
        let get = |k: &str| root.get(k).map(|e| e.value.value.clone());
        assert_eq!(get("a"), Some(Value::Int(1)));
        assert_eq!(get("b"), Some(Value::Str("1".into())));
        assert_eq!(get("c"), Some(Value::Float(1.5)));
        assert_eq!(get("d"), Some(Value::Bool(true)));
        assert_eq!(get("e"), Some(Value::Null));
        assert_eq!(get("f"), Some(Value::Int(31)));
        assert_eq!(get("g"), Some(Value::Str("hello".into())));
        assert_eq!(get("h"), Some(Value::Float(1000.0)));
        assert_eq!(get("i"), Some(Value::Str("1.10.2".into())));
    }

    #[test]
    fn positions_point_at_keys_and_values() {
        let root = one("top:\n  inner: value\n  list: [1, 2]\n");
        let top = root.get("top").expect("top");
        assert_eq!(top.key.pos, Pos::new(1, 1));
        let inner = top.value.get("inner").expect("inner");
        assert_eq!(inner.key.pos, Pos::new(2, 3));
        assert_eq!(inner.value.pos, Pos::new(2, 10));
        let list = top.value.get("list").expect("list");
        let Value::Seq(items) = &list.value.value else {
            panic!("a list")
        };
        assert_eq!(items[1].pos, Pos::new(3, 13));
    }

    #[test]
    fn a_block_mapping_starts_at_its_first_key() {
        let root = one("\n  a: 1\n  b: 2\n");
        assert_eq!(root.pos, Pos::new(2, 3));
    }

    #[test]
    fn empty_documents_are_skipped() {
        let (docs, err) =
            parse_documents("---\n# only a comment\n---\na: 1\n---\n", Limits::default());
        assert_eq!(err, None);
        assert_eq!(docs.len(), 1);
    }

    #[test]
    fn alias_bomb_stops_at_the_node_limit() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let (_, err) = parse_documents(&text, Limits::default());
        let err = err.expect("the bomb is refused");
        assert!(
            err.message.contains("more than 100000 YAML nodes"),
            "{err:?}"
        );
    }

    #[test]
    fn small_aliases_expand() {
        let root = one("base: &b {x: 1}\ncopy: *b\n");
        assert_eq!(
            root.get("copy").map(|e| e.value.value.clone()),
            root.get("base").map(|e| e.value.value.clone())
        );
    }

    #[test]
    fn deep_flow_nesting_is_refused() {
        let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let (_, err) = parse_documents(&text, Limits::default());
        let err = err.expect("refused");
        assert!(err.message.contains("nesting"), "{err:?}");
    }

    #[test]
    fn deep_block_nesting_is_refused() {
        let text: String = (0..40)
            .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
            .collect();
        let (_, err) = parse_documents(&text, Limits::default());
        let err = err.expect("refused");
        assert!(err.message.contains("nesting deeper than 32"), "{err:?}");
    }

    #[test]
    fn syntax_errors_have_positions() {
        let (_, err) = parse_documents("a: 1\nb: [1, 2\n", Limits::default());
        let err = err.expect("syntax error");
        assert!(err.message.starts_with("invalid YAML"), "{err:?}");
        assert!(err.pos.line >= 2, "{err:?}");
    }

    #[test]
    fn unsupported_tags_are_errors() {
        let (_, err) = parse_documents("a: !!binary aGVsbG8=\n", Limits::default());
        assert!(err.is_some());
        let root = one("a: !!str 123\n");
        assert_eq!(
            root.get("a").map(|e| e.value.value.clone()),
            Some(Value::Str("123".into()))
        );
    }
}
