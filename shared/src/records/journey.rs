//! The journey item.

use super::item::Item;

/// Attribute of a journey item holding the document as received, byte for byte, compressed
/// (raw deflate, standard base64): JSON compresses to less than half, which keeps a typical
/// journey item within one DynamoDB write unit (1 KB) and the stored history small.
pub const STORED_DOCUMENT: &str = "doc_deflate";

/// The document as received, from a journey item; `None` if absent or not a packed
/// document (never expected: only [`crate::domain::journey::pack_document`] writes it).
pub fn stored_document(item: &Item) -> Option<Vec<u8>> {
    crate::domain::journey::unpack_document(item.s(STORED_DOCUMENT)?)
}
