//! Structured logs with `tracing`: text for people, JSON for collectors. Secrets never reach a
//! log line (they are `SecretString`s), and emails are logged by domain only.
use crate::config::LogFormat;
use tracing_subscriber::filter::Directive;
use tracing_subscriber::EnvFilter;

/// What is logged when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info";

/// The database drivers' targets, capped at `warn` whatever `RUST_LOG` asks: below it, sea-orm
/// opens a span per statement that records the statement with its bound values (addresses,
/// names; every line logged while it runs, a connection-pool notice say, prints it) and sqlx
/// logs statements. Issue 16: logs show addresses by domain only, at every level.
const STATEMENT_TARGETS: [&str; 2] = ["sea_orm", "sqlx"];

/// Installs the global subscriber; `RUST_LOG` overrides the default `info`.
pub fn init(format: LogFormat) {
    let directives = std::env::var(EnvFilter::DEFAULT_ENV)
        .ok()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_FILTER.to_owned());
    // Colour only on a terminal: a pipe or a file gets plain text that tools can parse.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(&directives))
        .with_target(false)
        .with_ansi(ansi);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// The filter of `directives` (`RUST_LOG` syntax; invalid ones are skipped), with the
/// statement-carrying targets capped at `warn`.
pub fn filter(directives: &str) -> EnvFilter {
    let mut filter = EnvFilter::builder().parse_lossy(directives);
    for target in STATEMENT_TARGETS {
        if let Ok(cap) = format!("{target}=warn").parse::<Directive>() {
            filter = filter.add_directive(cap);
        }
    }
    filter
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Even `RUST_LOG=trace` (or `sea_orm=trace`) leaves the statement spans off.
    #[test]
    fn issue16_statement_spans_stay_off_at_every_level() {
        use tracing::Level;
        use tracing_subscriber::layer::SubscriberExt;
        for directives in ["trace", "sea_orm=trace,sqlx=debug,info", "debug"] {
            let subscriber = tracing_subscriber::registry().with(filter(directives));
            tracing::subscriber::with_default(subscriber, || {
                assert!(
                    !tracing::enabled!(target: "sea_orm::database::db_connection", Level::TRACE),
                    "{directives}"
                );
                assert!(
                    !tracing::enabled!(target: "sqlx::query", Level::INFO),
                    "{directives}"
                );
                assert!(
                    tracing::enabled!(target: "sea_orm::database", Level::WARN),
                    "{directives}"
                );
                assert!(tracing::enabled!(target: "hirelay::mail", Level::INFO));
            });
        }
    }
}
