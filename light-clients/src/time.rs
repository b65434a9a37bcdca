//! Time as the pure crates see it: a value passed in, never read from a clock.

use core::fmt;
use core::time::Duration;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time as nanoseconds since the Unix epoch (UTC); JSON shows RFC 3339.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, BorshSerialize, BorshDeserialize,
)]
pub struct Timestamp(u64);

/// Why a time value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// The text is not an RFC 3339 date-time.
    #[error("not an RFC 3339 date-time: {0}")]
    Rfc3339(String),
    /// The time is before 1970 or after 2554, outside what a `Timestamp` holds.
    #[error("time outside 1970-01-01 .. 2554-07-21")]
    OutOfRange,
}

impl Timestamp {
    pub const fn from_unix_nanos(nanos: u64) -> Self {
        Timestamp(nanos)
    }

    pub const fn from_unix_secs(secs: u32) -> Self {
        Timestamp(secs as u64 * 1_000_000_000)
    }

    pub const fn unix_nanos(self) -> u64 {
        self.0
    }

    /// `self + d`, or `None` on overflow.
    pub fn checked_add(self, d: Duration) -> Option<Self> {
        let nanos = u64::try_from(d.as_nanos()).ok()?;
        self.0.checked_add(nanos).map(Timestamp)
    }

    /// `self + d`, saturating at the largest representable time.
    pub fn saturating_add(self, d: Duration) -> Self {
        self.checked_add(d).unwrap_or(Timestamp(u64::MAX))
    }

    /// `self - d`, saturating at the epoch.
    pub fn saturating_sub(self, d: Duration) -> Self {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Timestamp(self.0.saturating_sub(nanos))
    }

    pub fn parse_rfc3339(s: &str) -> Result<Self, TimeError> {
        let t = tendermint::Time::parse_from_rfc3339(s)
            .map_err(|e| TimeError::Rfc3339(format!("{s:?}: {e}")))?;
        Self::try_from(t)
    }

    pub fn to_rfc3339(self) -> String {
        match tendermint::Time::try_from(self) {
            Ok(t) => t.to_rfc3339(),
            Err(_) => format!("{}ns", self.0),
        }
    }
}

impl TryFrom<tendermint::Time> for Timestamp {
    type Error = TimeError;
    fn try_from(t: tendermint::Time) -> Result<Self, TimeError> {
        u64::try_from(t.unix_timestamp_nanos())
            .map(Timestamp)
            .map_err(|_| TimeError::OutOfRange)
    }
}

impl TryFrom<Timestamp> for tendermint::Time {
    type Error = TimeError;
    fn try_from(t: Timestamp) -> Result<Self, TimeError> {
        let secs = i64::try_from(t.0 / 1_000_000_000).map_err(|_| TimeError::OutOfRange)?;
        let nanos = u32::try_from(t.0 % 1_000_000_000).map_err(|_| TimeError::OutOfRange)?;
        tendermint::Time::from_unix_timestamp(secs, nanos).map_err(|_| TimeError::OutOfRange)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as Deserialize>::deserialize(d)?;
        Timestamp::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip() {
        let t = Timestamp::parse_rfc3339("2026-11-21T08:00:00.123456789Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-21T08:00:00.123456789Z");
        assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()).unwrap(), t);
    }

    #[test]
    fn refuses_bad_and_pre_epoch_times() {
        assert!(matches!(
            Timestamp::parse_rfc3339("yesterday"),
            Err(TimeError::Rfc3339(_))
        ));
        assert_eq!(
            Timestamp::parse_rfc3339("1969-12-31T23:59:59Z"),
            Err(TimeError::OutOfRange)
        );
    }

    #[test]
    fn arithmetic_saturates_instead_of_overflowing() {
        let t = Timestamp::from_unix_nanos(u64::MAX - 1);
        assert_eq!(t.checked_add(Duration::from_secs(1)), None);
        assert_eq!(
            t.saturating_add(Duration::from_secs(1)).unix_nanos(),
            u64::MAX
        );
        assert_eq!(
            Timestamp::from_unix_nanos(5)
                .saturating_sub(Duration::from_secs(1))
                .unix_nanos(),
            0
        );
    }
}
