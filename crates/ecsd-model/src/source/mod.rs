//! A source as a whole: files in, documents and every diagnostic out.
//!
//! Reading files (from a directory, S3 or git) happens elsewhere; this module only sees
//! their names and bytes, so it is the same for every kind of source and easy to test.
//! `targets.rs`: the rules across Target documents, and which target each object
//! belongs to.

use std::collections::HashSet;

use crate::diag::{self, Diagnostic};
use crate::document::{self, Document};
use crate::manifest::{Kind, ObjectKey};
use crate::node::{self, Limits, Pos};
use crate::target::{Target, Targets};
use crate::validate;

mod targets;
#[cfg(test)]
mod tests;

/// The largest manifest file ecsd reads (4 MiB); larger files are an error, unread.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// One file of a source: a name to report errors against, and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A parsed and validated source.
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// Every document that decoded, in file order. Those named by an error in
    /// `diagnostics` failed semantic checks; see [`Source::valid_documents`].
    pub documents: Vec<Document>,
    /// Every error found, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// How many files were read.
    pub files: usize,
    /// The targets the source declares (`kind: Target`, *added*); empty: everything
    /// goes to the implicit target (ecsd's own credentials and region).
    pub targets: Targets,
    /// A Target document has an error: the targets above are incomplete, so a
    /// controller keeps the targets it had.
    pub targets_invalid: bool,
}

impl Source {
    /// True when no error was found.
    pub fn is_valid(&self) -> bool {
        self.diagnostics.is_empty()
    }

    /// The objects that have at least one error.
    pub fn invalid_objects(&self) -> HashSet<ObjectKey> {
        self.diagnostics
            .iter()
            .filter_map(|d| d.object.clone())
            .collect()
    }

    /// Documents without any error of their own.
    pub fn valid_documents(&self) -> impl Iterator<Item = &Document> {
        let invalid: HashSet<(Option<&str>, ObjectKey)> = self
            .diagnostics
            .iter()
            .filter_map(|d| Some((d.target.as_deref(), d.object.clone()?)))
            .collect();
        self.documents
            .iter()
            .filter(move |d| !invalid.contains(&(d.target.as_deref(), d.manifest.key())))
    }

    /// The part of the source one target deploys: its documents and the diagnostics
    /// about them, with the errors no object owns (which concern every target).
    /// `None` is the implicit target of a source without targets.
    pub fn for_target(&self, target: Option<&str>) -> Source {
        Source {
            documents: self
                .documents
                .iter()
                .filter(|d| d.target.as_deref() == target)
                .cloned()
                .collect(),
            diagnostics: self
                .diagnostics
                .iter()
                .filter(|d| d.target.is_none() || d.target.as_deref() == target)
                .cloned()
                .collect(),
            files: self.files,
            targets: self.targets.clone(),
            targets_invalid: self.targets_invalid,
        }
    }

    /// How many documents of each kind decoded.
    pub fn count(&self, kind: Kind) -> usize {
        self.documents
            .iter()
            .filter(|d| d.manifest.kind() == kind)
            .count()
    }
}

/// Parses and validates every file as one source (names are unique and references
/// resolve across all of them).
pub fn parse_source(files: &[SourceFile]) -> Source {
    let mut documents = Vec::new();
    let mut diagnostics = Vec::new();
    let mut invalid = HashSet::new();
    let mut declared: Vec<Target> = Vec::new();
    let mut targets_invalid = false;
    // Diagnostics of documents that did not decode: (index, file, metadata.target),
    // given their target once the targets are known.
    let mut undecoded: Vec<(usize, String, Option<String>)> = Vec::new();
    for file in files {
        let text = match decode_text(file) {
            Ok(text) => text,
            Err(d) => {
                diagnostics.push(d);
                continue;
            }
        };
        let (parsed, syntax) = node::parse_documents(text, Limits::default());
        if let Some(e) = syntax {
            diagnostics.push(Diagnostic::new(&file.name, e.pos, e.message));
        }
        for p in parsed {
            let decoded = document::decode(&file.name, &p.root);
            let is_target_doc = p.root.get("kind").and_then(|k| k.value.as_str())
                == Some(crate::target::TARGET_KIND);
            if is_target_doc && !decoded.errors.is_empty() {
                targets_invalid = true;
            }
            if !decoded.errors.is_empty()
                && let Some(key) = &decoded.object
            {
                invalid.insert(key.clone());
            }
            for (pos, message) in decoded.errors {
                if decoded.object.is_some() {
                    undecoded.push((
                        diagnostics.len(),
                        file.name.clone(),
                        decoded.names_target.clone(),
                    ));
                }
                diagnostics.push(Diagnostic {
                    object: decoded.object.clone(),
                    ..Diagnostic::new(&file.name, pos, message)
                });
            }
            documents.extend(decoded.document);
            declared.extend(decoded.target);
        }
    }
    let (targets, target_errors) = targets::collect(declared);
    targets_invalid |= !target_errors.is_empty();
    diagnostics.extend(target_errors);
    for (i, file, named) in undecoded {
        if let Some(d) = diagnostics.get_mut(i) {
            d.target = named.or_else(|| targets.by_folder(&file).map(str::to_owned));
        }
    }
    if targets.is_empty() {
        for doc in &documents {
            if doc.manifest.metadata.target.is_some() {
                diagnostics.push(Diagnostic {
                    object: Some(doc.manifest.key()),
                    ..Diagnostic::new(&doc.file, doc.value_pos("metadata.target"), "metadata.target names a target, but this source declares none (kind: Target)")
                });
            }
        }
        diagnostics.extend(validate::validate(&documents, &invalid));
    } else {
        diagnostics.extend(targets::assign(&targets, &mut documents));
        // Names are unique, and references resolve, within each target.
        for name in targets.by_name.keys() {
            let group: Vec<Document> = documents
                .iter()
                .filter(|d| d.target.as_deref() == Some(name.as_str()))
                .cloned()
                .collect();
            diagnostics.extend(validate::validate(&group, &invalid).into_iter().map(|d| {
                Diagnostic {
                    target: Some(name.clone()),
                    ..d
                }
            }));
        }
    }
    diag::sort(&mut diagnostics);
    Source {
        documents,
        diagnostics,
        files: files.len(),
        targets,
        targets_invalid,
    }
}

/// The file as UTF-8 text, or why it cannot be read as YAML.
fn decode_text(file: &SourceFile) -> Result<&str, Diagnostic> {
    let bytes = &file.bytes;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Diagnostic::new(
            &file.name,
            Pos::new(1, 1),
            format!(
                "file is larger than {MAX_FILE_BYTES} bytes (4 MiB), the limit for one manifest file"
            ),
        ));
    }
    let (text, invalid_at) = match std::str::from_utf8(bytes) {
        Ok(t) => (t, None),
        Err(e) => {
            let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            (valid, Some(e.valid_up_to()))
        }
    };
    if let Some((at, c)) = text.char_indices().find(|(_, c)| !is_yaml_printable(*c)) {
        let message = if c == '\0' {
            "this is a binary file (it contains a NUL byte), not YAML".to_owned()
        } else {
            format!(
                "control character U+{:04X} is not allowed in YAML; is this a binary file?",
                u32::from(c)
            )
        };
        return Err(Diagnostic::new(&file.name, pos_at(text, at), message));
    }
    if let Some(at) = invalid_at {
        return Err(Diagnostic::new(
            &file.name,
            pos_at(text, at),
            format!(
                "file is not valid UTF-8 (byte 0x{:02x} at offset {at}); save it as UTF-8",
                bytes[at]
            ),
        ));
    }
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// YAML 1.2 `c-printable`: tab, line breaks, and everything but the C0/C1 controls and DEL.
fn is_yaml_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{85}') || !c.is_control()
}

/// The line and column of byte offset `at` in `text`.
fn pos_at(text: &str, at: usize) -> Pos {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Pos::new(
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(col).unwrap_or(u32::MAX),
    )
}
