//! `bizreach-sim`: runs the simulator until Ctrl-C. Every option has a
//! `BIZREACH_SIM_*` variable; what is left out takes [`SimConfig::default`].

use bizreach_sim::SimConfig;
use clap::Parser;

/// A simulator of the BizReach-compatible source API, for trying hirelay locally.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Address to listen on.
    #[arg(long, env = "BIZREACH_SIM_BIND", default_value = "127.0.0.1:9090")]
    bind: String,
    /// Seed of the generated data [default: 42].
    #[arg(long, env = "BIZREACH_SIM_SEED")]
    seed: Option<u64>,
    /// Number of group accounts [default: 3].
    #[arg(long, env = "BIZREACH_SIM_GROUPS")]
    groups: Option<usize>,
    /// Applications each group starts with [default: 20].
    #[arg(long, env = "BIZREACH_SIM_APPLICATIONS_PER_GROUP")]
    applications_per_group: Option<usize>,
    /// How many days back the applications reach [default: 400].
    #[arg(long, env = "BIZREACH_SIM_DAYS_BACK")]
    days_back: Option<i64>,
    /// Email to sign in with [default: admin@example.jp].
    #[arg(long, env = "BIZREACH_SIM_EMAIL")]
    email: Option<String>,
    /// Password to sign in with [default: "correct horse battery staple"].
    #[arg(long, env = "BIZREACH_SIM_PASSWORD")]
    password: Option<String>,
    /// Account name a session answers [default: 株式会社サンプル 人事部].
    #[arg(long, env = "BIZREACH_SIM_ACCOUNT_NAME")]
    account_name: Option<String>,
}

impl Cli {
    /// The defaults live in one place, `SimConfig::default()`.
    fn config(self) -> SimConfig {
        let d = SimConfig::default();
        SimConfig {
            seed: self.seed.unwrap_or(d.seed),
            groups: self.groups.unwrap_or(d.groups),
            applications_per_group: self
                .applications_per_group
                .unwrap_or(d.applications_per_group),
            days_back: self.days_back.unwrap_or(d.days_back),
            email: self.email.unwrap_or(d.email),
            password: self.password.unwrap_or(d.password),
            account_name: self.account_name.unwrap_or(d.account_name),
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let cli = Cli::parse();
    let bind = cli.bind.clone();
    let config = cli.config();
    let sim = bizreach_sim::start(config.clone(), &bind).await?;
    print_banner(&sim.base_url(), &config);
    tokio::signal::ctrl_c().await?;
    println!("stopping");
    sim.stop().await;
    Ok(())
}

/// Where to reach it and how to sign in; the password is shown here only.
fn print_banner(url: &str, config: &SimConfig) {
    println!("bizreach-sim listening on {url}");
    println!(
        "  sign in:  email {:?}, password {:?}",
        config.email, config.password
    );
    println!(
        "  data:     {} group accounts x {} applications over {} days (seed {})",
        config.groups, config.applications_per_group, config.days_back, config.seed
    );
    println!("  hirelay:  HIRELAY_BIZREACH_URL={url}");
    println!("  control:  {url}/_sim/stats, {url}/_sim/status-log (see examples/README.md)");
}
