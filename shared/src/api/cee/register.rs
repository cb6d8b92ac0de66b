//! `POST /v2/policies/cee`: reading a registration, checking it against the history and
//! the rules, signing and storing it; refusals are logged (`cee::errorlog`).

use super::*;

enum Operation {
    Short {
        journey_id: String,
    },
    Long {
        phone: PhoneTrunc,
        datetime: DateTime<Utc>,
    },
}

struct Registration {
    journey_type: JourneyType,
    licence: DrivingLicense,
    last_name: LastNameTrunc,
    identity: IdentityKey,
    application_timestamp: DateTime<Utc>,
    operation: Operation,
}

fn parse_registration(body: &Value) -> Result<Registration, Vec<Detail>> {
    let mut r = Reader::new(body, "");
    r.only(&[
        "journey_type",
        "driving_license",
        "last_name_trunc",
        "application_timestamp",
        "identity_key",
        "operator_journey_id",
        "phone_trunc",
        "datetime",
    ]);
    let journey_type = r.required("journey_type", JourneyType::parse);
    let licence = r.required("driving_license", DrivingLicense::parse);
    let last_name = r.required("last_name_trunc", LastNameTrunc::parse);
    let application_timestamp = r.required("application_timestamp", fields::parse_datetime);
    let identity = r.required("identity_key", IdentityKey::parse);
    let operation = match journey_type {
        Some(JourneyType::Short) => {
            r.forbidden(
                "phone_trunc",
                "for short (the journey's driver phone is used)",
            );
            r.forbidden("datetime", "for short (the journey's end is used)");
            r.required("operator_journey_id", fields::parse_journey_id)
                .map(|journey_id| Operation::Short { journey_id })
        }
        Some(JourneyType::Long) => {
            r.forbidden("operator_journey_id", "for long");
            let phone = r.required("phone_trunc", fields::parse_phone_trunc);
            let datetime = r.required("datetime", fields::parse_datetime);
            phone
                .zip(datetime)
                .map(|(phone, datetime)| Operation::Long { phone, datetime })
        }
        None => None,
    };
    match (
        r.details.is_empty(),
        journey_type,
        licence,
        last_name,
        application_timestamp,
        identity,
        operation,
    ) {
        (
            true,
            Some(journey_type),
            Some(licence),
            Some(last_name),
            Some(at),
            Some(identity),
            Some(operation),
        ) => Ok(Registration {
            journey_type,
            licence,
            last_name,
            identity,
            application_timestamp: at,
            operation,
        }),
        _ => Err(r.details),
    }
}

/// A refused registration: the answer, and the kind it is logged under (none for answers
/// that are not a refusal of the request itself: 401/403/429/503).
struct Refusal {
    kind: Option<Kind>,
    error: ApiError,
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        Refusal { kind: None, error }
    }
}

impl From<crate::store::StoreError> for Refusal {
    fn from(e: crate::store::StoreError) -> Self {
        Refusal::from(ApiError::from(e))
    }
}

fn refuse(kind: Kind, error: ApiError) -> Refusal {
    Refusal {
        kind: Some(kind),
        error,
    }
}

/// `POST /v2/policies/cee`: register an application.
pub async fn register(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let operator = ctx.operator()?;
    match register_checked(app, ctx, operator).await {
        Ok(response) => Ok(response),
        Err(Refusal { kind, error }) => {
            if let Some(kind) = kind {
                // What the request said about itself, when valid (never personal data).
                let body = json::from_slice(&ctx.body).unwrap_or_default();
                let jt = body["journey_type"]
                    .as_str()
                    .filter(|s| JourneyType::parse(s).is_ok());
                let journey_id = body["operator_journey_id"]
                    .as_str()
                    .filter(|s| fields::parse_journey_id(s).is_ok());
                let refusal = errorlog::Refusal {
                    status: error.status.as_u16(),
                    code: error.code,
                    message: &error.message,
                    details: &error.details,
                };
                errorlog::record(app, operator, kind, refusal, jt, journey_id).await;
            }
            Err(error)
        }
    }
}

/// A short registration's journey: its facts, normalised at acceptance whatever its status
/// (`rules::short_journey` says whether it is eligible).
fn eligible(item: &Item, campaign: &rules::Campaign) -> Result<rules::ShortJourney, &'static str> {
    let item = JourneyRecord::from_item(item);
    let facts = item.facts().ok_or("its stored facts cannot be read")?;
    rules::short_journey(&facts, item.status_str(), campaign)
}

/// Positive answers only: a SIRET never changes once set, an operator without one may get
/// one later.
async fn siret(app: &App, operator: OperatorId) -> Result<String, ApiError> {
    if let Some(siret) = app.sirets.get(operator) {
        return Ok(siret);
    }
    let siret = crate::admin::get_operator(app, operator)
        .await?
        .and_then(|o| o.siret)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "siret_required",
                "this operator has no SIRET: the registry team must record it before CEE \
                 applications can be signed",
            )
        })?;
    app.sirets.insert(operator, siret.clone());
    Ok(siret)
}

async fn register_checked(
    app: &App,
    ctx: &Ctx,
    operator: OperatorId,
) -> Result<Response<Bytes>, Refusal> {
    let body = body_json(ctx).map_err(|e| refuse(Kind::Validation, e))?;
    let reg = parse_registration(&body).map_err(|d| refuse(Kind::Validation, invalid(d)))?;
    let now = app.clock.now();
    if reg.application_timestamp > now {
        return Err(refuse(
            Kind::Date,
            ApiError::invalid_field("/application_timestamp", "must be in the past"),
        ));
    }
    let dated = operation_date(app, operator, &reg.operation, now).await?;
    let (date, phone, journey) = (dated.date, dated.phone, dated.journey);
    let siret = siret(app, operator).await?;
    let signer = signer(app)?;
    let kid = signer.key_id().to_owned();
    let token = signer.sign(&token_message(
        &siret,
        reg.journey_type,
        reg.licence.as_str(),
        date,
    ));
    let uuid = match &journey {
        Some((journey_id, _)) => uuid::Uuid::new_v5(
            &SHORT_NAMESPACE,
            format!("{operator}/{journey_id}").as_bytes(),
        ),
        None => uuid::Uuid::new_v4(),
    }
    .hyphenated()
    .to_string();
    let new = NewApplication {
        uuid: uuid.clone(),
        operator,
        journey_type: reg.journey_type,
        datetime: date,
        journey_id: journey.as_ref().map(|(j, _)| j.clone()),
        token: token.clone(),
        kid: Some(kid.clone()),
        application_timestamp: reg.application_timestamp,
        person: Person::searched(
            &app.config,
            Some(&reg.identity),
            Some(&reg.licence),
            &reg.last_name,
            &phone,
        ),
    };
    match history::register(app, &new).await? {
        Outcome::Created => {
            let (journey_id, status) = journey.unzip();
            let body = Registered {
                uuid,
                datetime: rfc3339(date),
                token,
                kid,
                journey_id,
                status: status.as_deref().and_then(JourneyStatus::parse),
            };
            Ok(json_response(StatusCode::CREATED, &body))
        }
        Outcome::Conflict(record) => Err(refuse(
            Kind::Conflict,
            conflict(app, operator, &record).await,
        )),
        Outcome::Busy => Err(ApiError::unavailable().into()),
    }
}

/// What a registration is about: the operation's date, the driver's phone, the short
/// journey's id and status.
struct Dated {
    date: DateTime<Utc>,
    phone: PhoneTrunc,
    journey: Option<(String, String)>,
}

/// The operation's date, checked against the campaign window (long) or the journey's
/// eligibility (short), and against the delay before it can be registered.
async fn operation_date(
    app: &App,
    operator: OperatorId,
    operation: &Operation,
    now: DateTime<Utc>,
) -> Result<Dated, Refusal> {
    let campaign = &app.config.cee;
    let window = format!(
        "the campaign window [{}, {})",
        rfc3339(campaign.start),
        rfc3339(campaign.end)
    );
    let (date, phone, journey, date_path) = match operation {
        Operation::Short { journey_id } => {
            let not_eligible = |why: &str| {
                refuse(
                    Kind::NonEligible,
                    ApiError::new(
                        StatusCode::NOT_FOUND,
                        "not_found",
                        format!("journey not found or not eligible{why}"),
                    ),
                )
            };
            let item = app
                .store
                .get(&keys::journey(operator, journey_id))
                .await?
                .ok_or_else(|| not_eligible(""))?;
            let short =
                eligible(&item, campaign).map_err(|why| not_eligible(&format!(": {why}")))?;
            let end = short.end;
            (
                end,
                short.driver_phone.clone(),
                Some((journey_id.clone(), short.status)),
                "/operator_journey_id",
            )
        }
        Operation::Long { phone, datetime } => {
            if !campaign.strictly_contains(*datetime) {
                return Err(refuse(
                    Kind::Date,
                    ApiError::invalid_field(
                        "/datetime",
                        &format!("must be strictly inside {window}"),
                    ),
                ));
            }
            (*datetime, phone.clone(), None, "/datetime")
        }
    };
    let available = campaign.available_at(date);
    if available > now {
        return Err(refuse(
            Kind::Date,
            ApiError::invalid_field(
                date_path,
                &format!(
                    "the operation of {} can be registered from {} on (available at J+{})",
                    rfc3339(date),
                    rfc3339(available),
                    campaign.delay.num_days()
                ),
            ),
        ));
    }
    Ok(Dated {
        date,
        phone,
        journey,
    })
}
