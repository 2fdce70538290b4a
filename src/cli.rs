//! The command line: every subcommand and flag, defined once (the binary, the help
//! snapshots and the completions all read it). Parses; runs nothing.
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "keyspaces-doctor",
    version,
    about = "Finds which misconfiguration breaks an Amazon Keyspaces connection (authentication, permissions, TLS) and how to fix it"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve a faithful local Amazon Keyspaces (CQL v4 over TLS, SigV4, IAM denials, STS) for one scenario.
    Lab(LabArgs),
}

#[derive(Debug, Args)]
pub struct LabArgs {
    /// The scenario to serve (see --list).
    #[arg(long, env = "KEYSPACES_DOCTOR_SCENARIO", default_value = "healthy")]
    pub scenario: String,
    /// Print the scenario names, one a line, and exit.
    #[arg(long)]
    pub list: bool,
    /// Where to write the CA bundle and other files (it may exist; nothing in it is removed).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Address of the CQL endpoint; peers listen on 127.0.0.2 and up, on the same port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Allow listening on an address that is not loopback.
    #[arg(long)]
    pub allow_non_loopback: bool,
}
