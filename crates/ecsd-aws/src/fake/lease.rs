//! The fake DynamoDB lease table of leader election (`run --lease-table`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::AwsError;
use crate::lease::*;

/// An in-memory lease table shared by several replicas' [`FakeLease`] clients. A
/// created table answers `CREATING` to its first two descriptions, and reads and
/// writes of it fail with `ResourceNotFoundException` until it is active, as on AWS.
#[derive(Debug, Clone, Default)]
pub struct FakeLeaseTable {
    state: Arc<Mutex<Store>>,
}

#[derive(Debug, Default)]
struct Store {
    /// `None`: no table; `Some(n)`: n more descriptions answer CREATING.
    table: Option<u32>,
    items: BTreeMap<String, LeaseRecord>,
    writes: Vec<(String, Condition, bool)>,
    /// The table's key is not the lease's.
    wrong_key: bool,
}

/// One replica's client of a [`FakeLeaseTable`]; its calls can be cut off.
#[derive(Debug, Clone)]
pub struct FakeLease {
    table: FakeLeaseTable,
    cut: Arc<AtomicBool>,
    hang: Arc<AtomicBool>,
}

impl FakeLeaseTable {
    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new replica's client.
    pub fn client(&self) -> FakeLease {
        FakeLease {
            table: self.clone(),
            cut: Arc::default(),
            hang: Arc::default(),
        }
    }

    /// The lease of `owner` now.
    pub fn lease(&self, owner: &str) -> Option<LeaseRecord> {
        self.store().items.get(owner).cloned()
    }

    /// Every write tried: (holder written or "", condition, whether it happened).
    pub fn writes(&self) -> Vec<(String, Condition, bool)> {
        self.store().writes.clone()
    }

    /// Whether the table exists (active or not).
    pub fn exists(&self) -> bool {
        self.store().table.is_some()
    }

    /// A table someone created with another key (`id`, a number) than the lease's.
    pub fn with_wrong_key() -> FakeLeaseTable {
        let table = FakeLeaseTable::default();
        {
            let mut store = table.store();
            store.table = Some(0);
            store.wrong_key = true;
        }
        table
    }
}

impl FakeLease {
    /// Every call of this client fails (a network partition) while `cut`.
    pub fn cut(&self, cut: bool) {
        self.cut.store(cut, Ordering::SeqCst);
    }

    /// Every call of this client never answers while `hang`.
    pub fn hang(&self, hang: bool) {
        self.hang.store(hang, Ordering::SeqCst);
    }

    async fn reach(&self, operation: &'static str) -> Result<(), AwsError> {
        if self.hang.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        if self.cut.load(Ordering::SeqCst) {
            return Err(AwsError::Transport {
                service: SERVICE,
                operation,
                message: "connection refused (fake partition)".to_owned(),
            });
        }
        Ok(())
    }

    fn active(&self, operation: &'static str) -> Result<(), AwsError> {
        match self.table.store().table {
            Some(0) => Ok(()),
            _ => Err(AwsError::Service {
                service: SERVICE,
                operation,
                code: "ResourceNotFoundException".to_owned(),
                message: "Requested resource not found".to_owned(),
            }),
        }
    }
}

impl LeaseApi for FakeLease {
    async fn table_state(&self, _table: &str) -> Result<TableState, AwsError> {
        self.reach("DescribeTable").await?;
        let mut store = self.table.store();
        if store.wrong_key {
            return Ok(TableState::WrongKey("id (HASH, N)".to_owned()));
        }
        Ok(match &mut store.table {
            None => TableState::Missing,
            Some(0) => TableState::Active,
            Some(n) => {
                *n -= 1;
                TableState::Creating
            }
        })
    }

    async fn create_table(&self, _table: &str) -> Result<(), AwsError> {
        self.reach("CreateTable").await?;
        let mut store = self.table.store();
        if store.table.is_none() {
            store.table = Some(2);
        }
        Ok(())
    }

    async fn read(&self, _table: &str, owner: &str) -> Result<Option<LeaseRecord>, AwsError> {
        self.reach("GetItem").await?;
        self.active("GetItem")?;
        Ok(self.table.lease(owner))
    }

    async fn scan(&self, _table: &str, prefix: &str) -> Result<Vec<LeaseRecord>, AwsError> {
        self.reach("Scan").await?;
        self.active("Scan")?;
        let store = self.table.store();
        Ok(store
            .items
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(_, r)| r.clone())
            .collect())
    }

    async fn write(
        &self,
        _table: &str,
        record: &LeaseRecord,
        condition: &Condition,
    ) -> Result<bool, AwsError> {
        self.reach("PutItem").await?;
        self.active("PutItem")?;
        let mut store = self.table.store();
        let current = store.items.get(&record.owner);
        let holds = match condition {
            Condition::Always => true,
            Condition::Absent => current.is_none(),
            Condition::Version(v) => current.is_some_and(|c| &c.version == v),
            Condition::HeldBy { holder, generation } => current
                .is_some_and(|c| c.holder.as_ref() == Some(holder) && c.generation == *generation),
        };
        let who = record.holder.clone().unwrap_or_default();
        store.writes.push((who, condition.clone(), holds));
        if holds {
            store.items.insert(record.owner.clone(), record.clone());
        }
        Ok(holds)
    }
}
