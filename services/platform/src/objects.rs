//! Nested structs read from JSON objects only. serde reads a struct from an array too
//! (`[null, null]` fills its fields in order), which the documents do not allow: fields holding
//! structs use these instead, so an array there is refused with 400 like any other wrong type.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map))
    }
}

/// A struct read from a JSON object, and nothing else.
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ObjectVisitor(PhantomData)).map(Object)
    }
}

/// `#[serde(deserialize_with = "object")]`: a required struct field.
pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<T, D::Error> {
    Object::deserialize(deserializer).map(|o| o.0)
}

/// `#[serde(default, deserialize_with = "optional_object")]`: a struct field that may be left
/// out or null.
pub fn optional_object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    Option::<Object<T>>::deserialize(deserializer).map(|o| o.map(|o| o.0))
}

/// `#[serde(deserialize_with = "objects")]`: a list of structs.
pub fn objects<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Vec<T>, D::Error> {
    Vec::<Object<T>>::deserialize(deserializer).map(|items| items.into_iter().map(|o| o.0).collect())
}

/// `#[serde(default, deserialize_with = "optional_objects")]`: a list of structs that may be
/// left out or null.
pub fn optional_objects<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Vec<T>>, D::Error> {
    Option::<Vec<Object<T>>>::deserialize(deserializer).map(|o| o.map(|items| items.into_iter().map(|o| o.0).collect()))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, PartialEq, Deserialize)]
    struct Inner {
        a: Option<u32>,
        b: Option<u32>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Outer {
        #[serde(default, deserialize_with = "super::optional_object")]
        one: Option<Inner>,
        #[serde(default, deserialize_with = "super::optional_objects")]
        many: Option<Vec<Inner>>,
    }

    #[test]
    fn structs_come_from_objects_only() {
        let read = |v: serde_json::Value| serde_json::from_value::<Outer>(v);
        assert_eq!(read(json!({})).ok(), Some(Outer { one: None, many: None }));
        assert_eq!(read(json!({"one": null, "many": null})).ok(), Some(Outer { one: None, many: None }));
        let inner = Inner { a: Some(1), b: None };
        assert_eq!(
            read(json!({"one": {"a": 1}, "many": [{"a": 1}]})).ok(),
            Some(Outer { one: Some(inner), many: Some(vec![Inner { a: Some(1), b: None }]) })
        );
        assert!(read(json!({"one": [null, null]})).is_err(), "serde alone reads a struct from an array");
        assert!(read(json!({"many": [[1, 2]]})).is_err());
        assert!(read(json!({"one": 3})).is_err());
    }
}
