//! Schemes from C: a preset by name, or a scheme described as data (header specs and a
//! template of parts), converted per call into the core's `Scheme`.

use core::ffi::c_char;

use apisig::message::{MAX_PARTS, Part, Template};
use apisig::rotation::RetryOn;
use apisig::{Encoding, Error, Field, HeaderSpec, MAX_HEADERS, Scheme, TimeUnit, dialect};

use crate::convert::{Res, in_bytes, in_ref, in_str, out_ref};
use crate::result::apisig_result;

/// Most headers a scheme sends.
pub const APISIG_MAX_HEADERS: usize = 6;
const _: () = assert!(APISIG_MAX_HEADERS == MAX_HEADERS);

/// Most parts a message template may have.
pub const APISIG_MAX_PARTS: usize = 16;
const _: () = assert!(APISIG_MAX_PARTS == MAX_PARTS);

/// What a header of a scheme carries (`apisig_header_spec.field`).
#[repr(u32)]
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum apisig_field {
    /// The API key: the credential itself for static-key schemes, else the key id.
    ApiKey = 0,
    /// The API secret, sent in clear (Aevo's key-and-secret method).
    Secret = 1,
    /// A bearer JWT (`"securosys-jwt"`, `"zignsec-oauth"`).
    Jwt = 2,
    /// The timestamp, in decimal, in the scheme's time unit.
    Timestamp = 3,
    /// The nonce, in decimal.
    Nonce = 4,
    /// The user id (APEX).
    UserId = 5,
    /// The signature over the scheme's template.
    Signature = 6,
    /// An apisig session token (APEX `aptoken`).
    SessionToken = 7,
}

/// What a part of a message template is (`apisig_part.kind`).
#[repr(u32)]
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum apisig_part_kind {
    /// The API key (key id) as sent.
    ApiKey = 0,
    /// The timestamp digits as sent.
    Timestamp = 1,
    /// The nonce digits as sent.
    Nonce = 2,
    /// The user id as sent.
    UserId = 3,
    /// The HTTP method (uppercased by the signer, as received by the verifier).
    Method = 4,
    /// The request target: path and query string.
    Path = 5,
    /// The body, byte for byte.
    Body = 6,
    /// Fixed bytes: `apisig_part.data`.
    Literal = 7,
    /// The value of the request header named `apisig_part.data`.
    Header = 8,
}

/// How a signature is written as text (`apisig_scheme.encoding`).
#[repr(u32)]
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum apisig_encoding {
    /// Lowercase hex; verification accepts lowercase only.
    LowerHex = 0,
    /// Uppercase hex; verification accepts uppercase only.
    UpperHex = 1,
    /// Lowercase hex when signing; verification accepts either case.
    Hex = 2,
    /// Standard base64 with padding; verification accepts the canonical text only.
    Base64 = 3,
}

/// The unit of a scheme's timestamps (`apisig_scheme.time_unit`).
#[repr(u32)]
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum apisig_time_unit {
    /// Seconds.
    Seconds = 0,
    /// Milliseconds.
    Millis = 1,
    /// Nanoseconds.
    Nanos = 2,
}

/// One header a scheme sends: `name: prefix<field>`.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_header_spec {
    /// Header name as sent (matched without regard to case on receipt).
    pub name: *const c_char,
    /// Length of `name`.
    pub name_len: usize,
    /// Fixed text before the value, e.g. `"Bearer "`; `(NULL, 0)` for none.
    pub prefix: *const c_char,
    /// Length of `prefix`.
    pub prefix_len: usize,
    /// An `apisig_field` value.
    pub field: u32,
}

/// One part of a message template.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_part {
    /// An `apisig_part_kind` value.
    pub kind: u32,
    /// For `LITERAL`, the bytes; for `HEADER`, the header name. `(NULL, 0)` otherwise.
    pub data: *const u8,
    /// Length of `data`.
    pub len: usize,
}

/// A scheme: a preset (`preset != 0`, from `apisig_preset`) or one described as data.
///
/// For a described scheme (`preset == 0`), `headers` lists what is sent, and `parts`, when
/// non-empty, is the template that is signed with `separator` between parts. Everything is
/// borrowed: the arrays and strings must stay valid while the scheme is in use, and header
/// names in `apisig_sign`'s output point into them. The core checks the description on every
/// call (`INVALID_TEMPLATE` when incoherent); `apisig_scheme_check` checks it up front.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_scheme {
    /// 0 for a described scheme; otherwise a preset id set by `apisig_preset` (the other
    /// fields are then ignored).
    pub preset: u32,
    /// The headers, in the order they are produced.
    pub headers: *const apisig_header_spec,
    /// Number of entries in `headers` (1 to `APISIG_MAX_HEADERS`).
    pub headers_len: usize,
    /// The template's parts, in order; `(NULL, 0)` for a scheme that signs nothing.
    pub parts: *const apisig_part,
    /// Number of entries in `parts` (0 to `APISIG_MAX_PARTS`).
    pub parts_len: usize,
    /// Bytes placed between consecutive parts; `(NULL, 0)` for none.
    pub separator: *const u8,
    /// Length of `separator`.
    pub separator_len: usize,
    /// An `apisig_encoding` value.
    pub encoding: u32,
    /// An `apisig_time_unit` value.
    pub time_unit: u32,
    /// 1: a client holding several keys retries with another on 401 or 403 (ZignSec); 0: on
    /// 401 only (every other service). See `apisig_rotation_for_scheme`.
    pub retry_on_forbidden: u8,
}

/// Room for a described scheme's converted arrays, on the caller's stack.
pub(crate) struct SchemeStore<'a> {
    headers: [HeaderSpec<'a>; MAX_HEADERS],
    parts: [Part<'a>; MAX_PARTS],
}

impl SchemeStore<'_> {
    pub(crate) const fn new() -> Self {
        SchemeStore { headers: [HeaderSpec::new("", Field::ApiKey); MAX_HEADERS], parts: [Part::Body; MAX_PARTS] }
    }
}

fn field(code: u32) -> Res<Field> {
    Ok(match code {
        0 => Field::ApiKey,
        1 => Field::Secret,
        2 => Field::Jwt,
        3 => Field::Timestamp,
        4 => Field::Nonce,
        5 => Field::UserId,
        6 => Field::Signature,
        7 => Field::SessionToken,
        _ => return Err(Error::InvalidTemplate.into()),
    })
}

fn encoding(code: u32) -> Res<Encoding> {
    Ok(match code {
        0 => Encoding::LowerHex,
        1 => Encoding::UpperHex,
        2 => Encoding::Hex,
        3 => Encoding::Base64,
        _ => return Err(Error::InvalidTemplate.into()),
    })
}

fn time_unit(code: u32) -> Res<TimeUnit> {
    Ok(match code {
        0 => TimeUnit::Seconds,
        1 => TimeUnit::Millis,
        2 => TimeUnit::Nanos,
        _ => return Err(Error::InvalidTemplate.into()),
    })
}

/// Converts a C scheme into the core's. Shape limits (counts, enum values, UTF-8 names) give
/// `INVALID_TEMPLATE`; everything else is left to the core's own checks. A custom scheme's
/// specs and parts are written into `store` (made here: a preset needs none, and filling an
/// empty store is ~0.6 KiB of writes on every call).
///
/// # Safety
/// Every pointer in `s` must satisfy `in_bytes` for `'a`.
pub(crate) unsafe fn scheme<'a>(s: &apisig_scheme, store: &'a mut Option<SchemeStore<'a>>) -> Res<Scheme<'a>> {
    if s.preset != 0 {
        let i = usize::try_from(s.preset).ok().and_then(|p| p.checked_sub(1));
        return i.and_then(|i| dialect::ALL.get(i)).map(|p| **p).ok_or(Error::InvalidTemplate.into());
    }
    let store = store.insert(SchemeStore::new());
    let bad = || apisig_result::from(Error::InvalidTemplate);
    // SAFETY: the caller guarantees the (ptr, len) pairs of `s`.
    let (c_headers, c_parts, separator) = unsafe {
        (in_bytes(s.headers, s.headers_len)?, in_bytes(s.parts, s.parts_len)?, in_bytes(s.separator, s.separator_len)?)
    };
    if c_headers.len() > MAX_HEADERS || c_parts.len() > MAX_PARTS {
        return Err(bad());
    }
    for (slot, h) in store.headers.iter_mut().zip(c_headers) {
        // SAFETY: the caller guarantees each spec's (ptr, len) pairs.
        let (name, prefix) = unsafe {
            (
                in_str(h.name, h.name_len, Error::InvalidTemplate)?,
                in_str(h.prefix, h.prefix_len, Error::InvalidTemplate)?,
            )
        };
        *slot = HeaderSpec { name, prefix, field: field(h.field)? };
    }
    for (slot, p) in store.parts.iter_mut().zip(c_parts) {
        // SAFETY: the caller guarantees each part's (ptr, len) pair.
        let data = unsafe { in_bytes(p.data, p.len) }?;
        *slot = match p.kind {
            0 => Part::ApiKey,
            1 => Part::Timestamp,
            2 => Part::Nonce,
            3 => Part::UserId,
            4 => Part::Method,
            5 => Part::Path,
            6 => Part::Body,
            7 => Part::Literal(data),
            8 => Part::Header(core::str::from_utf8(data).map_err(|_| bad())?),
            _ => return Err(bad()),
        };
    }
    let store: &'a SchemeStore<'a> = store;
    let headers = store.headers.get(..c_headers.len()).ok_or_else(bad)?;
    let template = if c_parts.is_empty() {
        None
    } else {
        let parts = store.parts.get(..c_parts.len()).ok_or_else(bad)?;
        Some(Template { parts, separator, encoding: encoding(s.encoding)? })
    };
    let retry_on = match s.retry_on_forbidden {
        0 => RetryOn::Unauthorized,
        1 => RetryOn::UnauthorizedOrForbidden,
        _ => return Err(bad()),
    };
    Ok(Scheme { name: "custom", headers, template, time_unit: time_unit(s.time_unit)?, retry_on })
}

/// Fills `*out` with the preset called `name` (`"aevo"`, `"apex"`, `"signius"`,
/// `"securosys"`, `"securosys-jwt"`, `"zignsec"`, `"zignsec-legacy"`, `"zignsec-oauth"`,
/// `"apex-session"`, `"aevo-secret"`). `*out` is written only on `OK`.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_TEMPLATE` when there is no preset of that name.
///
/// # Safety
/// `name` must point to `name_len` readable bytes (it need not be NUL-terminated); `out`
/// must point to a writable `apisig_scheme`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_preset(name: *const c_char, name_len: usize, out: *mut apisig_scheme) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `name` and `out`.
        let (name, out) = unsafe { (in_str(name, name_len, Error::InvalidTemplate)?, out_ref(out)?) };
        let i = dialect::ALL.iter().position(|s| s.name == name).ok_or(Error::InvalidTemplate)?;
        let preset = u32::try_from(i).ok().and_then(|i| i.checked_add(1)).ok_or(Error::InvalidTemplate)?;
        *out = apisig_scheme {
            preset,
            headers: core::ptr::null(),
            headers_len: 0,
            parts: core::ptr::null(),
            parts_len: 0,
            separator: core::ptr::null(),
            separator_len: 0,
            encoding: 0,
            time_unit: 0,
            retry_on_forbidden: 0,
        };
        Ok(())
    }
}

/// Number of presets; `apisig_preset_name(i)` for `i` below it names each.
#[unsafe(no_mangle)]
pub extern "C" fn apisig_preset_count() -> usize {
    dialect::ALL.len()
}

/// Writes the name of preset `index` (0-based, below `apisig_preset_count()`), not
/// NUL-terminated, into `(out, out_cap)` and its length into `*out_len`.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_TEMPLATE` for an index past the last preset;
/// `BUFFER_TOO_SMALL` with `*out_len` set to the length needed.
///
/// # Safety
/// `out` must point to `out_cap` writable bytes (or be NULL with `out_cap == 0`), `out_len`
/// to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_preset_name(
    index: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees the output triple.
        let out = unsafe { crate::convert::out_buf(out, out_cap, out_len) }?;
        let preset = dialect::ALL.get(index).ok_or(Error::InvalidTemplate)?;
        out.put(preset.name.as_bytes())
    }
}

/// Checks that a scheme is coherent (see the core's `Scheme::check`): what signing and
/// verifying would refuse with `INVALID_TEMPLATE`, found once, up front.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_TEMPLATE`.
///
/// # Safety
/// `scheme` must point to a valid `apisig_scheme` whose arrays and strings are readable.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_scheme_check(scheme: *const apisig_scheme) -> apisig_result {
    ffi_boundary! {
        let mut store = None;
        // SAFETY: the caller guarantees `scheme` and its contents.
        let s = unsafe { self::scheme(in_ref(scheme)?, &mut store) }?;
        Ok(s.check()?)
    }
}
