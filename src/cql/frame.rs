//! CQL v4 frames: the 9-byte header, opcodes, and the `[short]`/`[string]`/`[bytes]`
//! primitives of the body. Reading is capped: a length field never decides how much
//! memory is allocated beyond the caller's limit. Knows nothing of what a body means.
use tokio::io::{AsyncRead, AsyncReadExt};

/// Bit set in the version byte of frames sent by the server.
pub const RESPONSE_FLAG: u8 = 0x80;
/// The protocol version Amazon Keyspaces speaks.
pub const PROTOCOL_V4: u8 = 4;
/// Size of a v3+ frame header.
pub const HEADER_LEN: usize = 9;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Opcode {
    Error = 0x00,
    Startup = 0x01,
    Ready = 0x02,
    Authenticate = 0x03,
    Options = 0x05,
    Supported = 0x06,
    Query = 0x07,
    Result = 0x08,
    Prepare = 0x09,
    Execute = 0x0A,
    Register = 0x0B,
    Event = 0x0C,
    Batch = 0x0D,
    AuthChallenge = 0x0E,
    AuthResponse = 0x0F,
    AuthSuccess = 0x10,
}

impl Opcode {
    pub fn from_byte(b: u8) -> Option<Opcode> {
        use Opcode::*;
        Some(match b {
            0x00 => Error,
            0x01 => Startup,
            0x02 => Ready,
            0x03 => Authenticate,
            0x05 => Options,
            0x06 => Supported,
            0x07 => Query,
            0x08 => Result,
            0x09 => Prepare,
            0x0A => Execute,
            0x0B => Register,
            0x0C => Event,
            0x0D => Batch,
            0x0E => AuthChallenge,
            0x0F => AuthResponse,
            0x10 => AuthSuccess,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        use Opcode::*;
        match self {
            Error => "ERROR",
            Startup => "STARTUP",
            Ready => "READY",
            Authenticate => "AUTHENTICATE",
            Options => "OPTIONS",
            Supported => "SUPPORTED",
            Query => "QUERY",
            Result => "RESULT",
            Prepare => "PREPARE",
            Execute => "EXECUTE",
            Register => "REGISTER",
            Event => "EVENT",
            Batch => "BATCH",
            AuthChallenge => "AUTH_CHALLENGE",
            AuthResponse => "AUTH_RESPONSE",
            AuthSuccess => "AUTH_SUCCESS",
        }
    }
}

/// One frame as read from the wire.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Version byte without the response bit.
    pub version: u8,
    pub is_response: bool,
    pub flags: u8,
    pub stream: i16,
    pub opcode: u8,
    pub body: Vec<u8>,
}

impl Frame {
    pub fn opcode(&self) -> Option<Opcode> {
        Opcode::from_byte(self.opcode)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("connection closed by the peer")]
    Closed,
    #[error("i/o error while reading a frame: {0}")]
    Io(#[from] std::io::Error),
    #[error("frame body of {claimed} bytes exceeds the limit of {limit} bytes")]
    TooLarge { claimed: u64, limit: usize },
    #[error("frame body is malformed: {0}")]
    Malformed(String),
}

/// Reads one frame, refusing bodies larger than `max_body`.
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R, max_body: usize) -> Result<Frame, FrameError> {
    let mut header = [0u8; HEADER_LEN];
    match r.read_exact(&mut header[..1]).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Err(FrameError::Closed),
        Err(e) => return Err(e.into()),
    }
    r.read_exact(&mut header[1..]).await?;
    let (frame, len) = parse_header(&header)?;
    if len as u64 > max_body as u64 {
        return Err(FrameError::TooLarge {
            claimed: len as u64,
            limit: max_body,
        });
    }
    let mut frame = frame;
    frame.body = vec![0u8; len];
    r.read_exact(&mut frame.body).await?;
    Ok(frame)
}

/// Splits a 9-byte header into a body-less frame and the body length it announces.
pub fn parse_header(header: &[u8; HEADER_LEN]) -> Result<(Frame, usize), FrameError> {
    let version = header[0] & !RESPONSE_FLAG;
    let is_response = header[0] & RESPONSE_FLAG != 0;
    let len = i32::from_be_bytes([header[5], header[6], header[7], header[8]]);
    if len < 0 {
        return Err(FrameError::Malformed(format!("negative body length {len}")));
    }
    Ok((
        Frame {
            version,
            is_response,
            flags: header[1],
            stream: i16::from_be_bytes([header[2], header[3]]),
            opcode: header[4],
            body: Vec::new(),
        },
        len as usize,
    ))
}

/// Encodes a whole frame.
pub fn encode_frame(version_byte: u8, flags: u8, stream: i16, opcode: Opcode, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.push(version_byte);
    out.push(flags);
    out.extend_from_slice(&stream.to_be_bytes());
    out.push(opcode as u8);
    out.extend_from_slice(&(body.len() as i32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// Reads the primitives of a frame body; every read is bounds-checked.
pub struct BodyReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> BodyReader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        BodyReader { buf, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], FrameError> {
        if self.remaining() < n {
            return Err(FrameError::Malformed(format!(
                "{what} needs {n} bytes, only {} left",
                self.remaining()
            )));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn byte(&mut self) -> Result<u8, FrameError> {
        Ok(self.take(1, "[byte]")?[0])
    }

    pub fn short(&mut self) -> Result<u16, FrameError> {
        let b = self.take(2, "[short]")?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn int(&mut self) -> Result<i32, FrameError> {
        let b = self.take(4, "[int]")?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn long(&mut self) -> Result<i64, FrameError> {
        let b = self.take(8, "[long]")?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }

    pub fn string(&mut self) -> Result<String, FrameError> {
        let n = self.short()? as usize;
        let b = self.take(n, "[string]")?;
        String::from_utf8(b.to_vec()).map_err(|_| FrameError::Malformed("[string] is not UTF-8".into()))
    }

    pub fn long_string(&mut self) -> Result<String, FrameError> {
        let n = self.int()?;
        if n < 0 {
            return Err(FrameError::Malformed("negative [long string] length".into()));
        }
        let b = self.take(n as usize, "[long string]")?;
        String::from_utf8(b.to_vec()).map_err(|_| FrameError::Malformed("[long string] is not UTF-8".into()))
    }

    /// `[bytes]`: `None` for a negative length (null).
    pub fn bytes(&mut self) -> Result<Option<&'a [u8]>, FrameError> {
        let n = self.int()?;
        if n < 0 {
            return Ok(None);
        }
        Ok(Some(self.take(n as usize, "[bytes]")?))
    }

    pub fn short_bytes(&mut self) -> Result<&'a [u8], FrameError> {
        let n = self.short()? as usize;
        self.take(n, "[short bytes]")
    }

    pub fn string_list(&mut self) -> Result<Vec<String>, FrameError> {
        let n = self.short()?;
        (0..n).map(|_| self.string()).collect()
    }

    pub fn string_map(&mut self) -> Result<Vec<(String, String)>, FrameError> {
        let n = self.short()?;
        (0..n).map(|_| Ok((self.string()?, self.string()?))).collect()
    }

    pub fn string_multimap(&mut self) -> Result<Vec<(String, Vec<String>)>, FrameError> {
        let n = self.short()?;
        (0..n).map(|_| Ok((self.string()?, self.string_list()?))).collect()
    }

    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }
}

/// Builds a frame body.
#[derive(Default)]
pub struct BodyWriter {
    pub buf: Vec<u8>,
}

impl BodyWriter {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn byte(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }
    pub fn short(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn int(&mut self, v: i32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn long(&mut self, v: i64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn string(&mut self, s: &str) -> &mut Self {
        self.short(s.len() as u16);
        self.buf.extend_from_slice(s.as_bytes());
        self
    }
    pub fn long_string(&mut self, s: &str) -> &mut Self {
        self.int(s.len() as i32);
        self.buf.extend_from_slice(s.as_bytes());
        self
    }
    pub fn bytes(&mut self, b: Option<&[u8]>) -> &mut Self {
        match b {
            Some(b) => {
                self.int(b.len() as i32);
                self.buf.extend_from_slice(b);
            }
            None => {
                self.int(-1);
            }
        }
        self
    }
    pub fn short_bytes(&mut self, b: &[u8]) -> &mut Self {
        self.short(b.len() as u16);
        self.buf.extend_from_slice(b);
        self
    }
    pub fn string_list(&mut self, l: &[&str]) -> &mut Self {
        self.short(l.len() as u16);
        for s in l {
            self.string(s);
        }
        self
    }
    pub fn string_map(&mut self, m: &[(&str, &str)]) -> &mut Self {
        self.short(m.len() as u16);
        for (k, v) in m {
            self.string(k);
            self.string(v);
        }
        self
    }
    pub fn string_multimap(&mut self, m: &[(&str, &[&str])]) -> &mut Self {
        self.short(m.len() as u16);
        for (k, v) in m {
            self.string(k);
            self.string_list(v);
        }
        self
    }
    pub fn into_inner(self) -> Vec<u8> {
        self.buf
    }
}

/// CQL consistency levels by their wire code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consistency {
    Any,
    One,
    Two,
    Three,
    Quorum,
    All,
    LocalQuorum,
    EachQuorum,
    Serial,
    LocalSerial,
    LocalOne,
}

impl Consistency {
    pub fn from_code(c: u16) -> Option<Self> {
        use Consistency::*;
        Some(match c {
            0x0000 => Any,
            0x0001 => One,
            0x0002 => Two,
            0x0003 => Three,
            0x0004 => Quorum,
            0x0005 => All,
            0x0006 => LocalQuorum,
            0x0007 => EachQuorum,
            0x0008 => Serial,
            0x0009 => LocalSerial,
            0x000A => LocalOne,
            _ => return None,
        })
    }

    pub fn code(self) -> u16 {
        use Consistency::*;
        match self {
            Any => 0,
            One => 1,
            Two => 2,
            Three => 3,
            Quorum => 4,
            All => 5,
            LocalQuorum => 6,
            EachQuorum => 7,
            Serial => 8,
            LocalSerial => 9,
            LocalOne => 10,
        }
    }

    pub fn name(self) -> &'static str {
        use Consistency::*;
        match self {
            Any => "ANY",
            One => "ONE",
            Two => "TWO",
            Three => "THREE",
            Quorum => "QUORUM",
            All => "ALL",
            LocalQuorum => "LOCAL_QUORUM",
            EachQuorum => "EACH_QUORUM",
            Serial => "SERIAL",
            LocalSerial => "LOCAL_SERIAL",
            LocalOne => "LOCAL_ONE",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trips_a_frame_and_caps_its_length() {
        let mut w = BodyWriter::new();
        w.string_map(&[("CQL_VERSION", "3.0.0")]);
        let bytes = encode_frame(4, 0, 7, Opcode::Startup, &w.buf);
        let f = read_frame(&mut &bytes[..], 1024).await.unwrap();
        assert_eq!((f.version, f.stream, f.opcode()), (4, 7, Some(Opcode::Startup)));
        let m = BodyReader::new(&f.body).string_map().unwrap();
        assert_eq!(m, vec![("CQL_VERSION".to_string(), "3.0.0".to_string())]);
        let mut huge = encode_frame(4, 0, 1, Opcode::Query, &[]);
        huge[5..9].copy_from_slice(&i32::MAX.to_be_bytes());
        assert!(matches!(
            read_frame(&mut &huge[..], 1024).await,
            Err(FrameError::TooLarge { .. })
        ));
    }

    #[test]
    fn truncated_bodies_are_errors_not_panics() {
        let mut r = BodyReader::new(&[0, 10, b'a']);
        assert!(r.string().is_err());
        let mut r = BodyReader::new(&[0xff, 0xff, 0xff, 0xfe]);
        assert!(r.long_string().is_err());
    }
}
