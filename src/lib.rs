//! keyspaces-doctor: finds which misconfiguration breaks an Amazon Keyspaces connection.
#![forbid(unsafe_code)]

pub mod assets;
pub mod cli;
pub mod cql;
pub mod cqlshrc;
pub mod diagnosis;
pub mod digest;
pub mod driver_config;
pub mod evidence;
pub mod explain;
pub mod fleet;
pub mod iam;
pub mod lab;
pub mod leaf_id;
pub mod logging;
pub mod outside;
pub mod probe;
pub mod report;
pub mod secret;
pub mod sigv4;
pub mod target;
pub mod train;
pub mod trust;
pub mod tui;
pub mod walk;
