//! A refused request as an HTTP answer: the status, the `WWW-Authenticate` challenge and the
//! small JSON body every face of apisig answers with.

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
    /// `http_body_util::Full<Bytes>`).
    pub fn response<B: From<Bytes>>(&self, realm: &str) -> Response<B> {
        let mut res = Response::new(B::from(self.json()));
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
    fn challenge_names_the_error_and_a_clean_realm() {
        let r = Refusal { error: Error::SignatureMismatch };
        assert_eq!(r.challenge("shop \"api\""), "Apisig realm=\"shop api\", error=\"signature_mismatch\"");
        let res: Response<Bytes> = Refusal { error: Error::ReplayStoreUnavailable }.response("x");
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(res.headers().get(header::WWW_AUTHENTICATE).is_none());
    }
}
