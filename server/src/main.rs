//! The `hirelay` command: parse arguments, call a command.
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use hirelay::config::Config;
use hirelay::domain::role::Role;
use hirelay::ingest::deliver::Source;
use hirelay::relay::report::ReportMonth;

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
    /// Copy the SQLite database, while the server runs, into a new file (PostgreSQL: pg_dump).
    Backup {
        /// The new file to write (never overwritten).
        #[arg(value_name = "FILE")]
        out: PathBuf,
    },
    /// Put a backup in place of the SQLite database; every `hirelay serve` on it must be
    /// stopped. The replaced database is kept beside it.
    Restore {
        /// A file written by `hirelay backup`.
        #[arg(value_name = "FILE")]
        from: PathBuf,
    },
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
    /// Manage the console's personal user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Work with the rule scripts.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Sign (and send) a webhook file as an ATS, BizReach or Career Relay would, with the
    /// secrets of the configuration (HIRELAY_WEBHOOK_SECRET_*).
    Webhook {
        #[command(subcommand)]
        command: WebhookCommand,
    },
    /// Write a month's Career Relay report (funnel, breakdowns, slot ledger, targets, ROI) as
    /// one self-contained HTML file.
    Report {
        /// The calendar month (JST), YYYY-MM, e.g. 2026-11.
        #[arg(long, value_name = "YYYY-MM")]
        month: ReportMonth,
        /// Where to write it (default: ./career-relay-report-YYYY-MM.html).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum WebhookCommand {
    /// Print the three signature headers of FILE's exact bytes, one `name: value` per line
    /// (for `curl -H @headers.txt --data-binary @FILE`).
    Sign(WebhookArgs),
    /// Sign FILE's exact bytes and POST them to the server's /v1/webhooks/SOURCE; print the
    /// answer's status and body (exit 1 unless it is 2xx).
    Send {
        #[command(flatten)]
        webhook: WebhookArgs,
        /// The server's base URL (default: http:// + HIRELAY_BIND).
        #[arg(long, value_name = "URL")]
        url: Option<String>,
    },
}

#[derive(clap::Args)]
struct WebhookArgs {
    /// ats, bizreach or career-relay.
    #[arg(long)]
    source: Source,
    /// The delivery's `webhook-id` (its idempotency key; default: a new `msg_…`).
    #[arg(long)]
    id: Option<String>,
    /// The JSON body, sent byte for byte.
    file: PathBuf,
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
        /// Refuse the token this many days from now (default: it never expires).
        #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=36_500))]
        expires_in_days: Option<u32>,
        /// For an integrator token: ats, bizreach or career_relay, the webhook source it is
        /// bound to. It then reads and replays only that source's events and sees only the
        /// webhook subscriptions that source's tokens made.
        #[arg(long)]
        source: Option<String>,
    },
    /// List every token: id, name, role, created, last used, expiry, revoked, source (never the
    /// secret).
    List,
    /// Revoke a token by its id (see `token list`): the next request with it is refused.
    Revoke {
        /// The token's id (`tok_…`).
        id: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user who signs in to the console. The password is read from standard input
    /// (one line) or asked for at the terminal, never taken as an argument.
    Create {
        /// The address the user signs in with.
        #[arg(long)]
        email: String,
        /// admin, integrator, marketer or viewer.
        #[arg(long)]
        role: Role,
        /// The name the console and the audit log show (default: the address's local part).
        #[arg(long)]
        name: Option<String>,
    },
    /// List every user: id, email, name, role, disabled, created.
    List,
    /// Disable a user (by email or id): their sessions end at once.
    Disable {
        /// The user's email or id (`usr_…`).
        user: String,
    },
    /// Change a user's role (by email or id).
    SetRole {
        /// The user's email or id (`usr_…`).
        user: String,
        /// admin, integrator, marketer or viewer.
        role: Role,
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
    if !matches!(cli.command, Command::Webhook { .. }) {
        say_where(&config, &cli.command);
    }
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve => serve(config).await,
            Command::Migrate => migrate(config).await,
            Command::Backup { out } => backup_or_restore(&config, BackupCommand::Backup(out)),
            Command::Restore { from } => backup_or_restore(&config, BackupCommand::Restore(from)),
            Command::Templates {
                command: TemplatesCommand::Check { dir },
            } => Ok(check_templates(
                dir.as_deref().unwrap_or(&config.templates_dir),
            )),
            Command::Token {
                command:
                    TokenCommand::Create {
                        role,
                        name,
                        expires_in_days,
                        source,
                    },
            } => create_token(config, role, &name, source.as_deref(), expires_in_days).await,
            Command::Token {
                command: TokenCommand::List,
            } => list_tokens(config).await,
            Command::Token {
                command: TokenCommand::Revoke { id },
            } => revoke_token(config, &id).await,
            Command::User { command } => users(config, command).await,
            Command::Rules {
                command: RulesCommand::Check { dir },
            } => Ok(check_rules(
                &dir.unwrap_or_else(|| config.rules_dir.clone()),
            )),
            Command::Report { month, out } => write_report(config, month, out).await,
            Command::Webhook { command } => webhook(&config, command).await,
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

/// Issue 19: every command says, on stderr (stdout of `token create` is the token alone), which
/// database and which rules and templates it uses, so one run in the wrong directory shows it.
fn say_where(config: &Config, command: &Command) {
    let shown = |dir: &std::path::Path| {
        std::path::absolute(dir)
            .map_or_else(|_| dir.display().to_string(), |p| p.display().to_string())
    };
    let (rules, templates) = match command {
        Command::Rules {
            command: RulesCommand::Check { dir: Some(dir) },
        } => (dir.as_path(), config.templates_dir.as_path()),
        Command::Templates {
            command: TemplatesCommand::Check { dir: Some(dir) },
        } => (config.rules_dir.as_path(), dir.as_path()),
        _ => (config.rules_dir.as_path(), config.templates_dir.as_path()),
    };
    eprintln!("hirelay: database  {}", config.database_location());
    eprintln!("hirelay: rules     {}", shown(rules));
    eprintln!("hirelay: templates {}", shown(templates));
}

async fn serve(config: Config) -> anyhow::Result<ExitCode> {
    tracing::info!(config = ?config, "starting");
    hirelay::startup::check_directories(&config)?;
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

enum BackupCommand {
    Backup(PathBuf),
    Restore(PathBuf),
}

/// `hirelay backup FILE` and `hirelay restore FILE`, on the configured SQLite file.
fn backup_or_restore(config: &Config, command: BackupCommand) -> anyhow::Result<ExitCode> {
    use hirelay::store::sqlite_backup::{self, BackupError};
    use secrecy::ExposeSecret;
    let url = config.database_url.expose_secret();
    let Some(database) = hirelay::store::sqlite_path(url).map(std::path::Path::new) else {
        eprintln!("hirelay: {}", BackupError::Postgres);
        return Ok(ExitCode::from(2));
    };
    let key_note = if config.secret_key.is_some() {
        "the sealed secrets open only with HIRELAY_SECRET_KEY: keep it apart from this file"
    } else {
        "the sealed secrets open only with the key file secret.key of the data directory: \
         keep a copy of it apart from this file"
    };
    let outcome = match command {
        BackupCommand::Backup(out) => sqlite_backup::backup(database, &out).map(|done| {
            println!(
                "backed up {} to {} ({} bytes, schema {})",
                database.display(),
                out.display(),
                done.bytes,
                done.schema
            );
            eprintln!("hirelay: {key_note}");
        }),
        BackupCommand::Restore(from) => sqlite_backup::restore(&from, database).map(|done| {
            println!(
                "restored {} into {} (schema {}); `hirelay serve` migrates it forward if needed",
                from.display(),
                database.display(),
                done.schema
            );
            if let Some(replaced) = done.replaced {
                println!("the replaced database is kept as {}", replaced.display());
            }
        }),
    };
    match outcome {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("hirelay: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn create_token(
    config: Config,
    role: Role,
    name: &str,
    source: Option<&str>,
    expires_in_days: Option<u32>,
) -> anyhow::Result<ExitCode> {
    const DAY_MS: i64 = 24 * 60 * 60 * 1000;
    let source = match hirelay::domain::role::token_source(role, source) {
        Ok(source) => source,
        Err(e) => {
            eprintln!("hirelay: --source: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let store = connect(&config).await?;
    let expires_at =
        expires_in_days.map(|d| hirelay::domain::time::now_millis() + i64::from(d) * DAY_MS);
    let new = hirelay::store::tokens::NewToken {
        name,
        role,
        source,
        expires_at,
    };
    let (identity, token) = store.create_token_audited(&new, CLI_ACTOR).await?;
    let until = expires_at
        .map(|at| format!(", valid until {}", hirelay::domain::time::rfc3339(at)))
        .unwrap_or_default();
    let bound = source
        .map(|s| format!(", bound to the source {s}"))
        .unwrap_or_default();
    eprintln!(
        "created {} token `{}` ({}{until}{bound}); it is shown once:",
        role.as_str(),
        identity.name,
        identity.id
    );
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

/// Who the audit log names for token commands: whoever runs the CLI on the server.
const CLI_ACTOR: &str = "hirelay command line";

/// `hirelay token list`: one line per token, tab-separated under a header.
async fn list_tokens(config: Config) -> anyhow::Result<ExitCode> {
    use hirelay::domain::time::rfc3339;
    let store = connect(&config).await?;
    let time = |t: Option<i64>| t.map_or_else(|| "-".to_owned(), rfc3339);
    println!("ID\tNAME\tROLE\tCREATED\tLAST USED\tEXPIRES\tREVOKED\tSOURCE");
    let tokens = store.list_tokens().await?;
    for t in &tokens {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            t.id,
            t.name,
            t.role,
            rfc3339(t.created_at),
            time(t.last_used_at),
            time(t.expires_at),
            time(t.revoked_at),
            t.source.as_deref().unwrap_or("-")
        );
    }
    if config.admin_token.is_some() {
        eprintln!(
            "(and the bootstrap admin token of HIRELAY_ADMIN_TOKEN, which only the configuration revokes)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `hirelay token revoke ID`.
async fn revoke_token(config: Config, id: &str) -> anyhow::Result<ExitCode> {
    let store = connect(&config).await?;
    match store
        .revoke_token_audited(id, CLI_ACTOR, hirelay::domain::time::now_millis())
        .await
    {
        Ok(t) if t.revoked_at.is_some() => {
            println!("token {id} (`{}`) was already revoked", t.name);
            Ok(ExitCode::SUCCESS)
        }
        Ok(t) => {
            println!("revoked {} token {id} (`{}`)", t.role, t.name);
            Ok(ExitCode::SUCCESS)
        }
        Err(hirelay::store::StoreError::NotFound(_)) => {
            let hint = if id == hirelay::http::auth::BOOTSTRAP_ID {
                "; the bootstrap admin token is revoked by removing HIRELAY_ADMIN_TOKEN"
            } else {
                "; `hirelay token list` shows the ids"
            };
            eprintln!("hirelay: no token with id `{id}`{hint}");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e.into()),
    }
}

/// `hirelay webhook sign|send`: the file's exact bytes, signed with the configured secret.
async fn webhook(config: &Config, command: WebhookCommand) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    use hirelay::ingest::deliver;
    let (args, url) = match command {
        WebhookCommand::Sign(args) => (args, None),
        WebhookCommand::Send { webhook, url } => (webhook, Some(url)),
    };
    let body = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let now = hirelay::domain::time::now_millis() / 1000;
    let signed = deliver::sign(&config.webhook_secrets, args.source, args.id, &body, now)?;
    let Some(url) = url else {
        print!("{}", signed.header_lines());
        return Ok(ExitCode::SUCCESS);
    };
    let base = url.unwrap_or_else(|| deliver::base_url(config.bind));
    let (status, answer) = deliver::send(&base, args.source, &signed, body).await?;
    println!("{status} {answer}");
    Ok(if (200..300).contains(&status) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The password of `hirelay user create`: asked for twice at a terminal (without echo), else
/// the first line of standard input.
fn read_password() -> anyhow::Result<secrecy::SecretString> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("password: ")?;
        let again = rpassword::prompt_password("password again: ")?;
        anyhow::ensure!(first == again, "the two passwords differ");
        return Ok(first.into());
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned().into())
}

/// `hirelay user …`: the same accounts as the console's Users page, audited as the command line.
async fn users(config: Config, command: UserCommand) -> anyhow::Result<ExitCode> {
    use hirelay::domain::time::{now_millis, rfc3339};
    use hirelay::store::users::UserChange;
    use hirelay::store::Store;
    let store = connect(&config).await?;
    let find = |user: String| {
        let store = store.clone();
        async move {
            let found = match hirelay::domain::email::Email::parse(&user) {
                Ok(email) if !user.starts_with("usr_") => store.find_user_by_email(&email).await?,
                _ => store.find_user(&user).await?,
            };
            found.ok_or_else(|| anyhow::anyhow!("no user `{user}`; `hirelay user list` shows them"))
        }
    };
    match command {
        UserCommand::Create { email, role, name } => {
            let accounts = hirelay::accounts::Accounts::new(store.clone(), &config).await?;
            let password = read_password()?;
            let user = match accounts
                .create_user(&email, name.as_deref(), role, password, false, now_millis())
                .await
            {
                Ok(user) => user,
                Err(e) => {
                    eprintln!("hirelay: {e}");
                    return Ok(ExitCode::FAILURE);
                }
            };
            let detail = serde_json::json!({"email": user.email, "role": user.role});
            Store::audit(&store.db, CLI_ACTOR, "user.create", &user.id, detail).await?;
            println!(
                "created {} user {} <{}> ({})",
                user.role, user.name, user.email, user.id
            );
        }
        UserCommand::List => {
            println!("ID\tEMAIL\tNAME\tROLE\tDISABLED\tCREATED");
            for u in store.list_users().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    u.id,
                    u.email,
                    u.name,
                    u.role,
                    if u.disabled { "yes" } else { "no" },
                    rfc3339(u.created_at)
                );
            }
        }
        UserCommand::Disable { user } => {
            let user = find(user).await?;
            let change = UserChange {
                disabled: Some(true),
                ..Default::default()
            };
            let (user, ended) = store
                .in_transaction(async |txn| {
                    let user = Store::update_user(txn, &user.id, change, now_millis()).await?;
                    let ended = Store::end_sessions_of(txn, &user.id).await?;
                    let detail = serde_json::json!({"disabled": true});
                    Store::audit(txn, CLI_ACTOR, "user.update", &user.id, detail).await?;
                    Ok::<_, hirelay::store::StoreError>((user, ended))
                })
                .await?;
            println!(
                "disabled {} <{}>; {ended} session(s) ended",
                user.name, user.email
            );
        }
        UserCommand::SetRole { user, role } => {
            let user = find(user).await?;
            let change = UserChange {
                role: Some(role),
                ..Default::default()
            };
            let user = store
                .in_transaction(async |txn| {
                    let user = Store::update_user(txn, &user.id, change, now_millis()).await?;
                    let detail = serde_json::json!({"role": role.as_str()});
                    Store::audit(txn, CLI_ACTOR, "user.update", &user.id, detail).await?;
                    Ok::<_, hirelay::store::StoreError>(user)
                })
                .await?;
            println!("{} <{}> is now {}", user.name, user.email, user.role);
        }
    }
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

/// `hirelay report --month YYYY-MM [--out FILE]`: the month's report from the configured
/// database, written as one HTML file; says where.
async fn write_report(
    config: Config,
    month: ReportMonth,
    out: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    use hirelay::relay::{report, report_html};
    let store = connect(&config).await?;
    let report = report::month_report(&store.db, &config, month).await?;
    let path = out.unwrap_or_else(|| PathBuf::from(report_html::default_file_name(&report)));
    std::fs::write(&path, report_html::render(&report))
        .with_context(|| format!("cannot write {}", path.display()))?;
    let shown = std::path::absolute(&path).unwrap_or(path);
    println!(
        "wrote the Career Relay report of {} to {}",
        report.month_code,
        shown.display()
    );
    Ok(ExitCode::SUCCESS)
}
