//! Schemes from C: a preset by name, or a scheme described as data (header specs and a
//! template of parts), converted per call into the core's `Scheme`.

use core::ffi::c_char;

use apisig::message::{MAX_PARTS, Part, Template};
use apisig::names::Named;
use apisig::rotation::RetryOn;
use apisig::{
    Error, dialect,
    headers::MAX_HEADERS,
    scheme::{Field, HeaderSpec, Scheme},
};

use crate::convert::{Res, in_bytes, in_ref, in_str, out_ref};
use crate::result::apisig_result;

/// Most headers a scheme sends.
pub const APISIG_MAX_HEADERS: usize = 6;
const _: () = assert!(APISIG_MAX_HEADERS == MAX_HEADERS);

/// Most parts a message template may have.
pub const APISIG_MAX_PARTS: usize = 16;
const _: () = assert!(APISIG_MAX_PARTS == MAX_PARTS);

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
    /// Nonzero: a client holding several keys retries with another on 401 or 403 (ZignSec);
    /// 0: on 401 only (every other service). See `apisig_rotation_for_scheme`.
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

/// The variant of a core enum numbered `code` (a C enum value); `INVALID_TEMPLATE` when
/// this version has none.
fn from_c<T: Named>(code: u32) -> Res<T> {
    T::from_code(code).ok_or(Error::InvalidTemplate.into())
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
        *slot = HeaderSpec { name, prefix, field: from_c(h.field)? };
    }
    for (slot, p) in store.parts.iter_mut().zip(c_parts) {
        // SAFETY: the caller guarantees each part's (ptr, len) pair.
        let data = unsafe { in_bytes(p.data, p.len) }?;
        *slot = Part::new(from_c(p.kind)?, data)?;
    }
    let store: &'a SchemeStore<'a> = store;
    let headers = store.headers.get(..c_headers.len()).ok_or_else(bad)?;
    let template = if c_parts.is_empty() {
        None
    } else {
        let parts = store.parts.get(..c_parts.len()).ok_or_else(bad)?;
        Some(Template { parts, separator, encoding: from_c(s.encoding)? })
    };
    let retry_on = if s.retry_on_forbidden != 0 { RetryOn::UnauthorizedOrForbidden } else { RetryOn::Unauthorized };
    Ok(Scheme { name: "custom", headers, template, time_unit: from_c(s.time_unit)?, retry_on })
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
