//! The `bureau` binary: parses the command line and hands over to the library crates.
//! It stays thin: every behaviour lives in `bureau-server` or `bureau-turn`.
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod turn_cmd;

/// Bureau: a self-hosted, privacy-first virtual office.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run Bureau: web app, API and signaling (zero configuration needed).
    Serve(ServeArgs),
    /// Run the STUN/TURN server alone.
    Turn(turn_cmd::TurnArgs),
    /// Maintenance of a data folder.
    Admin(AdminArgs),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// TOML configuration file.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data folder (database, master key, certificate).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Plain HTTP listener.
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<String>,
    /// HTTPS listener.
    #[arg(long, value_name = "ADDR:PORT")]
    tls_listen: Option<String>,
}

#[derive(clap::Args)]
struct AdminArgs {
    /// The PostgreSQL database of the deployment, as `database_url` in its configuration
    /// (default: the SQLite file in the data folder).
    #[arg(long, global = true, env = "BUREAU_DATABASE_URL", value_name = "URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a user; the password is read from standard input.
    CreateUser {
        /// Data folder.
        #[arg(long, value_name = "DIR", default_value = "./bureau-data")]
        data_dir: PathBuf,
        /// Email address.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Organisation slug (default: the first organisation).
        #[arg(long, value_name = "SLUG")]
        org: Option<String>,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
    },
    /// Re-wrap every organisation key under a fresh master key and replace the key file.
    RotateMasterKey {
        /// Data folder.
        #[arg(long, value_name = "DIR", default_value = "./bureau-data")]
        data_dir: PathBuf,
    },
    /// Write an organisation's keys to a file encrypted under a passphrase read from standard
    /// input (at least 12 characters), for reading exports without Bureau.
    ExportOrgKey {
        /// Data folder.
        #[arg(long, value_name = "DIR", default_value = "./bureau-data")]
        data_dir: PathBuf,
        /// Organisation slug (default: the first organisation).
        #[arg(long, value_name = "SLUG")]
        org: Option<String>,
        /// The key file to write (must not exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Write every record of an organisation to a file encrypted under its data key.
    ExportOrg {
        /// Data folder.
        #[arg(long, value_name = "DIR", default_value = "./bureau-data")]
        data_dir: PathBuf,
        /// Organisation slug (default: the first organisation).
        #[arg(long, value_name = "SLUG")]
        org: Option<String>,
        /// The export file to write (must not exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Decrypt an organisation export with its key file (passphrase from standard input), offline.
    DecryptExport {
        /// The organisation key file written by `export-org-key`.
        #[arg(long, value_name = "KEYFILE")]
        key: PathBuf,
        /// The export written by `export-org`.
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
        /// The readable JSON to write (must not exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Write an encrypted backup of the whole database (safe while Bureau runs).
    Backup {
        /// Data folder.
        #[arg(long, value_name = "DIR", default_value = "./bureau-data")]
        data_dir: PathBuf,
        /// The backup file to write (must not exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Copy a data folder's SQLite database into an empty PostgreSQL database, then verify it.
    MigrateToPostgres {
        /// Data folder (its master.key keeps working with the copy).
        #[arg(long = "from", value_name = "DATA_DIR")]
        from: PathBuf,
        /// The empty PostgreSQL database, e.g. postgres://bureau@/bureau?host=/run/postgresql
        #[arg(long = "to", value_name = "URL")]
        to: String,
    },
    /// Restore a backup into a data folder holding the installation's master key.
    Restore {
        /// Data folder.
        #[arg(long, value_name = "DIR", default_value = "./bureau-data")]
        data_dir: PathBuf,
        /// The backup written by `backup`.
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
        /// Replace an existing database (stop Bureau first).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print a documented example configuration file.
    Example,
}

/// Exit code for configuration and usage errors.
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => return serve(args),
        Command::Turn(args) => turn_cmd::run(args),
        Command::Admin(args) => admin(args),
        Command::Config(ConfigCommand::Example) => {
            print!("{}", bureau_server::Config::example());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

fn init_logs(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_ansi(ansi).with_writer(std::io::stderr).init();
}

fn serve(args: ServeArgs) -> ExitCode {
    let flags = bureau_server::Flags { config: args.config, data_dir: args.data_dir, listen: args.listen, tls_listen: args.tls_listen };
    let config = match bureau_server::Config::load(&flags) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    init_logs(&config.log);
    let run = async {
        let shutdown = bureau_server::shutdown_signal();
        let server = bureau_server::Server::start(config).await?;
        // Written with `writeln!` so a closed stdout (a supervisor gone) cannot panic the server.
        let mut out = std::io::stdout();
        let _ = writeln!(out, "Bureau is running: http://{} and https://{}", server.http_addr(), server.https_addr());
        if let Some(metrics) = server.metrics_addr() {
            let _ = writeln!(out, "metrics http://{metrics}/metrics");
        }
        if let Some(link) = server.setup_link() {
            let _ = writeln!(out, "Set up the first administrator (the link works once): {link}");
        }
        server.run(shutdown).await;
        anyhow::Ok(())
    };
    match runtime().and_then(|rt| rt.block_on(run)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn admin(args: AdminArgs) -> anyhow::Result<()> {
    init_logs("warn");
    let url = args.database_url.as_deref();
    match args.command {
        AdminCommand::CreateUser { data_dir, email, name, org, admin } => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\n', '\r']).to_owned();
            let user = runtime()?.block_on(bureau_server::data::create_user(&data_dir, url, org.as_deref(), &name, &email, admin, password))?;
            println!("created user {}", user.id);
        }
        AdminCommand::RotateMasterKey { data_dir } => {
            let count = runtime()?.block_on(bureau_server::data::rotate_master_key(&data_dir, url))?;
            println!("rotated the master key: {count} organisation keys re-wrapped");
        }
        AdminCommand::ExportOrgKey { data_dir, org, out } => {
            let passphrase = read_passphrase()?;
            let written = runtime()?.block_on(bureau_server::keys::export_org_key(&data_dir, url, org.as_deref(), &out, &passphrase))?;
            println!("wrote the keys of organisation {} to {}: keep it and its passphrase apart from the exports", written.org_slug, out.display());
        }
        AdminCommand::ExportOrg { data_dir, org, out } => {
            let written = runtime()?.block_on(bureau_server::keys::export_org(&data_dir, url, org.as_deref(), &out))?;
            println!("wrote the encrypted export of organisation {} to {} ({} bytes)", written.org_slug, out.display(), written.bytes);
        }
        AdminCommand::DecryptExport { key, input, out } => {
            let passphrase = read_passphrase()?;
            let written = bureau_server::keys::decrypt_export(&key, &input, &out, &passphrase)?;
            println!("wrote the readable data of organisation {} to {} ({} bytes)", written.org_slug, out.display(), written.bytes);
        }
        AdminCommand::Backup { data_dir, out } => {
            let written = bureau_server::keys::backup(&data_dir, url, &out)?;
            println!("wrote an encrypted backup to {} ({} bytes); the master key is not in it", out.display(), written.bytes);
        }
        AdminCommand::Restore { data_dir, input, force } => {
            bureau_server::keys::restore(&data_dir, url, &input, force)?;
            println!("restored the database into {}", data_dir.display());
        }
        AdminCommand::MigrateToPostgres { from, to } => {
            let progress = |table: &str, rows: u64| println!("copied {table}: {rows} rows");
            let report = runtime()?.block_on(bureau_server::migrate::to_postgres(&from, &to, &progress))?;
            println!(
                "verified: {} tables with equal row counts, {} users read and decrypted alike on both databases",
                report.tables, report.users_checked
            );
            println!(
                "done. Every node must now use database_url = \"<this URL>\" and the master key {} (copy that file to each node's data folder)",
                from.join("master.key").display()
            );
        }
    }
    Ok(())
}

/// The passphrase: the first line of standard input (prompted for on a terminal).
fn read_passphrase() -> anyhow::Result<String> {
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprint!("Passphrase of the organisation key file (at least 12 characters): ");
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}
