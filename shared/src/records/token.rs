//! The token item and the bootstrap marker.

use super::item::{Condition, Item, Update, GSI1_PK, GSI1_SK};
use super::keys;
use crate::domain::operator::OperatorId;
use crate::domain::token::{Permission, Role, RoleKind};

/// The role stored on a token item.
pub fn role_of(item: &Item) -> Option<Role> {
    let operator = item
        .n("operator_id")
        .and_then(|n| u64::try_from(n).ok())
        .map(OperatorId);
    match RoleKind::parse(item.s("role")?)? {
        RoleKind::RegistryAdmin => Some(Role::RegistryAdmin),
        RoleKind::OperatorAdmin => Some(Role::OperatorAdmin(operator?)),
        RoleKind::Application => {
            let names: Vec<String> = serde_json::from_str(item.s("permissions")?).ok()?;
            let permissions = names.iter().filter_map(|n| Permission::parse(n)).collect();
            Some(Role::Application(operator?, permissions))
        }
        RoleKind::Territory => Some(Role::Territory(item.s("territory_id")?.to_owned())),
    }
}

/// A stored token (never the token itself: the hash of its secret).
#[derive(Clone, Debug, PartialEq)]
pub struct TokenRecord {
    pub token_id: String,
    pub role: Role,
    pub name: String,
    pub secret_hash: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

impl TokenRecord {
    /// `None` when its operator id is above what the store holds (i64).
    pub fn to_item(&self) -> Option<Item> {
        let role = &self.role;
        let permissions: Vec<&str> = role.permissions().iter().map(|p| p.as_str()).collect();
        let mut item = Item::new(keys::token(&self.token_id))
            .with("role", role.kind().as_str())
            .with("name", self.name.clone())
            .with("secret_hash", self.secret_hash.clone())
            .with(
                "permissions",
                serde_json::to_string(&permissions).unwrap_or_else(|_| "[]".into()),
            )
            .with("created_at", self.created_at.clone())
            .with(GSI1_PK, keys::tokens_index(role.operator()))
            .with(GSI1_SK, format!("{}#{}", self.created_at, self.token_id));
        if let Some(op) = role.operator() {
            item.set("operator_id", i64::try_from(op.0).ok()?);
        }
        if let Some(t) = role.territory() {
            item.set("territory_id", t.to_owned());
        }
        if let Some(at) = &self.revoked_at {
            item.set("revoked_at", at.clone());
        }
        Some(item)
    }

    /// `None` when not a token item or its role does not read (never expected).
    pub fn from_item(item: &Item) -> Option<TokenRecord> {
        Some(TokenRecord {
            token_id: keys::token_id(&item.key)?.to_owned(),
            role: role_of(item)?,
            name: item.s("name")?.to_owned(),
            secret_hash: item.s("secret_hash").unwrap_or_default().to_owned(),
            created_at: item.s("created_at")?.to_owned(),
            revoked_at: item.s("revoked_at").map(str::to_owned),
        })
    }

    /// Revokes it at `now`, once: the update and its condition (the token exists and is
    /// not revoked yet).
    pub fn revoke(now: String) -> (Update, Condition) {
        let update = Update::new().set("revoked_at", now);
        let condition = Condition::All(vec![
            Condition::Exists,
            Condition::AttrMissing("revoked_at".into()),
        ]);
        (update, condition)
    }
}

/// The marker of the first registry admin made on an empty store.
pub fn bootstrap_marker(now: &str) -> Item {
    Item::new(keys::bootstrap()).with("created_at", now.to_owned())
}
