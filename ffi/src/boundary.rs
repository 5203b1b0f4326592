//! The panic boundary every export runs inside (rustls-ffi's `ffi_panic_boundary!`).

/// Runs `$body` (an expression of type `Result<(), apisig_result>`) and returns its code.
/// With `std`, a panic is caught and becomes `APISIG_RESULT_PANIC` instead of unwinding
/// into C (which would abort). Without `std` there is no unwinding: the core does not panic.
macro_rules! ffi_boundary {
    ($($body:tt)*) => {{
        let run = || -> ::core::result::Result<(), $crate::result::apisig_result> { $($body)* };
        #[cfg(feature = "std")]
        let code = match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(run)) {
            Ok(Ok(())) => $crate::result::apisig_result::Ok,
            Ok(Err(e)) => e,
            Err(_) => $crate::result::apisig_result::Panic,
        };
        #[cfg(not(feature = "std"))]
        let code = match run() {
            Ok(()) => $crate::result::apisig_result::Ok,
            Err(e) => e,
        };
        code
    }};
}

/// Like [`ffi_boundary!`] for exports that return a value rather than a code: a panic gives
/// `$fallback`.
macro_rules! ffi_value {
    ($fallback:expr, $($body:tt)*) => {{
        let run = || $($body)*;
        #[cfg(feature = "std")]
        let value = ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(run)).unwrap_or($fallback);
        #[cfg(not(feature = "std"))]
        let value = run();
        value
    }};
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use crate::result::apisig_result;

    #[test]
    #[allow(clippy::panic)]
    fn a_panic_becomes_a_code() {
        let code = ffi_boundary! {
            if true {
                panic!("caught at the boundary");
            }
            Ok(())
        };
        assert_eq!(code, apisig_result::Panic);
        let value: usize = ffi_value!(7, {
            if true {
                panic!("caught");
            }
            1
        });
        assert_eq!(value, 7);
    }
}
