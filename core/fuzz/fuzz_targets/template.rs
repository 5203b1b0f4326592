//! Templates: arbitrary parts, separators and inputs. `render` agrees with `message_len`,
//! with streaming into any sink, and with a reference join; it writes nothing on error; a
//! rendered message is unambiguous (no part but the last holds the separator).
#![no_main]

use apisig::message::{MAX_PARTS, METHOD_MAX, MessageInput, Part, Sink, Template};
use apisig::{Encoding, Error, headers::Header};
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum P<'a> {
    ApiKey,
    Timestamp,
    Nonce,
    UserId,
    Method,
    Path,
    Body,
    Literal(&'a [u8]),
    Header(&'a str),
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    parts: Vec<P<'a>>,
    separator: &'a [u8],
    api_key: &'a [u8],
    timestamp: &'a [u8],
    nonce: &'a [u8],
    user_id: &'a [u8],
    method: &'a [u8],
    path: &'a [u8],
    body: &'a [u8],
    headers: Vec<(&'a str, &'a [u8])>,
    uppercase_method: bool,
    cap: u16,
}

struct Collect(Vec<u8>);
impl Sink for Collect {
    fn put(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
}

fuzz_target!(|x: Input<'_>| {
    let parts: Vec<Part<'_>> = x
        .parts
        .iter()
        .map(|p| match *p {
            P::ApiKey => Part::ApiKey,
            P::Timestamp => Part::Timestamp,
            P::Nonce => Part::Nonce,
            P::UserId => Part::UserId,
            P::Method => Part::Method,
            P::Path => Part::Path,
            P::Body => Part::Body,
            P::Literal(l) => Part::Literal(l),
            P::Header(h) => Part::Header(h),
        })
        .collect();
    let headers: Vec<Header<'_>> = x.headers.iter().map(|&(name, value)| Header { name, value }).collect();
    let t = Template { parts: &parts, separator: x.separator, encoding: Encoding::LowerHex };
    let input = MessageInput {
        api_key: x.api_key,
        timestamp: x.timestamp,
        nonce: x.nonce,
        user_id: x.user_id,
        method: x.method,
        path: x.path,
        body: x.body,
        headers: &headers,
        uppercase_method: x.uppercase_method,
    };

    let len = t.message_len(&input);
    let cap = usize::from(x.cap);
    let mut buf = vec![0xa5u8; cap];
    let rendered = t.render(&input, &mut buf).map(<[u8]>::to_vec);
    match (len, &rendered) {
        (Ok(n), Ok(r)) => assert_eq!(r.len(), n),
        (Ok(n), Err(Error::BufferTooSmall)) => assert!(cap < n),
        (Err(e), Err(f)) => assert_eq!(e, *f),
        (l, r) => panic!("message_len {l:?} but render {r:?}"),
    }
    if rendered.is_err() {
        assert!(buf.iter().all(|&b| b == 0xa5), "render wrote on error");
    }
    let Ok(rendered) = rendered else { return };

    // Streaming gives the same bytes as rendering.
    let mut sink = Collect(Vec::new());
    t.stream(&input, &mut sink);
    assert_eq!(sink.0, rendered);

    // Reference: the values joined by the separator.
    assert!(!parts.is_empty() && parts.len() <= MAX_PARTS);
    let mut want = Vec::new();
    let last = parts.len() - 1;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            want.extend_from_slice(x.separator);
        }
        let value: Vec<u8> = match *p {
            Part::ApiKey => x.api_key.to_vec(),
            Part::Timestamp => x.timestamp.to_vec(),
            Part::Nonce => x.nonce.to_vec(),
            Part::UserId => x.user_id.to_vec(),
            Part::Method => {
                assert!(!x.method.is_empty() && x.method.len() <= METHOD_MAX);
                if x.uppercase_method { x.method.to_ascii_uppercase() } else { x.method.to_vec() }
            }
            Part::Path => x.path.to_vec(),
            Part::Body => x.body.to_vec(),
            Part::Literal(l) => l.to_vec(),
            Part::Header(name) => {
                let found: Vec<_> = headers.iter().filter(|h| h.name.eq_ignore_ascii_case(name)).collect();
                assert_eq!(found.len(), 1, "a rendered header part names exactly one header");
                found[0].value.to_vec()
            }
        };
        if i < last && !matches!(p, Part::Literal(_)) && !x.separator.is_empty() {
            assert!(!value.windows(x.separator.len()).any(|w| w == x.separator), "separator inside part {i}");
        }
        want.extend_from_slice(&value);
    }
    assert_eq!(rendered, want);
});
