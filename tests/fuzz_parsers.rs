//! Bounded fuzzing (proptest) of every parser that takes outside input: the CQL frame
//! decoder and RESULT decoder, the SigV4 challenge and response parsers, the cqlshrc
//! parser, PEM/certificate loading, scenario files and the lab's statement parser.
//! Longer runs: `PROPTEST_CASES=100000 cargo test --test fuzz_parsers`.
use keyspaces_doctor::cql::frame::{BodyReader, read_frame};
use keyspaces_doctor::cql::result;
use proptest::prelude::*;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn frames_never_panic_or_overallocate(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let r = rt().block_on(async { read_frame(&mut &bytes[..], 1024).await });
        if let Ok(f) = r {
            prop_assert!(f.body.len() <= 1024);
        }
    }

    #[test]
    fn frame_length_field_is_capped(len in any::<i32>()) {
        let mut h = vec![0x84u8, 0, 0, 1, 0x08];
        h.extend_from_slice(&len.to_be_bytes());
        let r = rt().block_on(async { read_frame(&mut &h[..], 4096).await });
        prop_assert!(r.is_err());
    }

    #[test]
    fn body_primitives_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let mut r = BodyReader::new(&bytes);
        let _ = r.string_multimap();
        let mut r = BodyReader::new(&bytes);
        let _ = r.long_string();
        let mut r = BodyReader::new(&bytes);
        let _ = r.bytes();
        let _ = result::decode(&bytes);
    }

    #[test]
    fn sigv4_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), s in "\\PC{0,120}") {
        let _ = keyspaces_doctor::sigv4::parse_nonce(&bytes);
        let _ = keyspaces_doctor::sigv4::parse_nonce(s.as_bytes());
        let _ = keyspaces_doctor::sigv4::parse_response(&bytes);
        if let Some(r) = keyspaces_doctor::sigv4::parse_response(s.as_bytes()) {
            let _ = keyspaces_doctor::sigv4::verify(&r, "secret", "us-east-1", "n", chrono::Utc::now());
        }
    }

    #[test]
    fn cqlshrc_parser_never_panics(s in "(\\[[a-z_]{0,12}\\]|[a-z_ ]{0,10}[=:]?[\\PC]{0,30}|#.*|\\n){0,12}") {
        let _ = keyspaces_doctor::cqlshrc::parse(std::path::Path::new("fuzz"), &s);
    }

    #[test]
    fn pem_and_certificates_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let mut pem = b"-----BEGIN CERTIFICATE-----\n".to_vec();
        pem.extend_from_slice(&bytes);
        pem.extend_from_slice(b"\n-----END CERTIFICATE-----\n");
        for c in CertificateDer::pem_slice_iter(&pem).flatten() {
            let _ = keyspaces_doctor::probe::tls::cert_info(&c);
        }
        let _ = keyspaces_doctor::probe::tls::cert_info(&CertificateDer::from(bytes));
    }

    #[test]
    fn scenario_files_never_panic(s in "\\PC{0,300}") {
        let _ = keyspaces_doctor::lab::scenario::parse("fuzz", &s);
    }

    #[test]
    fn hocon_reader_never_panics(s in "([a-z.\"-]{0,10}|\\{|\\}|\\[|\\]|=|:|,|#|//|\\$\\{|\"\"\"|\\\\| |\\n|\\PC){0,40}") {
        let d = keyspaces_doctor::driver_config::hocon::parse(&s);
        let lines = s.matches('\n').count() + 1;
        prop_assert!(d.settings.iter().all(|x| x.line >= 1 && x.line <= lines));
    }

    #[test]
    fn truststore_sniffing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = keyspaces_doctor::driver_config::truststore::sniff(&bytes);
    }

    #[test]
    fn lab_statement_parser_never_panics(s in "(SELECT|INSERT|UPDATE|DELETE|USE|'|\"|\\?|\\(|\\)|,|=|[a-z_.]{1,8}| ){0,24}") {
        let _ = keyspaces_doctor::lab::statement::parse(&s);
    }
}
