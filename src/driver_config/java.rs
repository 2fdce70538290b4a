//! Lints a DataStax Java driver 4.x `application.conf` for Keyspaces: contact points on
//! 9142, `local-datacenter` equal to the region, an `ssl-engine-factory` whose truststore
//! holds the roots the endpoint needs, hostname validation, the auth provider and the
//! SigV4 plugin's `aws-region`, consistency and protocol version. Reads files only.
use super::hocon::{self, Value};
use super::{Expect, problem, truststore_problems};
use crate::evidence::DriverConfigReport;
use crate::secret::Secret;
use std::path::Path;

const ROOT: &str = "datastax-java-driver";

pub fn lint(path: &Path, text: &str, expect: &Expect<'_>) -> DriverConfigReport {
    let doc = hocon::parse(text);
    let mut report = DriverConfigReport {
        path: path.display().to_string(),
        kind: "java-driver".into(),
        problems: vec![],
        truststore: None,
        parse_errors: doc.errors.iter().map(|(l, e)| format!("line {l}: {e}")).collect(),
    };
    if !doc.has(ROOT) {
        report.problems.push(problem(
            "conf-unrecognised",
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
    let text_of = |k: &str| doc.text(&key(k));
    let out = &mut report.problems;

    // Contact points and the region they name.
    let mut endpoint_region = expect.region.map(str::to_string);
    if let Some(s) = doc.get(&key("basic.contact-points"))
        && let Value::List(points) = &s.value
    {
        for p in points {
            let (host, port) = match p.rsplit_once(':') {
                Some((h, port)) => (h, port.parse::<u16>().ok()),
                None => (p.as_str(), None),
            };
            if let Some(r) = crate::target::region_of_host(host) {
                endpoint_region.get_or_insert(r);
            }
            match port {
                Some(port) if port != 9142 && port != expect.port => out.push(problem(
                    "conf-contact-port",
                    Some(s.line),
                    "basic.contact-points",
                    Some(p),
                    format!("contact point {p} uses port {port}; Keyspaces listens on 9142 only"),
                )),
                None => out.push(problem(
                    "conf-contact-port",
                    Some(s.line),
                    "basic.contact-points",
                    Some(p),
                    format!("contact point {p} has no port: driver 4.x expects host:port and skips it; Keyspaces listens on 9142"),
                )),
                _ => {}
            }
        }
    }

    // local-datacenter must be the region.
    let explicit_points = doc.has(&key("basic.contact-points"));
    match (text_of("basic.load-balancing-policy.local-datacenter"), &endpoint_region) {
        (Some((dc, line)), Some(region)) if dc != region => out.push(problem(
            "conf-local-dc",
            Some(line),
            "basic.load-balancing-policy.local-datacenter",
            Some(dc),
            format!("local-datacenter is {dc} but Keyspaces reports the region {region} as every node's data center, so no node is local"),
        )),
        (None, _) if explicit_points => out.push(problem(
            "conf-local-dc",
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
        out.push(problem(
            "conf-no-tls",
            None,
            "advanced.ssl-engine-factory",
            None,
            "no advanced.ssl-engine-factory: the driver connects in clear text and Keyspaces accepts TLS only".into(),
        ));
    } else {
        if let Some((v, line)) = doc.text(&format!("{ssl}.hostname-validation"))
            && v.eq_ignore_ascii_case("true")
        {
            out.push(problem(
                "conf-hostname-validation",
                Some(line),
                "advanced.ssl-engine-factory.hostname-validation",
                Some(v),
                "the driver checks each node's certificate against the address it dialled; Keyspaces peers are reached by IP, so connections to them fail".into(),
            ));
        }
        if let Some((p, line)) = doc.text(&format!("{ssl}.truststore-path")) {
            let password = doc
                .text(&format!("{ssl}.truststore-password"))
                .map(|(pw, _)| Secret::new(pw.to_string()));
            let resolved = super::resolve_relative(path, p);
            let ts = super::truststore::inspect(&resolved, password.as_ref(), expect.chain, expect.tls_name);
            if ts.unreadable.is_none() && ts.format == super::truststore::Format::Pem.name() {
                out.push(problem(
                    "conf-truststore-unreadable",
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
        None => out.push(problem(
            "conf-no-auth",
            doc.get(&auth).map(|s| s.line),
            "advanced.auth-provider.class",
            None,
            "no auth-provider class: the driver answers Keyspaces' authentication challenge with nothing".into(),
        )),
        Some((class, _)) if class.contains("SigV4AuthProvider") => {
            if let (Some((r, line)), Some(region)) = (doc.text(&format!("{auth}.aws-region")), &endpoint_region)
                && r != region
            {
                out.push(problem(
                    "conf-sigv4-region",
                    Some(line),
                    "advanced.auth-provider.aws-region",
                    Some(r),
                    format!("the SigV4 plugin signs for {r} but the endpoint is in {region}"),
                ));
            }
        }
        Some((class, line)) if class.contains("PlainTextAuthProvider") => {
            if let Some((u, uline)) = doc.text(&format!("{auth}.username"))
                && !u.starts_with("${")
                && !crate::target::is_service_specific_username(u)
            {
                out.push(problem(
                    "conf-plain-username",
                    Some(uline),
                    "advanced.auth-provider.username",
                    Some(u),
                    format!("{u} is not a service-specific user name (<iam-user>-at-<account-id>), which PlainTextAuthProvider needs"),
                ));
            }
            if !doc.has(&format!("{auth}.password")) {
                out.push(problem(
                    "conf-no-auth",
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
                "conf-consistency",
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
                "conf-protocol",
                Some(line),
                "advanced.protocol.version",
                Some(v),
                format!("protocol {v}: Keyspaces speaks CQL native protocol v4"),
            ));
        }
    }
    report
}
