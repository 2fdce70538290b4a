//! The driver configuration files a scenario's client deploys, written into the lab's
//! directory: a Java driver `application.conf` and the PKCS#12 truststore it names.
//! Writes files only; the lint that reads them lives in `driver_config`.
use super::LabError;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::path::{Path, PathBuf};

/// Which configuration the scenario's client deploys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriverConfigSpec {
    /// AWS's sample `application.conf` whose truststore holds only Starfield Class 2.
    JavaStarfieldOnly,
}

/// The lab's synthetic truststore password (not a secret of anyone's).
const TRUSTSTORE_PASSWORD: &str = "lab-truststore-pass";

fn pkcs12_of(pems: &[&str]) -> Result<Vec<u8>, String> {
    let mut ks = p12_keystore::KeyStore::new();
    for (i, pem) in pems.iter().enumerate() {
        let der = CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| e.to_string())?;
        let cert = p12_keystore::Certificate::from_der(der.as_ref()).map_err(|e| e.to_string())?;
        ks.add_entry(&format!("root-{i}"), p12_keystore::KeyStoreEntry::Certificate(cert));
    }
    ks.writer(TRUSTSTORE_PASSWORD).write().map_err(|e| e.to_string())
}

/// Writes the files and returns the path of the configuration the client block names.
pub fn write(
    spec: DriverConfigSpec,
    dir: &Path,
    host: &str,
    port: u16,
    region: &str,
    starfield_root_pem: &str,
) -> Result<PathBuf, LabError> {
    let io = |path: &Path, e: std::io::Error| LabError::Write {
        path: path.to_path_buf(),
        source: e,
    };
    match spec {
        DriverConfigSpec::JavaStarfieldOnly => {
            let store = dir.join("cassandra_truststore.p12");
            let bytes = pkcs12_of(&[starfield_root_pem]).map_err(|e| io(&store, std::io::Error::other(e)))?;
            crate::outside::file::replace(&store, &bytes, 0o644)
                .map_err(|e| io(&store, std::io::Error::other(e.to_string())))?;
            let conf = dir.join("application.conf");
            let text = format!(
                r#"datastax-java-driver {{
    basic.contact-points = [ "{host}:{port}" ]
    basic.load-balancing-policy {{
        local-datacenter = "{region}"
        slow-replica-avoidance = false
    }}
    basic.request.consistency = LOCAL_QUORUM
    advanced {{
        auth-provider = {{
            class = software.aws.mcs.auth.SigV4AuthProvider
            aws-region = {region}
        }}
        ssl-engine-factory {{
            class = DefaultSslEngineFactory
            truststore-path = "{store}"
            truststore-password = "{TRUSTSTORE_PASSWORD}"
            hostname-validation = false
        }}
        connection.pool.local.size = 3
    }}
}}
"#,
                store = store.display()
            );
            crate::outside::file::replace(&conf, text.as_bytes(), 0o644)
                .map_err(|e| io(&conf, std::io::Error::other(e.to_string())))?;
            Ok(conf)
        }
    }
}
