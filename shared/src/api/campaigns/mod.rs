//! Campaign routes: registry admins load, update (before the start) and close campaigns;
//! registry admins and territory tokens read them and their draft incentives (JSON or CSV).

#[cfg(feature = "openapi")]
pub(crate) mod doc;
mod simulate;

use base64::Engine;
use bytes::Bytes;
use http::{Response, StatusCode};
use serde::{Deserialize, Serialize};

use super::error::{json_response, ApiError, Detail};
use super::listing::{csv_response, query_pairs, value, wants_csv, PageSize};
use super::Ctx;
use crate::app::App;
use crate::campaigns::monthly::compute::{Count, LineStatus};
use crate::campaigns::monthly::{self, Month};
use crate::campaigns::{self, drafts};
use crate::domain::campaign::CampaignId;
use crate::store::Cursor;

pub use self::simulate::simulate;

pub async fn create(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let created = campaigns::create(app, &ctx.body).await?;
    Ok(json_response(StatusCode::CREATED, &created))
}

pub async fn update(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let updated = campaigns::update(app, ctx.param("campaign_id"), &ctx.body).await?;
    Ok(json_response(StatusCode::OK, &updated))
}

/// `POST /v2/campaigns/{campaign_id}/close` (an empty body is `{}`).
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CampaignClose))]
#[serde(deny_unknown_fields)]
pub struct Close {
    /// The last eligible day, `YYYY-MM-DD` in the campaign's time zone: today (the
    /// default) or later, before the campaign's end.
    #[cfg_attr(feature = "openapi", schema(format = Date))]
    last_day: Option<String>,
}

/// `GET /v2/campaigns`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignList {
    /// Without their documents.
    pub campaigns: Vec<campaigns::Stored>,
}

/// `GET /v2/campaigns/{campaign_id}`: the current version and every version's entry.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignWithHistory {
    #[serde(flatten)]
    pub campaign: campaigns::Stored,
    pub history: Vec<campaigns::Version>,
}

pub async fn close(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let body: Close = ctx.json()?;
    let closed = campaigns::close(app, ctx.param("campaign_id"), body.last_day.as_deref()).await?;
    Ok(json_response(StatusCode::OK, &closed))
}

pub async fn list(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let principal = ctx.principal()?;
    let territory = match &principal.role {
        crate::domain::token::Role::RegistryAdmin => None,
        crate::domain::token::Role::Territory(t) => Some(t.as_str()),
        _ => {
            return Err(ApiError::forbidden(
                "registry admins and territory tokens only",
            ))
        }
    };
    let found = campaigns::list(app, territory).await?;
    Ok(json_response(
        StatusCode::OK,
        &CampaignList { campaigns: found },
    ))
}

/// `?version=N` answers that version's document; the current one carries the history.
pub async fn get(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let principal = ctx.principal()?;
    let found = campaigns::find(app, ctx.param("campaign_id")).await?;
    principal.require_campaign_reader(found.territory_id.as_deref())?;
    let id = CampaignId::parse(&found.id).ok_or_else(ApiError::internal)?;
    let query = query_pairs(&ctx.query)?;
    if let Some(v) = value(&query, "version") {
        let wanted: i64 = v
            .parse()
            .map_err(|_| ApiError::invalid_field("version", "must be a version number"))?;
        let version = campaigns::versions(app, &id, true)
            .await?
            .into_iter()
            .find(|v| v.version == wanted)
            .ok_or_else(|| ApiError::not_found("campaign version"))?;
        return Ok(json_response(StatusCode::OK, &version));
    }
    let history = campaigns::versions(app, &id, false).await?;
    Ok(json_response(
        StatusCode::OK,
        &CampaignWithHistory {
            campaign: found,
            history,
        },
    ))
}

/// `GET /v2/campaigns/{id}/incentives?month=YYYY-MM[&status=…][&limit=N][&cursor=…]`: one
/// page of the month's incentives (journey start order) with the month's totals. Until the
/// monthly run, the drafts (`draft`, `canceled`); once the month is final, the lines of its
/// current final record (`validated`, `capped`, `canceled`, `not_eligible`, `correction`:
/// negative, for an earlier month's journey canceled since) and `final`
/// (version, time, digest). `Accept: text/csv` gives the same page as CSV, totals and the
/// next cursor in headers.
pub async fn incentives(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let principal = ctx.principal()?;
    let found = campaigns::find(app, ctx.param("campaign_id")).await?;
    principal.require_campaign_reader(found.territory_id.as_deref())?;
    let id = CampaignId::parse(&found.id).ok_or_else(ApiError::internal)?;
    let pairs = query_pairs(&ctx.query)?;
    let q = IncentivesQuery::read(&pairs)?;

    // A page continues the version it started on, even if the month was rerun meanwhile.
    let pinned = match q
        .cursor
        .as_deref()
        .and_then(|c| c.strip_prefix(FINAL_CURSOR))
    {
        Some(rest) => {
            let (v, i) = rest.split_once(':').ok_or_else(bad_cursor)?;
            let v: i64 = v.parse().map_err(|_| bad_cursor())?;
            let i: usize = i.parse().map_err(|_| bad_cursor())?;
            Some((v, i))
        }
        None => None,
    };
    let header = monthly::final_header(app, &id, q.month, pinned.map(|(v, _)| v)).await?;
    let listing = match header {
        Some(header) => {
            if q.cursor.is_some() && pinned.is_none() {
                return Err(bad_cursor());
            }
            final_listing(app, &id, &q, header, pinned.map_or(0, |(_, i)| i)).await?
        }
        None if pinned.is_some() => return Err(bad_cursor()),
        None => draft_listing(app, &id, &q).await?,
    };
    if wants_csv(ctx) {
        return listing.csv();
    }
    Ok(json_response(
        StatusCode::OK,
        &IncentivePage {
            campaign_id: id.as_str().to_owned(),
            month: q.month.to_string(),
            status: q.status.map(str::to_owned),
            final_record: listing.final_meta,
            totals: drafts::Totals {
                count: listing.totals.0,
                amount: listing.totals.1,
            },
            incentives: listing.lines,
            next_cursor: listing.next,
        },
    ))
}

fn bad_cursor() -> ApiError {
    ApiError::invalid_field("cursor", "is not a cursor of this listing")
}

fn encode_cursor(c: String) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(c)
}

/// The query of the incentives listing, every problem reported at once.
struct IncentivesQuery<'a> {
    month: Month,
    status: Option<&'a str>,
    /// `status` when it is a final line's status.
    final_status: Option<LineStatus>,
    limit: usize,
    /// Decoded.
    cursor: Option<String>,
}

impl<'a> IncentivesQuery<'a> {
    fn read(query: &'a [(String, String)]) -> Result<IncentivesQuery<'a>, ApiError> {
        let mut errors = Vec::new();
        let month = value(query, "month").and_then(Month::parse);
        if month.is_none() {
            errors.push(Detail::new(
                "month",
                "required query parameter: a month YYYY-MM (campaign time zone)",
            ));
        }
        let status = value(query, "status");
        let final_status = status.and_then(LineStatus::parse);
        if status
            .is_some_and(|s| s != drafts::DRAFT && s != drafts::CANCELED && final_status.is_none())
        {
            errors.push(Detail::new(
                "status",
                "must be draft, canceled, validated, capped, not_eligible or correction",
            ));
        }
        let limit = PageSize::MONTHLY.read(query, &mut errors);
        let cursor = match value(query, "cursor") {
            None => None,
            Some(c) => match base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
            {
                Some(c) => Some(c),
                None => {
                    errors.push(Detail::new("cursor", "is not a cursor of this listing"));
                    None
                }
            },
        };
        match (month, errors.is_empty()) {
            (Some(month), true) => Ok(IncentivesQuery {
                month,
                status,
                final_status,
                limit,
                cursor,
            }),
            _ => Err(ApiError::invalid("invalid_request", errors)),
        }
    }
}

/// One page of the listing: its lines, the totals (count, amount) of what is listed, the
/// next cursor and, for a final month, its record's header.
struct Listing {
    lines: Vec<ListedLine>,
    totals: (i64, i64),
    next: Option<String>,
    final_meta: Option<monthly::FinalHeader>,
}

/// A final month's lines, from line `from` of the version of `header`.
async fn final_listing(
    app: &App,
    id: &CampaignId,
    q: &IncentivesQuery<'_>,
    header: monthly::FinalHeader,
    from: usize,
) -> Result<Listing, ApiError> {
    let (lines, next) = match (q.status, q.final_status) {
        // A final month has no drafts left.
        (Some(_), None) => (Vec::new(), None),
        (_, wanted) => {
            monthly::final_page(app, id, q.month, &header, wanted, from, q.limit).await?
        }
    };
    let t = &header.totals;
    let totals = match (q.status, q.final_status) {
        (Some(_), Some(s)) => t.by_status.get(&s).copied().unwrap_or_default(),
        (Some(_), None) => Count::default(),
        (None, _) => t.by_status.values().fold(Count::default(), |a, c| Count {
            count: a.count + c.count,
            amount: a.amount + c.amount,
        }),
    };
    Ok(Listing {
        lines: lines.into_iter().map(ListedLine::Final).collect(),
        totals: (totals.count as i64, totals.amount),
        next: next.map(|i| encode_cursor(format!("{FINAL_CURSOR}{}:{i}", header.version))),
        final_meta: Some(header),
    })
}

/// The drafts of a month not final yet.
async fn draft_listing(
    app: &App,
    id: &CampaignId,
    q: &IncentivesQuery<'_>,
) -> Result<Listing, ApiError> {
    let (lines, totals, next) = match q.final_status {
        // Nothing is validated, capped or not eligible before the monthly run.
        Some(_) if q.status != Some(drafts::CANCELED) => {
            (Vec::new(), drafts::Totals::default(), None)
        }
        _ => {
            drafts::list(
                app,
                id,
                &q.month.to_string(),
                q.status,
                q.limit,
                q.cursor.clone().map(Cursor),
            )
            .await?
        }
    };
    Ok(Listing {
        lines: lines.into_iter().map(ListedLine::Draft).collect(),
        totals: (totals.count, totals.amount),
        next: next.map(|c| encode_cursor(c.0)),
        final_meta: None,
    })
}

impl Listing {
    /// The page as CSV; totals, final version and next cursor in headers.
    fn csv(self) -> Result<Response<Bytes>, ApiError> {
        let mut headers = vec![
            ("x-total-count", self.totals.0.to_string()),
            ("x-total-amount", self.totals.1.to_string()),
        ];
        if let Some(f) = &self.final_meta {
            headers.push(("x-final-version", f.version.to_string()));
            headers.push(("x-final-digest", f.digest.clone()));
        }
        if let Some(next) = self.next {
            headers.push(("x-next-cursor", next));
        }
        csv_response(
            &[
                "journey_id",
                "operator_id",
                "operator_journey_id",
                "role",
                "status",
                "amount",
                "computed",
                "capped_by",
                "start",
                "local_date",
                "reason",
                "paid_by",
            ],
            self.lines.iter().map(ListedLine::csv_fields),
            &headers,
        )
    }
}

/// One page of a campaign's incentives of a month.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncentivePage {
    pub campaign_id: String,
    /// `YYYY-MM`.
    pub month: String,
    /// The status asked for (`?status=`), else null.
    pub status: Option<String>,
    /// The month's final record once the monthly run made it final, else null (drafts).
    #[serde(rename = "final")]
    pub final_record: Option<monthly::FinalHeader>,
    /// The whole month's count and amount (cents) for the status asked for.
    pub totals: drafts::Totals,
    /// Draft lines until the month is final, then final lines.
    #[cfg_attr(feature = "openapi", schema(schema_with = listed_lines))]
    pub incentives: Vec<ListedLine>,
    /// Give it as `?cursor=` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A draft line and a final line can look alike (`canceled`): any of the two.
#[cfg(feature = "openapi")]
fn listed_lines() -> utoipa::openapi::Array {
    use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder};
    use utoipa::openapi::Ref;
    ArrayBuilder::new()
        .items(
            AnyOfBuilder::new()
                .item(Ref::from_schema_name("DraftIncentive"))
                .item(Ref::from_schema_name("FinalIncentive")),
        )
        .build()
}

/// Cursors of final listings: `F<version>:<line index>` (draft cursors are store cursors).
const FINAL_CURSOR: &str = "F";

#[derive(Serialize)]
#[serde(untagged)]
pub enum ListedLine {
    Draft(drafts::Line),
    Final(monthly::compute::Line),
}

impl ListedLine {
    fn csv_fields(&self) -> [String; 12] {
        match self {
            ListedLine::Draft(l) => [
                l.journey_id.clone(),
                l.operator_id.to_string(),
                l.operator_journey_id.clone().unwrap_or_default(),
                l.role.clone(),
                l.status.clone(),
                l.amount.to_string(),
                l.computed.to_string(),
                l.capped_by.clone().unwrap_or_default(),
                l.start.clone(),
                l.local_date.clone(),
                String::new(),
                String::new(),
            ],
            ListedLine::Final(l) => [
                l.journey_id.clone(),
                l.operator_id.to_string(),
                l.operator_journey_id.clone().unwrap_or_default(),
                l.role.as_str().to_owned(),
                l.status.as_str().to_owned(),
                l.amount.to_string(),
                l.computed.to_string(),
                match l.status {
                    LineStatus::Capped => l.reason.clone().unwrap_or_default(),
                    _ => String::new(),
                },
                l.start.clone(),
                l.local_date.clone(),
                l.reason.clone().unwrap_or_default(),
                l.paid_by.clone().unwrap_or_default(),
            ],
        }
    }
}
