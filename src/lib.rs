//! keyspaces-doctor: finds which misconfiguration breaks an Amazon Keyspaces connection.
#![forbid(unsafe_code)]

pub mod assets;
pub mod cli;
pub mod cql;
pub mod iam;
pub mod lab;
pub mod logging;
pub mod secret;
pub mod sigv4;
