//! The HTTPS client every AWS call of the probes uses (STS, IAM, CloudTrail, and the
//! credential providers of the AWS chain): trusts the roots the probes read, and caps
//! every response body, so an endpoint that streams without end cannot fill memory.
//! Knows nothing of the APIs called through it.
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use rustls_pki_types::CertificateDer;

/// No answer of STS, IAM, CloudTrail or a credential endpoint that the probes read is
/// anywhere near this size; a longer body is cut and its call fails.
pub const MAX_BODY: usize = 4 << 20;

/// The SDK's rustls client trusting `roots`, with every response body capped.
pub fn client(roots: &[CertificateDer<'static>]) -> SharedHttpClient {
    use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
    use base64::Engine;
    let mut trust = TrustStore::empty().with_native_roots(false);
    for der in roots {
        if rustls::RootCertStore::empty().add(der.clone()).is_err() {
            continue;
        }
        let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
        let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
        for line in b64.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
        trust.add_pem_certificate(pem);
    }
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .unwrap_or_default();
    let inner = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https();
    SharedHttpClient::new(Capped { inner, max: MAX_BODY })
}

/// An HTTP client whose connectors cap response bodies at `max` bytes.
#[derive(Debug, Clone)]
pub struct Capped {
    pub inner: SharedHttpClient,
    pub max: usize,
}

impl HttpClient for Capped {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(CappedConnector {
            inner: self.inner.http_connector(settings, components),
            max: self.max,
        })
    }
}

#[derive(Debug)]
struct CappedConnector {
    inner: SharedHttpConnector,
    max: usize,
}

impl HttpConnector for CappedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let call = self.inner.call(request);
        let max = self.max;
        HttpConnectorFuture::new(async move {
            let response = call.await?;
            Ok(response.map(move |body| SdkBody::from_body_1_x(http_body_util::Limited::new(body, max))))
        })
    }
}
