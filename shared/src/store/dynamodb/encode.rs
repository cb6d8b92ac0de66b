//! From the store's model to DynamoDB's and back: attribute values, expressions with
//! placeholders, cursors, pages, transaction items and errors.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem};

use crate::aws_error;

use crate::store::eval::{check_name, validate_item, validate_op};
use crate::store::{
    Attr, Condition, Cursor, Index, Item, Key, Page, SkRange, StoreError, StoreResult, Update,
    WriteOp, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, PK, SK,
};

use super::{AttrMap, NO_ATTRIBUTE};

pub(super) fn build_error(_: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Invalid("dynamodb: cannot build request".into())
}

/// Maps an SDK error without its message (which may quote attribute values).
pub(super) fn sdk_error<E: ProvideErrorMetadata, R>(op: &str, err: SdkError<E, R>) -> StoreError {
    match aws_error::classify("dynamodb", op, &err) {
        aws_error::Failure::Invalid(m) => StoreError::Invalid(m),
        aws_error::Failure::Unavailable(m) => StoreError::Unavailable(m),
    }
}

/// A single-item write's error: a failed condition names it, the rest as [`sdk_error`].
pub(super) fn write_error<E: ProvideErrorMetadata, R>(
    op: &str,
    key: &Key,
    condition: Option<&Condition>,
    err: SdkError<E, R>,
) -> StoreError {
    if aws_error::code(&err) == Some("ConditionalCheckFailedException") {
        return StoreError::ConditionFailed {
            key: key.clone(),
            condition: condition.map(ToString::to_string).unwrap_or_default(),
        };
    }
    sdk_error(op, err)
}

pub(super) fn transaction_error<R>(
    ops: &[WriteOp],
    err: SdkError<TransactWriteItemsError, R>,
) -> StoreError {
    let reasons = match &err {
        SdkError::ServiceError(e) => match e.err() {
            TransactWriteItemsError::TransactionCanceledException(c) => {
                Some(c.cancellation_reasons())
            }
            _ => None,
        },
        _ => None,
    };
    let Some(reasons) = reasons else {
        return sdk_error("TransactWriteItems", err);
    };
    let code_at = |wanted: &str| reasons.iter().position(|r| r.code() == Some(wanted));
    if let Some(index) = code_at("ConditionalCheckFailed") {
        if let Some(op) = ops.get(index) {
            return StoreError::TransactionCanceled {
                index,
                key: op.key().clone(),
                condition: op.condition().map(ToString::to_string).unwrap_or_default(),
            };
        }
    }
    if let Some(index) = code_at("ValidationError") {
        return StoreError::Invalid(format!(
            "dynamodb TransactWriteItems: write #{index} is invalid"
        ));
    }
    let codes: Vec<&str> = reasons
        .iter()
        .filter_map(|r| r.code())
        .filter(|c| *c != "None")
        .collect();
    StoreError::Unavailable(format!(
        "dynamodb TransactWriteItems: canceled ({})",
        codes.join(", ")
    ))
}

// ---------------------------------------------------------------------------------------
// Items and attribute values

pub(super) fn to_value(attr: &Attr) -> AttributeValue {
    match attr {
        Attr::S(s) => AttributeValue::S(s.clone()),
        Attr::N(n) => AttributeValue::N(n.to_string()),
        Attr::B(b) => AttributeValue::Bool(*b),
    }
}

pub(super) fn from_value(name: &str, value: AttributeValue) -> StoreResult<Attr> {
    match value {
        AttributeValue::S(s) => Ok(Attr::S(s)),
        AttributeValue::N(n) => n.parse().map(Attr::N).map_err(|_| {
            StoreError::Unavailable(format!("dynamodb: attribute {name} is not an integer"))
        }),
        AttributeValue::Bool(b) => Ok(Attr::B(b)),
        _ => Err(StoreError::Unavailable(format!(
            "dynamodb: attribute {name} has an unsupported type"
        ))),
    }
}

pub(super) fn key_map(key: &Key) -> AttrMap {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(key.pk.clone())),
        (SK.to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

pub(super) fn item_map(item: &Item) -> AttrMap {
    let mut map = key_map(&item.key);
    for (name, attr) in &item.attrs {
        map.insert(name.clone(), to_value(attr));
    }
    map
}

pub(super) fn take_string(map: &mut AttrMap, name: &str) -> StoreResult<String> {
    match map.remove(name) {
        Some(AttributeValue::S(s)) => Ok(s),
        _ => Err(StoreError::Unavailable(format!(
            "dynamodb: item without a string {name}"
        ))),
    }
}

pub(super) fn from_item_map(mut map: AttrMap) -> StoreResult<Item> {
    let pk = take_string(&mut map, PK)?;
    let sk = take_string(&mut map, SK)?;
    let mut attrs = BTreeMap::new();
    for (name, value) in map {
        let attr = from_value(&name, value)?;
        attrs.insert(name, attr);
    }
    Ok(Item {
        key: Key { pk, sk },
        attrs,
    })
}

// ---------------------------------------------------------------------------------------
// Expressions

pub(super) fn check_update_name(name: &str) -> StoreResult<()> {
    check_name(name)?;
    if name == NO_ATTRIBUTE {
        return Err(StoreError::Invalid(format!(
            "attribute name {name:?} is reserved"
        )));
    }
    Ok(())
}

/// Placeholders of one request: `#n0`.. for names, `:v0`.. for values.
#[derive(Default)]
pub(super) struct Expr {
    names: HashMap<String, String>,
    by_name: HashMap<String, String>,
    values: AttrMap,
}

impl Expr {
    pub(super) fn name(&mut self, name: &str) -> String {
        if let Some(p) = self.by_name.get(name) {
            return p.clone();
        }
        let p = format!("#n{}", self.by_name.len());
        self.by_name.insert(name.to_owned(), p.clone());
        self.names.insert(p.clone(), name.to_owned());
        p
    }

    pub(super) fn value(&mut self, value: AttributeValue) -> String {
        let p = format!(":v{}", self.values.len());
        self.values.insert(p.clone(), value);
        p
    }

    pub(super) fn condition(&mut self, condition: &Condition) -> String {
        match condition {
            Condition::NotExists => format!("attribute_not_exists({})", self.name(PK)),
            Condition::Exists => format!("attribute_exists({})", self.name(PK)),
            Condition::Equals(name, value) => {
                let n = self.name(name);
                let v = self.value(to_value(value));
                format!("{n} = {v}")
            }
            Condition::AttrMissing(name) => format!("attribute_not_exists({})", self.name(name)),
            Condition::All(all) if all.is_empty() => {
                let pk = self.name(PK);
                format!("(attribute_exists({pk}) OR attribute_not_exists({pk}))")
            }
            Condition::All(all) => all
                .iter()
                .map(|c| format!("({})", self.condition(c)))
                .collect::<Vec<_>>()
                .join(" AND "),
        }
    }

    /// `SET .. REMOVE .. ADD ..`. Names are checked like the embedded adapters do; removing
    /// `pk`/`sk` is a no-op there, so it is skipped here. An update that changes nothing
    /// still creates an absent item: it is sent as `REMOVE` of [`NO_ATTRIBUTE`].
    pub(super) fn update(&mut self, update: &Update) -> StoreResult<String> {
        let mut clauses = Vec::new();
        let mut set = Vec::new();
        for (name, value) in &update.set {
            check_update_name(name)?;
            let n = self.name(name);
            let v = self.value(to_value(value));
            set.push(format!("{n} = {v}"));
        }
        if !set.is_empty() {
            clauses.push(format!("SET {}", set.join(", ")));
        }
        let remove: Vec<String> = update
            .remove
            .iter()
            .filter(|name| check_name(name).is_ok())
            .map(|name| self.name(name))
            .collect();
        if !remove.is_empty() {
            clauses.push(format!("REMOVE {}", remove.join(", ")));
        }
        let mut add = Vec::new();
        for (name, by) in &update.add {
            check_update_name(name)?;
            let n = self.name(name);
            let v = self.value(AttributeValue::N(by.to_string()));
            add.push(format!("{n} {v}"));
        }
        if !add.is_empty() {
            clauses.push(format!("ADD {}", add.join(", ")));
        }
        if clauses.is_empty() {
            clauses.push(format!("REMOVE {}", self.name(NO_ATTRIBUTE)));
        }
        Ok(clauses.join(" "))
    }

    pub(super) fn names(&mut self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| std::mem::take(&mut self.names))
    }

    pub(super) fn values(&mut self) -> Option<AttrMap> {
        (!self.values.is_empty()).then(|| std::mem::take(&mut self.values))
    }
}

/// A sort-key range as a key condition, or `Ok(None)` when nothing can match (DynamoDB
/// refuses empty key values and `BETWEEN` with reversed bounds; the embedded adapters
/// simply find nothing).
pub(super) fn range_condition(
    expr: &mut Expr,
    sk_name: &str,
    range: &SkRange,
) -> Option<Option<String>> {
    let mut cmp = |op: &str, v: &str| {
        let n = expr.name(sk_name);
        let p = expr.value(AttributeValue::S(v.to_owned()));
        format!("{n} {op} {p}")
    };
    Some(match range {
        SkRange::All => None,
        // Sort keys are never empty, so these match nothing.
        SkRange::Eq(v) | SkRange::Lte(v) if v.is_empty() => return None,
        SkRange::Between(_, b) if b.is_empty() => return None,
        SkRange::Between(a, b) if a > b => return None,
        // Every sort key is >= "" and begins with "".
        SkRange::BeginsWith(v) | SkRange::Gte(v) if v.is_empty() => None,
        SkRange::Eq(v) => Some(cmp("=", v)),
        SkRange::Gte(v) => Some(cmp(">=", v)),
        SkRange::Lte(v) => Some(cmp("<=", v)),
        SkRange::Between(a, b) if a.is_empty() => Some(cmp("<=", b)),
        SkRange::BeginsWith(v) => {
            let n = expr.name(sk_name);
            let p = expr.value(AttributeValue::S(v.clone()));
            Some(format!("begins_with({n}, {p})"))
        }
        SkRange::Between(a, b) => {
            let n = expr.name(sk_name);
            let pa = expr.value(AttributeValue::S(a.clone()));
            let pb = expr.value(AttributeValue::S(b.clone()));
            Some(format!("{n} BETWEEN {pa} AND {pb}"))
        }
    })
}

// ---------------------------------------------------------------------------------------
// Cursors

pub(super) fn key_names(index: Index) -> &'static [&'static str] {
    match index {
        Index::Table => &[PK, SK],
        Index::Gsi1 => &[PK, SK, GSI1_PK, GSI1_SK],
        Index::Gsi2 => &[PK, SK, GSI2_PK, GSI2_SK],
    }
}

pub(super) fn malformed_cursor() -> StoreError {
    StoreError::Invalid("malformed cursor".into())
}

pub(super) fn encode_cursor(key: BTreeMap<String, String>) -> Cursor {
    Cursor(serde_json::to_string(&key).unwrap_or_default())
}

pub(super) fn decode_cursor(index: Index, cursor: &Cursor) -> StoreResult<AttrMap> {
    let key: BTreeMap<String, String> =
        serde_json::from_str(&cursor.0).map_err(|_| malformed_cursor())?;
    let names = key_names(index);
    if key.len() != names.len() || !names.iter().all(|n| key.contains_key(*n)) {
        return Err(malformed_cursor());
    }
    Ok(key
        .into_iter()
        .map(|(k, v)| (k, AttributeValue::S(v)))
        .collect())
}

/// The exclusive start key that resumes after `item`.
pub(super) fn cursor_after(index: Index, item: &Item) -> StoreResult<Cursor> {
    let mut key = BTreeMap::from([
        (PK.to_owned(), item.key.pk.clone()),
        (SK.to_owned(), item.key.sk.clone()),
    ]);
    if let Some((pk_name, sk_name)) = index.key_names() {
        let (gpk, gsk) = item.index_key(index).ok_or_else(|| {
            StoreError::Unavailable("dynamodb: index item without index keys".into())
        })?;
        key.insert(pk_name.to_owned(), gpk.to_owned());
        key.insert(sk_name.to_owned(), gsk.to_owned());
    }
    Ok(encode_cursor(key))
}

pub(super) fn cursor_from_key(key: AttrMap) -> StoreResult<Cursor> {
    let mut out = BTreeMap::new();
    for (name, value) in key {
        match value {
            AttributeValue::S(s) => out.insert(name, s),
            _ => {
                return Err(StoreError::Unavailable(
                    "dynamodb: non-string key in LastEvaluatedKey".into(),
                ))
            }
        };
    }
    Ok(encode_cursor(out))
}

/// DynamoDB's `Limit` for a page of `limit` items: one more, to know whether more follow.
pub(super) fn probe_limit(limit: usize) -> i32 {
    i32::try_from(limit.max(1))
        .unwrap_or(i32::MAX - 1)
        .min(i32::MAX - 1)
        + 1
}

/// Cuts the response (asked with [`probe_limit`]) to a page of `limit` items.
pub(super) fn to_page(
    index: Index,
    limit: usize,
    raw: Vec<AttrMap>,
    last_evaluated: Option<AttrMap>,
) -> StoreResult<Page> {
    let limit = limit.max(1);
    let mut items = raw
        .into_iter()
        .map(from_item_map)
        .collect::<StoreResult<Vec<Item>>>()?;
    let next = if items.len() > limit {
        items.truncate(limit);
        match items.last() {
            Some(last) => Some(cursor_after(index, last)?),
            None => None,
        }
    } else {
        // Fewer than asked with a LastEvaluatedKey: DynamoDB stopped at its 1 MB page size.
        last_evaluated.map(cursor_from_key).transpose()?
    };
    Ok(Page { items, next })
}

// ---------------------------------------------------------------------------------------
// Transactions

pub(super) fn transact_item(table: &str, op: &WriteOp) -> StoreResult<TransactWriteItem> {
    validate_op(op)?;
    let mut expr = Expr::default();
    let condition = op.condition().map(|c| expr.condition(c));
    let item = match op {
        WriteOp::Put { item, .. } => {
            validate_item(item)?;
            TransactWriteItem::builder().put(
                Put::builder()
                    .table_name(table)
                    .set_item(Some(item_map(item)))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(expr.names())
                    .set_expression_attribute_values(expr.values())
                    .build()
                    .map_err(build_error)?,
            )
        }
        WriteOp::Update { key, update, .. } => {
            let expression = expr.update(update)?;
            TransactWriteItem::builder().update(
                aws_sdk_dynamodb::types::Update::builder()
                    .table_name(table)
                    .set_key(Some(key_map(key)))
                    .update_expression(expression)
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(expr.names())
                    .set_expression_attribute_values(expr.values())
                    .build()
                    .map_err(build_error)?,
            )
        }
        WriteOp::Delete { key, .. } => TransactWriteItem::builder().delete(
            Delete::builder()
                .table_name(table)
                .set_key(Some(key_map(key)))
                .set_condition_expression(condition)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .build()
                .map_err(build_error)?,
        ),
        WriteOp::Check { key, .. } => TransactWriteItem::builder().condition_check(
            ConditionCheck::builder()
                .table_name(table)
                .set_key(Some(key_map(key)))
                .set_condition_expression(condition)
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .build()
                .map_err(build_error)?,
        ),
    };
    Ok(item.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn condition_expressions_use_placeholders_only() {
        let mut expr = Expr::default();
        let c = Condition::All(vec![
            Condition::Exists,
            Condition::equals("status", "pending"),
            Condition::AttrMissing("phone".into()),
        ]);
        let text = expr.condition(&c);
        assert_eq!(
            text,
            "(attribute_exists(#n0)) AND (#n1 = :v0) AND (attribute_not_exists(#n2))"
        );
        assert!(!text.contains("pending") && !text.contains("phone"));
        let names = expr.names().unwrap();
        assert_eq!(names["#n0"], "pk");
        assert_eq!(names["#n1"], "status");
        assert_eq!(names["#n2"], "phone");
        assert_eq!(
            expr.values().unwrap()[":v0"],
            AttributeValue::S("pending".into())
        );
    }

    #[test]
    pub(super) fn update_expression_has_set_remove_add() {
        let mut expr = Expr::default();
        let u = Update::new()
            .set("a", "x")
            .set("b", 3)
            .remove("c")
            .remove("pk")
            .add("n", -2);
        assert_eq!(
            expr.update(&u).unwrap(),
            "SET #n0 = :v0, #n1 = :v1 REMOVE #n2 ADD #n3 :v2"
        );
        assert_eq!(
            expr.values().unwrap()[":v2"],
            AttributeValue::N("-2".into())
        );
        assert!(matches!(
            Expr::default().update(&Update::new().set("sk", 1)),
            Err(StoreError::Invalid(_))
        ));
        let mut empty = Expr::default();
        assert_eq!(empty.update(&Update::new()).unwrap(), "REMOVE #n0");
        assert_eq!(empty.names().unwrap()["#n0"], NO_ATTRIBUTE);
        assert!(matches!(
            Expr::default().update(&Update::new().add(NO_ATTRIBUTE, 1)),
            Err(StoreError::Invalid(_))
        ));
    }

    #[test]
    pub(super) fn ranges_become_key_conditions() {
        let cond = |r: SkRange| range_condition(&mut Expr::default(), SK, &r);
        assert_eq!(cond(SkRange::All), Some(None));
        assert_eq!(
            cond(SkRange::BeginsWith("a#".into())),
            Some(Some("begins_with(#n0, :v0)".into()))
        );
        assert_eq!(
            cond(SkRange::Between("a".into(), "b".into())),
            Some(Some("#n0 BETWEEN :v0 AND :v1".into()))
        );
        assert_eq!(cond(SkRange::Between("b".into(), "a".into())), None);
        assert_eq!(cond(SkRange::Eq(String::new())), None);
        assert_eq!(cond(SkRange::Gte(String::new())), Some(None));
        assert_eq!(
            cond(SkRange::Lte("m".into())),
            Some(Some("#n0 <= :v0".into()))
        );
    }

    #[test]
    pub(super) fn cursors_round_trip_and_reject_garbage() {
        let item = Item::new(Key::new("p", "s"))
            .with(GSI1_PK, "g")
            .with(GSI1_SK, "h");
        let c = cursor_after(Index::Gsi1, &item).unwrap();
        let key = decode_cursor(Index::Gsi1, &c).unwrap();
        assert_eq!(key[GSI1_SK], AttributeValue::S("h".into()));
        assert_eq!(key.len(), 4);
        assert!(decode_cursor(Index::Table, &c).is_err());
        assert!(decode_cursor(Index::Table, &Cursor("[1,2]".into())).is_err());
        let t = cursor_after(Index::Table, &item).unwrap();
        assert_eq!(decode_cursor(Index::Table, &t).unwrap().len(), 2);
    }

    #[test]
    pub(super) fn numbers_that_are_not_integers_are_refused() {
        assert_eq!(
            from_value("n", AttributeValue::N("12".into())).unwrap(),
            Attr::N(12)
        );
        let err = from_value("n", AttributeValue::N("1.5".into())).unwrap_err();
        assert!(!err.to_string().contains("1.5"));
        assert!(from_value("l", AttributeValue::L(vec![])).is_err());
    }

    /// moto only returns a LastEvaluatedKey when more items follow; DynamoDB returns one
    /// whenever it stops at `Limit`. The page logic must not depend on either.
    #[test]
    pub(super) fn pages_end_exactly_when_nothing_follows() {
        let raw = |n: usize| -> Vec<AttrMap> {
            (0..n)
                .map(|i| item_map(&Item::new(Key::new("p", format!("s{i}")))))
                .collect()
        };
        // Asked for 2 (+1 probe), got 3: a page of 2 whose cursor is after the 2nd item.
        let page = to_page(Index::Table, 2, raw(3), Some(key_map(&Key::new("p", "s2")))).unwrap();
        assert_eq!(page.items.len(), 2);
        let next = decode_cursor(Index::Table, &page.next.unwrap()).unwrap();
        assert_eq!(next[SK], AttributeValue::S("s1".into()));
        // Got no more than the limit and no LastEvaluatedKey: the probe found nothing after
        // the last item, so this is the last page.
        let page = to_page(Index::Table, 2, raw(2), None).unwrap();
        assert_eq!((page.items.len(), page.next), (2, None));
        // Fewer than asked with a LastEvaluatedKey (the 1 MB cap): go on from there.
        let page = to_page(Index::Table, 5, raw(1), Some(key_map(&Key::new("p", "s0")))).unwrap();
        assert_eq!(page.items.len(), 1);
        assert!(page.next.is_some());
    }

    #[test]
    pub(super) fn probe_limit_is_one_more() {
        assert_eq!(probe_limit(7), 8);
        assert_eq!(probe_limit(0), 2);
        assert_eq!(probe_limit(usize::MAX), i32::MAX);
    }
}
