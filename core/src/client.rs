//! A registered client, as every [`ClientStore`](crate::store::ClientStore) hands it to the
//! verifier: its id, up to two key slots (a key or secret, a certificate pin, an expiry, a
//! revocation flag each), its status, role, bound user id, allowed addresses and scopes.
//!
//! Keys and secrets are kept only as SHA-256 digests plus a precomputed HMAC state — never in
//! clear — and are zeroized on drop. A slot may also hold only a key's digest (what a
//! database stores for a static key): it matches that static key but cannot check signatures.
//! A client needs no key at all: one that authenticates by its certificate pin, or by a
//! bearer JWT naming it, holds only that.
//!
//! ```
//! use apisig::client::{Cidr, Client, Slot, Status};
//! let mut c = Client::new("tsb-client")?;
//! c.set_secret(Slot::Primary, Some(b"static-key"))?;
//! c.set_allowed(&[Cidr::parse("10.0.0.0/8")?, Cidr::parse("2001:db8::/32")?])?;
//! c.set_expiry(Slot::Primary, Some(1_900_000_000_000_000_000));
//! assert_eq!(c.admits(Some(Slot::Primary), Some("10.1.2.3".parse().unwrap()), 0), Ok(()));
//! c.set_status(Status::Revoked);
//! assert_eq!(c.admits(Some(Slot::Primary), Some("10.1.2.3".parse().unwrap()), 0), Err(apisig::Error::ClientRevoked));
//! # Ok::<(), apisig::Error>(())
//! ```

use core::fmt;
use core::net::IpAddr;

use subtle::{Choice, ConditionallySelectable};
use zeroize::Zeroize;

use crate::mac::{Chain, MacKey, Prefixed, ct_eq, digest};
use crate::names::{Named, named};
use crate::pin::Pin;
use crate::policy::RoleId;
use crate::{Error, UnixNanos, headers};

/// Longest key id (or label) a client may have.
pub const KEY_ID_MAX: usize = 64;
/// Longest user id that can be bound to a key.
pub const USER_ID_MAX: usize = 64;
/// Most address ranges a client's allow-list may hold.
pub const ALLOWED_MAX: usize = 8;

named! {
    /// Which of a client's two keys (with their pins) matched.
    #[derive(Copy, Clone, Debug, Eq, PartialEq, Hash)]
    pub enum Slot {
        /// The current key.
        Primary = 0, "primary";
        /// The other live key, for zero-downtime rotation (ZignSec keeps two).
        Secondary = 1, "secondary";
    }
}

impl Slot {
    pub(crate) const fn index(self) -> usize {
        match self {
            Slot::Primary => 0,
            Slot::Secondary => 1,
        }
    }
}

named! {
    /// Whether a client may authenticate at all, whatever credential it presents.
    #[derive(Copy, Clone, Debug, Eq, PartialEq, Hash)]
    pub enum Status {
        /// It may.
        Active = 0, "active";
        /// Suspended for now ([`Error::ClientDisabled`]); setting it active again restores it.
        Disabled = 1, "disabled";
        /// Ended for good ([`Error::ClientRevoked`]): every key, pin, JWT and session of it.
        Revoked = 2, "revoked";
    }
}

/// Per-key permissions: bit `i` is the `i`-th name of the server's
/// [`ScopeNames`](crate::policy::ScopeNames) table. Checked by the server, like roles, with
/// [`ScopeNames::authorize`](crate::policy::ScopeNames::authorize).
#[derive(Copy, Clone, Debug, Default, Eq, PartialEq, Hash)]
pub struct Scopes(pub u64);

impl Scopes {
    /// No scope.
    pub const NONE: Scopes = Scopes(0);

    /// Whether every scope of `needed` is among these.
    pub const fn contains(self, needed: Scopes) -> bool {
        self.0 & needed.0 == needed.0
    }

    /// The server's check: a client holding these scopes may make a request that needs
    /// `needed` only if it holds every one of them ([`ScopeNames::authorize`] by names; the C
    /// face's `apisig_scopes_authorize` by bits).
    ///
    /// ```
    /// use apisig::{Error, client::Scopes};
    /// assert_eq!(Scopes(0b011).authorize(Scopes(0b010)), Ok(()));
    /// assert_eq!(Scopes(0b011).authorize(Scopes(0b110)), Err(Error::Forbidden));
    /// ```
    ///
    /// # Errors
    /// [`Error::Forbidden`] when one is missing.
    ///
    /// [`ScopeNames::authorize`]: crate::policy::ScopeNames::authorize
    pub const fn authorize(self, needed: Scopes) -> Result<(), Error> {
        if self.contains(needed) { Ok(()) } else { Err(Error::Forbidden) }
    }
}

/// An address range of an allow-list: an IPv4 or IPv6 network and its prefix length.
///
/// Peers are compared by their canonical address: an IPv4-mapped IPv6 peer
/// (`::ffff:10.0.0.1`, what a dual-stack socket reports for an IPv4 client) is its IPv4
/// address, so it matches IPv4 ranges and no IPv6 range. Ranges are therefore written in
/// IPv4 form: one whose network address is IPv4-mapped is refused, as is one with bits set
/// past its prefix (`10.0.0.1/8`: a typo that would silently shift the range).
///
/// ```
/// use apisig::client::Cidr;
/// let net = Cidr::parse("10.0.0.0/8")?;
/// assert!(net.contains("10.255.0.1".parse().unwrap()));
/// assert!(net.contains("::ffff:10.0.0.1".parse().unwrap()));
/// assert!(!net.contains("11.0.0.1".parse().unwrap()));
/// assert_eq!(Cidr::parse("2001:db8::1")?.prefix(), 128);
/// assert_eq!(Cidr::parse("10.0.0.1/8"), Err(apisig::Error::InvalidPattern));
/// # Ok::<(), apisig::Error>(())
/// ```
#[derive(Copy, Clone, Debug, Eq, PartialEq, Hash)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// The range of `addr` and the `prefix` bits after it.
    ///
    /// # Errors
    /// [`Error::InvalidPattern`] for a prefix longer than the address (32, 128), bits set
    /// past the prefix, or an IPv4-mapped IPv6 range.
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Cidr, Error> {
        let bits = match addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => return Err(Error::InvalidPattern),
            IpAddr::V6(_) => 128,
        };
        if prefix > bits || addr_bits(addr) & !mask(prefix, bits) != 0 {
            return Err(Error::InvalidPattern);
        }
        Ok(Cidr { addr, prefix })
    }

    /// Parses `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a range of one).
    ///
    /// # Errors
    /// [`Error::InvalidPattern`] for text that is not one of those, and as [`new`](Self::new).
    pub fn parse(text: &str) -> Result<Cidr, Error> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| Error::InvalidPattern)?;
        let prefix = match prefix {
            // Decimal digits only, no sign or leading zero.
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && (p == "0" || !p.starts_with('0')) => {
                p.parse().map_err(|_| Error::InvalidPattern)?
            }
            Some(_) => return Err(Error::InvalidPattern),
            None if addr.is_ipv4() => 32,
            None => 128,
        };
        Cidr::new(addr, prefix)
    }

    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `peer` (canonicalised: an IPv4-mapped IPv6 address is its IPv4 address) is in
    /// the range.
    pub fn contains(&self, peer: IpAddr) -> bool {
        let peer = peer.to_canonical();
        let bits = match (self.addr, peer) {
            (IpAddr::V4(_), IpAddr::V4(_)) => 32,
            (IpAddr::V6(_), IpAddr::V6(_)) => 128,
            _ => return false,
        };
        addr_bits(peer) & mask(self.prefix, bits) == addr_bits(self.addr)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The address of the client a request comes from, for the allow-list: `direct` (the
/// socket's peer) unless it is one of the `trusted` proxies; then the right-most address of
/// `forwarded` (the `X-Forwarded-For` header values, in the order received) that is not itself
/// a trusted proxy — each trusted proxy appends the address it saw, so entries to its left
/// may be anything the client wrote and are never believed. When every entry is a trusted
/// proxy the left-most is taken; with no entry, `direct`. From an untrusted peer the header
/// is ignored (not even parsed): only a trusted proxy's word counts.
///
/// Entries are bare IPv4 or IPv6 addresses separated by commas (spaces and tabs around them
/// ignored), the only form proxies write in `X-Forwarded-For`.
///
/// ```
/// use apisig::client::{Cidr, peer_behind_proxies};
/// let trusted = [Cidr::parse("10.0.0.0/8")?];
/// let ip = |s: &str| s.parse::<core::net::IpAddr>().unwrap();
/// let xff: &[&[u8]] = &[b"6.6.6.6, 203.0.113.7, 10.0.0.2"];
/// assert_eq!(peer_behind_proxies(ip("10.0.0.1"), xff.iter().copied(), &trusted), Ok(ip("203.0.113.7")));
/// // From a peer that is no trusted proxy, the header is the client's own claim: ignored.
/// assert_eq!(peer_behind_proxies(ip("198.51.100.1"), xff.iter().copied(), &trusted), Ok(ip("198.51.100.1")));
/// # Ok::<(), apisig::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidForwardedFor`] when, from a trusted proxy, an entry examined (right to
/// left, up to the answer) is not an address: an empty entry, a port, brackets, text.
pub fn peer_behind_proxies<'a>(
    direct: IpAddr,
    forwarded: impl DoubleEndedIterator<Item = &'a [u8]>,
    trusted: &[Cidr],
) -> Result<IpAddr, Error> {
    let is_trusted = |addr: IpAddr| trusted.iter().any(|c| c.contains(addr));
    let mut found = direct;
    if !is_trusted(direct) {
        return Ok(found);
    }
    for value in forwarded.rev() {
        for entry in value.rsplit(|&b| b == b',') {
            let entry = entry.trim_ascii();
            let addr = core::str::from_utf8(entry)
                .ok()
                .and_then(|text| text.parse::<IpAddr>().ok())
                .ok_or(Error::InvalidForwardedFor)?;
            found = addr;
            if !is_trusted(addr) {
                return Ok(found);
            }
        }
    }
    Ok(found)
}

/// An address as a 128-bit number (IPv4 in the low 32 bits).
fn addr_bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The network mask of `prefix` bits in an address of `bits` bits (`prefix <= bits`).
fn mask(prefix: u8, bits: u8) -> u128 {
    let all = if bits == 128 { u128::MAX } else { (1u128 << bits).wrapping_sub(1) };
    all & u128::MAX.checked_shl(u32::from(bits.saturating_sub(prefix))).unwrap_or(0)
}

/// A key or secret: its digest (to match static keys and clear secrets) and, when the secret
/// itself was given, its keyed HMAC state (to check signatures) with that state after the
/// whole blocks of the client's key id (Aevo's messages start with it: a 64-byte id is a block
/// hashed here once, not per request).
#[derive(Clone)]
pub(crate) struct Secret {
    pub(crate) digest: [u8; 32],
    pub(crate) mac: Option<Prefixed<Chain>>,
}

impl Secret {
    fn new(secret: &[u8], id: &str) -> Result<Secret, Error> {
        Ok(Secret { mac: Some(Prefixed::after_blocks(MacKey::new(secret)?, id.as_bytes())), digest: digest(secret) })
    }

    fn matches(&self, presented_digest: &[u8; 32]) -> Choice {
        ct_eq(&self.digest, presented_digest)
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.digest.zeroize();
    }
}

/// One of a client's two slots: a key (or its digest), a certificate pin, and their fate.
#[derive(Clone, Default)]
struct KeySlot {
    expires: Option<UnixNanos>,
    secret: Option<Secret>,
    pin: Option<Pin>,
    revoked: bool,
}

/// One registered client.
///
/// Laid out in order (`repr(C)`), what a verification reads first: a server with millions of
/// clients finds each request's client out of the caches, and every cache line of it read
/// is a miss (see docs/stores.md). The id, status, role and scopes first, then the two key
/// slots (each with its expiry, HMAC state, digest and revocation flag before its pin), then
/// the allow-list (its length is read) and the bound user id: 720 bytes, as in the
/// compiler's own order, in fewer lines per verification.
#[derive(Clone)]
#[repr(C)]
pub struct Client {
    id: heapless::String<KEY_ID_MAX>,
    status: Status,
    role: Option<RoleId>,
    scopes: Scopes,
    slots: [KeySlot; 2],
    allowed: heapless::Vec<Cidr, ALLOWED_MAX>,
    user_id: Option<heapless::String<USER_ID_MAX>>,
}

impl Client {
    /// A client called `id` (its key id, or a label for a static key or certificate), active,
    /// with no key, pin, role, scope or address restriction yet.
    ///
    /// # Errors
    /// [`Error::InvalidHeaderValue`] for an empty id or one that could not be sent in a
    /// header, [`Error::FieldTooLong`] past [`KEY_ID_MAX`].
    pub fn new(id: &str) -> Result<Client, Error> {
        if id.is_empty() {
            return Err(Error::InvalidHeaderValue);
        }
        headers::check_value(id.as_bytes())?;
        let id = heapless::String::try_from(id).map_err(|_| Error::FieldTooLong)?;
        Ok(Client {
            id,
            status: Status::Active,
            role: None,
            scopes: Scopes::NONE,
            user_id: None,
            slots: [KeySlot::default(), KeySlot::default()],
            allowed: heapless::Vec::new(),
        })
    }

    /// The key id (for signed and key-and-secret schemes) or label (for static keys).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Sets (or with `None` removes) the HMAC secret or static key in `slot`.
    ///
    /// # Errors
    /// [`Error::EmptySecret`]; [`Error::DuplicateKeyId`] when the other slot holds the same
    /// key. Nothing changes on error.
    pub fn set_secret(&mut self, slot: Slot, secret: Option<&[u8]>) -> Result<(), Error> {
        let secret = secret.map(|s| Secret::new(s, &self.id)).transpose()?;
        self.put(slot, secret)
    }

    /// Sets (or removes) a static key in `slot` known only by its SHA-256 digest
    /// ([`store::key_digest`](crate::store::key_digest)), as a database keeps it: the slot
    /// matches that static key (or that secret sent in clear) but checks no signature.
    ///
    /// # Errors
    /// [`Error::DuplicateKeyId`] when the other slot holds the same key.
    pub fn set_key_digest(&mut self, slot: Slot, digest: Option<[u8; 32]>) -> Result<(), Error> {
        self.put(slot, digest.map(|digest| Secret { digest, mac: None }))
    }

    fn put(&mut self, slot: Slot, secret: Option<Secret>) -> Result<(), Error> {
        let other = match slot {
            Slot::Primary => Slot::Secondary,
            Slot::Secondary => Slot::Primary,
        };
        if let (Some(new), Some(old)) = (&secret, self.slot(other).and_then(|s| s.secret.as_ref())) {
            if bool::from(new.matches(&old.digest)) {
                return Err(Error::DuplicateKeyId);
            }
        }
        if let Some(s) = self.slots.get_mut(slot.index()) {
            s.secret = secret;
        }
        Ok(())
    }

    /// Pins (or with `None` unpins) a client certificate in `slot`: a TLS peer presenting a
    /// certificate with this fingerprint is this client (see
    /// [`Verifier::verify_certificate`](crate::Verifier::verify_certificate)).
    pub fn set_pin(&mut self, slot: Slot, pin: Option<Pin>) {
        if let Some(s) = self.slots.get_mut(slot.index()) {
            s.pin = pin;
        }
    }

    /// Gives the client a role (or none).
    pub fn set_role(&mut self, role: Option<RoleId>) {
        self.role = role;
    }

    /// Binds a user id to the client's key (APEX): a request naming another user id is
    /// refused, so digits cannot shift between `Nonce` and `UserId`.
    ///
    /// # Errors
    /// [`Error::InvalidHeaderValue`] for an empty or unsendable user id,
    /// [`Error::FieldTooLong`] past [`USER_ID_MAX`].
    pub fn bind_user_id(&mut self, user_id: &str) -> Result<(), Error> {
        if user_id.is_empty() {
            return Err(Error::InvalidHeaderValue);
        }
        headers::check_value(user_id.as_bytes())?;
        self.user_id = Some(heapless::String::try_from(user_id).map_err(|_| Error::FieldTooLong)?);
        Ok(())
    }

    /// Sets when the key and pin of `slot` stop working (refused from `expires` on, with
    /// [`Error::KeyExpired`]), or with `None` that they do not expire.
    pub fn set_expiry(&mut self, slot: Slot, expires: Option<UnixNanos>) {
        if let Some(s) = self.slots.get_mut(slot.index()) {
            s.expires = expires;
        }
    }

    /// Revokes (or reinstates) the key and pin of `slot` ([`Error::KeyRevoked`]); the other
    /// slot keeps working.
    pub fn set_key_revoked(&mut self, slot: Slot, revoked: bool) {
        if let Some(s) = self.slots.get_mut(slot.index()) {
            s.revoked = revoked;
        }
    }

    /// Sets whether the client may authenticate at all.
    pub fn set_status(&mut self, status: Status) {
        self.status = status;
    }

    /// Restricts the client to peers in `ranges` (empty: any peer).
    ///
    /// # Errors
    /// [`Error::FieldTooLong`] past [`ALLOWED_MAX`] ranges; nothing changes.
    pub fn set_allowed(&mut self, ranges: &[Cidr]) -> Result<(), Error> {
        self.allowed = heapless::Vec::from_slice(ranges).map_err(|_| Error::FieldTooLong)?;
        Ok(())
    }

    /// Gives the client's keys these permissions.
    pub fn set_scopes(&mut self, scopes: Scopes) {
        self.scopes = scopes;
    }

    /// The client's status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The client's role, if it has one.
    pub fn role(&self) -> Option<RoleId> {
        self.role
    }

    /// The client's scopes.
    pub fn scopes(&self) -> Scopes {
        self.scopes
    }

    /// The user id bound to the key (APEX).
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// Whether the client has a key (or a key's digest) in `slot`.
    pub fn has(&self, slot: Slot) -> bool {
        self.slot(slot).is_some_and(|s| s.secret.is_some())
    }

    /// The SHA-256 digest of the key in `slot`: what a store indexes static keys by.
    pub fn key_digest(&self, slot: Slot) -> Option<[u8; 32]> {
        self.slot(slot)?.secret.as_ref().map(|s| s.digest)
    }

    /// The client's certificate pin in `slot`.
    pub fn pin(&self, slot: Slot) -> Option<Pin> {
        self.slot(slot)?.pin
    }

    /// When the key and pin of `slot` expire.
    pub fn expiry(&self, slot: Slot) -> Option<UnixNanos> {
        self.slot(slot)?.expires
    }

    /// Whether the key and pin of `slot` are revoked.
    pub fn key_revoked(&self, slot: Slot) -> bool {
        self.slot(slot).is_some_and(|s| s.revoked)
    }

    /// The peers the client is restricted to (empty: any).
    pub fn allowed(&self) -> &[Cidr] {
        &self.allowed
    }

    /// Whether the client may authenticate with the key or pin of `slot` (`None`: with a
    /// credential that is no slot's, such as a bearer JWT naming it) at `now` from `peer`
    /// (the address the server saw). The verifier asks this of every client a credential
    /// names, after the credential itself checked out, before recording anything.
    ///
    /// # Errors
    /// In this order: [`Error::ClientRevoked`], [`Error::ClientDisabled`],
    /// [`Error::KeyRevoked`], [`Error::KeyExpired`] (at or after the slot's expiry), and
    /// [`Error::AddressNotAllowed`] when the client has an allow-list and `peer` is outside it
    /// or unknown (fail closed).
    pub fn admits(&self, slot: Option<Slot>, peer: Option<IpAddr>, now: UnixNanos) -> Result<(), Error> {
        match self.status {
            Status::Revoked => return Err(Error::ClientRevoked),
            Status::Disabled => return Err(Error::ClientDisabled),
            Status::Active => {}
        }
        if let Some(slot) = slot {
            if self.key_revoked(slot) {
                return Err(Error::KeyRevoked);
            }
            if self.expiry(slot).is_some_and(|e| now >= e) {
                return Err(Error::KeyExpired);
            }
        }
        if !self.allowed.is_empty() && !peer.is_some_and(|p| self.allowed.iter().any(|c| c.contains(p))) {
            return Err(Error::AddressNotAllowed);
        }
        Ok(())
    }

    fn slot(&self, slot: Slot) -> Option<&KeySlot> {
        self.slots.get(slot.index())
    }

    pub(crate) fn secret(&self, slot: Slot) -> Option<&Secret> {
        self.slot(slot)?.secret.as_ref()
    }

    pub(crate) fn secrets(&self) -> impl Iterator<Item = (Slot, &Secret)> {
        Slot::ALL.iter().copied().zip(self.slots.iter()).filter_map(|(s, x)| x.secret.as_ref().map(|x| (s, x)))
    }

    /// Compares a presented certificate fingerprint of `kind` with both slots' pins, in
    /// constant time.
    pub(crate) fn match_pin(&self, kind: crate::pin::PinKind, fingerprint: &[u8; crate::pin::PIN_LEN]) -> Option<Slot> {
        let mut found = Choice::from(0);
        let mut slot = 0u8;
        for (s, x) in Slot::ALL.iter().copied().zip(self.slots.iter()) {
            // Copied out first: the found client is the store's answer, and where it lies
            // says which one it is; the comparison itself then reads only the stack.
            if let Some(Pin { kind: held_kind, fingerprint: held }) = x.pin {
                let eq = Choice::from(u8::from(held_kind == kind)) & ct_eq(&held, fingerprint);
                slot.conditional_assign(&(s.index() as u8), eq);
                found |= eq;
            }
        }
        bool::from(found).then_some(if slot == 0 { Slot::Primary } else { Slot::Secondary })
    }

    /// Compares a presented secret with both slots, in constant time.
    pub(crate) fn match_secret(&self, presented: &[u8]) -> Option<Slot> {
        self.match_digest(&digest(presented))
    }

    /// Compares a presented key's digest with both slots, in constant time.
    pub(crate) fn match_digest(&self, d: &[u8; 32]) -> Option<Slot> {
        let mut found = Choice::from(0);
        let mut slot = 0u8;
        for (s, secret) in self.secrets() {
            let eq = secret.matches(d);
            slot.conditional_assign(&(s.index() as u8), eq);
            found |= eq;
        }
        bool::from(found).then_some(if slot == 0 { Slot::Primary } else { Slot::Secondary })
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id.as_str())
            .field("status", &self.status)
            .field("role", &self.role)
            .field("scopes", &self.scopes)
            .field("user_id", &self.user_id.as_deref())
            .field("primary", &self.has(Slot::Primary))
            .field("secondary", &self.has(Slot::Secondary))
            .field("allowed", &self.allowed)
            .finish_non_exhaustive()
    }
}
