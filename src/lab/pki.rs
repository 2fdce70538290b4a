//! The lab's certificate authority: an "Amazon Trust Services"-like root, a
//! "Starfield"-like root, an intermediate under each, and the server certificate for
//! `cassandra.<region>.amazonaws.com`. Owns certificate generation only.
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

#[derive(Debug, thiserror::Error)]
#[error("the lab could not create its certificates: {0}")]
pub struct PkiError(#[from] rcgen::Error);

/// Which root the served chain leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ServingRoot {
    #[default]
    Ats,
    Starfield,
}

pub struct LabPki {
    pub ats_root_pem: String,
    pub starfield_root_pem: String,
    /// Leaf first, then the intermediate.
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

fn ca_params(cn: &str, org: &str) -> Result<CertificateParams, rcgen::Error> {
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    p.distinguished_name.push(DnType::CommonName, cn);
    p.distinguished_name.push(DnType::OrganizationName, org);
    p.distinguished_name.push(DnType::CountryName, "US");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(p)
}

impl LabPki {
    pub fn generate(host: &str, extra_names: &[String], serving: ServingRoot) -> Result<LabPki, PkiError> {
        let ats = CertifiedIssuer::self_signed(
            ca_params("Amazon Root CA 1 (keyspaces-doctor lab)", "Amazon (lab)")?,
            KeyPair::generate()?,
        )?;
        let starfield = CertifiedIssuer::self_signed(
            ca_params(
                "Starfield Class 2 Certification Authority (keyspaces-doctor lab)",
                "Starfield Technologies, Inc. (lab)",
            )?,
            KeyPair::generate()?,
        )?;
        let (root, inter_cn) = match serving {
            ServingRoot::Ats => (&ats, "Amazon RSA 2048 M01 (lab)"),
            ServingRoot::Starfield => (&starfield, "Starfield Services Root Certificate Authority - G2 (lab)"),
        };
        let mut ip = ca_params(inter_cn, "Amazon (lab)")?;
        ip.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let inter = CertifiedIssuer::signed_by(ip, KeyPair::generate()?, root)?;
        let mut names = vec![host.to_string()];
        names.extend(extra_names.iter().cloned());
        let mut lp = CertificateParams::new(names)?;
        lp.distinguished_name.push(DnType::CommonName, host);
        lp.is_ca = IsCa::ExplicitNoCa;
        lp.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        lp.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let leaf_key = KeyPair::generate()?;
        let leaf = lp.signed_by(&leaf_key, &inter)?;
        Ok(LabPki {
            ats_root_pem: ats.pem(),
            starfield_root_pem: starfield.pem(),
            chain: vec![leaf.der().clone(), inter.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        })
    }

    /// What a healthy client trusts: both roots.
    pub fn bundle_pem(&self) -> String {
        format!("{}{}", self.ats_root_pem, self.starfield_root_pem)
    }
}
