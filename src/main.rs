use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// PolyStatus: a self-hosted incident status platform.
#[derive(Parser)]
#[command(name = "polystatus", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the whole platform in this process (and a Redis when none answers at REDIS_URL).
    Up {
        /// Where the embedded Redis and the signing key keep their files.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
    },
    /// Write or check the OpenAPI document of every service.
    Openapi {
        /// Write swaggers/<service>.yaml from the code.
        #[arg(long, conflicts_with = "check")]
        write: bool,
        /// Fail when a committed document differs from the code.
        #[arg(long)]
        check: bool,
        #[arg(long, default_value = "swaggers")]
        dir: PathBuf,
    },
    /// Exit 0 when an http:// URL answers 2xx (for container health checks).
    Healthcheck {
        #[arg(default_value = "http://127.0.0.1:8080/health/ready")]
        url: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    platform::telemetry::init(platform::telemetry::format_from_env());
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Up { data_dir } => polystatus::up::run(&data_dir).await,
        Command::Openapi { write, check, dir } => openapi(write, check, &dir),
        Command::Healthcheck { url } => polystatus::healthcheck::check(&url, std::time::Duration::from_secs(3)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn openapi(write: bool, check: bool, dir: &std::path::Path) -> anyhow::Result<()> {
    if write {
        for file in polystatus::openapi::write(dir)? {
            println!("wrote {}", file.display());
        }
        return Ok(());
    }
    let stale = polystatus::openapi::check(dir)?;
    if stale.is_empty() {
        if !check {
            println!("every OpenAPI document in {} is current", dir.display());
        }
        return Ok(());
    }
    anyhow::bail!("{}\nrun: cargo run -- openapi --write", stale.join("\n"))
}
