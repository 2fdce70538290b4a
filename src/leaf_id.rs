//! The names of the decision tree's leaves, generated at build time from
//! `assets/tree/leaves*.toml` (see `build.rs`): code names a leaf only as a `LeafId`,
//! so a leaf that the data lacks fails to compile. Names only; the records themselves
//! are read by `diagnosis::leaves`.
use serde::{Deserialize, Deserializer, Serialize, Serializer};

include!(concat!(env!("OUT_DIR"), "/leaf_id.rs"));

impl LeafId {
    /// The leaf with this id, if the data defines one.
    pub fn parse(id: &str) -> Option<LeafId> {
        LeafId::ALL.iter().copied().find(|l| l.as_str() == id)
    }
}

impl std::fmt::Display for LeafId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl Serialize for LeafId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for LeafId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        LeafId::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("no leaf '{s}' in assets/tree/leaves.toml")))
    }
}

#[cfg(test)]
mod tests {
    use super::LeafId;

    #[test]
    fn every_id_reads_back() {
        assert!(LeafId::ALL.len() >= 70);
        for l in LeafId::ALL {
            assert_eq!(LeafId::parse(l.as_str()), Some(*l));
            let json = serde_json::to_string(l).unwrap();
            assert_eq!(serde_json::from_str::<LeafId>(&json).unwrap(), *l);
        }
        assert_eq!(LeafId::parse("no-such-leaf"), None);
        assert!(serde_json::from_str::<LeafId>("\"no-such-leaf\"").is_err());
    }
}
