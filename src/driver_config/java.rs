//! Lints a DataStax Java driver 4.x `application.conf` for Keyspaces: contact points on
//! 9142, `local-datacenter` equal to the region, an `ssl-engine-factory` whose truststore
//! holds the roots the endpoint needs, hostname validation, the auth provider and the
//! SigV4 plugin's `aws-region`, consistency and protocol version. Reads files only.
use super::hocon::{self, Value};
use super::{Expect, problem, truststore_problems};
use crate::evidence::DriverConfigReport;
use crate::leaf_id::LeafId;
use crate::secret::Secret;
use std::path::Path;

const ROOT: &str = "datastax-java-driver";

pub fn lint(path: &Path, text: &str, expect: &Expect<'_>) -> DriverConfigReport {
    let doc = hocon::parse(text);
    let mut report = DriverConfigReport {
        path: path.display().to_string(),
        kind: crate::evidence::ConfigFileKind::JavaDriver,
        problems: vec![],
        truststore: None,
        parse_errors: doc.errors.iter().map(|(l, e)| format!("line {l}: {e}")).collect(),
    };
    // A file the driver cannot parse stops the application at start-up: never "clean".
    if let Some((line, first)) = doc.errors.first() {
        report.problems.push(problem(
            LeafId::ConfSyntax,
            Some(*line),
            "syntax",
            None,
            format!(
                "{} line(s) are not valid HOCON; the first, line {line}: {first}",
                doc.errors.len()
            ),
        ));
    }
    if !doc.has(ROOT) {
        report.problems.push(problem(
            LeafId::ConfUnrecognised,
            None,
            ROOT,
            None,
            format!(
                "no {ROOT} block: not a Java driver 4.x configuration (driver 3.x is configured in code; a Spring or Quarkus file keeps these settings elsewhere)"
            ),
        ));
        return report;
    }
    let key = |k: &str| format!("{ROOT}.{k}");
    // A substitution (`${?AWS_REGION}`) is resolved at run time: nothing to judge here.
    let literal = |path: &str| doc.text(path).filter(|(v, _)| !v.starts_with("${"));
    let text_of = |k: &str| literal(&key(k));
    // Settings may come from included files or from code (withSslContext, ...): only a
    // file that sets its own contact points is taken as the whole connection setup.
    let complete = doc.includes.is_empty() && doc.has(&key("basic.contact-points"));
    for (line, what) in &doc.includes {
        report.parse_errors.push(format!(
            "line {line}: include {what} is not followed; settings it holds were not checked"
        ));
    }
    let secrets: Vec<String> = [
        key("advanced.ssl-engine-factory.truststore-password"),
        key("advanced.auth-provider.password"),
    ]
    .iter()
    .filter_map(|p| doc.text(p).map(|(v, _)| v.to_string()))
    .filter(|v| v.len() >= 3)
    .collect();
    let out = &mut report.problems;

    // Contact points and the region they name.
    let mut file_region: Option<String> = None;
    if let Some(s) = doc.get(&key("basic.contact-points"))
        && let Value::List(points) = &s.value
    {
        for p in points.iter().filter(|p| looks_like_endpoint(p)) {
            let (host, port) = match p.rsplit_once(':') {
                Some((h, port)) => (h, port.parse::<u16>().ok()),
                None => (p.as_str(), None),
            };
            if let Some(r) = crate::target::region_of_host(host) {
                file_region.get_or_insert(r);
            }
            match port {
                Some(port) if port != 9142 && port != expect.port => out.push(problem(
                    LeafId::ConfContactPort,
                    Some(s.line),
                    "basic.contact-points",
                    Some(p),
                    format!("contact point {p} uses port {port}; Keyspaces listens on 9142 only"),
                )),
                None => out.push(problem(
                    LeafId::ConfContactPort,
                    Some(s.line),
                    "basic.contact-points",
                    Some(p),
                    format!("contact point {p} has no port: driver 4.x expects host:port and skips it; Keyspaces listens on 9142"),
                )),
                _ => {}
            }
        }
    }

    // The file's own endpoint decides its region; else the endpoint being diagnosed.
    let endpoint_region = file_region.or_else(|| expect.region.map(str::to_string));
    // local-datacenter must be the region.
    let explicit_points = doc.has(&key("basic.contact-points"));
    match (text_of("basic.load-balancing-policy.local-datacenter"), &endpoint_region) {
        (Some((dc, line)), Some(region)) if dc != region => out.push(problem(
            LeafId::ConfLocalDc,
            Some(line),
            "basic.load-balancing-policy.local-datacenter",
            Some(dc),
            format!("local-datacenter is {dc} but Keyspaces reports the region {region} as every node's data center, so no node is local"),
        )),
        (None, _) if explicit_points && !doc.has(&key("basic.load-balancing-policy.local-datacenter")) => out.push(problem(
            LeafId::ConfLocalDc,
            doc.get(&key("basic.contact-points")).map(|s| s.line),
            "basic.load-balancing-policy.local-datacenter",
            None,
            "contact points are set but local-datacenter is not: driver 4.x then refuses to start ('the local DC must be explicitly set')".into(),
        )),
        _ => {}
    }

    // TLS.
    let ssl = key("advanced.ssl-engine-factory");
    if !doc.has(&ssl) {
        if complete {
            out.push(problem(
                LeafId::ConfNoTls,
                None,
                "advanced.ssl-engine-factory",
                None,
                "no advanced.ssl-engine-factory: unless the application sets an SSL context in code (withSslContext), the driver connects in clear text and Keyspaces accepts TLS only".into(),
            ));
        }
    } else {
        if let Some((v, line)) = literal(&format!("{ssl}.hostname-validation"))
            && v.eq_ignore_ascii_case("true")
        {
            out.push(problem(
                LeafId::ConfHostnameValidation,
                Some(line),
                "advanced.ssl-engine-factory.hostname-validation",
                Some(v),
                "the driver checks each node's certificate against the address it dialled; Keyspaces peers are reached by IP, so connections to them fail".into(),
            ));
        }
        if let Some((p, line)) = literal(&format!("{ssl}.truststore-path")) {
            let password = doc
                .text(&format!("{ssl}.truststore-password"))
                .map(|(pw, _)| Secret::new(pw.to_string()));
            let password_unresolved = password.as_ref().is_some_and(|p| p.expose().starts_with("${"));
            let resolved = super::resolve_relative(path, p);
            let mut ts = super::truststore::inspect(
                expect.files,
                &resolved,
                password.as_ref(),
                expect.chain,
                expect.tls_name,
            );
            if !Path::new(p).is_absolute()
                && let Some(u) = ts.unreadable.as_mut()
                && u.starts_with("cannot open")
            {
                u.push_str(&format!(
                    " (a relative path resolves against the application's working directory; looked in this shell's and next to {})",
                    path.display()
                ));
            }
            if password_unresolved && ts.format == super::truststore::Format::Pkcs12.name() && ts.unreadable.is_some() {
                // The password comes from the environment at run time: not a finding.
                ts.unreadable = None;
                ts.detail = Some("truststore-password is a substitution; the store was not opened".into());
            } else if password.is_none()
                && ts
                    .unreadable
                    .as_deref()
                    .is_some_and(|u| u.contains("configured password"))
            {
                ts.unreadable = Some("the PKCS#12 store needs a password and truststore-password is not set".into());
            }
            if ts.unreadable.is_none() && ts.format == super::truststore::Format::Pem.name() {
                out.push(problem(
                    LeafId::ConfTruststoreUnreadable,
                    Some(line),
                    "advanced.ssl-engine-factory.truststore-path",
                    Some(p),
                    format!(
                        "{} is a PEM file, but the Java driver loads a KeyStore (PKCS#12 or JKS) from truststore-path",
                        ts.path
                    ),
                ));
            }
            truststore_problems(&ts, Some(line), "advanced.ssl-engine-factory.truststore-path", out);
            report.truststore = Some(ts);
        }
    }

    // Authentication.
    let auth = key("advanced.auth-provider");
    match doc.text(&format!("{auth}.class")) {
        None if !complete => {}
        None => out.push(problem(
            LeafId::ConfNoAuth,
            doc.get(&auth).map(|s| s.line),
            "advanced.auth-provider.class",
            None,
            "no auth-provider class: unless the application sets one in code (withAuthProvider), the driver answers Keyspaces' authentication challenge with nothing".into(),
        )),
        Some((class, _)) if class.contains("SigV4AuthProvider") => {
            if let (Some((r, line)), Some(region)) = (literal(&format!("{auth}.aws-region")), &endpoint_region)
                && r != region
            {
                out.push(problem(
                    LeafId::ConfSigv4Region,
                    Some(line),
                    "advanced.auth-provider.aws-region",
                    Some(r),
                    format!("the SigV4 plugin signs for {r} but the endpoint is in {region}"),
                ));
            }
        }
        Some((class, line)) if class.contains("PlainTextAuthProvider") => {
            if let Some((u, uline)) = literal(&format!("{auth}.username"))
                && !crate::target::is_service_specific_username(u)
            {
                out.push(problem(
                    LeafId::ConfPlainUsername,
                    Some(uline),
                    "advanced.auth-provider.username",
                    Some(u),
                    format!("{u} is not a service-specific user name (<iam-user>-at-<account-id>), which PlainTextAuthProvider needs"),
                ));
            }
            if !doc.has(&format!("{auth}.password")) {
                out.push(problem(
                    LeafId::ConfNoAuth,
                    Some(line),
                    "advanced.auth-provider.password",
                    None,
                    "PlainTextAuthProvider without a password".into(),
                ));
            }
        }
        _ => {}
    }

    // Consistency and protocol.
    if let Some((c, line)) = text_of("basic.request.consistency") {
        let c_up = c.to_ascii_uppercase();
        if !matches!(c_up.as_str(), "LOCAL_QUORUM" | "LOCAL_ONE" | "ONE") {
            out.push(problem(
                LeafId::ConfConsistency,
                Some(line),
                "basic.request.consistency",
                Some(c),
                format!(
                    "{c} is not supported by Keyspaces (reads: ONE, LOCAL_ONE, LOCAL_QUORUM; writes: LOCAL_QUORUM)"
                ),
            ));
        }
    }
    if let Some((v, line)) = text_of("advanced.protocol.version") {
        let v_up = v.to_ascii_uppercase();
        if v_up != "V4" {
            out.push(problem(
                LeafId::ConfProtocol,
                Some(line),
                "advanced.protocol.version",
                Some(v),
                format!("protocol {v}: Keyspaces speaks CQL native protocol v4"),
            ));
        }
    }
    redact(&mut report, &secrets);
    report
}

/// A contact point as written: `host` or `host:port`, nothing else (a broken file must
/// not turn other settings into "contact points" that get echoed).
fn looks_like_endpoint(p: &str) -> bool {
    !p.is_empty() && p.len() <= 300 && p.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]_".contains(c))
}

/// The last line of defence: the file's passwords never leave in any reported text.
fn redact(report: &mut DriverConfigReport, secrets: &[String]) {
    let clean = |s: &mut String| {
        for secret in secrets {
            if s.contains(secret.as_str()) {
                *s = s.replace(secret.as_str(), "<redacted>");
            }
        }
    };
    for p in &mut report.problems {
        clean(&mut p.detail);
        if let Some(v) = &mut p.value {
            clean(v);
        }
    }
    for e in &mut report.parse_errors {
        clean(e);
    }
    if let Some(t) = &mut report.truststore {
        clean(&mut t.path);
        for c in &mut t.certificates {
            clean(c);
        }
        for s in [&mut t.detail, &mut t.unreadable].into_iter().flatten() {
            clean(s);
        }
    }
}
