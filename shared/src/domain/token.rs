//! Access tokens: who may call what. A token is `rpc.<token_id>.<secret>`; the registry
//! keeps only the SHA-256 of the secret (256 random bits need no slow hash), so a stolen
//! database does not hold usable tokens.

use std::collections::BTreeSet;
use std::fmt;

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::operator::OperatorId;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Permission {
    #[serde(rename = "journey.create")]
    JourneyCreate,
    #[serde(rename = "journey.read")]
    JourneyRead,
    #[serde(rename = "journey.delete")]
    JourneyDelete,
    #[serde(rename = "cee.simulate")]
    CeeSimulate,
    #[serde(rename = "cee.register")]
    CeeRegister,
    #[serde(rename = "cee.import")]
    CeeImport,
    #[serde(rename = "cee.read")]
    CeeRead,
    #[serde(rename = "cee.delete")]
    CeeDelete,
    #[serde(rename = "certificate.create")]
    CertificateCreate,
    #[serde(rename = "certificate.read")]
    CertificateRead,
}

impl Permission {
    pub const ALL: [Permission; 10] = [
        Permission::JourneyCreate,
        Permission::JourneyRead,
        Permission::JourneyDelete,
        Permission::CeeSimulate,
        Permission::CeeRegister,
        Permission::CeeImport,
        Permission::CeeRead,
        Permission::CeeDelete,
        Permission::CertificateCreate,
        Permission::CertificateRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::JourneyCreate => "journey.create",
            Permission::JourneyRead => "journey.read",
            Permission::JourneyDelete => "journey.delete",
            Permission::CeeSimulate => "cee.simulate",
            Permission::CeeRegister => "cee.register",
            Permission::CeeImport => "cee.import",
            Permission::CeeRead => "cee.read",
            Permission::CeeDelete => "cee.delete",
            Permission::CertificateCreate => "certificate.create",
            Permission::CertificateRead => "certificate.read",
        }
    }

    pub fn parse(s: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a token may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// The registry team: manages operators and every token, reads everything.
    RegistryAdmin,
    /// A platform's staff: manages the application tokens of its operator.
    OperatorAdmin(OperatorId),
    /// A platform's server: calls the operator routes it has permissions for.
    Application(OperatorId, BTreeSet<Permission>),
    /// An incentive authority: reads the campaigns whose `territory_id` is this one, and
    /// their incentives; nothing else.
    Territory(String),
}

impl Role {
    pub fn kind(&self) -> RoleKind {
        match self {
            Role::RegistryAdmin => RoleKind::RegistryAdmin,
            Role::OperatorAdmin(_) => RoleKind::OperatorAdmin,
            Role::Application(..) => RoleKind::Application,
            Role::Territory(_) => RoleKind::Territory,
        }
    }

    pub fn operator(&self) -> Option<OperatorId> {
        match self {
            Role::RegistryAdmin | Role::Territory(_) => None,
            Role::OperatorAdmin(op) | Role::Application(op, _) => Some(*op),
        }
    }

    pub fn territory(&self) -> Option<&str> {
        match self {
            Role::Territory(t) => Some(t),
            _ => None,
        }
    }

    pub fn permissions(&self) -> Vec<Permission> {
        match self {
            Role::Application(_, p) => p.iter().copied().collect(),
            _ => Vec::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RoleKind {
    RegistryAdmin,
    OperatorAdmin,
    Application,
    Territory,
}

impl RoleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoleKind::RegistryAdmin => "registry_admin",
            RoleKind::OperatorAdmin => "operator_admin",
            RoleKind::Application => "application",
            RoleKind::Territory => "territory",
        }
    }
    pub fn parse(s: &str) -> Option<RoleKind> {
        [
            RoleKind::RegistryAdmin,
            RoleKind::OperatorAdmin,
            RoleKind::Application,
            RoleKind::Territory,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

const PREFIX: &str = "rpc";
const TOKEN_ID_LEN: usize = 32;
const SECRET_BYTES: usize = 32;

/// A bearer token as presented by a client, split into its id and secret.
#[derive(PartialEq, Eq)]
pub struct Presented<'a> {
    pub token_id: &'a str,
    secret: &'a str,
}

impl fmt::Debug for Presented<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Presented({}, <secret>)", self.token_id)
    }
}

/// Parses `rpc.<32 hex>.<43 base64url>`; anything else is not a token of ours.
pub fn parse(token: &str) -> Option<Presented<'_>> {
    let mut parts = token.split('.');
    let (prefix, token_id, secret) = (parts.next()?, parts.next()?, parts.next()?);
    let well_formed = prefix == PREFIX
        && parts.next().is_none()
        && is_token_id(token_id)
        && secret.len() == 43
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then_some(Presented { token_id, secret })
}

pub fn is_token_id(s: &str) -> bool {
    s.len() == TOKEN_ID_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl Presented<'_> {
    /// Constant-time comparison with the stored hash.
    pub fn matches(&self, stored_hash: &str) -> bool {
        hash_secret(self.secret)
            .as_bytes()
            .ct_eq(stored_hash.as_bytes())
            .into()
    }
}

/// A new token: the full string is shown once; only `token_id` and `secret_hash` are kept.
pub struct NewToken {
    pub token_id: String,
    pub token: String,
    pub secret_hash: String,
}

impl fmt::Debug for NewToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NewToken({})", self.token_id)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("no randomness available: {0}")]
pub struct RandomError(String);

pub fn generate() -> Result<NewToken, RandomError> {
    let mut id = [0u8; TOKEN_ID_LEN / 2];
    let mut secret = [0u8; SECRET_BYTES];
    getrandom::fill(&mut id).map_err(|e| RandomError(e.to_string()))?;
    getrandom::fill(&mut secret).map_err(|e| RandomError(e.to_string()))?;
    let token_id = hex::encode(id);
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    Ok(NewToken {
        token: format!("{PREFIX}.{token_id}.{secret}"),
        secret_hash: hash_secret(&secret),
        token_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_and_match_their_hash_only() {
        let t = generate().unwrap();
        let p = parse(&t.token).unwrap();
        assert_eq!(p.token_id, t.token_id);
        assert!(p.matches(&t.secret_hash));
        let other = generate().unwrap();
        assert!(!p.matches(&other.secret_hash));
        assert_ne!(t.token, other.token);
        assert!(!format!("{t:?}").contains(&t.token));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let t = generate().unwrap().token;
        for bad in [
            "",
            "rpc",
            "rpc..",
            &t[..t.len() - 1],
            &format!("{t}x"),
            &format!("{t}.x"),
            &t.replacen("rpc", "rpx", 1),
            &t.to_uppercase(),
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn permissions_round_trip() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
        assert_eq!(Permission::parse("journey.write"), None);
    }
}
