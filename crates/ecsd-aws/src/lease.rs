//! The DynamoDB table that holds the leader-election leases of `run --lease-table`.
//!
//! One item per `--owner`, keyed by the string partition key `owner`. Every write is a
//! conditional `PutItem` (a lease is taken only if it is absent, or still at the
//! version the taker read; renewed only by its holder at its generation); reads are
//! strongly consistent `GetItem`s. The election itself, which decides what to write
//! and when, lives in `ecsd_runtime::lease`; this module only moves items.
//!
//! AWS facts relied on (docs/aws-behaviours.md, "lease-table"): a conditional write
//! that does not hold fails with `ConditionalCheckFailedException` and changes nothing;
//! `CreateTable` is asynchronous (the table is `CREATING` until `ACTIVE`, and reads and
//! writes of a table that is not active fail with `ResourceNotFoundException`); a
//! second `CreateTable` of the same name fails with `ResourceInUseException`.

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_dynamodb as ddb;
use ddb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, TableStatus,
};

use crate::config::sdk_client;
use crate::error::{AwsError, failed};

pub(crate) const SERVICE: &str = "DynamoDB";
/// The table's partition key (pinned by the command-line contract).
pub const KEY: &str = "owner";

/// One lease as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRecord {
    /// The `--owner` the lease is for.
    pub owner: String,
    /// The replica holding it; `None` once released.
    pub holder: Option<String>,
    /// Increases by one every time the lease changes hands.
    pub generation: u64,
    /// New on every write: a standby that reads the same version for a whole lease
    /// duration knows the holder stopped renewing, without trusting anyone's clock.
    pub version: String,
    /// The lease duration the holder promised to respect, in milliseconds.
    pub duration_ms: u64,
    /// Wall-clock time of the write (milliseconds since the epoch), for people only.
    pub written_at_ms: u64,
}

/// What must hold for a write to happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// None: the write always happens (a replica's own heartbeat, which only it writes).
    Always,
    /// No lease for this owner yet.
    Absent,
    /// The lease is still at this version (nobody wrote since it was read).
    Version(String),
    /// The lease is held by this replica at this generation (a renewal or a release).
    HeldBy { holder: String, generation: u64 },
}

/// Whether the lease table can be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableState {
    Active,
    /// Being created (or updated): wait.
    Creating,
    Missing,
    /// It exists with another key schema (described, e.g. `id (HASH, N)`): ecsd cannot
    /// keep its lease there.
    WrongKey(String),
}

/// The lease table.
pub trait LeaseApi: Send + Sync {
    /// The table's state (`DescribeTable`).
    fn table_state(&self, table: &str)
    -> impl Future<Output = Result<TableState, AwsError>> + Send;
    /// Creates the table (on-demand billing, partition key `owner`). A table created
    /// meanwhile by another replica is not an error.
    fn create_table(&self, table: &str) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// The owner's lease, strongly consistent.
    fn read(
        &self,
        table: &str,
        owner: &str,
    ) -> impl Future<Output = Result<Option<LeaseRecord>, AwsError>> + Send;
    /// Every item whose key starts with `prefix` (a `Scan`, strongly consistent, every
    /// page): the deployment targets' leases and the replicas' heartbeats of one
    /// `--owner`.
    fn scan(
        &self,
        table: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<LeaseRecord>, AwsError>> + Send;
    /// Writes the lease if `condition` holds: `Ok(false)` when it did not (nothing
    /// was written).
    fn write(
        &self,
        table: &str,
        record: &LeaseRecord,
        condition: &Condition,
    ) -> impl Future<Output = Result<bool, AwsError>> + Send;
}

sdk_client!(
    /// [`LeaseApi`] over the aws-sdk-dynamodb client.
    SdkLease,
    ddb
);

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn to_item(r: &LeaseRecord) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([
        (KEY.to_owned(), s(&r.owner)),
        ("generation".to_owned(), n(r.generation)),
        ("version".to_owned(), s(&r.version)),
        ("lease_duration_ms".to_owned(), n(r.duration_ms)),
        ("written_at_ms".to_owned(), n(r.written_at_ms)),
    ]);
    if let Some(holder) = &r.holder {
        item.insert("holder".to_owned(), s(holder));
    }
    item
}

fn from_item(item: &HashMap<String, AttributeValue>) -> Option<LeaseRecord> {
    let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    let num = |k: &str| {
        item.get(k)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some(LeaseRecord {
        owner: text(KEY)?,
        holder: text("holder").filter(|h| !h.is_empty()),
        generation: num("generation").unwrap_or(0),
        version: text("version").unwrap_or_default(),
        duration_ms: num("lease_duration_ms").unwrap_or(0),
        written_at_ms: num("written_at_ms").unwrap_or(0),
    })
}

impl LeaseApi for SdkLease {
    async fn table_state(&self, table: &str) -> Result<TableState, AwsError> {
        match self.client.describe_table().table_name(table).send().await {
            Ok(out) => {
                let Some(t) = out.table() else {
                    return Err(AwsError::missing(SERVICE, "DescribeTable", "Table"));
                };
                let key: Vec<String> = t
                    .key_schema()
                    .iter()
                    .map(|k| {
                        let kind = t
                            .attribute_definitions()
                            .iter()
                            .find(|a| a.attribute_name() == k.attribute_name())
                            .map_or("?", |a| a.attribute_type().as_str());
                        format!("{} ({}, {kind})", k.attribute_name(), k.key_type().as_str())
                    })
                    .collect();
                if key != [format!("{KEY} (HASH, S)")] {
                    return Ok(TableState::WrongKey(key.join(", ")));
                }
                Ok(match t.table_status() {
                    Some(TableStatus::Active) => TableState::Active,
                    _ => TableState::Creating,
                })
            }
            Err(e) => {
                let e = AwsError::from_sdk(SERVICE, "DescribeTable", e);
                if e.code() == Some("ResourceNotFoundException") {
                    Ok(TableState::Missing)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn create_table(&self, table: &str) -> Result<(), AwsError> {
        let key = KeySchemaElement::builder()
            .attribute_name(KEY)
            .key_type(KeyType::Hash)
            .build()
            .map_err(|e| AwsError::invalid(SERVICE, "key schema", e))?;
        let attribute = AttributeDefinition::builder()
            .attribute_name(KEY)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| AwsError::invalid(SERVICE, "attribute definition", e))?;
        let created = self
            .client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key)
            .attribute_definitions(attribute)
            .send()
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = AwsError::from_sdk(SERVICE, "CreateTable", e);
                if e.code() == Some("ResourceInUseException") {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn read(&self, table: &str, owner: &str) -> Result<Option<LeaseRecord>, AwsError> {
        let out = self
            .client
            .get_item()
            .table_name(table)
            .key(KEY, s(owner))
            .consistent_read(true)
            .send()
            .await
            .map_err(failed(SERVICE, "GetItem"))?;
        Ok(out.item().and_then(from_item))
    }

    async fn scan(&self, table: &str, prefix: &str) -> Result<Vec<LeaseRecord>, AwsError> {
        let mut records = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(table)
                .consistent_read(true)
                .filter_expression("begins_with(#o, :p)")
                .expression_attribute_names("#o", KEY)
                .expression_attribute_values(":p", s(prefix))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(failed(SERVICE, "Scan"))?;
            records.extend(out.items().iter().filter_map(from_item));
            match out.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(records),
            }
        }
    }

    async fn write(
        &self,
        table: &str,
        record: &LeaseRecord,
        condition: &Condition,
    ) -> Result<bool, AwsError> {
        let put = self
            .client
            .put_item()
            .table_name(table)
            .set_item(Some(to_item(record)));
        let put = match condition {
            Condition::Always => put,
            Condition::Absent => put
                .condition_expression("attribute_not_exists(#o)")
                .expression_attribute_names("#o", KEY),
            Condition::Version(version) => put
                .condition_expression("#v = :v")
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":v", s(version)),
            Condition::HeldBy { holder, generation } => put
                .condition_expression("#h = :h AND #g = :g")
                .expression_attribute_names("#h", "holder")
                .expression_attribute_names("#g", "generation")
                .expression_attribute_values(":h", s(holder))
                .expression_attribute_values(":g", n(*generation)),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) => {
                let e = AwsError::from_sdk(SERVICE, "PutItem", e);
                if e.code() == Some("ConditionalCheckFailedException") {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }
}

#[cfg(feature = "fake")]
pub use crate::fake::{FakeLease, FakeLeaseTable};
