//! Fuzz entry points and their oracles, shared by `fuzz/` targets and the regression
//! replay in `cargo test`. Not a stable API.
