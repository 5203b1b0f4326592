//! The server side: presented credentials + client store + window + replay record + `now` →
//! [`Principal`] or one [`Error`].

use core::net::IpAddr;

use subtle::{Choice, ConditionallySelectable};

use crate::client::{Client, KEY_ID_MAX, Scopes, Slot};
use crate::headers::{Header, NameKey};
use crate::jwt::JwtPolicy;
use crate::message::{FieldChecks, MessageInput, Part, Template};
use crate::pin::PinKind;
use crate::policy::RoleId;
use crate::replay::{REPLAY_ID_LEN, ReplayCache, ReplayStore};
use crate::scheme::{Field, HeaderSpec, Kind, READ_HEADERS_MAX, Scheme};
use crate::session::SessionKeys;
use crate::store::{ClientStore, PresentedKey};
use crate::time::parse_decimal;
use crate::{Error, Request, UnixNanos, Window, mac, pin};

/// Who a verified request comes from.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Principal {
    /// The client's stable id: its key id (or label), [`Client::id`].
    pub id: heapless::String<KEY_ID_MAX>,
    /// Which of its slots matched (for a bearer JWT naming the client, [`Slot::Primary`]).
    pub slot: Slot,
    /// Its role, if it has one (authorise it with [`Policy::authorize`](crate::policy::Policy::authorize)).
    pub role: Option<RoleId>,
    /// Its scopes (check them with [`ScopeNames::authorize`](crate::policy::ScopeNames::authorize)).
    pub scopes: Scopes,
}

impl Principal {
    /// The principal of `client` authenticated by `slot` (`None`: a credential that is no
    /// slot's, a bearer JWT naming it), once [`Client::admits`] it from `peer` at `now`.
    fn admitted(client: &Client, slot: Option<Slot>, peer: Option<IpAddr>, now: UnixNanos) -> Result<Self, Error> {
        client.admits(slot, peer, now)?;
        Ok(Principal {
            id: heapless::String::try_from(client.id()).map_err(|_| Error::FieldTooLong)?,
            slot: slot.unwrap_or(Slot::Primary),
            role: client.role(),
            scopes: client.scopes(),
        })
    }
}

/// A scheme checked once ([`Scheme::check`]), with what verifying under it needs worked out
/// ahead: its kind, which header carries each field, and the request checks its template
/// plans. [`Verifier::verify`] does this on every call: for a compile-time constant such as a
/// [`dialect`](crate::dialect) preset the compiler does it ahead (`verify`, `new` and
/// [`Scheme::check`] are always inlined so that it can); a server that chooses schemes at
/// run time prepares each once and calls [`Verifier::verify_prepared`] (preparing an Aevo
/// scheme costs about 850 instructions, against about 2,200 for the rest of a 200-byte
/// request's verification beyond SHA-256's compressions: `scripts/bench-profile.sh`).
///
/// ```
/// use apisig::{dialect, PreparedScheme};
/// let aevo = PreparedScheme::new(&dialect::AEVO)?;
/// assert_eq!(aevo.scheme().name, "aevo");
/// # Ok::<(), apisig::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct PreparedScheme<'a> {
    scheme: Scheme<'a>,
    kind: Kind,
    /// The index in `scheme.headers` of the header carrying each field (by `Field as usize`).
    specs: [Option<u8>; FIELDS],
    /// The name keys of `scheme.headers`, in order.
    names: [NameKey; crate::headers::MAX_HEADERS],
    /// A signed scheme's request checks, in one pass per field, when its template allows.
    fields: Option<FieldChecks>,
}

/// How many [`Field`]s there are.
const FIELDS: usize = 8;
const _: () = assert!(Field::Signature as usize == FIELDS - 1, "Signature is the last field");

impl<'a> PreparedScheme<'a> {
    /// Checks `scheme` and prepares it.
    ///
    /// # Errors
    /// [`Error::InvalidTemplate`] for an incoherent scheme (see [`Scheme::check`]).
    #[inline(always)]
    pub fn new(scheme: &Scheme<'a>) -> Result<Self, Error> {
        scheme.check()?;
        let mut specs = [None; FIELDS];
        let mut names = [NameKey::default(); crate::headers::MAX_HEADERS];
        for ((i, h), name) in scheme.headers.iter().enumerate().zip(names.iter_mut()) {
            if let Some(slot) = specs.get_mut(h.field as usize) {
                *slot = u8::try_from(i).ok();
            }
            *name = NameKey::new(h.name.as_bytes());
        }
        // Timestamps and nonces are parsed as decimal digits before the checks run: a
        // separator with another byte cannot be in them.
        let fields = scheme.template.as_ref().and_then(|t| {
            let digits_clean = !t.separator.iter().all(u8::is_ascii_digit);
            FieldChecks::plan(t, |p| digits_clean && matches!(p, Part::Timestamp | Part::Nonce))
        });
        Ok(PreparedScheme { scheme: *scheme, kind: scheme.kind(), specs, names, fields })
    }

    /// The scheme.
    pub fn scheme(&self) -> &Scheme<'a> {
        &self.scheme
    }

    /// The header carrying `field`, if the scheme sends it.
    fn spec(&self, field: Field) -> Option<&HeaderSpec<'a>> {
        let i = (*self.specs.get(field as usize)?)?;
        self.scheme.headers.get(usize::from(i))
    }

    fn has(&self, field: Field) -> bool {
        self.specs.get(field as usize).is_some_and(Option::is_some)
    }
}

/// Verifies requests against the clients of a [`ClientStore`] (a
/// [`Keyring`](crate::keyring::Keyring) in firmware), a freshness window and a replay store
/// (by default an in-memory [`ReplayCache`]).
///
/// Every credential — signature, key and secret, static key, bearer JWT naming a client,
/// session token, certificate pin — ends at one client, which must then be admitted
/// ([`Client::admits`]): a revoked or disabled client, a revoked or expired key and a peer
/// outside the client's allowed addresses are refused, each with its own error, before
/// anything is recorded.
///
/// ```
/// use apisig::{dialect, Credentials, Request, Signer, Stamp, Verifier, Window, headers::Header, keyring::Keyring, replay::ReplayCache};
/// let mut ring = Keyring::<4>::new();
/// ring.add("API_KEY", b"API_SECRET")?;
/// let mut verifier = Verifier::new(ring, ReplayCache::<64>::new(), Window::DEFAULT);
///
/// let creds = Credentials { api_key: "API_KEY", secret: b"API_SECRET", ..Credentials::EMPTY };
/// let now = 1673425955575713842;
/// let signed = Signer::new(&dialect::AEVO, creds)?.sign(&Request::new("GET", "/account"), Stamp { now, nonce: None })?;
/// let (mut store, mut slots) = ([0u8; 256], [Header::new("", ""); apisig::headers::MAX_HEADERS]);
/// let headers = signed.as_request_headers(&mut store, &mut slots)?;
///
/// let req = Request::new("GET", "/account").with_headers(headers);
/// let who = verifier.verify(&dialect::AEVO, &req, now)?;
/// assert_eq!(who.id, "API_KEY");
/// assert_eq!(verifier.verify(&dialect::AEVO, &req, now), Err(apisig::Error::ReplayedRequest));
/// # Ok::<(), apisig::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Verifier<C, S = ReplayCache<256>> {
    store: C,
    replay: S,
    window: Window,
    jwt: Option<JwtPolicy>,
    sessions: Option<SessionKeys>,
}

impl<C: ClientStore, S: ReplayStore> Verifier<C, S> {
    /// A verifier over the clients of `store`, recording accepted requests in `replay`.
    pub const fn new(store: C, replay: S, window: Window) -> Self {
        Verifier { store, replay, window, jwt: None, sessions: None }
    }

    /// Accepts bearer JWTs under `policy` (`None`: refuse them as unsupported).
    pub fn set_jwt(&mut self, policy: Option<JwtPolicy>) {
        self.jwt = policy;
    }

    /// Accepts session tokens made with `keys` (`None`: refuse them as unsupported).
    pub fn set_session_keys(&mut self, keys: Option<SessionKeys>) {
        self.sessions = keys;
    }

    /// The session keys, to issue a token after a successful APEX `AuthenticateUser`.
    pub fn session_keys(&self) -> Option<&SessionKeys> {
        self.sessions.as_ref()
    }

    /// The client pinned to a TLS peer's certificate (DER), with the same principal and role
    /// as its other credentials, admitted from `peer` at `now`. Call it after the TLS library
    /// has checked the chain.
    ///
    /// # Errors
    /// [`Error::InvalidCertificate`] for DER this reader refuses, [`Error::UnpinnedCertificate`]
    /// when no client is pinned to it; the errors of [`Client::admits`]; the store's.
    pub fn verify_certificate(&self, der: &[u8], peer: Option<IpAddr>, now: UnixNanos) -> Result<Principal, Error> {
        for kind in [PinKind::Certificate, PinKind::PublicKey] {
            let fingerprint = pin::fingerprint(der, kind)?;
            if let Some(client) = self.store.by_pin(kind, &fingerprint)? {
                // The store found a candidate; its pins are compared here, in constant time.
                let slot = client.match_pin(kind, &fingerprint).ok_or(Error::UnpinnedCertificate)?;
                return Principal::admitted(&client, Some(slot), peer, now);
            }
        }
        Err(Error::UnpinnedCertificate)
    }

    /// Verifies a request from a TLS peer whose client certificate (DER) the TLS library has
    /// checked (mutual TLS). With no `scheme` the pinned certificate authenticates by itself;
    /// with a scheme, the request must also carry the scheme's credentials, naming the client
    /// the certificate is pinned to (Securosys TSB: an API key plus the client certificate),
    /// and the principal is the credentials' (their key slot).
    ///
    /// The certificate is checked first, so a request refused for it records nothing (no
    /// nonce, no signature); nor does one whose credentials name another client.
    ///
    /// ```
    /// use apisig::{dialect, Error, PreparedScheme, Request, Verifier, Window, headers::Header, keyring::Keyring, replay::ReplayCache};
    /// let mut v = Verifier::new(Keyring::<4>::new(), ReplayCache::<8>::new(), Window::DEFAULT);
    /// let securosys = PreparedScheme::new(&dialect::SECUROSYS)?;
    /// let headers = [Header::new("X-API-KEY", "tsb-key")];
    /// let req = Request::new("GET", "/v1/sign").with_headers(&headers);
    /// assert_eq!(v.verify_with_certificate(Some(&securosys), &req, None, 0), Err(Error::MissingCredential));
    /// assert_eq!(v.verify_with_certificate(None, &req, Some(b"not DER"), 0), Err(Error::InvalidCertificate));
    /// # Ok::<(), apisig::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::MissingCredential`] without a certificate; [`Error::InvalidCertificate`];
    /// [`Error::UnpinnedCertificate`] when no client is pinned to it, or when the credentials
    /// name another client; with a scheme, every error of [`verify`](Self::verify).
    pub fn verify_with_certificate(
        &mut self,
        scheme: Option<&PreparedScheme<'_>>,
        req: &Request<'_>,
        certificate: Option<&[u8]>,
        now: UnixNanos,
    ) -> Result<Principal, Error> {
        let pinned = self.verify_certificate(certificate.ok_or(Error::MissingCredential)?, req.peer, now)?;
        match scheme {
            None => Ok(pinned),
            Some(scheme) => self.verify_for(scheme, req, now, Some(&pinned.id)),
        }
    }

    /// The client store.
    pub fn store(&self) -> &C {
        &self.store
    }

    /// The client store, to register, rotate or revoke clients.
    pub fn store_mut(&mut self) -> &mut C {
        &mut self.store
    }

    /// The replay store.
    pub fn replay(&self) -> &S {
        &self.replay
    }

    /// The replay store, to take a [`Deferred`](crate::claim::Deferred) store's claim.
    pub fn replay_mut(&mut self) -> &mut S {
        &mut self.replay
    }

    /// The freshness window.
    pub fn window(&self) -> Window {
        self.window
    }

    /// Changes the freshness window (for requests verified from now on).
    pub fn set_window(&mut self, window: Window) {
        self.window = window;
    }

    /// Verifies `req` under `scheme` at `now` (nanoseconds since the UNIX epoch).
    ///
    /// Credentials are read from the request's headers (for APEX's body variant, see
    /// [`verify_json_body`](Self::verify_json_body)). On success the request is recorded (its
    /// signature in the replay store, or its nonce as the client's new high-water mark); on
    /// error nothing is recorded.
    ///
    /// # Errors
    /// [`Error::MissingCredential`], [`Error::DuplicateHeader`] for the headers;
    /// [`Error::UnknownKey`], [`Error::SecretMismatch`], [`Error::SignatureMismatch`],
    /// [`Error::InvalidSignatureEncoding`], [`Error::UserIdMismatch`] for the credentials;
    /// [`Error::InvalidTimestamp`], [`Error::TimestampOutsideWindow`], [`Error::InvalidNonce`],
    /// [`Error::ReplayedRequest`], [`Error::ReplayCacheFull`] for freshness;
    /// [`Error::InvalidMethod`], [`Error::InvalidPath`], [`Error::SeparatorInField`] for a
    /// request that cannot have been signed unambiguously; [`Error::UnsupportedCredential`]
    /// for token schemes the verifier is not configured for, and the errors of
    /// [`jwt::verify`](crate::jwt::verify) and [`SessionKeys::verify`]; [`Error::InvalidTemplate`]
    /// for an incoherent scheme; once the credential checked out, those of [`Client::admits`]
    /// ([`Error::ClientRevoked`], [`Error::ClientDisabled`], [`Error::KeyRevoked`],
    /// [`Error::KeyExpired`], [`Error::AddressNotAllowed`]); the store's
    /// ([`Error::StoreUnavailable`]).
    // Always inlined, with `PreparedScheme::new`: a constant scheme is prepared at compile time.
    #[inline(always)]
    pub fn verify(&mut self, scheme: &Scheme<'_>, req: &Request<'_>, now: UnixNanos) -> Result<Principal, Error> {
        self.verify_prepared(&PreparedScheme::new(scheme)?, req, now)
    }

    /// As [`verify`](Self::verify), under a scheme checked and prepared ahead.
    ///
    /// # Errors
    /// As [`verify`](Self::verify).
    #[inline]
    pub fn verify_prepared(
        &mut self,
        scheme: &PreparedScheme<'_>,
        req: &Request<'_>,
        now: UnixNanos,
    ) -> Result<Principal, Error> {
        self.verify_for(scheme, req, now, None)
    }

    /// As [`verify_prepared`](Self::verify_prepared), for a request whose credentials may
    /// come in its JSON body instead of its headers: APEX `AuthenticateUser`, which sends
    /// `{"APIKey", "Signature", "UserId", "Nonce"}` in its body (its OpenAPI) or as headers
    /// (`UserName` and any other member are ignored). When the headers name every header of
    /// the scheme they are used and the body is not read; otherwise the credentials are the
    /// body's members named exactly like the scheme's headers — strings, or for a timestamp,
    /// nonce or user id numbers, taken as written — and headers of those names are ignored.
    ///
    /// ```
    /// use apisig::{dialect, Credentials, PreparedScheme, Request, Signer, Stamp, Verifier, Window, keyring::Keyring, replay::ReplayCache};
    /// let mut ring = Keyring::<4>::new();
    /// ring.add("f3a9c2e5", b"apex-secret")?;
    /// ring.bind_user_id("f3a9c2e5", "12")?;
    /// let mut v = Verifier::new(ring, ReplayCache::<8>::new(), Window::DEFAULT);
    /// let creds = Credentials { api_key: "f3a9c2e5", secret: b"apex-secret", user_id: "12", ..Credentials::EMPTY };
    /// let signed = Signer::new(&dialect::APEX, creds)?.sign(&Request::new("POST", "/AuthenticateUser"), Stamp { now: 0, nonce: Some(7) })?;
    /// let mut body = [0u8; 256];
    /// let body = signed.write_json(&mut body)?; // {"APIKey":"f3a9c2e5","Signature":"…","UserId":"12","Nonce":"7"}
    /// let req = Request::new("POST", "/AuthenticateUser").with_body(body);
    /// let apex = PreparedScheme::new(&dialect::APEX)?;
    /// assert_eq!(v.verify_json_body(&apex, &req, 0)?.id, "f3a9c2e5");
    /// assert_eq!(v.verify_json_body(&apex, &req, 0), Err(apisig::Error::ReplayedRequest));
    /// # Ok::<(), apisig::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`verify`](Self::verify); from the body, [`Error::InvalidBody`] for one that is not
    /// one JSON object, or a credential of another type or written with escapes, and
    /// [`Error::DuplicateHeader`] for a credential named twice.
    pub fn verify_json_body(
        &mut self,
        scheme: &PreparedScheme<'_>,
        req: &Request<'_>,
        now: UnixNanos,
    ) -> Result<Principal, Error> {
        let specs = scheme.scheme.headers;
        if specs
            .iter()
            .all(|s| req.headers.iter().any(|h| crate::headers::same_name(h.name.as_bytes(), s.name.as_bytes())))
        {
            return self.verify_prepared(scheme, req, now);
        }
        let mut read = [Header::new("", ""); READ_HEADERS_MAX];
        let from_body: &mut [Header<'_>; crate::headers::MAX_HEADERS] =
            read.first_chunk_mut().ok_or(Error::InvalidTemplate)?;
        let mut m = crate::body::read(&scheme.scheme, req.body, from_body)?;
        // The headers a template signs (other than the scheme's own) still come from the
        // request. More of them than there is room for means a name repeats.
        for h in req.headers {
            let from_request = !specs.iter().any(|s| crate::headers::same_name(h.name.as_bytes(), s.name.as_bytes()))
                && scheme.scheme.reads(h.name.as_bytes());
            if from_request {
                *read.get_mut(m).ok_or(Error::DuplicateHeader)? = *h;
                m = m.saturating_add(1);
            }
        }
        let headers = read.get(..m).unwrap_or_default();
        self.verify_prepared(scheme, &Request { headers, ..*req }, now)
    }

    /// `verify_prepared`, for the client `pinned` only when one is given: a request whose
    /// credentials name another is refused with [`Error::UnpinnedCertificate`], before anything
    /// is recorded.
    #[inline]
    fn verify_for(
        &mut self,
        scheme: &PreparedScheme<'_>,
        req: &Request<'_>,
        now: UnixNanos,
        pinned: Option<&str>,
    ) -> Result<Principal, Error> {
        let presented = Presented::gather(scheme, req.headers);
        let not_pinned = |client: &Client| pinned.is_some_and(|p| p != client.id());
        match (scheme.kind, &scheme.scheme.template) {
            (Kind::Signed, Some(t)) => self.verify_signed(scheme, &presented, t, req, now, pinned),
            (Kind::StaticKey, _) => {
                let key = PresentedKey::new(presented.get(scheme, Field::ApiKey)?);
                let client = self.store.by_static_key(&key)?.ok_or(Error::UnknownKey)?;
                let slot = client.match_digest(key.digest()).ok_or(Error::UnknownKey)?;
                if not_pinned(&client) {
                    return Err(Error::UnpinnedCertificate);
                }
                Principal::admitted(&client, Some(slot), req.peer, now)
            }
            (Kind::KeyAndSecret, _) => {
                let client = self.store.by_id(presented.get(scheme, Field::ApiKey)?)?.ok_or(Error::UnknownKey)?;
                let secret = presented.get(scheme, Field::Secret)?;
                let slot = client.match_secret(secret).ok_or(Error::SecretMismatch)?;
                if not_pinned(&client) {
                    return Err(Error::UnpinnedCertificate);
                }
                Principal::admitted(&client, Some(slot), req.peer, now)
            }
            (Kind::Token, _) => {
                let principal = self.verify_token(scheme, &presented, req.peer, now)?;
                if pinned.is_some_and(|p| p != principal.id.as_str()) {
                    return Err(Error::UnpinnedCertificate);
                }
                Ok(principal)
            }
            (Kind::Signed, None) => Err(Error::InvalidTemplate),
        }
    }

    /// A bearer JWT or session token, with a static key beside it when the scheme sends one.
    /// Kept out of line: its token scratch space should not grow the stack of every verify.
    #[inline(never)]
    fn verify_token(
        &mut self,
        scheme: &PreparedScheme<'_>,
        presented: &Presented<'_, '_>,
        peer: Option<IpAddr>,
        now: UnixNanos,
    ) -> Result<Principal, Error> {
        for h in scheme.scheme.headers {
            presented.get(scheme, h.field)?;
        }
        let mut scratch = [0u8; crate::jwt::TOKEN_MAX];
        if scheme.has(Field::Jwt) {
            let policy = self.jwt.as_ref().ok_or(Error::UnsupportedCredential)?;
            let claims = policy.verify(presented.get(scheme, Field::Jwt)?, now, &mut scratch)?;
            if scheme.has(Field::ApiKey) {
                let key = PresentedKey::new(presented.get(scheme, Field::ApiKey)?);
                let client = self.store.by_static_key(&key)?.ok_or(Error::UnknownKey)?;
                let slot = client.match_digest(key.digest()).ok_or(Error::UnknownKey)?;
                return Principal::admitted(&client, Some(slot), peer, now);
            }
            // The token names the client: its status and addresses apply, not a key slot's.
            let sub = claims.sub.ok_or(Error::MissingClaim)?;
            let client = self.store.by_id(sub.as_bytes())?.ok_or(Error::UnknownKey)?;
            Principal::admitted(&client, None, peer, now)
        } else {
            let keys = self.sessions.as_ref().ok_or(Error::UnsupportedCredential)?;
            let token = presented.get(scheme, Field::SessionToken)?;
            let (session, slot) = keys.verify(token, now, &mut scratch)?;
            let client = self.store.by_id(session.key_id.as_bytes())?.ok_or(Error::UnknownKey)?;
            if client.user_id().is_some() {
                check_user_id(&client, session.user_id.as_bytes())?;
            }
            // The session lives as long as the key slot that opened it.
            Principal::admitted(&client, Some(slot), peer, now)
        }
    }

    fn verify_signed(
        &mut self,
        scheme: &PreparedScheme<'_>,
        presented: &Presented<'_, '_>,
        t: &Template<'_>,
        req: &Request<'_>,
        now: UnixNanos,
        pinned: Option<&str>,
    ) -> Result<Principal, Error> {
        let optional = |field| if scheme.has(field) { presented.get(scheme, field).map(Some) } else { Ok(None) };
        let key_id = optional(Field::ApiKey)?;
        let sig_text = presented.get(scheme, Field::Signature)?;
        let ts_text = optional(Field::Timestamp)?;
        let nonce_text = optional(Field::Nonce)?;
        let user_id = optional(Field::UserId)?;

        let named = match key_id {
            Some(k) => Some(self.store.by_id(k)?.ok_or(Error::UnknownKey)?),
            None => None,
        };
        let ts = match ts_text {
            Some(text) => {
                let ts = scheme.scheme.time_unit.to_nanos(parse_decimal(text).ok_or(Error::InvalidTimestamp)?);
                self.window.check(ts, now)?;
                Some(ts)
            }
            None => None,
        };
        let nonce = nonce_text.map(|n| parse_decimal(n).ok_or(Error::InvalidNonce)).transpose()?;
        if let (Some(c), Some(user)) = (&named, user_id) {
            check_user_id(c, user)?;
        }
        // Decoded in place, word by word: the comparison reads it right back.
        let mut tag = [0u8; crate::TAG_LEN];
        t.encoding.decode_into(sig_text, &mut tag)?;

        let input = MessageInput {
            api_key: key_id.unwrap_or_default(),
            timestamp: ts_text.unwrap_or_default(),
            nonce: nonce_text.unwrap_or_default(),
            user_id: user_id.unwrap_or_default(),
            method: req.method.as_bytes(),
            path: req.path.as_bytes(),
            body: req.body,
            headers: req.headers,
            uppercase_method: false,
        };
        t.check_request(scheme.fields.as_ref(), &input)?;

        let principal = {
            let named = named; // dropped with the block, before the store records a nonce
            let (client, slot) = match named {
                // A named client (its key id is public) is the only candidate: the cost does
                // not grow with the number of clients. A message that starts with its key id
                // resumes from the state its slots keep after the id's whole blocks.
                Some(client) => {
                    let after_id = t.parts.first() == Some(&Part::ApiKey);
                    let slot = match_tag(&client, after_id, t, &input, &tag).ok_or(Error::SignatureMismatch)?;
                    (client, slot)
                }
                // Schemes without a key id try every client.
                None => {
                    let (id, slot) = match_any(&self.store, t, &input, &tag)?;
                    (self.store.by_id(&id)?.ok_or(Error::UnknownKey)?, slot)
                }
            };
            if let (None, Some(user)) = (key_id, user_id) {
                check_user_id(&client, user)?;
            }
            if pinned.is_some_and(|p| p != client.id()) {
                return Err(Error::UnpinnedCertificate);
            }
            Principal::admitted(&client, Some(slot), req.peer, now)?
        };

        match (ts, nonce) {
            (Some(ts), _) => {
                let mut id = [0u8; REPLAY_ID_LEN];
                id.copy_from_slice(tag.get(..REPLAY_ID_LEN).unwrap_or(&[0; REPLAY_ID_LEN]));
                self.replay.check_and_insert(&principal.id, &id, self.window.expiry(ts), now)?;
            }
            (None, Some(nonce)) => {
                // The shared mark first: a nonce it refuses, or refused while it is
                // unreachable, leaves the client store's mark as it was. The client store's
                // mark is never above the shared one (every nonce it took, the shared store
                // took first), so it accepts what the shared store just did.
                self.replay.advance_nonce(&principal.id, nonce)?;
                self.store.advance_nonce(&principal.id, nonce)?;
            }
            (None, None) => return Err(Error::InvalidTemplate),
        }
        Ok(principal)
    }
}

/// The slot of `client` whose key signed `input`, if one did. Both slots that can sign are
/// computed and compared, and the result chosen without branching on secret data.
fn match_tag(
    client: &Client,
    after_id: bool,
    t: &Template<'_>,
    input: &MessageInput<'_>,
    tag: &[u8; crate::TAG_LEN],
) -> Option<Slot> {
    let mut found = Choice::from(0);
    let mut secondary = Choice::from(0);
    for (slot, secret) in client.secrets() {
        // A slot known only by its key's digest checks no signature.
        let Some(mac) = &secret.mac else { continue };
        // One state, fed and finished in place (not moved out of a branch).
        let mut state = if after_id { mac.resume(input.api_key) } else { mac.key().start() };
        if after_id {
            t.stream_parts(1..t.parts.len(), input, &mut state);
        } else {
            t.stream(input, &mut state);
        }
        let eq = mac::ct_eq(mac::finish(&mut state).as_bytes(), tag);
        secondary.conditional_assign(&Choice::from(u8::from(slot == Slot::Secondary)), eq);
        found |= eq;
    }
    bool::from(found).then_some(if bool::from(secondary) { Slot::Secondary } else { Slot::Primary })
}

/// The id and slot of the client whose key signed `input`, among every client of `store`
/// (schemes that send no key id). Every client is tried and the match copied without
/// branching on which one it is.
fn match_any<C: ClientStore>(
    store: &C,
    t: &Template<'_>,
    input: &MessageInput<'_>,
    tag: &[u8; crate::TAG_LEN],
) -> Result<(heapless::Vec<u8, KEY_ID_MAX>, Slot), Error> {
    let mut found = Choice::from(0);
    let mut id = [0u8; KEY_ID_MAX];
    let mut len = 0u8;
    let mut secondary = Choice::from(0);
    store.for_each(&mut |client| {
        let slot = match_tag(client, false, t, input, tag);
        let eq = Choice::from(u8::from(slot.is_some()));
        let mut candidate = [0u8; KEY_ID_MAX];
        candidate.iter_mut().zip(client.id().as_bytes()).for_each(|(d, s)| *d = *s);
        id.iter_mut().zip(candidate.iter()).for_each(|(d, s)| d.conditional_assign(s, eq));
        len.conditional_assign(&u8::try_from(client.id().len()).unwrap_or(0), eq);
        secondary.conditional_assign(&Choice::from(u8::from(slot == Some(Slot::Secondary))), eq);
        found |= eq;
    })?;
    if !bool::from(found) {
        return Err(Error::SignatureMismatch);
    }
    let id =
        heapless::Vec::from_slice(id.get(..usize::from(len)).unwrap_or_default()).map_err(|_| Error::FieldTooLong)?;
    Ok((id, if bool::from(secondary) { Slot::Secondary } else { Slot::Primary }))
}

/// Compares a presented user id with the one bound to `client`, in constant time.
fn check_user_id(client: &Client, presented: &[u8]) -> Result<(), Error> {
    let bound = client.user_id().ok_or(Error::UserIdMismatch)?.as_bytes();
    if bool::from(mac::ct_eq(bound, presented)) { Ok(()) } else { Err(Error::UserIdMismatch) }
}

/// What a request presents for each field its scheme reads, gathered in one pass over its
/// headers: where each field's header is. A field's error (its header absent, repeated, or
/// without its prefix) is kept, not returned, so it surfaces where the verifier first needs
/// that field: the errors come in the order the vectors pin, as when each field was looked up
/// on its own.
struct Presented<'h, 'a> {
    headers: &'h [Header<'a>],
    /// Per field (by `Field as usize`): 0 when no header carries it, `i + 1` when
    /// `headers[i]` alone does, [`REPEATED`] when more than one does. Words, not the values
    /// themselves: written and read back at the same width (a copy of freshly written values
    /// read back wider costs more than the pass).
    at: [usize; FIELDS],
}

/// See [`Presented::at`].
const REPEATED: usize = usize::MAX;

impl<'h, 'a> Presented<'h, 'a> {
    /// One pass over `headers`, each name compared (ASCII case-insensitively) with the names
    /// the scheme reads, by their [`NameKey`]s.
    #[inline]
    fn gather(scheme: &PreparedScheme<'_>, headers: &'h [Header<'a>]) -> Self {
        let mut at = [0usize; FIELDS];
        for (i, h) in headers.iter().enumerate() {
            let key = NameKey::new(h.name.as_bytes());
            for (spec, name) in scheme.scheme.headers.iter().zip(&scheme.names) {
                if key.matches(h.name.as_bytes(), name, spec.name.as_bytes()) {
                    if let Some(slot) = at.get_mut(spec.field as usize) {
                        *slot = if *slot == 0 { i.saturating_add(1) } else { REPEATED };
                    }
                }
            }
        }
        Presented { headers, at }
    }

    /// The value of the header carrying `field`, its prefix (`Bearer `) removed.
    ///
    /// # Errors
    /// [`Error::MissingCredential`] when the header is absent or lacks the prefix,
    /// [`Error::DuplicateHeader`] when it is repeated (which one a proxy or framework would
    /// use is a guess), [`Error::InvalidTemplate`] when the scheme has no such header.
    #[inline]
    fn get(&self, scheme: &PreparedScheme<'_>, field: Field) -> Result<&'a [u8], Error> {
        let spec = scheme.spec(field).ok_or(Error::InvalidTemplate)?;
        let value = match self.at.get(field as usize).copied().unwrap_or(0) {
            0 => return Err(Error::MissingCredential),
            REPEATED => return Err(Error::DuplicateHeader),
            i => self.headers.get(i.saturating_sub(1)).ok_or(Error::MissingCredential)?.value,
        };
        let prefix = spec.prefix.as_bytes();
        match value.get(..prefix.len()) {
            Some(head) if head.eq_ignore_ascii_case(prefix) => Ok(value.get(prefix.len()..).unwrap_or_default()),
            _ => Err(Error::MissingCredential),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headers;

    /// Each field as gathered in one pass against each field looked up on its own with
    /// [`headers::require`] and its prefix checked (as the verifier did before), the oracle:
    /// every preset, over requests whose headers are absent, present in any case, repeated,
    /// or without their prefix, with other headers around them and names sharing a length or
    /// a first word with the scheme's.
    #[test]
    fn gathered_fields_agree_with_lookups_one_by_one() {
        let oracle =
            |scheme: &PreparedScheme<'_>, hs: &[Header<'_>], field: Field| -> Result<std::vec::Vec<u8>, Error> {
                let spec = scheme.spec(field).ok_or(Error::InvalidTemplate)?;
                let value = headers::require(hs, spec.name)?;
                let prefix = spec.prefix.as_bytes();
                match value.get(..prefix.len()) {
                    Some(head) if head.eq_ignore_ascii_case(prefix) => {
                        Ok(value.get(prefix.len()..).unwrap_or_default().to_vec())
                    }
                    _ => Err(Error::MissingCredential),
                }
            };
        let fields = [
            Field::ApiKey,
            Field::Secret,
            Field::Jwt,
            Field::SessionToken,
            Field::Timestamp,
            Field::Nonce,
            Field::UserId,
            Field::Signature,
        ];
        let (mut checked, mut verdicts) = (0, std::collections::BTreeSet::new());
        for preset in crate::dialect::ALL {
            let scheme = PreparedScheme::new(preset).unwrap_or_else(|_| unreachable!());
            // Candidate headers: each of the scheme's, upper- and lowercased, with and without
            // its prefix, and decoys.
            let mut pool: std::vec::Vec<(std::string::String, std::string::String)> = std::vec::Vec::new();
            for h in preset.headers {
                pool.push((h.name.to_ascii_lowercase(), std::format!("{}v1", h.prefix)));
                pool.push((h.name.to_ascii_uppercase(), std::format!("{}v2", h.prefix.to_ascii_uppercase())));
                pool.push((h.name.into(), "v3".into()));
                let mut decoy = std::string::String::from(h.name);
                decoy.pop();
                decoy.push('#');
                pool.push((decoy, "x".into()));
            }
            pool.push(("Content-Type".into(), "application/json".into()));
            // Every subset of up to three pool entries, in order (repeats included).
            let n = pool.len();
            for a in 0..=n {
                for b in a..=n {
                    for c in b..=n {
                        let hs: std::vec::Vec<Header<'_>> = [a, b, c]
                            .iter()
                            .filter_map(|&i| pool.get(i))
                            .map(|(name, value)| Header::new(name, value))
                            .collect();
                        let gathered = Presented::gather(&scheme, &hs);
                        for field in fields {
                            let got = gathered.get(&scheme, field).map(<[u8]>::to_vec);
                            assert_eq!(got, oracle(&scheme, &hs, field), "{} {field:?} {hs:?}", preset.name);
                            checked += 1;
                            verdicts.insert(std::format!("{:?}", got.map(|v| v.is_empty())));
                        }
                    }
                }
            }
        }
        assert!(checked > 10_000, "{checked}");
        let all: std::vec::Vec<_> = verdicts.into_iter().collect();
        assert_eq!(all, ["Err(DuplicateHeader)", "Err(InvalidTemplate)", "Err(MissingCredential)", "Ok(false)"]);
    }
}
