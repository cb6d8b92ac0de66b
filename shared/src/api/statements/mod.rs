//! `GET /v2/operators/{operator_id}/incentives?month=YYYY-MM[&limit=N][&cursor=…]`: an
//! operator's monthly statement, what its users earned (the basis of payments), JSON or
//! CSV (`Accept: text/csv`). Always 200 for a valid month: `final` says whether every
//! campaign of the month is final (pay on `final: true`, or campaign by campaign on each
//! campaign's own `final`); campaigns not final yet are listed without lines.

#[cfg(feature = "openapi")]
pub(crate) mod doc;

use bytes::Bytes;
use http::{Response, StatusCode};

use super::error::{json_response, ApiError, Detail};
use super::listing::{csv_response, query_pairs, value, wants_csv, PageSize};
use super::Ctx;
use crate::admin;
use crate::app::App;
use crate::campaigns::monthly::statement::{self, Cursor, Statement};
use crate::campaigns::monthly::Month;
use crate::domain::operator::OperatorId;

pub async fn incentives(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    // Admitted as a reader of this operator, and counted against the caller's operator's
    // rate limit (routing table).
    let operator: OperatorId = ctx
        .param("operator_id")
        .parse()
        .map_err(|_| ApiError::not_found("operator"))?;

    let query = query_pairs(&ctx.query)?;
    let mut errors = Vec::new();
    let month = value(&query, "month").and_then(Month::parse);
    if month.is_none() {
        errors.push(Detail::new(
            "month",
            "required query parameter: a month YYYY-MM",
        ));
    }
    let limit = PageSize::MONTHLY.read(&query, &mut errors);
    let cursor = match value(&query, "cursor") {
        None => None,
        Some(c) => {
            let decoded = Cursor::decode(c);
            if decoded.is_none() {
                errors.push(Detail::new("cursor", "is not a cursor of this listing"));
            }
            decoded
        }
    };
    let (Some(month), true) = (month, errors.is_empty()) else {
        return Err(ApiError::invalid("invalid_request", errors));
    };
    if admin::get_operator(app, operator).await?.is_none() {
        return Err(ApiError::not_found("operator"));
    }
    let found = statement::read(app, operator, month, cursor, limit).await?;

    if wants_csv(ctx) {
        csv(&found)
    } else {
        Ok(json_response(StatusCode::OK, &found))
    }
}

/// The page's lines as CSV; what is not a line goes in headers (`x-statement-final`,
/// totals over the final campaigns, campaigns not final yet, the next cursor).
fn csv(s: &Statement) -> Result<Response<Bytes>, ApiError> {
    let lines = s.lines.iter().map(|l| {
        [
            l.campaign_id.clone(),
            l.journey_id.clone(),
            l.operator_journey_id.clone().unwrap_or_default(),
            l.role.as_str().to_owned(),
            l.status.as_str().to_owned(),
            l.amount.to_string(),
            l.computed.to_string(),
            l.reason.clone().unwrap_or_default(),
            l.paid_by.clone().unwrap_or_default(),
            l.corrects.clone().unwrap_or_default(),
            l.start.clone(),
            l.local_date.clone(),
        ]
    });
    let pending: Vec<&str> = s
        .campaigns
        .iter()
        .filter(|c| !c.is_final)
        .map(|c| c.campaign_id.as_str())
        .collect();
    let mut headers = vec![
        ("x-statement-final", s.is_final.to_string()),
        ("x-paid-count", s.totals.paid.count.to_string()),
        ("x-paid-amount", s.totals.paid.amount.to_string()),
        ("x-net-amount", s.totals.net.amount.to_string()),
        ("x-pending-campaigns", pending.join(",")),
    ];
    if let Some(next) = &s.next_cursor {
        headers.push(("x-next-cursor", next.clone()));
    }
    csv_response(
        &[
            "campaign_id",
            "journey_id",
            "operator_journey_id",
            "role",
            "status",
            "amount",
            "computed",
            "reason",
            "paid_by",
            "corrects",
            "start",
            "local_date",
        ],
        lines,
        &headers,
    )
}
