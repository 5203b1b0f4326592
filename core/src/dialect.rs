//! The five dialects, as data. Each constant is a [`Scheme`]; the seeds in
//! `shared/seeds/` are the specification and `DESIGN.md` settles what they leave open.
//!
//! | constant | sends |
//! |---|---|
//! | [`SIGNIUS`] | `X-Api-Key: <key>` |
//! | [`SECUROSYS`] | `X-API-KEY: <key>` (the key's role decides the endpoints, see [`SECUROSYS_ROLES`]) |
//! | [`SECUROSYS_JWT`] | `Authorization: Bearer <JWT>` |
//! | [`ZIGNSEC`] | `Zs-Product-Key: <key>` (primary or secondary) |
//! | [`ZIGNSEC_LEGACY`] | `Authorization: <key>` |
//! | [`ZIGNSEC_OAUTH`] | `Authorization: Bearer <token>` and `Zs-Product-Key: <key>` |
//! | [`APEX`] | `APIKey`, `Signature = hex(HMAC(secret, Nonce‖UserId‖APIKey))`, `UserId`, `Nonce` |
//! | [`APEX_SESSION`] | `aptoken: <session token>` |
//! | [`AEVO_SECRET`] | `AEVO-KEY`, `AEVO-SECRET` |
//! | [`AEVO`] | `AEVO-TIMESTAMP` (ns), `AEVO-SIGNATURE = hex(HMAC(secret, "key,ts,METHOD,path,body"))`, `AEVO-KEY` |

use crate::message::{Part, Template};
use crate::policy::{Policy, Role, RoleId};
use crate::rotation::RetryOn;
use crate::scheme::{Field, HeaderSpec, Scheme};
use crate::{Encoding, TimeUnit};

/// A scheme that signs nothing (a key, a token, or both): timestamps in seconds (unused),
/// another key tried on 401.
const fn unsigned(name: &'static str, headers: &'static [HeaderSpec<'static>]) -> Scheme<'static> {
    Scheme { name, headers, template: None, time_unit: TimeUnit::Seconds, retry_on: RetryOn::Unauthorized }
}

/// ZignSec keeps two live keys and tells clients to retry with the other on 401 or 403.
const fn zignsec(scheme: Scheme<'static>) -> Scheme<'static> {
    Scheme { retry_on: RetryOn::UnauthorizedOrForbidden, ..scheme }
}

const BEARER: HeaderSpec<'static> = HeaderSpec { name: "Authorization", prefix: "Bearer ", field: Field::Jwt };

/// SIGNIUS: `X-Api-Key`.
pub const SIGNIUS: Scheme<'static> = unsigned("signius", &[HeaderSpec::new("X-Api-Key", Field::ApiKey)]);

/// Securosys TSB: `X-API-KEY`, one key per role.
pub const SECUROSYS: Scheme<'static> = unsigned("securosys", &[HeaderSpec::new("X-API-KEY", Field::ApiKey)]);

/// Securosys TSB with a JWT: `Authorization: Bearer <JWT>`.
pub const SECUROSYS_JWT: Scheme<'static> = unsigned("securosys-jwt", &[BEARER]);

/// ZignSec subscription key: `Zs-Product-Key`.
pub const ZIGNSEC: Scheme<'static> = zignsec(unsigned("zignsec", &[HeaderSpec::new("Zs-Product-Key", Field::ApiKey)]));

/// ZignSec legacy scheme: the raw subscription key in `Authorization`.
pub const ZIGNSEC_LEGACY: Scheme<'static> =
    zignsec(unsigned("zignsec-legacy", &[HeaderSpec::new("Authorization", Field::ApiKey)]));

/// ZignSec OAuth2: `Authorization: Bearer <access token>` plus `Zs-Product-Key`.
pub const ZIGNSEC_OAUTH: Scheme<'static> =
    zignsec(unsigned("zignsec-oauth", &[BEARER, HeaderSpec::new("Zs-Product-Key", Field::ApiKey)]));

/// The APEX signed message: `Nonce ‖ UserId ‖ APIKey`, no separator, hex (lowercase when
/// signing, either case accepted).
pub const APEX_TEMPLATE: Template<'static> =
    Template { parts: &[Part::Nonce, Part::UserId, Part::ApiKey], separator: b"", encoding: Encoding::Hex };

/// Kiiex / AlphaPoint APEX `AuthenticateUser`, header variant. For the body variant, write
/// the produced headers with [`HeaderSet::write_json`](crate::headers::HeaderSet::write_json).
pub const APEX: Scheme<'static> = Scheme {
    name: "apex",
    headers: &[
        HeaderSpec::new("APIKey", Field::ApiKey),
        HeaderSpec::new("Signature", Field::Signature),
        HeaderSpec::new("UserId", Field::UserId),
        HeaderSpec::new("Nonce", Field::Nonce),
    ],
    template: Some(APEX_TEMPLATE),
    time_unit: TimeUnit::Millis,
    retry_on: RetryOn::Unauthorized,
};

/// APEX after `AuthenticateUser`: `aptoken: <session token>`.
pub const APEX_SESSION: Scheme<'static> = unsigned("apex-session", &[HeaderSpec::new("aptoken", Field::SessionToken)]);

/// Aevo key and secret in clear: `AEVO-KEY`, `AEVO-SECRET`.
pub const AEVO_SECRET: Scheme<'static> = Scheme {
    name: "aevo-secret",
    headers: &[HeaderSpec::new("AEVO-KEY", Field::ApiKey), HeaderSpec::new("AEVO-SECRET", Field::Secret)],
    template: None,
    time_unit: TimeUnit::Nanos,
    retry_on: RetryOn::Unauthorized,
};

/// The Aevo signed message: `apiKey,timestamp,METHOD,path,body`, lowercase hex. An empty body
/// leaves a trailing comma, as in the document's worked example.
pub const AEVO_TEMPLATE: Template<'static> = Template {
    parts: &[Part::ApiKey, Part::Timestamp, Part::Method, Part::Path, Part::Body],
    separator: b",",
    encoding: Encoding::LowerHex,
};

/// Aevo signed requests; header order as in the document's reference code.
pub const AEVO: Scheme<'static> = Scheme {
    name: "aevo",
    headers: &[
        HeaderSpec::new("AEVO-TIMESTAMP", Field::Timestamp),
        HeaderSpec::new("AEVO-SIGNATURE", Field::Signature),
        HeaderSpec::new("AEVO-KEY", Field::ApiKey),
    ],
    template: Some(AEVO_TEMPLATE),
    time_unit: TimeUnit::Nanos,
    retry_on: RetryOn::Unauthorized,
};

/// Every preset, for lookup by name.
pub const ALL: [&Scheme<'static>; 10] = [
    &SIGNIUS,
    &SECUROSYS,
    &SECUROSYS_JWT,
    &ZIGNSEC,
    &ZIGNSEC_LEGACY,
    &ZIGNSEC_OAUTH,
    &APEX,
    &APEX_SESSION,
    &AEVO_SECRET,
    &AEVO,
];

/// The preset called `name` (`"aevo"`, `"signius"`, …).
pub fn by_name(name: &str) -> Option<&'static Scheme<'static>> {
    ALL.iter().copied().find(|s| s.name == name)
}

/// Securosys `keyManagementToken`.
pub const KEY_MANAGEMENT: RoleId = RoleId(0);
/// Securosys `keyOperationToken`.
pub const KEY_OPERATION: RoleId = RoleId(1);
/// Securosys `approverToken`.
pub const APPROVER: RoleId = RoleId(2);
/// Securosys `serviceToken`.
pub const SERVICE: RoleId = RoleId(3);
/// Securosys `approverKeyManagementToken`.
pub const APPROVER_KEY_MANAGEMENT: RoleId = RoleId(4);

/// The Securosys TSB role table, verbatim from the document (its duplicate
/// `/v1/fileEncrypt` included). `RoleId(n)` is the n-th role.
pub const SECUROSYS_ROLES: Policy<'static> = Policy {
    roles: &[
        Role {
            name: "keyManagementToken",
            patterns: &[
                "/v1/key",
                "/v1/key/**",
                "/v1/key/**/attributes",
                "/v1/importedKey",
                "/v1/derivedKey",
                "/v1/dataObject",
                "/v1/dataObject/**",
                "/v1/attestation/**",
                "/v1/modify",
                "/v1/synchronousModify",
            ],
        },
        Role {
            name: "keyOperationToken",
            patterns: &[
                "/v1/certificate/**",
                "/v1/synchronousUnwrap",
                "/v1/synchronousUnblock",
                "/v1/synchronousSign",
                "/v1/synchronousFileDecrypt",
                "/v1/synchronousDecrypt",
                "/v1/synchronousBlock",
                "/v1/synchronousHmac",
                "/v1/fileEncrypt",
                "/v1/wrap",
                "/v1/verify",
                "/v1/encrypt",
                "/v1/fileEncrypt",
                "/v1/createRfcTimestamp",
                "/v1/generateRandom/**",
                "/v1/unwrap",
                "/v1/unblock",
                "/v1/sign",
                "/v1/decrypt",
                "/v1/block",
                "/v1/request/**",
                "/v1/filteredRequests",
            ],
        },
        Role {
            name: "approverToken",
            patterns: &["/v1/filtered**ApprovalTask", "/v1/approval", "/v1/task", "/v1/approver/onboard"],
        },
        Role {
            name: "serviceToken",
            patterns: &[
                "/v1/versionInfo",
                "/v1/licenseInfo",
                "/v1/keystore/statistics",
                "/v1/hsm/log",
                "/v1/hsm/log/**",
            ],
        },
        Role { name: "approverKeyManagementToken", patterns: &["/v1/approverManagement/**"] },
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_coherent_and_named_uniquely() {
        for (i, s) in ALL.iter().enumerate() {
            assert_eq!(s.check(), Ok(()), "{}", s.name);
            assert_eq!(by_name(s.name), Some(*s));
            assert!(ALL.iter().skip(i + 1).all(|o| o.name != s.name));
        }
        assert_eq!(SECUROSYS_ROLES.check(), Ok(()));
        // The seeds: ZignSec retries with the other key on 401 or 403, Securosys (and every
        // other service) on 401.
        for s in ALL {
            let zignsec = [ZIGNSEC.name, ZIGNSEC_LEGACY.name, ZIGNSEC_OAUTH.name].contains(&s.name);
            let want = if zignsec { RetryOn::UnauthorizedOrForbidden } else { RetryOn::Unauthorized };
            assert_eq!(s.retry_on, want, "{}", s.name);
        }
        assert_eq!(SECUROSYS_ROLES.role_id("serviceToken"), Some(SERVICE));
    }
}
