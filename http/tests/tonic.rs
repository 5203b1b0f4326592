//! The tower layer protecting a gRPC service: tonic's server and tonic's client over real
//! HTTP/2 on 127.0.0.1, a unary method with no protobuf (a codec that passes the message's
//! bytes). The layer sits on the service's axum router, as tonic users add one. A signed call
//! reaches the handler with its principal in the `tonic::Request`'s extensions (Aevo signs the
//! gRPC body, its 5-byte frame header included, exactly as received); refusals come back as
//! gRPC statuses: unsigned, tampered or replayed `UNAUTHENTICATED`, a role not allowed on the
//! method's path `PERMISSION_DENIED`, a full replay record `UNAVAILABLE`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use apisig::keyring::Keyring;
use apisig::scheme::Scheme;
use apisig::{Credentials, Request as CoreRequest, Signer, Stamp, Verifier, Window, dialect};
use apisig_http::server::{Authenticator, BoxFuture, MemoryReplay, Principal};
use bytes::{Buf, BufMut};
use common::*;
use http::uri::PathAndQuery;
use sha2::Digest;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::{MetadataKey, MetadataValue};
use tonic::service::Routes;
use tonic::transport::{Endpoint, Server};
use tonic::{Code, Status};

const METHOD: &str = "/apisig.test.Echo/Whoami";

/// A codec for messages that are their own bytes.
#[derive(Clone, Copy, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;

    fn encoder(&mut self) -> Raw {
        Raw
    }

    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

/// The service: `Whoami` answers `client_id scheme sha256(message)` from the principal the
/// layer put in the request.
#[derive(Clone)]
struct Echo;

impl tonic::server::NamedService for Echo {
    const NAME: &'static str = "apisig.test.Echo";
}

impl tower::Service<http::Request<tonic::body::Body>> for Echo {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        Box::pin(async move {
            let whoami = tower::service_fn(|req: tonic::Request<Vec<u8>>| async move {
                let p = req.extensions().get::<Principal>().cloned().ok_or_else(|| Status::internal("no principal"))?;
                let digest: String = sha2::Sha256::digest(req.get_ref()).iter().map(|b| format!("{b:02x}")).collect();
                Ok::<_, Status>(tonic::Response::new(format!("{} {} {digest}", p.client_id, p.scheme).into_bytes()))
            });
            Ok(tonic::server::Grpc::new(Raw).unary(whoami, req).await)
        })
    }
}

/// tonic's server for `Echo` behind `auth`'s layer, on a free port of 127.0.0.1.
async fn serve(auth: Authenticator) -> SocketAddr {
    let router = Routes::new(Echo).into_axum_router().layer(auth.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    tokio::spawn(Server::builder().add_routes(Routes::from(router)).serve_with_incoming(incoming));
    addr
}

/// A gRPC message's bytes on the wire: uncompressed flag, length, message (what the client
/// sends, and so what a scheme that signs the body signs).
fn framed(message: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8];
    out.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
    out.extend_from_slice(message);
    out
}

/// The headers `scheme` signs `body` (the framed message) with, for `METHOD`.
fn signed(scheme: &Scheme<'static>, creds: Credentials<'_>, body: &[u8]) -> Vec<(String, String)> {
    let signer = Signer::new(scheme, creds).unwrap();
    let req = CoreRequest::new("POST", METHOD).with_body(body);
    let set = signer.sign(&req, Stamp { now: apisig_http::now(), nonce: None }).unwrap();
    set.iter().map(|l| (l.name.to_ascii_lowercase(), l.value.to_owned())).collect()
}

/// Calls `Whoami` with `message` and `headers` as metadata: the answer's text, or the status.
async fn call(addr: SocketAddr, message: &[u8], headers: &[(String, String)]) -> Result<String, Status> {
    let channel = Endpoint::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let mut req = tonic::Request::new(message.to_vec());
    for (name, value) in headers {
        let key = MetadataKey::from_bytes(name.as_bytes()).unwrap();
        req.metadata_mut().insert(key, MetadataValue::try_from(value.as_str()).unwrap());
    }
    let answer = grpc.unary(req, PathAndQuery::from_static(METHOD), Raw).await?;
    Ok(String::from_utf8(answer.into_inner()).unwrap())
}

fn digest(message: &[u8]) -> String {
    sha2::Sha256::digest(message).iter().map(|b| format!("{b:02x}")).collect()
}

fn refused(result: Result<String, Status>, code: Code, error: &str) {
    let status = result.expect_err("refused");
    assert_eq!(status.code(), code, "{status:?}");
    assert!(status.message().starts_with(&format!("{error}: ")), "{status:?}");
}

#[tokio::test]
async fn a_signed_grpc_call_reaches_the_handler_with_its_principal() {
    let addr = serve(gateway()).await;
    let message = b"{\"order\":\"buy\"}";
    let aevo = Credentials { api_key: AEVO_KEY, secret: AEVO_SECRET, ..Credentials::EMPTY };
    let headers = signed(&dialect::AEVO, aevo, &framed(message));
    let answer = call(addr, message, &headers).await.unwrap();
    assert_eq!(answer, format!("{AEVO_KEY} aevo {}", digest(message)));
    // A scheme that signs nothing of the body: the body is not buffered, and arrives whole.
    let zignsec = signed(&dialect::ZIGNSEC, Credentials { api_key: ZS_PRIMARY, ..Credentials::EMPTY }, b"");
    let long = vec![b'x'; 100_000];
    assert_eq!(call(addr, &long, &zignsec).await.unwrap(), format!("zs-acme zignsec {}", digest(&long)));

    // The same call again: a replay.
    refused(call(addr, message, &headers).await, Code::Unauthenticated, "replayed_request");
    // Signed for another message.
    let other = signed(&dialect::AEVO, aevo, &framed(b"{\"order\":\"sell\"}"));
    refused(call(addr, message, &other).await, Code::Unauthenticated, "signature_mismatch");
    // No credentials at all.
    refused(call(addr, message, &[]).await, Code::Unauthenticated, "missing_credential");
}

#[tokio::test]
async fn a_role_not_allowed_on_the_method_is_permission_denied() {
    // Securosys roles: the operations key is allowed on the TSB's paths, not on this one.
    let addr = serve(tsb()).await;
    let headers = signed(&dialect::SECUROSYS, Credentials { api_key: TSB_OPS, ..Credentials::EMPTY }, b"");
    refused(call(addr, b"x", &headers).await, Code::PermissionDenied, "forbidden");
}

#[tokio::test]
async fn a_full_replay_record_is_unavailable() {
    let mut keyring = Keyring::<4>::new();
    keyring.add(AEVO_KEY, AEVO_SECRET).unwrap();
    let verifier = Verifier::new(keyring, MemoryReplay::new(1), Window::from_secs(30));
    let addr = serve(Authenticator::new(verifier).scheme(&dialect::AEVO).unwrap()).await;
    let aevo = Credentials { api_key: AEVO_KEY, secret: AEVO_SECRET, ..Credentials::EMPTY };
    let first = signed(&dialect::AEVO, aevo, &framed(b"a"));
    assert!(call(addr, b"a", &first).await.is_ok());
    let second = signed(&dialect::AEVO, aevo, &framed(b"b"));
    refused(call(addr, b"b", &second).await, Code::Unavailable, "replay_cache_full");
}
