//! Interning of resource type and subsystem names into small integer ids.

use std::collections::HashMap;

/// Interned resource type name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId(pub u32);

/// Interned subsystem name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubsystemId(pub u32);

/// Maps type and subsystem names to ids and back.
#[derive(Debug, Default, Clone)]
pub struct Interner {
    types: Vec<String>,
    type_ids: HashMap<String, TypeId>,
    subsystems: Vec<String>,
    subsystem_ids: HashMap<String, SubsystemId>,
}

impl Interner {
    /// Returns the id of type `name`, creating it if needed.
    pub fn intern_type(&mut self, name: &str) -> TypeId {
        if let Some(id) = self.type_ids.get(name) {
            return *id;
        }
        let id = TypeId(self.types.len() as u32);
        self.types.push(name.to_string());
        self.type_ids.insert(name.to_string(), id);
        id
    }

    /// The id of type `name`, if known.
    pub fn find_type(&self, name: &str) -> Option<TypeId> {
        self.type_ids.get(name).copied()
    }

    /// Number of interned types.
    pub fn type_count(&self) -> usize {
        self.types.len()
    }

    /// The name of type `id`.
    pub fn type_name(&self, id: TypeId) -> &str {
        self.types
            .get(id.0 as usize)
            .map(String::as_str)
            .unwrap_or("")
    }

    /// Returns the id of subsystem `name`, creating it if needed.
    pub fn intern_subsystem(&mut self, name: &str) -> SubsystemId {
        if let Some(id) = self.subsystem_ids.get(name) {
            return *id;
        }
        let id = SubsystemId(self.subsystems.len() as u32);
        self.subsystems.push(name.to_string());
        self.subsystem_ids.insert(name.to_string(), id);
        id
    }

    /// The id of subsystem `name`, if known.
    pub fn find_subsystem(&self, name: &str) -> Option<SubsystemId> {
        self.subsystem_ids.get(name).copied()
    }

    /// The name of subsystem `id`.
    pub fn subsystem_name(&self, id: SubsystemId) -> &str {
        self.subsystems
            .get(id.0 as usize)
            .map(String::as_str)
            .unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_idempotent() {
        let mut i = Interner::default();
        let a = i.intern_type("core");
        let b = i.intern_type("node");
        assert_ne!(a, b);
        assert_eq!(i.intern_type("core"), a);
        assert_eq!(i.type_name(b), "node");
        assert_eq!(i.find_type("gpu"), None);
        let s = i.intern_subsystem("containment");
        assert_eq!(i.subsystem_name(s), "containment");
    }
}
