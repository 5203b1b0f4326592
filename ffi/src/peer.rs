//! The peer address a C server passes with a request, for clients restricted to some
//! addresses (`apisig_keyring_set_allowed`, or a key store's allowed ranges), and the client's
//! address behind trusted proxies (`X-Forwarded-For`).
//!
//! An address is an `apisig_ip` (family and bytes, what a `struct sockaddr_in` /
//! `sockaddr_in6` holds), filled by copying the socket's address or by `apisig_ip_parse`.
//! Nothing here needs a heap: firmware builds have it too.

use core::ffi::c_char;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use apisig::Error;
use apisig::client::{ALLOWED_MAX, Cidr, peer_behind_proxies};

use crate::convert::{Res, in_bytes, in_ref, in_str, out_ref};
use crate::keyring::{self, apisig_keyring};
use crate::result::apisig_result;

/// `apisig_ip.family` of an IPv4 address (in `bytes[0..4]`, network order).
pub const APISIG_IP_V4: u8 = 4;
/// `apisig_ip.family` of an IPv6 address (`bytes`, network order).
pub const APISIG_IP_V6: u8 = 6;

/// Most ranges of a client's allow-list (`apisig_keyring_set_allowed`).
pub const APISIG_ALLOWED_MAX: usize = 8;
const _: () = assert!(APISIG_ALLOWED_MAX == ALLOWED_MAX);

/// Most trusted proxy ranges `apisig_peer_behind_proxies` takes.
pub const APISIG_TRUSTED_PROXIES_MAX: usize = 32;

/// An IP address: the peer a request came from. From a socket, copy `sin_addr` (4 bytes,
/// `family = APISIG_IP_V4`) or `sin6_addr` (16 bytes, `APISIG_IP_V6`) into `bytes` as they
/// are (network order); from text, `apisig_ip_parse`. An IPv4-mapped IPv6 address
/// (`::ffff:192.0.2.1`, what a dual-stack socket reports for an IPv4 client) counts as its
/// IPv4 address.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, Eq, PartialEq)]
pub struct apisig_ip {
    /// `APISIG_IP_V4` or `APISIG_IP_V6`.
    pub family: u8,
    /// The address, network order: the first 4 bytes for IPv4 (the rest are not read).
    pub bytes: [u8; 16],
}

impl apisig_ip {
    fn addr(&self) -> Res<IpAddr> {
        match self.family {
            APISIG_IP_V4 => {
                let [a, b, c, d, ..] = self.bytes;
                Ok(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
            }
            APISIG_IP_V6 => Ok(IpAddr::V6(Ipv6Addr::from(self.bytes))),
            _ => Err(Error::InvalidAddress.into()),
        }
    }

    fn of(addr: IpAddr) -> apisig_ip {
        match addr {
            IpAddr::V4(v4) => {
                let mut bytes = [0u8; 16];
                bytes.iter_mut().zip(v4.octets()).for_each(|(d, s)| *d = s);
                apisig_ip { family: APISIG_IP_V4, bytes }
            }
            IpAddr::V6(v6) => apisig_ip { family: APISIG_IP_V6, bytes: v6.octets() },
        }
    }
}

/// The peer a verify call was given: NULL is "unknown" (a client with an allow-list is then
/// refused, failing closed).
///
/// # Errors
/// `INVALID_ADDRESS` for a family that is neither `APISIG_IP_V4` nor `APISIG_IP_V6`.
///
/// # Safety
/// `peer` must be NULL or point to a valid `apisig_ip`.
pub(crate) unsafe fn peer(peer: *const apisig_ip) -> Res<Option<IpAddr>> {
    // SAFETY: forwarded contract.
    unsafe { peer.as_ref() }.map(apisig_ip::addr).transpose()
}

/// Comma-separated CIDR ranges (`10.0.0.0/8, 2001:db8::/32`; a bare address is a range of
/// one) into `out`; empty text gives none.
fn ranges<const N: usize>(text: &str, out: &mut heapless::Vec<Cidr, N>) -> Res<()> {
    if text.trim().is_empty() {
        return Ok(());
    }
    for part in text.split(',') {
        let cidr = Cidr::parse(part.trim())?;
        out.push(cidr).map_err(|_| Error::FieldTooLong)?;
    }
    Ok(())
}

/// Parses an IPv4 (`192.0.2.1`) or IPv6 (`2001:db8::1`) address written as text (not
/// NUL-terminated; no port, brackets or zone) into `*out`, written only on `OK`.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_ADDRESS` for text that is no address.
///
/// # Safety
/// `(text, text_len)` must be readable, `out` point to a writable `apisig_ip`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_ip_parse(text: *const c_char, text_len: usize, out: *mut apisig_ip) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees both pointers.
        let (text, out) = unsafe { (in_str(text, text_len, Error::InvalidAddress)?, out_ref(out)?) };
        let addr = text.parse::<IpAddr>().map_err(|_| Error::InvalidAddress)?;
        *out = apisig_ip::of(addr);
        Ok(())
    }
}

/// The address of the client a request comes from, for the allow-list, into `*out`: `*direct`
/// (the socket's peer) unless it is in one of the `trusted` proxy ranges; then the right-most
/// address of `(forwarded_for, forwarded_for_len)` (the request's `X-Forwarded-For`; several
/// such headers joined with `,` in the order received; `(NULL, 0)` when it has none) that is
/// not itself a trusted proxy — entries to its left are the client's own claims and never
/// believed. From an untrusted peer the header is ignored. `trusted` is comma-separated CIDR
/// ranges (`10.0.0.0/8, 2001:db8::/32`), at most `APISIG_TRUSTED_PROXIES_MAX`; empty trusts no
/// proxy. `*out` is written only on `OK`; pass it to the `_from` verify functions.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_ADDRESS` for a bad `*direct`; `INVALID_PATTERN` for a range that
/// is not a CIDR (`FIELD_TOO_LONG` past `APISIG_TRUSTED_PROXIES_MAX`);
/// `INVALID_FORWARDED_FOR` when, from a trusted proxy, an entry examined is not an address.
///
/// # Safety
/// `direct` and `out` must point to an `apisig_ip` (readable, writable), the text pairs be
/// readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_peer_behind_proxies(
    direct: *const apisig_ip,
    forwarded_for: *const c_char,
    forwarded_for_len: usize,
    trusted: *const c_char,
    trusted_len: usize,
    out: *mut apisig_ip,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees every pointer.
        let (direct, forwarded, trusted, out) = unsafe {
            (
                in_ref(direct)?.addr()?,
                in_bytes(forwarded_for.cast::<u8>(), forwarded_for_len)?,
                in_str(trusted, trusted_len, Error::InvalidPattern)?,
                out_ref(out)?,
            )
        };
        let mut proxies = heapless::Vec::<Cidr, APISIG_TRUSTED_PROXIES_MAX>::new();
        ranges(trusted, &mut proxies)?;
        let headers: &[&[u8]] = if forwarded.is_empty() { &[] } else { &[forwarded] };
        let addr = peer_behind_proxies(direct, headers.iter().copied(), &proxies)?;
        *out = apisig_ip::of(addr);
        Ok(())
    }
}

/// Restricts `client` to peers in `cidrs`: comma-separated ranges (`192.0.2.0/24,
/// 2001:db8::/32`; a bare address is a range of one), at most `APISIG_ALLOWED_MAX`; empty
/// lets any peer in. A request from elsewhere, or verified without a peer address (the
/// functions without `_from`), is refused with `ADDRESS_NOT_ALLOWED` (HTTP 403).
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `UNKNOWN_KEY` for a bad client; `INVALID_PATTERN` for a
/// range that is not a CIDR or has bits set past its prefix (`10.0.0.1/8`); `FIELD_TOO_LONG`
/// past `APISIG_ALLOWED_MAX` ranges. Nothing changes on error.
///
/// # Safety
/// `ring` must point to written storage (a keyring; see `apisig_keyring_init`), `(cidrs,
/// cidrs_len)` be readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_keyring_set_allowed(
    ring: *mut apisig_keyring,
    client: u32,
    cidrs: *const c_char,
    cidrs_len: usize,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees both pointers.
        let (ring, cidrs) = unsafe { (keyring::ring(ring)?, in_str(cidrs, cidrs_len, Error::InvalidPattern)?) };
        let mut allowed = heapless::Vec::<Cidr, ALLOWED_MAX>::new();
        ranges(cidrs, &mut allowed)?;
        keyring::update(ring, client, |c| c.set_allowed(&allowed))
    }
}
