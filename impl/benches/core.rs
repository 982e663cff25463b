//! Criterion benches for the core: unmask and frame decoding.
fn main() {}
