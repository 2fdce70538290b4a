//! The system keyspaces and tables as Amazon Keyspaces lists them ("System keyspaces in
//! Amazon Keyspaces", https://docs.aws.amazon.com/keyspaces/latest/devguide/working-with-keyspaces.html):
//! `system`, `system_schema`, `system_schema_mcs` and `system_multiregion_info`, with
//! their columns, types and key kinds, so that drivers' schema metadata and cqlsh know
//! them. Definitions only; the rows are the store's.
use super::store::ColumnKind::{self, Clustering as C, PartitionKey as P, Regular as R};

/// One system table: keyspace, name, and its columns as (name, CQL type, kind).
pub struct SystemTable {
    pub keyspace: &'static str,
    pub name: &'static str,
    pub columns: &'static [(&'static str, &'static str, ColumnKind)],
}

const fn t(
    keyspace: &'static str,
    name: &'static str,
    columns: &'static [(&'static str, &'static str, ColumnKind)],
) -> SystemTable {
    SystemTable {
        keyspace,
        name,
        columns,
    }
}

pub const KEYSPACES: &[&str] = &[
    "system",
    "system_schema",
    "system_schema_mcs",
    "system_multiregion_info",
];

const SCHEMA_COLUMNS: &[(&str, &str, ColumnKind)] = &[
    ("keyspace_name", "text", P),
    ("table_name", "text", C),
    ("column_name", "text", C),
    ("clustering_order", "text", R),
    ("column_name_bytes", "blob", R),
    ("kind", "text", R),
    ("position", "int", R),
    ("type", "text", R),
];

const SCHEMA_KEYSPACES: &[(&str, &str, ColumnKind)] = &[
    ("keyspace_name", "text", P),
    ("durable_writes", "boolean", R),
    ("replication", "map<text, text>", R),
];

pub const TABLES: &[SystemTable] = &[
    t(
        "system",
        "local",
        &[
            ("key", "text", P),
            ("bootstrapped", "text", R),
            ("broadcast_address", "inet", R),
            ("cluster_name", "text", R),
            ("cql_version", "text", R),
            ("data_center", "text", R),
            ("gossip_generation", "int", R),
            ("host_id", "uuid", R),
            ("listen_address", "inet", R),
            ("native_protocol_version", "text", R),
            ("partitioner", "text", R),
            ("rack", "text", R),
            ("release_version", "text", R),
            ("rpc_address", "inet", R),
            ("schema_version", "uuid", R),
            ("thrift_version", "text", R),
            ("tokens", "set<text>", R),
            ("truncated_at", "map<uuid, blob>", R),
        ],
    ),
    t(
        "system",
        "peers",
        &[
            ("peer", "inet", P),
            ("data_center", "text", R),
            ("host_id", "uuid", R),
            ("preferred_ip", "inet", R),
            ("rack", "text", R),
            ("release_version", "text", R),
            ("rpc_address", "inet", R),
            ("schema_version", "uuid", R),
            ("tokens", "set<text>", R),
        ],
    ),
    t(
        "system",
        "size_estimates",
        &[
            ("keyspace_name", "text", P),
            ("table_name", "text", C),
            ("range_start", "text", C),
            ("range_end", "text", C),
            ("mean_partition_size", "bigint", R),
            ("partitions_count", "bigint", R),
        ],
    ),
    t(
        "system",
        "prepared_statements",
        &[
            ("prepared_id", "blob", P),
            ("logged_keyspace", "text", R),
            ("query_string", "text", R),
        ],
    ),
    t("system_schema", "keyspaces", SCHEMA_KEYSPACES),
    t(
        "system_schema",
        "tables",
        &[
            ("keyspace_name", "text", P),
            ("table_name", "text", C),
            ("bloom_filter_fp_chance", "double", R),
            ("caching", "map<text, text>", R),
            ("comment", "text", R),
            ("compaction", "map<text, text>", R),
            ("compression", "map<text, text>", R),
            ("crc_check_chance", "double", R),
            ("dclocal_read_repair_chance", "double", R),
            ("default_time_to_live", "int", R),
            ("extensions", "map<text, blob>", R),
            ("flags", "set<text>", R),
            ("gc_grace_seconds", "int", R),
            ("id", "uuid", R),
            ("max_index_interval", "int", R),
            ("memtable_flush_period_in_ms", "int", R),
            ("min_index_interval", "int", R),
            ("read_repair_chance", "double", R),
            ("speculative_retry", "text", R),
        ],
    ),
    t("system_schema", "columns", SCHEMA_COLUMNS),
    t(
        "system_schema",
        "types",
        &[
            ("keyspace_name", "text", P),
            ("type_name", "text", C),
            ("field_names", "list<text>", R),
            ("field_types", "list<text>", R),
        ],
    ),
    t(
        "system_schema",
        "functions",
        &[
            ("keyspace_name", "text", P),
            ("function_name", "text", C),
            ("argument_types", "list<text>", C),
            ("argument_names", "list<text>", R),
            ("body", "text", R),
            ("called_on_null_input", "boolean", R),
            ("language", "text", R),
            ("return_type", "text", R),
        ],
    ),
    t(
        "system_schema",
        "aggregates",
        &[
            ("keyspace_name", "text", P),
            ("aggregate_name", "text", C),
            ("argument_types", "list<text>", C),
            ("final_func", "text", R),
            ("initcond", "text", R),
            ("return_type", "text", R),
            ("state_func", "text", R),
            ("state_type", "text", R),
        ],
    ),
    t(
        "system_schema",
        "triggers",
        &[
            ("keyspace_name", "text", P),
            ("table_name", "text", C),
            ("trigger_name", "text", C),
            ("options", "map<text, text>", R),
        ],
    ),
    t(
        "system_schema",
        "indexes",
        &[
            ("keyspace_name", "text", P),
            ("table_name", "text", C),
            ("index_name", "text", C),
            ("kind", "text", R),
            ("options", "map<text, text>", R),
        ],
    ),
    t(
        "system_schema",
        "views",
        &[
            ("keyspace_name", "text", P),
            ("view_name", "text", C),
            ("base_table_id", "uuid", R),
            ("base_table_name", "text", R),
            ("include_all_columns", "boolean", R),
            ("where_clause", "text", R),
        ],
    ),
    t("system_schema_mcs", "keyspaces", SCHEMA_KEYSPACES),
    t(
        "system_schema_mcs",
        "tables",
        &[
            ("keyspace_name", "text", P),
            ("table_name", "text", C),
            ("status", "text", R),
            ("custom_properties", "map<text, frozen<map<text, text>>>", R),
        ],
    ),
    t("system_schema_mcs", "columns", SCHEMA_COLUMNS),
    t(
        "system_schema_mcs",
        "tags",
        &[
            ("keyspace_name", "text", P),
            ("resource_name", "text", C),
            ("resource_type", "text", C),
            ("tags", "map<text, text>", R),
        ],
    ),
    t(
        "system_multiregion_info",
        "keyspaces",
        &[
            ("keyspace_name", "text", P),
            ("region", "text", C),
            ("status", "text", R),
        ],
    ),
    t(
        "system_multiregion_info",
        "tables",
        &[
            ("keyspace_name", "text", P),
            ("table_name", "text", C),
            ("region", "text", C),
            ("status", "text", R),
        ],
    ),
];

/// The definition of a system table.
pub fn get(keyspace: &str, table: &str) -> Option<&'static SystemTable> {
    TABLES.iter().find(|t| t.keyspace == keyspace && t.name == table)
}

/// Whether `keyspace` is one of the four system keyspaces.
pub fn is_system(keyspace: &str) -> bool {
    KEYSPACES.contains(&keyspace)
}
