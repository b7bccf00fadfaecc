//! What one ScalingPolicy owns of its service's scaling: ecsd's own names, and another
//! tool's policies and actions adopted under their own names (recorded in the service's
//! scaling marker, since they carry no tags).

use std::collections::BTreeSet;

use crate::ops::Op;
use crate::ownership::{self, SCALING_LABELS_TAG, recordable};
use crate::plan::Draft;
use crate::state::ServiceId;

/// The ScalingPolicy's scaling names and what adopting changes of them.
pub(super) struct Owned {
    /// The ScalingPolicy's name.
    pub(super) name: String,
    /// The service's scalable target resource id.
    pub(super) rid: String,
    pub(super) service: ServiceId,
    /// `ecsd-<ScalingPolicy>-`: the prefix of ecsd's own names.
    pub(super) prefix: String,
    /// Another tool's names recorded as adopted, as observed.
    pub(super) recorded: BTreeSet<String>,
    /// The names to record after this plan.
    pub(super) record: BTreeSet<String>,
    /// Another tool's policies and actions put again under ecsd's names: deleted under
    /// their own once ecsd's are in place.
    pub(super) replaced: Vec<Op>,
}

impl Owned {
    /// Whether `n` is ecsd's: by its prefix, or recorded as adopted.
    pub(super) fn ours(&self, n: &str) -> bool {
        n.starts_with(&self.prefix) || self.recorded.contains(n)
    }

    /// Whether `n` was made by another tool.
    pub(super) fn foreign(n: &str) -> bool {
        !n.starts_with(ownership::SCALING_NAME_PREFIX)
    }

    /// Whether another tool's policy or action keeps its name `n`; if not, `delete`
    /// removes it once ecsd's own is in place.
    pub(super) fn adopt_one(&mut self, what: &str, n: &str, delete: Op, draft: &mut Draft) -> bool {
        let id = &self.service;
        if recordable(n, &self.record) {
            draft.notes.push(format!(
                "adopts the {what} {n:?}: it keeps its name, recorded in the {SCALING_LABELS_TAG} tag of service {id}"
            ));
            self.record.insert(n.to_owned());
            return true;
        }
        draft.notes.push(format!(
            "adopts the {what} {n:?}: its name cannot be recorded in a tag, so it is put again as ecsd's and then deleted"
        ));
        self.replaced.push(delete);
        false
    }
}
