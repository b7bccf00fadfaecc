//! Diagnostics: one error, where it is, and which object it belongs to.

use std::fmt;

use crate::manifest::ObjectKey;
use crate::node::Pos;

/// One error in a source, printed as `file:line:col: error: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user named it (a path relative to what they passed, or an S3 key).
    pub file: String,
    pub pos: Pos,
    pub message: String,
    /// The object the error is about, when its kind and name could be read. The controller
    /// uses it to keep that object's last valid desired state.
    pub object: Option<ObjectKey>,
    /// The target the object (or the Target document) belongs to, in a source that
    /// declares targets.
    pub target: Option<String>,
}

impl Diagnostic {
    pub(crate) fn new(file: &str, pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_owned(),
            pos,
            message: message.into(),
            object: None,
            target: None,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error: {}",
            self.file, self.pos.line, self.pos.col, self.message
        )
    }
}

/// Sorts diagnostics by file, then position, and drops exact repeats.
pub(crate) fn sort(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| (&a.file, a.pos, &a.message).cmp(&(&b.file, b.pos, &b.message)));
    diags.dedup_by(|a, b| a.file == b.file && a.pos == b.pos && a.message == b.message);
}
