//! [`Required`]: a request field the OpenAPI document marks required (and,
//! for text, not blank) while the handler still reads it as optional, so
//! that a request without it is answered in the route's own words ("Email
//! is missing.") rather than the framework's generic parse error.

use std::borrow::Cow;
use std::ops::Deref;

use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::{
    ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A field every valid request has (`required` in the schema; text also
/// `minLength: 1` and a non-space character, as the handlers refuse blank
/// text); absent or `null`, it reads as `None`, for the handler to refuse
/// in its words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Required<T>(pub Option<T>);

impl<T> Required<T> {
    pub fn into_inner(self) -> Option<T> {
        self.0
    }
}

impl<T> Deref for Required<T> {
    type Target = Option<T>;

    fn deref(&self) -> &Option<T> {
        &self.0
    }
}

impl<T> From<Option<T>> for Required<T> {
    fn from(value: Option<T>) -> Self {
        Required(value)
    }
}

impl<T> From<Required<T>> for Option<T> {
    fn from(value: Required<T>) -> Self {
        value.0
    }
}

impl<T: Type> Type for Required<T> {
    const IS_REQUIRED: bool = true;

    type RawValueType = T::RawValueType;

    type RawElementValueType = T::RawElementValueType;

    fn name() -> Cow<'static, str> {
        T::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        match T::schema_ref() {
            MetaSchemaRef::Inline(schema) if schema.ty == "string" => {
                let mut schema = *schema;
                schema.min_length = Some(schema.min_length.unwrap_or(1).max(1));
                schema.pattern.get_or_insert_with(|| r"\S".to_owned());
                MetaSchemaRef::Inline(Box::new(schema))
            }
            other => other,
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_ref().and_then(Type::as_raw_value)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        match &self.0 {
            Some(value) => value.raw_element_iter(),
            None => Box::new(std::iter::empty()),
        }
    }

    fn is_none(&self) -> bool {
        self.0.is_none()
    }
}

/// Text never carries U+0000: no field takes it, and PostgreSQL cannot
/// store or compare it.
const NUL_REFUSED: &str = "text may not contain U+0000";

/// Whether `T` is documented as a string (by its name: building its
/// schema would allocate on every parse).
fn is_string_schema<T: Type>() -> bool {
    T::name() == "string"
}

/// A JSON string, and only a string: poem-openapi's `String` also takes a
/// number or a boolean as its text, which the document does not say. For
/// optional text fields of request bodies.
///
/// `Text<true>` ([`NonBlank`]) is documented as not blank (`minLength: 1`,
/// pattern `\S`), for optional fields that, when sent, must say something;
/// the handler still words a blank one itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Text<const NON_BLANK: bool = false>(pub String);

/// Optional text that, when sent, is not blank.
pub type NonBlank = Text<true>;

impl<const NON_BLANK: bool> Text<NON_BLANK> {
    pub fn into_string(self) -> String {
        self.0
    }
}

impl<const NON_BLANK: bool> Deref for Text<NON_BLANK> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<const NON_BLANK: bool> From<Text<NON_BLANK>> for String {
    fn from(text: Text<NON_BLANK>) -> String {
        text.0
    }
}

impl<const NON_BLANK: bool> From<String> for Text<NON_BLANK> {
    fn from(text: String) -> Self {
        Text(text)
    }
}

impl<const NON_BLANK: bool> Type for Text<NON_BLANK> {
    const IS_REQUIRED: bool = true;

    type RawValueType = String;

    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        String::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        if NON_BLANK {
            Required::<String>::schema_ref()
        } else {
            String::schema_ref()
        }
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(std::iter::once(&self.0))
    }
}

impl<const NON_BLANK: bool> ParseFromJSON for Text<NON_BLANK> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(text) if text.contains('\0') => Err(ParseError::custom(NUL_REFUSED)),
            Value::String(text) => Ok(Text(text)),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl<const NON_BLANK: bool> ToJSON for Text<NON_BLANK> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

/// A query or path parameter: absent is `None`, for the handler to word.
impl<T: ParseFromParameter> ParseFromParameter for Required<T> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        T::parse_from_parameter(value)
            .map(|value| Required(Some(value)))
            .map_err(ParseError::propagate)
    }

    fn parse_from_parameters<I: IntoIterator<Item = A>, A: AsRef<str>>(
        iter: I,
    ) -> ParseResult<Self> {
        let mut iter = iter.into_iter().peekable();
        if iter.peek().is_none() {
            return Ok(Required(None));
        }
        T::parse_from_parameters(iter)
            .map(|value| Required(Some(value)))
            .map_err(ParseError::propagate)
    }
}

impl<T: ParseFromJSON> ParseFromJSON for Required<T> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::Null => Ok(Required(None)),
            // poem-openapi's `String` also takes numbers and booleans; the
            // document says a string.
            value if !value.is_string() && is_string_schema::<T>() => {
                Err(ParseError::expected_type(value))
            }
            Value::String(text) if text.contains('\0') => Err(ParseError::custom(NUL_REFUSED)),
            value => Ok(Required(Some(
                T::parse_from_json(Some(value)).map_err(ParseError::propagate)?,
            ))),
        }
    }
}

impl<T: ToJSON> ToJSON for Required<T> {
    fn to_json(&self) -> Option<Value> {
        match &self.0 {
            Some(value) => value.to_json(),
            None => Some(Value::Null),
        }
    }
}

impl<T: Serialize> Serialize for Required<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Required<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(deserializer).map(Required)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem_openapi::Object;

    #[derive(Object, Serialize, Deserialize, Debug)]
    struct Form {
        name: Required<String>,
        note: Option<String>,
    }

    #[test]
    fn required_in_the_schema_optional_when_read() {
        let mut registry = Registry::new();
        <Form as Type>::register(&mut registry);
        let schema = registry.schemas.get("Form").expect("registered");
        assert_eq!(schema.required, vec!["name"]);
        let MetaSchemaRef::Inline(name) = &schema.properties[0].1 else {
            panic!("an inline schema")
        };
        assert_eq!(
            (name.min_length, name.pattern.as_deref()),
            (Some(1), Some(r"\S"))
        );

        let missing = Form::parse_from_json(Some(serde_json::json!({}))).unwrap();
        assert_eq!(missing.name, Required(None));
        let null = Form::parse_from_json(Some(serde_json::json!({"name": null}))).unwrap();
        assert_eq!(null.name.as_deref(), None);
        let given = Form::parse_from_json(Some(serde_json::json!({"name": "Ann"}))).unwrap();
        assert_eq!(given.name.as_deref(), Some("Ann"));
        assert!(Form::parse_from_json(Some(serde_json::json!({"name": {"a": 1}}))).is_err());

        let read: Form = serde_json::from_str("{}").unwrap();
        assert_eq!(read.name, Required(None));
        assert_eq!(
            serde_json::to_value(&given).unwrap(),
            serde_json::json!({"name": "Ann", "note": null})
        );
    }

    #[derive(Object, Debug)]
    struct Strict {
        name: Required<String>,
        note: Option<Text>,
        title: Option<NonBlank>,
    }

    #[test]
    fn text_is_a_string_without_nul() {
        let parse = |body: serde_json::Value| Strict::parse_from_json(Some(body));
        for refused in [
            serde_json::json!({"name": 7}),
            serde_json::json!({"name": false}),
            serde_json::json!({"name": "a\u{0}b"}),
            serde_json::json!({"name": "Ann", "note": 7}),
            serde_json::json!({"name": "Ann", "note": true}),
            serde_json::json!({"name": "Ann", "note": "\u{0}"}),
        ] {
            assert!(parse(refused.clone()).is_err(), "{refused} was taken");
        }
        let taken = parse(serde_json::json!({"name": "Ann", "note": "", "title": null})).unwrap();
        assert_eq!(taken.note.as_deref(), Some(""));
        assert!(taken.title.is_none());

        let mut registry = Registry::new();
        <Strict as Type>::register(&mut registry);
        let schema = registry.schemas.get("Strict").expect("registered");
        let pattern = |at: usize| match &schema.properties[at].1 {
            MetaSchemaRef::Inline(field) => field.pattern.clone(),
            MetaSchemaRef::Reference(_) => None,
        };
        assert_eq!((pattern(1), pattern(2)), (None, Some(r"\S".to_owned())));
    }

    #[test]
    fn a_required_parameter_is_read_as_optional() {
        let absent = Required::<i64>::parse_from_parameters(std::iter::empty::<&str>()).unwrap();
        assert_eq!(absent, Required(None));
        let given = Required::<i64>::parse_from_parameters(["7"]).unwrap();
        assert_eq!(given, Required(Some(7)));
        assert!(Required::<i64>::parse_from_parameters(["x"]).is_err());
    }
}
