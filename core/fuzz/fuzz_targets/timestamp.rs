//! Timestamps and nonces through the verifier. Each request is correctly signed over the
//! fuzzed timestamp or nonce text, so the only reasons to refuse it are the text itself
//! (the one decimal text of a u64: digits, no leading zero, at most u64::MAX), the window (two-sided, inclusive, saturating,
//! in every unit) and replay (APEX nonces must increase). A reference decides each outcome.
#![no_main]

use apisig::rotation::RetryOn;
use apisig::dialect::{AEVO_TEMPLATE, APEX};
use apisig::message::MessageInput;
use apisig::scheme::{Field, HeaderSpec, Scheme};
use apisig::{Encoding, Error, MacKey, Request, TimeUnit, Verifier, Window, headers::Header, keyring::Keyring, replay::ReplayCache};
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    unit: u8,
    tolerance: u64,
    now: u64,
    ts: &'a [u8],
    nonces: Vec<&'a [u8]>,
}

/// `u64::from_str`, and the text must be the one `Display` writes for the value.
fn parse(text: &[u8]) -> Option<u64> {
    let v = std::str::from_utf8(text).ok()?.parse::<u64>().ok()?;
    (v.to_string().as_bytes() == text).then_some(v)
}

fn sign(secret: &[u8], t: &apisig::message::Template<'_>, input: &MessageInput<'_>) -> Option<String> {
    let mut buf = vec![0u8; t.message_len(input).ok()?];
    let msg = t.render(input, &mut buf).ok()?;
    Some(Encoding::LowerHex.encode(&MacKey::new(secret).ok()?.sign(msg)).as_str().to_owned())
}

fuzz_target!(|x: Input<'_>| {
    let (unit, per) = match x.unit % 3 {
        0 => (TimeUnit::Seconds, 1_000_000_000u128),
        1 => (TimeUnit::Millis, 1_000_000),
        _ => (TimeUnit::Nanos, 1),
    };
    let scheme = Scheme {
        name: "aevo-unit",
        headers: &[
            HeaderSpec::new("AEVO-TIMESTAMP", Field::Timestamp),
            HeaderSpec::new("AEVO-SIGNATURE", Field::Signature),
            HeaderSpec::new("AEVO-KEY", Field::ApiKey),
        ],
        template: Some(AEVO_TEMPLATE),
        time_unit: unit,
        retry_on: RetryOn::Unauthorized,
    };
    let mut ring = Keyring::<2>::new();
    ring.add("K", b"S").unwrap();
    ring.add("apex", b"apex-secret").unwrap();
    ring.bind_user_id("apex", "12").unwrap();
    let window = Window::from_nanos(x.tolerance);
    let mut v = Verifier::new(ring, ReplayCache::<8>::new(), window);

    // Timestamp.
    let input = MessageInput {
        api_key: b"K",
        timestamp: x.ts,
        method: b"GET",
        path: b"/a",
        ..MessageInput::EMPTY
    };
    if let (Some(sig), Ok(ts_text)) = (sign(b"S", &AEVO_TEMPLATE, &input), std::str::from_utf8(x.ts)) {
        let headers = [
            Header::new("AEVO-TIMESTAMP", ts_text),
            Header::new("AEVO-SIGNATURE", &sig),
            Header::new("AEVO-KEY", "K"),
        ];
        let got = v.verify(&scheme, &Request::new("GET", "/a").with_headers(&headers), x.now);
        let want = match parse(x.ts) {
            None => Err(Error::InvalidTimestamp),
            Some(t) => {
                let ts = (u128::from(t) * per).min(u128::from(u64::MAX));
                if ts.abs_diff(u128::from(x.now)) <= u128::from(x.tolerance) {
                    Ok(())
                } else {
                    Err(Error::TimestampOutsideWindow)
                }
            }
        };
        assert_eq!(got.map(|_| ()), want, "ts {ts_text:?} unit {unit:?}");
        assert_eq!(unit.to_nanos(parse(x.ts).unwrap_or(0)) as u128, (u128::from(parse(x.ts).unwrap_or(0)) * per).min(u64::MAX as u128));
        if want.is_ok() {
            let again = v.verify(&scheme, &Request::new("GET", "/a").with_headers(&headers), x.now);
            assert_eq!(again.map(|_| ()), Err(Error::ReplayedRequest));
        }
    }

    // Nonces: accepted only when they parse and rise.
    let mut last: Option<u64> = None;
    for n in x.nonces.iter().take(8) {
        let Ok(text) = std::str::from_utf8(n) else { continue };
        let input = MessageInput { nonce: n, user_id: b"12", api_key: b"apex", ..MessageInput::EMPTY };
        let Some(sig) = sign(b"apex-secret", &apisig::dialect::APEX_TEMPLATE, &input) else { continue };
        let headers = [
            Header::new("APIKey", "apex"),
            Header::new("Signature", &sig),
            Header::new("UserId", "12"),
            Header::new("Nonce", text),
        ];
        let got = v.verify(&APEX, &Request::new("POST", "/").with_headers(&headers), x.now).map(|_| ());
        let want = match parse(n) {
            None => Err(Error::InvalidNonce),
            Some(value) if last.is_some_and(|l| value <= l) => Err(Error::ReplayedRequest),
            Some(value) => {
                last = Some(value);
                Ok(())
            }
        };
        assert_eq!(got, want, "nonce {text:?} after {last:?}");
    }
});
