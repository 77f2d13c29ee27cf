//! Stable named enums: a value from a fixed set, stored as text and sent as JSON by one
//! snake_case name, forever.
//!
//! [`named_enum!`](crate::named_enum) declares one with the whole derive stack — serde,
//! the OpenAPI schema, strum's names and variant list — so the stored name, the JSON
//! name and the document's name cannot drift apart; [`Named`] reads and lists them.

/// A field stored as text from a fixed set: `as_str` is its stored name, `parse` reads
/// one back, `choices` lists them for error messages.
pub trait Named: Copy + Into<&'static str> + std::str::FromStr + strum::VariantArray + 'static {
    fn as_str(self) -> &'static str {
        self.into()
    }

    fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }

    fn choices() -> String {
        Self::VARIANTS.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// Declares a stable named enum (doc comments and attributes such as
/// `#[schema(as = …)]` pass through) and implements [`Named`] for it.
#[macro_export]
macro_rules! named_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            ::serde::Serialize,
            ::serde::Deserialize,
            ::utoipa::ToSchema,
            ::strum::IntoStaticStr,
            ::strum::EnumString,
            ::strum::VariantArray,
        )]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        $(#[$meta])*
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $crate::named::Named for $name {}
    };
}

#[cfg(test)]
mod tests {
    use super::Named;

    crate::named_enum! {
        /// Colours, for the test.
        enum Colour {
            Red,
            /// Two words.
            DeepBlue,
        }
    }

    #[test]
    fn the_stored_the_json_and_the_parsed_name_are_one_snake_case_name() {
        assert_eq!(Colour::DeepBlue.as_str(), "deep_blue");
        assert_eq!(serde_json::to_string(&Colour::DeepBlue).unwrap(), "\"deep_blue\"");
        assert_eq!(Colour::parse("red"), Some(Colour::Red));
        assert_eq!(Colour::parse("Red"), None);
        assert_eq!(Colour::choices(), "red, deep_blue");
    }
}
