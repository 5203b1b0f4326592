//! Stable numbers and names for the core's small enums, written once.
//!
//! The faces never re-table these: C takes and returns the numbers ([`Named::code`]), Python
//! and the command line the snake_case names ([`Named::name`]), and both parse them back with
//! [`Named::from_code`] and [`Named::from_name`]. The C header's enums are generated from
//! [`Named::ALL`] and [`Named::doc`].
//!
//! ```
//! use apisig::names::Named;
//! use apisig::{Encoding, scheme::Field};
//! assert_eq!(Field::from_name("user_id"), Some(Field::UserId));
//! assert_eq!(Field::UserId.name(), "user_id");
//! assert_eq!(Encoding::from_code(Encoding::Base64.code()), Some(Encoding::Base64));
//! assert_eq!(Encoding::from_name("base32"), None);
//! ```

/// A fieldless enum whose variants each have a stable number and a stable snake_case name.
/// Numbers and names are never changed or reused, like error codes.
pub trait Named: Copy + Eq + 'static {
    /// Every variant, in the order written.
    const ALL: &'static [Self];

    /// The stable number (what the C ABI passes).
    fn code(self) -> u32;

    /// The stable snake_case name (what Python, the command line and the test vectors use).
    fn name(self) -> &'static str;

    /// The variant's documentation, one `\n`-terminated line per line of its doc comment
    /// (each as written after `///`, so with a leading space).
    fn doc(self) -> &'static str;

    /// The variant numbered `code`, if any.
    fn from_code(code: u32) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.code() == code)
    }

    /// The variant called `name` (or one of its accepted aliases), if any.
    fn from_name(name: &str) -> Option<Self>;
}

/// Defines a fieldless enum from a table of `Variant = number, "name" (| "alias")*;` rows,
/// each under its doc comment, and implements [`Named`] for it: a variant cannot be left out
/// of `ALL` or lack a name, because both come from the same row.
macro_rules! named {
    (
        $(#[$meta:meta])*
        $vis:vis enum $ty:ident {
            $(
                $(#[doc = $doc:literal])*
                $variant:ident = $code:literal, $name:literal $(| $alias:literal)*;
            )*
        }
    ) => {
        $(#[$meta])*
        $vis enum $ty {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl $crate::names::Named for $ty {
            const ALL: &'static [$ty] = &[$($ty::$variant),*];

            fn code(self) -> u32 {
                match self { $($ty::$variant => $code,)* }
            }

            fn name(self) -> &'static str {
                match self { $($ty::$variant => $name,)* }
            }

            fn doc(self) -> &'static str {
                match self { $($ty::$variant => concat!($($doc, "\n"),*),)* }
            }

            fn from_name(name: &str) -> Option<$ty> {
                match name {
                    $($name $(| $alias)* => Some($ty::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

pub(crate) use named;

#[cfg(test)]
mod tests {
    use super::Named;
    use crate::client::Slot;
    use crate::message::PartKind;
    use crate::pin::PinKind;
    use crate::scheme::{Field, Kind};
    use crate::{Encoding, Family, TimeUnit};

    /// Numbers and names are unique, names are snake_case, every variant has a doc, and both
    /// parsers find each variant again.
    fn table_is_sound<T: Named + core::fmt::Debug>() {
        for (i, v) in T::ALL.iter().copied().enumerate() {
            assert!(T::ALL.iter().skip(i.saturating_add(1)).all(|w| w.code() != v.code()), "{v:?}: number reused");
            assert_eq!(T::from_code(v.code()), Some(v));
            assert_eq!(T::from_name(v.name()), Some(v));
            assert!(
                !v.name().is_empty()
                    && v.name().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            );
            assert!(v.doc().ends_with('\n') && v.doc().len() > 2, "{v:?} has no doc");
            assert!(T::ALL.iter().skip(i.saturating_add(1)).all(|w| w.name() != v.name()));
        }
        assert_eq!(T::from_name(""), None);
        assert_eq!(T::from_code(u32::MAX), None);
    }

    #[test]
    fn every_table_is_sound() {
        table_is_sound::<crate::Error>();
        table_is_sound::<Family>();
        table_is_sound::<Field>();
        table_is_sound::<Encoding>();
        table_is_sound::<TimeUnit>();
        table_is_sound::<PartKind>();
        table_is_sound::<Kind>();
        table_is_sound::<Slot>();
        table_is_sound::<PinKind>();
    }

    /// The names the vectors, the Python face and the C ABI have always used.
    #[test]
    fn names_and_numbers_are_the_published_ones() {
        assert_eq!(Field::from_name("key_id"), Some(Field::ApiKey));
        assert_eq!(Field::SessionToken.code(), 7);
        assert_eq!(TimeUnit::from_name("ms"), Some(TimeUnit::Millis));
        assert_eq!(TimeUnit::Nanos.code(), 2);
        assert_eq!(Encoding::from_name("upper_hex"), Some(Encoding::UpperHex));
        assert_eq!(PartKind::from_code(8), Some(PartKind::Header));
        assert_eq!(PinKind::from_name("spki"), Some(PinKind::PublicKey));
        assert_eq!(Slot::Secondary.name(), "secondary");
        assert_eq!(Kind::KeyAndSecret.name(), "key_and_secret");
    }
}
