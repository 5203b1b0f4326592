//! Mutual TLS for real: an axum app behind the apisig layer, served over rustls by hyper-util,
//! the acceptor putting the client's certificate in each request's extensions
//! ([`PeerCertificate::from_rustls`]); reqwest (rustls) presents certificates made by rcgen.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use apisig::pin::{PinKind, fingerprint};
use apisig::{Credentials, Verifier, Window, client::Slot, dialect, keyring::Keyring, pin::Pin, replay::ReplayCache};
use apisig_http::client::SigningMiddleware;
use apisig_http::server::{Authenticator, Mtls, PeerCertificate};
use common::*;
use rcgen::{BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::Value;
use tower::ServiceExt;

struct Ca {
    cert: Certificate,
    key: KeyPair,
}

impl Ca {
    fn new() -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, "apisig test CA");
        Ca { cert: params.self_signed(&key).unwrap(), key }
    }

    /// A leaf for `names` (server) or for the client `cn`.
    fn issue(&self, names: &[&str], cn: &str, usage: ExtendedKeyUsagePurpose) -> (Certificate, KeyPair) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![usage];
        (params.signed_by(&key, &self.cert, &self.key).unwrap(), key)
    }
}

/// The layer over rustls: clients may come without a certificate (the layer answers them).
async fn serve_tls(ca: &Ca, auth: Authenticator) -> SocketAddr {
    // ring, deprecated by rustls for lacking post-quantum key exchange, which a loopback test
    // does not need; aws-lc-rs would need cmake to build.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.cert.der().clone()).unwrap();
    let clients = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .unwrap();
    let (cert, key) = ca.issue(&["localhost", "127.0.0.1"], "localhost", ExtendedKeyUsagePurpose::ServerAuth);
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(clients)
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let app = app(auth, Log::default());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                // What a server's TLS acceptor does for the layer: the client's certificate,
                // checked by rustls against the CA, into each request of the connection.
                let peer = PeerCertificate::from_rustls(tls.get_ref().1);
                let service = app.map_request(move |mut req: axum::http::Request<hyper::body::Incoming>| {
                    if let Some(peer) = &peer {
                        req.extensions_mut().insert(peer.clone());
                    }
                    req
                });
                let _ = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(
                        hyper_util::rt::TokioIo::new(tls),
                        hyper_util::service::TowerToHyperService::new(service),
                    )
                    .await;
            });
        }
    });
    addr
}

fn client(ca: &Ca, identity: Option<&(Certificate, KeyPair)>, key: &str) -> reqwest_middleware::ClientWithMiddleware {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_der(ca.cert.der()).unwrap())
        .no_proxy();
    if let Some((cert, key)) = identity {
        let pem = format!("{}{}", cert.pem(), key.serialize_pem());
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
    }
    let signer = SigningMiddleware::new(&dialect::SIGNIUS, Credentials { api_key: key, ..Credentials::EMPTY }).unwrap();
    reqwest_middleware::ClientBuilder::new(builder.build().unwrap()).with(signer).build()
}

async fn get(client: &reqwest_middleware::ClientWithMiddleware, addr: SocketAddr) -> (u16, Value) {
    let res = client.get(format!("https://127.0.0.1:{}/v1/envelopes", addr.port())).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or_default())
}

#[tokio::test]
async fn the_pinned_client_certificate_and_its_key_are_both_required() {
    let ca = Ca::new();
    let portal = ca.issue(&[], "signius-portal", ExtendedKeyUsagePurpose::ClientAuth);
    let stranger = ca.issue(&[], "someone-else", ExtendedKeyUsagePurpose::ClientAuth);

    let mut ring = Keyring::<4>::new();
    let id = "signius-portal";
    ring.add(id, SIGNIUS_KEY.as_bytes()).unwrap();
    let spki = fingerprint(portal.0.der(), PinKind::PublicKey).unwrap();
    ring.set_pin(id, Slot::Primary, Some(Pin { kind: PinKind::PublicKey, fingerprint: spki })).unwrap();
    let verifier = Verifier::new(ring, ReplayCache::<64>::new(), Window::DEFAULT);
    let auth = Authenticator::new(verifier).scheme(&dialect::SIGNIUS).unwrap().mtls(Mtls::Combined);
    let addr = serve_tls(&ca, auth).await;

    let (status, got) = get(&client(&ca, Some(&portal), SIGNIUS_KEY), addr).await;
    assert_eq!((status, got["client_id"].as_str()), (200, Some("signius-portal")), "{got}");
    let (status, got) = get(&client(&ca, Some(&stranger), SIGNIUS_KEY), addr).await;
    assert_eq!(
        (status, got["error"].as_str()),
        (401, Some("unpinned_certificate")),
        "a certificate the CA signed, not pinned"
    );
    let (status, got) = get(&client(&ca, None, SIGNIUS_KEY), addr).await;
    assert_eq!((status, got["error"].as_str()), (401, Some("missing_credential")), "no certificate");
    let (status, got) = get(&client(&ca, Some(&portal), "sg-not-the-key"), addr).await;
    assert_eq!((status, got["error"].as_str()), (401, Some("unknown_key")), "the certificate alone is not enough");
}
