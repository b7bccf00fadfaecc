//! Semantic checks that a schema cannot express: AWS name rules, Fargate sizes, ARN
//! shapes, ranges that depend on other fields, what AWS would refuse (the execution role
//! a Fargate task needs, CodeDeploy name lengths, tag limits), and references between
//! the objects of a source (a Service's target groups, a ScalingPolicy's service), which
//! must resolve. Counts the schema states (subnets, containers, ...) are checked with
//! the schema, where editors see them too.
//!
//! # Layout
//! - this module: the [`Validator`] and its shared helpers, and rules across objects;
//! - `metadata`, `target_group`, `service`, `scaling_policy`: one file per part;
//!   `deployment` is a Service's `deployment` block (strategies, circuit breaker,
//!   alarms, early success, hooks), `analysis` its canary analysis.

mod analysis;
mod deployment;
mod metadata;
mod scaling_policy;
mod service;
mod target_group;

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::arn;
use crate::diag::Diagnostic;
use crate::document::Document;
use crate::manifest::{Kind, ObjectKey, Spec};

pub use metadata::{MAX_LABEL_KEYS_CHARS, MAX_LABELS, is_label};

/// Words that mark an environment variable as a secret.
pub(super) const SECRET_WORDS: [&str; 5] =
    ["PASSWORD", "SECRET", "TOKEN", "API_KEY", "PRIVATE_KEY"];

/// Checks every document and their references; `invalid` names the objects whose
/// documents failed to decode (references to them are not reported again).
pub(crate) fn validate(docs: &[Document], invalid: &HashSet<ObjectKey>) -> Vec<Diagnostic> {
    let mut v = Validator {
        diags: Vec::new(),
        names: HashMap::new(),
        invalid,
    };
    for (i, doc) in docs.iter().enumerate() {
        let key = doc.manifest.key();
        if let Some(&first) = v.names.get(&key) {
            let first = &docs[first];
            let msg = format!(
                "duplicate {} {:?} (first defined at {}:{})",
                key.kind,
                key.name,
                first.file,
                first.value_pos("metadata.name")
            );
            v.err(doc, "metadata.name", msg);
        } else {
            v.names.insert(key, i);
        }
    }
    for doc in docs {
        v.metadata(doc);
        match &doc.manifest.spec {
            Spec::TargetGroup(tg) => v.target_group(doc, tg),
            Spec::Service(svc) => v.service(doc, docs, svc),
            Spec::ScalingPolicy(sp) => v.scaling_policy(doc, docs, sp),
        }
    }
    v.across(docs);
    v.diags
}

pub(super) struct Validator<'a> {
    diags: Vec<Diagnostic>,
    names: HashMap<ObjectKey, usize>,
    invalid: &'a HashSet<ObjectKey>,
}

impl Validator<'_> {
    pub(super) fn err(&mut self, doc: &Document, path: &str, message: impl Into<String>) {
        self.diags.push(Diagnostic {
            object: Some(doc.manifest.key()),
            ..Diagnostic::new(&doc.file, doc.value_pos(path), message)
        });
    }

    pub(super) fn err_key(&mut self, doc: &Document, path: &str, message: impl Into<String>) {
        self.diags.push(Diagnostic {
            object: Some(doc.manifest.key()),
            ..Diagnostic::new(&doc.file, doc.key_pos(path), message)
        });
    }

    /// Resolves a reference by name; reports it unless the target is only invalid.
    pub(super) fn reference<'d>(
        &mut self,
        doc: &Document,
        docs: &'d [Document],
        path: &str,
        kind: Kind,
        name: &str,
    ) -> Option<&'d Document> {
        let key = ObjectKey {
            kind,
            name: name.to_owned(),
        };
        if let Some(i) = self.names.get(&key) {
            return docs.get(*i);
        }
        if !self.invalid.contains(&key) {
            let known: Vec<&str> = docs
                .iter()
                .filter(|d| d.manifest.kind() == kind)
                .map(|d| d.manifest.metadata.name.as_str())
                .collect();
            let hint = crate::suggest::hint(name, known.iter().copied());
            self.err(
                doc,
                path,
                format!(
                    "{path} refers to {kind} {name:?}, which is not defined in this source{hint}"
                ),
            );
        }
        None
    }

    pub(super) fn role_arn(&mut self, doc: &Document, path: &str, value: &str) {
        if !arn::is_role_arn(value) {
            let msg = format!(
                "{path} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME), found {value:?}"
            );
            self.err(doc, path, msg);
        }
    }

    pub(super) fn listener_arn(&mut self, doc: &Document, path: &str, value: &str) {
        if !arn::is_listener_arn(value) {
            let msg = format!(
                "{path} is not an ALB listener ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/NAME/ID/ID), found {value:?}"
            );
            self.err(doc, path, msg);
        }
    }

    /// Rules that span several objects.
    fn across(&mut self, docs: &[Document]) {
        let mut policies: HashMap<&str, &Document> = HashMap::new();
        let mut priorities: BTreeMap<(&str, u32), &Document> = BTreeMap::new();
        for doc in docs {
            match &doc.manifest.spec {
                Spec::ScalingPolicy(sp) => {
                    if let Some(first) = policies.get(sp.service.as_str()) {
                        let msg = format!(
                            "Service {:?} already has ScalingPolicy {:?} ({}:{}); one ScalingPolicy per Service",
                            sp.service, first.manifest.metadata.name, first.file, first.pos
                        );
                        self.err(doc, "spec.service", msg);
                    } else {
                        policies.insert(&sp.service, doc);
                    }
                }
                Spec::TargetGroup(tg) => {
                    if let Some(rule) = &tg.listener_rule {
                        if let Some(first) =
                            priorities.get(&(rule.listener_arn.as_str(), rule.priority))
                        {
                            let msg = format!(
                                "listener rule priority {} is already used on this listener by TargetGroup {:?}",
                                rule.priority, first.manifest.metadata.name
                            );
                            self.err(doc, "spec.listenerRule.priority", msg);
                        } else {
                            priorities.insert((&rule.listener_arn, rule.priority), doc);
                        }
                    }
                }
                Spec::Service(svc) => {
                    // A rule CodeDeploy or ECS shifts has their weights, not the manifest's.
                    let pair = svc
                        .deployment
                        .blue_green
                        .as_ref()
                        .map(|b| b.alternate_target_group.as_str())
                        .or(svc
                            .deployment
                            .traffic
                            .as_ref()
                            .map(|t| t.alternate_target_group.as_str()));
                    let Some(alternate) = pair else { continue };
                    let names = svc
                        .load_balancers
                        .first()
                        .map(|lb| lb.target_group.as_str())
                        .into_iter()
                        .chain([alternate]);
                    for name in names {
                        let weighted = docs.iter().find(|o| {
                            o.manifest.metadata.name == name
                                && matches!(&o.manifest.spec, Spec::TargetGroup(tg)
                                    if tg.listener_rule.as_ref().is_some_and(|r| !r.also_forward_to.is_empty()))
                        });
                        if let Some(o) = weighted {
                            let msg = format!(
                                "TargetGroup {name:?} is shifted by Service {:?}'s blue/green deployments ({}:{}), so its listenerRule cannot set alsoForwardTo",
                                doc.manifest.metadata.name, doc.file, doc.pos
                            );
                            self.err(o, "spec.listenerRule.alsoForwardTo", msg);
                        }
                    }
                }
            }
        }
    }
}
