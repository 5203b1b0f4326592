//! The C enums of `apisig.h`, written from the core's tables.
//!
//! The core defines its errors and small enums with declarative macros, which cbindgen
//! cannot expand; so the header's `apisig_result`, `apisig_field`, ... are written here, in
//! cbindgen's own layout, and the header test (`ffi/tests/header.rs`) puts them into the
//! header it generates. The numbers, the `APISIG_<ENUM>_<VARIANT>` spellings and the docs
//! all come from the core (`apisig::Error`, `apisig::names::Named`); only each enum's own
//! summary and the C ABI's own result codes are written here.

use std::fmt::Write as _;
use std::string::String;
use std::vec::Vec;

use apisig::message::PartKind;
use apisig::names::Named;
use apisig::pin::PinKind;
use apisig::{
    Encoding, Error, TimeUnit,
    client::{Slot, Status},
    scheme::Field,
};

use crate::result::OWN;

/// One enumerator: its number, the Rust spelling of its name (`SignatureMismatch`), its doc.
struct Row {
    code: u32,
    variant: String,
    doc: &'static str,
}

fn rows<T: Named + core::fmt::Debug>() -> Vec<Row> {
    T::ALL.iter().map(|v| Row { code: v.code(), variant: format!("{v:?}"), doc: v.doc() }).collect()
}

/// `SignatureMismatch` → `SIGNATURE_MISMATCH`, `Base64` → `BASE64` (cbindgen's
/// `ScreamingSnakeCase`).
fn screaming(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// A doc comment in cbindgen's doxygen style, indented by `indent`.
fn doc(out: &mut String, indent: &str, text: &str) {
    let _ = writeln!(out, "{indent}/**");
    for line in text.lines() {
        let line = line.strip_prefix(' ').unwrap_or(line).trim_end();
        if line.is_empty() {
            let _ = writeln!(out, "{indent} *");
        } else {
            let _ = writeln!(out, "{indent} * {line}");
        }
    }
    let _ = writeln!(out, "{indent} */");
}

/// One enum, as cbindgen writes a `#[repr(u32)]` enum with `cpp_compat` and `style = "both"`.
fn write_enum(out: &mut String, name: &str, summary: &str, mut rows: Vec<Row>) {
    rows.sort_by_key(|r| r.code);
    let prefix = name.to_ascii_uppercase();
    let cond = "defined(__cplusplus) || __STDC_VERSION__ >= 202311L";
    out.push('\n');
    doc(out, "", summary);
    let _ = writeln!(out, "enum {name}\n#if {cond}\n  : uint32_t\n#endif // {cond}\n {{");
    for r in &rows {
        doc(out, "  ", r.doc);
        let _ = writeln!(out, "  {prefix}_{} = {},", screaming(&r.variant), r.code);
    }
    let _ = writeln!(out, "}};");
    let _ = writeln!(out, "#ifndef __cplusplus\n#if __STDC_VERSION__ >= 202311L\ntypedef enum {name} {name};");
    let _ =
        writeln!(out, "#else\ntypedef uint32_t {name};\n#endif // __STDC_VERSION__ >= 202311L\n#endif // __cplusplus");
}

/// The result codes: the C ABI's own and every core error, in code order.
fn result_rows() -> Vec<Row> {
    let own = OWN.iter().map(|o| Row { code: o.code, variant: o.variant.into(), doc: o.doc });
    own.chain(rows::<Error>()).collect()
}

/// The text of every C enum the core's tables define, for cbindgen's `after_includes`.
pub fn c_enums() -> String {
    let mut out = String::new();
    write_enum(
        &mut out,
        "apisig_result",
        concat!(
            "What a call did. The numbers are stable: never renumbered or reused, and equal to the\n",
            "core's `Error::code()` (so the Python face and the test vectors agree with C); 0, 1, 3\n",
            "and 99 are the C ABI's own. A retired code leaves a gap.\n",
            "\n",
            "Functions return this type; functions that take a code (`apisig_strerror`,\n",
            "`apisig_result_name`, `apisig_result_http_status`) take a `uint32_t`, so an\n",
            "out-of-range value from C is never undefined behaviour.\n",
        ),
        result_rows(),
    );
    write_enum(
        &mut out,
        "apisig_field",
        "What a header of a scheme carries (`apisig_header_spec.field`).",
        rows::<Field>(),
    );
    write_enum(
        &mut out,
        "apisig_part_kind",
        "What a part of a message template is (`apisig_part.kind`).",
        rows::<PartKind>(),
    );
    write_enum(
        &mut out,
        "apisig_encoding",
        "How a signature is written as text (`apisig_scheme.encoding`).",
        rows::<Encoding>(),
    );
    write_enum(
        &mut out,
        "apisig_time_unit",
        "The unit of a scheme's timestamps (`apisig_scheme.time_unit`).",
        rows::<TimeUnit>(),
    );
    write_enum(
        &mut out,
        "apisig_slot",
        "Which of a client's two keys or secrets (`slot` arguments, `apisig_principal.slot`).",
        rows::<Slot>(),
    );
    write_enum(&mut out, "apisig_pin_kind", "What a pin is the SHA-256 of (`kind` arguments).", rows::<PinKind>());
    write_enum(
        &mut out,
        "apisig_client_status",
        "Whether a client may authenticate at all (`status` arguments).",
        rows::<Status>(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::screaming;

    #[test]
    fn names_are_spelled_as_cbindgen_spells_them() {
        assert_eq!(screaming("SignatureMismatch"), "SIGNATURE_MISMATCH");
        assert_eq!(screaming("Base64"), "BASE64");
        assert_eq!(screaming("Ok"), "OK");
        assert_eq!(screaming("UserId"), "USER_ID");
    }
}
