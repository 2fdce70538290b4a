//! IAM as Keyspaces uses it: ARNs of keyspaces and tables, and a local evaluator of
//! identity policies. Shared by the lab (to decide) and the diagnosis (to explain).
//! Must not do I/O.
pub mod arn;
pub mod condition;
pub mod operations;
pub mod policy;

pub use arn::{Partition, ResourceArn};
pub use condition::RequestContext;
pub use policy::{Decision, NamedPolicy, PolicyDocument, evaluate, evaluate_in};
