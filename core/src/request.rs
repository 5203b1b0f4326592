//! The parts of an HTTP request that signing and verification look at.

use core::net::IpAddr;

use crate::headers::Header;

/// An HTTP request, borrowed: nothing is copied, however large the body.
#[derive(Copy, Clone, Debug)]
pub struct Request<'a> {
    /// The method, e.g. `GET`. The signer uppercases it; the verifier takes it as received.
    pub method: &'a str,
    /// The request target exactly as sent: path and query string.
    pub path: &'a str,
    /// The body, byte for byte (empty for none).
    pub body: &'a [u8],
    /// The request's headers (for verification, and for templates that sign a header).
    pub headers: &'a [Header<'a>],
    /// The address of the peer the server received it from, for clients restricted to some
    /// addresses ([`Client::set_allowed`](crate::client::Client::set_allowed)): a request
    /// without one is refused for such a client. Not signed, never sent.
    pub peer: Option<IpAddr>,
}

impl<'a> Request<'a> {
    /// A request without body or headers.
    pub const fn new(method: &'a str, path: &'a str) -> Request<'a> {
        Request { method, path, body: b"", headers: &[], peer: None }
    }

    /// The same request with `body`.
    pub const fn with_body(self, body: &'a [u8]) -> Request<'a> {
        Request { body, ..self }
    }

    /// The same request, received from `peer`.
    pub const fn with_peer(self, peer: IpAddr) -> Request<'a> {
        Request { peer: Some(peer), ..self }
    }

    /// The same request with `headers`.
    pub const fn with_headers(self, headers: &'a [Header<'a>]) -> Request<'a> {
        Request { headers, ..self }
    }
}
