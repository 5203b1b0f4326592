//! Timestamps with an explicit unit, and the two-sided freshness window.
//!
//! The core has no clock: `now` is always a parameter, in nanoseconds since the UNIX epoch
//! ([`UnixNanos`]). All arithmetic saturates, so no input can overflow or wrap.

use crate::Error;
use crate::names::named;

/// Nanoseconds since the UNIX epoch (good until the year 2554).
pub type UnixNanos = u64;

named! {
    /// The unit a scheme's timestamps are written in.
    #[derive(Copy, Clone, Debug, Eq, PartialEq)]
    pub enum TimeUnit {
        /// Seconds.
        Seconds = 0, "s";
        /// Milliseconds.
        Millis = 1, "ms";
        /// Nanoseconds (Aevo).
        Nanos = 2, "ns";
    }
}

impl TimeUnit {
    const fn nanos_per_unit(self) -> u64 {
        match self {
            TimeUnit::Seconds => 1_000_000_000,
            TimeUnit::Millis => 1_000_000,
            TimeUnit::Nanos => 1,
        }
    }

    /// Converts a time in this unit to nanoseconds, saturating at `u64::MAX`.
    pub const fn to_nanos(self, value: u64) -> UnixNanos {
        value.saturating_mul(self.nanos_per_unit())
    }

    /// Converts nanoseconds to this unit, rounding down.
    pub const fn from_nanos(self, nanos: UnixNanos) -> u64 {
        // Division by a constant as a multiply by its reciprocal, written out: a 64-bit `/`
        // is a multiply on 64-bit cores but a software routine (about 0.9 KiB) on 32-bit ones.
        // 10^9 = 2^9 * 1953125 and 10^6 = 2^6 * 15625: after the shift n < 2^55 (2^58), and
        // M = ceil(2^(64+s) / d) with (M * d - 2^(64+s)) * n < 2^(64+s) makes
        // floor(n * M / 2^(64+s)) = floor(n / d) (Granlund and Montgomery, 1994).
        match self {
            TimeUnit::Seconds => mul_high(nanos >> 9, 0x0044_b82f_a09b_5a53) >> 11,
            TimeUnit::Millis => mul_high(nanos >> 6, 0x0218_def4_16bd_b1a7) >> 7,
            TimeUnit::Nanos => nanos,
        }
    }
}

/// The high 64 bits of the 128-bit product `a * b`, from 32-bit halves (each product one
/// 32x32->64 multiply, which every 32-bit core has).
const fn mul_high(a: u64, b: u64) -> u64 {
    const LOW: u64 = 0xffff_ffff;
    let (a_hi, a_lo, b_hi, b_lo) = (a >> 32, a & LOW, b >> 32, b & LOW);
    let ll = a_lo.wrapping_mul(b_lo);
    let lh = a_lo.wrapping_mul(b_hi);
    let hl = a_hi.wrapping_mul(b_lo);
    let hh = a_hi.wrapping_mul(b_hi);
    // Each term below 2^32, so the sum cannot overflow; its high half is the carry.
    let mid = (ll >> 32).wrapping_add(lh & LOW).wrapping_add(hl & LOW);
    hh.wrapping_add(lh >> 32).wrapping_add(hl >> 32).wrapping_add(mid >> 32)
}

/// The two-sided freshness window: a timestamp `ts` is fresh at `now` when
/// `now - tolerance <= ts <= now + tolerance`. A tolerance of zero means "exactly now",
/// never "no check".
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub struct Window {
    tolerance: UnixNanos,
}

impl Window {
    /// The default window, ±300 seconds.
    pub const DEFAULT: Window = Window::from_secs(300);

    /// A window of ± `secs` seconds.
    pub const fn from_secs(secs: u64) -> Window {
        Window { tolerance: TimeUnit::Seconds.to_nanos(secs) }
    }

    /// A window of ± `nanos` nanoseconds.
    pub const fn from_nanos(nanos: u64) -> Window {
        Window { tolerance: nanos }
    }

    /// The tolerance on each side, in nanoseconds.
    pub const fn tolerance_nanos(self) -> UnixNanos {
        self.tolerance
    }

    /// Checks that `ts` is inside the window around `now` (both in nanoseconds).
    ///
    /// # Errors
    /// [`Error::TimestampOutsideWindow`] when `|ts - now| > tolerance`.
    pub const fn check(self, ts: UnixNanos, now: UnixNanos) -> Result<(), Error> {
        let distance = if ts > now { ts.saturating_sub(now) } else { now.saturating_sub(ts) };
        if distance <= self.tolerance { Ok(()) } else { Err(Error::TimestampOutsideWindow) }
    }

    /// The moment after which a request stamped `ts` can no longer be accepted.
    pub const fn expiry(self, ts: UnixNanos) -> UnixNanos {
        ts.saturating_add(self.tolerance)
    }
}

impl Default for Window {
    fn default() -> Self {
        Window::DEFAULT
    }
}

/// Parses the one decimal text of a `u64`: 1 to 20 ASCII digits, no leading zero (but `"0"`
/// itself), no sign, no whitespace, no overflow. A credential's integer has one text, so a
/// value cannot be re-sent under another spelling (`"007"` for `"7"`) and every face agrees.
/// The leading `len % 8` digits one at a time, then groups of eight digits a word at a time.
pub(crate) fn parse_decimal(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 20 || (text.len() > 1 && text.first() == Some(&b'0')) {
        return None;
    }
    let (head, groups) = text.split_at(text.len() % 8);
    // At most seven digits: no overflow.
    let mut value = head.iter().try_fold(0u64, |v, &b| {
        let digit = b.wrapping_sub(b'0');
        (digit <= 9).then(|| v.wrapping_mul(10).wrapping_add(u64::from(digit)))
    })?;
    for group in groups.chunks_exact(8) {
        let word = u64::from_le_bytes(group.try_into().ok()?);
        if !eight_digits(word) {
            return None;
        }
        value = value.checked_mul(100_000_000)?.checked_add(eight_digits_value(word))?;
    }
    Some(value)
}

/// Whether all eight bytes of `word` are ASCII digits: a byte below `'0'` sets its top bit
/// in `word - 0x30…`, one above `'9'` in `word + 0x46…` (a carry or borrow between bytes
/// only starts at a byte that is already caught).
const fn eight_digits(word: u64) -> bool {
    let low = word.wrapping_sub(0x3030_3030_3030_3030);
    let high = word.wrapping_add(0x4646_4646_4646_4646);
    (low | high) & 0x8080_8080_8080_8080 == 0
}

/// The value of eight ASCII digits (the first in the lowest byte): pairs, then fours, then
/// the eight, each step one multiply.
const fn eight_digits_value(word: u64) -> u64 {
    const MASK: u64 = 0x0000_00ff_0000_00ff;
    const MUL1: u64 = 100 + (1_000_000 << 32);
    const MUL2: u64 = 1 + (10_000 << 32);
    let d = word.wrapping_sub(0x3030_3030_3030_3030);
    let pairs = d.wrapping_mul(10).wrapping_add(d >> 8);
    ((pairs & MASK).wrapping_mul(MUL1).wrapping_add(((pairs >> 16) & MASK).wrapping_mul(MUL2))) >> 32
}

/// Writes `value` in decimal; returns the digits (at most 20 bytes, at the end of `out`).
/// Without 64-bit division, which 32-bit cores do in a software routine (about 0.9 KiB on a
/// Cortex-M): the twelve digits at and above 10^8 by repeated subtraction (at most nine per
/// digit), the eight below with 32-bit divisions by a constant.
pub(crate) fn format_decimal(value: u64, out: &mut [u8; 20]) -> &[u8] {
    let (high, low) = out.split_at_mut(12);
    let mut rest = value;
    for (slot, power) in high.iter_mut().zip(HIGH_POWERS) {
        let mut digit = b'0';
        while let Some(less) = rest.checked_sub(power) {
            rest = less;
            digit = digit.wrapping_add(1);
        }
        *slot = digit;
    }
    // Every power from 10^8 up is taken out: rest < 10^8.
    eight(low, u32::try_from(rest).unwrap_or(0));
    let start = out.iter().position(|&d| d != b'0').unwrap_or(19);
    out.get(start..).unwrap_or(&[])
}

/// 10^19 down to 10^8: the place values of `format_decimal`'s first twelve digits.
const HIGH_POWERS: [u64; 12] = [
    10_000_000_000_000_000_000,
    1_000_000_000_000_000_000,
    100_000_000_000_000_000,
    10_000_000_000_000_000,
    1_000_000_000_000_000,
    100_000_000_000_000,
    10_000_000_000_000,
    1_000_000_000_000,
    100_000_000_000,
    10_000_000_000,
    1_000_000_000,
    100_000_000,
];

/// Eight digits of `v` (below 10^8) into `out[..8]`, the last first: 32-bit divisions by a
/// constant (a multiply and a shift), no table.
fn eight(out: &mut [u8], mut v: u32) {
    for slot in out.iter_mut().take(8).rev() {
        *slot = b'0'.wrapping_add((v % 10) as u8);
        v /= 10;
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn decimal_round_trip_and_refusals() {
        let mut buf = [0u8; 20];
        for v in [0u64, 1, 9, 10, 1_673_425_955_575_713_842, u64::MAX] {
            let text = format_decimal(v, &mut buf);
            assert_eq!(core::str::from_utf8(text).ok(), Some(std::format!("{v}").as_str()));
            assert_eq!(parse_decimal(text), Some(v));
        }
        for bad in ["", "-1", "+1", " 1", "1 ", "1a", "18446744073709551616", "000000000000000000001"] {
            assert_eq!(parse_decimal(bad.as_bytes()), None, "{bad:?}");
        }
        // One text per integer: leading zeros are another spelling of the same value.
        for bad in ["00", "01", "007", "00000000000000000001", "01844674407370955161"] {
            assert_eq!(parse_decimal(bad.as_bytes()), None, "{bad:?}");
        }
        assert_eq!(parse_decimal(b"0"), Some(0));
    }

    /// The oracle: `u64::from_str`, and the text must be the one `Display` writes for the
    /// value (which refuses `+`, leading zeros and anything `from_str` would tolerate).
    fn oracle(text: &[u8]) -> Option<u64> {
        let v = core::str::from_utf8(text).ok()?.parse::<u64>().ok()?;
        (std::format!("{v}").as_bytes() == text).then_some(v)
    }

    /// Every length 1–21, every byte value at every position of a digit string, and the
    /// values around each power of ten and `u64::MAX` (also zero-padded): the same verdict
    /// and value as the oracle.
    #[test]
    fn decimal_parse_agrees_with_the_oracle() {
        let base = b"184467440737095516159";
        for len in 1..=base.len() {
            let text = &base[..len];
            assert_eq!(parse_decimal(text), oracle(text), "{len}");
            for at in 0..len {
                for byte in 0..=255u8 {
                    let mut t = text.to_vec();
                    t[at] = byte;
                    assert_eq!(parse_decimal(&t), oracle(&t), "{t:?}");
                }
            }
        }
        let mut buf = [0u8; 20];
        let mut p = 1u64;
        let mut cases = std::vec![0, u64::MAX, u64::MAX - 1];
        while let Some(next) = p.checked_mul(10) {
            cases.extend([p - 1, p, p + 1]);
            p = next;
        }
        for v in cases {
            let text = format_decimal(v, &mut buf);
            assert_eq!(parse_decimal(text), Some(v));
            for pad in 1..=(21 - text.len()) {
                let mut padded = std::vec![b'0'; pad];
                padded.extend_from_slice(text);
                assert_eq!(parse_decimal(&padded), None, "{padded:?}");
                assert_eq!(oracle(&padded), None);
            }
        }
        for over in ["18446744073709551616", "99999999999999999999", "20000000000000000000"] {
            assert_eq!(parse_decimal(over.as_bytes()), None, "{over}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 20_000, ..Default::default() })]
        /// Short texts over digits and the bytes a number is misspelt with.
        #[test]
        fn decimal_parse_agrees_with_the_oracle_on_any_text(
            text in proptest::collection::vec(proptest::sample::select(b"0000123456789+- .e_x".to_vec()), 0..23),
        ) {
            proptest::prop_assert_eq!(parse_decimal(&text), oracle(&text));
        }

        /// Formatting agrees with `Display` on any value, and on values of every length.
        #[test]
        fn decimal_matches_std_formatting_on_any_value(v in proptest::prelude::any::<u64>(), shift in 0u32..64) {
            let mut buf = [0u8; 20];
            for v in [v, v >> shift] {
                let want = std::format!("{v}");
                proptest::prop_assert_eq!(format_decimal(v, &mut buf), want.as_bytes());
            }
        }

        /// Unit conversion agrees with 64-bit division on any value.
        #[test]
        fn from_nanos_matches_division_on_any_value(v in proptest::prelude::any::<u64>(), shift in 0u32..64) {
            for v in [v, v >> shift] {
                proptest::prop_assert_eq!(TimeUnit::Seconds.from_nanos(v), v / 1_000_000_000);
                proptest::prop_assert_eq!(TimeUnit::Millis.from_nanos(v), v / 1_000_000);
                proptest::prop_assert_eq!(mul_high(v, v >> shift), ((u128::from(v) * u128::from(v >> shift)) >> 64) as u64);
            }
        }

        /// Every value's `Display` text parses back; with a zero in front it is refused.
        #[test]
        fn decimal_parse_round_trips_every_value(v in proptest::prelude::any::<u64>()) {
            let text = std::format!("{v}");
            proptest::prop_assert_eq!(parse_decimal(text.as_bytes()), Some(v));
            proptest::prop_assert_eq!(parse_decimal(std::format!("0{v}").as_bytes()), None);
        }
    }

    #[test]
    fn window_is_two_sided_inclusive_and_saturating() {
        let w = Window::from_secs(300);
        let now = 1_000_000_000_000;
        let t = w.tolerance_nanos();
        assert_eq!(w.check(now, now), Ok(()));
        assert_eq!(w.check(now + t, now), Ok(()));
        assert_eq!(w.check(now - t, now), Ok(()));
        assert_eq!(w.check(now + t + 1, now), Err(Error::TimestampOutsideWindow));
        assert_eq!(w.check(now - t - 1, now), Err(Error::TimestampOutsideWindow));
        assert_eq!(w.check(u64::MAX, 0), Err(Error::TimestampOutsideWindow));
        assert_eq!(w.check(0, u64::MAX), Err(Error::TimestampOutsideWindow));
        let exact = Window::from_secs(0);
        assert_eq!(exact.check(now, now), Ok(()));
        assert_eq!(exact.check(now + 1, now), Err(Error::TimestampOutsideWindow));
        assert_eq!(Window::from_secs(u64::MAX).check(0, u64::MAX), Ok(()));
        assert_eq!(w.expiry(u64::MAX), u64::MAX);
        assert_eq!(TimeUnit::Seconds.to_nanos(u64::MAX), u64::MAX);
        assert_eq!(TimeUnit::Millis.from_nanos(1_999_999), 1);
    }

    #[test]
    fn from_nanos_matches_division_at_every_edge() {
        // Each side of every quotient step near 0, near u64::MAX and around each power of two
        // (where the multiply's rounding error is largest relative to the value).
        for (unit, d) in [(TimeUnit::Seconds, 1_000_000_000u64), (TimeUnit::Millis, 1_000_000)] {
            let mut edges = std::vec![0, 1, d - 1, d, d + 1, u64::MAX, u64::MAX - 1];
            for q in (0..2000u64).chain(u64::MAX / d - 2000..=u64::MAX / d) {
                edges.extend([q * d, (q * d).saturating_sub(1), (q * d).saturating_add(d - 1)]);
            }
            for bit in 0..64 {
                let p = 1u64 << bit;
                edges.extend([p - 1, p, p + 1, p / d * d, (p / d * d).saturating_sub(1)]);
            }
            for v in edges {
                assert_eq!(unit.from_nanos(v), v / d, "{v} / {d}");
            }
        }
        assert_eq!(TimeUnit::Nanos.from_nanos(u64::MAX), u64::MAX);
    }

    #[test]
    fn decimal_matches_std_formatting() {
        let mut buf = [0u8; 20];
        let mut v = 1u64;
        let mut cases = std::vec![0u64, 1, 9, 10, 11, 99, 100, 101, 999, 1000];
        cases.extend(u64::MAX - 10_000..=u64::MAX);
        cases.extend(0..=100_000);
        // Around every place value, and every digit at every place (each subtraction loop at
        // zero, one and nine steps, with and without a borrow from below).
        loop {
            cases.extend(v.saturating_sub(10)..=v.saturating_add(10));
            for digit in 1..=9u64 {
                if let Some(d) = v.checked_mul(digit) {
                    cases.extend([d - 1, d, d + 1, d.saturating_add(v - 1)]);
                }
            }
            match v.checked_mul(10) {
                Some(next) => v = next,
                None => break,
            }
        }
        for v in cases {
            assert_eq!(format_decimal(v, &mut buf), std::format!("{v}").as_bytes(), "{v}");
        }
    }
}
