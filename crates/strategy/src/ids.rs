//! Deterministic client order ids for the orders the engine generates.
//!
//! An id is `k{tag}-{time}-{seq}`: `tag` is eight hex digits of the FNV-1a hash of the
//! instance name (so orders found on the venue at start-up can be handed back to the instance
//! that placed them), `time` the market event's time in milliseconds and `seq` the engine's
//! order counter, both in base 36. The same events give the same ids in a replay, and a
//! restarted engine (whose counter starts again at 0) cannot repeat an id because its events
//! are later. At most 1 + 8 + 1 + 13 + 1 + 13 = 37 characters; `seq` below 36¹² keeps it
//! within Binance's 36 (`^[.A-Z:/a-z0-9_-]{1,36}$`), and the id doubles as the request id.

use std::fmt::Write as _;

/// The short, stable tag of an instance name in its client order ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceTag(u32);

impl InstanceTag {
    /// The tag of `instance` (FNV-1a, 32 bits).
    #[must_use]
    pub fn of(instance: &str) -> Self {
        let hash = instance.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
            (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
        });
        Self(hash)
    }

    /// The tag a client order id carries, if it is one of ours.
    #[must_use]
    pub fn from_client_order_id(id: &str) -> Option<Self> {
        let hex = id.strip_prefix('k')?.get(..8)?;
        if id.as_bytes().get(9) != Some(&b'-') {
            return None;
        }
        u32::from_str_radix(hex, 16).ok().map(Self)
    }
}

/// The client order id for the `seq`-th order of the engine, placed for `tag` at `time_ms`.
#[must_use]
pub fn client_order_id(tag: InstanceTag, time_ms: u64, seq: u64) -> String {
    let mut id = String::with_capacity(36);
    // Writing to a String cannot fail.
    let _ = write!(id, "k{:08x}-", tag.0);
    push_base36(&mut id, time_ms);
    id.push('-');
    push_base36(&mut id, seq);
    id
}

fn push_base36(out: &mut String, mut value: u64) {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut buf = [0u8; 13];
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = DIGITS[(value % 36) as usize];
        value /= 36;
        if value == 0 {
            break;
        }
    }
    out.extend(buf[start..].iter().map(|&b| char::from(b)));
}

#[cfg(test)]
mod tests {
    use kestrel_model::order::check_client_order_id;

    use super::*;

    #[test]
    fn ids_are_valid_binance_client_ids_and_carry_the_tag() {
        let tag = InstanceTag::of("grid-btc");
        let id = client_order_id(tag, 1_718_000_000_123, 42);
        check_client_order_id(&id).unwrap();
        assert_eq!(InstanceTag::from_client_order_id(&id), Some(tag));
        assert!(id.ends_with("-16"), "42 in base 36: {id}");
    }

    #[test]
    fn the_longest_id_still_fits_binance() {
        let id = client_order_id(InstanceTag::of("x"), u64::MAX, 36u64.pow(12) - 1);
        assert!(id.len() <= 36, "{id} has {} characters", id.len());
        check_client_order_id(&id).unwrap();
    }

    #[test]
    fn different_names_get_different_tags_and_foreign_ids_have_none() {
        assert_ne!(InstanceTag::of("grid-btc"), InstanceTag::of("grid-eth"));
        assert_eq!(InstanceTag::from_client_order_id("web_abc123"), None);
        assert_eq!(InstanceTag::from_client_order_id("kzz"), None);
    }
}
