//! The rules across a source's Target documents (unique names and folders, `after`
//! naming declared targets without a cycle), and the target each object belongs to.

use std::collections::BTreeMap;

use crate::diag::Diagnostic;
use crate::document::Document;
use crate::target::{Target, Targets};

/// The declared targets that can be used, and the errors across them. A target in a
/// cycle or with a dangling `after` is reported (the source is invalid), and kept, so
/// its objects still resolve.
pub(super) fn collect(declared: Vec<Target>) -> (Targets, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut by_name: BTreeMap<String, Target> = BTreeMap::new();
    let mut folders: BTreeMap<String, (String, String, crate::node::Pos)> = BTreeMap::new();
    for t in declared {
        if let Some(first) = by_name.get(&t.name) {
            diags.push(Diagnostic::new(
                &t.file,
                t.name_pos,
                format!(
                    "duplicate Target {:?} (first defined at {}:{})",
                    t.name, first.file, first.name_pos
                ),
            ));
            continue;
        }
        if let Some(prefix) = t.folder_prefix() {
            if let Some((other, file, pos)) = folders.get(&prefix) {
                diags.push(Diagnostic::new(
                    &t.file,
                    t.folder_pos,
                    format!(
                        "folder {prefix:?} already belongs to Target {other:?} ({file}:{pos}); a folder has one target"
                    ),
                ));
            } else {
                folders.insert(prefix, (t.name.clone(), t.file.clone(), t.folder_pos));
            }
        }
        by_name.insert(t.name.clone(), t);
    }
    let targets = Targets { by_name };
    for t in targets.by_name.values() {
        for (i, after) in t.spec.after.iter().enumerate() {
            let pos = t.after_pos.get(i).copied().unwrap_or(t.pos);
            let message = if after == &t.name {
                format!("Target {:?} cannot come after itself", t.name)
            } else if !targets.by_name.contains_key(after) {
                let hint = crate::suggest::hint(after, targets.by_name.keys().map(String::as_str));
                format!(
                    "spec.after[{i}] refers to Target {after:?}, which is not defined in this source{hint}"
                )
            } else if targets.waits_for(after).contains(&t.name) {
                format!(
                    "spec.after[{i}]: Target {after:?} waits for {:?} already (directly or through others), so this makes a cycle",
                    t.name
                )
            } else {
                continue;
            };
            diags.push(Diagnostic {
                target: Some(t.name.clone()),
                ..Diagnostic::new(&t.file, pos, message)
            });
        }
    }
    (targets, diags)
}

/// Gives each document its target: the one `metadata.target` names, else the one
/// whose folder holds its file. An object that belongs to no declared target is an
/// error: with targets declared, nothing is deployed to ecsd's own account by accident.
/// That error names no object (the object is in no target to keep a state for), so
/// like a file's error it concerns every target: none prunes while it stands.
pub(super) fn assign(targets: &Targets, documents: &mut [Document]) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for doc in documents {
        let named = doc.manifest.metadata.target.clone();
        let key = doc.manifest.key();
        match named {
            Some(name) if targets.by_name.contains_key(&name) => doc.target = Some(name),
            Some(name) => {
                let hint = crate::suggest::hint(&name, targets.by_name.keys().map(String::as_str));
                diags.push(Diagnostic {
                    object: Some(key),
                    target: Some(name.clone()),
                    ..Diagnostic::new(
                        &doc.file,
                        doc.value_pos("metadata.target"),
                        format!("metadata.target refers to Target {name:?}, which is not defined in this source{hint}"),
                    )
                });
                doc.target = Some(name);
            }
            None => match targets.by_folder(&doc.file) {
                Some(name) => doc.target = Some(name.to_owned()),
                None => {
                    let names: Vec<&str> = targets.by_name.keys().map(String::as_str).collect();
                    diags.push(Diagnostic::new(
                        &doc.file,
                        doc.value_pos("metadata.name"),
                        format!(
                            "{key} belongs to no target: this source declares targets ({}), so set metadata.target or put the file in a target's folder",
                            names.join(", ")
                        ),
                    ));
                }
            },
        }
    }
    diags
}
