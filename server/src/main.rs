//! The `hirelay` command: parse arguments, call a command.
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use hirelay::config::Config;
use hirelay::domain::role::Role;

/// hirelay: webhook-and-rules automation for recruiting teams (BizReach imports, ATS status
/// webhooks, Career Relay invitations), driven by editable Rhai scripts and Handlebars emails.
#[derive(Parser)]
#[command(name = "hirelay", version, about, long_about = None)]
struct Cli {
    /// TOML configuration file (default: ./hirelay.toml if present). HIRELAY_* variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server, the event workers and the scheduler (migrations run first).
    Serve,
    /// Run the database migrations and exit.
    Migrate,
    /// Email templates.
    Templates {
        #[command(subcommand)]
        command: TemplatesCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Work with the rule scripts.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Compile every script of the rules directory; exit non-zero with `file:line:column:`
    /// messages on the first problem of each file.
    Check {
        /// The directory to check (default: the configured rules_dir).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum TemplatesCommand {
    /// Check every template (syntax; every variable against its sample.json) and exit non-zero
    /// with `name/file:line:column: message` lines when one has a problem.
    Check {
        /// The templates directory (default: HIRELAY_TEMPLATES_DIR).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token and print it once (it is stored only as a hash).
    Create {
        /// admin, integrator, marketer or viewer.
        #[arg(long)]
        role: Role,
        /// Who or what the token is for (shown in the audit log).
        #[arg(long)]
        name: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hirelay: configuration: {e}");
            return ExitCode::from(2);
        }
    };

    hirelay::telemetry::init(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hirelay: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve => serve(config).await,
            Command::Migrate => migrate(config).await,
            Command::Templates {
                command: TemplatesCommand::Check { dir },
            } => Ok(check_templates(
                dir.as_deref().unwrap_or(&config.templates_dir),
            )),
            Command::Token {
                command: TokenCommand::Create { role, name },
            } => create_token(config, role, &name).await,
            Command::Rules {
                command: RulesCommand::Check { dir },
            } => Ok(check_rules(
                &dir.unwrap_or_else(|| config.rules_dir.clone()),
            )),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hirelay: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<ExitCode> {
    tracing::info!(config = ?config, "starting");
    let app = hirelay::startup::Application::build(config).await?;
    tracing::info!(port = app.port(), "listening");
    let stopper = app.stopper();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests and events");
        stopper.stop().await;
    });
    app.run_until_stopped().await?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// `hirelay templates check`: every problem on stderr, or "N templates OK".
fn check_templates(dir: &std::path::Path) -> ExitCode {
    let problems = hirelay::mail::check_dir(dir);
    if problems.is_empty() {
        let count = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| e.path().join("html.hbs").exists())
                    .count()
            })
            .unwrap_or(0);
        println!("{count} templates OK");
        ExitCode::SUCCESS
    } else {
        for p in &problems {
            eprintln!("{p}");
        }
        ExitCode::FAILURE
    }
}

async fn connect(config: &Config) -> anyhow::Result<hirelay::store::Store> {
    use secrecy::ExposeSecret;
    let store = hirelay::store::Store::connect(
        config.database_url.expose_secret(),
        config.database_pool,
        config.workers as u32,
    )
    .await?;
    store.migrate().await?;
    Ok(store)
}

async fn migrate(config: Config) -> anyhow::Result<ExitCode> {
    connect(&config).await?;
    println!("migrations are up to date");
    Ok(ExitCode::SUCCESS)
}

async fn create_token(config: Config, role: Role, name: &str) -> anyhow::Result<ExitCode> {
    let store = connect(&config).await?;
    let (identity, token) = store.create_token(name, role).await?;
    eprintln!(
        "created {} token `{}` ({}); it is shown once:",
        role.as_str(),
        identity.name,
        identity.id
    );
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

fn check_rules(dir: &std::path::Path) -> ExitCode {
    let problems = hirelay::scripting::check_dir(dir);
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("{p}");
        }
        return ExitCode::FAILURE;
    }
    let count = hirelay::watch::read_tree(dir, &[".rhai"]).map_or(0, |f| f.len());
    println!("{count} scripts OK");
    ExitCode::SUCCESS
}
