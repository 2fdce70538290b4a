//! keyspaces-doctor: finds which misconfiguration breaks an Amazon Keyspaces connection.
#![forbid(unsafe_code)]

pub mod cql;
pub mod secret;
pub mod sigv4;
