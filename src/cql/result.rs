//! Decoding RESULT bodies as a client sees them: kind, column names and raw cells.
//! Bounded by the body it is given; never trusts a count beyond the bytes present.
use super::frame::{BodyReader, FrameError};

#[derive(Debug, Clone, PartialEq)]
pub enum ResultBody {
    Void,
    Rows {
        columns: Vec<String>,
        rows: Vec<Vec<Option<Vec<u8>>>>,
    },
    SetKeyspace(String),
    Prepared,
    SchemaChange,
}

impl ResultBody {
    pub fn row_count(&self) -> usize {
        match self {
            ResultBody::Rows { rows, .. } => rows.len(),
            _ => 0,
        }
    }

    /// The raw value of column `name` in every row where it is set.
    pub fn cells(&self, name: &str) -> Vec<Vec<u8>> {
        match self {
            ResultBody::Rows { columns, rows } => match columns.iter().position(|c| c == name) {
                Some(i) => rows.iter().filter_map(|r| r.get(i).cloned().flatten()).collect(),
                None => vec![],
            },
            _ => vec![],
        }
    }

    /// The text of column `name` in every row.
    pub fn texts(&self, name: &str) -> Vec<String> {
        match self {
            ResultBody::Rows { columns, rows } => match columns.iter().position(|c| c == name) {
                Some(i) => rows
                    .iter()
                    .filter_map(|r| r.get(i).cloned().flatten())
                    .map(|b| String::from_utf8_lossy(&b).to_string())
                    .collect(),
                None => vec![],
            },
            _ => vec![],
        }
    }

    pub fn rows_as_text(&self, names: &[&str]) -> Vec<Vec<String>> {
        match self {
            ResultBody::Rows { columns, rows } => rows
                .iter()
                .map(|r| {
                    names
                        .iter()
                        .map(|n| {
                            columns
                                .iter()
                                .position(|c| c == n)
                                .and_then(|i| r.get(i).cloned().flatten())
                                .map(|b| String::from_utf8_lossy(&b).to_string())
                                .unwrap_or_default()
                        })
                        .collect()
                })
                .collect(),
            _ => vec![],
        }
    }
}

fn skip_option(r: &mut BodyReader<'_>, depth: usize) -> Result<(), FrameError> {
    if depth > 16 {
        return Err(FrameError::Malformed("type nesting is too deep".into()));
    }
    match r.short()? {
        0x0000 => {
            r.string()?;
        }
        0x0020 | 0x0022 => skip_option(r, depth + 1)?,
        0x0021 => {
            skip_option(r, depth + 1)?;
            skip_option(r, depth + 1)?;
        }
        0x0030 => {
            r.string()?;
            r.string()?;
            let n = r.short()?;
            for _ in 0..n {
                r.string()?;
                skip_option(r, depth + 1)?;
            }
        }
        0x0031 => {
            let n = r.short()?;
            for _ in 0..n {
                skip_option(r, depth + 1)?;
            }
        }
        _ => {}
    }
    Ok(())
}

pub fn decode(body: &[u8]) -> Result<ResultBody, FrameError> {
    let mut r = BodyReader::new(body);
    match r.int()? {
        1 => Ok(ResultBody::Void),
        3 => Ok(ResultBody::SetKeyspace(r.string()?)),
        4 => Ok(ResultBody::Prepared),
        5 => Ok(ResultBody::SchemaChange),
        2 => {
            let flags = r.int()?;
            let count = r.int()?;
            if !(0..=10_000).contains(&count) {
                return Err(FrameError::Malformed(format!("{count} columns")));
            }
            if flags & 0x0002 != 0 {
                r.bytes()?;
            }
            let mut columns = Vec::new();
            if flags & 0x0004 == 0 {
                let global = flags & 0x0001 != 0;
                if global {
                    r.string()?;
                    r.string()?;
                }
                for _ in 0..count {
                    if !global {
                        r.string()?;
                        r.string()?;
                    }
                    columns.push(r.string()?);
                    skip_option(&mut r, 0)?;
                }
            }
            let n = r.int()?;
            if n < 0 {
                return Err(FrameError::Malformed("negative row count".into()));
            }
            let mut rows = Vec::new();
            for _ in 0..n {
                if r.remaining() == 0 && count > 0 {
                    return Err(FrameError::Malformed("fewer rows than announced".into()));
                }
                let mut row = Vec::with_capacity(count as usize);
                for _ in 0..count {
                    row.push(r.bytes()?.map(|b| b.to_vec()));
                }
                rows.push(row);
            }
            Ok(ResultBody::Rows { columns, rows })
        }
        k => Err(FrameError::Malformed(format!("unknown RESULT kind {k}"))),
    }
}
