//! A small CQL statement parser for the lab: SELECT, INSERT, UPDATE, DELETE, USE, and
//! the keyword of DDL. Enough for real drivers and the probes; nothing is executed here.

#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    Str(String),
    Num(String),
    Bool(bool),
    Null,
    /// A `?` marker, by position among the statement's markers.
    Bind(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    All,
    Count,
    Columns(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    IfExists,
    IfNotExists,
    Columns(Vec<(String, Term)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableRef {
    pub keyspace: Option<String>,
    pub table: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Select {
        table: TableRef,
        selection: Selection,
        filters: Vec<(String, Term)>,
        limit: Option<Term>,
    },
    Insert {
        table: TableRef,
        columns: Vec<String>,
        values: Vec<Term>,
        condition: Option<Condition>,
    },
    Update {
        table: TableRef,
        sets: Vec<(String, Term)>,
        filters: Vec<(String, Term)>,
        condition: Option<Condition>,
    },
    Delete {
        table: TableRef,
        filters: Vec<(String, Term)>,
        condition: Option<Condition>,
    },
    Use(String),
    /// CREATE, ALTER, DROP and anything else, by first keyword.
    Other {
        keyword: String,
        table: Option<TableRef>,
    },
}

impl Statement {
    pub fn table(&self) -> Option<&TableRef> {
        match self {
            Statement::Select { table, .. }
            | Statement::Insert { table, .. }
            | Statement::Update { table, .. }
            | Statement::Delete { table, .. } => Some(table),
            Statement::Other { table, .. } => table.as_ref(),
            Statement::Use(_) => None,
        }
    }

    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Statement::Insert { .. } | Statement::Update { .. } | Statement::Delete { .. }
        )
    }

    pub fn is_conditional(&self) -> bool {
        match self {
            Statement::Insert { condition, .. }
            | Statement::Update { condition, .. }
            | Statement::Delete { condition, .. } => condition.is_some(),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Quoted(String),
    Str(String),
    Num(String),
    Sym(char),
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let c: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '-' && c.get(i + 1) == Some(&'-') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch.is_ascii_alphabetic() || ch == '_' {
            let st = i;
            while i < c.len() && (c[i].is_ascii_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(c[st..i].iter().collect()));
        } else if ch.is_ascii_digit() || (ch == '-' && c.get(i + 1).is_some_and(|d| d.is_ascii_digit())) {
            let st = i;
            i += 1;
            while i < c.len() && (c[i].is_ascii_alphanumeric() || c[i] == '.' || c[i] == '-') {
                i += 1;
            }
            out.push(Tok::Num(c[st..i].iter().collect()));
        } else if ch == '\'' || ch == '"' {
            let q = ch;
            i += 1;
            let mut v = String::new();
            loop {
                match c.get(i) {
                    None => return Err("unterminated string literal".into()),
                    Some(&x) if x == q && c.get(i + 1) == Some(&q) => {
                        v.push(q);
                        i += 2;
                    }
                    Some(&x) if x == q => {
                        i += 1;
                        break;
                    }
                    Some(&x) => {
                        v.push(x);
                        i += 1;
                    }
                }
            }
            out.push(if q == '\'' { Tok::Str(v) } else { Tok::Quoted(v) });
        } else {
            out.push(Tok::Sym(ch));
            i += 1;
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    binds: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn at_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.at_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), String> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(format!("line 1: expected {kw}"))
        }
    }

    fn eat_sym(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Sym(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_sym(&mut self, c: char) -> Result<(), String> {
        if self.eat_sym(c) {
            Ok(())
        } else {
            Err(format!("line 1: expected '{c}'"))
        }
    }

    fn ident(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Tok::Ident(s)) => Ok(s.to_ascii_lowercase()),
            Some(Tok::Quoted(s)) => Ok(s),
            t => Err(format!("line 1: expected an identifier, found {t:?}")),
        }
    }

    fn table_ref(&mut self) -> Result<TableRef, String> {
        let first = self.ident()?;
        if self.eat_sym('.') {
            Ok(TableRef {
                keyspace: Some(first),
                table: self.ident()?,
            })
        } else {
            Ok(TableRef {
                keyspace: None,
                table: first,
            })
        }
    }

    fn term(&mut self) -> Result<Term, String> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Term::Str(s)),
            Some(Tok::Num(n)) => Ok(Term::Num(n)),
            Some(Tok::Sym('?')) => {
                self.binds += 1;
                Ok(Term::Bind(self.binds - 1))
            }
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("true") => Ok(Term::Bool(true)),
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("false") => Ok(Term::Bool(false)),
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("null") => Ok(Term::Null),
            t => Err(format!("line 1: expected a value, found {t:?}")),
        }
    }

    fn relations(&mut self) -> Result<Vec<(String, Term)>, String> {
        let mut out = Vec::new();
        loop {
            let col = self.ident()?;
            if self.eat_kw("IN") {
                self.expect_sym('(')?;
                let t = self.term()?;
                while !self.eat_sym(')') {
                    self.next().ok_or("line 1: unterminated IN list")?;
                }
                out.push((col, t));
            } else {
                self.expect_sym('=')?;
                out.push((col, self.term()?));
            }
            if !self.eat_kw("AND") {
                return Ok(out);
            }
        }
    }

    fn condition(&mut self) -> Result<Option<Condition>, String> {
        if !self.eat_kw("IF") {
            return Ok(None);
        }
        if self.eat_kw("NOT") {
            self.expect_kw("EXISTS")?;
            return Ok(Some(Condition::IfNotExists));
        }
        if self.eat_kw("EXISTS") {
            return Ok(Some(Condition::IfExists));
        }
        Ok(Some(Condition::Columns(self.relations()?)))
    }

    fn skip_using(&mut self) -> Result<(), String> {
        if self.eat_kw("USING") {
            loop {
                self.ident()?;
                self.term()?;
                if !self.eat_kw("AND") {
                    break;
                }
            }
        }
        Ok(())
    }

    fn select(&mut self) -> Result<Statement, String> {
        self.eat_kw("JSON");
        self.eat_kw("DISTINCT");
        let selection = if self.eat_sym('*') {
            Selection::All
        } else if self.at_kw("count") && self.toks.get(self.pos + 1) == Some(&Tok::Sym('(')) {
            self.pos += 2;
            while !self.eat_sym(')') {
                self.next().ok_or("line 1: unterminated count(")?;
            }
            if self.eat_kw("AS") {
                self.ident()?;
            }
            Selection::Count
        } else {
            let mut cols = vec![self.ident()?];
            while self.eat_sym(',') {
                cols.push(self.ident()?);
            }
            Selection::Columns(cols)
        };
        self.expect_kw("FROM")?;
        let table = self.table_ref()?;
        let filters = if self.eat_kw("WHERE") {
            self.relations()?
        } else {
            vec![]
        };
        let limit = if self.eat_kw("LIMIT") { Some(self.term()?) } else { None };
        Ok(Statement::Select {
            table,
            selection,
            filters,
            limit,
        })
    }

    fn insert(&mut self) -> Result<Statement, String> {
        self.expect_kw("INTO")?;
        let table = self.table_ref()?;
        self.expect_sym('(')?;
        let mut columns = vec![self.ident()?];
        while self.eat_sym(',') {
            columns.push(self.ident()?);
        }
        self.expect_sym(')')?;
        self.expect_kw("VALUES")?;
        self.expect_sym('(')?;
        let mut values = vec![self.term()?];
        while self.eat_sym(',') {
            values.push(self.term()?);
        }
        self.expect_sym(')')?;
        let condition = self.condition()?;
        self.skip_using()?;
        if columns.len() != values.len() {
            return Err("Unmatched column names/values".into());
        }
        Ok(Statement::Insert {
            table,
            columns,
            values,
            condition,
        })
    }

    fn update(&mut self) -> Result<Statement, String> {
        let table = self.table_ref()?;
        self.skip_using()?;
        self.expect_kw("SET")?;
        let mut sets = Vec::new();
        loop {
            let c = self.ident()?;
            self.expect_sym('=')?;
            sets.push((c, self.term()?));
            if !self.eat_sym(',') {
                break;
            }
        }
        self.expect_kw("WHERE")?;
        let filters = self.relations()?;
        let condition = self.condition()?;
        Ok(Statement::Update {
            table,
            sets,
            filters,
            condition,
        })
    }

    fn delete(&mut self) -> Result<Statement, String> {
        while !self.eat_kw("FROM") {
            self.next().ok_or("line 1: expected FROM")?;
        }
        let table = self.table_ref()?;
        self.skip_using()?;
        self.expect_kw("WHERE")?;
        let filters = self.relations()?;
        let condition = self.condition()?;
        Ok(Statement::Delete {
            table,
            filters,
            condition,
        })
    }
}

/// Parses one statement; the error is Cassandra-style text for a 0x2000 syntax error.
pub fn parse(cql: &str) -> Result<Statement, String> {
    let toks = tokenize(cql)?;
    let mut p = Parser { toks, pos: 0, binds: 0 };
    let kw = match p.next() {
        Some(Tok::Ident(s)) => s.to_ascii_uppercase(),
        _ => return Err("line 1:0 no viable alternative at input".into()),
    };
    let st = match kw.as_str() {
        "SELECT" => p.select()?,
        "INSERT" => p.insert()?,
        "UPDATE" => p.update()?,
        "DELETE" => p.delete()?,
        "USE" => Statement::Use(p.ident()?),
        _ => {
            // CREATE TABLE ks.t / ALTER TABLE ks.t / DROP TABLE ks.t: find the table.
            let mut table = None;
            while let Some(t) = p.next() {
                if let Tok::Ident(s) = &t
                    && (s.eq_ignore_ascii_case("TABLE") || s.eq_ignore_ascii_case("KEYSPACE"))
                {
                    p.eat_kw("IF");
                    p.eat_kw("NOT");
                    p.eat_kw("EXISTS");
                    table = p.table_ref().ok();
                    break;
                }
            }
            Statement::Other { keyword: kw, table }
        }
    };
    p.eat_sym(';');
    if p.peek().is_some() && !matches!(p.peek(), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("ALLOW")) {
        return Err(format!("line 1: unexpected input {:?}", p.peek()));
    }
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_drivers_and_probes_send() {
        let s = parse("SELECT peer, data_center, tokens FROM system.peers").unwrap();
        assert!(matches!(s, Statement::Select { selection: Selection::Columns(ref c), .. } if c.len() == 3));
        let s = parse("select * from system.local where key='local'").unwrap();
        assert!(
            matches!(s, Statement::Select { ref filters, .. } if filters[0] == ("key".into(), Term::Str("local".into())))
        );
        let s = parse("UPDATE store.orders SET item = 'x' WHERE order_id = ? IF EXISTS").unwrap();
        assert!(s.is_conditional() && s.is_write());
        let s = parse("INSERT INTO store.orders (order_id, qty) VALUES (?, 3) IF NOT EXISTS").unwrap();
        assert!(matches!(s, Statement::Insert { ref values, .. } if values[0] == Term::Bind(0)));
        assert!(parse("SELECT FROM").is_err());
        assert!(parse("'unterminated").is_err());
    }
}
