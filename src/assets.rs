//! The data files embedded at build time (`assets/`): scenarios, Keyspaces' roots and
//! the decision tree, by file stem. Owns nothing but the lookup.
include!(concat!(env!("OUT_DIR"), "/assets.rs"));
