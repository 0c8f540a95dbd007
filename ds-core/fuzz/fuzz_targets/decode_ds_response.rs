//! Fuzzes `DsResponse::decode`: it must never panic, and whatever it accepts must
//! re-encode (to exactly the input: the encoding is canonical) and decode
//! again to the same value.

#![no_main]

use ds_core::wire::DsResponse;
use libfuzzer_sys::fuzz_target;
use tls_codec::Size;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = DsResponse::decode(data) else {
        return;
    };
    let encoded = value.encode().expect("a decoded response must re-encode");
    assert_eq!(
        encoded.len(),
        value.tls_serialized_len(),
        "tls_serialized_len disagrees with the encoding"
    );
    let again = DsResponse::decode(&encoded).expect("a re-encoded response must decode");
    assert_eq!(again, value, "the re-encoding decodes to another value");
    assert_eq!(encoded, data, "an accepted encoding is not canonical");
});
