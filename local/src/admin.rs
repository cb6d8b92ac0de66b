//! `registry admin ...`: the same services as the admin routes, without HTTP.

use std::collections::BTreeSet;

use clap::{Subcommand, ValueEnum};
use registry_core::admin::{self, TokenRequest};
use registry_core::api::error::ApiError;
use registry_core::app::App;
use registry_core::domain::operator::{self, OperatorId};
use registry_core::domain::token::{Permission, RoleKind};
use serde::Serialize;
use serde_json::json;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Carpool operators.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Access tokens (application, operator admin, registry admin).
    #[command(subcommand)]
    Token(TokenCommand),
    /// CEE applications (support).
    #[command(subcommand)]
    Cee(CeeCommand),
}

#[derive(Subcommand)]
pub enum CeeCommand {
    /// The latest refused registrations of an operator, newest first (error log).
    Errors {
        #[arg(long)]
        operator: u64,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

#[derive(Subcommand)]
pub enum OperatorCommand {
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        siret: Option<String>,
    },
    List,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Application,
    OperatorAdmin,
    RegistryAdmin,
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Creates a token and prints its secret once.
    Create {
        /// The operator (not for registry admins).
        #[arg(long)]
        operator: Option<u64>,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value = "application")]
        role: RoleArg,
        /// Repeat for several; default: every permission (application tokens only).
        #[arg(long = "permission", value_name = "PERMISSION")]
        permissions: Vec<String>,
    },
    /// Lists an operator's tokens, or the registry admins' without --operator.
    List {
        #[arg(long)]
        operator: Option<u64>,
    },
    Revoke {
        #[arg(long)]
        token_id: String,
    },
}

fn failed(e: ApiError) -> String {
    let details: Vec<String> = e
        .details
        .iter()
        .map(|d| format!("{}: {}", d.path, d.reason))
        .collect();
    if details.is_empty() {
        e.message
    } else {
        format!("{} ({})", e.message, details.join("; "))
    }
}

fn print(json_output: bool, value: &impl Serialize, human: impl FnOnce() -> String) {
    if json_output {
        println!("{}", serde_json::to_string(value).unwrap_or_default());
    } else {
        println!("{}", human());
    }
}

pub async fn run(app: &App, command: AdminCommand, json_output: bool) -> Result<(), String> {
    match command {
        AdminCommand::Operator(OperatorCommand::Create { name, siret }) => {
            let name = operator::parse_name(&name).map_err(|r| format!("--name {r}"))?;
            let siret = siret
                .as_deref()
                .map(operator::parse_siret)
                .transpose()
                .map_err(|r| format!("--siret {r}"))?;
            let created = admin::create_operator(app, name, siret)
                .await
                .map_err(failed)?;
            print(json_output, &created, || {
                format!("operator {} created: {}", created.id, created.name)
            });
        }
        AdminCommand::Operator(OperatorCommand::List) => {
            let operators = admin::list_operators(app).await.map_err(failed)?;
            print(json_output, &json!({ "operators": operators }), || {
                operators
                    .iter()
                    .map(|o| {
                        format!(
                            "{}\t{}\t{}",
                            o.id,
                            o.name,
                            o.siret.as_deref().unwrap_or("-")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        AdminCommand::Token(TokenCommand::Create {
            operator,
            name,
            role,
            permissions,
        }) => {
            let name = operator::parse_name(&name).map_err(|r| format!("--name {r}"))?;
            let permissions = if permissions.is_empty() {
                None
            } else {
                Some(
                    permissions
                        .iter()
                        .map(|p| {
                            Permission::parse(p).ok_or_else(|| format!("unknown permission {p:?}"))
                        })
                        .collect::<Result<BTreeSet<_>, _>>()?,
                )
            };
            let role = match role {
                RoleArg::Application => RoleKind::Application,
                RoleArg::OperatorAdmin => RoleKind::OperatorAdmin,
                RoleArg::RegistryAdmin => RoleKind::RegistryAdmin,
            };
            let request = TokenRequest {
                name,
                role,
                operator: operator.map(OperatorId),
                permissions,
            };
            let created = admin::create_token(app, request).await.map_err(failed)?;
            print(json_output, &created, || {
                format!(
                    "token {} created ({}); keep it now, it is not shown again:\n{}",
                    created.info.token_id,
                    created.info.role.as_str(),
                    created.token
                )
            });
        }
        AdminCommand::Token(TokenCommand::List { operator }) => {
            let tokens = admin::list_tokens(app, operator.map(OperatorId))
                .await
                .map_err(failed)?;
            print(json_output, &json!({ "tokens": tokens }), || {
                tokens
                    .iter()
                    .map(|t| {
                        format!(
                            "{}\t{}\t{}\t{}",
                            t.token_id,
                            t.role.as_str(),
                            t.name,
                            t.revoked_at
                                .as_deref()
                                .map_or("active".to_owned(), |r| format!("revoked {r}"))
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        AdminCommand::Token(TokenCommand::Revoke { token_id }) => {
            let revoked = admin::revoke_token(app, &token_id, |_| true)
                .await
                .map_err(failed)?;
            print(json_output, &revoked, || {
                format!("token {} revoked", revoked.token_id)
            });
        }
        AdminCommand::Cee(CeeCommand::Errors { operator, limit }) => {
            let entries = registry_core::cee::errorlog::latest(
                app,
                OperatorId(operator),
                limit.clamp(1, 1000),
            )
            .await
            .map_err(|e| e.to_string())?;
            print(json_output, &json!({ "errors": entries }), || {
                entries
                    .iter()
                    .map(|e| {
                        let paths: Vec<String> = e
                            .details
                            .iter()
                            .map(|d| format!("{}: {}", d.path, d.reason))
                            .collect();
                        format!(
                            "{}\t{}\t{}\t{}\t{}{}",
                            e.at,
                            e.kind,
                            e.status,
                            e.journey_type.as_deref().unwrap_or("-"),
                            e.message,
                            if paths.is_empty() {
                                String::new()
                            } else {
                                format!(" ({})", paths.join("; "))
                            }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
    }
    Ok(())
}
