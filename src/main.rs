//! The binary's edge: parse the command line, set up logging and errors, run one face.
#![forbid(unsafe_code)]
use clap::Parser;
use keyspaces_doctor::cli::{Cli, Command, LabArgs};
use keyspaces_doctor::{lab, logging};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = color_eyre::install();
    logging::init();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Some(Command::Lab(args)) => rt.block_on(run_lab(args)),
        None => {
            eprintln!("error: no command given; try `keyspaces-doctor --help`");
            ExitCode::from(2)
        }
    }
}

async fn run_lab(args: LabArgs) -> ExitCode {
    if args.list {
        let mut out = std::io::stdout().lock();
        for (name, _) in keyspaces_doctor::assets::SCENARIO_FILES {
            let _ = writeln!(out, "{name}");
        }
        return ExitCode::SUCCESS;
    }
    let dir = args
        .dir
        .unwrap_or_else(|| std::env::temp_dir().join(format!("keyspaces-doctor-lab-{}", std::process::id())));
    let opts = lab::LabOptions {
        scenario: args.scenario,
        dir,
        listen: args.listen,
        allow_non_loopback: args.allow_non_loopback,
    };
    let running = match lab::start(opts).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let line = serde_json::to_string(&running.descriptor).unwrap_or_default();
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
    wait_for_shutdown().await;
    drop(running);
    ExitCode::SUCCESS
}

async fn wait_for_shutdown() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
