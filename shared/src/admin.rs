//! Operators and tokens: the administration used by the admin routes and by
//! `registry admin ...`, so both behave the same.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::error::Detail;
use crate::domain::operator::{Operator, OperatorId};
use crate::domain::token::{self, Permission, Role, RoleKind};
use crate::records::keys;
use crate::records::operator::OperatorCounter;
use crate::records::token::{bootstrap_marker, TokenRecord};
use crate::store::{Condition, Item, Query, StoreError, WriteOp};

/// What can go wrong with operators and tokens.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{}: {}", .0.path, .0.reason)]
    Invalid(Detail),
    /// No randomness to make a token from.
    #[error("cannot generate a token")]
    Unavailable,
    /// A stored item that does not read back.
    #[error("unreadable stored operator or token")]
    Internal,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AdminError {
    fn invalid(path: &str, reason: &str) -> Self {
        AdminError::Invalid(Detail::new(path, reason))
    }
}

pub async fn create_operator(
    app: &App,
    name: String,
    siret: Option<String>,
) -> Result<Operator, AdminError> {
    // Ids come from an atomic counter; the conditional put makes a reused id impossible.
    let counter = app
        .store
        .update(&keys::operator_counter(), OperatorCounter::next(), None)
        .await?;
    let id = OperatorCounter::id(&counter).ok_or(AdminError::Internal)?;
    let operator = Operator {
        id,
        name,
        siret,
        created_at: rfc3339(app.clock.now()),
    };
    let item = operator.to_item().ok_or(AdminError::Internal)?;
    app.store.put(item, Some(Condition::NotExists)).await?;
    Ok(operator)
}

pub async fn get_operator(app: &App, id: OperatorId) -> Result<Option<Operator>, AdminError> {
    Ok(app
        .store
        .get(&keys::operator(id))
        .await?
        .as_ref()
        .and_then(Operator::from_item))
}

/// Every item of one index partition, following pagination.
async fn index_partition(app: &App, pk: String) -> Result<Vec<Item>, AdminError> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .query(Query::index(pk.clone()).limit(500).after(cursor))
            .await?;
        items.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(items),
        }
    }
}

pub async fn list_operators(app: &App) -> Result<Vec<Operator>, AdminError> {
    let items = index_partition(app, keys::OPERATORS_INDEX.into()).await?;
    Ok(items.iter().filter_map(Operator::from_item).collect())
}

/// What to create: the role, its operator (none for registry admins), its permissions.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    pub name: String,
    pub role: RoleKind,
    pub operator: Option<OperatorId>,
    /// Application tokens only; `None` = every permission.
    pub permissions: Option<BTreeSet<Permission>>,
    /// Territory tokens only: the territory whose campaigns it reads.
    pub territory: Option<String>,
}

impl TokenRequest {
    /// An application token of `operator` with every permission.
    pub fn application(name: impl Into<String>, operator: OperatorId) -> TokenRequest {
        TokenRequest {
            name: name.into(),
            role: RoleKind::Application,
            operator: Some(operator),
            permissions: None,
            territory: None,
        }
    }

    /// A territory token: reads the campaigns of `territory`.
    pub fn territory(name: impl Into<String>, territory: impl Into<String>) -> TokenRequest {
        TokenRequest {
            name: name.into(),
            role: RoleKind::Territory,
            operator: None,
            permissions: None,
            territory: Some(territory.into()),
        }
    }
}

/// A new operator and an application token of it (named `srv`) with every permission: an
/// operator's onboarding in one call, for tests and tools.
pub async fn operator_with_token(
    app: &App,
    name: &str,
    siret: Option<String>,
) -> Result<(Operator, CreatedToken), AdminError> {
    let operator = create_operator(app, name.to_owned(), siret).await?;
    let token = create_token(app, TokenRequest::application("srv", operator.id)).await?;
    Ok((operator, token))
}

/// A new token, with its secret: shown once, never stored (and never in Debug output).
#[derive(Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    /// The bearer token (`rpc.<token_id>.<secret>`): shown once, never again.
    pub token: String,
    #[serde(flatten)]
    pub info: TokenInfo,
}

impl std::fmt::Debug for CreatedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CreatedToken({:?})", self.info)
    }
}

/// A token as listed: never its secret nor its hash.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    pub token_id: String,
    pub name: String,
    pub role: RoleKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator_id: Option<OperatorId>,
    pub permissions: Vec<Permission>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub territory_id: Option<String>,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

fn token_info(item: &Item) -> Option<TokenInfo> {
    let t = TokenRecord::from_item(item)?;
    Some(TokenInfo {
        token_id: t.token_id,
        name: t.name,
        role: t.role.kind(),
        operator_id: t.role.operator(),
        permissions: t.role.permissions(),
        territory_id: t.role.territory().map(str::to_owned),
        created_at: t.created_at,
        revoked_at: t.revoked_at,
    })
}

fn token_write(
    request: &TokenRequest,
    now: &str,
) -> Result<(token::NewToken, Role, Item), AdminError> {
    if request.territory.is_some() && request.role != RoleKind::Territory {
        return Err(AdminError::invalid(
            "/territory_id",
            "only territory tokens have a territory",
        ));
    }
    let role = match (request.role, request.operator, &request.permissions) {
        (RoleKind::RegistryAdmin, None, None) => Role::RegistryAdmin,
        (RoleKind::Territory, None, None) => {
            let territory = request
                .territory
                .as_deref()
                .filter(|t| crate::domain::campaign::CampaignId::parse(t).is_some())
                .ok_or_else(|| {
                    AdminError::invalid(
                        "/territory_id",
                        "required: 1 to 64 lowercase letters, digits, - or _",
                    )
                })?;
            Role::Territory(territory.to_owned())
        }
        (RoleKind::Territory, Some(_), _) => {
            return Err(AdminError::invalid(
                "/operator_id",
                "a territory token belongs to no operator",
            ))
        }
        (RoleKind::OperatorAdmin, Some(op), None) => Role::OperatorAdmin(op),
        (RoleKind::Application, Some(op), permissions) => Role::Application(
            op,
            permissions
                .clone()
                .unwrap_or_else(|| Permission::ALL.into_iter().collect()),
        ),
        (RoleKind::RegistryAdmin, Some(_), _) => {
            return Err(AdminError::invalid(
                "/role",
                "a registry admin belongs to no operator",
            ))
        }
        (_, None, _) => {
            return Err(AdminError::invalid(
                "/operator_id",
                "required for this role",
            ))
        }
        (_, _, Some(_)) => {
            return Err(AdminError::invalid(
                "/permissions",
                "only application tokens have permissions",
            ))
        }
    };
    if let Role::Application(_, p) = &role {
        if p.is_empty() {
            return Err(AdminError::invalid("/permissions", "must not be empty"));
        }
    }
    let new = token::generate().map_err(|e| {
        tracing::error!(error = %e, "cannot generate a token");
        AdminError::Unavailable
    })?;
    let item = TokenRecord {
        token_id: new.token_id.clone(),
        role: role.clone(),
        name: request.name.clone(),
        secret_hash: new.secret_hash.clone(),
        created_at: now.to_owned(),
        revoked_at: None,
    }
    .to_item()
    .ok_or(AdminError::Internal)?;
    Ok((new, role, item))
}

fn created(new: token::NewToken, role: Role, name: String, created_at: String) -> CreatedToken {
    CreatedToken {
        token: new.token,
        info: TokenInfo {
            token_id: new.token_id,
            name,
            role: role.kind(),
            operator_id: role.operator(),
            permissions: role.permissions(),
            territory_id: role.territory().map(str::to_owned),
            created_at,
            revoked_at: None,
        },
    }
}

pub async fn create_token(app: &App, request: TokenRequest) -> Result<CreatedToken, AdminError> {
    let now = rfc3339(app.clock.now());
    let (new, role, item) = token_write(&request, &now)?;
    let mut ops = vec![WriteOp::Put {
        item,
        condition: Some(Condition::NotExists),
    }];
    if let Some(op) = role.operator() {
        // The operator must exist, checked in the same transaction as the write.
        ops.push(WriteOp::Check {
            key: keys::operator(op),
            condition: Condition::Exists,
        });
    }
    match app.store.transact(ops).await {
        Ok(()) => Ok(created(new, role, request.name, now)),
        Err(StoreError::TransactionCanceled { index: 1, .. }) => {
            Err(AdminError::NotFound("operator"))
        }
        Err(e) => Err(e.into()),
    }
}

/// Creates the first registry admin on an empty store; `None` if one was already made.
pub async fn bootstrap(app: &App) -> Result<Option<CreatedToken>, AdminError> {
    if app.store.get(&keys::bootstrap()).await?.is_some() {
        return Ok(None);
    }
    let now = rfc3339(app.clock.now());
    let request = TokenRequest {
        name: "bootstrap".into(),
        role: RoleKind::RegistryAdmin,
        operator: None,
        permissions: None,
        territory: None,
    };
    let (new, role, item) = token_write(&request, &now)?;
    let marker = bootstrap_marker(&now);
    let ops = vec![
        WriteOp::Put {
            item: marker,
            condition: Some(Condition::NotExists),
        },
        WriteOp::Put {
            item,
            condition: Some(Condition::NotExists),
        },
    ];
    match app.store.transact(ops).await {
        Ok(()) => Ok(Some(created(new, role, request.name, now))),
        // Another process bootstrapped at the same moment.
        Err(StoreError::TransactionCanceled { index: 0, .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub async fn list_tokens(
    app: &App,
    operator: Option<OperatorId>,
) -> Result<Vec<TokenInfo>, AdminError> {
    let items = index_partition(app, keys::tokens_index(operator)).await?;
    Ok(items.iter().filter_map(token_info).collect())
}

/// Revokes a token (idempotent: revoking again keeps the first `revoked_at`). A token the
/// caller may not see (`visible` false) is not found.
pub async fn revoke_token(
    app: &App,
    token_id: &str,
    visible: impl Fn(&TokenInfo) -> bool,
) -> Result<TokenInfo, AdminError> {
    if !token::is_token_id(token_id) {
        return Err(AdminError::NotFound("token"));
    }
    let key = keys::token(token_id);
    let item = app
        .store
        .get(&key)
        .await?
        .ok_or(AdminError::NotFound("token"))?;
    let info = token_info(&item).ok_or(AdminError::Internal)?;
    if !visible(&info) {
        return Err(AdminError::NotFound("token"));
    }
    if info.revoked_at.is_some() {
        return Ok(info);
    }
    let now = rfc3339(app.clock.now());
    let (update, condition) = TokenRecord::revoke(now);
    let item = match app.store.update(&key, update, Some(condition)).await {
        Ok(item) => item,
        // Revoked concurrently: report the stored revocation.
        Err(StoreError::ConditionFailed { .. }) => app
            .store
            .get(&key)
            .await?
            .ok_or(AdminError::NotFound("token"))?,
        Err(e) => return Err(e.into()),
    };
    token_info(&item).ok_or(AdminError::Internal)
}
