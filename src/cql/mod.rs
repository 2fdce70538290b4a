//! The CQL native protocol v4 wire format, both directions. Owns framing and the body
//! primitives; must not know about sockets' policies, authentication or tables.
pub mod frame;
pub mod result;
pub mod value;

pub use frame::{BodyReader, BodyWriter, Frame, FrameError, Opcode, read_frame};
