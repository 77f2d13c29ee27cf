//! What a change (a partial update's body) says of a field: absent leaves it as it
//! is, `null` clears it, a value sets it.

use serde::Deserialize;

/// Distinguishes `"field": null` (`Some(None)`) from an absent field (`None`): use with
/// `#[serde(default, deserialize_with = "crate::change::present")]`.
pub(crate) fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}
