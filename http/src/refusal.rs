//! A refused request as an HTTP answer: the status, the `WWW-Authenticate` challenge and the
//! small JSON body every face of apisig answers with; for a gRPC request, the same refusal as
//! a gRPC status.

use apisig::Error;
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};

/// The HTTP status answering a request refused with `error`: the core's, from the error's
/// [`Family`](apisig::Family) (one source for every face): 401 for missing, malformed or wrong
/// credentials, 403 for a role not allowed on the path (or a path not in canonical form), 503
/// when the replay record is full or unreachable (fail closed), 500 for a server
/// misconfiguration.
pub fn status_for(error: Error) -> StatusCode {
    StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The gRPC status code answering a gRPC request refused with HTTP `status`: gRPC's own
/// mapping of HTTP statuses (`doc/http-grpc-status-mapping.md` in grpc/grpc), so 401 is
/// `UNAUTHENTICATED` (16), 403 `PERMISSION_DENIED` (7), 503 `UNAVAILABLE` (14) and 400
/// `INTERNAL` (13); and 413 (a body over the layer's limit) `RESOURCE_EXHAUSTED` (8), 500 (a
/// server misconfiguration) `INTERNAL`, as gRPC servers answer those; any other `UNKNOWN` (2).
pub fn grpc_code_for(status: StatusCode) -> u8 {
    match status.as_u16() {
        401 => 16,
        403 => 7,
        429 | 502..=504 => 14,
        404 => 12,
        413 => 8,
        400 | 500 => 13,
        _ => 2,
    }
}

/// Whether a request is gRPC (its content type is `application/grpc`, with or without a
/// `+format` suffix or parameters).
pub fn is_grpc(headers: &http::HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).is_some_and(|v| {
        let v = v.as_bytes();
        v.get(..16).is_some_and(|p| p.eq_ignore_ascii_case(b"application/grpc"))
            && matches!(v.get(16), None | Some(b'+' | b';'))
    })
}

/// `answer`, a refusal made for HTTP, as gRPC answers it: HTTP 200 with no body and the status
/// in the headers (a "trailers-only" response): `grpc-status` from [`grpc_code_for`],
/// `grpc-message` the refusal's error name and message (`<name>: <message>`, percent-encoded as
/// gRPC requires) when `answer` carries its [`Refusal`] in its extensions, else the HTTP
/// status's reason. `WWW-Authenticate` and the extensions are kept. A success is returned as
/// it is.
pub fn grpc_answer<B: From<Bytes>>(answer: Response<B>) -> Response<B> {
    let status = answer.status();
    if status.is_success() {
        return answer;
    }
    let (mut parts, _) = answer.into_parts();
    let message = match parts.extensions.get::<Refusal>() {
        Some(r) => format!("{}: {}", r.error.name(), r.error.as_str()),
        None => status.canonical_reason().unwrap_or("refused").to_owned(),
    };
    let mut encoded = String::with_capacity(message.len());
    for b in message.bytes() {
        if (0x20..=0x7e).contains(&b) && b != b'%' {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    parts.status = StatusCode::OK;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    parts.headers.insert("grpc-status", HeaderValue::from(u16::from(grpc_code_for(status))));
    if let Ok(value) = HeaderValue::from_str(&encoded) {
        parts.headers.insert("grpc-message", value);
    }
    Response::from_parts(parts, B::from(Bytes::new()))
}

/// A refused request: the core's error and the answer made of it.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub struct Refusal {
    /// Why the request was refused.
    pub error: Error,
}

impl Refusal {
    /// The HTTP status ([`status_for`]).
    pub fn status(&self) -> StatusCode {
        status_for(self.error)
    }

    /// The JSON body: `{"error": name, "code": code, "message": text}`, the core's stable name
    /// and code (the same as the Python middleware's and the C ABI's).
    pub fn json(&self) -> Bytes {
        let body = serde_json::json!({
            "error": self.error.name(),
            "code": self.error.code(),
            "message": self.error.as_str(),
        });
        Bytes::from(body.to_string())
    }

    /// The `WWW-Authenticate` challenge for `realm`: `Apisig realm="…", error="<name>"`.
    /// Sent with 401 and 403; `realm` is the server's own text (quotes and backslashes are
    /// dropped from it).
    pub fn challenge(&self, realm: &str) -> HeaderValue {
        let realm: String = realm.chars().filter(|c| *c != '"' && *c != '\\').collect();
        let text = format!("Apisig realm=\"{realm}\", error=\"{}\"", self.error.name());
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("Apisig"))
    }

    /// The whole answer, with a body of any type made from bytes (axum's `Body`,
    /// `http_body_util::Full<Bytes>`). The refusal itself is in its extensions (for logging,
    /// and for [`grpc_answer`]).
    pub fn response<B: From<Bytes>>(&self, realm: &str) -> Response<B> {
        let mut res = Response::new(B::from(self.json()));
        res.extensions_mut().insert(*self);
        *res.status_mut() = self.status();
        let headers = res.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if matches!(self.status(), StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            headers.insert(header::WWW_AUTHENTICATE, self.challenge(realm));
        }
        res
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_refusing_status_and_its_name_in_the_body() {
        for error in Error::ALL {
            let status = status_for(error);
            assert!(status.is_client_error() || status.is_server_error(), "{error:?}");
            let body: serde_json::Value = serde_json::from_slice(&Refusal { error }.json()).unwrap_or_default();
            assert_eq!(body["error"], error.name());
            assert_eq!(body["code"], error.code());
            assert_eq!(body["message"], error.as_str());
        }
    }

    #[test]
    fn statuses_are_those_the_python_middleware_answers() {
        // Oracle: python/apisig/server.py's status_for, written by hand from the seeds.
        let expected = [
            (Error::SignatureMismatch, 401),
            (Error::MissingCredential, 401),
            (Error::ReplayedRequest, 401),
            (Error::UnpinnedCertificate, 401),
            (Error::Forbidden, 403),
            (Error::NonCanonicalPath, 403),
            (Error::ReplayCacheFull, 503),
            (Error::ReplayStoreUnavailable, 503),
            (Error::InvalidTemplate, 500),
            (Error::EmptySecret, 500),
        ];
        for (error, status) in expected {
            assert_eq!(status_for(error).as_u16(), status, "{error:?}");
        }
    }

    #[test]
    fn grpc_codes_are_grpcs_mapping_of_the_statuses() {
        // Oracle: the gRPC code table (grpc/grpc doc/statuscodes.md) by name.
        const UNAUTHENTICATED: u8 = 16;
        const PERMISSION_DENIED: u8 = 7;
        const UNAVAILABLE: u8 = 14;
        const RESOURCE_EXHAUSTED: u8 = 8;
        const INTERNAL: u8 = 13;
        let expected = [
            (Error::SignatureMismatch, UNAUTHENTICATED),
            (Error::MissingCredential, UNAUTHENTICATED),
            (Error::Forbidden, PERMISSION_DENIED),
            (Error::ReplayCacheFull, UNAVAILABLE),
            (Error::ReplayStoreUnavailable, UNAVAILABLE),
            (Error::InvalidTemplate, INTERNAL),
        ];
        for (error, code) in expected {
            assert_eq!(grpc_code_for(status_for(error)), code, "{error:?}");
        }
        assert_eq!(grpc_code_for(StatusCode::PAYLOAD_TOO_LARGE), RESOURCE_EXHAUSTED);
    }

    #[test]
    fn a_grpc_answer_is_trailers_only_with_the_refusal() {
        let http: Response<Bytes> = Refusal { error: Error::SignatureMismatch }.response("x");
        let res = grpc_answer(http);
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.body().is_empty());
        assert_eq!(res.headers()["content-type"], "application/grpc");
        assert_eq!(res.headers()["grpc-status"], "16");
        let message = format!("signature_mismatch: {}", Error::SignatureMismatch.as_str()).replace('%', "%25");
        assert_eq!(res.headers()["grpc-message"], message.as_str());
        assert!(res.headers().contains_key(header::WWW_AUTHENTICATE));
        let mut text = Response::new(Bytes::from_static(b"{}"));
        *text.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
        let res = grpc_answer(text);
        assert_eq!(
            (res.headers()["grpc-status"].as_bytes(), res.headers()["grpc-message"].as_bytes()),
            (&b"8"[..], &b"Payload Too Large"[..])
        );
    }

    #[test]
    fn grpc_requests_are_known_by_their_content_type() {
        let with = |ct: &'static str| {
            let mut h = http::HeaderMap::new();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
            is_grpc(&h)
        };
        assert!(with("application/grpc") && with("application/grpc+proto") && with("Application/GRPC;x=1"));
        assert!(!with("application/grpc-web") && !with("application/json") && !is_grpc(&http::HeaderMap::new()));
    }

    #[test]
    fn challenge_names_the_error_and_a_clean_realm() {
        let r = Refusal { error: Error::SignatureMismatch };
        assert_eq!(r.challenge("shop \"api\""), "Apisig realm=\"shop api\", error=\"signature_mismatch\"");
        let res: Response<Bytes> = Refusal { error: Error::ReplayStoreUnavailable }.response("x");
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(res.headers().get(header::WWW_AUTHENTICATE).is_none());
    }
}
