//! A source as a whole: files in, documents and every diagnostic out.
//!
//! Reading files (from a directory, S3 or git) happens elsewhere; this module only sees
//! their names and bytes, so it is the same for every kind of source and easy to test.

use std::collections::HashSet;

use crate::diag::{self, Diagnostic};
use crate::document::{self, Document};
use crate::manifest::{Kind, ObjectKey};
use crate::node::{self, Limits, Pos};
use crate::validate;

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
        let invalid = self.invalid_objects();
        self.documents
            .iter()
            .filter(move |d| !invalid.contains(&d.manifest.key()))
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
            if !decoded.errors.is_empty()
                && let Some(key) = &decoded.object
            {
                invalid.insert(key.clone());
            }
            diagnostics.extend(decoded.errors.into_iter().map(|(pos, message)| Diagnostic {
                object: decoded.object.clone(),
                ..Diagnostic::new(&file.name, pos, message)
            }));
            documents.extend(decoded.document);
        }
    }
    diagnostics.extend(validate::validate(&documents, &invalid));
    diag::sort(&mut diagnostics);
    Source {
        documents,
        diagnostics,
        files: files.len(),
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
