//! `Scheme` and `Policy`: the core's presets, or user-defined ones held as owned data and lent
//! to the core as its borrowed types for the length of one call.

use std::sync::Arc;

use apisig::dialect;
use apisig::message::PartKind;
use apisig::names::Named;
use apisig::rotation::RetryOn;
use apisig::{
    Encoding, TimeUnit,
    message::{Part, Template},
    policy::Role,
    scheme::{Field, HeaderSpec},
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::convert::{CoreResult, parse_name};

/// A template part, owned.
#[derive(Clone, Debug)]
pub(crate) enum OwnedPart {
    /// A part that carries no data (api key, timestamp, nonce, user id, method, path, body).
    Plain(Part<'static>),
    Literal(Vec<u8>),
    Header(String),
}

impl OwnedPart {
    fn as_part(&self) -> Part<'_> {
        match self {
            OwnedPart::Plain(p) => *p,
            OwnedPart::Literal(b) => Part::Literal(b),
            OwnedPart::Header(h) => Part::Header(h),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct OwnedHeader {
    name: String,
    prefix: String,
    field: Field,
}

#[derive(Clone, Debug)]
pub(crate) struct OwnedTemplate {
    parts: Vec<OwnedPart>,
    separator: Vec<u8>,
    encoding: Encoding,
}

/// A scheme: a core preset, or a user-defined one.
#[derive(Clone, Debug)]
pub(crate) enum SchemeData {
    /// A core preset, with its verification prepared once.
    Preset(&'static apisig::scheme::Scheme<'static>, apisig::PreparedScheme<'static>),
    Custom {
        name: String,
        headers: Vec<OwnedHeader>,
        template: Option<OwnedTemplate>,
        time_unit: TimeUnit,
        retry_on: RetryOn,
    },
}

impl SchemeData {
    /// The scheme's name (without building the core's view of a custom scheme).
    pub(crate) fn name(&self) -> &str {
        match self {
            SchemeData::Preset(s, _) => s.name,
            SchemeData::Custom { name, .. } => name,
        }
    }

    /// Lends the scheme to `f` as the core's type.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&apisig::scheme::Scheme<'_>) -> R) -> R {
        match self {
            SchemeData::Preset(s, _) => f(s),
            SchemeData::Custom { name, headers, template, time_unit, retry_on } => {
                let specs: Vec<HeaderSpec<'_>> =
                    headers.iter().map(|h| HeaderSpec { name: &h.name, prefix: &h.prefix, field: h.field }).collect();
                let parts: Vec<Part<'_>> =
                    template.as_ref().map(|t| t.parts.iter().map(OwnedPart::as_part).collect()).unwrap_or_default();
                let template = template.as_ref().map(|t| Template {
                    parts: &parts,
                    separator: &t.separator,
                    encoding: t.encoding,
                });
                f(&apisig::scheme::Scheme {
                    name,
                    headers: &specs,
                    template,
                    time_unit: *time_unit,
                    retry_on: *retry_on,
                })
            }
        }
    }
    /// Lends the scheme to `f` prepared for verification: a preset's prepared once and for
    /// all, a user-defined one's for this call.
    pub(crate) fn with_prepared<R>(
        &self,
        f: impl FnOnce(&apisig::PreparedScheme<'_>) -> Result<R, apisig::Error>,
    ) -> Result<R, apisig::Error> {
        match self {
            SchemeData::Preset(_, prepared) => f(prepared),
            SchemeData::Custom { .. } => self.with(|s| f(&apisig::PreparedScheme::new(s)?)),
        }
    }
}

/// `str` as UTF-8 bytes, or `bytes` as they are.
fn raw_bytes(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u8>> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_str()?.as_bytes().to_vec());
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    Err(PyTypeError::new_err(format!("{what} must be str or bytes")))
}

fn parse_part(obj: &Bound<'_, PyAny>) -> PyResult<OwnedPart> {
    if let Ok(s) = obj.cast::<PyString>() {
        let s = s.to_str()?;
        return match PartKind::from_name(s) {
            Some(PartKind::Literal | PartKind::Header) => {
                Err(PyValueError::new_err(format!("a {s} part is {{{s:?}: ...}}, not a bare name")))
            }
            Some(kind) => Ok(OwnedPart::Plain(Part::new(kind, &[]).py(obj.py())?)),
            None => Err(PyValueError::new_err(format!("unknown template part {s:?}"))),
        };
    }
    if let Some(lit) = member(obj, "literal")? {
        return Ok(OwnedPart::Literal(raw_bytes(&lit, "literal")?));
    }
    if let Some(h) = member(obj, "header")? {
        return Ok(OwnedPart::Header(h.extract::<String>()?));
    }
    Err(PyTypeError::new_err(
        "a template part is a name ('path', 'body', ...) or {'literal': text} or {'header': name}",
    ))
}

/// `obj[key]` for a mapping, else `obj.key` (a dataclass or any object); `None` values count
/// as absent.
fn member<'py>(obj: &Bound<'py, PyAny>, key: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
    let value = if let Ok(d) = obj.cast::<PyDict>() {
        d.get_item(key)?
    } else if obj.hasattr("keys")? && obj.hasattr("__getitem__")? {
        if obj.call_method1("__contains__", (key,))?.is_truthy()? { Some(obj.get_item(key)?) } else { None }
    } else if obj.hasattr(key)? {
        Some(obj.getattr(key)?)
    } else {
        None
    };
    Ok(value.filter(|v| !v.is_none()))
}

/// An authentication scheme: which headers carry which credential and, for signing schemes,
/// the canonical message template. Presets are module constants (`apisig.AEVO`, ...).
#[pyclass(frozen, name = "Scheme", module = "apisig._native")]
pub(crate) struct Scheme {
    pub(crate) data: Arc<SchemeData>,
}

impl Scheme {
    pub(crate) fn preset(py: Python<'_>, s: &'static apisig::scheme::Scheme<'static>) -> PyResult<Scheme> {
        let prepared = apisig::PreparedScheme::new(s).py(py)?;
        Ok(Scheme { data: Arc::new(SchemeData::Preset(s, prepared)) })
    }

    fn build(
        py: Python<'_>,
        name: String,
        headers: &Bound<'_, PyAny>,
        parts: Option<&Bound<'_, PyAny>>,
        separator: Option<&Bound<'_, PyAny>>,
        encoding: &str,
        time_unit: &str,
        retry_on_forbidden: bool,
    ) -> PyResult<Scheme> {
        let mut owned_headers = Vec::new();
        for h in headers.try_iter()? {
            let h = h?;
            let (name, field, prefix) = if let Ok(t) = h.cast::<PyTuple>() {
                match t.len() {
                    2 => (t.get_item(0)?.extract::<String>()?, t.get_item(1)?.extract::<String>()?, String::new()),
                    3 => (
                        t.get_item(0)?.extract::<String>()?,
                        t.get_item(1)?.extract::<String>()?,
                        t.get_item(2)?.extract::<String>()?,
                    ),
                    _ => return Err(PyValueError::new_err("a header is (name, field) or (name, field, prefix)")),
                }
            } else if let Ok(l) = h.cast::<PyList>() {
                let v: Vec<String> = l.extract()?;
                match v.as_slice() {
                    [n, f] => (n.clone(), f.clone(), String::new()),
                    [n, f, p] => (n.clone(), f.clone(), p.clone()),
                    _ => return Err(PyValueError::new_err("a header is (name, field) or (name, field, prefix)")),
                }
            } else {
                let name = member(&h, "name")?.ok_or_else(|| PyValueError::new_err("header without a name"))?;
                let field = member(&h, "field")?.ok_or_else(|| PyValueError::new_err("header without a field"))?;
                let prefix = member(&h, "prefix")?.map(|p| p.extract::<String>()).transpose()?.unwrap_or_default();
                (name.extract()?, field.extract()?, prefix)
            };
            owned_headers.push(OwnedHeader { name, prefix, field: parse_name("header field", &field)? });
        }
        let template = match parts {
            None => None,
            Some(parts) => {
                let mut owned = Vec::new();
                for p in parts.try_iter()? {
                    owned.push(parse_part(&p?)?);
                }
                let separator = separator.map(|s| raw_bytes(s, "separator")).transpose()?.unwrap_or_default();
                Some(OwnedTemplate { parts: owned, separator, encoding: parse_name("encoding", encoding)? })
            }
        };
        let retry_on = if retry_on_forbidden { RetryOn::UnauthorizedOrForbidden } else { RetryOn::Unauthorized };
        let time_unit = parse_name("time unit", time_unit)?;
        let data = SchemeData::Custom { name, headers: owned_headers, template, time_unit, retry_on };
        data.with(|s| s.check()).py(py)?;
        Ok(Scheme { data: Arc::new(data) })
    }
}

#[pymethods]
impl Scheme {
    #[new]
    #[pyo3(signature = (name, headers, *, parts = None, separator = None, encoding = "lower_hex", time_unit = "s", retry_on_forbidden = false))]
    fn new(
        py: Python<'_>,
        name: String,
        headers: &Bound<'_, PyAny>,
        parts: Option<&Bound<'_, PyAny>>,
        separator: Option<&Bound<'_, PyAny>>,
        encoding: &str,
        time_unit: &str,
        retry_on_forbidden: bool,
    ) -> PyResult<Scheme> {
        Scheme::build(py, name, headers, parts, separator, encoding, time_unit, retry_on_forbidden)
    }

    /// A scheme from a mapping or a dataclass with the constructor's fields.
    #[staticmethod]
    fn from_dict(py: Python<'_>, spec: &Bound<'_, PyAny>) -> PyResult<Scheme> {
        let name = member(spec, "name")?.map(|n| n.extract::<String>()).transpose()?.unwrap_or_else(|| "custom".into());
        let headers = member(spec, "headers")?.ok_or_else(|| PyValueError::new_err("a scheme needs headers"))?;
        let parts = member(spec, "parts")?;
        let separator = member(spec, "separator")?;
        let encoding = member(spec, "encoding")?.map(|e| e.extract::<String>()).transpose()?;
        let unit = member(spec, "time_unit")?.map(|e| e.extract::<String>()).transpose()?;
        let retry_on_forbidden = member(spec, "retry_on_forbidden")?.map(|r| r.extract::<bool>()).transpose()?;
        Scheme::build(
            py,
            name,
            &headers,
            parts.as_ref(),
            separator.as_ref(),
            encoding.as_deref().unwrap_or("lower_hex"),
            unit.as_deref().unwrap_or("s"),
            retry_on_forbidden.unwrap_or(false),
        )
    }

    /// The preset called `name`.
    #[staticmethod]
    fn preset_named(py: Python<'_>, name: &str) -> PyResult<Scheme> {
        match dialect::by_name(name) {
            Some(s) => Scheme::preset(py, s),
            None => Err(crate::convert::to_pyerr(py, apisig::Error::InvalidTemplate)),
        }
    }

    #[getter]
    fn name(&self) -> String {
        self.data.name().to_owned()
    }

    #[getter]
    fn kind(&self) -> &'static str {
        self.data.with(|s| s.kind().name())
    }

    #[getter]
    fn is_preset(&self) -> bool {
        matches!(*self.data, SchemeData::Preset(..))
    }

    #[getter]
    fn headers(&self) -> Vec<(String, String, String)> {
        self.data.with(|s| {
            s.headers.iter().map(|h| (h.name.to_owned(), h.field.name().to_owned(), h.prefix.to_owned())).collect()
        })
    }

    #[getter]
    fn parts<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyList>>> {
        let parts: Option<Vec<(PartKind, Vec<u8>)>> =
            self.data.with(|s| s.template.map(|t| t.parts.iter().map(|p| (p.kind(), p.data().to_vec())).collect()));
        let Some(parts) = parts else { return Ok(None) };
        let list = PyList::empty(py);
        for (kind, data) in parts {
            match kind {
                PartKind::Literal => list.append([("literal", PyBytes::new(py, &data))].into_py_dict(py)?)?,
                PartKind::Header => {
                    list.append([("header", String::from_utf8_lossy(&data))].into_py_dict(py)?)?;
                }
                plain => list.append(plain.name())?,
            }
        }
        Ok(Some(list))
    }

    #[getter]
    fn separator<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.data.with(|s| s.template.map(|t| PyBytes::new(py, t.separator)))
    }

    #[getter]
    fn encoding(&self) -> Option<&'static str> {
        self.data.with(|s| s.template.map(|t| t.encoding.name()))
    }

    #[getter]
    fn time_unit(&self) -> &'static str {
        self.data.with(|s| s.time_unit.name())
    }

    /// Whether a client holding several keys retries with another on 403 as well as on 401
    /// (ZignSec), rather than on 401 only (see `Rotation.for_scheme`).
    #[getter]
    fn retry_on_forbidden(&self) -> bool {
        self.data.with(|s| s.retry_on == RetryOn::UnauthorizedOrForbidden)
    }

    /// The scheme as a dict that `Scheme.from_dict` reads back.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("name", self.name())?;
        let headers = PyList::empty(py);
        for (n, f, p) in self.headers() {
            if p.is_empty() {
                headers.append((n, f))?;
            } else {
                headers.append((n, f, p))?;
            }
        }
        d.set_item("headers", headers)?;
        d.set_item("parts", self.parts(py)?)?;
        d.set_item("separator", self.separator(py))?;
        d.set_item("encoding", self.encoding())?;
        d.set_item("time_unit", self.time_unit())?;
        d.set_item("retry_on_forbidden", self.retry_on_forbidden())?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!("Scheme({:?}, kind={:?})", self.name(), self.kind())
    }
}

/// A role table, owned or the core's.
#[derive(Clone, Debug)]
pub(crate) enum PolicyData {
    Preset(&'static apisig::policy::Policy<'static>),
    Custom(Vec<(String, Vec<String>)>),
}

impl PolicyData {
    pub(crate) fn with<R>(&self, f: impl FnOnce(&apisig::policy::Policy<'_>) -> R) -> R {
        match self {
            PolicyData::Preset(p) => f(p),
            PolicyData::Custom(roles) => {
                let patterns: Vec<Vec<&str>> =
                    roles.iter().map(|(_, ps)| ps.iter().map(String::as_str).collect()).collect();
                let core_roles: Vec<Role<'_>> = roles
                    .iter()
                    .zip(patterns.iter())
                    .map(|((name, _), ps)| Role { name, patterns: ps.as_slice() })
                    .collect();
                f(&apisig::policy::Policy { roles: &core_roles })
            }
        }
    }

    pub(crate) fn role_id(&self, name: &str) -> Option<apisig::policy::RoleId> {
        self.with(|p| p.role_id(name))
    }

    pub(crate) fn role_name(&self, id: apisig::policy::RoleId) -> Option<String> {
        self.with(|p| p.role(id).map(|r| r.name.to_owned()))
    }
}

/// Roles and the endpoint patterns each may reach (`*` within a segment, `**` across). The
/// Securosys TSB table is `apisig.SECUROSYS_ROLES`.
#[pyclass(frozen, name = "Policy", module = "apisig._native")]
pub(crate) struct Policy {
    pub(crate) data: Arc<PolicyData>,
}

impl Policy {
    pub(crate) fn securosys() -> Policy {
        Policy { data: Arc::new(PolicyData::Preset(&dialect::SECUROSYS_ROLES)) }
    }
}

#[pymethods]
impl Policy {
    #[new]
    fn new(py: Python<'_>, roles: &Bound<'_, PyAny>) -> PyResult<Policy> {
        let items = if roles.hasattr("items")? { roles.call_method0("items")? } else { roles.clone() };
        let mut owned = Vec::new();
        for item in items.try_iter()? {
            let (name, patterns): (String, Bound<'_, PyAny>) = item?.extract()?;
            if patterns.cast::<PyString>().is_ok() {
                return Err(PyTypeError::new_err("a role's patterns are a list of str, not one str"));
            }
            let patterns: Vec<String> =
                patterns.try_iter()?.map(|p| p?.extract::<String>()).collect::<PyResult<_>>()?;
            owned.push((name, patterns));
        }
        let data = PolicyData::Custom(owned);
        data.with(|p| p.check()).py(py)?;
        Ok(Policy { data: Arc::new(data) })
    }

    /// The role names, in order.
    #[getter]
    fn role_names(&self) -> Vec<String> {
        self.data.with(|p| p.roles.iter().map(|r| r.name.to_owned()).collect())
    }

    /// `{role: [pattern, ...]}`.
    #[getter]
    fn roles<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let pairs: Vec<(String, Vec<String>)> = self.data.with(|p| {
            p.roles.iter().map(|r| (r.name.to_owned(), r.patterns.iter().map(|s| (*s).to_owned()).collect())).collect()
        });
        let d = PyDict::new(py);
        for (name, patterns) in pairs {
            d.set_item(name, patterns)?;
        }
        Ok(d)
    }

    /// Raises unless `role` may request `target` (path and optional query).
    fn authorize(&self, py: Python<'_>, role: &str, target: &str) -> PyResult<()> {
        self.data
            .with(|p| {
                let id = p.role_id(role).ok_or(apisig::Error::Forbidden)?;
                p.authorize(id, target.as_bytes())
            })
            .py(py)
    }

    fn __repr__(&self) -> String {
        format!("Policy(roles={:?})", self.role_names())
    }
}

/// Whether `pattern` matches `path`.
#[pyfunction]
pub(crate) fn pattern_matches(py: Python<'_>, pattern: &str, path: &str) -> PyResult<bool> {
    apisig::policy::pattern_matches(pattern, path.as_bytes()).py(py)
}

/// The path part of `target` when it is canonical; raises `NonCanonicalPath` otherwise.
#[pyfunction]
pub(crate) fn check_canonical(py: Python<'_>, target: &str) -> PyResult<String> {
    let path = apisig::policy::check_canonical(target.as_bytes()).py(py)?;
    Ok(String::from_utf8_lossy(path).into_owned())
}
