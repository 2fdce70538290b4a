//! Opens a truststore a driver configuration names (PEM bundle, PKCS#12; JKS is only
//! recognised) and says which of the five Keyspaces roots it holds and whether the
//! chain the endpoint served verifies against it. Reads files; no network.
use crate::evidence::TruststoreReport;
use crate::secret::Secret;
use crate::trust;
use rustls::client::danger::ServerCertVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::path::Path;

/// Larger files are not truststores.
const MAX_BYTES: u64 = 8 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pem,
    Der,
    Pkcs12,
    Jks,
    Unknown,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Pem => "PEM",
            Format::Der => "DER certificate",
            Format::Pkcs12 => "PKCS#12",
            Format::Jks => "JKS",
            Format::Unknown => "unrecognised",
        }
    }
}

pub fn sniff(bytes: &[u8]) -> Format {
    if bytes.starts_with(&[0xFE, 0xED, 0xFE, 0xED]) || bytes.starts_with(&[0xCE, 0xCE, 0xCE, 0xCE]) {
        return Format::Jks;
    }
    if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Format::Pem;
    }
    if bytes.first() == Some(&0x30) {
        // A PKCS#12 PFX starts SEQUENCE { INTEGER 3, ... }; a certificate SEQUENCE { SEQUENCE ...
        let body = match bytes.get(1) {
            Some(l) if l & 0x80 == 0 => 2,
            Some(l) => 2 + (l & 0x7f) as usize,
            None => return Format::Unknown,
        };
        return match bytes.get(body..body + 3) {
            Some([0x02, 0x01, 0x03]) => Format::Pkcs12,
            Some([0x30, ..]) => Format::Der,
            _ => Format::Unknown,
        };
    }
    Format::Unknown
}

/// Which embedded Keyspaces root a certificate is, by fingerprint; else its subject CN.
fn describe(der: &CertificateDer<'_>, known: &[(String, CertificateDer<'static>)]) -> (String, Option<String>) {
    if let Some((name, _)) = known.iter().find(|(_, k)| k.as_ref() == der.as_ref()) {
        return (name.clone(), Some(name.clone()));
    }
    let cn = x509_parser::parse_x509_certificate(der.as_ref())
        .ok()
        .and_then(|(_, c)| {
            c.subject()
                .iter_common_name()
                .next()
                .and_then(|n| n.as_str().ok().map(str::to_string))
                .or_else(|| Some(c.subject().to_string()))
        })
        .unwrap_or_else(|| "(unparsable certificate)".into());
    (cn, None)
}

fn is_ats(name: &str) -> bool {
    name.contains("Amazon Root CA") || name.starts_with("Amazon_Root_CA")
}

fn is_starfield(name: &str) -> bool {
    name.contains("Starfield Class 2") || name.starts_with("Starfield_Class_2")
}

/// Opens `path` as the kind of store the client expects and judges it.
pub fn inspect(
    files: &dyn crate::outside::file::Files,
    path: &Path,
    password: Option<&Secret>,
    chain: &[CertificateDer<'static>],
    tls_name: &str,
) -> TruststoreReport {
    let mut report = TruststoreReport {
        path: path.display().to_string(),
        format: Format::Unknown.name().into(),
        certificates: vec![],
        keyspaces_roots: vec![],
        has_ats: false,
        has_starfield: false,
        verifies_endpoint: None,
        detail: None,
        unreadable: None,
    };
    let bytes = match files.read(path, MAX_BYTES) {
        Ok(b) => b,
        Err(e) => {
            report.unreadable = Some(format!("it {e}"));
            return report;
        }
    };
    let format = sniff(&bytes);
    report.format = format.name().into();
    let certs: Vec<CertificateDer<'static>> = match format {
        Format::Pem => CertificateDer::pem_slice_iter(&bytes).filter_map(Result::ok).collect(),
        Format::Der => vec![CertificateDer::from(bytes.clone())],
        Format::Pkcs12 => {
            let pw = password.map(|p| p.expose()).unwrap_or_default();
            match p12_keystore::KeyStore::from_pkcs12(&bytes, pw, p12_keystore::Pkcs12ImportPolicy::Raw) {
                Ok(ks) => ks
                    .entries()
                    .filter_map(|(_, e)| match e {
                        p12_keystore::KeyStoreEntry::Certificate(c) => Some(CertificateDer::from(c.as_der().to_vec())),
                        p12_keystore::KeyStoreEntry::PrivateKeyChain(k) => {
                            k.certs().last().map(|c| CertificateDer::from(c.as_der().to_vec()))
                        }
                        _ => None,
                    })
                    .collect(),
                Err(e) => {
                    report.unreadable = Some(format!(
                        "the PKCS#12 store does not open with the configured password ({e})"
                    ));
                    return report;
                }
            }
        }
        Format::Jks => {
            report.unreadable = Some("a JKS keystore: its contents are not read here; list them with keytool".into());
            return report;
        }
        Format::Unknown => {
            report.unreadable = Some("neither PEM, DER, PKCS#12 nor JKS".into());
            return report;
        }
    };
    if certs.is_empty() {
        report.unreadable = Some(format!("the {} file holds no certificate", format.name()));
        return report;
    }
    let known = trust::keyspaces_roots();
    for der in &certs {
        let (name, root) = describe(der, &known);
        report.has_ats |= is_ats(&name);
        report.has_starfield |= is_starfield(&name);
        if let Some(r) = root {
            report.keyspaces_roots.push(r);
        }
        report.certificates.push(name);
    }
    if let (Some((leaf, rest)), Ok(name)) = (chain.split_first(), ServerName::try_from(tls_name.to_string())) {
        match trust::webpki(trust::store(&certs)) {
            Err(e) => {
                report.verifies_endpoint = Some(false);
                report.detail = Some(e);
            }
            Ok(v) => match v.verify_server_cert(leaf, rest, &name, &[], UnixTime::now()) {
                Ok(_) => report.verifies_endpoint = Some(true),
                Err(e) => {
                    report.verifies_endpoint = Some(false);
                    report.detail = Some(e.to_string());
                }
            },
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_apart_by_their_first_bytes() {
        assert_eq!(sniff(&[0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2]), Format::Jks);
        assert_eq!(sniff(b"-----BEGIN CERTIFICATE-----\n"), Format::Pem);
        let (_, der) = &trust::keyspaces_roots()[0];
        assert_eq!(sniff(der.as_ref()), Format::Der);
        assert_eq!(sniff(&[0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x03]), Format::Pkcs12);
        assert_eq!(sniff(b"hello"), Format::Unknown);
        assert_eq!(sniff(&[]), Format::Unknown);
        assert_eq!(sniff(&[0x30]), Format::Unknown);
    }

    #[test]
    fn the_embedded_roots_are_named_as_keyspaces_roots() {
        let known = trust::keyspaces_roots();
        for (name, der) in &known {
            assert_eq!(describe(der, &known).1.as_deref(), Some(name.as_str()));
        }
    }
}
