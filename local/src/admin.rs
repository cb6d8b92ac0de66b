//! `registry admin ...`: the same services as the admin routes, without HTTP.

use std::collections::BTreeSet;

use clap::{Subcommand, ValueEnum};
use registry_core::admin::{self, TokenRequest};
use registry_core::api::error::ApiError;
use registry_core::app::App;
use registry_core::campaigns;
use registry_core::domain::campaign::CampaignId;
use registry_core::domain::operator::{self, OperatorId};
use registry_core::domain::token::{Permission, RoleKind};
use serde::Serialize;
use serde_json::json;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Carpool operators.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Access tokens (application, operator admin, registry admin, territory).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Incentive campaigns (JSON documents, see examples/campaigns/).
    #[command(subcommand)]
    Campaign(CampaignCommand),
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
pub enum CampaignCommand {
    /// Loads a campaign document: creates it, or replaces it when it exists and has not
    /// started yet.
    Load { file: std::path::PathBuf },
    /// Lists every campaign.
    List,
    /// One campaign: its document and history.
    Get {
        #[arg(long)]
        id: String,
    },
    /// Loads a campaign's starting counters (a campaign moving here from another system):
    /// a JSON document, persons given by phone and stored as identity keys only
    /// (docs/CAMPAIGNS.md, "Starting counters"). Loading again replaces them.
    Counters {
        #[arg(long)]
        id: String,
        file: std::path::PathBuf,
    },
    /// Closes a campaign early: journeys after the last day (default: today) earn nothing.
    Close {
        #[arg(long)]
        id: String,
        /// YYYY-MM-DD, in the campaign's time zone.
        #[arg(long)]
        last_day: Option<String>,
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
    /// Reads the campaigns (and their incentives) of one territory.
    Territory,
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
        /// Territory tokens: the `territory_id` of the campaigns it reads.
        #[arg(long)]
        territory: Option<String>,
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

/// The error as the API would word it, with every detail.
pub(crate) fn failed(e: impl Into<ApiError>) -> String {
    let e: ApiError = e.into();
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
        AdminCommand::Operator(command) => operator(app, command, json_output).await,
        AdminCommand::Token(command) => token(app, command, json_output).await,
        AdminCommand::Campaign(command) => campaign(app, command, json_output).await,
        AdminCommand::Cee(CeeCommand::Errors { operator, limit }) => {
            cee_errors(app, operator, limit, json_output).await
        }
    }
}

async fn operator(app: &App, command: OperatorCommand, json_output: bool) -> Result<(), String> {
    match command {
        OperatorCommand::Create { name, siret } => {
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
        OperatorCommand::List => {
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
    }
    Ok(())
}

async fn token(app: &App, command: TokenCommand, json_output: bool) -> Result<(), String> {
    match command {
        TokenCommand::Create {
            operator,
            name,
            role,
            permissions,
            territory,
        } => {
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
                RoleArg::Territory => RoleKind::Territory,
            };
            let request = TokenRequest {
                name,
                role,
                operator: operator.map(OperatorId),
                permissions,
                territory,
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
        TokenCommand::List { operator } => {
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
        TokenCommand::Revoke { token_id } => {
            let revoked = admin::revoke_token(app, &token_id, |_| true)
                .await
                .map_err(failed)?;
            print(json_output, &revoked, || {
                format!("token {} revoked", revoked.token_id)
            });
        }
    }
    Ok(())
}

async fn cee_errors(
    app: &App,
    operator: u64,
    limit: usize,
    json_output: bool,
) -> Result<(), String> {
    let entries =
        registry_core::cee::errorlog::latest(app, OperatorId(operator), limit.clamp(1, 1000))
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
    Ok(())
}

/// `registry admin campaign load FILE`: creates the campaign, or updates it when its id
/// exists.
async fn load_campaign(app: &App, file: &std::path::Path, json_output: bool) -> Result<(), String> {
    let body = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let id = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["id"].as_str().and_then(CampaignId::parse));
    let existing = match id {
        Some(id) => campaigns::get(app, &id, false)
            .await
            .map_err(failed)?
            .map(|_| id),
        None => None,
    };
    let exists = existing.is_some();
    let loaded = match existing {
        Some(id) => campaigns::update(app, id.as_str(), &body).await,
        None => campaigns::create(app, &body).await,
    }
    .map_err(failed)?;
    print(json_output, &loaded, || {
        format!(
            "campaign {} {} (version {})",
            loaded.id,
            if exists { "updated" } else { "created" },
            loaded.version
        )
    });
    Ok(())
}

async fn campaign(app: &App, command: CampaignCommand, json_output: bool) -> Result<(), String> {
    let line = |c: &campaigns::Stored| {
        format!(
            "{}\tv{}\t{}\t{} → {}{}\t{}",
            c.id,
            c.version,
            c.status,
            c.start,
            c.end,
            c.closed_on
                .as_deref()
                .map_or(String::new(), |d| format!(" (closed after {d})")),
            c.name
        )
    };
    match command {
        CampaignCommand::Load { file } => load_campaign(app, &file, json_output).await?,
        CampaignCommand::List => {
            let found = campaigns::list(app, None).await.map_err(failed)?;
            print(json_output, &json!({ "campaigns": found }), || {
                found.iter().map(line).collect::<Vec<_>>().join("\n")
            });
        }
        CampaignCommand::Get { id } => {
            let found = campaigns::find(app, &id).await.map_err(failed)?;
            let parsed = CampaignId::parse(&id).ok_or("unknown campaign")?;
            let history = campaigns::versions(app, &parsed, false)
                .await
                .map_err(failed)?;
            let mut value = serde_json::to_value(&found).map_err(|e| e.to_string())?;
            value["history"] = json!(history);
            print(json_output, &value, || {
                serde_json::to_string_pretty(&value).unwrap_or_default()
            });
        }
        CampaignCommand::Counters { id, file } => {
            let body =
                std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let loaded = campaigns::starting::load(app, &id, &body)
                .await
                .map_err(failed)?;
            print(json_output, &loaded, || {
                let h = &loaded.header;
                format!(
                    "campaign {}: starting counters as of {} loaded ({} persons, {} counters)",
                    loaded.campaign_id, h.as_of, h.persons, h.counters
                )
            });
        }
        CampaignCommand::Close { id, last_day } => {
            let closed = campaigns::close(app, &id, last_day.as_deref())
                .await
                .map_err(failed)?;
            print(json_output, &closed, || line(&closed));
        }
    }
    Ok(())
}
