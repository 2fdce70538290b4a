//! The driver configuration lint over real-world shaped files (`tests/driver_configs/`:
//! AWS's documented and sample `application.conf`s, the cqlsh-expansion cqlshrc, and
//! broken ones): every problem with its leaf and line, and nothing on the clean ones.
//! Truststores are real files (PKCS#12 written with the embedded roots, PEM, DER, JKS).
use keyspaces_doctor::driver_config::{Expect, inspect};
use keyspaces_doctor::evidence::DriverConfigReport;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::path::{Path, PathBuf};

fn fixture(name: &str, dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/driver_configs")
        .join(name);
    let dst = dir.join(name);
    std::fs::copy(&src, &dst).unwrap();
    dst
}

fn root_pem(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets/roots")
            .join(format!("{name}.pem")),
    )
    .unwrap()
}

fn pkcs12(roots: &[&str], password: &str) -> Vec<u8> {
    let mut ks = p12_keystore::KeyStore::new();
    for r in roots {
        let der = CertificateDer::from_pem_slice(root_pem(r).as_bytes()).unwrap();
        ks.add_entry(
            r,
            p12_keystore::KeyStoreEntry::Certificate(p12_keystore::Certificate::from_der(der.as_ref()).unwrap()),
        );
    }
    ks.writer(password).write().unwrap()
}

fn lint(path: &Path, region: &str) -> DriverConfigReport {
    let host = format!("cassandra.{region}.amazonaws.com");
    inspect(
        path,
        &Expect {
            files: &keyspaces_doctor::outside::file::HostFiles,
            env: &|k: &str| std::env::var(k).ok(),
            host: &host,
            port: 9142,
            region: Some(region),
            tls_name: &host,
            chain: &[],
        },
    )
}

fn problems(r: &DriverConfigReport) -> Vec<(String, Option<usize>)> {
    let mut v: Vec<(String, Option<usize>)> = r.problems.iter().map(|p| (p.leaf.to_string(), p.line)).collect();
    v.sort();
    v
}

fn expected(items: &[(&str, Option<usize>)]) -> Vec<(String, Option<usize>)> {
    let mut v: Vec<(String, Option<usize>)> = items.iter().map(|(l, n)| (l.to_string(), *n)).collect();
    v.sort();
    v
}

const ALL_FIVE: [&str; 5] = [
    "Amazon_Root_CA_1",
    "Amazon_Root_CA_2",
    "Amazon_Root_CA_3",
    "Amazon_Root_CA_4",
    "Starfield_Class_2_CA",
];

#[test]
fn aws_docs_sigv4_example_with_its_jks_truststore_gets_the_keytool_hint() {
    let d = tempfile::tempdir().unwrap();
    let conf = fixture("aws-docs-sigv4.conf", d.path());
    // A JKS store: recognised by its magic, not read.
    std::fs::write(
        d.path().join("cassandra_truststore.jks"),
        [0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2, 0, 0, 0, 0],
    )
    .unwrap();
    let r = lint(&conf, "us-east-2");
    assert!(r.parse_errors.is_empty(), "{:?}", r.parse_errors);
    assert_eq!(
        problems(&r),
        expected(&[("conf-truststore-jks", Some(16))]),
        "{:#?}",
        r.problems
    );
    assert_eq!(r.truststore.as_ref().unwrap().format, "JKS");

    std::fs::remove_file(d.path().join("cassandra_truststore.jks")).unwrap();
    let r = lint(&conf, "us-east-2");
    assert_eq!(problems(&r), expected(&[("conf-truststore-unreadable", Some(16))]));
}

#[test]
fn aws_docs_plaintext_example_truststore_contents_decide() {
    let d = tempfile::tempdir().unwrap();
    let conf = fixture("aws-docs-plaintext.conf", d.path());
    let store = d.path().join("cassandra_truststore.p12");

    // Only Starfield Class 2, as much sample code ships it.
    std::fs::write(&store, pkcs12(&["Starfield_Class_2_CA"], "my_password")).unwrap();
    let r = lint(&conf, "us-east-2");
    assert_eq!(
        problems(&r),
        expected(&[
            ("conf-plain-username", Some(7)),
            ("conf-truststore-missing-roots", Some(17))
        ]),
        "{:#?}",
        r.problems
    );
    let ts = r.truststore.as_ref().unwrap();
    assert_eq!(ts.format, "PKCS#12");
    assert_eq!(ts.keyspaces_roots, vec!["Starfield_Class_2_CA".to_string()]);
    assert!(!ts.has_ats && ts.has_starfield);
    // The password is never part of the report.
    assert!(!format!("{r:?}").contains("my_password"));
    assert!(!format!("{r:?}").contains("ServicePassword"));

    // All five roots: only the user name remains.
    std::fs::write(&store, pkcs12(&ALL_FIVE, "my_password")).unwrap();
    let r = lint(&conf, "us-east-2");
    assert_eq!(problems(&r), expected(&[("conf-plain-username", Some(7))]));
    assert_eq!(r.truststore.as_ref().unwrap().keyspaces_roots.len(), 5);

    // Another password: the store cannot be opened, as the driver could not open it.
    std::fs::write(&store, pkcs12(&ALL_FIVE, "another")).unwrap();
    let r = lint(&conf, "us-east-2");
    assert_eq!(
        problems(&r),
        expected(&[
            ("conf-plain-username", Some(7)),
            ("conf-truststore-unreadable", Some(17))
        ])
    );
}

#[test]
fn aws_sample_configurations_without_problems_stay_quiet() {
    let d = tempfile::tempdir().unwrap();
    for (name, region) in [("glue-export.conf", "us-east-1"), ("lambda-sigv4.conf", "us-west-2")] {
        let r = lint(&fixture(name, d.path()), region);
        assert!(r.parse_errors.is_empty(), "{name}: {:?}", r.parse_errors);
        assert_eq!(problems(&r), vec![], "{name}: {:#?}", r.problems);
        assert_eq!(r.kind.to_string(), "java-driver");
    }
}

#[test]
fn a_configuration_carried_over_from_cassandra_shows_every_problem_on_its_line() {
    let d = tempfile::tempdir().unwrap();
    let r = lint(&fixture("migrated-from-cassandra.conf", d.path()), "us-east-1");
    assert_eq!(
        problems(&r),
        expected(&[
            ("conf-contact-port", Some(4)),
            ("conf-local-dc", Some(5)),
            ("conf-consistency", Some(6)),
            ("conf-protocol", Some(9)),
            ("conf-sigv4-region", Some(12)),
            ("conf-hostname-validation", Some(16)),
        ]),
        "{:#?}",
        r.problems
    );
    let port = r
        .problems
        .iter()
        .find(|p| p.leaf.as_str() == "conf-contact-port")
        .unwrap();
    assert_eq!(port.value.as_deref(), Some("cassandra.us-east-1.amazonaws.com:9042"));
}

#[test]
fn no_tls_no_local_dc_and_no_password() {
    let d = tempfile::tempdir().unwrap();
    let r = lint(&fixture("no-tls.conf", d.path()), "eu-west-1");
    assert_eq!(
        problems(&r),
        expected(&[
            ("conf-local-dc", Some(2)),
            ("conf-no-auth", Some(3)),
            ("conf-no-tls", None)
        ]),
        "{:#?}",
        r.problems
    );
}

#[test]
fn cqlsh_expansion_cqlshrc_with_the_starfield_certfile() {
    let d = tempfile::tempdir().unwrap();
    let rc = fixture("toolkit-cqlshrc", d.path());
    std::fs::write(d.path().join("sf-class2-root.crt"), root_pem("Starfield_Class_2_CA")).unwrap();
    let r = lint(&rc, "us-east-1");
    assert_eq!(r.kind.to_string(), "cqlshrc");
    assert_eq!(
        problems(&r),
        expected(&[
            ("conf-truststore-missing-roots", Some(7)),
            ("cqlsh-unverified", Some(6))
        ]),
        "{:#?}",
        r.problems
    );

    // The five roots in one PEM bundle: only that cqlsh itself may not verify them (no
    // cqlsh with a fixed driver is on this PATH).
    let bundle: String = ALL_FIVE.iter().map(|n| root_pem(n)).collect();
    std::fs::write(d.path().join("sf-class2-root.crt"), bundle).unwrap();
    let r = lint(&rc, "us-east-1");
    assert_eq!(
        problems(&r),
        expected(&[("cqlsh-unverified", Some(6))]),
        "{:#?}",
        r.problems
    );
}

#[test]
fn an_insecure_cqlshrc_shows_every_problem_on_its_line() {
    let d = tempfile::tempdir().unwrap();
    let rc = fixture("insecure-cqlshrc", d.path());
    let der = CertificateDer::from_pem_slice(root_pem("Amazon_Root_CA_1").as_bytes()).unwrap();
    std::fs::write(d.path().join("root.der"), der.as_ref()).unwrap();
    let r = lint(&rc, "us-east-1");
    assert_eq!(
        problems(&r),
        expected(&[
            ("conf-contact-port", Some(4)),
            ("conf-validation-off", Some(7)),
            ("conf-tls-version", Some(8)),
            ("conf-truststore-unreadable", Some(9)),
            ("conf-sigv4-region", Some(14)),
        ]),
        "{:#?}",
        r.problems
    );
}

#[test]
fn a_file_that_is_neither_is_said_to_be_neither() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("spring.conf");
    std::fs::write(&p, "spring.data.cassandra.port = 9142\n").unwrap();
    let r = lint(&p, "us-east-1");
    assert_eq!(problems(&r), expected(&[("conf-unrecognised", None)]));
}

#[test]
fn a_cqlshrc_without_any_tls_setting() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("cqlshrc");
    std::fs::write(
        &p,
        "[connection]\nhostname = cassandra.us-east-1.amazonaws.com\nport = 9142\n",
    )
    .unwrap();
    let r = lint(&p, "us-east-1");
    assert_eq!(problems(&r), expected(&[("conf-no-tls", None)]));
}

#[test]
fn substitutions_includes_and_the_files_own_region_raise_nothing_false() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("application.conf");
    // Values from the environment, a TLS block in an included file, eu-west-1 endpoints
    // checked while the shell says us-east-1.
    std::fs::write(
        &p,
        "include \"keyspaces-tls.conf\"\ndatastax-java-driver {\n  basic.contact-points = [ \"cassandra.eu-west-1.amazonaws.com:9142\" ]\n  basic.load-balancing-policy.local-datacenter = eu-west-1\n  advanced.auth-provider {\n    class = software.aws.mcs.auth.SigV4AuthProvider\n    aws-region = ${?AWS_REGION}\n  }\n}\n",
    )
    .unwrap();
    let r = lint(&p, "us-east-1");
    assert_eq!(problems(&r), vec![], "{:#?}", r.problems);
    assert!(
        r.parse_errors
            .iter()
            .any(|e| e.contains("include") && e.contains("not followed")),
        "{:?}",
        r.parse_errors
    );
}

#[test]
fn passwords_never_leave_the_file_even_when_it_is_broken() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("application.conf");
    std::fs::write(
        &p,
        "datastax-java-driver {\n  basic.contact-points = [ \"cassandra.us-east-1.amazonaws.com:9042\"\n  advanced.auth-provider {\n    class = PlainTextAuthProvider\n    username = \"bob\"\n    password = \"Xy,Secret-Tail\"\n  }\n  advanced.ssl-engine-factory {\n    truststore-path = \"./missing.p12\n    truststore-password = \"Another-Secret\"\n  }\n}\n",
    )
    .unwrap();
    let r = lint(&p, "us-east-1");
    let all = format!("{r:?}");
    for secret in ["Xy,Secret-Tail", "Secret-Tail", "Another-Secret"] {
        assert!(!all.contains(secret), "{secret} in {all}");
    }
    assert!(!r.parse_errors.is_empty());
}

#[test]
fn a_syntactically_broken_application_conf_is_a_problem_not_clean() {
    let d = tempfile::tempdir().unwrap();
    let conf = d.path().join("application.conf");
    std::fs::write(
        &conf,
        "datastax-java-driver {\n  basic.contact-points = [ \"cassandra.us-east-1.amazonaws.com:9142\" ]\n  basic.load-balancing-policy.local-datacenter = \"us-east-1\n}\n",
    )
    .unwrap();
    let r = lint(&conf, "us-east-1");
    assert!(!r.parse_errors.is_empty(), "{:?}", r.parse_errors);
    assert!(
        r.problems
            .iter()
            .any(|p| p.leaf.as_str() == "conf-syntax" && p.line.is_some()),
        "{:#?}",
        r.problems
    );
}
