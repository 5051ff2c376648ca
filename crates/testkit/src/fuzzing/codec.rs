//! The bus's binary event codec (`kestrel_bus::codec`).

use kestrel_bus::codec::{
    self, DecodeError, HEADER_LEN, LevelScratch, WireEvent, decode, decode_prefix, encode,
    encode_to_slice, peek_header,
};

/// `decode` on arbitrary bytes never panics; when it accepts them: the header agrees, the
/// event re-encodes (encoding refuses only what decoding refuses) to bytes of the same length
/// that decode to the same event and re-encode to themselves, which equal the input but for
/// the `prev_final_update_id` slot of a depth update that has none (the layout writes 0 there
/// and decoding ignores it); the owned copy encodes the same; `decode_prefix` reads the
/// message back from the front of a longer stream.
pub fn bus_codec(data: &[u8]) {
    let event = match decode(data) {
        Ok(event) => event,
        Err(error) => return check_error(&error, data),
    };
    let header = peek_header(data).expect("a decoded message has a header");
    assert_eq!((header.kind, header.len), (event.kind(), data.len()));

    let mut scratch = LevelScratch::default();
    let mut encoded = Vec::new();
    let len = encode(&event.to_event(&mut scratch), &mut encoded)
        .unwrap_or_else(|error| panic!("decoded {event:?} but cannot encode it: {error}"));
    assert_eq!(
        (len, encoded.len()),
        (data.len(), data.len()),
        "encoded length"
    );
    let again = decode(&encoded).unwrap_or_else(|e| panic!("re-encoded {event:?}: {e}"));
    assert_eq!(
        again, event,
        "decode(encode(decode(x))) differs from decode(x)"
    );
    let mut twice = Vec::new();
    encode(&again.to_event(&mut scratch), &mut twice).expect("encodes again");
    assert_eq!(twice, encoded, "encoding is not stable");
    if encoded != data {
        let prev =
            prev_slot(&event).expect("only a depth update without `pu` re-encodes differently");
        let outside = |(at, (a, b)): (usize, (&u8, &u8))| a != b && !prev.contains(&at);
        let changed = encoded
            .iter()
            .zip(data)
            .enumerate()
            .find(|&pair| outside(pair));
        assert_eq!(
            changed, None,
            "re-encoding changed a byte outside the ignored slot"
        );
    }

    let owned = event.into_owned();
    let mut from_owned = vec![0; len];
    let written = encode_to_slice(&owned.as_event(), &mut from_owned).expect("fits exactly");
    assert_eq!(
        (written, &from_owned),
        (len, &encoded),
        "the owned copy encodes differently"
    );
    let short = encode_to_slice(&owned.as_event(), &mut from_owned[..len - 1]);
    assert!(short.is_err(), "encoded {len} bytes into {}", len - 1);

    let mut stream = data.to_vec();
    stream.extend_from_slice(data);
    let (first, used) = decode_prefix(&stream).expect("a message followed by more bytes");
    assert_eq!((first, used), (event, data.len()));
}

/// The byte range of a depth update's `prev_final_update_id` when the update has none
/// (header, symbol length byte and symbol, then the first and final ids).
fn prev_slot(event: &WireEvent<'_>) -> Option<std::ops::Range<usize>> {
    match event {
        WireEvent::Depth(depth) if depth.prev_final_update_id.is_none() => {
            let start = HEADER_LEN + 1 + depth.symbol.len() + 16;
            Some(start..start + 8)
        }
        _ => None,
    }
}

/// A refusal names a class, and a header that passed `peek_header` is refused for its body.
fn check_error(error: &DecodeError, data: &[u8]) {
    assert!(!error.to_string().is_empty());
    let _ = error.kind();
    if let Ok(header) = peek_header(data) {
        assert!(header.len >= HEADER_LEN);
        assert_eq!(
            data.first(),
            Some(&codec::VERSION),
            "a header of another version"
        );
    }
}
