//! The token item.

use super::item::Item;
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
