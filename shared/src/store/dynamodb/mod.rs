//! DynamoDB adapter: the production store. One table (`pk`/`sk` strings) with one sparse
//! global secondary index `gsi1` (`gsi1pk`/`gsi1sk`, projection ALL), on-demand capacity.
//!
//! Semantics follow [`super::memory`] exactly: conditions become `ConditionExpression`s,
//! updates become `UpdateExpression`s (SET / REMOVE / ADD, `ReturnValues=ALL_NEW`),
//! transactions `TransactWriteItems`, reads are strongly consistent on the table. Attribute
//! names and values always go through placeholders (`#n0`, `:v0`), never inline.
//!
//! Pages: a query or scan asks DynamoDB for one item more than the page's limit, so that
//! `next` is `None` exactly when nothing follows (DynamoDB itself returns a
//! `LastEvaluatedKey` whenever it stops at `Limit`, even when nothing follows). Cursors are
//! the JSON of the exclusive start key (`{"pk": .., "sk": ..}`, plus `gsi1pk`/`gsi1sk` for
//! the index).
//!
//! Errors never carry attribute values (they may hold personal data): only the operation,
//! the error code and, for a failed condition, the condition as written by our own code.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::config::BehaviorVersion;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, IndexStatus,
    KeySchemaElement, KeyType, Projection, ProjectionType, ReturnValue, ScalarAttributeType,
    TableStatus, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;

use crate::aws_error;

use super::eval::{validate_condition, validate_item, validate_key, validate_update};
use super::{
    check_transaction, Condition, Index, Item, Key, Page, Query, Scan, Store, StoreError,
    StoreResult, Update, WriteOp, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, PK, SK, TTL,
};

mod encode;

use encode::*;

/// Name of the secondary index in DynamoDB.
pub const GSI1: &str = "gsi1";
pub const GSI2: &str = "gsi2";

/// An attribute no item has. An update that changes nothing is sent as `REMOVE` of it:
/// TransactWriteItems requires an UpdateExpression, and moto (5.2) fails on an UpdateItem
/// without one. Like DynamoDB's every UpdateItem, it creates the item when absent.
const NO_ATTRIBUTE: &str = "_registry_no_attribute";

/// How long [`DynamoStore::create_table`] waits for a new table to become active.
const CREATE_TIMEOUT: Duration = Duration::from_secs(300);

type AttrMap = HashMap<String, AttributeValue>;

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
        }
    }

    /// A client configured by the environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, role...).
    pub async fn from_env(table: impl Into<String>) -> Self {
        let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
        Self::new(Client::new(&config), table)
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Creates the table (pk/sk, sparse GSI `gsi1`, on-demand, TTL on `ttl`) unless it
    /// exists, then waits until it and its index are active. For tests and ops tools; in
    /// AWS the table comes from `template.yaml`.
    pub async fn create_table(&self) -> StoreResult<()> {
        if self.describe().await?.is_none() {
            let s = ScalarAttributeType::S;
            let created = self
                .client
                .create_table()
                .table_name(&self.table)
                .billing_mode(BillingMode::PayPerRequest)
                .attribute_definitions(attribute_definition(PK, s.clone())?)
                .attribute_definitions(attribute_definition(SK, s.clone())?)
                .attribute_definitions(attribute_definition(GSI1_PK, s.clone())?)
                .attribute_definitions(attribute_definition(GSI1_SK, s.clone())?)
                .attribute_definitions(attribute_definition(GSI2_PK, s.clone())?)
                .attribute_definitions(attribute_definition(GSI2_SK, s)?)
                .key_schema(key_schema(PK, KeyType::Hash)?)
                .key_schema(key_schema(SK, KeyType::Range)?)
                .global_secondary_indexes(
                    GlobalSecondaryIndex::builder()
                        .index_name(GSI1)
                        .key_schema(key_schema(GSI1_PK, KeyType::Hash)?)
                        .key_schema(key_schema(GSI1_SK, KeyType::Range)?)
                        .projection(
                            Projection::builder()
                                .projection_type(ProjectionType::All)
                                .build(),
                        )
                        .build()
                        .map_err(build_error)?,
                )
                .global_secondary_indexes(
                    // Keys only, as in template.yaml: written once per journey.
                    GlobalSecondaryIndex::builder()
                        .index_name(GSI2)
                        .key_schema(key_schema(GSI2_PK, KeyType::Hash)?)
                        .key_schema(key_schema(GSI2_SK, KeyType::Range)?)
                        .projection(
                            Projection::builder()
                                .projection_type(ProjectionType::KeysOnly)
                                .build(),
                        )
                        .build()
                        .map_err(build_error)?,
                )
                .send()
                .await;
            match created {
                Ok(_) => {}
                // Created concurrently by someone else: fine.
                Err(e) if aws_error::code(&e) == Some("ResourceInUseException") => {}
                Err(e) => return Err(sdk_error("CreateTable", e)),
            }
        }
        let deadline = tokio::time::Instant::now() + CREATE_TIMEOUT;
        loop {
            if self.describe().await? == Some(true) {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(StoreError::Unavailable(format!(
                    "dynamodb: table {} not active after {CREATE_TIMEOUT:?}",
                    self.table
                )));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        self.enable_ttl().await
    }

    /// `None` when the table does not exist, else whether it and its indexes are active.
    async fn describe(&self) -> StoreResult<Option<bool>> {
        match self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
        {
            Ok(out) => Ok(Some(out.table().is_some_and(|t| {
                t.table_status() == Some(&TableStatus::Active)
                    && t.global_secondary_indexes()
                        .iter()
                        .all(|i| i.index_status() == Some(&IndexStatus::Active))
            }))),
            Err(e) if aws_error::code(&e) == Some("ResourceNotFoundException") => Ok(None),
            Err(e) => Err(sdk_error("DescribeTable", e)),
        }
    }

    async fn enable_ttl(&self) -> StoreResult<()> {
        let enabled = self
            .client
            .describe_time_to_live()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeTimeToLive", e))?
            .time_to_live_description()
            .and_then(|d| d.attribute_name())
            == Some(TTL);
        if enabled {
            return Ok(());
        }
        let spec = TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name(TTL)
            .build()
            .map_err(build_error)?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(spec)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("UpdateTimeToLive", e))
    }
}

fn attribute_definition(name: &str, t: ScalarAttributeType) -> StoreResult<AttributeDefinition> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(t)
        .build()
        .map_err(build_error)
}

fn key_schema(name: &str, t: KeyType) -> StoreResult<KeySchemaElement> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(t)
        .build()
        .map_err(build_error)
}

// ---------------------------------------------------------------------------------------
// Errors

#[async_trait]
impl Store for DynamoStore {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        out.item.map(from_item_map).transpose()
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> StoreResult<()> {
        validate_item(&item)?;
        condition.as_ref().map(validate_condition).transpose()?;
        let mut expr = Expr::default();
        let expression = condition.as_ref().map(|c| expr.condition(c));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_map(&item)))
            .set_condition_expression(expression)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| write_error("PutItem", &item.key, condition.as_ref(), e))
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> StoreResult<Item> {
        validate_key(key)?;
        validate_update(&update)?;
        condition.as_ref().map(validate_condition).transpose()?;
        let mut expr = Expr::default();
        let update_expression = expr.update(&update)?;
        let expression = condition.as_ref().map(|c| expr.condition(c));
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .update_expression(update_expression)
            .set_condition_expression(expression)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| write_error("UpdateItem", key, condition.as_ref(), e))?;
        match out.attributes {
            Some(attrs) if !attrs.is_empty() => from_item_map(attrs),
            _ => Err(StoreError::Unavailable(
                "dynamodb UpdateItem: no item returned".into(),
            )),
        }
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> StoreResult<()> {
        validate_key(key)?;
        condition.as_ref().map(validate_condition).transpose()?;
        let mut expr = Expr::default();
        let expression = condition.as_ref().map(|c| expr.condition(c));
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .set_condition_expression(expression)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| write_error("DeleteItem", key, condition.as_ref(), e))
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> StoreResult<()> {
        check_transaction(&ops)?;
        let items = ops
            .iter()
            .map(|op| transact_item(&self.table, op))
            .collect::<StoreResult<Vec<_>>>()?;
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| transaction_error(&ops, e))
    }

    async fn query(&self, query: Query) -> StoreResult<Page> {
        let (pk_name, sk_name, index_name, consistent) = match query.index {
            Index::Table => (PK, SK, None, Some(true)),
            // Strongly consistent reads are not available on a global secondary index.
            Index::Gsi1 => (GSI1_PK, GSI1_SK, Some(GSI1), None),
            Index::Gsi2 => (GSI2_PK, GSI2_SK, Some(GSI2), None),
        };
        let start = query
            .cursor
            .as_ref()
            .map(|c| decode_cursor(query.index, c))
            .transpose()?;
        if query.pk.is_empty() {
            // DynamoDB refuses an empty key value; no item has one.
            return Ok(Page::default());
        }
        let mut expr = Expr::default();
        let pk = format!(
            "{} = {}",
            expr.name(pk_name),
            expr.value(AttributeValue::S(query.pk.clone()))
        );
        let key_condition = match range_condition(&mut expr, sk_name, &query.sk) {
            None => return Ok(Page::default()),
            Some(None) => pk,
            Some(Some(range)) => format!("{pk} AND {range}"),
        };
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(index_name.map(str::to_owned))
            .set_consistent_read(consistent)
            .key_condition_expression(key_condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .scan_index_forward(!query.descending)
            .limit(probe_limit(query.limit))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| sdk_error("Query", e))?;
        to_page(
            query.index,
            query.limit,
            out.items.unwrap_or_default(),
            out.last_evaluated_key,
        )
    }

    async fn scan(&self, scan: Scan) -> StoreResult<Page> {
        if scan.total_segments == 0 || scan.segment >= scan.total_segments {
            return Err(StoreError::Invalid(format!(
                "segment {} of {}",
                scan.segment, scan.total_segments
            )));
        }
        let segment = i32::try_from(scan.segment).map_err(|_| malformed_segment())?;
        let total = i32::try_from(scan.total_segments).map_err(|_| malformed_segment())?;
        let start = scan
            .cursor
            .as_ref()
            .map(|c| decode_cursor(Index::Table, c))
            .transpose()?;
        let out = self
            .client
            .scan()
            .table_name(&self.table)
            .consistent_read(true)
            .segment(segment)
            .total_segments(total)
            .limit(probe_limit(scan.limit))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| sdk_error("Scan", e))?;
        to_page(
            Index::Table,
            scan.limit,
            out.items.unwrap_or_default(),
            out.last_evaluated_key,
        )
    }
}

fn malformed_segment() -> StoreError {
    StoreError::Invalid("segment number too large".into())
}
