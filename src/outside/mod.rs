//! The boundary with everything that comes from outside the program: files read with a
//! byte cap and without blocking, text made safe to show (control characters escaped,
//! length capped), and values made safe to paste into a shell or a SQL literal. Owns no
//! knowledge of Keyspaces; probes, config readers, reports and `explain` call it.
pub mod file;

/// Environment variables, by name: the process's, or a test's.
pub type Env = dyn Fn(&str) -> Option<String> + Send + Sync;
pub mod shell;
pub mod text;
