//! What sched-simple can be asked for: a [`Request`] read from a jobspec, and the
//! [`PoolError`] saying why one can never be satisfied.

use std::sync::Arc;

use flux_proto::types::Jobspec;
use flux_proto::types::jobspec::{Constraint, ResourceType};

/// Why a request can never be satisfied, or cannot be understood.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PoolError {
    /// The request is malformed or uses something this scheduler does not support.
    #[error("unsupported resource request: {0}")]
    Unsupported(String),
    /// The instance as a whole is too small for the request.
    #[error("unsatisfiable request: {0}")]
    Unsatisfiable(String),
}

/// A resource request in the terms sched-simple understands.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Number of nodes (0: as many as the slots need).
    pub nnodes: u32,
    /// Number of slots in total.
    pub nslots: u32,
    /// Cores per slot.
    pub cores_per_slot: u32,
    /// GPUs per slot.
    pub gpus_per_slot: u32,
    /// Whole nodes only (every core and GPU of each chosen node).
    pub exclusive: bool,
    /// Time limit in seconds (0: none).
    pub duration: f64,
    /// Which nodes may be used (`--requires`), if not all.
    pub constraint: Option<Arc<Constraint>>,
}

impl Request {
    /// `nslots` slots of `cores` cores each, anywhere.
    pub fn slots(nslots: u32, cores: u32) -> Self {
        Request {
            nnodes: 0,
            nslots,
            cores_per_slot: cores,
            gpus_per_slot: 0,
            exclusive: false,
            duration: 0.0,
            constraint: None,
        }
    }

    /// The same request restricted to the nodes matching `constraint`.
    pub fn with_constraint(self, constraint: Constraint) -> Self {
        Request {
            constraint: Some(Arc::new(constraint)),
            ..self
        }
    }

    /// Read the request of a jobspec: `node? -> slot -> core[, gpu]` with fixed counts.
    pub fn from_jobspec(spec: &Jobspec) -> Result<Self, PoolError> {
        let unsupported = |what: &str| PoolError::Unsupported(what.to_string());
        let slot = spec.slot().ok_or_else(|| unsupported("no slot"))?;
        if slot.fixed_count().is_none() {
            return Err(unsupported("slot count ranges"));
        }
        if let Some(top) = spec.resources.first()
            && !matches!(top.kind, ResourceType::Node | ResourceType::Slot)
        {
            return Err(unsupported(&format!("top level {}", top.kind.as_str())));
        }
        let constraint = match &spec.attributes.system.constraints {
            Some(v) => Some(Arc::new(
                Constraint::parse(v).map_err(|e| PoolError::Unsupported(e.to_string()))?,
            )),
            None => None,
        };
        let to_u32 = |n: u64, what: &str| {
            u32::try_from(n).map_err(|_| unsupported(&format!("{what} count {n} too large")))
        };
        Ok(Request {
            nnodes: to_u32(spec.nnodes().unwrap_or(0), "node")?,
            nslots: to_u32(spec.nslots(), "slot")?,
            cores_per_slot: to_u32(spec.cores_per_slot(), "core")?,
            gpus_per_slot: to_u32(spec.gpus_per_slot(), "gpu")?,
            exclusive: spec.exclusive(),
            duration: spec.duration(),
            constraint,
        })
    }

    /// Reject requests that make no sense whatever the resources.
    pub(super) fn check(&self) -> Result<(), PoolError> {
        if self.nslots == 0 {
            return Err(PoolError::Unsupported("slot count must be > 0".into()));
        }
        if self.cores_per_slot == 0 {
            return Err(PoolError::Unsupported(
                "a slot needs at least one core".into(),
            ));
        }
        if self.nnodes > self.nslots {
            return Err(PoolError::Unsupported(format!(
                "{} nodes for {} slots",
                self.nnodes, self.nslots
            )));
        }
        Ok(())
    }

    /// Slots each chosen node must hold when the node count is fixed (the first
    /// `nslots % nnodes` nodes hold one more than the others).
    pub(super) fn per_node(&self) -> (u32, u32) {
        (self.nslots / self.nnodes, self.nslots % self.nnodes)
    }
}
