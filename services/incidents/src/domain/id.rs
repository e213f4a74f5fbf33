use std::fmt;

/// An incident id: `INC-` and six upper-case hex digits, e.g. `INC-4F2A9C`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IncidentId(String);

impl IncidentId {
    /// A random id. The store retries on the rare collision.
    pub fn generate() -> Self {
        let n = uuid::Uuid::new_v4().as_u128() as u32 & 0x00FF_FFFF;
        Self(format!("INC-{n:06X}"))
    }

    /// Accepts `INC-4F2A9C` in any case.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim().to_ascii_uppercase();
        let valid = s.len() == 10 && s.starts_with("INC-") && s[4..].bytes().all(|b| b.is_ascii_hexdigit());
        if valid { Ok(Self(s)) } else { Err("must be an incident id like INC-4F2A9C".into()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for IncidentId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for IncidentId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        IncidentId::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_and_bad_ones_do_not() {
        for _ in 0..100 {
            let id = IncidentId::generate();
            assert_eq!(IncidentId::parse(id.as_str()), Ok(id));
        }
        assert_eq!(IncidentId::parse("inc-4f2a9c").map(|i| i.0), Ok("INC-4F2A9C".into()));
        for bad in ["", "INC-", "INC-12345", "INC-1234567", "INC-GGGGGG", "ABC-123456", "INC-12 456"] {
            assert!(IncidentId::parse(bad).is_err(), "{bad}");
        }
    }
}
