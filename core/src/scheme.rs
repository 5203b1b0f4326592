//! A scheme says which headers carry which credential and, for signed requests, which
//! template is signed. Schemes are plain data: the dialects in [`crate::dialect`] are
//! constants, and users build their own the same way.

use crate::message::{Part, Template};
use crate::{Error, TimeUnit};

/// What a header carries.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum Field {
    /// The API key. In a scheme without a secret or signature it is the credential itself
    /// (SIGNIUS, Securosys, ZignSec); otherwise it is the public key id (Aevo, APEX).
    ApiKey,
    /// The API secret, sent in clear (Aevo's key-and-secret method).
    Secret,
    /// A bearer JWT (Securosys JWT, ZignSec OAuth2 access token), HS256 in the core.
    Jwt,
    /// An apisig session token (APEX `aptoken`), see [`crate::session`].
    SessionToken,
    /// The timestamp, in decimal, in the scheme's [`TimeUnit`].
    Timestamp,
    /// The nonce, in decimal.
    Nonce,
    /// The user id (APEX).
    UserId,
    /// The signature over the scheme's template.
    Signature,
}

/// One header a scheme sends: `name: prefix<field>`.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub struct HeaderSpec<'a> {
    /// Header name, as sent (matching on receipt ignores case).
    pub name: &'a str,
    /// Fixed text before the value, e.g. `"Bearer "`.
    pub prefix: &'a str,
    /// What the value is.
    pub field: Field,
}

impl<'a> HeaderSpec<'a> {
    /// `name: <field>`.
    pub const fn new(name: &'a str, field: Field) -> HeaderSpec<'a> {
        HeaderSpec { name, prefix: "", field }
    }
}

/// How a scheme authenticates, derived from its headers and template.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum Kind {
    /// A static API key, matched against every registered key.
    StaticKey,
    /// A key id plus its secret, in clear.
    KeyAndSecret,
    /// A bearer JWT or session token (with a static key beside it, as ZignSec OAuth2 sends).
    Token,
    /// An HMAC signature over a template.
    Signed,
}

/// An authentication scheme: the headers it sends and, if it signs, what it signs.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub struct Scheme<'a> {
    /// A short name (`"aevo"`), for logs and the command line.
    pub name: &'a str,
    /// The headers, in the order they are produced.
    pub headers: &'a [HeaderSpec<'a>],
    /// The signed message, for signing schemes.
    pub template: Option<Template<'a>>,
    /// The unit of the timestamp header, if any.
    pub time_unit: TimeUnit,
}

impl Scheme<'_> {
    /// The header carrying `field`, if the scheme has one.
    pub fn header_for(&self, field: Field) -> Option<&HeaderSpec<'_>> {
        self.headers.iter().find(|h| h.field == field)
    }

    /// Whether the scheme sends `field`.
    pub fn has(&self, field: Field) -> bool {
        self.header_for(field).is_some()
    }

    /// How the scheme authenticates.
    pub fn kind(&self) -> Kind {
        if self.template.is_some() {
            Kind::Signed
        } else if self.has(Field::Jwt) || self.has(Field::SessionToken) {
            Kind::Token
        } else if self.has(Field::Secret) {
            Kind::KeyAndSecret
        } else {
            Kind::StaticKey
        }
    }

    /// Checks that the scheme is coherent: 1 to [`MAX_HEADERS`](crate::MAX_HEADERS) headers
    /// with token names, each field at most once; a signature header exactly when there is a
    /// template; every value the template signs is sent in a header (so the verifier can
    /// read it); and a signed scheme sends a timestamp or a nonce (else nothing stops replay).
    /// A signed scheme may omit the key id (webhook style: the receiver holds one secret per
    /// sender); the verifier then tries every registered client.
    ///
    /// # Errors
    /// [`Error::InvalidTemplate`] otherwise.
    pub fn check(&self) -> Result<(), Error> {
        let bad = Err(Error::InvalidTemplate);
        if self.headers.is_empty() || self.headers.len() > crate::MAX_HEADERS {
            return bad;
        }
        for (i, h) in self.headers.iter().enumerate() {
            let token = !h.name.is_empty() && crate::message::check_method(h.name.as_bytes()).is_ok();
            let prefix_ok = crate::headers::check_value(h.prefix.trim_end().as_bytes()).is_ok();
            let repeated = self.headers.iter().skip(i.saturating_add(1)).any(|o| o.field == h.field);
            if !token || !prefix_ok || repeated {
                return bad;
            }
        }
        match self.template {
            None if self.has(Field::Signature) => bad,
            None if !(self.has(Field::ApiKey) || self.kind() == Kind::Token) => bad,
            None if self.has(Field::Jwt) && self.has(Field::SessionToken) => bad,
            None => Ok(()),
            Some(t) => {
                t.check()?;
                let sent = |part: Part<'_>, field: Field| !t.uses(part) || self.has(field);
                let all_sent = sent(Part::ApiKey, Field::ApiKey)
                    && sent(Part::Timestamp, Field::Timestamp)
                    && sent(Part::Nonce, Field::Nonce)
                    && sent(Part::UserId, Field::UserId);
                let fresh = self.has(Field::Timestamp) || self.has(Field::Nonce);
                if all_sent && fresh && self.has(Field::Signature) { Ok(()) } else { bad }
            }
        }
    }
}
