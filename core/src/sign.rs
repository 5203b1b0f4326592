//! The client side: credentials + scheme + request + injected time and nonce → headers.

use core::fmt;

use crate::headers::{Computed, HeaderSet, Sent, check_value};
use crate::mac::{MacKey, Midstate, Prefixed, finish};
use crate::message::{FieldChecks, MessageInput, Part, contains};
use crate::scheme::{Field, Kind, Scheme};
use crate::time::format_decimal;
use crate::{Error, Request, UnixNanos};

/// What a client holds. Fields a scheme does not use may stay empty.
#[derive(Copy, Clone)]
pub struct Credentials<'a> {
    /// The API key: the static key itself, or the key id of a signed scheme.
    pub api_key: &'a str,
    /// The API secret (HMAC key; sent in clear only by Aevo's key-and-secret scheme).
    pub secret: &'a [u8],
    /// The user id (APEX).
    pub user_id: &'a str,
    /// A bearer or session token.
    pub token: &'a str,
}

impl Credentials<'_> {
    /// All fields empty.
    pub const EMPTY: Credentials<'static> = Credentials { api_key: "", secret: b"", user_id: "", token: "" };
}

impl fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("user_id", &self.user_id).finish_non_exhaustive()
    }
}

/// The time and nonce for one request: the core has no clock and no RNG.
#[derive(Copy, Clone, Debug, Eq, PartialEq, Default)]
pub struct Stamp {
    /// Now, in nanoseconds since the UNIX epoch (converted to the scheme's unit).
    pub now: UnixNanos,
    /// The nonce, for schemes that send one (APEX: a per-request counter).
    pub nonce: Option<u64>,
}

/// Signs requests for one scheme and one set of credentials. Build it once: the HMAC key
/// state is precomputed, so each request costs only its own message.
///
/// ```
/// use apisig::{dialect, Credentials, Request, Signer, Stamp};
/// let creds = Credentials { api_key: "API_KEY", secret: b"API_SECRET", ..Credentials::EMPTY };
/// let signer = Signer::new(&dialect::AEVO, creds)?;
/// let headers = signer.sign(&Request::new("GET", "/account"), Stamp { now: 1673425955575713842, nonce: None })?;
/// assert_eq!(headers.get("AEVO-TIMESTAMP").map(|h| h.value), Some("1673425955575713842"));
/// assert_eq!(headers.get("AEVO-SIGNATURE").map(|h| h.value_len()), Some(64));
/// # Ok::<(), apisig::Error>(())
/// ```
#[derive(Clone)]
pub struct Signer<'a> {
    scheme: Scheme<'a>,
    creds: Credentials<'a>,
    /// What the headers send as it is.
    sent: Sent<'a>,
    /// The HMAC key, with its computation paused after the template's leading parts that
    /// never change for this signer (the API key, the user id, literals), and how many parts
    /// that is.
    mac: Option<Prefixed<Midstate>>,
    fixed_parts: usize,
    /// The request checks in one pass over each field, when the template allows it; the
    /// credentials are checked for the separator once, here, not on every request.
    fields: Option<FieldChecks>,
}

/// The credentials as the bytes headers send.
#[derive(Copy, Clone)]
pub(crate) struct SentBytes<'a> {
    pub(crate) api_key: &'a [u8],
    pub(crate) secret: &'a [u8],
    pub(crate) user_id: &'a [u8],
    pub(crate) token: &'a [u8],
}

impl<'a> From<&Credentials<'a>> for SentBytes<'a> {
    fn from(c: &Credentials<'a>) -> Self {
        SentBytes {
            api_key: c.api_key.as_bytes(),
            secret: c.secret,
            user_id: c.user_id.as_bytes(),
            token: c.token.as_bytes(),
        }
    }
}

/// Checks the credential a header with `field` sends as it is (nothing for the values a
/// signer computes): present, and sendable in a header.
///
/// # Errors
/// [`Error::InvalidHeaderValue`] for an empty user id or a value [`check_value`] refuses;
/// [`Error::EmptySecret`] for an empty key, token or secret.
#[inline(always)]
pub(crate) fn check_sent(field: Field, creds: &SentBytes<'_>) -> Result<(), Error> {
    let value: &[u8] = match field {
        Field::ApiKey => creds.api_key,
        Field::Jwt | Field::SessionToken => creds.token,
        Field::Secret => creds.secret,
        Field::UserId => creds.user_id,
        Field::Timestamp | Field::Nonce | Field::Signature => return Ok(()),
    };
    if value.is_empty() {
        return Err(if field == Field::UserId { Error::InvalidHeaderValue } else { Error::EmptySecret });
    }
    check_value(value)
}

impl<'a> Signer<'a> {
    /// Checks the scheme and credentials and precomputes the HMAC key.
    ///
    /// # Errors
    /// [`Error::InvalidTemplate`] for an incoherent scheme, [`Error::EmptySecret`] for an
    /// empty key, token or (for signing schemes) secret, [`Error::InvalidHeaderValue`] for a
    /// credential that cannot be sent in a header (CR, LF, controls, non-ASCII).
    // Always inlined, with `checked`: for a constant scheme (a preset) the scheme's checks and
    // the branches of other schemes fold away at compile time.
    #[inline(always)]
    pub fn new(scheme: &Scheme<'a>, creds: Credentials<'a>) -> Result<Signer<'a>, Error> {
        let mut signer = Self::checked(scheme, creds)?;
        if scheme.template.is_some() {
            signer.keyed(MacKey::new(creds.secret)?);
        }
        Ok(signer)
    }

    /// As [`new`](Self::new), built in place in `slot` rather than returned: for storage
    /// that must not be copied through the stack (a signer kept in a firmware's static
    /// storage, the C ABI's `apisig_signer`). `slot` holds the signer on success and is
    /// `None` on error.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    ///
    /// ```
    /// use apisig::{dialect, Credentials, Request, Signer, Stamp};
    /// let creds = Credentials { api_key: "API_KEY", secret: b"API_SECRET", ..Credentials::EMPTY };
    /// let (mut slot, req) = (None, Request::new("GET", "/account"));
    /// Signer::new_in(&mut slot, &dialect::AEVO, creds)?;
    /// let stamp = Stamp { now: 1673425955575713842, nonce: None };
    /// let signed = slot.as_ref().map(|s| s.sign(&req, stamp));
    /// assert_eq!(signed, Some(Signer::new(&dialect::AEVO, creds)?.sign(&req, stamp)));
    /// assert_eq!(Signer::new_in(&mut slot, &dialect::AEVO, Credentials { secret: b"", ..creds }).err(), Some(apisig::Error::EmptySecret));
    /// assert!(slot.is_none());
    /// # Ok::<(), apisig::Error>(())
    /// ```
    #[inline(always)]
    pub fn new_in(slot: &mut Option<Signer<'a>>, scheme: &Scheme<'a>, creds: Credentials<'a>) -> Result<(), Error> {
        *slot = None;
        let key = scheme.template.map(|_| MacKey::new(creds.secret));
        let signer = slot.insert(Self::checked(scheme, creds)?);
        match key {
            None => {}
            Some(Ok(key)) => signer.keyed(key),
            Some(Err(e)) => {
                *slot = None;
                return Err(e);
            }
        }
        Ok(())
    }

    /// As [`new`](Self::new), with the HMAC key state already computed: `key` must be
    /// `MacKey::new(creds.secret)`, and it is what signs. For bindings that keep credentials
    /// in objects of their own (a [`Signer`] borrows them) and so build a signer per request:
    /// they keep the key state beside the credentials and skip hashing the secret each time.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    ///
    /// ```
    /// use apisig::{dialect, Credentials, MacKey, Request, Signer, Stamp};
    /// let creds = Credentials { api_key: "API_KEY", secret: b"API_SECRET", ..Credentials::EMPTY };
    /// let key = MacKey::new(creds.secret)?; // once
    /// let stamp = Stamp { now: 1673425955575713842, nonce: None };
    /// let a = Signer::with_key(&dialect::AEVO, creds, key.clone())?.sign(&Request::new("GET", "/account"), stamp)?;
    /// let b = Signer::new(&dialect::AEVO, creds)?.sign(&Request::new("GET", "/account"), stamp)?;
    /// assert_eq!(a, b);
    /// # Ok::<(), apisig::Error>(())
    /// ```
    pub fn with_key(scheme: &Scheme<'a>, creds: Credentials<'a>, key: MacKey) -> Result<Signer<'a>, Error> {
        let mut signer = Self::checked(scheme, creds)?;
        if scheme.template.is_some() {
            if creds.secret.is_empty() {
                return Err(Error::EmptySecret);
            }
            signer.keyed(key);
        }
        Ok(signer)
    }

    /// Takes the HMAC key and hashes the template's leading fixed parts with it, once.
    fn keyed(&mut self, key: MacKey) {
        if let Some(t) = &self.scheme.template {
            self.fixed_parts = t.fixed_prefix();
            let input = MessageInput {
                api_key: self.creds.api_key.as_bytes(),
                user_id: self.creds.user_id.as_bytes(),
                ..MessageInput::EMPTY
            };
            self.mac = Some(Prefixed::new(key, |state| t.stream_parts(0..self.fixed_parts, &input, state)));
        }
    }

    /// Everything `new` checks but the HMAC key.
    #[inline(always)]
    fn checked(scheme: &Scheme<'a>, creds: Credentials<'a>) -> Result<Signer<'a>, Error> {
        scheme.check()?;
        let mut secret_text = "";
        for h in scheme.headers {
            check_sent(h.field, &SentBytes::from(&creds))?;
            if h.field == Field::Secret {
                secret_text = core::str::from_utf8(creds.secret).map_err(|_| Error::InvalidHeaderValue)?;
            }
        }
        let fields = scheme.template.as_ref().and_then(|t| {
            // Neither the API key nor the user id holds the separator; a separator with a byte
            // that is not a decimal digit cannot be in a timestamp or nonce.
            let creds_clean =
                !contains(creds.api_key.as_bytes(), t.separator) && !contains(creds.user_id.as_bytes(), t.separator);
            let digits_clean = t.separator_outside_digits();
            FieldChecks::plan(t, |p| match p {
                Part::ApiKey | Part::UserId => creds_clean,
                Part::Timestamp | Part::Nonce => digits_clean,
                _ => false,
            })
        });
        let sent = Sent {
            api_key: creds.api_key,
            secret: secret_text,
            user_id: creds.user_id,
            token: creds.token,
            key_is_secret: scheme.kind() == Kind::StaticKey,
        };
        Ok(Signer { scheme: *scheme, creds, sent, mac: None, fixed_parts: 0, fields })
    }

    /// The scheme this signer uses.
    pub fn scheme(&self) -> &Scheme<'a> {
        &self.scheme
    }

    /// Writes the timestamp and (for schemes that send one) the nonce digits.
    fn stamp_digits<'b>(
        &self,
        stamp: Stamp,
        ts: &'b mut [u8; 20],
        nonce: &'b mut [u8; 20],
    ) -> Result<(&'b [u8], &'b [u8]), Error> {
        let ts = format_decimal(self.scheme.time_unit.from_nanos(stamp.now), ts);
        let nonce: &[u8] = if self.scheme.has(Field::Nonce) {
            format_decimal(stamp.nonce.ok_or(Error::InvalidNonce)?, nonce)
        } else {
            b""
        };
        Ok((ts, nonce))
    }

    /// The values the template draws from, for `req` at these digits.
    fn input<'i>(&'i self, req: &Request<'i>, ts: &'i [u8], nonce: &'i [u8]) -> MessageInput<'i> {
        MessageInput {
            api_key: self.creds.api_key.as_bytes(),
            timestamp: ts,
            nonce,
            user_id: self.creds.user_id.as_bytes(),
            method: req.method.as_bytes(),
            path: req.path.as_bytes(),
            body: req.body,
            headers: req.headers,
            uppercase_method: true,
        }
    }

    /// Checks that `input` can be signed unambiguously (built and checked in two steps, so
    /// the input is made in place rather than moved out of a `Result`).
    fn check(&self, input: &MessageInput<'_>) -> Result<(), Error> {
        self.scheme.template.as_ref().map_or(Ok(()), |t| t.check_request(self.fields.as_ref(), input))
    }

    /// The headers for `req` at `stamp`, in the scheme's order.
    ///
    /// # Errors
    /// [`Error::InvalidNonce`] when the scheme needs a nonce and `stamp` has none;
    /// [`Error::InvalidMethod`], [`Error::InvalidPath`], [`Error::SeparatorInField`],
    /// [`Error::MissingCredential`] (a header the template signs is absent) for a request the
    /// scheme cannot sign unambiguously.
    pub fn sign(&self, req: &Request<'_>, stamp: Stamp) -> Result<HeaderSet<'a>, Error> {
        let mut computed = Computed::new();
        let (ts_buf, nonce_buf, sig_buf) = computed.parts().ok_or(Error::InvalidTemplate)?;
        let (ts, nonce) = self.stamp_digits(stamp, ts_buf, nonce_buf)?;
        let mut sig_len = 0;
        if let (Some(t), Some(mac)) = (&self.scheme.template, &self.mac) {
            let input = self.input(req, ts, nonce);
            let mut state = mac.resume();
            t.stream_parts(self.fixed_parts..t.parts.len(), &input, &mut state);
            let tag = finish(&mut state);
            // Checked after the MAC (streaming skips what it cannot use, and a refused
            // request's tag is dropped): the checks run while the last compressions, one long
            // dependency chain, are still in flight.
            self.check(&input)?;
            sig_len = t.encoding.encode_into(&tag, sig_buf).len();
        }
        computed.lens = [ts.len(), nonce.len(), sig_len];
        HeaderSet::new(self.scheme.headers, self.sent, computed)
    }

    /// The headers as [`sign`](Self::sign) makes them, with the values it computes for each
    /// request ([`Field::per_request`]: timestamp, nonce, signature) empty — the part of every
    /// request's headers a binding can build once.
    ///
    /// ```
    /// use apisig::{dialect, Credentials, Signer};
    /// let signer = Signer::new(&dialect::AEVO, Credentials { api_key: "KEY", secret: b"S", ..Credentials::EMPTY })?;
    /// let fixed = signer.fixed_headers();
    /// assert_eq!(fixed.get("AEVO-KEY").map(|h| h.value), Some("KEY"));
    /// assert_eq!(fixed.get("AEVO-SIGNATURE").map(|h| h.value), Some(""));
    /// # Ok::<(), apisig::Error>(())
    /// ```
    pub fn fixed_headers(&self) -> HeaderSet<'a> {
        HeaderSet::fixed(self.scheme.headers, self.sent)
    }

    /// Length of the message `sign` would sign for `req` at `stamp`.
    ///
    /// # Errors
    /// As [`message`](Self::message), without [`Error::BufferTooSmall`].
    pub fn message_len(&self, req: &Request<'_>, stamp: Stamp) -> Result<usize, Error> {
        let t = self.scheme.template.ok_or(Error::InvalidTemplate)?;
        let (mut ts_buf, mut nonce_buf) = ([0u8; 20], [0u8; 20]);
        let (ts, nonce) = self.stamp_digits(stamp, &mut ts_buf, &mut nonce_buf)?;
        let input = self.input(req, ts, nonce);
        self.check(&input)?;
        t.message_len(&input)
    }

    /// Writes the exact message `sign` would sign for `req` at `stamp` into `out`.
    ///
    /// # Errors
    /// As [`sign`](Self::sign); [`Error::InvalidTemplate`] for a scheme that signs nothing;
    /// [`Error::BufferTooSmall`] when `out` is too short (nothing is written then).
    pub fn message<'o>(&self, req: &Request<'_>, stamp: Stamp, out: &'o mut [u8]) -> Result<&'o [u8], Error> {
        let t = self.scheme.template.ok_or(Error::InvalidTemplate)?;
        let (mut ts_buf, mut nonce_buf) = ([0u8; 20], [0u8; 20]);
        let (ts, nonce) = self.stamp_digits(stamp, &mut ts_buf, &mut nonce_buf)?;
        let input = self.input(req, ts, nonce);
        self.check(&input)?;
        t.render(&input, out)
    }
}

impl fmt::Debug for Signer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer").field("scheme", &self.scheme.name).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signer's own request checks (credentials checked once, digits skipped when the
    /// separator cannot occur in them, method, path and body checked in one pass each when
    /// the template allows it) against the template's generic ones, as the oracle: same
    /// verdict for every request, over separators made of digits, letters of either case and
    /// path bytes, and templates where each request field comes last or not.
    #[test]
    fn request_checks_agree_with_the_template() {
        use crate::Encoding;
        use crate::message::Template;
        use crate::message::check_path;
        use crate::scheme::HeaderSpec;
        let headers = [
            HeaderSpec::new("X-Ts", Field::Timestamp),
            HeaderSpec::new("X-Sig", Field::Signature),
            HeaderSpec::new("X-Key", Field::ApiKey),
        ];
        let shapes: [&[Part<'_>]; 5] = [
            &[Part::ApiKey, Part::Timestamp, Part::Method, Part::Path, Part::Body],
            &[Part::Method, Part::Body, Part::Path, Part::Timestamp],
            &[Part::Body, Part::Path, Part::Literal(b"v,1"), Part::Method],
            &[Part::Timestamp, Part::Path, Part::Header("X-Id")],
            &[Part::Timestamp, Part::Path, Part::Path],
        ];
        let extra = [crate::headers::Header::new("x-id", "i,d")];
        let (mut outcomes, mut fast) = (std::collections::BTreeSet::new(), 0);
        for parts in shapes {
            for separator in [&b","[..], b"5", b"55", b"5,", b"", b"E", b"e", b"/", b"\0"] {
                let template = Template { parts, separator, encoding: Encoding::LowerHex };
                let scheme = Scheme {
                    name: "t",
                    headers: &headers,
                    template: Some(template),
                    time_unit: crate::TimeUnit::Nanos,
                    retry_on: crate::rotation::RetryOn::Unauthorized,
                };
                for key in ["k", "k5", "k,"] {
                    let creds = Credentials { api_key: key, secret: b"s", ..Credentials::EMPTY };
                    let Ok(signer) = Signer::new(&scheme, creds) else { continue };
                    fast += usize::from(signer.fields.is_some());
                    for (now, method) in
                        [(123u64, "get"), (155, "GET"), (1, "G,T"), (7, "gEt"), (8, "PO/ST"), (9, "G T")]
                    {
                        for path in ["/a", "/a5", "/a,b", "/e", "/E", "a", "/a b", "/"] {
                            for body in [&b"x,5"[..], b"E", b"", b"/e"] {
                                let req = Request::new(method, path).with_body(body).with_headers(&extra);
                                let mut digits = [0u8; 20];
                                let input = MessageInput {
                                    api_key: key.as_bytes(),
                                    timestamp: format_decimal(now, &mut digits),
                                    method: method.as_bytes(),
                                    path: path.as_bytes(),
                                    body,
                                    headers: &extra,
                                    uppercase_method: true,
                                    ..MessageInput::EMPTY
                                };
                                let expected = check_path(input.path).and_then(|()| template.check_input(&input));
                                let got = signer.sign(&req, Stamp { now, nonce: None }).map(|_| ());
                                assert_eq!(
                                    got, expected,
                                    "{parts:?} {separator:?} {key} {now} {method} {path} {body:?}"
                                );
                                outcomes.insert(std::format!("{got:?}"));
                            }
                        }
                    }
                }
            }
        }
        let all: std::vec::Vec<_> = outcomes.into_iter().collect();
        assert_eq!(all, ["Err(InvalidMethod)", "Err(InvalidPath)", "Err(SeparatorInField)", "Ok(())"]);
        assert!(fast > 20, "the one-pass checks ran for {fast} signers");
    }
}
