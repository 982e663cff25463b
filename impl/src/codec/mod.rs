//! The frame codec: an incremental decoder and reader for what arrives, the outbound
//! framer for what leaves.

pub mod assembler;
mod decoder;
mod encoder;
mod reader;

pub use decoder::{Decoded, Decoder, Item};
pub use encoder::{Collapsed, MaskKeys, Outbound, WriteMasking};
pub use reader::{ReadError, ReadStatus, Reader};
