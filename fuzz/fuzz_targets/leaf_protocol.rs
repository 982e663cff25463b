#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nats_ws::fuzzing::leaf_protocol(data));
