//! `GET /v2/journeys?from=&to=&status=&cursor=&limit=`: the caller's operator's journeys,
//! latest start first, JSON or CSV (`Accept: text/csv`), one page at a time.
//!
//! The operator's listing index (`gsi2`, [`ListingEntry`]) is queried month by month
//! (its partitions), newest first, within the passenger's start dates `from`..=`to` (UTC);
//! each journey found is then read with its incentives as `GET /v2/journeys/{id}` reads
//! it. A status filter is applied to what is read: a page may then hold fewer than
//! `limit` journeys while `next_cursor` still says there are more.

use bytes::Bytes;
use chrono::{Datelike, Months, NaiveDate};
use futures::{StreamExt, TryStreamExt};
use http::{Response, StatusCode};
use serde::Serialize;

use crate::api::error::{json_response, ApiError, Detail};
use crate::api::listing::{csv_response, query_pairs, value, wants_csv, PageSize};
use crate::api::Ctx;
use crate::app::App;
use crate::campaigns::drafts::{self as incentives, StatusView};
use crate::domain::journey::JourneyStatus;
use crate::domain::operator::OperatorId;
use crate::records::journey::{JourneyRecord, ListingEntry};
use crate::records::keys;
use crate::store::{Cursor, Key, Query, SkRange, StoreError};

/// Journeys per page.
pub const PAGE: PageSize = PageSize {
    default: 50,
    max: 200,
};
/// The longest date range of one request.
pub const MAX_DAYS: i64 = 366;
/// Journeys read at most per request when a status filter leaves most of them out.
const MAX_READ: usize = 1000;
/// Journeys read concurrently (each: one query of its partition, plus the final lines).
const CONCURRENT_READS: usize = 16;

/// One journey of the listing: what `GET /v2/journeys/{id}` answers, plus its start.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListedJourney {
    pub journey_id: String,
    pub operator_journey_id: Option<String>,
    /// The passenger's start (RFC 3339, UTC): the listing's order and date filter.
    pub start: String,
    pub status: JourneyStatus,
    pub created_at: String,
    pub updated_at: String,
    pub fraud_labels: Vec<String>,
    pub anomaly_labels: Vec<String>,
    /// Each campaign's draft, or its final line once the month is final.
    pub incentives: Vec<StatusView>,
}

/// `GET /v2/journeys`: one page.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JourneyPage {
    pub journeys: Vec<ListedJourney>,
    /// Pass it as `cursor` (with the same filters) for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// The request, checked.
struct Filter {
    from: NaiveDate,
    to: NaiveDate,
    statuses: Vec<JourneyStatus>,
    limit: usize,
    /// The month to read (its first day) and where in it; `None`: from its start.
    at: (NaiveDate, Option<Cursor>),
}

pub async fn list(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let operator = ctx.operator()?;
    let filter = Filter::parse(&ctx.query, app.clock.now().date_naive())?;
    let page = read(app, operator, filter).await?;
    if wants_csv(ctx) {
        csv(&page)
    } else {
        Ok(json_response(StatusCode::OK, &page))
    }
}

impl Filter {
    fn parse(query: &str, today: NaiveDate) -> Result<Filter, ApiError> {
        let query = query_pairs(query)?;
        let mut errors = Vec::new();
        let mut date = |name: &str, default: NaiveDate| match value(&query, name) {
            None => default,
            Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap_or_else(|_| {
                errors.push(Detail::new(name, "must be a date YYYY-MM-DD"));
                default
            }),
        };
        let to = date("to", today);
        let from = date("from", to - chrono::Days::new(30));
        if from > to {
            errors.push(Detail::new("from", "must not be after `to`"));
        } else if (to - from).num_days() >= MAX_DAYS {
            errors.push(Detail::new(
                "from",
                format!("at most {MAX_DAYS} days from `from` to `to`"),
            ));
        }
        let statuses = match value(&query, "status").filter(|s| !s.is_empty()) {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .filter_map(|s| {
                    let parsed = JourneyStatus::parse(s);
                    if parsed.is_none() {
                        errors.push(Detail::new(
                            "status",
                            "pending, ok, expired, anomaly_error, fraud_error or canceled \
                             (several: comma-separated)",
                        ));
                    }
                    parsed
                })
                .collect(),
        };
        let limit = PAGE.read(&query, &mut errors);
        let at = match value(&query, "cursor") {
            None => (first_of_month(to), None),
            Some(c) => decode_cursor(c)
                .filter(|(month, _)| *month >= first_of_month(from) && *month <= to)
                .unwrap_or_else(|| {
                    errors.push(Detail::new(
                        "cursor",
                        "is not a cursor of this listing with these dates",
                    ));
                    (first_of_month(to), None)
                }),
        };
        if !errors.is_empty() {
            return Err(ApiError::invalid("invalid_request", errors));
        }
        Ok(Filter {
            from,
            to,
            statuses,
            limit,
            at,
        })
    }
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// The cursor: the month being read and the store's position in it (empty: its start).
fn encode_cursor(month: NaiveDate, at: Option<&Cursor>) -> String {
    use base64::Engine;
    let position = at.map_or("", |c| c.0.as_str());
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{}\n{position}", month.format("%Y-%m")))
}

fn decode_cursor(s: &str) -> Option<(NaiveDate, Option<Cursor>)> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (month, position) = text.split_once('\n')?;
    let month = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()?;
    let position = (!position.is_empty()).then(|| Cursor(position.to_owned()));
    Some((month, position))
}

/// Reads one page: months newest first, each month's index entries newest first.
async fn read(app: &App, operator: OperatorId, filter: Filter) -> Result<JourneyPage, ApiError> {
    let (mut month, mut position) = filter.at.clone();
    let range = SkRange::Between(
        filter.from.format("%Y-%m-%d").to_string(),
        // After every instant of the day `to` ("T" + anything sorts before "U").
        format!("{}U", filter.to.format("%Y-%m-%d")),
    );
    let mut journeys = Vec::new();
    let mut examined = 0;
    let first_month = first_of_month(filter.from);
    loop {
        let want = filter.limit - journeys.len();
        let partition = keys::journey_listing(operator, &month.format("%Y-%m").to_string());
        let page = app
            .store
            .query(
                Query::index2(partition)
                    .range(range.clone())
                    .descending()
                    .limit(want)
                    .after(position.clone()),
            )
            .await
            .map_err(|e| match e {
                StoreError::Invalid(_) => {
                    ApiError::invalid_field("cursor", "is not a cursor of this listing")
                }
                other => other.into(),
            })?;
        examined += page.items.len();
        let keys: Vec<Key> = page.items.into_iter().map(|i| i.key).collect();
        journeys.extend(read_journeys(app, operator, keys, &filter.statuses).await?);
        position = page.next;
        if position.is_none() {
            match month.checked_sub_months(Months::new(1)) {
                Some(previous) if previous >= first_month => month = previous,
                _ => break,
            }
        }
        if journeys.len() >= filter.limit || examined >= MAX_READ {
            return Ok(JourneyPage {
                journeys,
                next_cursor: Some(encode_cursor(month, position.as_ref())),
            });
        }
    }
    Ok(JourneyPage {
        journeys,
        next_cursor: None,
    })
}

/// The journeys of `keys` (in that order) with their incentives, those of `statuses` only
/// (all when empty).
async fn read_journeys(
    app: &App,
    operator: OperatorId,
    keys: Vec<Key>,
    statuses: &[JourneyStatus],
) -> Result<Vec<ListedJourney>, ApiError> {
    let found: Vec<Option<ListedJourney>> = futures::stream::iter(keys)
        .map(|key| async move { read_one(app, operator, &key, statuses).await })
        .buffered(CONCURRENT_READS)
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
}

async fn read_one(
    app: &App,
    operator: OperatorId,
    key: &Key,
    statuses: &[JourneyStatus],
) -> Result<Option<ListedJourney>, ApiError> {
    let Some((item, drafts)) = incentives::journey_with_drafts(app, key).await? else {
        return Ok(None); // the index is eventually consistent: gone since
    };
    let record = JourneyRecord::from_item(&item);
    let (Some(status), Some(journey_id)) = (record.status, record.journey_id.clone()) else {
        tracing::error!(pk = key.pk, "unreadable journey item");
        return Err(ApiError::internal());
    };
    if !statuses.is_empty() && !statuses.contains(&status) {
        return Ok(None);
    }
    let incentives = crate::campaigns::monthly::statement::journey_incentives(
        app,
        operator,
        &journey_id,
        &drafts,
    )
    .await?;
    Ok(Some(ListedJourney {
        journey_id,
        operator_journey_id: record.operator_journey_id.clone(),
        start: record
            .listing
            .as_ref()
            .map(|l: &ListingEntry| l.sort.clone())
            .unwrap_or_default(),
        status,
        created_at: record.created_at.clone().unwrap_or_default(),
        updated_at: record.updated().unwrap_or_default().to_owned(),
        fraud_labels: JourneyRecord::labels(&record.fraud_labels),
        anomaly_labels: JourneyRecord::labels(&record.anomaly_labels),
        incentives,
    }))
}

/// The page as CSV, one line per journey; incentives as `campaign:role:status:amount`
/// separated by `;`, labels by `;`. The next cursor is in `x-next-cursor`.
fn csv(page: &JourneyPage) -> Result<Response<Bytes>, ApiError> {
    let lines = page.journeys.iter().map(|j| {
        let incentives: Vec<String> = j
            .incentives
            .iter()
            .map(|i| format!("{}:{}:{}:{}", i.campaign_id, i.role, i.status, i.amount))
            .collect();
        [
            j.journey_id.clone(),
            j.operator_journey_id.clone().unwrap_or_default(),
            j.start.clone(),
            j.status.as_str().to_owned(),
            j.created_at.clone(),
            j.anomaly_labels.join(";"),
            j.fraud_labels.join(";"),
            incentives.join(";"),
        ]
    });
    let headers: Vec<_> = page
        .next_cursor
        .iter()
        .map(|next| ("x-next-cursor", next.clone()))
        .collect();
    csv_response(
        &[
            "journey_id",
            "operator_journey_id",
            "start",
            "status",
            "created_at",
            "anomaly_labels",
            "fraud_labels",
            "incentives",
        ],
        lines,
        &headers,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_strangers_are_refused() {
        let month = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let c = encode_cursor(month, Some(&Cursor("[\"x\"]".into())));
        assert_eq!(
            decode_cursor(&c),
            Some((month, Some(Cursor("[\"x\"]".into()))))
        );
        assert_eq!(
            decode_cursor(&encode_cursor(month, None)),
            Some((month, None))
        );
        assert_eq!(decode_cursor("not a cursor"), None);
    }

    #[test]
    fn filters_are_checked_with_their_paths() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let f = Filter::parse("", today).unwrap();
        assert_eq!(
            (f.from.to_string(), f.limit),
            ("2026-11-07".into(), PAGE.default)
        );
        let Err(e) = Filter::parse("from=2026-13-01&status=ok,nope&limit=0", today) else {
            panic!("accepted")
        };
        let paths: Vec<String> = e.details.iter().map(|d| d.path.clone()).collect();
        assert_eq!(paths, ["from", "status", "limit"]);
        assert!(Filter::parse("from=2026-12-08&to=2026-12-07", today).is_err());
        assert!(Filter::parse("from=2025-01-01&to=2026-12-07", today).is_err());
        let f = Filter::parse("status=ok,fraud_error", today).unwrap();
        assert_eq!(f.statuses, [JourneyStatus::Ok, JourneyStatus::FraudError]);
    }
}
