//! The service table (which endpoint serves a topic) and event subscriptions.

use std::collections::{HashMap, HashSet};

/// Maps service names (the topic prefix before the first `.`) to endpoint route ids.
#[derive(Debug, Default)]
pub struct ServiceTable {
    by_name: HashMap<String, String>,
}

impl ServiceTable {
    /// Register `service` for `endpoint`; a name has one owner at a time.
    pub fn add(&mut self, service: &str, endpoint: &str) -> Result<(), String> {
        match self.by_name.get(service) {
            Some(owner) if owner != endpoint => {
                Err(format!("service {service} is already provided by {owner}"))
            }
            _ => {
                self.by_name
                    .insert(service.to_string(), endpoint.to_string());
                Ok(())
            }
        }
    }

    /// Drop one service name.
    pub fn remove(&mut self, service: &str) -> Option<String> {
        self.by_name.remove(service)
    }

    /// Drop every service of an endpoint.
    pub fn remove_endpoint(&mut self, endpoint: &str) {
        self.by_name.retain(|_, owner| owner != endpoint);
    }

    /// The endpoint serving `topic`, if any.
    pub fn lookup(&self, topic: &str) -> Option<&str> {
        let service = topic.split('.').next().unwrap_or(topic);
        self.by_name.get(service).map(String::as_str)
    }

    /// The services an endpoint provides, sorted.
    pub fn services_of(&self, endpoint: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .by_name
            .iter()
            .filter(|(_, owner)| *owner == endpoint)
            .map(|(name, _)| name.clone())
            .collect();
        names.sort();
        names
    }
}

/// Event subscriptions: topic prefixes per endpoint (`""` matches every event).
#[derive(Debug, Default)]
pub struct Subscriptions {
    by_endpoint: HashMap<String, HashSet<String>>,
}

impl Subscriptions {
    pub fn subscribe(&mut self, endpoint: &str, prefix: &str) {
        self.by_endpoint
            .entry(endpoint.to_string())
            .or_default()
            .insert(prefix.to_string());
    }

    pub fn unsubscribe(&mut self, endpoint: &str, prefix: &str) {
        if let Some(set) = self.by_endpoint.get_mut(endpoint) {
            set.remove(prefix);
            if set.is_empty() {
                self.by_endpoint.remove(endpoint);
            }
        }
    }

    pub fn remove_endpoint(&mut self, endpoint: &str) {
        self.by_endpoint.remove(endpoint);
    }

    /// The endpoints that want an event on `topic` (each once).
    pub fn matching<'a>(&'a self, topic: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.by_endpoint
            .iter()
            .filter(move |(_, prefixes)| prefixes.iter().any(|p| topic.starts_with(p.as_str())))
            .map(|(endpoint, _)| endpoint.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_topic_prefix() {
        let mut table = ServiceTable::default();
        table.add("kvs", "kvs").unwrap();
        table.add("sched", "sched-simple").unwrap();
        assert_eq!(table.lookup("kvs.lookup"), Some("kvs"));
        assert_eq!(table.lookup("sched.alloc"), Some("sched-simple"));
        assert_eq!(table.lookup("kvsx.lookup"), None);
        assert_eq!(table.lookup("nosuch"), None);
        assert!(table.add("kvs", "other").is_err());
        assert_eq!(table.services_of("sched-simple"), ["sched"]);
        table.remove_endpoint("kvs");
        assert_eq!(table.lookup("kvs.lookup"), None);
    }

    #[test]
    fn subscriptions_match_prefixes_once_per_endpoint() {
        let mut subs = Subscriptions::default();
        subs.subscribe("a", "heartbeat");
        subs.subscribe("a", "heart");
        subs.subscribe("b", "");
        subs.subscribe("c", "job-");
        let mut hits: Vec<_> = subs.matching("heartbeat.pulse").collect();
        hits.sort();
        assert_eq!(hits, ["a", "b"]);
        subs.unsubscribe("b", "");
        subs.remove_endpoint("a");
        assert_eq!(subs.matching("heartbeat.pulse").count(), 0);
    }
}
