//! The lab's data: the user tables (a tiny in-memory store) and the system tables as
//! Amazon Keyspaces shows them (`system.local`, `system.peers`, `system_schema.*`).
//! Owns rows and schemas; knows nothing of permissions or the wire.
use crate::cql::value::{CqlType, Value};
use std::net::IpAddr;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    PartitionKey,
    Clustering,
    Regular,
}

impl ColumnKind {
    fn as_str(self) -> &'static str {
        match self {
            ColumnKind::PartitionKey => "partition_key",
            ColumnKind::Clustering => "clustering",
            ColumnKind::Regular => "regular",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ColumnDef {
    pub name: String,
    pub ty: CqlType,
    pub kind: ColumnKind,
}

#[derive(Debug, Clone)]
pub struct TableDef {
    pub keyspace: String,
    pub name: String,
    pub columns: Vec<ColumnDef>,
}

impl TableDef {
    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn key_columns(&self) -> impl Iterator<Item = (usize, &ColumnDef)> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kind != ColumnKind::Regular)
    }
}

/// A result set before projection: every column of the table, all rows.
#[derive(Debug, Clone)]
pub struct Rows {
    pub keyspace: String,
    pub table: String,
    pub columns: Vec<(String, CqlType)>,
    pub rows: Vec<Vec<Value>>,
}

/// What the system tables depend on.
pub struct SystemView<'a> {
    pub region: &'a str,
    pub local_address: IpAddr,
    /// Every node's address, the contact point's included.
    pub nodes: &'a [IpAddr],
}

pub struct Store {
    tables: Mutex<Vec<(TableDef, Vec<Vec<Value>>)>>,
    /// The application's table and its properties.
    primary: String,
    properties: TableProperties,
}

fn col(name: &str, ty: &str, kind: ColumnKind) -> ColumnDef {
    ColumnDef {
        name: name.into(),
        ty: CqlType::parse(ty).unwrap_or(CqlType::Varchar),
        kind,
    }
}

fn uuid(seed: u8, kind: u8) -> Value {
    let mut u = [0x5au8; 16];
    u[0] = kind;
    u[15] = seed;
    u[6] = 0x40 | (u[6] & 0x0f);
    u[8] = 0x80 | (u[8] & 0x3f);
    Value::Uuid(u)
}

fn token(i: usize, n: usize) -> String {
    let step = u64::MAX / n.max(1) as u64;
    ((i as u64 * step) as i64).wrapping_add(i64::MIN).to_string()
}

/// What `system_schema_mcs.tables` reports of the application's table.
#[derive(Debug, Clone, Default)]
pub struct TableProperties {
    pub point_in_time_recovery: bool,
    pub customer_managed_key: Option<String>,
}

/// A table's `custom_properties`, as Keyspaces lists them (values are strings).
fn custom_properties(p: &TableProperties) -> Value {
    let map = |items: Vec<(&str, String)>| {
        Value::Map(
            items
                .into_iter()
                .map(|(k, v)| (Value::text(k), Value::Text(v)))
                .collect(),
        )
    };
    let pitr = if p.point_in_time_recovery {
        "enabled"
    } else {
        "disabled"
    };
    let encryption = match &p.customer_managed_key {
        Some(k) => vec![
            ("encryption_type", "CUSTOMER_MANAGED_KMS_KEY".to_string()),
            ("kms_key_identifier", k.clone()),
        ],
        None => vec![("encryption_type", "AWS_OWNED_KMS_KEY".to_string())],
    };
    Value::Map(vec![
        (
            Value::text("capacity_mode"),
            map(vec![("throughput_mode", "PAY_PER_REQUEST".to_string())]),
        ),
        (Value::text("encryption_specification"), map(encryption)),
        (
            Value::text("point_in_time_recovery"),
            map(vec![("status", pitr.to_string())]),
        ),
    ])
}

impl Store {
    pub fn new(keyspace: &str, table: &str, other_table: &str) -> Store {
        Store::with_properties(keyspace, table, other_table, TableProperties::default())
    }

    /// The store with `properties` on the application's table (the other table keeps
    /// Keyspaces' defaults for CQL: recovery off, an AWS owned key).
    pub fn with_properties(keyspace: &str, table: &str, other_table: &str, properties: TableProperties) -> Store {
        let orders = TableDef {
            keyspace: keyspace.into(),
            name: table.into(),
            columns: vec![
                col("order_id", "text", ColumnKind::PartitionKey),
                col("item", "text", ColumnKind::Regular),
                col("qty", "int", ColumnKind::Regular),
            ],
        };
        let rows = vec![
            vec![Value::text("o-1001"), Value::text("keyboard"), Value::Int(2)],
            vec![Value::text("o-1002"), Value::text("monitor"), Value::Int(1)],
            vec![Value::text("o-1003"), Value::text("cable"), Value::Int(5)],
        ];
        let customers = TableDef {
            keyspace: keyspace.into(),
            name: other_table.into(),
            columns: vec![
                col("customer_id", "text", ColumnKind::PartitionKey),
                col("name", "text", ColumnKind::Regular),
            ],
        };
        let crows = vec![vec![Value::text("c-1"), Value::text("Ada")]];
        Store {
            tables: Mutex::new(vec![(orders, rows), (customers, crows)]),
            primary: table.to_string(),
            properties,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(TableDef, Vec<Vec<Value>>)>> {
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn user_table(&self, keyspace: &str, table: &str) -> Option<TableDef> {
        self.lock()
            .iter()
            .find(|(d, _)| d.keyspace == keyspace && d.name == table)
            .map(|(d, _)| d.clone())
    }

    pub fn user_keyspaces(&self) -> Vec<String> {
        let mut ks: Vec<String> = self.lock().iter().map(|(d, _)| d.keyspace.clone()).collect();
        ks.dedup();
        ks
    }

    pub fn user_rows(&self, keyspace: &str, table: &str) -> Option<Rows> {
        self.lock()
            .iter()
            .find(|(d, _)| d.keyspace == keyspace && d.name == table)
            .map(|(d, rows)| Rows {
                keyspace: d.keyspace.clone(),
                table: d.name.clone(),
                columns: d.columns.iter().map(|c| (c.name.clone(), c.ty.clone())).collect(),
                rows: rows.clone(),
            })
    }

    /// Applies `f` to the rows of a user table.
    pub fn with_rows<T>(
        &self,
        keyspace: &str,
        table: &str,
        f: impl FnOnce(&TableDef, &mut Vec<Vec<Value>>) -> T,
    ) -> Option<T> {
        let mut g = self.lock();
        let (d, rows) = g.iter_mut().find(|(d, _)| d.keyspace == keyspace && d.name == table)?;
        Some(f(d, rows))
    }

    /// Every table the schema lists: the system tables, then the user tables.
    fn all_definitions(&self) -> Vec<TableDef> {
        let mut defs: Vec<TableDef> = super::system_tables::TABLES
            .iter()
            .map(|t| TableDef {
                keyspace: t.keyspace.into(),
                name: t.name.into(),
                columns: t.columns.iter().map(|(n, ty, k)| col(n, ty, *k)).collect(),
            })
            .collect();
        defs.extend(self.lock().iter().map(|(d, _)| d.clone()));
        defs
    }

    /// A system table, or `None` when Amazon Keyspaces has no such table.
    pub fn system_rows(&self, keyspace: &str, table: &str, view: &SystemView<'_>) -> Option<Rows> {
        let def = super::system_tables::get(keyspace, table)?;
        let rows = |rows: Vec<Vec<Value>>| Rows {
            keyspace: keyspace.into(),
            table: table.into(),
            columns: def
                .columns
                .iter()
                .map(|(n, t, _)| (n.to_string(), CqlType::parse(t).unwrap_or(CqlType::Varchar)))
                .collect(),
            rows,
        };
        let n = view.nodes.len().max(1);
        Some(match (keyspace, table) {
            ("system", "local") => rows(vec![vec![
                Value::text("local"),
                Value::text("COMPLETED"),
                Value::Inet(view.local_address),
                Value::text("Amazon Keyspaces"),
                Value::text("3.4.4"),
                Value::text(view.region),
                Value::Int(0),
                uuid(host_index(view.local_address), 1),
                Value::Inet(view.local_address),
                Value::text("4"),
                Value::text("org.apache.cassandra.dht.Murmur3Partitioner"),
                Value::text("rack1"),
                Value::text("3.11.2"),
                Value::Inet(view.local_address),
                uuid(0, 2),
                Value::text("20.1.0"),
                Value::Set(vec![Value::text(token(host_index(view.local_address) as usize, n))]),
                Value::Map(vec![]),
            ]]),
            ("system", "peers") => rows(
                view.nodes
                    .iter()
                    .filter(|p| **p != view.local_address)
                    .map(|p| {
                        vec![
                            Value::Inet(*p),
                            Value::text(view.region),
                            uuid(host_index(*p), 1),
                            Value::Null,
                            Value::text("rack1"),
                            Value::text("3.11.2"),
                            Value::Inet(*p),
                            uuid(0, 2),
                            Value::Set(vec![Value::text(token(host_index(*p) as usize, n))]),
                        ]
                    })
                    .collect(),
            ),
            ("system_schema" | "system_schema_mcs", "keyspaces") => {
                let mut ks: Vec<String> = super::system_tables::KEYSPACES.iter().map(|k| k.to_string()).collect();
                ks.extend(self.user_keyspaces());
                rows(
                    ks.into_iter()
                        .map(|k| {
                            let system = super::system_tables::is_system(&k);
                            let repl: Vec<(&str, &str)> = if system {
                                vec![("class", "org.apache.cassandra.locator.LocalStrategy")]
                            } else {
                                vec![
                                    ("class", "org.apache.cassandra.locator.SimpleStrategy"),
                                    ("replication_factor", "3"),
                                ]
                            };
                            vec![Value::text(k), Value::Bool(true), Value::text_map(&repl)]
                        })
                        .collect(),
                )
            }
            ("system_schema", "tables") => rows(
                self.all_definitions()
                    .iter()
                    .enumerate()
                    .map(|(i, d)| {
                        vec![
                            Value::text(&d.keyspace),
                            Value::text(&d.name),
                            Value::Double(0.01),
                            Value::text_map(&[("keys", "ALL"), ("rows_per_partition", "NONE")]),
                            Value::text(""),
                            Value::text_map(&[(
                                "class",
                                "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy",
                            )]),
                            Value::text_map(&[]),
                            Value::Double(1.0),
                            Value::Double(0.0),
                            Value::Int(0),
                            Value::Map(vec![]),
                            Value::text_set(&["compound"]),
                            Value::Int(7776000),
                            uuid(i as u8, 3),
                            Value::Int(2048),
                            Value::Int(3600000),
                            Value::Int(128),
                            Value::Double(0.0),
                            Value::text("99PERCENTILE"),
                        ]
                    })
                    .collect(),
            ),
            ("system_schema" | "system_schema_mcs", "columns") => rows(
                self.all_definitions()
                    .iter()
                    .flat_map(|d| {
                        let mut position = [0i32; 2];
                        d.columns
                            .iter()
                            .map(|c| {
                                let at = match c.kind {
                                    ColumnKind::PartitionKey => Some(0),
                                    ColumnKind::Clustering => Some(1),
                                    ColumnKind::Regular => None,
                                };
                                let pos = at.map(|i| {
                                    position[i] += 1;
                                    position[i] - 1
                                });
                                vec![
                                    Value::text(&d.keyspace),
                                    Value::text(&d.name),
                                    Value::text(&c.name),
                                    Value::text(if c.kind == ColumnKind::Clustering {
                                        "asc"
                                    } else {
                                        "none"
                                    }),
                                    Value::Blob(c.name.as_bytes().to_vec()),
                                    Value::text(c.kind.as_str()),
                                    Value::Int(pos.unwrap_or(-1)),
                                    Value::text(c.ty.cql_name()),
                                ]
                            })
                            .collect::<Vec<_>>()
                    })
                    .collect(),
            ),
            ("system_schema_mcs", "tables") => rows(
                self.lock()
                    .iter()
                    .map(|(d, _)| {
                        let props = if d.name == self.primary {
                            self.properties.clone()
                        } else {
                            TableProperties::default()
                        };
                        vec![
                            Value::text(&d.keyspace),
                            Value::text(&d.name),
                            Value::text("ACTIVE"),
                            custom_properties(&props),
                        ]
                    })
                    .collect(),
            ),
            _ => rows(vec![]),
        })
    }
}

fn host_index(a: IpAddr) -> u8 {
    match a {
        IpAddr::V4(v) => v.octets()[3],
        IpAddr::V6(v) => v.octets()[15],
    }
}
