//! An item's attributes as the `attrs` column stores them: a JSON object, in key order.

use std::collections::BTreeMap;

use crate::store::{Attr, Item, Key, StoreError, StoreResult};

pub(super) fn encode(item: &Item) -> StoreResult<String> {
    serde_json::to_string(&item.attrs).map_err(|e| StoreError::Invalid(e.to_string()))
}

pub(super) fn decode(key: Key, attrs: &str) -> StoreResult<Item> {
    let Attrs(attrs) = serde_json::from_str(attrs)
        .map_err(|e| StoreError::Unavailable(format!("corrupt item {key:?}: {e}")))?;
    Ok(Item { key, attrs })
}

/// serde_json wrote the attributes in key order, so they are read into a list and the map
/// is built at once, not by one search and insert per attribute.
struct Attrs(BTreeMap<String, Attr>);

impl<'de> serde::Deserialize<'de> for Attrs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> serde::de::Visitor<'de> for Pairs {
            type Value = Attrs;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of attributes")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Attrs, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(32));
                while let Some(pair) = map.next_entry()? {
                    pairs.push(pair);
                }
                Ok(Attrs(pairs.into_iter().collect()))
            }
        }
        d.deserialize_map(Pairs)
    }
}
