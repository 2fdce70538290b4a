//! Statements on the lab's CQL endpoint: QUERY, PREPARE, EXECUTE and BATCH read,
//! consistency checked as Keyspaces checks it, each statement authorized by IAM on its
//! exact resource in the request's context, then run over the store.

use super::{Connection, Reply, code, error, void};
use crate::cql::frame::{BodyReader, BodyWriter, Consistency, FrameError, Opcode};
use crate::cql::value::{CqlType, Value};
use crate::iam::ResourceArn;
use crate::iam::arn::action_for_statement;
use crate::lab::statement::{self, Condition, Selection, Statement, Term};
use crate::lab::store::{Rows, SystemView};
use crate::lab::world::{ACCOUNT, REGION};
use sha2::{Digest, Sha256};

/// Bound values of one request, as sent.
struct Params {
    consistency: Consistency,
    values: Vec<Option<Vec<u8>>>,
    skip_metadata: bool,
}

fn read_params(r: &mut BodyReader<'_>) -> Result<Params, FrameError> {
    let c = r.short()?;
    let consistency =
        Consistency::from_code(c).ok_or_else(|| FrameError::Malformed(format!("unknown consistency 0x{c:04x}")))?;
    let flags = r.byte()?;
    let mut values = Vec::new();
    if flags & 0x01 != 0 {
        let n = r.short()?;
        for _ in 0..n {
            if flags & 0x40 != 0 {
                r.string()?;
            }
            let len = r.int()?;
            if len < 0 {
                values.push(None);
            } else {
                let mut sub = BodyReader::new(&[]);
                std::mem::swap(&mut sub, r);
                // Re-read through a fresh slice of the remaining bytes.
                let rest = sub.rest();
                if rest.len() < len as usize {
                    return Err(FrameError::Malformed("a bound value is truncated".into()));
                }
                values.push(Some(rest[..len as usize].to_vec()));
                *r = BodyReader::new(&rest[len as usize..]);
            }
        }
    }
    Ok(Params {
        consistency,
        values,
        skip_metadata: flags & 0x02 != 0,
    })
}

impl Connection {
    pub(super) fn query(&mut self, body: &[u8]) -> Result<Reply, FrameError> {
        let mut r = BodyReader::new(body);
        let cql = r.long_string()?;
        let params = read_params(&mut r)?;
        Ok(self.run_statement(&cql, &params))
    }

    pub(super) fn prepare(&mut self, body: &[u8]) -> Result<Reply, FrameError> {
        let cql = BodyReader::new(body).long_string()?;
        let st = match statement::parse(&cql) {
            Ok(s) => s,
            Err(e) => return Ok(error(code::SYNTAX, &e)),
        };
        let (ks, table) = match self.resolve_table(&st) {
            Ok(x) => x,
            Err(reply) => return Ok(reply),
        };
        let Some(columns) = self.columns_of(&ks, &table) else {
            return Ok(error(code::INVALID, &format!("unconfigured table {ks}.{table}")));
        };
        let id = Sha256::digest(cql.as_bytes())[..16].to_vec();
        self.shared
            .prepared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), cql.clone());
        let binds = bind_specs(&st, &columns);
        let mut w = BodyWriter::new();
        w.int(4).short_bytes(&id);
        // Bind variable metadata with partition key indexes.
        let key_indexes: Vec<u16> = binds
            .iter()
            .enumerate()
            .filter(|(_, (n, _))| columns.first().is_some_and(|(c, _)| c == n))
            .map(|(i, _)| i as u16)
            .collect();
        w.int(0x0001).int(binds.len() as i32).int(key_indexes.len() as i32);
        for i in &key_indexes {
            w.short(*i);
        }
        w.string(&ks).string(&table);
        for (n, t) in &binds {
            w.string(n);
            t.write_option(&mut w);
        }
        match &st {
            Statement::Select { selection, .. } => {
                let cols = project_columns(selection, &columns).unwrap_or_default();
                w.int(0x0001).int(cols.len() as i32).string(&ks).string(&table);
                for (n, t) in &cols {
                    w.string(n);
                    t.write_option(&mut w);
                }
            }
            _ => {
                w.int(0x0004).int(0);
            }
        }
        Ok((Opcode::Result, w.into_inner()))
    }

    pub(super) fn execute(&mut self, body: &[u8]) -> Result<Reply, FrameError> {
        let mut r = BodyReader::new(body);
        let id = r.short_bytes()?.to_vec();
        let params = read_params(&mut r)?;
        let cql = self
            .shared
            .prepared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned();
        match cql {
            Some(cql) => Ok(self.run_statement(&cql, &params)),
            None => {
                let mut w = BodyWriter::new();
                w.int(code::UNPREPARED)
                    .string(&format!("Prepared query with ID {} not found", hex::encode(&id)))
                    .short_bytes(&id);
                Ok((Opcode::Error, w.into_inner()))
            }
        }
    }

    pub(super) fn batch(&mut self, body: &[u8]) -> Result<Reply, FrameError> {
        let mut r = BodyReader::new(body);
        let _kind = r.byte()?;
        let n = r.short()?;
        let mut items = Vec::new();
        for _ in 0..n {
            let cql = match r.byte()? {
                0 => r.long_string()?,
                _ => {
                    let id = r.short_bytes()?.to_vec();
                    let found = self
                        .shared
                        .prepared
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get(&id)
                        .cloned();
                    found.ok_or_else(|| FrameError::Malformed("unknown prepared id in BATCH".into()))?
                }
            };
            let nv = r.short()?;
            let mut values = Vec::new();
            for _ in 0..nv {
                values.push(r.bytes()?.map(|b| b.to_vec()));
            }
            items.push((cql, values));
        }
        let c = r.short()?;
        let consistency =
            Consistency::from_code(c).ok_or_else(|| FrameError::Malformed(format!("unknown consistency 0x{c:04x}")))?;
        for (cql, values) in items {
            let reply = self.run_statement(
                &cql,
                &Params {
                    consistency,
                    values,
                    skip_metadata: true,
                },
            );
            if reply.0 == Opcode::Error {
                return Ok(reply);
            }
        }
        Ok(void())
    }

    fn resolve_table(&self, st: &Statement) -> Result<(String, String), Reply> {
        let t = st
            .table()
            .ok_or_else(|| error(code::INVALID, "This statement is not supported by the lab"))?;
        let ks = t.keyspace.clone().or_else(|| self.keyspace.clone()).ok_or_else(|| {
            error(
                code::INVALID,
                "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename",
            )
        })?;
        Ok((ks, t.table.clone()))
    }

    fn view(&self) -> SystemView<'_> {
        SystemView {
            region: REGION,
            local_address: self.local,
            nodes: &self.shared.nodes,
        }
    }

    fn rows_of(&self, ks: &str, table: &str) -> Option<Rows> {
        if crate::lab::system_tables::is_system(ks) {
            self.shared.store.system_rows(ks, table, &self.view())
        } else {
            self.shared.store.user_rows(ks, table)
        }
    }

    fn columns_of(&self, ks: &str, table: &str) -> Option<Vec<(String, CqlType)>> {
        self.rows_of(ks, table).map(|r| r.columns)
    }

    fn run_statement(&mut self, cql: &str, params: &Params) -> Reply {
        let st = match statement::parse(cql) {
            Ok(s) => s,
            Err(e) => return error(code::SYNTAX, &e),
        };
        if let Statement::Use(ks) = &st {
            if !crate::lab::system_tables::is_system(ks) && !self.shared.store.user_keyspaces().contains(ks) {
                return error(code::INVALID, &format!("unconfigured keyspace {ks}"));
            }
            self.keyspace = Some(ks.clone());
            let mut w = BodyWriter::new();
            w.int(3).string(ks);
            return (Opcode::Result, w.into_inner());
        }
        let (ks, table) = match self.resolve_table(&st) {
            Ok(x) => x,
            Err(reply) => return reply,
        };
        // Consistency, as Keyspaces enforces it.
        let c = params.consistency;
        if st.is_write() && c != Consistency::LocalQuorum {
            return error(
                code::INVALID,
                &format!(
                    "Consistency level {} is not supported for this operation. Supported consistency levels are: LOCAL_QUORUM",
                    c.name()
                ),
            );
        }
        if !st.is_write() && !matches!(c, Consistency::One | Consistency::LocalOne | Consistency::LocalQuorum) {
            return error(
                code::INVALID,
                &format!(
                    "Consistency level {} is not supported for this operation. Supported consistency levels are: ONE, LOCAL_QUORUM, LOCAL_ONE",
                    c.name()
                ),
            );
        }
        // IAM, per statement, on the exact resource.
        let action = action_for_statement(cql);
        let resource = ResourceArn::table(REGION, ACCOUNT, &ks, &table).arn();
        let Some(identity) = &self.identity else {
            return error(code::PROTOCOL, "Not authenticated");
        };
        let ctx = self.shared.world.request_context(&identity.arn, self.peer);
        if !identity.decide_in(action, &resource, &ctx).is_allowed() {
            return error(
                code::UNAUTHORIZED,
                &format!(
                    "User: {} is not authorized to perform: {action} on resource: {resource}",
                    identity.arn
                ),
            );
        }
        let Some(all) = self.rows_of(&ks, &table) else {
            if !crate::lab::system_tables::is_system(&ks) && !self.shared.store.user_keyspaces().contains(&ks) {
                return error(code::INVALID, &format!("unconfigured keyspace {ks}"));
            }
            return error(code::INVALID, &format!("unconfigured table {ks}.{table}"));
        };
        let binds = bind_specs(&st, &all.columns);
        let bound: Vec<Value> = binds
            .iter()
            .enumerate()
            .map(|(i, (_, t))| Value::decode(t, params.values.get(i).and_then(|v| v.as_deref())).unwrap_or(Value::Null))
            .collect();
        let resolve = |term: &Term, col: &str| -> Value {
            let ty = all
                .columns
                .iter()
                .find(|(n, _)| n == col)
                .map(|(_, t)| t.clone())
                .unwrap_or(CqlType::Varchar);
            term_value(term, &ty, &bound)
        };
        match &st {
            Statement::Select {
                selection,
                filters,
                limit,
                ..
            } => {
                let cols = match project_columns(selection, &all.columns) {
                    Ok(c) => c,
                    Err(bad) => return error(code::INVALID, &format!("Undefined column name {bad}")),
                };
                let wanted: Vec<(usize, Value)> = filters
                    .iter()
                    .filter_map(|(c, t)| all.columns.iter().position(|(n, _)| n == c).map(|i| (i, resolve(t, c))))
                    .collect();
                let limit = limit
                    .as_ref()
                    .map(|t| match term_value(t, &CqlType::Int, &bound) {
                        Value::Int(n) => n.max(0) as usize,
                        _ => usize::MAX,
                    })
                    .unwrap_or(usize::MAX);
                let matching: Vec<&Vec<Value>> = all
                    .rows
                    .iter()
                    .filter(|row| wanted.iter().all(|(i, v)| &row[*i] == v))
                    .take(limit)
                    .collect();
                if *selection == Selection::Count {
                    let rs = Rows {
                        keyspace: ks.clone(),
                        table: table.clone(),
                        columns: vec![("count".into(), CqlType::Bigint)],
                        rows: vec![vec![Value::Bigint(matching.len() as i64)]],
                    };
                    return rows_reply(&rs, params.skip_metadata);
                }
                let idx: Vec<usize> = cols
                    .iter()
                    .filter_map(|(n, _)| all.columns.iter().position(|(c, _)| c == n))
                    .collect();
                let rs = Rows {
                    keyspace: ks.clone(),
                    table: table.clone(),
                    columns: cols,
                    rows: matching
                        .iter()
                        .map(|r| idx.iter().map(|i| r[*i].clone()).collect())
                        .collect(),
                };
                rows_reply(&rs, params.skip_metadata)
            }
            _ if crate::lab::system_tables::is_system(&ks) => error(
                code::UNAUTHORIZED,
                &format!("{} is a system keyspace: it cannot be modified", ks),
            ),
            _ => self.write(&st, &ks, &table, &resolve),
        }
    }

    fn write(&self, st: &Statement, ks: &str, table: &str, resolve: &dyn Fn(&Term, &str) -> Value) -> Reply {
        let applied = self.shared.store.with_rows(ks, table, |def, rows| {
            let key_of = |pairs: &[(String, Value)]| -> Option<Vec<Value>> {
                def.key_columns()
                    .map(|(_, c)| pairs.iter().find(|(n, _)| *n == c.name).map(|(_, v)| v.clone()))
                    .collect()
            };
            let row_key = |row: &Vec<Value>| -> Vec<Value> { def.key_columns().map(|(i, _)| row[i].clone()).collect() };
            match st {
                Statement::Insert {
                    columns,
                    values,
                    condition,
                    ..
                } => {
                    let pairs: Vec<(String, Value)> = columns
                        .iter()
                        .zip(values)
                        .map(|(c, t)| (c.clone(), resolve(t, c)))
                        .collect();
                    let Some(key) = key_of(&pairs) else {
                        return Err("Some partition key parts are missing".to_string());
                    };
                    let exists = rows.iter().position(|r| row_key(r) == key);
                    if condition == &Some(Condition::IfNotExists) && exists.is_some() {
                        return Ok(Some(false));
                    }
                    let mut row = exists
                        .map(|i| rows[i].clone())
                        .unwrap_or_else(|| vec![Value::Null; def.columns.len()]);
                    for (c, v) in &pairs {
                        if let Some(i) = def.columns.iter().position(|d| &d.name == c) {
                            row[i] = v.clone();
                        }
                    }
                    match exists {
                        Some(i) => rows[i] = row,
                        None => rows.push(row),
                    }
                    Ok(condition.as_ref().map(|_| true))
                }
                Statement::Update {
                    sets,
                    filters,
                    condition,
                    ..
                } => {
                    let pairs: Vec<(String, Value)> = filters.iter().map(|(c, t)| (c.clone(), resolve(t, c))).collect();
                    let Some(key) = key_of(&pairs) else {
                        return Err("Some partition key parts are missing".to_string());
                    };
                    let exists = rows.iter().position(|r| row_key(r) == key);
                    if matches!(condition, Some(Condition::IfExists) | Some(Condition::Columns(_))) && exists.is_none()
                    {
                        return Ok(Some(false));
                    }
                    let i = match exists {
                        Some(i) => i,
                        None => {
                            let mut row = vec![Value::Null; def.columns.len()];
                            for (c, v) in &pairs {
                                if let Some(i) = def.columns.iter().position(|d| &d.name == c) {
                                    row[i] = v.clone();
                                }
                            }
                            rows.push(row);
                            rows.len() - 1
                        }
                    };
                    for (c, t) in sets {
                        if let Some(ci) = def.columns.iter().position(|d| &d.name == c) {
                            rows[i][ci] = resolve(t, c);
                        }
                    }
                    Ok(condition.as_ref().map(|_| true))
                }
                Statement::Delete { filters, condition, .. } => {
                    let pairs: Vec<(String, Value)> = filters.iter().map(|(c, t)| (c.clone(), resolve(t, c))).collect();
                    let Some(key) = key_of(&pairs) else {
                        return Err("Some partition key parts are missing".to_string());
                    };
                    let before = rows.len();
                    rows.retain(|r| row_key(r) != key);
                    Ok(condition.as_ref().map(|_| rows.len() != before))
                }
                _ => Err("This statement is not supported by the lab".to_string()),
            }
        });
        match applied {
            None => error(code::INVALID, &format!("unconfigured table {ks}.{table}")),
            Some(Err(e)) => error(code::INVALID, &e),
            Some(Ok(None)) => void(),
            Some(Ok(Some(applied))) => rows_reply(
                &Rows {
                    keyspace: ks.into(),
                    table: table.into(),
                    columns: vec![("[applied]".into(), CqlType::Boolean)],
                    rows: vec![vec![Value::Bool(applied)]],
                },
                false,
            ),
        }
    }
}

fn project_columns(selection: &Selection, all: &[(String, CqlType)]) -> Result<Vec<(String, CqlType)>, String> {
    match selection {
        Selection::All => Ok(all.to_vec()),
        Selection::Count => Ok(vec![("count".into(), CqlType::Bigint)]),
        Selection::Columns(cols) => cols
            .iter()
            .map(|c| all.iter().find(|(n, _)| n == c).cloned().ok_or_else(|| c.clone()))
            .collect(),
    }
}

/// The `?` markers of a statement with the column (and type) each binds to, in order.
fn bind_specs(st: &Statement, columns: &[(String, CqlType)]) -> Vec<(String, CqlType)> {
    let mut found: Vec<(usize, String, CqlType)> = Vec::new();
    let ty = |c: &str| {
        columns
            .iter()
            .find(|(n, _)| n == c)
            .map(|(_, t)| t.clone())
            .unwrap_or(CqlType::Varchar)
    };
    let mut visit = |c: &str, t: &Term| {
        if let Term::Bind(i) = t {
            found.push((*i, c.to_string(), ty(c)));
        }
    };
    match st {
        Statement::Select { filters, limit, .. } => {
            filters.iter().for_each(|(c, t)| visit(c, t));
            if let Some(Term::Bind(i)) = limit {
                found.push((*i, "[limit]".into(), CqlType::Int));
            }
        }
        Statement::Insert {
            columns: cols,
            values,
            condition,
            ..
        } => {
            cols.iter().zip(values).for_each(|(c, t)| visit(c, t));
            if let Some(Condition::Columns(cs)) = condition {
                cs.iter().for_each(|(c, t)| visit(c, t));
            }
        }
        Statement::Update {
            sets,
            filters,
            condition,
            ..
        } => {
            sets.iter().chain(filters).for_each(|(c, t)| visit(c, t));
            if let Some(Condition::Columns(cs)) = condition {
                cs.iter().for_each(|(c, t)| visit(c, t));
            }
        }
        Statement::Delete { filters, condition, .. } => {
            filters.iter().for_each(|(c, t)| visit(c, t));
            if let Some(Condition::Columns(cs)) = condition {
                cs.iter().for_each(|(c, t)| visit(c, t));
            }
        }
        _ => {}
    }
    found.sort_by_key(|(i, _, _)| *i);
    found.into_iter().map(|(_, c, t)| (c, t)).collect()
}

fn term_value(term: &Term, ty: &CqlType, bound: &[Value]) -> Value {
    match term {
        Term::Bind(i) => bound.get(*i).cloned().unwrap_or(Value::Null),
        Term::Null => Value::Null,
        Term::Bool(b) => Value::Bool(*b),
        Term::Str(s) => Value::Text(s.clone()),
        Term::Num(n) => match ty {
            CqlType::Int => n.parse().map(Value::Int).unwrap_or(Value::Null),
            CqlType::Bigint => n.parse().map(Value::Bigint).unwrap_or(Value::Null),
            CqlType::Double => n.parse().map(Value::Double).unwrap_or(Value::Null),
            _ => Value::Text(n.clone()),
        },
    }
}

fn rows_reply(rs: &Rows, skip_metadata: bool) -> Reply {
    let mut w = BodyWriter::new();
    w.int(2);
    if skip_metadata {
        w.int(0x0004).int(rs.columns.len() as i32);
    } else {
        w.int(0x0001).int(rs.columns.len() as i32);
        w.string(&rs.keyspace).string(&rs.table);
        for (n, t) in &rs.columns {
            w.string(n);
            t.write_option(&mut w);
        }
    }
    w.int(rs.rows.len() as i32);
    for row in &rs.rows {
        for v in row {
            w.bytes(v.encode().as_deref());
        }
    }
    (Opcode::Result, w.into_inner())
}
