//! The command line: `serve` (default), `migrate`, `admin create`, `admin unlock`,
//! `openapi`, `import beneficiaries`, `export`, `demo`.

use std::io::BufRead;

use clap::{Parser, Subcommand};

use crate::app::exports::{self, ExportFormat, ExportQuery};
use crate::app::import::{FileKind, Importer, Mode, ReaderSource};
use crate::app::staff::{self, CreateStaffRequest, NewStaffAccount};
use crate::db::{self, audit::Actor, Db};
use crate::domain::RegionCode;
use crate::settings::Settings;
use crate::startup::{self, Application};

#[derive(Parser)]
#[command(
    name = "yongjun",
    version,
    about = "Yongjun (拥军) partner-merchant discount network backend"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage staff accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Print the OpenAPI document (YAML).
    Openapi,
    /// Bulk-load data from files.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Export merchants, redemptions, beneficiaries or the figures to a file (as
    /// `GET /api/v1/admin/exports/{kind}`, without a region limit unless `--region`).
    Export {
        /// merchants, redemptions, beneficiaries, stats or tasks (台账).
        kind: String,
        /// xlsx or csv.
        #[arg(long, default_value = "xlsx")]
        format: String,
        /// Region code (GB/T 2260): its whole subtree.
        #[arg(long)]
        region: Option<String>,
        /// First day, YYYY-MM-DD (China time), inclusive.
        #[arg(long)]
        from: Option<String>,
        /// Last day, YYYY-MM-DD (China time), inclusive.
        #[arg(long)]
        to: Option<String>,
        /// The file to write.
        #[arg(long)]
        output: std::path::PathBuf,
    },
    /// Fill an empty SQLite database with a demo world (offices, partners, holders,
    /// months of redemptions), print how to sign in, then serve like `serve`.
    Demo,
    /// Exit 0 when the API at `--url` answers GET /healthz with 200 (container health checks).
    Healthcheck {
        #[arg(long, default_value = "http://127.0.0.1:8080/healthz")]
        url: String,
    },
}

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import beneficiaries from a CSV (streamed) or XLSX file; same columns as the API.
    Beneficiaries {
        file: std::path::PathBuf,
        /// all_or_nothing (default) or partial.
        #[arg(long, default_value = "all_or_nothing")]
        mode: String,
    },
}

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create a staff account; the password is read from the first line of stdin.
    Create {
        #[arg(long)]
        username: String,
        /// super_admin, region_admin, reviewer or auditor.
        #[arg(long)]
        role: String,
        /// Region code (GB/T 2260), required for every role but super_admin.
        #[arg(long)]
        region: Option<String>,
        /// Department, required for reviewers.
        #[arg(long)]
        department: Option<String>,
    },
    /// Forget an account's failed sign-ins from every address, so that it can sign in
    /// again at once (audited as `staff.unlock`).
    Unlock {
        /// The account's user name.
        username: String,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    // Logging first, so that what settings say (a generated secret) is seen.
    crate::telemetry::init_tracing(crate::settings::Environment::from_env()?);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Healthcheck { url } => healthcheck(&url),
        Command::Import {
            command: ImportCommand::Beneficiaries { file, mode },
        } => import_beneficiaries(&file, &mode).await,
        Command::Export {
            kind,
            format,
            region,
            from,
            to,
            output,
        } => {
            let query = ExportQuery {
                format: Some(format),
                region,
                from,
                to,
            };
            export(&kind, &query, &output).await
        }
        Command::Demo => demo().await,
        Command::Openapi => {
            print!("{}", startup::openapi_yaml()?);
            Ok(())
        }
        Command::Serve => {
            let settings = Settings::from_env()?;
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), "listening");
            app.run_until_stopped().await?;
            Ok(())
        }
        Command::Migrate => {
            let settings = Settings::from_env()?;
            let applied = db::run_migrations(&settings.database).await?;
            println!(
                "applied {} migration(s) on {}",
                applied.len(),
                settings.database.backend_name()
            );
            for version in applied {
                println!("  {version}");
            }
            Ok(())
        }
        Command::Admin {
            command: AdminCommand::Unlock { username },
        } => unlock(&username).await,
        Command::Admin {
            command:
                AdminCommand::Create {
                    username,
                    role,
                    region,
                    department,
                },
        } => {
            let settings = Settings::from_env()?;
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            let password = line.trim_end_matches(['\r', '\n']).to_owned();
            if let Some(region) = &region {
                RegionCode::parse(region).map_err(|m| anyhow::anyhow!("--region {m}"))?;
            }
            let request = CreateStaffRequest {
                username,
                password,
                role,
                region_code: region,
                department,
            };
            let account = NewStaffAccount::parse(&request, &settings.required_departments)
                .map_err(|e| anyhow::anyhow!(e.describe()))?;
            db::run_migrations(&settings.database).await?;
            let pool = Db::connect(&settings.database, 1).await?;
            let row = staff::create_account(&pool, &cli_actor(), account)
                .await
                .map_err(|e| anyhow::anyhow!(e.describe()))?;
            println!("created {} ({}) id {}", row.username, row.role, row.id);
            Ok(())
        }
    }
}

/// `yongjun demo`: refuses a database with merchants (and anything but the embedded
/// SQLite default), builds the world through the use cases, prints how to sign in as
/// each role, and serves.
async fn demo() -> anyhow::Result<()> {
    use crate::app::demo;
    let mut settings = Settings::from_env()?;
    if !matches!(settings.database, db::DatabaseTarget::Sqlite(_)) {
        anyhow::bail!(
            "the demo runs only on the embedded SQLite default: unset DATABASE_URL \
             (a demo never writes into an office's database)"
        );
    }
    db::run_migrations(&settings.database).await?;
    let first_start = {
        let pool = Db::connect(&settings.database, 1).await?;
        demo::ensure_empty(&pool).await?
    };
    let admin_password = match (&settings.bootstrap_admin_password, first_start) {
        (_, false) => "(unchanged: the account existed before)".to_string(),
        (Some(_), true) => "the value of YONGJUN_BOOTSTRAP_ADMIN_PASSWORD".to_string(),
        (None, true) => {
            settings.bootstrap_admin_password =
                Some(secrecy::SecretString::from(demo::ADMIN_PASSWORD));
            demo::ADMIN_PASSWORD.to_string()
        }
    };
    let data_dir = settings.data_dir.clone();
    let bind = settings.bind;
    let started = std::time::Instant::now();
    let app = Application::build(settings).await?;
    let state = app.state();
    let world = demo::build(&state.demo()).await?;
    let base = format!("http://{}:{}", bind.ip(), app.port());
    let join = |pairs: &[(String, i64)]| {
        pairs
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "\nYongjun demo: 鹏军百宝箱 (深圳 罗湖区, 福田区) and 爱国拥军联盟 (沁水县), built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!(
        "  {} merchants: {}",
        world.merchants,
        join(&world.merchants_by_status)
    );
    println!(
        "  {} offers, {} beneficiaries, cards: {}",
        world.offers,
        world.beneficiaries,
        join(&world.cards_by_product)
    );
    println!(
        "  {} redemptions in {} months ({} to {}), {} complaints, a spot check",
        world.redemptions,
        world.months.len(),
        world.months.first().map_or("-", String::as_str),
        world.months.last().map_or("-", String::as_str),
        world.complaints
    );
    println!("\nConsole  {base}/   sign in as:");
    println!(
        "  {:<16} password {:<22} super administrator",
        "admin", admin_password
    );
    for account in &world.accounts {
        println!(
            "  {:<16} password {:<22} {}",
            account.username, account.password, account.what
        );
    }
    println!("\nTill     {base}/till");
    println!(
        "  terminal key of {}: {}",
        world.partner, world.terminal_key
    );
    println!("\nCard     {base}/card");
    println!(
        "  card number {}, activation code {} (a 沁水县 veteran's 拥军优待卡, not yet activated)",
        world.card_no, world.activation_code
    );
    println!(
        "\nServing until Ctrl-C; the data stays in {}.",
        data_dir.display()
    );
    app.run_until_stopped().await?;
    Ok(())
}

/// `yongjun admin unlock USER`: prints what it cleared.
async fn unlock(username: &str) -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    db::run_migrations(&settings.database).await?;
    let pool = Db::connect(&settings.database, 1).await?;
    let unlocked = staff::unlock(&pool, &cli_actor(), username)
        .await
        .map_err(|e| anyhow::anyhow!(e.describe()))?;
    println!(
        "unlocked {} ({}): cleared {} failed sign-ins from {} address(es)",
        unlocked.account.username,
        unlocked.account.id,
        unlocked.failures,
        unlocked.addresses.len()
    );
    for address in &unlocked.addresses {
        let client = match address.client.as_str() {
            "" => "(address not recorded)",
            client => client,
        };
        let locked = if address.locked { " (locked)" } else { "" };
        println!("  {client}: {}{locked}", address.failures);
    }
    Ok(())
}

/// `yongjun export`: the same checks and writers as the API, recorded in the audit log
/// under the operating-system user.
async fn export(kind: &str, query: &ExportQuery, output: &std::path::Path) -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    let today = crate::app::Clock::from_setting(settings.today).today();
    let plan =
        exports::plan(kind, query, None, today).map_err(|e| anyhow::anyhow!(e.describe()))?;
    db::run_migrations(&settings.database).await?;
    let pool = Db::connect(&settings.database, 1).await?;
    let mut pooled = pool.get().await?;
    exports::record(&mut pooled.conn(), &cli_actor(), &plan)
        .await
        .map_err(|e| anyhow::anyhow!(e.describe()))?;
    let started = std::time::Instant::now();
    let rows = match plan.format {
        ExportFormat::Xlsx => {
            exports::write_xlsx(&mut pooled.conn(), &plan.request, output).await?
        }
        ExportFormat::Csv => {
            use tokio::io::AsyncWriteExt;
            let file = tokio::fs::File::create(output)
                .await
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", output.display()))?;
            let mut file = tokio::io::BufWriter::new(file);
            let (tx, mut rx) = tokio::sync::mpsc::channel(4);
            let write = async move {
                while let Some(bytes) = rx.recv().await {
                    let bytes: bytes::Bytes = bytes?;
                    file.write_all(&bytes).await?;
                }
                file.flush().await?;
                Ok::<_, std::io::Error>(())
            };
            let mut conn = pooled.conn();
            let (rows, written) =
                tokio::join!(exports::write_csv(&mut conn, &plan.request, tx), write);
            written.map_err(|e| anyhow::anyhow!("writing {}: {e}", output.display()))?;
            rows?
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{rows} rows to {} in {seconds:.1} s ({:.0} rows/s)",
        output.display(),
        rows as f64 / seconds.max(0.001)
    );
    Ok(())
}

/// The command line acts as the operating-system user.
fn cli_actor() -> Actor {
    Actor {
        id: None,
        label: format!(
            "cli:{}",
            std::env::var("USER").unwrap_or_else(|_| "unknown".into())
        ),
    }
}

/// A plain HTTP/1.0 GET, so the runtime image needs no curl.
fn healthcheck(url: &str) -> anyhow::Result<()> {
    use std::io::{Read, Write};
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow::anyhow!("--url must start with http://"))?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut stream = std::net::TcpStream::connect(authority)?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(3)))?;
    write!(stream, "GET /{path} HTTP/1.0\r\nHost: {authority}\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status_line = response.lines().next().unwrap_or_default();
    if status_line.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        anyhow::bail!("unhealthy: {status_line}")
    }
}

async fn import_beneficiaries(path: &std::path::Path, mode: &str) -> anyhow::Result<()> {
    let mode = Mode::parse(mode)
        .ok_or_else(|| anyhow::anyhow!("--mode must be all_or_nothing or partial"))?;
    let settings = Settings::from_env()?;
    db::run_migrations(&settings.database).await?;
    let (pool, cache) = startup::connect(&settings, 2).await?;
    let cipher = crate::crypto::DataCipher::new(crate::settings::expose_key(&settings.data_key));
    let mut file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    let mut magic = [0u8; 4];
    let read = std::io::Read::read(&mut file, &mut magic)?;
    std::io::Seek::rewind(&mut file)?;
    let kind = FileKind::detect(path.to_str(), &magic[..read]);
    let (header, batches) = crate::app::import::start_reader(kind, ReaderSource::File(file))
        .await
        .map_err(|e| anyhow::anyhow!(e.describe()))?;
    let importer = Importer {
        cipher: &cipher,
        cache: &cache,
        actor: cli_actor(),
        scope: None,
        mode,
    };
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {elapsed_precise} {pos} rows ({per_sec})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let started = std::time::Instant::now();
    let report = importer
        .run(&pool, &header, batches, |rows| {
            bar.set_position(rows as u64)
        })
        .await
        .map_err(|e| anyhow::anyhow!(e.describe()))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{} rows in {:.1} s ({:.0} rows/s): created {}, updated {}, unchanged {}, failed {}{}",
        report.rows,
        seconds,
        report.rows as f64 / seconds.max(0.001),
        report.created,
        report.updated,
        report.unchanged,
        report.failed_count,
        if report.stored || report.failed_count == 0 {
            ""
        } else {
            " — nothing stored (all_or_nothing)"
        }
    );
    for failure in report.failed.iter().take(20) {
        let errors: Vec<String> = failure
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        println!("  row {}: {}", failure.row, errors.join("; "));
    }
    if report.failed_count > 20 {
        println!("  … and {} more failed rows", report.failed_count - 20);
    }
    if report.failed_count > 0 {
        std::process::exit(2);
    }
    Ok(())
}
