//! CQL column types and cell values as they travel in RESULT rows and bound values.
//! Owns their binary encoding only; must not know about tables or queries.
use super::frame::{BodyReader, BodyWriter, FrameError};
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CqlType {
    Ascii,
    Bigint,
    Blob,
    Boolean,
    Double,
    Int,
    Timestamp,
    Uuid,
    Varchar,
    Timeuuid,
    Inet,
    List(Box<CqlType>),
    Map(Box<CqlType>, Box<CqlType>),
    Set(Box<CqlType>),
}

impl CqlType {
    /// Parses a CQL type name such as `text`, `set<text>` or `map<text, blob>`.
    pub fn parse(s: &str) -> Option<CqlType> {
        let s = s.trim().to_ascii_lowercase();
        if let Some(inner) = s.strip_prefix("frozen<").and_then(|r| r.strip_suffix('>')) {
            return CqlType::parse(inner);
        }
        if let Some(inner) = s.strip_prefix("set<").and_then(|r| r.strip_suffix('>')) {
            return Some(CqlType::Set(Box::new(CqlType::parse(inner)?)));
        }
        if let Some(inner) = s.strip_prefix("list<").and_then(|r| r.strip_suffix('>')) {
            return Some(CqlType::List(Box::new(CqlType::parse(inner)?)));
        }
        if let Some(inner) = s.strip_prefix("map<").and_then(|r| r.strip_suffix('>')) {
            let (k, v) = inner.split_once(',')?;
            return Some(CqlType::Map(Box::new(CqlType::parse(k)?), Box::new(CqlType::parse(v)?)));
        }
        Some(match s.as_str() {
            "ascii" => CqlType::Ascii,
            "bigint" => CqlType::Bigint,
            "blob" => CqlType::Blob,
            "boolean" => CqlType::Boolean,
            "double" => CqlType::Double,
            "int" => CqlType::Int,
            "timestamp" => CqlType::Timestamp,
            "uuid" => CqlType::Uuid,
            "text" | "varchar" => CqlType::Varchar,
            "timeuuid" => CqlType::Timeuuid,
            "inet" => CqlType::Inet,
            _ => return None,
        })
    }

    /// The CQL name, as `system_schema.columns.type` shows it.
    pub fn cql_name(&self) -> String {
        match self {
            CqlType::Ascii => "ascii".into(),
            CqlType::Bigint => "bigint".into(),
            CqlType::Blob => "blob".into(),
            CqlType::Boolean => "boolean".into(),
            CqlType::Double => "double".into(),
            CqlType::Int => "int".into(),
            CqlType::Timestamp => "timestamp".into(),
            CqlType::Uuid => "uuid".into(),
            CqlType::Varchar => "text".into(),
            CqlType::Timeuuid => "timeuuid".into(),
            CqlType::Inet => "inet".into(),
            CqlType::List(t) => format!("list<{}>", t.cql_name()),
            CqlType::Set(t) => format!("set<{}>", t.cql_name()),
            CqlType::Map(k, v) => format!("map<{}, {}>", k.cql_name(), v.cql_name()),
        }
    }

    /// Writes the `[option]` that describes this type in result metadata.
    pub fn write_option(&self, w: &mut BodyWriter) {
        match self {
            CqlType::Ascii => w.short(0x0001),
            CqlType::Bigint => w.short(0x0002),
            CqlType::Blob => w.short(0x0003),
            CqlType::Boolean => w.short(0x0004),
            CqlType::Double => w.short(0x0007),
            CqlType::Int => w.short(0x0009),
            CqlType::Timestamp => w.short(0x000B),
            CqlType::Uuid => w.short(0x000C),
            CqlType::Varchar => w.short(0x000D),
            CqlType::Timeuuid => w.short(0x000F),
            CqlType::Inet => w.short(0x0010),
            CqlType::List(t) => {
                w.short(0x0020);
                t.write_option(w);
                w
            }
            CqlType::Map(k, v) => {
                w.short(0x0021);
                k.write_option(w);
                v.write_option(w);
                w
            }
            CqlType::Set(t) => {
                w.short(0x0022);
                t.write_option(w);
                w
            }
        };
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Text(String),
    Bool(bool),
    Int(i32),
    Bigint(i64),
    Double(f64),
    Timestamp(i64),
    Uuid([u8; 16]),
    Inet(IpAddr),
    Blob(Vec<u8>),
    List(Vec<Value>),
    Set(Vec<Value>),
    Map(Vec<(Value, Value)>),
}

impl Value {
    pub fn text(s: impl Into<String>) -> Value {
        Value::Text(s.into())
    }

    pub fn text_set(items: &[&str]) -> Value {
        Value::Set(items.iter().map(|s| Value::text(*s)).collect())
    }

    pub fn text_map(items: &[(&str, &str)]) -> Value {
        Value::Map(items.iter().map(|(k, v)| (Value::text(*k), Value::text(*v))).collect())
    }

    /// The cell's `[bytes]` content; `None` is null.
    pub fn encode(&self) -> Option<Vec<u8>> {
        Some(match self {
            Value::Null => return None,
            Value::Text(s) => s.as_bytes().to_vec(),
            Value::Bool(b) => vec![u8::from(*b)],
            Value::Int(i) => i.to_be_bytes().to_vec(),
            Value::Bigint(i) | Value::Timestamp(i) => i.to_be_bytes().to_vec(),
            Value::Double(d) => d.to_be_bytes().to_vec(),
            Value::Uuid(u) => u.to_vec(),
            Value::Inet(IpAddr::V4(a)) => a.octets().to_vec(),
            Value::Inet(IpAddr::V6(a)) => a.octets().to_vec(),
            Value::Blob(b) => b.clone(),
            Value::List(items) | Value::Set(items) => {
                let mut w = BodyWriter::new();
                w.int(items.len() as i32);
                for i in items {
                    w.bytes(i.encode().as_deref());
                }
                w.into_inner()
            }
            Value::Map(items) => {
                let mut w = BodyWriter::new();
                w.int(items.len() as i32);
                for (k, v) in items {
                    w.bytes(k.encode().as_deref());
                    w.bytes(v.encode().as_deref());
                }
                w.into_inner()
            }
        })
    }

    /// Decodes a bound value of a known type.
    pub fn decode(ty: &CqlType, bytes: Option<&[u8]>) -> Result<Value, FrameError> {
        let Some(b) = bytes else { return Ok(Value::Null) };
        let fixed = |n: usize| -> Result<&[u8], FrameError> {
            if b.len() == n {
                Ok(b)
            } else {
                Err(FrameError::Malformed(format!(
                    "a {} value must be {n} bytes, got {}",
                    ty.cql_name(),
                    b.len()
                )))
            }
        };
        Ok(match ty {
            CqlType::Ascii | CqlType::Varchar => Value::Text(
                String::from_utf8(b.to_vec()).map_err(|_| FrameError::Malformed("text value is not UTF-8".into()))?,
            ),
            CqlType::Boolean => Value::Bool(fixed(1)?[0] != 0),
            CqlType::Int => Value::Int(i32::from_be_bytes(fixed(4)?.try_into().unwrap_or_default())),
            CqlType::Bigint => Value::Bigint(i64::from_be_bytes(fixed(8)?.try_into().unwrap_or_default())),
            CqlType::Timestamp => Value::Timestamp(i64::from_be_bytes(fixed(8)?.try_into().unwrap_or_default())),
            CqlType::Double => Value::Double(f64::from_be_bytes(fixed(8)?.try_into().unwrap_or_default())),
            CqlType::Uuid | CqlType::Timeuuid => Value::Uuid(fixed(16)?.try_into().unwrap_or_default()),
            CqlType::Inet => match b.len() {
                4 => Value::Inet(IpAddr::from(<[u8; 4]>::try_from(b).unwrap_or_default())),
                16 => Value::Inet(IpAddr::from(<[u8; 16]>::try_from(b).unwrap_or_default())),
                n => {
                    return Err(FrameError::Malformed(format!(
                        "an inet value must be 4 or 16 bytes, got {n}"
                    )));
                }
            },
            CqlType::Blob => Value::Blob(b.to_vec()),
            CqlType::List(t) | CqlType::Set(t) => {
                let mut r = BodyReader::new(b);
                let n = r.int()?.max(0) as usize;
                let mut items = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    items.push(Value::decode(t, r.bytes()?)?);
                }
                if matches!(ty, CqlType::List(_)) {
                    Value::List(items)
                } else {
                    Value::Set(items)
                }
            }
            CqlType::Map(kt, vt) => {
                let mut r = BodyReader::new(b);
                let n = r.int()?.max(0) as usize;
                let mut items = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    let k = Value::decode(kt, r.bytes()?)?;
                    let v = Value::decode(vt, r.bytes()?)?;
                    items.push((k, v));
                }
                Value::Map(items)
            }
        })
    }

    /// A CQL literal for display.
    pub fn display(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Text(s) => format!("'{s}'"),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Bigint(i) | Value::Timestamp(i) => i.to_string(),
            Value::Double(d) => d.to_string(),
            Value::Uuid(u) => hex::encode(u),
            Value::Inet(a) => a.to_string(),
            Value::Blob(b) => format!("0x{}", hex::encode(b)),
            Value::List(v) | Value::Set(v) => {
                format!("[{}]", v.iter().map(Value::display).collect::<Vec<_>>().join(", "))
            }
            Value::Map(v) => format!(
                "{{{}}}",
                v.iter()
                    .map(|(k, v)| format!("{}: {}", k.display(), v.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections_round_trip() {
        let ty = CqlType::parse("map<text, text>").unwrap();
        let v = Value::text_map(&[("class", "SingleRegionStrategy")]);
        assert_eq!(Value::decode(&ty, v.encode().as_deref()).unwrap(), v);
        assert_eq!(ty.cql_name(), "map<text, text>");
        let ty = CqlType::parse("set<text>").unwrap();
        let v = Value::text_set(&["a", "b"]);
        assert_eq!(Value::decode(&ty, v.encode().as_deref()).unwrap(), v);
    }
}
