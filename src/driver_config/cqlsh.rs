//! Lints a cqlshrc as cqlsh and AWS's cqlsh-expansion read it: TLS on, validation on,
//! a PEM certfile holding the roots the endpoint needs, TLS 1.2 or later, port 9142,
//! and the SigV4 plugin's region. Reads files only.
use super::{Expect, problem, truststore_problems};
use crate::evidence::DriverConfigReport;
use crate::leaf_id::LeafId;
use std::path::Path;

pub fn lint(path: &Path, text: &str, expect: &Expect<'_>) -> DriverConfigReport {
    let mut report = DriverConfigReport {
        path: path.display().to_string(),
        kind: crate::evidence::ConfigFileKind::Cqlshrc,
        problems: vec![],
        truststore: None,
        parse_errors: vec![],
    };
    let rc = match crate::cqlshrc::parse(path, text) {
        Ok(rc) => rc,
        Err(e) => {
            report.parse_errors.push(e.to_string());
            return report;
        }
    };
    let out = &mut report.problems;
    let off = |v: &str| matches!(v.to_ascii_lowercase().as_str(), "false" | "no" | "0" | "off");
    let on = |v: &str| matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "1" | "on");

    if let Some(s) = rc.get("connection", "port")
        && let Ok(port) = s.value.parse::<u16>()
        && port != 9142
        && port != expect.port
    {
        out.push(problem(
            LeafId::ConfContactPort,
            Some(s.line),
            "[connection] port",
            Some(&s.value),
            format!("cqlsh connects to port {port}; Keyspaces listens on 9142 only"),
        ));
    }

    let factory = rc.get("connection", "factory");
    let ssl_flag = rc.get("connection", "ssl");
    let tls_on =
        factory.is_some_and(|f| f.value.contains("ssl_transport_factory")) || ssl_flag.is_some_and(|s| on(&s.value));
    // With an [ssl] section the user most likely passes --ssl, as AWS's guide does.
    let ssl_section = rc.get("ssl", "certfile").is_some() || rc.get("ssl", "validate").is_some();
    if !tls_on && (!ssl_section || ssl_flag.is_some_and(|s| off(&s.value))) {
        let line = ssl_flag.or(factory).map(|s| s.line);
        out.push(problem(
            LeafId::ConfNoTls,
            line,
            "[connection] ssl / factory",
            ssl_flag.or(factory).map(|s| s.value.as_str()),
            "neither [connection] ssl = true nor factory = cqlshlib.ssl.ssl_transport_factory, and no [ssl] section: cqlsh connects in clear text unless --ssl is passed every time, and Keyspaces accepts TLS only".into(),
        ));
    }

    // cqlsh itself may not verify what this file asks it to verify (its Python driver).
    if rc.uses_tls() && rc.validation_disabled().is_none() {
        let found = (expect.env)("PATH").and_then(|p| crate::cqlshrc::installed_cqlsh(&p));
        let version = found.as_ref().and_then(|(_, v)| v.clone());
        if version.as_deref().is_none_or(crate::cqlshrc::driver_skips_verification) {
            let line = rc.get("ssl", "validate").or(rc.get("ssl", "certfile")).map(|s| s.line);
            out.push(problem(
                LeafId::CqlshUnverified,
                line,
                "[ssl] validate",
                rc.get("ssl", "validate").map(|s| s.value.as_str()),
                match (&found, &version) {
                    (Some((p, _)), Some(v)) => format!(
                        "{} runs on cassandra-driver {v}, which builds its TLS context without verification from cqlsh's ssl options",
                        p.display()
                    ),
                    _ => "if the cqlsh that reads this file runs on cassandra-driver 3.29 or 3.30 (as AWS's cqlsh-expansion installs), it does not verify the certificate".into(),
                },
            ));
        }
    }

    if let Some(s) = rc.get("ssl", "validate")
        && off(&s.value)
    {
        out.push(problem(
            LeafId::ConfValidationOff,
            Some(s.line),
            "[ssl] validate",
            Some(&s.value),
            "certificate validation is off: any server, including an interceptor, is accepted".into(),
        ));
    }

    if let Some(s) = rc.get("ssl", "version") {
        let v = s.value.to_ascii_uppercase().replace(['.', '-'], "_");
        // SSLv23 is Python's alias for "negotiate the highest": it works.
        if matches!(v.as_str(), "TLSV1" | "TLSV1_0" | "TLSV1_1" | "SSLV3") {
            out.push(problem(
                LeafId::ConfTlsVersion,
                Some(s.line),
                "[ssl] version",
                Some(&s.value),
                format!("{} is below TLS 1.2, the oldest version Keyspaces accepts", s.value),
            ));
        }
    }

    if let Some(s) = rc.get("ssl", "certfile") {
        let p = super::resolve_relative(path, &s.value);
        let ts = super::truststore::inspect(expect.files, &p, None, expect.chain, expect.tls_name);
        if ts.unreadable.is_none() && ts.format != super::truststore::Format::Pem.name() {
            out.push(problem(
                LeafId::ConfTruststoreUnreadable,
                Some(s.line),
                "[ssl] certfile",
                Some(&s.value),
                format!(
                    "{} is {}, but cqlsh (Python's ssl module) loads PEM only",
                    ts.path, ts.format
                ),
            ));
        } else {
            truststore_problems(&ts, Some(s.line), "[ssl] certfile", out);
        }
        report.truststore = Some(ts);
    }

    // cqlsh hands the [auth_provider] keys to the plugin's constructor as keyword arguments.
    // The file's own host decides its region; else the endpoint being diagnosed.
    let region = rc
        .get("connection", "hostname")
        .and_then(|h| crate::target::region_of_host(&h.value))
        .or_else(|| expect.region.map(str::to_string));
    if rc.uses_sigv4()
        && let (Some(s), Some(want)) = (rc.get("auth_provider", "region_name"), region.as_deref())
        && s.value != want
    {
        report.problems.push(problem(
            LeafId::ConfSigv4Region,
            Some(s.line),
            "[auth_provider] region_name",
            Some(&s.value),
            format!("the SigV4 plugin signs for {} but the endpoint is in {want}", s.value),
        ));
    }
    report
}
